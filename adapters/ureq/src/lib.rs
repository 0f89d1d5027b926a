//! A blocking HTTPS [`Transport`](zoho_oauth::Transport) for `zoho-oauth`, built on ureq 3 and rustls.
//!
//! [`UreqTransport`] sends the requests the `zoho-oauth` client renders and returns every response
//! as it came: the status is never turned into an error (Zoho reports failures in the body, often
//! with HTTP 200) and redirects are never followed (a token endpoint that redirects is a
//! misconfiguration, and following it could carry secrets elsewhere). It is safe by default. The
//! settings, their defaults and the per-request rules (URL policy, deadline, body limit, log line)
//! are `zoho_oauth::transport`'s, shared with the async face's reqwest transport; this crate only
//! configures ureq with them and translates ureq's errors:
//!
//! | setting | default | builder method |
//! |---|---|---|
//! | TLS | rustls with the `ring` provider only, Mozilla's roots (webpki) | [`root_certificates_pem`](UreqTransportBuilder::root_certificates_pem) |
//! | which URLs | the project's one policy, [`TransportError::check_url`](zoho_oauth::TransportError::check_url): `https` anywhere, plain `http` only to loopback hosts (`127.0.0.0/8`, `localhost`, `[::1]`), no user info; a refusal is [`TransportError::Refused`](zoho_oauth::TransportError::Refused), sent nowhere and never retried | — |
//! | connect timeout (DNS, TCP, proxy, TLS) | [`DEFAULT_CONNECT_TIMEOUT`] = 10 s | [`connect_timeout`](UreqTransportBuilder::connect_timeout) |
//! | read timeout (response headers; then, separately, the body) | [`DEFAULT_READ_TIMEOUT`] = 30 s | [`read_timeout`](UreqTransportBuilder::read_timeout) |
//! | global timeout (the whole request, connection to last body byte) | [`DEFAULT_TIMEOUT`] = 60 s, or the caller's remaining deadline ([`HttpRequest::timeout`](zoho_oauth::HttpRequest::timeout)) when shorter | [`timeout`](UreqTransportBuilder::timeout) |
//! | response body limit (a longer declared length is refused unread; never more than the limit is buffered) | [`DEFAULT_MAX_BODY`] = 1 MiB | [`max_body`](UreqTransportBuilder::max_body) |
//! | proxy | none (environment variables are ignored) | [`proxy`](UreqTransportBuilder::proxy), [`proxy_from_env`](UreqTransportBuilder::proxy_from_env) |
//! | `User-Agent` | `zoho-oauth/<version>` | — |
//!
//! ```no_run
//! use std::time::Duration;
//! use zoho_oauth_ureq::UreqTransport;
//!
//! # fn main() -> Result<(), zoho_oauth_ureq::BuildError> {
//! let defaults = UreqTransport::new();
//! let tuned = UreqTransport::builder()
//!     .connect_timeout(Duration::from_secs(5))
//!     .read_timeout(Duration::from_secs(20))
//!     .timeout(Duration::from_secs(40))
//!     .proxy("http://user:pass@proxy.internal:3128")
//!     .build()?;
//! # let _ = (defaults, tuned);
//! # Ok(())
//! # }
//! ```
//!
//! In scope: one blocking request at a time per call (the agent pools connections and is shared by
//! clones). Out of scope: HTTP/2, cookies, compression, retries (the `zoho-oauth` client decides
//! when to retry), following redirects.

#![forbid(unsafe_code)]

mod builder;
mod errors;
mod transport;

pub use builder::UreqTransportBuilder;
pub use transport::UreqTransport;
pub use zoho_oauth::transport::{
    BuildError, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY, DEFAULT_READ_TIMEOUT, DEFAULT_TIMEOUT,
    USER_AGENT,
};
