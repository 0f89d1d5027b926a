//! `Transport`: how a rendered request reaches the network. Bring your own HTTP client by
//! implementing it (a closure works); `zoho-oauth-ureq` provides the default.
//!
//! Below the trait lies what the project's HTTP transports (ureq, blocking; reqwest, async)
//! share, so that both send under one policy and neither holds a copy of it:
//! - [`TransportBuilder`] / [`TransportSettings`]: the settings, their defaults and their docs
//!   (timeouts, body limit, proxy, roots); a transport implements [`FromSettings`] to configure
//!   its client from them;
//! - [`ProxyUrl`]: the proxy URL, checked, its credentials redacted in every output;
//! - [`TransportSettings::admit`] → [`Admitted`]: per request, the URL policy before sending, the
//!   budget (the caller's deadline when shorter), which budget a timeout names, and the one log line;
//! - [`BoundedBody`]: the response body within the limit, never buffering more.
//!
//! A transport adds only what is its client's: building the client (redirects off, statuses as
//! answers, TLS on `ring`), sending, and translating the client's own errors.

use std::fmt;
use std::time::Duration;

pub use zoho_oauth_core::Method;

mod admit;
mod body;
mod proxy;
mod settings;

pub use admit::{Admitted, Budget};
pub use body::BoundedBody;
pub use proxy::{ProxySetting, ProxyUrl};
pub use settings::{
    BuildError, FromSettings, TransportBuilder, TransportSettings, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_BODY, DEFAULT_READ_TIMEOUT, DEFAULT_TIMEOUT, USER_AGENT,
};

/// One request to send: the method, the absolute URL, headers and body. Borrowed from the
/// caller's buffers; the transport must not keep it.
#[derive(Clone, Copy)]
pub struct HttpRequest<'a> {
    /// `GET` or `POST`.
    pub method: Method,
    /// Absolute URL. Never contains a secret for token requests.
    pub url: &'a str,
    /// Header name/value pairs (e.g. `Content-Type`, `Authorization`). Values may be secret.
    pub headers: &'a [(&'a str, &'a str)],
    /// Request body (may contain secrets).
    pub body: &'a [u8],
    /// The longest this request may take, from the caller's deadline: a transport gives up after
    /// the shorter of this and its own global timeout. `None`: its own timeout alone.
    pub timeout: Option<Duration>,
}

impl fmt::Debug for HttpRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Headers and body carry secrets: show only their shape.
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.len())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// What came back: the status and the body, whatever the status (Zoho's errors live in bodies).
#[derive(Clone, Default)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body, possibly cut at the transport's size limit.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response from what an HTTP client read: header names lower-cased, values that are not
    /// UTF-8 decoded lossily.
    pub fn from_parts<'h>(
        status: u16,
        headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
        body: Vec<u8>,
    ) -> Self {
        let headers = headers
            .into_iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value).into_owned();
                (name.to_ascii_lowercase(), value)
            })
            .collect();
        Self {
            status,
            headers,
            body,
        }
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Token responses carry secrets: never print the body.
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The request did not produce a complete HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportError {
    /// Could not connect (DNS, refused, TLS handshake).
    Connect(String),
    /// No complete answer within the configured timeout.
    Timeout(Duration),
    /// The connection broke mid-way (reset, truncated body).
    Io(String),
    /// The URL is not allowed (plain `http` to a non-loopback host, unparsable URL). A
    /// configuration error, not a network failure: it is never retried.
    Refused(String),
    /// The response body was larger than the transport's limit.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect(e) => write!(
                f,
                "could not connect: {e}; check the network, proxy and data centre"
            ),
            Self::Timeout(d) => write!(
                f,
                "no answer within {d:?}; retry later or raise the timeout"
            ),
            Self::Io(e) => write!(f, "connection broke: {e}; retry later"),
            Self::Refused(e) => write!(f, "request refused before sending: {e}"),
            Self::TooLarge { limit } => write!(
                f,
                "response larger than {limit} bytes; this is not a Zoho answer, check proxies"
            ),
        }
    }
}

impl std::error::Error for TransportError {}

impl TransportError {
    /// Whether sending again later can succeed: every failure but a refusal by policy (a URL
    /// that may not be sent to), which only a configuration change fixes.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Self::Refused(_))
    }

    /// A refusal of `url` by the one URL policy of the project
    /// ([`zoho_oauth_core::url::transport_policy`]), for transports to call before sending.
    pub fn check_url(url: &str) -> Result<(), TransportError> {
        zoho_oauth_core::url::transport_policy(url)
            .map(|_| ())
            .map_err(refused)
    }
}

/// A URL the project's policy refuses: a configuration error, never retried.
fn refused(e: zoho_oauth_core::url::UrlError) -> TransportError {
    TransportError::Refused(e.to_string())
}

/// Sends one request and returns the response, blocking. Must not follow redirects and must not
/// turn HTTP error statuses into errors. Implementations must never log headers or bodies.
pub trait Transport: Send + Sync {
    /// Send `request` and wait for the whole response.
    fn send(&self, request: &HttpRequest<'_>) -> Result<HttpResponse, TransportError>;
}

impl<F> Transport for F
where
    F: Fn(&HttpRequest<'_>) -> Result<HttpResponse, TransportError> + Send + Sync,
{
    fn send(&self, request: &HttpRequest<'_>) -> Result<HttpResponse, TransportError> {
        self(request)
    }
}
