//! `UreqTransport`: one blocking request through a configured ureq agent.

use std::fmt;

use ureq::http::{self, Response};
use ureq::Body;
use zoho_oauth::transport::{Admitted, Method, TransportSettings};
use zoho_oauth::{HttpRequest, HttpResponse, Transport, TransportError};

use crate::builder::UreqTransportBuilder;
use crate::errors::map_error;

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
///     timeout: None,
/// })?;
/// println!("status {}", response.status); // 401: no token, and not an error
/// # Ok::<(), zoho_oauth::TransportError>(())
/// ```
#[derive(Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    /// What the agent was configured with, for the per-request rules and to name budgets in errors.
    settings: TransportSettings,
}

impl UreqTransport {
    /// A transport with every default: 10 s connect, 30 s read, 60 s overall, 1 MiB bodies,
    /// Mozilla's roots, no proxy.
    pub fn new() -> Self {
        // The defaults hold no proxy and no PEM, the only inputs that can fail.
        Self::builder()
            .build()
            .unwrap_or_else(|e| unreachable!("default settings are valid: {e}"))
    }

    /// Starts from the defaults; see [`UreqTransportBuilder`].
    pub fn builder() -> UreqTransportBuilder {
        UreqTransportBuilder::default()
    }

    /// The settings this transport was built with.
    pub fn settings(&self) -> &TransportSettings {
        &self.settings
    }

    pub(crate) fn from_parts(agent: ureq::Agent, settings: TransportSettings) -> Self {
        Self { agent, settings }
    }

    fn run(
        &self,
        request: &HttpRequest<'_>,
        admitted: &Admitted,
    ) -> Result<Response<Body>, ureq::Error> {
        let mut builder = http::Request::builder()
            .method(request.method.as_str())
            .uri(request.url);
        for (name, value) in request.headers {
            builder = builder.header(*name, *value);
        }
        // A GET goes without a body (no `Content-Length: 0`); anything else sends what it has.
        if request.body.is_empty() && matches!(request.method, Method::Get) {
            self.agent.run(self.bounded(builder.body(())?, admitted))
        } else {
            self.agent
                .run(self.bounded(builder.body(request.body)?, admitted))
        }
    }

    /// `request` with its own global timeout when the caller's deadline is shorter than the
    /// agent's; ureq's global budget runs from the first DNS lookup to the last body byte, so a
    /// body dripping a byte at a time is cut there too.
    fn bounded<S: ureq::AsSendBody>(
        &self,
        request: http::Request<S>,
        admitted: &Admitted,
    ) -> http::Request<S> {
        if admitted.budget() < self.settings.timeout() {
            self.agent
                .configure_request(request)
                .timeout_global(Some(admitted.budget()))
                .build()
        } else {
            request
        }
    }

    fn read(
        &self,
        mut response: Response<Body>,
        admitted: &Admitted,
    ) -> Result<HttpResponse, TransportError> {
        let max = self.settings.max_body();
        let body = admitted.body(response.body().content_length())?;
        // ureq's own limit stays as a second fence (one byte over ours, so ours speaks first).
        let mut reader = response
            .body_mut()
            .with_config()
            .limit(u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1))
            .reader();
        // The reader's errors carry ureq's (a timeout, a broken chunk): unwrapped, then mapped.
        let body = body.read_from(&mut reader, |e| map_error(ureq::Error::from(e), admitted))?;
        let headers = response.headers().iter();
        Ok(HttpResponse::from_parts(
            response.status().as_u16(),
            headers.map(|(name, value)| (name.as_str(), value.as_bytes())),
            body,
        ))
    }
}

impl Default for UreqTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl Transport for UreqTransport {
    fn send(&self, request: &HttpRequest<'_>) -> Result<HttpResponse, TransportError> {
        // The project's URL policy and the request's budget, before anything touches the network.
        let admitted = self.settings.admit(request)?;
        let outcome = self
            .run(request, &admitted)
            .map_err(|e| map_error(e, &admitted))
            .and_then(|response| self.read(response, &admitted));
        admitted.finish(outcome)
    }
}

impl fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UreqTransport")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
