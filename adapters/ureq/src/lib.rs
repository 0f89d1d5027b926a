//! A blocking HTTPS [`Transport`](zoho_oauth::Transport) for `zoho-oauth`, built on ureq 3 and rustls.
//!
//! [`UreqTransport`] sends the requests the `zoho-oauth` client renders and returns every response
//! as it came: the status is never turned into an error (Zoho reports failures in the body, often
//! with HTTP 200) and redirects are never followed (a token endpoint that redirects is a
//! misconfiguration, and following it could carry secrets elsewhere). It is safe by default:
//!
//! | setting | default | builder method |
//! |---|---|---|
//! | TLS | rustls with the `ring` provider only, Mozilla's roots (webpki) | [`root_certificates_pem`](UreqTransportBuilder::root_certificates_pem) |
//! | plain `http` | refused, except to loopback hosts (`127.0.0.0/8`, `localhost`, `[::1]`) | — |
//! | connect timeout (DNS, TCP, proxy, TLS) | [`DEFAULT_CONNECT_TIMEOUT`] = 10 s | [`connect_timeout`](UreqTransportBuilder::connect_timeout) |
//! | read timeout (response headers; then, separately, the body) | [`DEFAULT_READ_TIMEOUT`] = 30 s | [`read_timeout`](UreqTransportBuilder::read_timeout) |
//! | global timeout (the whole request) | [`DEFAULT_TIMEOUT`] = 60 s | [`timeout`](UreqTransportBuilder::timeout) |
//! | response body limit | [`DEFAULT_MAX_BODY`] = 1 MiB | [`max_body`](UreqTransportBuilder::max_body) |
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
mod policy;
mod transport;

pub use builder::{
    BuildError, UreqTransportBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY,
    DEFAULT_READ_TIMEOUT, DEFAULT_TIMEOUT, USER_AGENT,
};
pub use transport::UreqTransport;
