//! The loopback redirect listener of `login`: serves `http://127.0.0.1:PORT/callback` until the
//! right redirect arrives or the time is up.
//!
//! HTTP parsing is tiny_http's; this file only decides what each request means. Every answer is a
//! small page that says plainly what happened and what to do: "Signed in" (with the user and the
//! store), "Login failed" (with the same two lines the terminal prints), or "Not the awaited
//! login", each a card in the outcome's colour (the browser tests keep screenshots of them).
//! Pages never echo request data, what they show is HTML-escaped, and they load nothing. A request that is
//! not the awaited redirect (wrong path, wrong or missing `state`) gets an error page and is
//! otherwise ignored: a stray tab or a forged link cannot end the login.

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
    /// The login is complete: answer with the success page (saying this) and stop.
    Done(T, String),
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
                    &Page {
                        tone: Tone::Notice,
                        title: "Not found",
                        blocks: &[Block::Text(
                            "This is not the login redirect address of zoho-oauth.",
                        )],
                    },
                );
                continue;
            }
            match handle(query) {
                Outcome::Done(value, done) => {
                    respond(
                        request,
                        200,
                        &Page {
                            tone: Tone::Success,
                            title: "Signed in",
                            blocks: &[
                                Block::Text(&done),
                                Block::Note(
                                    "You can close this window and go back to the terminal.",
                                ),
                            ],
                        },
                    );
                    return Ok(value);
                }
                Outcome::Ignore(why) => {
                    tracing::warn!(
                        reason = why,
                        "ignored a redirect that is not the awaited one"
                    );
                    respond(
                        request,
                        400,
                        &Page {
                            tone: Tone::Notice,
                            title: "Not the awaited login",
                            blocks: &[Block::Text(why)],
                        },
                    );
                }
                Outcome::Fail(e) => {
                    respond(
                        request,
                        400,
                        &Page {
                            tone: Tone::Failure,
                            title: "Login failed",
                            blocks: &[
                                Block::Text("zoho-oauth could not complete the login."),
                                Block::Labeled("What happened: ", &e.what),
                                Block::Labeled("What to do: ", &e.todo),
                                Block::Note(
                                    "The terminal says the same. You can close this window.",
                                ),
                            ],
                        },
                    );
                    return Err(e);
                }
            }
        }
    }
}

/// How a page looks: green for done, red for failed, amber for a request that changed nothing.
#[derive(Clone, Copy)]
enum Tone {
    Success,
    Failure,
    Notice,
}

/// One paragraph of a page.
enum Block<'a> {
    /// A sentence.
    Text(&'a str),
    /// `What to do: …`, the label in bold.
    Labeled(&'a str, &'a str),
    /// A closing remark, smaller.
    Note(&'a str),
}

/// A page the listener answers with.
struct Page<'a> {
    tone: Tone,
    title: &'a str,
    blocks: &'a [Block<'a>],
}

/// The page's style: a card with the outcome's colour and mark, readable on any screen; inline,
/// because the page loads nothing (its Content-Security-Policy forbids everything else).
const STYLE: &str = "body{margin:0;background:#f3f4f6;color:#1f2328;\
font:16px/1.55 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif}\
main{box-sizing:border-box;max-width:600px;margin:56px auto;padding:32px 36px;background:#fff;\
border-radius:12px;border-top:6px solid var(--tone);box-shadow:0 1px 4px rgba(0,0,0,.12)}\
.mark{width:44px;height:44px;border-radius:50%;background:var(--tone);color:#fff;\
font-size:26px;font-weight:700;line-height:44px;text-align:center}\
h1{margin:14px 0 10px;font-size:26px;line-height:1.25}p{margin:12px 0;overflow-wrap:anywhere}\
b{font-weight:600}.note{margin-top:24px;color:#57606a;font-size:14px}\
footer{margin-top:28px;padding-top:12px;border-top:1px solid #e5e7eb;color:#8c959f;font-size:13px}";

/// Answer with `page`: HTML-escaped text (nothing from the request is echoed), no script, no
/// resource to load, not cached, no referrer (the address holds the grant code).
fn respond(request: tiny_http::Request, status: u16, page: &Page<'_>) {
    let (colour, mark) = match page.tone {
        Tone::Success => ("#1a7f37", "&#10003;"),
        Tone::Failure => ("#cf222e", "&#10005;"),
        Tone::Notice => ("#9a6700", "!"),
    };
    let title = html_escape(page.title);
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} - zoho-oauth</title><style>{STYLE}</style></head>\
         <body style=\"--tone:{colour}\"><main><div class=\"mark\" aria-hidden=\"true\">{mark}</div>\
         <h1>{title}</h1>"
    );
    for block in page.blocks {
        match block {
            Block::Text(text) => html.push_str(&format!("<p>{}</p>", html_escape(text))),
            Block::Labeled(label, text) => html.push_str(&format!(
                "<p><b>{}</b>{}</p>",
                html_escape(label),
                html_escape(&capitalized(text))
            )),
            Block::Note(text) => {
                html.push_str(&format!("<p class=\"note\">{}</p>", html_escape(text)))
            }
        }
    }
    html.push_str("<footer>zoho-oauth login</footer></main></body></html>\n");
    let mut response = Response::from_string(html).with_status_code(status);
    for (name, value) in [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Cache-Control", "no-store"),
        (
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'",
        ),
        ("Referrer-Policy", "no-referrer"),
        ("X-Content-Type-Options", "nosniff"),
    ] {
        if let Ok(h) = Header::from_bytes(name, value) {
            response = response.with_header(h);
        }
    }
    if let Err(e) = request.respond(response) {
        tracing::debug!(error = %e, "could not answer the browser");
    }
}

/// `text` as a sentence on its own: first letter in upper case, a full stop at the end (the
/// library's lines start in lower case and end bare, to follow `error: ` on a terminal).
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// `text` safe inside HTML: letters, digits, blanks and common punctuation as they are, every
/// other character (markup, quotes, ampersands) as a numeric character reference; control
/// characters are first written as visible escapes.
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in crate::out::clean(text).chars() {
        if c.is_alphanumeric() || " .,:;!?-_@/()[]{}=+*%#~`|\\$…—".contains(c) {
            out.push(c);
        } else {
            out.push_str(&format!("&#{};", u32::from(c)));
        }
    }
    out
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
    fn a_library_line_reads_as_a_sentence_on_the_page() {
        assert_eq!(
            capitalized("start the login again"),
            "Start the login again."
        );
        assert_eq!(capitalized("done."), "Done.");
        assert_eq!(capitalized(""), "");
    }

    #[test]
    fn page_text_is_html_escaped() {
        assert_eq!(
            html_escape("<script>alert('x')</script> & \"q\"\r\n"),
            "&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; &#38; &#34;q&#34;\\r\\n"
        );
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
