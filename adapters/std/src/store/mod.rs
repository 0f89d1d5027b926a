//! Where credentials persist: the [`TokenStore`] trait, its per-credential lock, and the stores
//! this crate ships ([`MemoryStore`], [`FileStore`]).
//!
//! A store offers reads without a lock ([`TokenStore::load`], [`TokenStore::list`]) and every
//! change through the lock of one credential ([`TokenStore::lock`] → [`LockedCredential`]):
//! load, save, delete, release. There is no unlocked save or delete, so nothing can write a
//! credential past a holder of its lock — the property that makes "exactly one refresh per
//! credential" and "a revoked credential never comes back" hold across processes and machines.
//! Lock waits are bounded ([`LockWait`]): a frozen holder gives [`StoreError::Busy`] naming the
//! store (and the holder, where the store can tell), never a wait forever.

use std::fmt;
use std::time::Duration;

use zoho_oauth_core::TokenSet;

use crate::key::CredentialKey;

mod codec;
#[cfg(feature = "conformance")]
pub mod conformance;
mod file;
mod key_locks;
mod memory;

pub use codec::{decode_token, encode_token};
/// The store file format for the fuzz targets (`zoho_oauth::fuzz::file_store`): not part of the API.
#[doc(hidden)]
pub use file::fuzz as file_fuzz;
pub use file::FileStore;
pub use key_locks::{KeyGuard, KeyLocks};
pub use memory::MemoryStore;

/// This machine's name, for naming the holder of a lock in [`StoreError::Busy`]: the kernel's
/// (Linux), `/etc/hostname`, then `HOSTNAME` / `COMPUTERNAME` (Windows sets the latter). Visible
/// ASCII without `=` (holder records are `name=value` words), at most 64 characters;
/// `an-unknown-host` when none is found.
pub fn host_name() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let found = ["/proc/sys/kernel/hostname", "/etc/hostname"]
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .or_else(|| std::env::var("COMPUTERNAME").ok())
            .unwrap_or_default();
        let name: String = found
            .trim()
            .chars()
            .filter(|c| c.is_ascii_graphic() && *c != '=')
            .take(64)
            .collect();
        if name.is_empty() {
            "an-unknown-host".to_owned()
        } else {
            name
        }
    })
}

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
    /// The lock of a credential stayed held by someone else longer than the caller would wait.
    Busy(Box<LockBusy>),
    /// The store cannot be written (read-only file, read-only database user, …): nothing was
    /// asked of Zoho, since a new token could not have been kept.
    ReadOnly(String),
    /// A lease-based lock (Redis) expired before the save: another holder may have written since,
    /// so this save was refused rather than overwrite a newer credential.
    LeaseLost(String),
    /// Anything else the backend reports.
    Other(String),
}

/// Who held a lock too long, for [`StoreError::Busy`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockBusy {
    /// The store, as its user named it (`sqlite:/path`, `postgres://host/db`, …; no password).
    pub store: String,
    /// The credential whose lock was wanted.
    pub key: String,
    /// How long the caller waited.
    pub waited: Duration,
    /// The holder, where the store can tell (a process id and host, a database session id).
    pub holder: Option<String>,
}

impl LockBusy {
    /// A busy lock of `key` in `store`, after waiting `waited`.
    pub fn new(store: impl Into<String>, key: &CredentialKey, waited: Duration) -> Self {
        Self {
            store: store.into(),
            key: key.to_string(),
            waited,
            holder: None,
        }
    }

    /// A `delete_all` of `store` that found locks still held after `waited`.
    pub fn every_key(store: impl Into<String>, waited: Duration) -> Self {
        Self {
            store: store.into(),
            key: "every credential".to_owned(),
            waited,
            holder: None,
        }
    }

    /// Name the holder.
    pub fn held_by(mut self, holder: impl Into<String>) -> Self {
        self.holder = Some(holder.into());
        self
    }
}

impl From<LockBusy> for StoreError {
    fn from(b: LockBusy) -> Self {
        Self::Busy(Box::new(b))
    }
}

impl StoreError {
    /// What happened, in one line, without the advice ([`StoreError::todo`]).
    pub fn what(&self) -> String {
        match self {
            Self::Io(e) => format!("token store I/O failed: {e}"),
            Self::Corrupt(e) => {
                format!("token store is damaged or not ours ({e}); it was left untouched")
            }
            Self::FutureVersion(e) => {
                format!("token store was written by a newer zoho-oauth ({e})")
            }
            Self::Database(e) => format!("token store database error: {e}"),
            Self::Busy(b) => {
                let mut s = format!(
                    "the lock of {} in {} stayed held for {} ms",
                    b.key,
                    b.store,
                    b.waited.as_millis()
                );
                if let Some(h) = &b.holder {
                    s.push_str(&format!(" (held by {h})"));
                }
                s
            }
            Self::ReadOnly(e) => {
                format!("token store cannot be written ({e}); nothing was asked of Zoho")
            }
            Self::LeaseLost(e) => format!(
                "the lock lease expired before the save ({e}); the credential was not overwritten"
            ),
            Self::Other(e) => format!("token store error: {e}"),
        }
    }

    /// What to do about it, in one line.
    pub fn todo(&self) -> &'static str {
        match self {
            Self::Io(_) => "check the store's path and its permissions",
            Self::Corrupt(_) => {
                "move the store aside or restore a backup; a damaged entry alone can be deleted"
            }
            Self::FutureVersion(_) => "upgrade this program",
            Self::Database(_) => "check the database server and retry",
            Self::Busy(_) => {
                "another process is using this credential: retry, or stop a stuck holder"
            }
            Self::ReadOnly(_) => "make the store writable",
            Self::LeaseLost(_) => "retry",
            Self::Other(_) => "check the store",
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; {}", self.what(), self.todo())
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

impl StoreError {
    /// A copy, for the callers that waited on the same operation (an `io::Error` keeps its kind
    /// and message).
    pub fn duplicate(&self) -> Self {
        match self {
            Self::Io(io) => Self::Io(std::io::Error::new(io.kind(), io.to_string())),
            Self::Corrupt(s) => Self::Corrupt(s.clone()),
            Self::FutureVersion(s) => Self::FutureVersion(s.clone()),
            Self::Database(s) => Self::Database(s.clone()),
            Self::Busy(b) => Self::Busy(b.clone()),
            Self::ReadOnly(s) => Self::ReadOnly(s.clone()),
            Self::LeaseLost(s) => Self::LeaseLost(s.clone()),
            Self::Other(s) => Self::Other(s.clone()),
        }
    }
}

/// How long the `delete_all` of this crate's stores waits for the locks held at the time
/// ([`StoreError::Busy`] after that).
pub const DELETE_ALL_WAIT: Duration = Duration::from_secs(60);

/// How long [`TokenStore::lock`] waits while another holder has the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockWait {
    /// Do not wait: [`StoreError::Busy`] at once when the lock is held (a caller that can serve
    /// a still-valid token meanwhile).
    NoWait,
    /// Wait at most this long, then [`StoreError::Busy`].
    AtMost(Duration),
}

impl LockWait {
    /// The longest wait (zero for [`LockWait::NoWait`]).
    pub fn limit(self) -> Duration {
        match self {
            Self::NoWait => Duration::ZERO,
            Self::AtMost(d) => d,
        }
    }
}

/// Persists [`TokenSet`]s by [`CredentialKey`].
///
/// Every method is safe to call from many threads and many processes at once. Reads need no
/// lock; every change goes through [`lock`](TokenStore::lock): while a [`LockedCredential`] is
/// alive no other thread or process can hold the lock of the same key (implementations may lock
/// more than that key), so "lock, reload, decide, talk to Zoho, save or delete, release" is one
/// atomic cycle across a fleet. `zoho_oauth::store::conformance` (feature `conformance`) is the
/// suite every implementation must pass.
pub trait TokenStore: Send + Sync {
    /// The stored token set of `key`, if any, read without the lock. An entry that does not
    /// decode is [`StoreError::Corrupt`] naming the key; other keys stay readable.
    fn load(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError>;
    /// Every stored key, damaged entries included (so that they can be listed and deleted).
    fn list(&self) -> Result<Vec<CredentialKey>, StoreError>;
    /// Delete everything, damaged entries included. Waits for (and excludes) every held lock,
    /// like a locked delete of each key, for a bounded time the store documents
    /// ([`StoreError::Busy`] after it).
    fn delete_all(&self) -> Result<(), StoreError>;
    /// Take the lock of `key`, waiting at most as `wait` says ([`StoreError::Busy`] after that).
    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
        wait: LockWait,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError>;
    /// How the store names itself in messages (`sqlite:/var/lib/app/tokens.sqlite3`, …), without
    /// any password.
    fn describe(&self) -> String;

    /// Whether the locks of two credentials can be held at once (default `true`). A store whose
    /// lock covers the whole store (a file, a SQLite database) says `false`, and background
    /// refreshers then refresh one credential at a time: more would only wait for each other.
    fn locks_per_key(&self) -> bool {
        true
    }
}

/// The lock of one credential, held until released or dropped. Loads, saves and deletes through
/// it see and make changes under the lock (in the same transaction, for databases).
pub trait LockedCredential {
    /// The stored token set, read under the lock (an entry that does not decode is
    /// [`StoreError::Corrupt`]).
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError>;
    /// Save under the lock; durable when [`release`](LockedCredential::release) returns.
    fn save(&mut self, token: &TokenSet) -> Result<(), StoreError>;
    /// Delete under the lock, damaged or not; `Ok(false)` when nothing was stored. A holder that
    /// loaded before this delete (in another process) cannot write the credential back: it
    /// waits for this lock and then loads nothing.
    fn delete(&mut self) -> Result<bool, StoreError>;
    /// Whether a save can succeed, checked before anything is asked of Zoho: `Err`
    /// ([`StoreError::ReadOnly`]) when the store can tell in advance that it cannot be written.
    /// The default answers `Ok`.
    fn check_writable(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Commit and release. Dropping without calling this releases too (a transactional store
    /// rolls back unsaved work).
    fn release(self: Box<Self>) -> Result<(), StoreError>;
}
