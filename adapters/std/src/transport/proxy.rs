//! The proxy of an HTTP transport: where it comes from, its URL checked by the project's one URL
//! parser, and its credentials kept out of every `Debug`, `Display` and error.

use std::fmt;

use zoho_oauth_core::url;

use super::BuildError;

/// Which proxy a transport sends through, as [`TransportSettings::proxy`](super::TransportSettings::proxy)
/// resolves it.
///
/// Not `non_exhaustive` on purpose: a transport matches every kind of proxy, so that a new one
/// cannot be silently ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxySetting {
    /// Connect directly; proxy environment variables are ignored.
    None,
    /// The proxy the environment names (`ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`,
    /// any case), read by the HTTP client, or none if unset.
    FromEnvironment,
    /// This proxy.
    Url(ProxyUrl),
}

/// An `http://` or `https://` proxy URL, optionally with basic credentials
/// (`http://user:pass@proxy.internal:3128`). `Debug` and `Display` show
/// `http://<redacted>@proxy.internal:3128`: enough to recognise the proxy, never its credentials.
///
/// ```
/// use zoho_oauth::transport::ProxyUrl;
///
/// let proxy = ProxyUrl::parse("http://alice:s3cret@proxy.internal:3128")?;
/// assert_eq!(proxy.to_string(), "http://<redacted>@proxy.internal:3128");
/// assert!(proxy.has_credentials());
/// // Only the HTTP client gets the URL as given.
/// assert_eq!(proxy.as_str(), "http://alice:s3cret@proxy.internal:3128");
/// # Ok::<(), zoho_oauth::transport::BuildError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    /// As given, credentials included.
    url: String,
    /// `scheme://[<redacted>@]host[:port]`.
    redacted: String,
    credentials: bool,
}

impl ProxyUrl {
    /// Checks `url`: scheme `http` or `https`, then optional `user:pass@`, then a host (and port)
    /// that the project's URL parser ([`zoho_oauth_core::url::parse`]) accepts.
    ///
    /// # Errors
    ///
    /// [`BuildError::Proxy`] saying what is wrong; the message never repeats the URL (it may hold
    /// a password).
    pub fn parse(url: &str) -> Result<Self, BuildError> {
        let refuse = |why: &str| BuildError::Proxy(why.to_owned());
        let (scheme, rest) = url
            .split_once("://")
            .filter(|(s, _)| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"))
            .ok_or_else(|| refuse("the proxy URL must start with http:// or https://"))?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let (credentials, host_port) = match authority.rsplit_once('@') {
            Some((_, host_port)) => (true, host_port),
            None => (false, authority),
        };
        if host_port.is_empty() || host_port.starts_with(':') {
            return Err(refuse("the proxy URL has no host"));
        }
        // The user info is cut off first: the project's parser refuses it in any URL.
        let without_credentials = format!("{scheme}://{host_port}{path}");
        let parsed =
            url::parse(&without_credentials).map_err(|_| BuildError::unparsable_proxy())?;
        let port = parsed.port.map(|p| format!(":{p}")).unwrap_or_default();
        let redacted = format!(
            "{}://{}{}{port}",
            scheme.to_ascii_lowercase(),
            if credentials { "<redacted>@" } else { "" },
            parsed.host,
        );
        Ok(Self {
            url: url.to_owned(),
            redacted,
            credentials,
        })
    }

    /// The URL as given, credentials included: for the HTTP client's proxy setting, never for a
    /// log or a message.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// Whether the URL carries `user[:pass]@`.
    pub fn has_credentials(&self) -> bool {
        self.credentials
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.redacted, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted_and_the_proxy_stays_recognisable() {
        let proxy = ProxyUrl::parse("HTTP://alice:s3cr3t-pw@proxy.internal:3128/").unwrap();
        for text in [proxy.to_string(), format!("{proxy:?}")] {
            assert!(
                !text.contains("s3cr3t-pw") && !text.contains("alice"),
                "{text}"
            );
            assert!(
                text.contains("http://<redacted>@proxy.internal:3128"),
                "{text}"
            );
        }
        assert_eq!(
            proxy.as_str(),
            "HTTP://alice:s3cr3t-pw@proxy.internal:3128/"
        );
    }

    #[test]
    fn a_proxy_without_credentials_is_shown_as_given() {
        let proxy = ProxyUrl::parse("https://[::1]:8080").unwrap();
        assert_eq!(proxy.to_string(), "https://[::1]:8080");
        assert!(!proxy.has_credentials());
        assert_eq!(
            ProxyUrl::parse("http://proxy.internal")
                .unwrap()
                .to_string(),
            "http://proxy.internal"
        );
    }

    #[test]
    fn unusable_proxy_urls_are_refused_without_repeating_them() {
        for url in [
            "socks5://bob:hunter2@proxy:1080",
            "bob:hunter2@proxy:1080",
            "http://bob:hunter2@",
            "http://bob:hunter2@:8080",
            "http://bob:hunter2@proxy:99999",
            "http://bob:hunter2@pro xy:8080",
            "http://",
        ] {
            let err = ProxyUrl::parse(url).unwrap_err();
            assert!(matches!(err, BuildError::Proxy(_)), "{url}: {err:?}");
            for text in [err.to_string(), format!("{err:?}")] {
                assert!(!text.contains("hunter2"), "{text}");
            }
        }
    }
}
