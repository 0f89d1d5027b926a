//! `UreqTransport`: one blocking request through a configured ureq agent.

use std::fmt;
use std::time::{Duration, Instant};

use ureq::http::{self, Response};
use ureq::Body;
use zoho_oauth::transport::Method;
use zoho_oauth::{HttpRequest, HttpResponse, Transport, TransportError};

use crate::builder::UreqTransportBuilder;
use crate::errors::map_error;
use crate::policy::check_url;

/// The limits a request runs under, kept beside the agent to name them in errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) max_body: usize,
}

/// The default HTTPS transport: ureq 3, rustls with `ring`, safe settings (see the crate docs).
///
/// Cheap to clone; clones share one connection pool.
///
/// ```no_run
/// use zoho_oauth::transport::Method;
/// use zoho_oauth::{HttpRequest, Transport};
/// use zoho_oauth_ureq::UreqTransport;
///
/// let transport = UreqTransport::new();
/// let response = transport.send(&HttpRequest {
///     method: Method::Get,
///     url: "https://accounts.zoho.com/oauth/user/info",
///     headers: &[],
///     body: &[],
/// })?;
/// println!("status {}", response.status); // 401: no token, and not an error
/// # Ok::<(), zoho_oauth::TransportError>(())
/// ```
#[derive(Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    limits: Limits,
    /// The proxy with credentials redacted, for `Debug`.
    proxy: Option<String>,
}

impl UreqTransport {
    /// A transport with every default: 10 s connect, 30 s read, 60 s overall, 1 MiB bodies,
    /// Mozilla's roots, no proxy.
    pub fn new() -> Self {
        // The defaults hold no proxy and no PEM, the only inputs that can fail.
        match Self::builder().build() {
            Ok(transport) => transport,
            Err(e) => unreachable!("default settings are valid: {e}"),
        }
    }

    /// Starts from the defaults; see [`UreqTransportBuilder`].
    pub fn builder() -> UreqTransportBuilder {
        UreqTransportBuilder::default()
    }

    pub(crate) fn from_parts(agent: ureq::Agent, limits: Limits, proxy: Option<String>) -> Self {
        Self {
            agent,
            limits,
            proxy,
        }
    }

    fn run(&self, request: &HttpRequest<'_>) -> Result<Response<Body>, ureq::Error> {
        let mut builder = http::Request::builder()
            .method(request.method.as_str())
            .uri(request.url);
        for (name, value) in request.headers {
            builder = builder.header(*name, *value);
        }
        // A GET goes without a body (no `Content-Length: 0`); anything else sends what it has.
        if request.body.is_empty() && matches!(request.method, Method::Get) {
            self.agent.run(builder.body(())?)
        } else {
            self.agent.run(builder.body(request.body)?)
        }
    }

    fn read(&self, mut response: Response<Body>) -> Result<HttpResponse, ureq::Error> {
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        // One byte over the limit so that a body of exactly `max_body` bytes is accepted.
        let limit = u64::try_from(self.limits.max_body)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let body = response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

impl Default for UreqTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl Transport for UreqTransport {
    fn send(&self, request: &HttpRequest<'_>) -> Result<HttpResponse, TransportError> {
        let host = check_url(request.url)?;
        let started = Instant::now();
        let result = self.run(request).and_then(|response| self.read(response));
        let elapsed = started.elapsed();
        // Only the method, host, status and timing: never the path, headers or body.
        match result {
            Ok(response) => {
                tracing::debug!(
                    method = request.method.as_str(),
                    host = %host,
                    status = response.status,
                    body_len = response.body.len(),
                    elapsed_ms = elapsed.as_millis() as u64,
                    "http response"
                );
                Ok(response)
            }
            Err(e) => {
                let error = map_error(e, &self.limits, elapsed);
                tracing::debug!(
                    method = request.method.as_str(),
                    host = %host,
                    error = %error,
                    elapsed_ms = elapsed.as_millis() as u64,
                    "http request failed"
                );
                Err(error)
            }
        }
    }
}

impl fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UreqTransport")
            .field("connect_timeout", &self.limits.connect_timeout)
            .field("read_timeout", &self.limits.read_timeout)
            .field("timeout", &self.limits.timeout)
            .field("max_body", &self.limits.max_body)
            .field("proxy", &self.proxy.as_deref().unwrap_or("none"))
            .finish_non_exhaustive()
    }
}
