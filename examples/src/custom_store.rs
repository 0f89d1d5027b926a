//! The `custom_store` example: keep credentials in your own storage by implementing
//! `TokenStore` — here a `HashMap` of encoded bytes behind a `Mutex`, with a per-key lock with
//! bounded waits. Reads need no lock; every change (save, delete) goes through the lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use zoho_oauth::core::TokenSet;
use zoho_oauth::store::{decode_token, encode_token, KeyGuard, KeyLocks, DELETE_ALL_WAIT};
use zoho_oauth::{CredentialKey, LockBusy, LockWait, LockedCredential, StoreError, TokenStore};
use zoho_oauth_ureq::UreqTransport;

use crate::{Backend, Outcome};

/// Runs the example against [`Backend::from_env`].
pub fn run() -> Outcome {
    run_on(&Backend::from_env()?)
}

/// Runs the example against `backend`.
pub fn run_on(backend: &Backend) -> Outcome {
    let store = Arc::new(MapStore::default());
    let client = backend
        .builder(UreqTransport::new())
        .store_arc(store.clone())
        .build()?;
    let user = backend.user();
    backend.sign_in(&client, &user)?;
    // A forced refresh goes through the store's lock: lock, load, refresh, save, release.
    let token = client.refresh(&user, true)?.token;

    // Another client on the same store (another part of the application, or another process
    // with a shared backend) finds the credential without signing in.
    let other = backend
        .builder(UreqTransport::new())
        .store_arc(store.clone())
        .build()?;
    let shared = other.access_token(&user)? == token;
    Ok(format!(
        "{} credential(s) in the map; a second client on the same store reused the token: {shared}",
        store.list()?.len()
    ))
}

/// Your storage: here a map from key to the token set's bytes, as you would keep them in Redis, a
/// key-value service or a table of your own. The bytes hold the refresh token: keep them
/// encrypted or access-controlled in a real store.
#[derive(Default)]
pub struct MapStore {
    entries: Mutex<HashMap<CredentialKey, Vec<u8>>>,
    /// The in-process lock of each key.
    locks: KeyLocks,
}

impl MapStore {
    fn entries(&self) -> MutexGuard<'_, HashMap<CredentialKey, Vec<u8>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Put raw bytes under `key`, as another program sharing the storage might (the tests plant
    /// an entry that does not decode this way, to check that it harms only itself).
    pub fn put_raw(&self, key: &CredentialKey, bytes: &[u8]) {
        self.entries().insert(key.clone(), bytes.to_vec());
    }
}

impl TokenStore for MapStore {
    fn load(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
        let entries = self.entries();
        // The encoding is versioned: a newer library's bytes are refused, not misread; a
        // damaged entry is Corrupt naming its key, and the other keys stay readable.
        entries
            .get(key)
            .map(|bytes| decode_token(key, bytes))
            .transpose()
    }

    fn list(&self) -> Result<Vec<CredentialKey>, StoreError> {
        // Keys only: a damaged entry is listed too, so that it can be deleted.
        Ok(self.entries().keys().cloned().collect())
    }

    fn delete_all(&self) -> Result<(), StoreError> {
        // Like a locked delete of every key: wait (bounded) until no lock is held.
        let wait = LockWait::AtMost(DELETE_ALL_WAIT);
        self.locks
            .with_none_held_within(wait, || self.entries().clear())
            .ok_or_else(|| LockBusy::every_key(self.describe(), wait.limit()).into())
    }

    /// Waits while another thread holds `key`'s lock, at most as `wait` says; other keys are
    /// not blocked. A store shared between processes needs a lock they all see (`SET NX` with
    /// an expiry, a row lock…).
    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
        wait: LockWait,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError> {
        let guard = self
            .locks
            .lock_within(key, wait)
            .ok_or_else(|| StoreError::from(LockBusy::new(self.describe(), key, wait.limit())))?;
        Ok(Box::new(MapLock { store: self, guard }))
    }

    fn describe(&self) -> String {
        "map (the custom_store example)".to_owned()
    }
}

/// The lock of one key of a [`MapStore`], released when dropped. Every change goes through it.
struct MapLock<'s> {
    store: &'s MapStore,
    guard: KeyGuard<'s>,
}

impl LockedCredential for MapLock<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.store.load(self.guard.key())
    }

    fn save(&mut self, token: &TokenSet) -> Result<(), StoreError> {
        let bytes = encode_token(self.guard.key(), token)?;
        self.store.put_raw(self.guard.key(), &bytes);
        Ok(())
    }

    fn delete(&mut self) -> Result<bool, StoreError> {
        Ok(self.store.entries().remove(self.guard.key()).is_some())
    }

    fn release(self: Box<Self>) -> Result<(), StoreError> {
        Ok(()) // dropping `self` (its guard) unlocks
    }
}
