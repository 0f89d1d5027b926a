//! One file per subcommand.

pub mod add_refresh_token;
pub mod api;
pub mod client_credentials;
pub mod demo;
pub mod device;
pub mod docs;
pub mod emulator;
pub mod exchange;
pub mod login;
pub mod refresh;
pub mod revoke;
pub mod status;
pub mod token;
pub mod transfer;
pub mod watch;
