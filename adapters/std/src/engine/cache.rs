//! The per-credential cache: the access token as callers get it ([`AccessToken`]), read without a
//! lock or an allocation while it is fresh, and the [`Entry`] of one credential that holds it next
//! to the machine behind the single-flight lock.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use arc_swap::ArcSwapOption;
use zeroize::Zeroizing;
use zoho_oauth_core::response::ReAuthReason;
use zoho_oauth_core::token::age_known;
use zoho_oauth_core::{cap, Config, Instant, Machine, Secret, TokenSet};

use crate::clock::to_system_time;
use crate::error::Error;
use crate::key::CredentialKey;

/// One access token as the cache holds it: the secret, when it expires, when to refresh it, and
/// where its APIs live.
pub(crate) struct Cached {
    secret: Secret<{ cap::ACCESS_TOKEN }>,
    /// When it was minted: a token minted "in the future" (the clock went back) has an unknown
    /// age and is neither fresh nor valid.
    issued_at: Instant,
    expires_at: Instant,
    /// When the core says a refresh is due ([`Config::refresh_due`]): from then on the hot path
    /// asks for one.
    pub(crate) refresh_at: Instant,
    api_domain: String,
}

impl Cached {
    /// The cache entry for `token`'s access token, if it has one, trusted to go to `api_domain`.
    pub(crate) fn from_token(
        token: &TokenSet,
        api_domain: String,
        config: &Config,
    ) -> Option<Self> {
        let secret = token.access_token.clone()?;
        // Never hand out a token that cannot go into a header line (a damaged or hostile store).
        if !zoho_oauth_core::secret::is_token_text(secret.expose().as_bytes()) {
            return None;
        }
        Some(Self {
            secret,
            issued_at: token.issued_at,
            expires_at: token.expires_at,
            refresh_at: config.refresh_due(token),
            api_domain,
        })
    }

    /// Usable at `now` (strictly before expiry).
    pub(crate) fn valid_at(&self, now: Instant) -> bool {
        now < self.expires_at && age_known(self.issued_at, now)
    }

    /// Not yet due for a refresh at `now`.
    pub(crate) fn fresh_at(&self, now: Instant) -> bool {
        now < self.refresh_at && age_known(self.issued_at, now)
    }

    pub(crate) fn secret(&self) -> &str {
        self.secret.expose()
    }
}

/// One credential of one client: its cached access token, read without locking, and its state
/// machine behind the single-flight lock (an async mutex, so that both faces can wait on it:
/// threads block, tasks yield).
pub(crate) struct Entry {
    pub(crate) key: CredentialKey,
    cached: ArcSwapOption<Cached>,
    /// Milliseconds since the epoch before which a due-but-valid token is served without trying
    /// to refresh (backoff, spent budget, throttle): keeps the hot path lock-free meanwhile.
    quiet_until: AtomicU64,
    /// Why the credential needs a new authorization (0: it does not), as the machine said.
    needs_auth: AtomicU8,
    /// Revoked or deleted and removed from the client: waiters must not resurrect it.
    forgotten: AtomicBool,
    /// Completed flights, so that a caller that waited for the flight lock can share the result.
    pub(crate) flights: AtomicU64,
    /// The failure of the last flight; a short lock, never held across I/O, so a reader never
    /// waits behind a refresh on the wire.
    last_error: Mutex<Option<Error>>,
    /// The machine, held by the one flight in progress.
    pub(crate) slot: async_lock::Mutex<Machine>,
}

impl Entry {
    pub(crate) fn new(key: CredentialKey, machine: Machine) -> Self {
        Self {
            key,
            cached: ArcSwapOption::empty(),
            quiet_until: AtomicU64::new(0),
            needs_auth: AtomicU8::new(0),
            forgotten: AtomicBool::new(false),
            flights: AtomicU64::new(0),
            last_error: Mutex::new(None),
            slot: async_lock::Mutex::new(machine),
        }
    }

    /// A fresh token, or a valid one while refreshing is on hold. No lock, no allocation.
    pub(crate) fn servable(&self, now: Instant) -> Option<AccessToken> {
        let guard = self.cached.load();
        let c = Option::as_ref(&guard)?;
        if c.fresh_at(now)
            || (c.valid_at(now) && now.as_millis() < self.quiet_until.load(Ordering::Acquire))
        {
            Some(AccessToken::from_cached(Arc::clone(c)))
        } else {
            None
        }
    }

    /// The cached token if it has not expired.
    pub(crate) fn valid(&self, now: Instant) -> Option<AccessToken> {
        let guard = self.cached.load();
        let c = Option::as_ref(&guard)?;
        c.valid_at(now)
            .then(|| AccessToken::from_cached(Arc::clone(c)))
    }

    /// Put `cached` in the cache and return it as a token.
    pub(crate) fn publish(&self, cached: Cached) -> AccessToken {
        let cached = Arc::new(cached);
        self.cached.store(Some(Arc::clone(&cached)));
        AccessToken::from_cached(cached)
    }

    /// Drop the cached token (the store no longer holds the credential).
    pub(crate) fn clear(&self) {
        self.cached.store(None);
    }

    /// Serve due-but-valid tokens without a refresh until `until` (a pause the machine keeps).
    pub(crate) fn quiet_until(&self, until: Option<Instant>) {
        self.quiet_until
            .store(until.map_or(0, Instant::as_millis), Ordering::Release);
    }

    /// When the hot path may next try a refresh of a valid token.
    pub(crate) fn quiet(&self) -> Instant {
        Instant::from_millis(self.quiet_until.load(Ordering::Acquire))
    }

    pub(crate) fn set_needs_authorization(&self, reason: Option<ReAuthReason>) {
        let code = match reason {
            None => 0,
            Some(ReAuthReason::GrantUsedOrExpired) => 1,
            Some(ReAuthReason::RefreshTokenRevoked) => 2,
            Some(_) => 3,
        };
        self.needs_auth.store(code, Ordering::Release);
    }

    /// Whether this process has learnt that the credential needs a new authorization.
    pub(crate) fn needs_authorization(&self) -> bool {
        self.needs_auth.load(Ordering::Acquire) != 0
    }

    /// Mark the credential gone (revoked or deleted): waiters must not use or resurrect it.
    pub(crate) fn forget(&self) {
        self.forgotten.store(true, Ordering::Release);
        self.clear();
    }

    pub(crate) fn is_forgotten(&self) -> bool {
        self.forgotten.load(Ordering::Acquire)
    }

    /// Revive an entry that a new credential replaces (an exchange after a revoke).
    pub(crate) fn revive(&self) {
        self.forgotten.store(false, Ordering::Release);
        self.set_needs_authorization(None);
        self.quiet_until(None);
    }

    /// The failure of the last flight, if the last flight failed.
    pub(crate) fn last_error(&self) -> Option<Error> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(Error::duplicate)
    }

    pub(crate) fn set_last_error(&self, e: Option<&Error>) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = e.map(Error::duplicate);
    }

    /// When the background refresher should look at this entry next (`None`: nothing to do
    /// until someone authorizes again).
    pub(crate) fn next_wake(&self) -> Option<Instant> {
        if self.needs_authorization() || self.is_forgotten() {
            return None;
        }
        let quiet = self.quiet();
        let guard = self.cached.load();
        Some(match Option::as_ref(&guard) {
            Some(c) => c.refresh_at.max(quiet),
            None => quiet,
        })
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
        let cached =
            Cached::from_token(&set, "https://www.zohoapis.com".into(), &Config::default())
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
        let c = Cached::from_token(&set, String::new(), &Config::default()).unwrap();
        assert_eq!(c.refresh_at, Instant::from_millis(5_000));
    }
}
