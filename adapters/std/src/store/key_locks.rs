//! `KeyLocks`: an in-process table of per-key locks with bounded waits.

use std::collections::HashSet;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant as Monotonic;

use super::LockWait;
use crate::key::CredentialKey;

/// An in-process table of per-key locks: [`KeyLocks::lock`] blocks while another thread holds the
/// same key, and other keys are not blocked. The building block of [`TokenStore::lock`](super::TokenStore::lock) for a
/// store whose backend has no lock of its own (a map, a cache); a store shared between processes
/// needs a lock they all see instead (a row lock, `SET NX` with an expiry, a file lock).
///
/// ```
/// use zoho_oauth::store::KeyLocks;
/// use zoho_oauth::CredentialKey;
/// use zoho_oauth::core::{DataCenter, Environment};
///
/// let locks = KeyLocks::default();
/// let ana = CredentialKey::new("ana@example.com", "1000.X", DataCenter::Us, Environment::Production);
/// let bo = CredentialKey::new("bo@example.com", "1000.X", DataCenter::Us, Environment::Production);
/// let held = locks.lock(&ana);
/// let other = locks.lock(&bo); // another key: does not wait
/// drop((held, other));         // dropping a guard releases its key
/// ```
#[derive(Debug, Default)]
pub struct KeyLocks {
    held: Mutex<HashSet<CredentialKey>>,
    released: Condvar,
}

/// The lock of one key of a [`KeyLocks`], released when dropped.
#[derive(Debug)]
#[must_use = "the key is unlocked as soon as the guard is dropped"]
pub struct KeyGuard<'a> {
    locks: &'a KeyLocks,
    key: CredentialKey,
}

impl KeyLocks {
    /// Wait until no other guard holds `key`, then hold it until the guard is dropped.
    pub fn lock(&self, key: &CredentialKey) -> KeyGuard<'_> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        while held.contains(key) {
            held = self
                .released
                .wait(held)
                .unwrap_or_else(PoisonError::into_inner);
        }
        held.insert(key.clone());
        KeyGuard {
            locks: self,
            key: key.clone(),
        }
    }

    /// Like [`lock`](KeyLocks::lock), waiting at most as `wait` says: `None` when another guard
    /// still holds `key` after that.
    pub fn lock_within(&self, key: &CredentialKey, wait: LockWait) -> Option<KeyGuard<'_>> {
        let mut held = self.wait_while(wait, |held| held.contains(key))?;
        held.insert(key.clone());
        Some(KeyGuard {
            locks: self,
            key: key.clone(),
        })
    }

    /// Wait until no guard is held at all, and hold every future `lock` off while `f` runs (for
    /// a `delete_all` that must not run under anyone's lock).
    pub fn with_none_held<T>(&self, f: impl FnOnce() -> T) -> T {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        while !held.is_empty() {
            held = self
                .released
                .wait(held)
                .unwrap_or_else(PoisonError::into_inner);
        }
        f()
    }

    /// Like [`with_none_held`](KeyLocks::with_none_held), waiting at most as `wait` says for the
    /// guards held to go: `None` (and `f` not run) when some are still held after that.
    pub fn with_none_held_within<T>(&self, wait: LockWait, f: impl FnOnce() -> T) -> Option<T> {
        let _held = self.wait_while(wait, |held| !held.is_empty())?;
        Some(f())
    }

    /// The table, once `busy` says no more, waiting for releases at most as `wait` says.
    fn wait_while(
        &self,
        wait: LockWait,
        busy: impl Fn(&HashSet<CredentialKey>) -> bool,
    ) -> Option<MutexGuard<'_, HashSet<CredentialKey>>> {
        wait_while(
            &self.held,
            &self.released,
            Monotonic::now() + wait.limit(),
            busy,
        )
    }
}

/// Lock `mutex`, then wait on `changed` while `busy` says so, until `deadline`: `None` when it
/// is still busy then. (A poisoned mutex is taken as it is: the callers guard plain flags and
/// sets, which a panic cannot leave half-changed.)
pub(crate) fn wait_while<'m, T>(
    mutex: &'m Mutex<T>,
    changed: &Condvar,
    deadline: Monotonic,
    busy: impl Fn(&T) -> bool,
) -> Option<MutexGuard<'m, T>> {
    let mut guard = mutex.lock().unwrap_or_else(PoisonError::into_inner);
    while busy(&guard) {
        let left = deadline.saturating_duration_since(Monotonic::now());
        if left.is_zero() {
            return None;
        }
        guard = changed
            .wait_timeout(guard, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    Some(guard)
}

impl KeyGuard<'_> {
    /// The key this guard holds.
    pub fn key(&self) -> &CredentialKey {
        &self.key
    }
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        let mut held = self
            .locks
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        held.remove(&self.key);
        drop(held);
        self.locks.released.notify_all();
    }
}
