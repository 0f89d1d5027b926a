//! Translating ureq's errors into the `TransportError` the client understands.

use std::io;
use std::time::Duration;

use ureq::Timeout;
use zoho_oauth::transport::{Admitted, Budget};
use zoho_oauth::TransportError;

/// Maps a ureq error to a [`TransportError`], naming the budget of `admitted` that ran out. The
/// text never holds a URL, header or body.
pub(crate) fn map_error(err: ureq::Error, admitted: &Admitted) -> TransportError {
    use ureq::Error as E;
    match err {
        E::Timeout(which) => admitted.timed_out(budget(which)),
        // Only ureq's second fence (ours, one byte lower, speaks first): the same answer.
        E::BodyExceedsLimit(_) => admitted.too_large(),
        E::LargeResponseHeader(_, limit) => TransportError::TooLarge { limit },
        E::Io(e) => map_io(&e, admitted.elapsed()),
        E::HostNotFound => TransportError::Connect("the host name did not resolve".to_owned()),
        E::ConnectionFailed => TransportError::Connect("no connection could be made".to_owned()),
        E::ConnectProxyFailed(reason) => {
            TransportError::Connect(format!("the proxy refused the tunnel: {reason}"))
        }
        E::Tls(reason) => TransportError::Connect(format!("TLS: {reason}")),
        E::Pem(e) => TransportError::Connect(format!("TLS certificates: {e:?}")),
        E::Rustls(e) => TransportError::Connect(format!("TLS: {e}")),
        E::BadUri(_) | E::RequireHttpsOnly(_) => {
            TransportError::Refused("the URL cannot be used".to_owned())
        }
        E::Http(_) => TransportError::Refused("a header name or value is invalid".to_owned()),
        E::InvalidProxyUrl => TransportError::Refused("the proxy URL is invalid".to_owned()),
        E::Protocol(e) => TransportError::Io(format!(
            "the server broke the HTTP protocol ({})",
            variant_name(&e)
        )),
        other => TransportError::Io(other.to_string()),
    }
}

/// `BadHeader("…")` → `BadHeader`: some protocol errors quote the header that broke, which must not
/// reach an error message (headers may carry credentials).
fn variant_name(e: &impl std::fmt::Debug) -> String {
    let debug = format!("{e:?}");
    let end = debug.find(['(', ' ', '{']).unwrap_or(debug.len());
    debug[..end].to_owned()
}

/// The configured budget that ran out.
fn budget(which: Timeout) -> Budget {
    match which {
        Timeout::Resolve | Timeout::Connect => Budget::Connect,
        Timeout::RecvResponse | Timeout::RecvBody | Timeout::PerRead => Budget::Read,
        _ => Budget::Whole,
    }
}

/// Socket errors: refusals and TLS failures are connection failures, resets and early ends are I/O failures.
fn map_io(e: &io::Error, elapsed: Duration) -> TransportError {
    use io::ErrorKind as K;
    // rustls reports handshake failures (unknown issuer, wrong name) through the socket's io::Error.
    if let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return TransportError::Connect(format!("TLS: {tls}"));
    }
    match e.kind() {
        K::TimedOut | K::WouldBlock => TransportError::Timeout(elapsed),
        K::ConnectionRefused | K::AddrNotAvailable | K::NotFound | K::PermissionDenied => {
            TransportError::Connect(e.to_string())
        }
        K::UnexpectedEof => {
            TransportError::Io("the connection closed before the response was complete".to_owned())
        }
        _ => TransportError::Io(e.to_string()),
    }
}
