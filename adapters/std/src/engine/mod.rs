//! The engine both faces drive: the per-credential cache and single flight (`cache.rs`,
//! `flight.rs`), the locked credential cycle (`cycle.rs`), the background schedule
//! (`schedule.rs`), and the one render-and-send helper (`outbound.rs`).
//!
//! An [`Engine`] holds a client's settings and its credentials' entries. Its operations are
//! `async fn`s generic over [`Io`], the effects of a face: the blocking [`Client`](crate::Client)
//! runs them to completion on the calling thread (its effects are ready at once), and
//! `zoho-oauth-tokio` awaits them on its runtime. The orchestration — when to take which lock,
//! what to send, what to save or delete, when to retry — is therefore written once.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use zeroize::Zeroizing;
use zoho_oauth_core::region::DataCenter;
use zoho_oauth_core::{Config, Credentials, Environment, Machine, Origin, TokenSet};

pub(crate) mod cache;
pub(crate) mod cycle;
pub(crate) mod flight;
mod io;
pub(crate) mod outbound;
mod schedule;
pub(crate) mod telemetry;

pub use schedule::Due;

pub use cache::AccessToken;
pub use io::{Io, Locked};

use crate::clock::Clock;
use crate::error::{ConfigError, Error, InputError};
use crate::key::CredentialKey;
use crate::store::TokenStore;
use cache::Entry;

/// The validated settings a client runs with (from [`ClientBuilder`](crate::ClientBuilder)).
pub(crate) struct Settings {
    pub(crate) client_id: String,
    /// The client secret of the home data centre, and of others where the API console issued one.
    pub(crate) secrets: HashMap<DataCenter, Zeroizing<String>>,
    pub(crate) data_center: DataCenter,
    pub(crate) environment: Environment,
    /// Where accounts calls go for each allowed data centre: Zoho's, or configured origins.
    pub(crate) accounts: HashMap<DataCenter, Origin>,
    pub(crate) redirect_uri: Option<String>,
    pub(crate) store: Arc<dyn TokenStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: Config,
    pub(crate) max_wait_in_call: Duration,
    pub(crate) max_attempts: u32,
    /// The longest a call waits for another holder of a credential's store lock.
    pub(crate) lock_wait: Duration,
    /// The longest one call takes in all: lock waits, requests, retries and their backoff.
    pub(crate) call_timeout: Duration,
    /// How the store names itself (in metrics and messages).
    pub(crate) store_name: String,
    /// How many due credentials a background runner refreshes side by side.
    pub(crate) background_parallelism: usize,
    /// How device logins pace their polls (the 30 s floor by default).
    pub(crate) device: zoho_oauth_core::device::DeviceConfig,
    pub(crate) telemetry: telemetry::Telemetry,
}

impl Settings {
    /// The accounts origin of the home data centre.
    pub(crate) fn home_accounts(&self) -> &Origin {
        self.accounts
            .get(&self.data_center)
            .expect("the builder always sets the home data centre's origin")
    }

    /// The accounts origin of `dc`, if the client is set up for it.
    pub(crate) fn accounts_for(&self, dc: DataCenter) -> Result<&Origin, Error> {
        self.accounts
            .get(&dc)
            .ok_or(Error::DataCenterNotAllowed { found: dc })
    }

    /// The core's credentials for token calls of `dc`.
    pub(crate) fn credentials_for(&self, dc: DataCenter) -> Result<Credentials, Error> {
        let origin = self.accounts_for(dc)?.clone();
        let secret = self
            .secrets
            .get(&dc)
            .or_else(|| self.secrets.get(&self.data_center))
            .ok_or(Error::Config(ConfigError::EmptyClientSecret))?;
        let mut c = Credentials::new(&self.client_id, secret, origin)
            .map_err(|e| Error::Config(ConfigError::TooLong(e)))?;
        if let Some(uri) = &self.redirect_uri {
            c = c
                .with_redirect_uri(uri)
                .map_err(|e| Error::Config(ConfigError::TooLong(e)))?;
        }
        Ok(c)
    }

    /// The data centre an accounts origin from a redirect or a device flow stands for.
    pub(crate) fn data_center_of(&self, origin: &Origin) -> Result<DataCenter, Error> {
        match origin {
            Origin::Zoho(dc) if self.accounts.contains_key(dc) => Ok(*dc),
            Origin::Zoho(dc) => Err(Error::DataCenterNotAllowed { found: *dc }),
            custom => self
                .accounts
                .iter()
                .find(|(_, o)| *o == custom)
                .map(|(dc, _)| *dc)
                .ok_or(Error::Redirect(
                    zoho_oauth_core::authorize::RedirectError::UntrustedAccountsServer,
                )),
        }
    }
}

/// The shared state of one client registration: settings and the entries of its credentials.
/// Cheap to share behind an `Arc`; every face holds one.
pub struct Engine {
    pub(crate) s: Settings,
    /// One entry per user, replaced as a whole (copy-on-write) when a user is added or removed,
    /// so that readers never lock.
    entries: ArcSwap<HashMap<String, Arc<Entry>>>,
    /// Serialises writers of `entries`.
    entries_writer: Mutex<()>,
    /// Background refreshers to wake when the schedule changes.
    wakers: Mutex<Vec<Weak<dyn Wake>>>,
}

/// Something to tell when the refresh schedule changes (a background refresher).
pub trait Wake: Send + Sync {
    /// Look at the schedule again.
    fn wake(&self);
}

impl Engine {
    pub(crate) fn new(s: Settings) -> Self {
        tracing::debug!(
            client_id = s.client_id.as_str(),
            dc = %s.data_center,
            env = %s.environment,
            accounts = s.home_accounts().as_str(),
            "client built"
        );
        Self {
            s,
            entries: ArcSwap::from_pointee(HashMap::new()),
            entries_writer: Mutex::new(()),
            wakers: Mutex::new(Vec::new()),
        }
    }

    /// The clock the engine reads.
    pub fn clock(&self) -> &dyn Clock {
        &*self.s.clock
    }

    /// The store the engine keeps credentials in.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.s.store
    }

    /// The key `user`'s credential is stored under in the home data centre.
    pub fn key(&self, user: &str) -> CredentialKey {
        self.key_in(user, self.s.data_center)
    }

    pub(crate) fn key_in(&self, user: &str, dc: DataCenter) -> CredentialKey {
        CredentialKey::new(user, self.s.client_id.as_str(), dc, self.s.environment)
    }

    /// The users with a stored credential for this client and environment, sorted.
    pub async fn users<I: Io>(&self, io: &I) -> Result<Vec<String>, Error> {
        Ok(self
            .own_keys(io)
            .await?
            .into_iter()
            .map(|k| k.user)
            .collect())
    }

    /// Stored keys of this client and environment in the data centres it is set up for.
    pub(crate) async fn own_keys<I: Io>(&self, io: &I) -> Result<Vec<CredentialKey>, Error> {
        let mut keys: Vec<CredentialKey> = io
            .list()
            .await?
            .into_iter()
            .filter(|k| {
                k.client_id == self.s.client_id
                    && k.environment == self.s.environment
                    && self.s.accounts.contains_key(&k.data_center)
            })
            .collect();
        keys.sort();
        Ok(keys)
    }

    /// The entry of `user`, loaded from the store on first use.
    pub(crate) async fn entry<I: Io>(&self, io: &I, user: &str) -> Result<Arc<Entry>, Error> {
        if let Some(e) = self.known_entry(user) {
            return Ok(e);
        }
        Engine::check_user(user)?;
        let key = self.resolve_key(io, user).await?;
        match io.load(&key).await? {
            Some(token) => {
                let entry = self.insert_entry(key, Some(token.clone()))?;
                // Publish a stored access token the core trusts (a foreign one is refused here
                // and on every flight).
                if let Ok(Some(c)) = cycle::trusted(self, &entry.key, &token) {
                    entry.publish(c);
                }
                Ok(entry)
            }
            None => Err(self.unknown_user(io, user).await),
        }
    }

    /// The key `user`'s credential is stored under: in the home data centre, or — for a client
    /// allowed several (Zoho's multi-DC) — in the one data centre where it is stored. The home
    /// key when nothing is stored (what a new credential would be keyed by).
    pub(crate) async fn resolve_key<I: Io>(
        &self,
        io: &I,
        user: &str,
    ) -> Result<crate::key::CredentialKey, Error> {
        if let Some(e) = self.known_entry(user) {
            return Ok(e.key.clone());
        }
        let home = self.key(user);
        if self.s.accounts.len() == 1 || io.load(&home).await.map_or(true, |t| t.is_some()) {
            return Ok(home);
        }
        let elsewhere = self
            .own_keys(io)
            .await?
            .into_iter()
            .find(|k| k.user == user);
        Ok(elsewhere.unwrap_or(home))
    }

    /// "No credential for `user`", listing the users that have one.
    pub(crate) async fn unknown_user<I: Io>(&self, io: &I, user: &str) -> Error {
        Error::UnknownUser {
            user: user.to_owned(),
            known: self.users(io).await.unwrap_or_default(),
        }
    }

    /// Refuse a user name that cannot key a credential.
    pub(crate) fn check_user(user: &str) -> Result<(), Error> {
        if user.is_empty() {
            return Err(InputError::EmptyUser.into());
        }
        if user.chars().any(char::is_control) {
            return Err(InputError::UserName.into());
        }
        Ok(())
    }

    /// The hot path: a fresh (or, while refreshing is pointless, still valid) cached token.
    /// No lock, no allocation.
    pub fn cached(&self, user: &str) -> Option<AccessToken> {
        let now = self.s.clock.now();
        let entries = self.entries.load();
        entries.get(user)?.servable(now)
    }

    /// The entry of `user` if this process knows it already.
    pub(crate) fn known_entry(&self, user: &str) -> Option<Arc<Entry>> {
        self.entries.load().get(user).cloned()
    }

    /// Every entry this process knows.
    pub(crate) fn all_entries(&self) -> Vec<Arc<Entry>> {
        self.entries.load().values().cloned().collect()
    }

    /// A machine for a credential of `dc`.
    pub(crate) fn machine(&self, dc: DataCenter) -> Result<Machine, Error> {
        Ok(Machine::new(self.s.credentials_for(dc)?, self.s.config))
    }

    /// The entry of `key`, created (holding `token`, if any, in its machine) if it does not
    /// exist yet. An existing entry is revived (a new credential under a revoked user's key).
    pub(crate) fn insert_entry(
        &self,
        key: CredentialKey,
        token: Option<TokenSet>,
    ) -> Result<Arc<Entry>, Error> {
        let writer = self
            .entries_writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let current = self.entries.load_full();
        if let Some(e) = current.get(&key.user).filter(|e| e.key == key) {
            return Ok(Arc::clone(e));
        }
        let mut machine = self.machine(key.data_center)?;
        if let Some(t) = token {
            machine.restore(t);
        }
        let entry = Arc::new(Entry::new(key, machine));
        let mut next = HashMap::clone(&current);
        next.insert(entry.key.user.clone(), Arc::clone(&entry));
        self.entries.store(Arc::new(next));
        drop(writer);
        self.wake_refreshers();
        Ok(entry)
    }

    /// Forget `user`'s entry (after a revoke or delete): waiters see it gone.
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

    /// Register a background refresher to wake when the schedule changes.
    pub fn add_waker(&self, waker: Weak<dyn Wake>) {
        self.wakers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(waker);
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

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.s;
        f.debug_struct("Engine")
            .field("client_id", &s.client_id)
            .field("data_center", &s.data_center)
            .field("environment", &s.environment)
            .field("accounts", &s.home_accounts().as_str())
            .field("store", &s.store.describe())
            .field("users_cached", &self.entries.load().len())
            .finish_non_exhaustive()
    }
}
