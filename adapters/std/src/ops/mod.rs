//! The operations a client offers, face-independent: each is an `async fn` on the
//! [`Engine`](crate::engine::Engine), generic over the face's [`Io`](crate::engine::Io), and
//! every change to a stored credential goes through the locked cycle.

mod api;
mod credentials;
mod device;
mod exchange;
mod login;
mod owner;
mod status;
mod tokens;
mod user_info;

pub use credentials::{Added, AtZoho, Removed, Replaced};
pub use device::{DeviceLogin, DeviceOptions};
pub use exchange::Exchanged;
pub use login::{LoginOptions, LoginRequest};
pub use owner::UserSource;
pub use status::CredentialStatus;
pub use user_info::UserInfo;
