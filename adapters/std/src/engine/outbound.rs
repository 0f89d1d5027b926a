//! Render a core request into a buffer, grow it if the core asks, and send it through the face's
//! [`Io`], with logs that carry no secret: the one copy of "render → grow → send".

use std::time::{Duration, Instant as Monotonic};

use zeroize::Zeroizing;
use zoho_oauth_core::{BufferTooSmall, Method, Request};

use super::io::Io;
use crate::error::Error;
use crate::transport::{HttpRequest, HttpResponse, TransportError};

/// Size of the buffer requests are rendered into first; the core says when it needs more.
const REQUEST_BUF: usize = 2048;

/// What a send is, for logs (`refresh`, `exchange`, `revoke`, `user_info`, `api`, …).
pub(crate) type Call = &'static str;

/// A render failure of the core: a buffer too small (say how large), or misuse.
pub(crate) trait RenderError: std::fmt::Display {
    /// The buffer size the core needs, when that is what failed.
    fn required(&self) -> Option<usize>;
}

impl RenderError for BufferTooSmall {
    fn required(&self) -> Option<usize> {
        Some(self.required)
    }
}

impl RenderError for zoho_oauth_core::machine::MachineError {
    fn required(&self) -> Option<usize> {
        match self {
            Self::Buffer(b) => Some(b.required),
            _ => None,
        }
    }
}

/// A request rendered by the core into a buffer that is wiped when dropped (token request bodies
/// hold the client secret).
pub(crate) struct Rendered {
    buf: Zeroizing<Vec<u8>>,
    method: Method,
    url: (usize, usize),
    body: (usize, usize),
    content_type: Option<&'static str>,
    authorization: Option<(usize, usize)>,
}

impl Rendered {
    /// Render with `render` (a core `request::*` function, or a [`Machine::write_request`]),
    /// growing the buffer once to what the core says it needs.
    ///
    /// [`Machine::write_request`]: zoho_oauth_core::Machine::write_request
    pub(crate) fn new<F, E>(render: F) -> Result<Self, Error>
    where
        F: for<'b> Fn(&'b mut [u8]) -> Result<Request<'b>, E>,
        E: RenderError,
    {
        let mut buf = Zeroizing::new(vec![0u8; REQUEST_BUF]);
        if let Err(e) = render(&mut buf[..]) {
            let required = e.required().ok_or_else(|| Error::Internal(e.to_string()))?;
            buf = Zeroizing::new(vec![0u8; required]);
        }
        let (base, len) = (buf.as_ptr() as usize, buf.len());
        // Where a rendered piece lies in the buffer (the core renders every piece into it).
        let span = |s: &[u8]| {
            if s.is_empty() {
                return Some((0, 0));
            }
            let start = (s.as_ptr() as usize).checked_sub(base)?;
            (start + s.len() <= len).then_some((start, start + s.len()))
        };
        let outside = || Error::Internal("a rendered request lies outside its buffer".into());
        let (method, url, body, content_type, authorization) = {
            let req = render(&mut buf[..]).map_err(|e| Error::Internal(e.to_string()))?;
            let authorization = match req.authorization {
                Some(a) => Some(span(a.as_bytes()).ok_or_else(outside)?),
                None => None,
            };
            (
                req.method,
                span(req.url.as_bytes()).ok_or_else(outside)?,
                span(req.body).ok_or_else(outside)?,
                req.content_type,
                authorization,
            )
        };
        Ok(Self {
            buf,
            method,
            url,
            body,
            content_type,
            authorization,
        })
    }

    fn text(&self, (start, end): (usize, usize)) -> &str {
        // The core renders URLs and header values as ASCII.
        std::str::from_utf8(&self.buf[start..end]).unwrap_or_default()
    }

    /// The URL, for logs and errors (never holds a secret: secrets travel in bodies and headers).
    pub(crate) fn url(&self) -> &str {
        self.text(self.url)
    }

    /// Send through `io`, within `timeout` when given.
    pub(crate) async fn send<I: Io>(
        &self,
        io: &I,
        call: Call,
        user: &str,
        timeout: Option<Duration>,
    ) -> Result<HttpResponse, TransportError> {
        let mut headers: [(&str, &str); 2] = [("", ""); 2];
        let mut n = 0;
        if let Some(ct) = self.content_type {
            headers[n] = ("Content-Type", ct);
            n += 1;
        }
        if let Some(auth) = self.authorization {
            headers[n] = ("Authorization", self.text(auth));
            n += 1;
        }
        let http = HttpRequest {
            method: self.method,
            url: self.url(),
            headers: &headers[..n],
            body: &self.buf[self.body.0..self.body.1],
            timeout,
        };
        send_http(io, &http, call, user).await
    }
}

/// Send an assembled request through `io`, logging call, method, URL, status and duration only.
pub(crate) async fn send_http<I: Io>(
    io: &I,
    http: &HttpRequest<'_>,
    call: Call,
    user: &str,
) -> Result<HttpResponse, TransportError> {
    tracing::debug!(
        call,
        user,
        method = http.method.as_str(),
        url = http.url,
        "sending"
    );
    let started = Monotonic::now();
    let result = io.send(http).await;
    let ms = started.elapsed().as_millis() as u64;
    match &result {
        Ok(resp) => tracing::debug!(
            call,
            user,
            status = resp.status,
            body_len = resp.body.len(),
            duration_ms = ms,
            "answered"
        ),
        Err(e) => tracing::warn!(call, user, error = %e, duration_ms = ms, "transport failed"),
    }
    result
}
