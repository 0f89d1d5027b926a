//! `UreqTransportBuilder`: the project's shared transport settings, turned into a ureq agent.
//!
//! The settings, their defaults and their checks are `zoho_oauth::transport`'s
//! ([`TransportBuilder`]); this file only configures ureq with them.

use std::sync::Arc;

use ureq::config::RedirectAuthHeaders;
use ureq::tls::{parse_pem, PemItem, RootCerts, TlsConfig, TlsProvider};
use ureq::{Agent, Proxy};
use zoho_oauth::transport::{
    BuildError, FromSettings, ProxySetting, TransportBuilder, TransportSettings, USER_AGENT,
};

use crate::transport::UreqTransport;

/// Settings for a [`UreqTransport`]; start from [`UreqTransport::builder`]. The methods, their
/// defaults and their errors are [`TransportBuilder`]'s, shared with the async face's reqwest
/// transport.
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
pub type UreqTransportBuilder = TransportBuilder<UreqTransport>;

impl FromSettings for UreqTransport {
    fn from_settings(settings: TransportSettings) -> Result<Self, BuildError> {
        let proxy = match settings.proxy()? {
            ProxySetting::None => None,
            ProxySetting::FromEnvironment => Proxy::try_from_env(),
            ProxySetting::Url(url) => {
                Some(Proxy::new(url.as_str()).map_err(|_| BuildError::unparsable_proxy())?)
            }
        };

        let mut tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            // Explicit, so neither a process-wide default nor a feature flag picks another provider.
            .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()));
        if let Some(pem) = settings.root_certificates_pem() {
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
            .timeout_global(Some(settings.timeout()))
            .timeout_resolve(Some(settings.connect_timeout()))
            .timeout_connect(Some(settings.connect_timeout()))
            .timeout_recv_response(Some(settings.read_timeout()))
            .timeout_recv_body(Some(settings.read_timeout()))
            .build();

        Ok(UreqTransport::from_parts(config.new_agent(), settings))
    }
}

/// Every `CERTIFICATE` block of `pem`, as the only roots to trust.
fn parse_roots(pem: &[u8]) -> Result<RootCerts, BuildError> {
    let mut certs = Vec::new();
    for item in parse_pem(pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {} // keys and other blocks are not roots
            Err(e) => return Err(BuildError::unreadable_pem(e)),
        }
    }
    if certs.is_empty() {
        return Err(BuildError::no_certificates());
    }
    Ok(RootCerts::new_with_certs(&certs))
}
