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
//!     .store(MemoryStore::new())         // or zoho_oauth::file_store::FileStore, zoho-oauth-sqlite
//!     .transport(transport)              // e.g. zoho_oauth_ureq::UreqTransport::new()
//!     .build()?;
//! // client.exchange_grant("alice@example.com", "1000.grant…")?;
//! // let token = client.access_token("alice@example.com")?;
//! // let resp = client.request("alice@example.com", Method::Get, "/crm/v8/users?type=CurrentUser", None)?;
//! # let _ = client;
//! # Ok::<(), zoho_oauth::Error>(())
//! ```

#[cfg(feature = "conformance")]
pub mod conformance;
pub mod csv;
pub mod file_store;
pub mod key;
pub mod store;
pub mod transport;

mod access;
mod api;
mod background;
mod builder;
mod client;
mod clock;
mod error;
mod exchange;
mod login;
mod memory_store;
mod owner;
mod random;
mod refresh;
mod revoke;
mod send;
mod status;
mod trust;
mod user_info;

pub use access::AccessToken;
pub use background::BackgroundRefresher;
pub use builder::ClientBuilder;
pub use client::Client;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, ErrorKind};
pub use key::CredentialKey;
pub use login::LoginRequest;
pub use memory_store::MemoryStore;
pub use owner::UserSource;
pub use status::CredentialStatus;
pub use store::{LockedCredential, StoreError, TokenStore};
pub use transport::{HttpRequest, HttpResponse, Method, Transport, TransportError};
pub use user_info::UserInfo;
pub use zoho_oauth_core as core;
