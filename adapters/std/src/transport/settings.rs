//! `TransportSettings` and `TransportBuilder`: the settings every HTTP transport of the project
//! takes (timeouts, body limit, proxy, roots), their defaults, one set of docs, and what can go
//! wrong turning them into a client.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use super::proxy::{ProxySetting, ProxyUrl};

/// Default budget to set up a connection: DNS, TCP, proxy `CONNECT` and the TLS handshake.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default budget to receive the response: its headers once the request is sent, then its body
/// (see [`TransportBuilder::read_timeout`] for how each client counts the body's share).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default budget for the whole request, connection to last body byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default largest response body accepted (1 MiB); Zoho's answers are a few hundred bytes.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;
/// The library's `User-Agent`, `zoho-oauth/<version>`, which the ureq transport sends; a
/// transport may name itself (the reqwest transport sends `zoho-oauth-tokio/<version>`).
pub const USER_AGENT: &str = concat!("zoho-oauth/", env!("CARGO_PKG_VERSION"));

/// What an HTTP transport is configured with: the output of a [`TransportBuilder`], the input of
/// [`FromSettings::from_settings`], and what the transport keeps to apply the per-request rules
/// ([`admit`](Self::admit)).
#[derive(Clone)]
pub struct TransportSettings {
    pub(super) connect_timeout: Duration,
    pub(super) read_timeout: Duration,
    pub(super) timeout: Duration,
    max_body: usize,
    proxy: ProxySource,
    root_pem: Option<Arc<[u8]>>,
}

/// Where the proxy comes from, as set. A URL may hold credentials: never printed, and parsed
/// only when the transport is built (the builder's methods cannot fail).
#[derive(Clone)]
enum ProxySource {
    None,
    FromEnv,
    Url(String),
}

impl Default for TransportSettings {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
            proxy: ProxySource::None,
            root_pem: None,
        }
    }
}

impl TransportSettings {
    /// The connection budget (DNS, TCP, proxy `CONNECT`, TLS).
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The budget to receive the response headers, and then the body.
    pub fn read_timeout(&self) -> Duration {
        self.read_timeout
    }

    /// The transport's own budget for a whole request; see [`budget_for`](Self::budget_for).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The largest response body accepted, in bytes.
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// The proxy to send through.
    ///
    /// # Errors
    ///
    /// [`BuildError::Proxy`] when the URL given to [`TransportBuilder::proxy`] is unusable; the
    /// message never repeats it.
    pub fn proxy(&self) -> Result<ProxySetting, BuildError> {
        Ok(match &self.proxy {
            ProxySource::None => ProxySetting::None,
            ProxySource::FromEnv => ProxySetting::FromEnvironment,
            ProxySource::Url(url) => ProxySetting::Url(ProxyUrl::parse(url)?),
        })
    }

    /// The PEM whose certificates replace Mozilla's roots, if one was given.
    pub fn root_certificates_pem(&self) -> Option<&[u8]> {
        self.root_pem.as_deref()
    }

    /// The whole-request budget of one request: the transport's [`timeout`](Self::timeout), or
    /// the caller's remaining deadline ([`HttpRequest::timeout`](super::HttpRequest::timeout))
    /// when that is shorter. A caller can shorten a request, never lengthen it.
    pub fn budget_for(&self, caller: Option<Duration>) -> Duration {
        caller.map_or(self.timeout, |left| left.min(self.timeout))
    }
}

impl fmt::Debug for TransportSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proxy = match self.proxy() {
            Ok(ProxySetting::None) => "none".to_owned(),
            Ok(ProxySetting::FromEnvironment) => "from environment".to_owned(),
            Ok(ProxySetting::Url(url)) => url.to_string(),
            Err(_) => "<invalid>".to_owned(),
        };
        f.debug_struct("TransportSettings")
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("timeout", &self.timeout)
            .field("max_body", &self.max_body)
            .field("proxy", &proxy)
            .field("custom_roots", &self.root_pem.is_some())
            .finish()
    }
}

/// A transport that can be made from [`TransportSettings`]: what [`TransportBuilder::build`]
/// builds. Implement it to give your own transport the project's builder (and its defaults).
///
/// ```
/// use zoho_oauth::transport::{BuildError, FromSettings, TransportBuilder, TransportSettings};
///
/// /// A stand-in for a transport over your HTTP client.
/// struct MyTransport {
///     settings: TransportSettings,
/// }
///
/// impl FromSettings for MyTransport {
///     fn from_settings(settings: TransportSettings) -> Result<Self, BuildError> {
///         settings.proxy()?; // configure your client's proxy, timeouts and roots here
///         Ok(Self { settings })
///     }
/// }
///
/// let transport = TransportBuilder::<MyTransport>::default()
///     .max_body(64 * 1024)
///     .build()?;
/// assert_eq!(transport.settings.max_body(), 64 * 1024);
/// # Ok::<(), BuildError>(())
/// ```
pub trait FromSettings: Sized {
    /// Configures the HTTP client with `settings` (redirects off, statuses as answers, the
    /// timeouts, the proxy, the roots) and keeps them for [`TransportSettings::admit`].
    ///
    /// # Errors
    ///
    /// [`BuildError`] when a setting is unusable or the client refuses it.
    fn from_settings(settings: TransportSettings) -> Result<Self, BuildError>;
}

/// Settings for an HTTP transport `T`, starting from the defaults; `build` makes the transport.
/// `zoho_oauth_ureq::UreqTransportBuilder` and `zoho_oauth_tokio::ReqwestTransportBuilder` are
/// this type.
///
/// | setting | default | method |
/// |---|---|---|
/// | connect timeout (DNS, TCP, proxy, TLS) | [`DEFAULT_CONNECT_TIMEOUT`] = 10 s | [`connect_timeout`](Self::connect_timeout) |
/// | read timeout (response headers, then the body) | [`DEFAULT_READ_TIMEOUT`] = 30 s | [`read_timeout`](Self::read_timeout) |
/// | whole-request timeout, or the caller's remaining deadline when shorter | [`DEFAULT_TIMEOUT`] = 60 s | [`timeout`](Self::timeout) |
/// | response body limit | [`DEFAULT_MAX_BODY`] = 1 MiB | [`max_body`](Self::max_body) |
/// | proxy | none (environment variables ignored) | [`proxy`](Self::proxy), [`proxy_from_env`](Self::proxy_from_env) |
/// | trusted roots | Mozilla's (webpki) | [`root_certificates_pem`](Self::root_certificates_pem) |
#[must_use = "a builder does nothing until `build` is called"]
pub struct TransportBuilder<T> {
    settings: TransportSettings,
    transport: PhantomData<fn() -> T>,
}

impl<T> Default for TransportBuilder<T> {
    fn default() -> Self {
        Self {
            settings: TransportSettings::default(),
            transport: PhantomData,
        }
    }
}

impl<T> Clone for TransportBuilder<T> {
    fn clone(&self) -> Self {
        Self {
            settings: self.settings.clone(),
            transport: PhantomData,
        }
    }
}

impl<T> fmt::Debug for TransportBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportBuilder")
            .field("transport", &std::any::type_name::<T>())
            .field("settings", &self.settings)
            .finish()
    }
}

impl<T> TransportBuilder<T> {
    /// Budget to set up a connection (DNS, TCP, proxy `CONNECT`, TLS). Default
    /// [`DEFAULT_CONNECT_TIMEOUT`] (10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// Budget to receive the response headers after sending the request, and then the body.
    /// Default [`DEFAULT_READ_TIMEOUT`] (30 s). How the body's share is counted is the HTTP
    /// client's: the ureq transport gives the whole body this budget again; the reqwest
    /// transport gives it to each read (the longest silence).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.settings.read_timeout = timeout;
        self
    }

    /// Budget for the whole request, whatever the phase; a caller's shorter remaining deadline
    /// ([`HttpRequest::timeout`](super::HttpRequest::timeout)) wins. Default [`DEFAULT_TIMEOUT`]
    /// (60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// Largest response body accepted, in bytes; a larger one is
    /// [`TransportError::TooLarge`](super::TransportError::TooLarge), refused unread when its
    /// declared length says so, and never more than the limit is buffered. Default
    /// [`DEFAULT_MAX_BODY`] (1 MiB).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.settings.max_body = bytes;
        self
    }

    /// Sends every request through an HTTP(S) proxy, e.g. `http://proxy.internal:3128` or, with
    /// basic credentials, `http://user:pass@proxy.internal:3128` (percent-encode reserved
    /// characters in the user and password). HTTPS requests are tunnelled with `CONNECT`, so TLS
    /// stays end to end; the credentials travel in `Proxy-Authorization` and are never printed
    /// (see [`ProxyUrl`]).
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.settings.proxy = ProxySource::Url(url.into());
        self
    }

    /// Uses the proxy from the environment (`ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY` and
    /// `NO_PROXY`, any case), or none if unset. Without this or [`proxy`](Self::proxy) the
    /// environment is ignored.
    pub fn proxy_from_env(mut self) -> Self {
        self.settings.proxy = ProxySource::FromEnv;
        self
    }

    /// Trusts the certificates in `pem` (one or more `CERTIFICATE` blocks) *instead of*
    /// Mozilla's roots, e.g. the CA of a corporate proxy that inspects TLS.
    pub fn root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.settings.root_pem = Some(pem.into().into());
        self
    }

    /// The settings so far.
    pub fn settings(&self) -> &TransportSettings {
        &self.settings
    }
}

impl<T: FromSettings> TransportBuilder<T> {
    /// Builds the transport.
    ///
    /// # Errors
    ///
    /// [`BuildError::Proxy`] for a proxy URL that is not `http://` or `https://` or cannot be
    /// parsed, [`BuildError::Certificates`] for a PEM without a readable certificate,
    /// [`BuildError::Client`] when the HTTP client refuses the settings.
    pub fn build(self) -> Result<T, BuildError> {
        T::from_settings(self.settings)
    }
}

/// The settings given to a [`TransportBuilder`] cannot make a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// The proxy URL is not usable. The message never contains the URL.
    Proxy(String),
    /// The root certificates cannot be read.
    Certificates(String),
    /// The HTTP client refused the settings.
    Client(String),
}

impl BuildError {
    /// The proxy URL cannot be parsed (by the project's parser or the HTTP client's).
    pub fn unparsable_proxy() -> Self {
        Self::Proxy(
            "the proxy URL cannot be parsed (expected http://[user:pass@]host:port)".to_owned(),
        )
    }

    /// The PEM given as roots holds no `CERTIFICATE` block.
    pub fn no_certificates() -> Self {
        Self::Certificates("no CERTIFICATE block found in the PEM".to_owned())
    }

    /// The PEM given as roots cannot be read, for the reason `why`.
    pub fn unreadable_pem(why: impl fmt::Display) -> Self {
        Self::Certificates(format!("unreadable PEM: {why}"))
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Proxy(e) => write!(f, "invalid proxy: {e}; fix the proxy setting"),
            Self::Certificates(e) => write!(
                f,
                "invalid root certificates: {e}; pass PEM text with CERTIFICATE blocks"
            ),
            Self::Client(e) => write!(
                f,
                "the HTTP client could not be built: {e}; check the transport's settings"
            ),
        }
    }
}

impl std::error::Error for BuildError {}

#[cfg(test)]
mod tests {
    use super::*;

    struct Settings(TransportSettings);

    impl FromSettings for Settings {
        fn from_settings(settings: TransportSettings) -> Result<Self, BuildError> {
            settings.proxy()?;
            Ok(Self(settings))
        }
    }

    fn builder() -> TransportBuilder<Settings> {
        TransportBuilder::default()
    }

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let s = builder().build().unwrap().0;
        assert_eq!(
            (s.connect_timeout(), s.read_timeout(), s.timeout()),
            (
                Duration::from_secs(10),
                Duration::from_secs(30),
                Duration::from_secs(60)
            )
        );
        assert_eq!(s.max_body(), 1 << 20);
        assert_eq!(s.proxy(), Ok(ProxySetting::None));
        assert_eq!(s.root_certificates_pem(), None);
    }

    #[test]
    fn each_method_sets_its_setting() {
        let s = builder()
            .connect_timeout(Duration::from_secs(1))
            .read_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(3))
            .max_body(4)
            .proxy_from_env()
            .root_certificates_pem(&b"pem"[..])
            .build()
            .unwrap()
            .0;
        assert_eq!(
            (
                s.connect_timeout(),
                s.read_timeout(),
                s.timeout(),
                s.max_body()
            ),
            (
                Duration::from_secs(1),
                Duration::from_secs(2),
                Duration::from_secs(3),
                4
            )
        );
        assert_eq!(s.proxy(), Ok(ProxySetting::FromEnvironment));
        assert_eq!(s.root_certificates_pem(), Some(&b"pem"[..]));
    }

    #[test]
    fn the_callers_deadline_shortens_a_request_and_never_lengthens_it() {
        let s = builder()
            .timeout(Duration::from_secs(60))
            .settings()
            .clone();
        assert_eq!(s.budget_for(None), Duration::from_secs(60));
        assert_eq!(
            s.budget_for(Some(Duration::from_millis(300))),
            Duration::from_millis(300)
        );
        assert_eq!(
            s.budget_for(Some(Duration::from_secs(600))),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn proxy_credentials_never_appear_in_debug_output() {
        let builder = builder().proxy("http://alice:s3cr3t-pw@proxy.internal:3128");
        let built = builder.clone().build().unwrap().0;
        for text in [format!("{builder:?}"), format!("{built:?}")] {
            assert!(!text.contains("s3cr3t-pw"), "{text}");
            assert!(!text.contains("alice"), "{text}");
            assert!(
                text.contains("\"http://<redacted>@proxy.internal:3128\""),
                "{text}"
            );
        }
    }

    #[test]
    fn an_unusable_proxy_fails_the_build_and_debug_does_not_repeat_it() {
        let builder = builder().proxy("socks5://bob:hunter2@proxy:1080");
        assert!(format!("{builder:?}").contains("\"<invalid>\""));
        assert!(!format!("{builder:?}").contains("hunter2"));
        let err = builder.build().err().unwrap();
        assert!(matches!(err, BuildError::Proxy(_)), "{err:?}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
