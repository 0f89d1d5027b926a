//! `ReqwestTransportBuilder`: the project's shared transport settings, turned into a reqwest
//! client.
//!
//! The settings, their defaults and their checks are `zoho_oauth::transport`'s
//! ([`TransportBuilder`]), the ureq transport's too, so that both faces send to Zoho under one
//! policy; this file only configures reqwest with them.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;
use zoho_oauth::transport::{
    BuildError, FromSettings, ProxySetting, TransportBuilder, TransportSettings,
};

use super::reqwest::ReqwestTransport;

/// The `User-Agent` sent with every request.
pub const USER_AGENT: &str = concat!("zoho-oauth-tokio/", env!("CARGO_PKG_VERSION"));

/// Settings for a [`ReqwestTransport`]; start from [`ReqwestTransport::builder`]. The methods,
/// their defaults and their errors are [`TransportBuilder`]'s, shared with the blocking face's
/// ureq transport.
///
/// ```
/// use std::time::Duration;
/// use zoho_oauth_tokio::ReqwestTransport;
///
/// let transport = ReqwestTransport::builder()
///     .read_timeout(Duration::from_secs(5))
///     .max_body(64 * 1024)
///     .proxy("http://user:pass@proxy.internal:3128")
///     .build()
///     .expect("valid settings");
/// assert!(!format!("{transport:?}").contains("pass"));
/// ```
pub type ReqwestTransportBuilder = TransportBuilder<ReqwestTransport>;

impl FromSettings for ReqwestTransport {
    fn from_settings(settings: TransportSettings) -> Result<Self, BuildError> {
        let roots = match settings.root_certificates_pem() {
            Some(pem) => roots_from_pem(pem)?,
            None => RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
        };
        // The provider is named here, so that neither a process-wide default nor a feature of
        // another crate can slip aws-lc-rs (or anything else) in.
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| BuildError::Client(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();

        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            // A token endpoint that redirects is misconfigured; following could carry secrets away.
            .redirect(reqwest::redirect::Policy::none())
            // The engine decides about retries (it knows Zoho's limits); reqwest must not resend.
            .retry(reqwest::retry::never())
            .referer(false)
            // Checked per request by the project's URL policy: plain http to loopback is allowed.
            .https_only(false)
            .user_agent(USER_AGENT)
            .connect_timeout(settings.connect_timeout())
            .read_timeout(settings.read_timeout())
            .timeout(settings.timeout());
        let client = match settings.proxy()? {
            ProxySetting::None => client.no_proxy(),
            // reqwest reads the environment itself unless told `no_proxy`.
            ProxySetting::FromEnvironment => client,
            ProxySetting::Url(url) => client.proxy(
                reqwest::Proxy::all(url.as_str()).map_err(|_| BuildError::unparsable_proxy())?,
            ),
        };
        let client = client
            .build()
            .map_err(|e| BuildError::Client(e.without_url().to_string()))?;
        Ok(ReqwestTransport::from_parts(client, settings))
    }
}

/// Every `CERTIFICATE` block of `pem`, as the only roots to trust.
fn roots_from_pem(pem: &[u8]) -> Result<RootCertStore, BuildError> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(BuildError::unreadable_pem)?;
        roots
            .add(cert)
            .map_err(|e| BuildError::Certificates(format!("unusable certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(BuildError::no_certificates());
    }
    Ok(roots)
}
