//! `AccessToken`: a cheap, shareable handle to one minted access token, redacted when printed.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use zeroize::Zeroizing;
use zoho_oauth_core::{cap, Instant, Secret, TokenSet};

use crate::clock::to_system_time;

/// One access token as the cache holds it: the secret, when it expires, when to refresh it, and
/// where its APIs live.
pub(crate) struct Cached {
    secret: Secret<{ cap::ACCESS_TOKEN }>,
    expires_at: Instant,
    /// `expires_at - margin`: from then on the hot path asks for a refresh.
    pub(crate) refresh_at: Instant,
    api_domain: String,
}

impl Cached {
    /// The cache entry for `token`'s access token, if it has one. `margin` is clamped to half the
    /// token's lifetime, as the core does.
    pub(crate) fn from_token(
        token: &TokenSet,
        api_domain: String,
        margin: std::time::Duration,
    ) -> Option<Self> {
        let secret = token.access_token.clone()?;
        // Never hand out a token that cannot go into a header line (a damaged or hostile store).
        if !zoho_oauth_core::secret::is_token_text(secret.expose().as_bytes()) {
            return None;
        }
        let lifetime = token.expires_at.saturating_duration_since(token.issued_at);
        let margin = margin.min(lifetime / 2);
        Some(Self {
            secret,
            expires_at: token.expires_at,
            refresh_at: token.expires_at.saturating_sub(margin),
            api_domain,
        })
    }

    /// Usable at `now` (strictly before expiry).
    pub(crate) fn valid_at(&self, now: Instant) -> bool {
        now < self.expires_at
    }

    /// Not yet due for a refresh at `now`.
    pub(crate) fn fresh_at(&self, now: Instant) -> bool {
        now < self.refresh_at
    }

    pub(crate) fn secret(&self) -> &str {
        self.secret.expose()
    }
}

/// An access token for one credential: clone it freely (a reference count), send it anywhere.
///
/// `Debug` and `Display` show only the last four characters; the token is zeroized when the last
/// clone is dropped.
#[derive(Clone)]
pub struct AccessToken {
    inner: Arc<Cached>,
}

impl AccessToken {
    pub(crate) fn from_cached(inner: Arc<Cached>) -> Self {
        Self { inner }
    }

    /// Not yet due for a refresh at `now`.
    pub(crate) fn fresh_at(&self, now: Instant) -> bool {
        self.inner.fresh_at(now)
    }

    pub(crate) fn same_as(&self, other: &Cached) -> bool {
        std::ptr::eq(Arc::as_ptr(&self.inner), other) || self.inner.secret == other.secret
    }

    /// The token itself, for an `Authorization` header. Do not log it.
    pub fn secret(&self) -> &str {
        self.inner.secret()
    }

    /// When the token expires.
    pub fn expires_at(&self) -> SystemTime {
        to_system_time(self.inner.expires_at)
    }

    /// Where API calls with this token go, e.g. `https://www.zohoapis.com` (no trailing slash).
    pub fn api_domain(&self) -> &str {
        &self.inner.api_domain
    }

    /// The whole `Authorization` header value: `Zoho-oauthtoken 1000.…`. Zeroized when dropped.
    pub fn header_value(&self) -> Zeroizing<String> {
        let mut s = String::with_capacity(16 + self.secret().len());
        s.push_str("Zoho-oauthtoken ");
        s.push_str(self.secret());
        Zeroizing::new(s)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &self.inner.secret)
            .field("expires_at", &self.inner.expires_at.as_millis())
            .field("api_domain", &self.inner.api_domain)
            .finish()
    }
}

impl fmt::Display for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "access token {} for {}",
            self.inner.secret, self.inner.api_domain
        )
    }
}

impl PartialEq for AccessToken {
    /// Same token (compared in constant time).
    fn eq(&self, other: &Self) -> bool {
        self.same_as(&other.inner)
    }
}

impl Eq for AccessToken {}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn token() -> AccessToken {
        let mut set = TokenSet::new("1000.refreshrefreshrefresh").unwrap();
        set.access_token =
            Some(Secret::new("access_token", "1000.secretsecretsecret.9f3e").unwrap());
        set.issued_at = Instant::from_millis(1_000_000);
        set.expires_at = Instant::from_millis(1_000_000 + 3_600_000);
        let cached = Cached::from_token(
            &set,
            "https://www.zohoapis.com".into(),
            Duration::from_secs(60),
        )
        .unwrap();
        AccessToken::from_cached(Arc::new(cached))
    }

    #[test]
    fn debug_and_display_show_only_the_last_four_characters() {
        let t = token();
        for shown in [format!("{t:?}"), format!("{t}"), format!("{t:#?}")] {
            assert!(!shown.contains("secretsecret"), "{shown}");
            assert!(shown.contains("9f3e"), "{shown}");
        }
        assert_eq!(
            &*t.header_value(),
            "Zoho-oauthtoken 1000.secretsecretsecret.9f3e"
        );
    }

    #[test]
    fn a_token_is_fresh_until_the_margin_and_valid_until_expiry() {
        let t = token();
        let c = &t.inner;
        assert!(c.fresh_at(Instant::from_millis(1_000_000 + 3_539_999)));
        assert!(!c.fresh_at(Instant::from_millis(1_000_000 + 3_540_000)));
        assert!(c.valid_at(Instant::from_millis(1_000_000 + 3_599_999)));
        assert!(!c.valid_at(Instant::from_millis(1_000_000 + 3_600_000)));
        assert_eq!(
            t.expires_at(),
            std::time::UNIX_EPOCH + Duration::from_millis(4_600_000)
        );
    }

    #[test]
    fn the_margin_never_exceeds_half_the_lifetime() {
        let mut set = TokenSet::new("1000.r").unwrap();
        set.access_token = Some(Secret::new("access_token", "1000.a").unwrap());
        set.issued_at = Instant::from_millis(0);
        set.expires_at = Instant::from_millis(10_000);
        let c = Cached::from_token(&set, String::new(), Duration::from_secs(60)).unwrap();
        assert_eq!(c.refresh_at, Instant::from_millis(5_000));
    }
}
