//! Which URLs may be sent at all: HTTPS anywhere, plain HTTP only to loopback hosts.

use std::net::{Ipv4Addr, Ipv6Addr};

use ureq::http::Uri;
use zoho_oauth::TransportError;

/// Checks `url` before anything touches the network and returns its host (for logs).
///
/// Refuses unparsable URLs, schemes other than `http`/`https`, and `http` to any host that is not
/// loopback (`127.0.0.0/8`, `localhost`, `[::1]`): secrets must never cross a network in clear text.
pub(crate) fn check_url(url: &str) -> Result<String, TransportError> {
    // Parse with the same URI type ureq connects with, so the host checked is the host dialled.
    let uri: Uri = url
        .parse()
        .map_err(|_| TransportError::Refused("the URL cannot be parsed".to_owned()))?;
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| TransportError::Refused("the URL has no host".to_owned()))?;
    match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => Ok(host.to_owned()),
        Some(s) if s.eq_ignore_ascii_case("http") => {
            if is_loopback(host) {
                Ok(host.to_owned())
            } else {
                Err(TransportError::Refused(format!(
                    "plain http to {host} is not allowed; use https (http is only allowed to loopback hosts)"
                )))
            }
        }
        _ => Err(TransportError::Refused(
            "only http and https URLs are supported".to_owned(),
        )),
    }
}

/// `localhost`, any `127.x.y.z`, or `[::1]` (IPv6 hosts come bracketed from the URI).
fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    }
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_allowed_to_any_host() {
        assert_eq!(
            check_url("https://accounts.zoho.eu/oauth/v2/token").unwrap(),
            "accounts.zoho.eu"
        );
    }

    #[test]
    fn plain_http_is_allowed_to_loopback_hosts_only() {
        for url in [
            "http://127.0.0.1:8080/oauth/v2/token",
            "http://127.1.2.3/x",
            "http://localhost:1/",
            "http://LOCALHOST/",
            "http://[::1]:9000/x",
        ] {
            assert!(check_url(url).is_ok(), "{url} should be allowed");
        }
        for url in [
            "http://example.invalid/",
            "http://accounts.zoho.com/oauth/v2/token",
            "http://10.0.0.1/",
            "http://128.0.0.1/",
            "http://[::2]/",
            "http://localhost.example.com/",
            "http://127.0.0.1.nip.io/",
            "http://127.0.0.1@evil.example/",
        ] {
            assert!(
                matches!(check_url(url), Err(TransportError::Refused(_))),
                "{url} should be refused"
            );
        }
    }

    #[test]
    fn other_schemes_and_garbage_are_refused() {
        for url in [
            "ftp://accounts.zoho.com/",
            "/relative/path",
            "https://",
            "not a url",
            "",
        ] {
            assert!(
                matches!(check_url(url), Err(TransportError::Refused(_))),
                "{url:?} should be refused"
            );
        }
    }
}
