//! `Transport`: how a rendered request reaches the network. Bring your own HTTP client by
//! implementing it (a closure works); `zoho-oauth-ureq` provides the default.

use std::fmt;
use std::time::Duration;

pub use zoho_oauth_core::Method;

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
    /// The URL is not allowed (plain `http` to a non-loopback host, unparsable URL).
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
