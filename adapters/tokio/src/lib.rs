//! Zoho OAuth 2.0 for tokio: an async [`Client`] that drives the same engine as the blocking
//! `zoho_oauth::Client`, plus the places users plug it in.
//!
//! The orchestration (lock → load → refresh → save → release, single flight, retries, the hot
//! path) is written once in [`zoho_oauth::engine`]; this crate is its second driver. It supplies
//! the effects the engine asks for ([`zoho_oauth::engine::Io`]): store calls on tokio's blocking
//! pool (a held lock lives on a blocking thread of its own, so a cancelled call releases it),
//! requests through an async [`Transport`], and sleeps. Credential keys, stores, builder options
//! and errors are the blocking face's.
//!
//! What it gives you:
//! - [`Client::access_token`]`(user).await`: ready on the first poll while the token is fresh (no
//!   lock, no allocation); one refresh per credential across tasks, and across processes through
//!   the store's lock; every call cancellation-safe;
//! - [`Client::spawn_background_refresh`]: a task that refreshes before expiry and stops when
//!   the client is dropped;
//! - [`ReqwestTransport`] (feature `reqwest`): reqwest with rustls on `ring` only, redirects off,
//!   HTTPS except to loopback, connect/read/overall timeouts and the caller's deadline, a body
//!   limit, an optional proxy — the ureq transport's policy;
//! - [`ZohoAuthLayer`] (feature `tower`) and [`ZohoAuthMiddleware`] (feature
//!   `reqwest-middleware`): add `Authorization: Zoho-oauthtoken …` (marked sensitive) for one
//!   user and, on a 401 `INVALID_TOKEN`/`INVALID_OAUTHTOKEN`, refresh once and retry once.
//!
//! ```no_run
//! use zoho_oauth_tokio::{Client, ReqwestTransport};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let builder = Client::builder("1000.CLIENTID", "client-secret")
//!     .store(zoho_oauth::FileStore::open("tokens.zot")?);   // or MemoryStore, zoho-oauth-sqlite…
//! let client = Client::build(builder, ReqwestTransport::new())?;
//! // client.exchange_grant("alice@example.com", "1000.grant…").await?;
//! let _refresher = client.spawn_background_refresh();
//! let token = client.access_token("alice@example.com").await?;
//! # let _ = token;
//! # Ok(())
//! # }
//! ```
//!
//! In scope: the tokio runtime (multi-threaded or current-thread). Out of scope: other runtimes
//! (the engine is runtime-free; another face would supply its own `Io`).

mod background;
mod client;
mod held_lock;
mod io;
pub mod transport;

#[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
mod authorize;
#[cfg(feature = "tower")]
mod layer;
#[cfg(feature = "reqwest-middleware")]
mod middleware;

pub use background::BackgroundRefresh;
pub use client::Client;
pub use transport::Transport;
#[cfg(feature = "reqwest")]
pub use transport::{BuildError, ReqwestTransport, ReqwestTransportBuilder};
pub use zoho_oauth::{AccessToken, Error, ErrorKind};

#[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
pub use authorize::AuthorizeError;
#[cfg(feature = "tower")]
pub use layer::{ReplayBody, ResponseBody, ZohoAuth, ZohoAuthLayer};
#[cfg(feature = "reqwest-middleware")]
pub use middleware::ZohoAuthMiddleware;
