//! Zoho OAuth 2.0 for `std` applications: a [`Client`] that keeps many users' tokens fresh.
//!
//! This crate drives the sans-IO state machine of [`zoho_oauth_core`] with real threads, a clock,
//! a [`TokenStore`] and a [`Transport`]. It does not open sockets itself: plug in
//! `zoho-oauth-ureq` (ureq + rustls) or any HTTP client through a closure. It refreshes each
//! credential once however many threads (and, through the store's lock, processes) ask at once.
//!
//! What it gives you:
//! - credentials keyed by user e-mail × client × data centre × environment, any number of users;
//! - grant exchange (Self Client and browser redirect), "Login with Zoho" with a checked `state`,
//!   user info, revoke, and an authenticated [`Client::request`] that refreshes and retries once
//!   when the API says `INVALID_TOKEN`;
//! - a lock-free, allocation-free hot path for fresh tokens; single-flight refresh; stale tokens
//!   served while Zoho or the network fails; bounded retries with the core's backoff; the mint
//!   budget and Zoho's throttle respected; an optional [`BackgroundRefresher`];
//! - secrets redacted in `Debug`, `Display` and `tracing` logs, and zeroized on drop.
//!
//! ```
//! use zoho_oauth::{Client, MemoryStore, HttpRequest, HttpResponse, TransportError};
//! # let transport = |_: &HttpRequest<'_>| -> Result<HttpResponse, TransportError> {
//! #     Err(TransportError::Connect("offline".into()))
//! # };
//! let client = Client::builder("1000.CLIENTID", "secret")
//!     .store(MemoryStore::new())         // or zoho_oauth::FileStore, zoho-oauth-sqlite
//!     .transport(transport)              // e.g. zoho_oauth_ureq::UreqTransport::new()
//!     .build()?;
//! // client.exchange_grant("alice@example.com", "1000.grant…")?;
//! // let token = client.access_token("alice@example.com")?;
//! // let resp = client.request("alice@example.com", Method::Get, "/crm/v8/users?type=CurrentUser", None)?;
//! # let _ = client;
//! # Ok::<(), zoho_oauth::Error>(())
//! ```

pub mod engine;
pub mod key;
pub mod sdk;
pub mod store;
pub mod transport;

mod blocking;
mod builder;
mod clock;
mod error;
mod ops;
mod random;

pub use blocking::{BackgroundRefresher, Client};
pub use builder::ClientBuilder;
pub use clock::{Clock, ManualClock, SystemClock};
pub use engine::flight::Obtained;
pub use engine::telemetry::{describe_metrics, names as metric_names};
pub use engine::AccessToken;
pub use error::{ConfigError, Error, ErrorKind, InputError};
pub use key::CredentialKey;
pub use ops::{
    Added, AtZoho, CredentialStatus, DeviceLogin, DeviceOptions, Exchanged, LoginOptions,
    LoginRequest, Removed, Replaced, UserInfo, UserSource,
};
pub use store::{
    FileStore, LockBusy, LockWait, LockedCredential, MemoryStore, StoreError, TokenStore,
};
pub use transport::{HttpRequest, HttpResponse, Method, Transport, TransportError};
pub use zoho_oauth_core as core;

/// Entry points for the fuzz targets in `fuzz/`: not part of the API, may change at any time.
#[doc(hidden)]
pub mod fuzz {
    pub use crate::store::file_fuzz as file_store;
}
