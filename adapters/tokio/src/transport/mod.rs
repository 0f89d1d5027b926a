//! `Transport`: how the async client's rendered requests reach the network. Implement it for any
//! async HTTP client; [`ReqwestTransport`] (feature `reqwest`) is the default.

use std::future::Future;
use std::pin::Pin;

use zoho_oauth::{HttpRequest, HttpResponse, TransportError};

#[cfg(feature = "reqwest")]
mod builder;
#[cfg(feature = "reqwest")]
mod errors;
#[cfg(feature = "reqwest")]
mod reqwest;

#[cfg(feature = "reqwest")]
pub use self::builder::{ReqwestTransportBuilder, USER_AGENT};
#[cfg(feature = "reqwest")]
pub use self::reqwest::ReqwestTransport;
#[cfg(feature = "reqwest")]
pub use zoho_oauth::transport::{
    BuildError, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY, DEFAULT_READ_TIMEOUT, DEFAULT_TIMEOUT,
};

/// A boxed future that can move between threads: what [`Transport::send`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Sends one request and returns the whole response, asynchronously.
///
/// The contract is the blocking [`zoho_oauth::Transport`]'s: never follow redirects, never turn
/// an HTTP status into an error (Zoho answers errors with HTTP 200 and reads of bodies decide),
/// refuse what [`TransportError::check_url`] refuses before touching the network, give up after
/// the shorter of [`HttpRequest::timeout`] (the caller's remaining deadline) and the transport's
/// own timeout, and never log headers or bodies. Dropping the returned future must abandon the
/// request: the client drops it when its caller is cancelled.
///
/// ```
/// use zoho_oauth::{HttpRequest, HttpResponse, TransportError};
/// use zoho_oauth_tokio::transport::{BoxFuture, Transport};
///
/// /// Answers every request itself: a stand-in for your HTTP client.
/// struct Offline;
///
/// impl Transport for Offline {
///     fn send<'a>(
///         &'a self,
///         request: &'a HttpRequest<'a>,
///     ) -> BoxFuture<'a, Result<HttpResponse, TransportError>> {
///         Box::pin(async move {
///             TransportError::check_url(request.url)?;
///             Err(TransportError::Connect("no network in this example".into()))
///         })
///     }
/// }
/// ```
pub trait Transport: Send + Sync {
    /// Send `request` and wait for the whole response.
    fn send<'a>(
        &'a self,
        request: &'a HttpRequest<'a>,
    ) -> BoxFuture<'a, Result<HttpResponse, TransportError>>;
}
