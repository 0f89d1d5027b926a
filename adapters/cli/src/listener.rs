//! The loopback redirect listener of `login`: serves `http://127.0.0.1:PORT/callback` until the
//! right redirect arrives or the time is up.
//!
//! HTTP parsing is tiny_http's; this file only decides what each request means. Pages never echo
//! request data (nothing to inject), and a request that is not the awaited redirect (wrong path,
//! wrong or missing `state`) gets an error page and is otherwise ignored: a stray tab or a forged
//! link cannot end the login.

use std::time::{Duration, Instant};

use tiny_http::{Header, Response, Server};

use crate::exit::{Class, CliError};

/// A redirect URI the listener can serve: `http`, a loopback host, a port and a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectTarget {
    /// `127.0.0.1`, `localhost` or `[::1]`, as written.
    pub host: String,
    /// The port (0: any free one).
    pub port: u16,
    /// The path, starting with `/`.
    pub path: String,
}

impl RedirectTarget {
    /// Parse a registered redirect URI; only `http://` loopback URIs can be served locally.
    pub fn parse(uri: &str) -> Result<Self, CliError> {
        let bad = |why: &str| {
            CliError::usage(
                format!("the redirect URI `{uri}` cannot be served here: {why}"),
                "register and pass a loopback URI such as http://127.0.0.1:8765/callback",
            )
        };
        let rest = uri
            .strip_prefix("http://")
            .ok_or_else(|| bad("it must start with http://"))?;
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if path.contains(['?', '#']) {
            return Err(bad("it must not have a query or fragment"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix("[::1]") {
            ("[::1]", v6)
        } else {
            match authority.rfind(':') {
                Some(i) => (&authority[..i], &authority[i..]),
                None => (authority, ""),
            }
        };
        let port = match port.strip_prefix(':') {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| bad("its port is not a number"))?,
            None if port.is_empty() => 80,
            None => return Err(bad("its host is not loopback")),
        };
        let host_ok = host.eq_ignore_ascii_case("localhost")
            || host == "[::1]"
            || host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !host_ok {
            return Err(bad(
                "its host is not loopback (127.0.0.1, localhost or [::1])",
            ));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }

    /// The default target: `http://127.0.0.1:PORT/callback`.
    pub fn loopback(port: u16) -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port,
            path: "/callback".to_owned(),
        }
    }

    fn bind_address(&self) -> String {
        let ip = if self.host == "[::1]" {
            "[::1]"
        } else if self.host.eq_ignore_ascii_case("localhost") {
            "127.0.0.1"
        } else {
            &self.host
        };
        format!("{ip}:{}", self.port)
    }
}

/// What the handler made of one redirect.
pub enum Outcome<T> {
    /// The login is complete: answer with the success page and stop.
    Done(T),
    /// Not the awaited redirect (wrong `state`, …): answer with an error page and keep waiting.
    Ignore(&'static str),
    /// The login failed for good: answer with an error page and stop.
    Fail(CliError),
}

/// A bound listener.
pub struct Listener {
    server: Server,
    path: String,
    /// The redirect URI it serves (the real port filled in).
    pub redirect_uri: String,
}

impl Listener {
    /// Bind `target` (port 0 picks a free port).
    pub fn bind(target: &RedirectTarget) -> Result<Self, CliError> {
        let addr = target.bind_address();
        let server = Server::http(&addr).map_err(|e| {
            CliError::usage(
                format!("cannot listen on {addr} for the redirect: {e}"),
                "pick another --port (and register the matching redirect URI), or free that port",
            )
        })?;
        let port = server
            .server_addr()
            .to_ip()
            .map_or(target.port, |a| a.port());
        let redirect_uri = format!("http://{}:{port}{}", target.host, target.path);
        tracing::debug!(%redirect_uri, "redirect listener bound");
        Ok(Self {
            server,
            path: target.path.clone(),
            redirect_uri,
        })
    }

    /// Serve requests until `handle` says `Done` or `Fail`, or `timeout` passes. `handle` gets the
    /// query string of each request to the redirect path.
    pub fn wait<T>(
        &self,
        timeout: Duration,
        mut handle: impl FnMut(&str) -> Outcome<T>,
    ) -> Result<T, CliError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(CliError::new(
                    Class::Other,
                    format!(
                        "no authorization came back to {} within {}",
                        self.redirect_uri,
                        crate::human::duration(timeout)
                    ),
                    "run `zoho-oauth login` again and finish the consent in the browser in time (or raise --timeout)",
                ));
            }
            let request = match self.server.recv_timeout(left) {
                Ok(Some(r)) => r,
                Ok(None) => continue,
                Err(e) => {
                    return Err(CliError::other(
                        format!("the redirect listener failed: {e}"),
                        "run `zoho-oauth login` again",
                    ))
                }
            };
            let url = request.url().to_owned();
            let (path, query) = url.split_once('?').unwrap_or((&url, ""));
            if path != self.path {
                tracing::debug!("ignored a request to another path");
                respond(
                    request,
                    404,
                    "Not found",
                    "This is not the login redirect address.",
                );
                continue;
            }
            match handle(query) {
                Outcome::Done(value) => {
                    respond(
                        request,
                        200,
                        "Signed in",
                        "zoho-oauth has stored the credential. You can close this window.",
                    );
                    return Ok(value);
                }
                Outcome::Ignore(why) => {
                    tracing::warn!(
                        reason = why,
                        "ignored a redirect that is not the awaited one"
                    );
                    respond(request, 400, "Not the awaited login", why);
                }
                Outcome::Fail(e) => {
                    respond(
                        request,
                        400,
                        "Login failed",
                        "zoho-oauth could not complete the login; see the terminal for what to do.",
                    );
                    return Err(e);
                }
            }
        }
    }
}

/// Answer with a small HTML page (fixed texts only: nothing from the request is echoed).
fn respond(request: tiny_http::Request, status: u16, title: &str, text: &str) {
    let page = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{text}</p></body></html>\n"
    );
    let mut response = Response::from_string(page).with_status_code(status);
    if let Ok(h) = Header::from_bytes("Content-Type", "text/html; charset=utf-8") {
        response = response.with_header(h);
    }
    if let Ok(h) = Header::from_bytes("Cache-Control", "no-store") {
        response = response.with_header(h);
    }
    if let Err(e) = request.respond(response) {
        tracing::debug!(error = %e, "could not answer the browser");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirect_uris_are_accepted_with_their_port_and_path() {
        let t = RedirectTarget::parse("http://localhost:9000/oauth/cb").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("localhost", 9000, "/oauth/cb")
        );
        let t = RedirectTarget::parse("http://127.0.0.1:8765/callback").unwrap();
        assert_eq!(t, RedirectTarget::loopback(8765));
        let t = RedirectTarget::parse("http://[::1]:1234/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("[::1]", 1234));
    }

    #[test]
    fn remote_or_https_redirect_uris_cannot_be_served_locally() {
        for uri in [
            "https://127.0.0.1:8765/callback",
            "http://example.com:8765/callback",
            "http://127.0.0.1.evil.com/callback",
            "http://127.0.0.1:80x/callback",
            "http://127.0.0.1:8765/callback?x=1",
        ] {
            let e = RedirectTarget::parse(uri).unwrap_err();
            assert_eq!(e.class, Class::Usage, "{uri}");
        }
    }
}
