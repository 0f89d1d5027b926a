//! `UreqTransportBuilder`: the transport's settings, their defaults, and what can go wrong building it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ureq::config::RedirectAuthHeaders;
use ureq::tls::{parse_pem, PemItem, RootCerts, TlsConfig, TlsProvider};
use ureq::{Agent, Proxy, ProxyProtocol};

use crate::transport::{Limits, UreqTransport};

/// Default budget to set up a connection: DNS, TCP, proxy `CONNECT` and the TLS handshake.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default budget to receive the response headers once the request is sent; the body then has
/// its own budget of the same length.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default budget for the whole request, connection to last body byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default largest response body accepted (1 MiB); Zoho's answers are a few hundred bytes.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;
/// The `User-Agent` sent with every request.
pub const USER_AGENT: &str = concat!("zoho-oauth/", env!("CARGO_PKG_VERSION"));

/// Settings for a [`UreqTransport`]; start from [`UreqTransport::builder`].
///
/// ```
/// use std::time::Duration;
/// use zoho_oauth_ureq::UreqTransport;
///
/// let transport = UreqTransport::builder()
///     .read_timeout(Duration::from_secs(5))
///     .max_body(64 * 1024)
///     .build()
///     .expect("valid settings");
/// # let _ = transport;
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct UreqTransportBuilder {
    connect_timeout: Duration,
    read_timeout: Duration,
    timeout: Duration,
    max_body: usize,
    proxy: ProxySetting,
    root_pem: Option<Vec<u8>>,
}

/// Where the proxy comes from. The URL may hold credentials: never printed.
#[derive(Clone)]
enum ProxySetting {
    None,
    Url(String),
    FromEnv,
}

impl Default for UreqTransportBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
            proxy: ProxySetting::None,
            root_pem: None,
        }
    }
}

impl UreqTransportBuilder {
    /// Budget to set up a connection (DNS, TCP, proxy `CONNECT`, TLS). Default
    /// [`DEFAULT_CONNECT_TIMEOUT`] (10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Budget to receive the response headers after sending the request, and again to receive the
    /// body. Default [`DEFAULT_READ_TIMEOUT`] (30 s).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Budget for the whole request, whatever the phase. Default [`DEFAULT_TIMEOUT`] (60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Largest response body accepted, in bytes; a larger one is
    /// [`TransportError::TooLarge`](zoho_oauth::TransportError::TooLarge). Default
    /// [`DEFAULT_MAX_BODY`] (1 MiB).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Sends every request through an HTTP(S) proxy, e.g. `http://proxy.internal:3128` or, with
    /// basic credentials, `http://user:pass@proxy.internal:3128` (percent-encode reserved
    /// characters in the user and password). Requests are tunnelled with `CONNECT`, so TLS stays
    /// end to end; the credentials travel in `Proxy-Authorization` and are never printed.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = ProxySetting::Url(url.into());
        self
    }

    /// Uses the proxy from the environment (`ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`,
    /// any case), or none if unset. Without this or [`proxy`](Self::proxy) the environment is ignored.
    pub fn proxy_from_env(mut self) -> Self {
        self.proxy = ProxySetting::FromEnv;
        self
    }

    /// Trusts the certificates in `pem` (one or more `CERTIFICATE` blocks) *instead of* Mozilla's
    /// roots, e.g. the CA of a corporate proxy that inspects TLS.
    pub fn root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_pem = Some(pem.into());
        self
    }

    /// Builds the transport.
    ///
    /// # Errors
    ///
    /// [`BuildError::Proxy`] for a proxy URL that is not `http://` or `https://` or cannot be
    /// parsed, [`BuildError::Certificates`] for a PEM without a readable certificate.
    pub fn build(self) -> Result<UreqTransport, BuildError> {
        let proxy = match &self.proxy {
            ProxySetting::None => None,
            ProxySetting::FromEnv => Proxy::try_from_env(),
            ProxySetting::Url(url) => Some(parse_proxy(url)?),
        };
        let proxy_label = proxy.as_ref().map(redacted_proxy);

        let mut tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            // Explicit, so neither a process-wide default nor a feature flag picks another provider.
            .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()));
        if let Some(pem) = &self.root_pem {
            tls = tls.root_certs(parse_roots(pem)?);
        }

        let config = Agent::config_builder()
            .tls_config(tls.build())
            .proxy(proxy)
            .https_only(false) // checked per request: loopback http is allowed
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .redirect_auth_headers(RedirectAuthHeaders::Never)
            .user_agent(USER_AGENT)
            .accept_encoding("")
            .timeout_global(Some(self.timeout))
            .timeout_resolve(Some(self.connect_timeout))
            .timeout_connect(Some(self.connect_timeout))
            .timeout_recv_response(Some(self.read_timeout))
            .timeout_recv_body(Some(self.read_timeout))
            .build();

        Ok(UreqTransport::from_parts(
            config.new_agent(),
            Limits {
                connect_timeout: self.connect_timeout,
                read_timeout: self.read_timeout,
                timeout: self.timeout,
                max_body: self.max_body,
            },
            proxy_label,
        ))
    }
}

impl fmt::Debug for UreqTransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proxy = match &self.proxy {
            ProxySetting::None => "none".to_owned(),
            ProxySetting::FromEnv => "from environment".to_owned(),
            ProxySetting::Url(url) => parse_proxy(url)
                .map(|p| redacted_proxy(&p))
                .unwrap_or_else(|_| "<invalid>".to_owned()),
        };
        f.debug_struct("UreqTransportBuilder")
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("timeout", &self.timeout)
            .field("max_body", &self.max_body)
            .field("proxy", &proxy)
            .field("custom_roots", &self.root_pem.is_some())
            .finish()
    }
}

/// Parses an `http://` or `https://` proxy URL; the error never repeats the URL (it may hold a password).
fn parse_proxy(url: &str) -> Result<Proxy, BuildError> {
    let scheme_ok = url
        .split_once("://")
        .is_some_and(|(s, _)| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"));
    if !scheme_ok {
        return Err(BuildError::Proxy(
            "the proxy URL must start with http:// or https://".to_owned(),
        ));
    }
    let proxy = Proxy::new(url).map_err(|_| {
        BuildError::Proxy(
            "the proxy URL cannot be parsed (expected http://[user:pass@]host:port)".to_owned(),
        )
    })?;
    if proxy.host().is_empty() {
        return Err(BuildError::Proxy("the proxy URL has no host".to_owned()));
    }
    Ok(proxy)
}

/// `http://<redacted>@host:port`: enough to recognise the proxy, never its credentials.
pub(crate) fn redacted_proxy(proxy: &Proxy) -> String {
    let scheme = match proxy.protocol() {
        ProxyProtocol::Https => "https",
        ProxyProtocol::Http => "http",
        _ => "socks",
    };
    let creds = if proxy.username().is_some() || proxy.password().is_some() {
        "<redacted>@"
    } else {
        ""
    };
    format!("{scheme}://{creds}{}:{}", proxy.host(), proxy.port())
}

/// Every `CERTIFICATE` block of `pem`, as the only roots to trust.
fn parse_roots(pem: &[u8]) -> Result<RootCerts, BuildError> {
    let mut certs = Vec::new();
    for item in parse_pem(pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {} // keys and other blocks are not roots
            Err(e) => return Err(BuildError::Certificates(format!("unreadable PEM: {e}"))),
        }
    }
    if certs.is_empty() {
        return Err(BuildError::Certificates(
            "no CERTIFICATE block found in the PEM".to_owned(),
        ));
    }
    Ok(RootCerts::new_with_certs(&certs))
}

/// The settings given to [`UreqTransportBuilder`] cannot make a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// The proxy URL is not usable. The message never contains the URL.
    Proxy(String),
    /// The root certificates cannot be read.
    Certificates(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Proxy(e) => write!(f, "invalid proxy: {e}; fix the proxy setting"),
            Self::Certificates(e) => {
                write!(
                    f,
                    "invalid root certificates: {e}; pass PEM text with CERTIFICATE blocks"
                )
            }
        }
    }
}

impl std::error::Error for BuildError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_credentials_never_appear_in_debug_output() {
        let builder = UreqTransport::builder().proxy("http://alice:s3cr3t-pw@proxy.internal:3128");
        let transport = builder.clone().build().unwrap();
        for text in [format!("{builder:?}"), format!("{transport:?}")] {
            assert!(!text.contains("s3cr3t-pw"), "{text}");
            assert!(!text.contains("alice"), "{text}");
            assert!(text.contains("proxy.internal:3128"), "{text}");
            assert!(text.contains("<redacted>@"), "{text}");
        }
    }

    #[test]
    fn proxy_without_credentials_is_shown_plainly() {
        let transport = UreqTransport::builder()
            .proxy("http://proxy.internal:8080")
            .build()
            .unwrap();
        assert!(format!("{transport:?}").contains("\"http://proxy.internal:8080\""));
    }

    #[test]
    fn proxy_errors_do_not_repeat_the_url() {
        for url in [
            "socks5://bob:hunter2@proxy:1080",
            "bob:hunter2@proxy:1080",
            "http://bob:hunter2@",
        ] {
            let err = UreqTransport::builder().proxy(url).build().unwrap_err();
            assert!(matches!(err, BuildError::Proxy(_)), "{url}: {err:?}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn a_pem_without_certificates_is_rejected() {
        let err = UreqTransport::builder()
            .root_certificates_pem(&b"not a certificate"[..])
            .build()
            .unwrap_err();
        assert!(matches!(err, BuildError::Certificates(_)), "{err:?}");
    }
}
