//! `ReqwestTransport`: one request through a configured reqwest client, under the project's URL
//! policy, within the caller's deadline, with a bounded body.

use std::fmt;

use http::header::{HeaderName, HeaderValue, AUTHORIZATION};
use zoho_oauth::transport::{Admitted, TransportSettings};
use zoho_oauth::{HttpRequest, HttpResponse, TransportError};

use super::builder::ReqwestTransportBuilder;
use super::errors::map_error;
use super::{BoxFuture, Transport};

/// The default async HTTPS transport: reqwest with rustls on `ring`, safe settings (see the
/// crate docs). Cheap to clone; clones share one connection pool.
///
/// ```no_run
/// use zoho_oauth::{HttpRequest, Method};
/// use zoho_oauth_tokio::transport::Transport;
/// use zoho_oauth_tokio::ReqwestTransport;
///
/// # async fn demo() -> Result<(), zoho_oauth::TransportError> {
/// let transport = ReqwestTransport::new();
/// let request = HttpRequest {
///     method: Method::Get,
///     url: "https://accounts.zoho.com/oauth/user/info",
///     headers: &[],
///     body: &[],
///     timeout: None,
/// };
/// let response = transport.send(&request).await?;
/// println!("status {}", response.status); // 401: no token, and not an error
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    /// What the client was configured with, for the per-request rules and to name budgets in errors.
    settings: TransportSettings,
}

impl ReqwestTransport {
    /// A transport with every default: 10 s connect, 30 s read, 60 s overall, 1 MiB bodies,
    /// Mozilla's roots, no proxy.
    pub fn new() -> Self {
        // The defaults hold no proxy and no PEM, the only inputs that can fail.
        Self::builder()
            .build()
            .unwrap_or_else(|e| unreachable!("default settings are valid: {e}"))
    }

    /// Start from the defaults; see [`ReqwestTransportBuilder`].
    pub fn builder() -> ReqwestTransportBuilder {
        ReqwestTransportBuilder::default()
    }

    /// The configured reqwest client (ring-only TLS, no redirects, timeouts, proxy), e.g. to
    /// build a `reqwest_middleware` client with [`ZohoAuthMiddleware`](crate::ZohoAuthMiddleware)
    /// under the same policy.
    pub fn reqwest_client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The settings this transport was built with.
    pub fn settings(&self) -> &TransportSettings {
        &self.settings
    }

    pub(crate) fn from_parts(client: reqwest::Client, settings: TransportSettings) -> Self {
        Self { client, settings }
    }

    async fn run(&self, request: &HttpRequest<'_>) -> Result<HttpResponse, TransportError> {
        // The project's URL policy and the request's budget, before anything touches the network.
        let admitted = self.settings.admit(request)?;
        let outcome = self.exchange(request, &admitted).await;
        admitted.finish(outcome)
    }

    async fn exchange(
        &self,
        request: &HttpRequest<'_>,
        admitted: &Admitted,
    ) -> Result<HttpResponse, TransportError> {
        let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes())
            .map_err(|_| TransportError::Refused("the method is not valid".to_owned()))?;
        let mut builder = self
            .client
            .request(method.clone(), request.url)
            .timeout(admitted.budget());
        for (name, value) in request.headers {
            let refuse = || TransportError::Refused("a header name or value is invalid".to_owned());
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| refuse())?;
            let mut value = HeaderValue::from_str(value).map_err(|_| refuse())?;
            value.set_sensitive(name == AUTHORIZATION);
            builder = builder.header(name, value);
        }
        // A GET goes without a body (no `Content-Length: 0`); anything else sends what it has.
        if !(request.body.is_empty() && method == reqwest::Method::GET) {
            builder = builder.body(request.body.to_vec());
        }
        let fail = |e| map_error(e, admitted);
        let mut response = builder.send().await.map_err(fail)?;
        let mut body = admitted.body(response.content_length())?;
        while let Some(chunk) = response.chunk().await.map_err(fail)? {
            body.push(&chunk)?;
        }
        let headers = response.headers().iter();
        Ok(HttpResponse::from_parts(
            response.status().as_u16(),
            headers.map(|(name, value)| (name.as_str(), value.as_bytes())),
            body.into_bytes(),
        ))
    }
}

impl Default for ReqwestTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl Transport for ReqwestTransport {
    fn send<'a>(
        &'a self,
        request: &'a HttpRequest<'a>,
    ) -> BoxFuture<'a, Result<HttpResponse, TransportError>> {
        Box::pin(self.run(request))
    }
}

impl fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransport")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
