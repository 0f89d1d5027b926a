//! A PostgreSQL [`TokenStore`](zoho_oauth::TokenStore) for `zoho-oauth`: one refresh per
//! credential across a fleet of machines.
//!
//! [`PostgresStore`] keeps every credential (user × client × data centre × environment) as one row
//! of `zoho_oauth_credentials`, its [`TokenSet`](zoho_oauth::core::TokenSet) in the core's
//! versioned byte encoding (`token bytea`, mint budget included, so the whole fleet shares one
//! budget):
//!
//! - the refresh lock of [`TokenStore::lock`](zoho_oauth::TokenStore::lock) is a transaction on a
//!   connection of its own holding a **transaction-scoped advisory lock**
//!   (`pg_advisory_xact_lock`) on a 64-bit hash of the schema and the key. An advisory lock works
//!   for a key that has no row yet (a row lock would not), and the server drops it when the
//!   transaction ends, including when the holder's process or machine dies. Loads and saves through
//!   the lock run in that transaction: `release` commits, dropping rolls back. Every key lock also
//!   holds a store-wide advisory lock **shared**, which [`delete_all`](zoho_oauth::TokenStore::delete_all)
//!   takes **exclusive** before its `DELETE`: a plain `DELETE` would not wait for advisory locks,
//!   and a holder that loaded before it could write its credential back;
//! - waits are bounded: the lock waits at most the caller's [`LockWait`](zoho_oauth::LockWait)
//!   (`lock_timeout`, 1 ms for `NoWait`), `delete_all` 60 s, the schema migration 60 s, opening a
//!   connection 10 s (unless the URL sets `connect_timeout`). A lock still held is
//!   [`StoreError::Busy`](zoho_oauth::StoreError::Busy) naming the holder from `pg_locks` and
//!   `pg_stat_activity`: backend pid, `application_name`, client address and the start of its
//!   transaction (set `application_name` in the URL to tell your processes apart);
//! - a holder that stops inside its cycle (frozen, stuck in a debugger) is ended by the server
//!   after the hold limit (`idle_in_transaction_session_timeout`, 5 minutes unless
//!   [`PostgresStore::with_hold_limit`] says otherwise): its lock is never held forever;
//! - a session the server ends (an administrator's `pg_terminate_backend`, a restart) never leaves
//!   a half-written credential: the cycle's transaction rolls back, its save or release is a
//!   [`StoreError::Database`](zoho_oauth::StoreError::Database), and the server frees its lock at
//!   once. A pooled connection found closed is replaced and the operation (one statement or one
//!   transaction) runs again, once;
//! - [`check_writable`](zoho_oauth::LockedCredential::check_writable) asks the server whether the
//!   session is read-only (a standby, `default_transaction_read_only`) or the user lacks `INSERT`,
//!   `UPDATE` or `DELETE` on the table: [`StoreError::ReadOnly`](zoho_oauth::StoreError::ReadOnly)
//!   before anything is asked of Zoho;
//! - a row whose token does not decode is listed and loads as `Corrupt` naming its key (it can be
//!   deleted under its lock); a row naming an unknown data centre is left out of the list with a
//!   warning; the other rows serve as usual;
//! - the schema is versioned (`zoho_oauth_schema`) and created on connect under an advisory lock,
//!   so many processes may connect at once; a newer version is refused with
//!   [`StoreError::FutureVersion`](zoho_oauth::StoreError::FutureVersion) and left untouched;
//! - the tables live in the first schema of the connection's `search_path` (`public` by default).
//!   Pick another with the URL: `…/db?options=-csearch_path%3Dzoho`.
//!
//! Out of scope: TLS to the server (no TLS backend is compiled in: use a local socket, a private
//! network or a TLS tunnel; `sslmode=require` fails), encryption at rest.
//!
//! ```no_run
//! use std::time::Duration;
//! use zoho_oauth::{CredentialKey, LockWait, TokenStore};
//! use zoho_oauth::core::{DataCenter, Environment};
//! use zoho_oauth_postgres::PostgresStore;
//!
//! let store = PostgresStore::connect("postgres://app@db.internal:5432/app?application_name=billing")?;
//! let key = CredentialKey::new("ana@example.com", "1000.ABC", DataCenter::Eu, Environment::Production);
//! // Other machines refreshing this credential wait here (at most 10 s, then StoreError::Busy).
//! let mut locked = store.lock(&key, LockWait::AtMost(Duration::from_secs(10)))?;
//! if let Some(token) = locked.load()? {
//!     // …refresh if still needed, then:
//!     locked.save(&token)?;
//! }
//! locked.release()?; // commit
//! # Ok::<(), zoho_oauth::StoreError>(())
//! ```

mod pool;
mod schema;
mod store;

pub use schema::SCHEMA_VERSION;
pub use store::PostgresStore;
