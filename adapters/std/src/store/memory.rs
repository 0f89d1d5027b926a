//! `MemoryStore`: an in-process [`TokenStore`] (the default), with a per-key lock.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use zoho_oauth_core::TokenSet;

use super::{
    KeyGuard, KeyLocks, LockBusy, LockWait, LockedCredential, StoreError, TokenStore,
    DELETE_ALL_WAIT,
};
use crate::key::CredentialKey;

/// Keeps credentials in memory: nothing survives the process. The default store of a
/// [`Client`](crate::Client), and handy in tests. Its refresh lock is per key and in-process only;
/// [`delete_all`](TokenStore::delete_all) waits for every held lock, at most
/// [`DELETE_ALL_WAIT`]. It keeps decoded token sets, so it cannot hold a damaged entry.
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

    fn list(&self) -> Result<Vec<CredentialKey>, StoreError> {
        Ok(self.tokens().keys().cloned().collect())
    }

    fn delete_all(&self) -> Result<(), StoreError> {
        let wait = LockWait::AtMost(DELETE_ALL_WAIT);
        self.locks
            .with_none_held_within(wait, || self.tokens().clear())
            .ok_or_else(|| LockBusy::every_key(self.describe(), wait.limit()).into())
    }

    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
        wait: LockWait,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError> {
        let guard = self
            .locks
            .lock_within(key, wait)
            .ok_or_else(|| StoreError::from(LockBusy::new(self.describe(), key, wait.limit())))?;
        Ok(Box::new(MemoryLock { store: self, guard }))
    }

    fn describe(&self) -> String {
        "memory".to_owned()
    }
}

/// The lock of one key of a [`MemoryStore`]; released on drop.
struct MemoryLock<'s> {
    store: &'s MemoryStore,
    guard: KeyGuard<'s>,
}

impl LockedCredential for MemoryLock<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.store.load(self.guard.key())
    }

    fn save(&mut self, token: &TokenSet) -> Result<(), StoreError> {
        self.store
            .tokens()
            .insert(self.guard.key().clone(), token.clone());
        Ok(())
    }

    fn delete(&mut self) -> Result<bool, StoreError> {
        Ok(self.store.tokens().remove(self.guard.key()).is_some())
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

    const WAIT: LockWait = LockWait::AtMost(Duration::from_secs(5));

    fn key(user: &str) -> CredentialKey {
        CredentialKey::new(user, "1000.X", DataCenter::Us, Environment::Production)
    }

    fn save(store: &MemoryStore, k: &CredentialKey, t: &TokenSet) {
        let mut lock = store.lock(k, WAIT).unwrap();
        lock.save(t).unwrap();
        lock.release().unwrap();
    }

    #[test]
    fn saved_tokens_are_loaded_listed_and_deleted_by_key() {
        let store = MemoryStore::new();
        let t = TokenSet::new("1000.refresh.aaaa").unwrap();
        save(&store, &key("a"), &t);
        assert_eq!(store.load(&key("a")).unwrap(), Some(t));
        assert_eq!(store.load(&key("b")).unwrap(), None);
        assert_eq!(store.list().unwrap(), vec![key("a")]);
        assert!(store.lock(&key("a"), WAIT).unwrap().delete().unwrap());
        assert!(!store.lock(&key("a"), WAIT).unwrap().delete().unwrap());
        save(&store, &key("c"), &TokenSet::new("1000.r").unwrap());
        store.delete_all().unwrap();
        assert!(store.list().unwrap().is_empty());
    }

    #[test]
    fn a_held_lock_makes_a_bounded_wait_fail_with_busy() {
        let store = MemoryStore::new();
        let _held = store.lock(&key("a"), WAIT).unwrap();
        let err = store
            .lock(&key("a"), LockWait::AtMost(Duration::from_millis(20)))
            .err()
            .unwrap();
        assert!(
            matches!(err, StoreError::Busy(ref b) if b.store == "memory"),
            "{err}"
        );
        assert!(matches!(
            store.lock(&key("a"), LockWait::NoWait).err(),
            Some(StoreError::Busy(_))
        ));
    }

    #[test]
    fn the_lock_of_a_key_excludes_other_holders_until_released() {
        let store = std::sync::Arc::new(MemoryStore::new());
        let mut held = store.lock(&key("a"), WAIT).unwrap();
        held.save(&TokenSet::new("1000.one").unwrap()).unwrap();
        // Another key is not blocked.
        drop(store.lock(&key("b"), LockWait::NoWait).unwrap());

        let (tx, rx) = mpsc::channel();
        let other = std::sync::Arc::clone(&store);
        let waiter = std::thread::spawn(move || {
            let mut lock = other.lock(&key("a"), WAIT).unwrap();
            tx.send(lock.load().unwrap()).unwrap();
        });
        // The waiter is parked on the lock: it has sent nothing while we hold it.
        assert!(rx.try_recv().is_err());
        held.save(&TokenSet::new("1000.two").unwrap()).unwrap();
        held.release().unwrap();
        let seen = rx.recv().unwrap().unwrap();
        assert_eq!(seen.refresh_token.unwrap().expose(), "1000.two");
        waiter.join().unwrap();
    }
}
