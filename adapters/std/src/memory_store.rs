//! `MemoryStore`: an in-process [`TokenStore`] (the default), with a per-key refresh lock.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use zoho_oauth_core::TokenSet;

use crate::key::CredentialKey;
use crate::store::{KeyGuard, KeyLocks, LockedCredential, StoreError, TokenStore};

/// Keeps credentials in memory: nothing survives the process. The default store of a
/// [`Client`](crate::Client), and handy in tests. Its refresh lock is per key and in-process only.
#[derive(Default)]
pub struct MemoryStore {
    tokens: Mutex<BTreeMap<CredentialKey, TokenSet>>,
    locks: KeyLocks,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn tokens(&self) -> MutexGuard<'_, BTreeMap<CredentialKey, TokenSet>> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("keys", &self.tokens().keys().collect::<Vec<_>>())
            .finish()
    }
}

impl TokenStore for MemoryStore {
    fn load(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
        Ok(self.tokens().get(key).cloned())
    }

    fn save(&self, key: &CredentialKey, token: &TokenSet) -> Result<(), StoreError> {
        self.tokens().insert(key.clone(), token.clone());
        Ok(())
    }

    fn delete(&self, key: &CredentialKey) -> Result<bool, StoreError> {
        Ok(self.tokens().remove(key).is_some())
    }

    fn list(&self) -> Result<Vec<CredentialKey>, StoreError> {
        Ok(self.tokens().keys().cloned().collect())
    }

    fn delete_all(&self) -> Result<(), StoreError> {
        self.tokens().clear();
        Ok(())
    }

    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError> {
        Ok(Box::new(MemoryLock {
            store: self,
            guard: self.locks.lock(key),
        }))
    }
}

/// The refresh lock of one key of a [`MemoryStore`]; released on drop.
struct MemoryLock<'s> {
    store: &'s MemoryStore,
    guard: KeyGuard<'s>,
}

impl LockedCredential for MemoryLock<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.store.load(self.guard.key())
    }

    fn save(&mut self, token: &TokenSet) -> Result<(), StoreError> {
        self.store.save(self.guard.key(), token)
    }

    fn release(self: Box<Self>) -> Result<(), StoreError> {
        Ok(()) // Drop unlocks.
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use zoho_oauth_core::{DataCenter, Environment};

    use super::*;

    fn key(user: &str) -> CredentialKey {
        CredentialKey::new(user, "1000.X", DataCenter::Us, Environment::Production)
    }

    #[test]
    fn saved_tokens_are_loaded_listed_and_deleted_by_key() {
        let store = MemoryStore::new();
        let t = TokenSet::new("1000.refresh.aaaa").unwrap();
        store.save(&key("a"), &t).unwrap();
        assert_eq!(store.load(&key("a")).unwrap(), Some(t));
        assert_eq!(store.load(&key("b")).unwrap(), None);
        assert_eq!(store.list().unwrap(), vec![key("a")]);
        assert!(store.delete(&key("a")).unwrap());
        assert!(!store.delete(&key("a")).unwrap());
        store.save(&key("c"), &TokenSet::new("r").unwrap()).unwrap();
        store.delete_all().unwrap();
        assert!(store.list().unwrap().is_empty());
    }

    #[test]
    fn the_lock_of_a_key_excludes_other_holders_until_released() {
        let store = std::sync::Arc::new(MemoryStore::new());
        let mut held = store.lock(&key("a")).unwrap();
        held.save(&TokenSet::new("1000.one").unwrap()).unwrap();
        // Another key is not blocked.
        drop(store.lock(&key("b")).unwrap());

        let (tx, rx) = mpsc::channel();
        let other = std::sync::Arc::clone(&store);
        let waiter = std::thread::spawn(move || {
            let mut lock = other.lock(&key("a")).unwrap();
            let seen = lock.load().unwrap();
            tx.send(seen).unwrap();
        });
        assert!(
            rx.recv_timeout(Duration::from_millis(200)).is_err(),
            "the second locker waits"
        );
        held.save(&TokenSet::new("1000.two").unwrap()).unwrap();
        held.release().unwrap();
        let seen = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(seen, Some(TokenSet::new("1000.two").unwrap()));
        waiter.join().unwrap();
    }
}
