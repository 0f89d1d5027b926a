//! The `custom_store` example: keep credentials in your own storage by implementing
//! `TokenStore` — here a `HashMap` of encoded bytes behind a `Mutex`, with a per-key refresh lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use zoho_oauth::core::TokenSet;
use zoho_oauth::store::{decode_token, encode_token, KeyGuard, KeyLocks};
use zoho_oauth::{CredentialKey, LockedCredential, StoreError, TokenStore};
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
    let token = client.refresh(&user, true)?;

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
    /// The in-process refresh lock of each key.
    locks: KeyLocks,
}

impl MapStore {
    fn entries(&self) -> MutexGuard<'_, HashMap<CredentialKey, Vec<u8>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl TokenStore for MapStore {
    fn load(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
        let entries = self.entries();
        let Some(bytes) = entries.get(key) else {
            return Ok(None);
        };
        // The encoding is versioned: a newer library's bytes are refused, not misread.
        decode_token(key, bytes).map(Some)
    }

    fn save(&self, key: &CredentialKey, token: &TokenSet) -> Result<(), StoreError> {
        let bytes = encode_token(key, token)?;
        self.entries().insert(key.clone(), bytes.to_vec());
        Ok(())
    }

    fn delete(&self, key: &CredentialKey) -> Result<bool, StoreError> {
        Ok(self.entries().remove(key).is_some())
    }

    fn list(&self) -> Result<Vec<CredentialKey>, StoreError> {
        Ok(self.entries().keys().cloned().collect())
    }

    fn delete_all(&self) -> Result<(), StoreError> {
        self.entries().clear();
        Ok(())
    }

    /// Blocks while another thread holds `key`'s lock; other keys are not blocked. A store shared
    /// between processes needs a lock they all see (`SET NX` with an expiry, a row lock…).
    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError> {
        Ok(Box::new(MapLock {
            store: self,
            guard: self.locks.lock(key),
        }))
    }
}

/// The refresh lock of one key of a [`MapStore`], released when dropped.
struct MapLock<'s> {
    store: &'s MapStore,
    guard: KeyGuard<'s>,
}

impl LockedCredential for MapLock<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.store.load(self.guard.key())
    }

    fn save(&mut self, token: &TokenSet) -> Result<(), StoreError> {
        self.store.save(self.guard.key(), token)
    }

    fn release(self: Box<Self>) -> Result<(), StoreError> {
        Ok(()) // dropping `self` (its guard) unlocks
    }
}
