//! Entry points for fuzzing (in the manner of str0m's `_internal_test_exports`): the tool's
//! parsers of text a user or a file hands it, callable from a `cargo fuzz` target without a
//! process, a file or a terminal.
//!
//! Each takes any `&str` and answers `Ok` or `Err`; it must never panic, hang, read standard
//! input or the environment, touch a file or the network, and no text it returns
//! ([`StoreUrl::display`], the `Debug` of [`Settings`], an error's [`CliError::what`] and
//! [`CliError::todo`]) may hold a password or a client secret from the input. These are the
//! invariants a fuzz target checks. They are not an API for anything else: the tool's interface
//! is its command line.
//!
//! ```
//! let url = zoho_oauth_cli::fuzz::store_url("redis://:hunter2@cache/0?prefix=app").unwrap();
//! assert!(!url.display().contains("hunter2"));
//! let settings = zoho_oauth_cli::fuzz::config_file("dc = \"eu\"\nallowed_dcs = [\"in\"]").unwrap();
//! assert_eq!(settings.other_dcs.len(), 1);
//! assert!(zoho_oauth_cli::fuzz::config_file("dc = [").is_err());
//! ```

pub use crate::config::{OtherDc, Settings};
pub use crate::exit::{Class, CliError};
pub use crate::store_url::StoreUrl;

use crate::args::GlobalArgs;
use crate::config;

/// Parse a store URL (`--store`, `ZOHO_OAUTH_STORE`, the config file's `store`) as the tool does:
/// `sqlite:PATH`, `file:PATH`, `postgres://…`, `mysql://…`, `redis://…`, or a usage error. Opens
/// nothing.
pub fn store_url(text: &str) -> Result<StoreUrl, CliError> {
    StoreUrl::parse(Some(text))
}

/// Parse a config file's text (TOML) and resolve it into the settings of a run with no flags and
/// no environment, as the tool does: every key checked (data centres, durations, the store URL,
/// the user name, the per-data-centre tables), or a usage error. A `client_secret = "-"` is kept
/// as text: reading it from standard input is left to the tool itself.
pub fn config_file(text: &str) -> Result<Settings, CliError> {
    let file = config::parse_file(text).map_err(|msg| {
        CliError::usage(
            format!("the config file is not valid: {msg}"),
            format!("allowed keys: {}", config::FILE_KEYS),
        )
    })?;
    config::resolve_with(&GlobalArgs::default(), file, &|_| None)
}
