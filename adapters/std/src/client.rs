//! `Client`: the std face of the library — many users' credentials, one client registration.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use arc_swap::ArcSwap;
use zoho_oauth_core::TokenSet;

use crate::access::AccessToken;
use crate::builder::{ClientBuilder, Settings};
use crate::clock::to_system_time;
use crate::error::Error;
use crate::key::CredentialKey;
use crate::refresh::{Entry, Want};
use crate::status::CredentialStatus;

/// A Zoho OAuth client: one registration (client id and secret) in one data centre and
/// environment, holding the credentials of any number of users at once.
///
/// Cheap to clone (an `Arc` inside) and `Send + Sync`: share one per application. Every call
/// names the user; there is no "current user".
///
/// [`access_token`](Client::access_token) is the hot path: a fresh cached token is returned without
/// a lock or an allocation. When a token is due, one thread refreshes (in-process mutex, then the
/// store's cross-process lock: reload, refresh only if still needed, save); the others wait for it,
/// or keep using the still-valid token.
///
/// ```
/// use zoho_oauth::{Client, HttpRequest, HttpResponse, TransportError};
///
/// // Bring your own HTTP client: any closure from request to response is a `Transport`.
/// let my_http = |req: &HttpRequest<'_>| -> Result<HttpResponse, TransportError> {
///     // Send req.method to req.url with req.headers and req.body, without following redirects,
///     // and return the status and body whatever the status.
///     Err(TransportError::Connect(format!("no network in this example ({})", req.url)))
/// };
/// let client = Client::builder("1000.CLIENTID", "client-secret")
///     .data_center(zoho_oauth::core::DataCenter::Eu)
///     .transport(my_http)
///     .build()?;
/// client.add_refresh_token("alice@example.com", "1000.refresh.token")?;
/// // The first call refreshes; here the network fails, and the error says so.
/// let err = client.access_token("alice@example.com").unwrap_err();
/// assert_eq!(err.kind(), zoho_oauth::ErrorKind::Network);
/// # Ok::<(), zoho_oauth::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

/// What every clone of a client shares.
pub(crate) struct Inner {
    pub(crate) s: Settings,
    /// One entry per user, replaced as a whole (copy-on-write) when a user is added or removed,
    /// so that readers never lock.
    pub(crate) entries: ArcSwap<HashMap<String, Arc<Entry>>>,
    /// Serialises writers of `entries`.
    entries_writer: Mutex<()>,
    /// Background refreshers to wake when the schedule changes.
    pub(crate) wakers: Mutex<Vec<Weak<crate::background::Shared>>>,
}

impl Client {
    /// Start configuring a client with its id and secret from Zoho's API console.
    pub fn builder(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> ClientBuilder {
        ClientBuilder::new(client_id.into(), client_secret.into())
    }

    pub(crate) fn from_settings(s: Settings) -> Self {
        tracing::debug!(
            client_id = s.client_id.as_str(),
            dc = %s.data_center,
            env = %s.environment,
            accounts = s.accounts.as_str(),
            "client built"
        );
        Self {
            inner: Arc::new(Inner {
                s,
                entries: ArcSwap::from_pointee(HashMap::new()),
                entries_writer: Mutex::new(()),
                wakers: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The key `user`'s credential is stored under with this client.
    pub fn key(&self, user: &str) -> CredentialKey {
        self.inner.key(user)
    }

    /// An access token for `user`: the cached one while it is fresh (no lock, no allocation),
    /// else a refreshed one. While a refresh fails or waits (network down, throttle, budget), a
    /// token that has not yet expired keeps being returned.
    pub fn access_token(&self, user: &str) -> Result<AccessToken, Error> {
        if let Some(t) = self.inner.cached(user) {
            return Ok(t);
        }
        let entry = self.inner.entry(user)?;
        entry.obtain(&self.inner, Want::Current)
    }

    /// [`access_token`](Client::access_token), and whether the token is served stale: when it is
    /// due for a refresh (within the margin of its expiry, though still valid) because the last
    /// refresh failed or is on hold, the second value is that refresh's error (network, Zoho,
    /// throttle, spent mint budget), whose `Display` says what happened and what to do. `None`
    /// when the token is fresh. Fails as `access_token` does, when no valid token can be served.
    ///
    /// ```no_run
    /// # fn demo(client: &zoho_oauth::Client) -> Result<(), zoho_oauth::Error> {
    /// let (token, refresh_error) = client.access_token_with_refresh_error("alice@example.com")?;
    /// if let Some(e) = refresh_error {
    ///     eprintln!("warning: serving a token that expires soon: {e}");
    /// }
    /// # let _ = token;
    /// # Ok(())
    /// # }
    /// ```
    pub fn access_token_with_refresh_error(
        &self,
        user: &str,
    ) -> Result<(AccessToken, Option<Error>), Error> {
        let entry = self.inner.entry(user)?;
        let token = match self.inner.cached(user) {
            Some(t) => t,
            None => entry.obtain(&self.inner, Want::Current)?,
        };
        let stale = entry.stale_reason(&token, self.inner.s.clock.now());
        Ok((token, stale))
    }

    /// Refresh `user`'s access token now if it is due (`force == false`), or even if it is fresh
    /// (`force == true`; the mint budget still applies).
    pub fn refresh(&self, user: &str, force: bool) -> Result<AccessToken, Error> {
        let entry = self.inner.entry(user)?;
        let want = if force {
            Want::Force { rejected: None }
        } else {
            Want::Due
        };
        entry.obtain(&self.inner, want)
    }

    /// The users with a stored credential for this client, data centre and environment, sorted.
    pub fn users(&self) -> Result<Vec<String>, Error> {
        self.inner.users()
    }

    /// Every stored credential of this client, data centre and environment, without secrets.
    pub fn status(&self) -> Result<Vec<CredentialStatus>, Error> {
        let inner = &self.inner;
        let now = inner.s.clock.now();
        let mut out = Vec::new();
        for key in inner.own_keys()? {
            let Some(token) = inner.s.store.load(&key)? else {
                continue;
            };
            let needs_authorization = inner
                .entries
                .load()
                .get(&key.user)
                .is_some_and(|e| e.needs_authorization());
            out.push(CredentialStatus {
                api_domain: token.api_domain.as_str().to_owned(),
                access_expires_at: token
                    .access_token
                    .as_ref()
                    .map(|_| to_system_time(token.expires_at)),
                mints_left: token.mints_left(now, &inner.s.config),
                refresh_hint: token.refresh_token.hint().to_owned(),
                needs_authorization,
                user: key.user,
                data_center: key.data_center,
                environment: key.environment,
            });
        }
        Ok(out)
    }
}

impl Inner {
    pub(crate) fn key(&self, user: &str) -> CredentialKey {
        CredentialKey::new(
            user,
            self.s.client_id.as_str(),
            self.s.data_center,
            self.s.environment,
        )
    }

    /// The hot path: a fresh (or, while refreshing is pointless, still valid) cached token.
    pub(crate) fn cached(&self, user: &str) -> Option<AccessToken> {
        let now = self.s.clock.now();
        let entries = self.entries.load();
        entries.get(user)?.servable(now)
    }

    /// Stored keys of this client, data centre and environment.
    pub(crate) fn own_keys(&self) -> Result<Vec<CredentialKey>, Error> {
        let mut keys: Vec<CredentialKey> = self
            .s
            .store
            .list()?
            .into_iter()
            .filter(|k| {
                k.client_id == self.s.client_id
                    && k.data_center == self.s.data_center
                    && k.environment == self.s.environment
            })
            .collect();
        keys.sort();
        Ok(keys)
    }

    pub(crate) fn users(&self) -> Result<Vec<String>, Error> {
        Ok(self.own_keys()?.into_iter().map(|k| k.user).collect())
    }

    pub(crate) fn unknown_user(&self, user: &str) -> Error {
        Error::UnknownUser {
            user: user.to_owned(),
            known: self.users().unwrap_or_default(),
        }
    }

    /// The entry of `user`, loaded from the store on first use.
    pub(crate) fn entry(&self, user: &str) -> Result<Arc<Entry>, Error> {
        if let Some(e) = self.entries.load().get(user) {
            return Ok(Arc::clone(e));
        }
        let key = self.key(user);
        match self.s.store.load(&key)? {
            Some(token) => Ok(self.insert_entry(key, Some(token))),
            None => Err(self.unknown_user(user)),
        }
    }

    /// The entry of `key`, created (holding `token`) if it does not exist yet.
    pub(crate) fn insert_entry(&self, key: CredentialKey, token: Option<TokenSet>) -> Arc<Entry> {
        let _writer = self
            .entries_writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let current = self.entries.load_full();
        if let Some(e) = current.get(&key.user) {
            return Arc::clone(e);
        }
        let entry = Arc::new(Entry::new(self, key, token));
        let mut next = HashMap::clone(&current);
        next.insert(entry.key.user.clone(), Arc::clone(&entry));
        self.entries.store(Arc::new(next));
        drop(_writer);
        self.wake_refreshers();
        entry
    }

    /// Forget `user`'s entry (after a revoke).
    pub(crate) fn remove_entry(&self, user: &str) {
        let _writer = self
            .entries_writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let current = self.entries.load_full();
        if let Some(entry) = current.get(user) {
            entry.forget();
            let mut next = HashMap::clone(&current);
            next.remove(user);
            self.entries.store(Arc::new(next));
        }
    }

    /// Tell background refreshers to look at the schedule again.
    pub(crate) fn wake_refreshers(&self) {
        let mut wakers = self.wakers.lock().unwrap_or_else(PoisonError::into_inner);
        wakers.retain(|w| match w.upgrade() {
            Some(shared) => {
                shared.wake();
                true
            }
            None => false,
        });
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.inner.s;
        f.debug_struct("Client")
            .field("client_id", &s.client_id)
            .field("data_center", &s.data_center)
            .field("environment", &s.environment)
            .field("accounts", &s.accounts.as_str())
            .field("users_cached", &self.inner.entries.load().len())
            .finish_non_exhaustive()
    }
}
