//! Sending one rendered core [`Request`] through the [`Transport`], with logs that carry no secret.

use std::time::Instant as Monotonic;

use zeroize::Zeroizing;
use zoho_oauth_core::Request;

use crate::transport::{HttpRequest, HttpResponse, Transport, TransportError};

/// Size of the buffer token requests are rendered into; [`grown`] enlarges it when the core asks.
pub(crate) const REQUEST_BUF: usize = 4096;

/// A zeroized buffer of at least `required` bytes (token request bodies hold the client secret).
pub(crate) fn buffer(required: usize) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(vec![0; required.max(REQUEST_BUF)])
}

/// Send `req`. `what` names the call in logs (`refresh`, `exchange`, …); `user` is the key's user.
pub(crate) fn send(
    transport: &dyn Transport,
    req: &Request<'_>,
    what: &'static str,
    user: &str,
) -> Result<HttpResponse, TransportError> {
    let mut headers: [(&str, &str); 2] = [("", ""); 2];
    let mut n = 0;
    if let Some(ct) = req.content_type {
        headers[n] = ("Content-Type", ct);
        n += 1;
    }
    if let Some(auth) = req.authorization {
        headers[n] = ("Authorization", auth);
        n += 1;
    }
    let http = HttpRequest {
        method: req.method,
        url: req.url,
        headers: &headers[..n],
        body: req.body,
    };
    send_http(transport, &http, what, user)
}

/// Send an already assembled request, logging method, URL, status and duration only.
pub(crate) fn send_http(
    transport: &dyn Transport,
    http: &HttpRequest<'_>,
    what: &'static str,
    user: &str,
) -> Result<HttpResponse, TransportError> {
    tracing::debug!(
        call = what,
        user,
        method = http.method.as_str(),
        url = http.url,
        "sending"
    );
    let started = Monotonic::now();
    let result = transport.send(http);
    let ms = started.elapsed().as_millis() as u64;
    match &result {
        Ok(resp) => tracing::debug!(
            call = what,
            user,
            status = resp.status,
            body_len = resp.body.len(),
            duration_ms = ms,
            "answered"
        ),
        Err(e) => {
            tracing::warn!(call = what, user, error = %e, duration_ms = ms, "transport failed")
        }
    }
    result
}
