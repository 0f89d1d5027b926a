//! `TokenStore`: where credentials persist, with a per-credential refresh lock that works across
//! processes (file lock, `BEGIN IMMEDIATE`, row lock).

use std::fmt;

use zoho_oauth_core::TokenSet;

use crate::key::CredentialKey;

/// A store could not do what was asked. Nothing stored was changed unless the operation succeeded.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The backing file or database could not be reached or written.
    Io(std::io::Error),
    /// The store's contents are not ours or are damaged; it was left as it is.
    Corrupt(String),
    /// The store was written by a newer version of this library.
    FutureVersion(String),
    /// A database error.
    Database(String),
    /// Anything else the backend reports.
    Other(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "token store I/O failed: {e}; check the path and its permissions"),
            Self::Corrupt(e) => write!(f, "token store is damaged or not ours ({e}); it was left untouched: move it aside or restore a backup"),
            Self::FutureVersion(e) => write!(f, "token store was written by a newer zoho-oauth ({e}); upgrade this program"),
            Self::Database(e) => write!(f, "token store database error: {e}"),
            Self::Other(e) => write!(f, "token store error: {e}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// Persists [`TokenSet`]s by [`CredentialKey`].
///
/// Every method is safe to call from many threads and many processes at once. `lock` is the
/// refresh lock: while a [`LockedCredential`] is alive no other thread or process can hold the lock
/// for the same key (implementations may lock more than that key), so "lock, reload, refresh only if
/// still needed, save, unlock" gives one refresh per credential across a fleet.
pub trait TokenStore: Send + Sync {
    /// The stored token set of `key`, if any.
    fn load(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError>;
    /// Insert or replace the token set of `key`, atomically.
    fn save(&self, key: &CredentialKey, token: &TokenSet) -> Result<(), StoreError>;
    /// Delete `key`; `Ok(false)` when it was not stored.
    fn delete(&self, key: &CredentialKey) -> Result<bool, StoreError>;
    /// Every stored key.
    fn list(&self) -> Result<Vec<CredentialKey>, StoreError>;
    /// Delete everything.
    fn delete_all(&self) -> Result<(), StoreError>;
    /// Take the refresh lock of `key`, blocking until it is free.
    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError>;
}

/// The refresh lock of one credential, held until dropped. Loads and saves through it see and make
/// changes under the lock (same transaction for databases).
pub trait LockedCredential {
    /// The stored token set, read under the lock.
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError>;
    /// Save under the lock; durable when this returns (or when `release` returns, for transactional stores).
    fn save(&mut self, token: &TokenSet) -> Result<(), StoreError>;
    /// Commit and release. Dropping without calling this releases too (a transactional store rolls back unsaved work).
    fn release(self: Box<Self>) -> Result<(), StoreError>;
}

/// Encode `token` with the core's versioned encoding, for a store to persist; the buffer is
/// wiped when dropped. Every store in this project writes these bytes.
pub fn encode_token(
    key: &CredentialKey,
    token: &TokenSet,
) -> Result<zeroize::Zeroizing<Vec<u8>>, StoreError> {
    let mut buf = zeroize::Zeroizing::new(vec![0u8; TokenSet::MAX_ENCODED_LEN]);
    let len = token
        .encode(&mut buf)
        .map_err(|e| StoreError::Other(format!("the token of {key} does not encode: {e}")))?
        .len();
    buf.truncate(len);
    Ok(buf)
}

/// Decode bytes written by [`encode_token`]: a newer encoding is [`StoreError::FutureVersion`]
/// (upgrade), anything else that does not decode is [`StoreError::Corrupt`].
pub fn decode_token(key: &CredentialKey, bytes: &[u8]) -> Result<TokenSet, StoreError> {
    use zoho_oauth_core::token::DecodeError;
    TokenSet::decode(bytes).map_err(|e| match e {
        DecodeError::FutureVersion { found } => {
            StoreError::FutureVersion(format!("the token of {key} has encoding version {found}"))
        }
        other => StoreError::Corrupt(format!(
            "the token of {key} does not decode ({other:?}); delete it and authorize again"
        )),
    })
}

/// An in-process table of per-key locks: [`KeyLocks::lock`] blocks while another thread holds the
/// same key, and other keys are not blocked. The building block of [`TokenStore::lock`] for a
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
    held: std::sync::Mutex<std::collections::HashSet<CredentialKey>>,
    released: std::sync::Condvar,
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
        use std::sync::PoisonError;
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
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        held.remove(&self.key);
        drop(held);
        self.locks.released.notify_all();
    }
}
