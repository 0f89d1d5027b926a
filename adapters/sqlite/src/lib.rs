//! A SQLite [`TokenStore`](zoho_oauth::TokenStore) for `zoho-oauth`: the embedded default.
//!
//! [`SqliteStore`] keeps every credential (user × client × data centre × environment) in one
//! database file, safe to share between threads and processes:
//!
//! - SQLite is bundled (no system library), the journal is WAL (readers never wait for the
//!   writer), writes are synchronous (`synchronous = FULL`: durable when they return) and deleted
//!   content is overwritten (`secure_delete`);
//! - the refresh lock of [`TokenStore::lock`](zoho_oauth::TokenStore::lock) is a `BEGIN IMMEDIATE`
//!   transaction on a dedicated connection: it excludes every other writer of the file, in this
//!   process and in others, until it is released (commit) or dropped (rollback). A process that
//!   dies holding it releases it with its file locks. It covers the whole file, so a delete under
//!   it and [`delete_all`](zoho_oauth::TokenStore::delete_all) (which takes it too) exclude every
//!   other holder. Waits are bounded: SQLite's busy timeout is set to the caller's
//!   [`LockWait`](zoho_oauth::LockWait) (zero for `NoWait`), 60 s for `delete_all`, 30 s for
//!   reads, then [`StoreError::Busy`](zoho_oauth::StoreError::Busy) or a database error. SQLite
//!   does not say which process holds its lock, so `Busy` names no holder;
//! - the schema is versioned (`PRAGMA user_version`, `PRAGMA application_id` marks the file as
//!   ours) and migrated on open; a newer schema is refused with
//!   [`StoreError::FutureVersion`](zoho_oauth::StoreError::FutureVersion), a foreign or damaged
//!   file with [`StoreError::Corrupt`](zoho_oauth::StoreError::Corrupt), and neither is changed:
//!   ownership is checked before anything writes (the switch to WAL included);
//! - a row whose token does not decode is listed, loads as `Corrupt` naming its key, and can be
//!   deleted or replaced under its lock; the other rows serve as usual;
//! - a file this process may only read opens read-only: loads work and
//!   [`LockedCredential::check_writable`](zoho_oauth::LockedCredential::check_writable) says
//!   [`StoreError::ReadOnly`](zoho_oauth::StoreError::ReadOnly) before anything is asked of Zoho;
//! - a new database file is created with mode `0600` before SQLite opens it; SQLite gives its
//!   `-wal` and `-shm` files the mode of the database.
//!
//! Out of scope: encryption at rest (use an encrypted volume), network file systems (SQLite's
//! locking is unreliable there; use one machine or a server database).
//!
//! ```no_run
//! use std::time::Duration;
//! use zoho_oauth::{CredentialKey, LockWait, TokenStore};
//! use zoho_oauth::core::{DataCenter, Environment};
//! use zoho_oauth_sqlite::SqliteStore;
//!
//! let store = SqliteStore::open("/var/lib/myapp/zoho-tokens.sqlite3")?;
//! let key = CredentialKey::new("ana@example.com", "1000.ABC", DataCenter::Eu, Environment::Production);
//! // Other processes refreshing this store wait here (at most 10 s, then StoreError::Busy).
//! let mut locked = store.lock(&key, LockWait::AtMost(Duration::from_secs(10)))?;
//! if let Some(token) = locked.load()? {
//!     // …refresh if still needed, then:
//!     locked.save(&token)?;
//! }
//! locked.release()?;
//! # Ok::<(), zoho_oauth::StoreError>(())
//! ```

mod error;
mod schema;
mod store;

pub use schema::SCHEMA_VERSION;
pub use store::SqliteStore;
