//! A MySQL/MariaDB [`TokenStore`](zoho_oauth::TokenStore) for `zoho-oauth` on the official Zoho
//! SDKs' `oauthtoken` table: point it at the SDK's database and migrate in place.
//!
//! [`MysqlStore`] reads and writes the table the SDKs' `DBStore` uses (database `zohooauth` by
//! default; `id varchar(10)` primary key, `user_name`, `client_id`, `client_secret`,
//! `refresh_token`, `access_token`, `grant_token`, `expiry_time` in epoch milliseconds,
//! `redirect_url`, `api_domain`), creating it with exactly that shape when it is missing:
//!
//! - a versioned migration (`zoho_oauth_schema`) appends nullable columns the SDKs never read
//!   (they read the first ten by position): `zo_key` (a unique SHA-256 of the key), `zo_dc`,
//!   `zo_env` and `zo_state`, the full [`TokenSet`](zoho_oauth::core::TokenSet) in the core's
//!   versioned encoding (scope and mint budget included). A newer schema is refused with
//!   [`StoreError::FutureVersion`](zoho_oauth::StoreError::FutureVersion) and left untouched;
//! - **rows written by an SDK** are read with the one mapping of SDK rows,
//!   [`zoho_oauth::sdk::rows::map_row`] (the CSV import's too): the key is `user_name` (`default` when empty) × `client_id` × the data centre and
//!   environment of [`Origin::region_of_api_domain`](zoho_oauth::core::Origin::region_of_api_domain):
//!   a Zoho `api_domain` says it; a NULL or empty one (older SDKs, and today's Python SDK unless
//!   told otherwise, write none) or, with a custom accounts origin, a loopback one means the
//!   configured data centre and environment, which
//!   [`MysqlStore::with_configured_region`] tells the store. The token is
//!   [`TokenSet::from_sdk_row`](zoho_oauth::core::TokenSet::from_sdk_row)'s. A row that cannot be
//!   keyed (a grant token never exchanged, no client id, an untrusted `api_domain`, no
//!   `api_domain` and no configured region) is left out of `list` with a warning and reported by
//!   [`MysqlStore::unusable_rows`]; one whose tokens are damaged (an ellipsis copied into one)
//!   is listed, loads as `Corrupt` naming its key and can be deleted under its lock. A 9-column table of an SDK before `api_domain` gets the
//!   column added where the newer SDKs read it. Saving such a key updates that row in place;
//! - **rows written here stay readable by the SDKs**: their columns are always filled (`id` is
//!   numeric as the SDKs' `max(id) + 1` needs; `expiry_time` in ms; `api_domain` is the token's, or
//!   the key's data centre and environment when Zoho sent none). `client_secret`, `grant_token` and
//!   `redirect_url` are not known to a token store: an update leaves them as they are, an insert
//!   writes `client_secret = ''` and NULLs — give the SDK its client secret in code;
//! - when an SDK refreshed a token after this store wrote it, the SDK's columns win and the mint
//!   budget of `zo_state` is kept;
//! - the refresh lock of [`TokenStore::lock`](zoho_oauth::TokenStore::lock) is a transaction on a
//!   connection of its own holding a store-wide row of `zoho_oauth_lock` shared
//!   (`LOCK IN SHARE MODE`) and the key's row exclusive (`FOR UPDATE`; rows are inserted first if
//!   missing: InnoDB cannot lock a row that does not exist). Loads, saves and deletes through the
//!   lock run in that transaction: `release` commits, dropping rolls back; the server releases the
//!   lock if the holder dies. [`delete_all`](zoho_oauth::TokenStore::delete_all) takes the
//!   store-wide row exclusive, so it waits for every locked cycle (a plain `DELETE` would not wait
//!   for a holder that has not written yet). Connections run at `READ COMMITTED`;
//! - waits are bounded: `NOWAIT` for [`LockWait::NoWait`](zoho_oauth::LockWait::NoWait);
//!   `AtMost(d)` is `max_statement_time` on MariaDB (to the millisecond) and
//!   `innodb_lock_wait_timeout` rounded up to whole seconds on MySQL; `delete_all` waits 60 s,
//!   opening a connection 10 s. A lock still held is
//!   [`StoreError::Busy`](zoho_oauth::StoreError::Busy) naming the holder's connection id, user,
//!   host and transaction start (each holder also takes a `GET_LOCK` named after its key, which
//!   the waiter looks up with `IS_USED_LOCK`: row locks are visible only while someone waits);
//! - a holder that stops inside its cycle (frozen, stuck in a debugger) is ended by the server
//!   after the hold limit (`wait_timeout`, 5 minutes unless [`MysqlStore::with_hold_limit`] says
//!   otherwise): its lock is never held forever;
//! - a connection killed by the server (`KILL CONNECTION`, a restart) while it holds the lock
//!   rolls back: the holder's save or release is a `StoreError::Database`, the lock is free at
//!   once, the credential is the one before the cycle. Pooled connections are checked before use;
//! - [`check_writable`](zoho_oauth::LockedCredential::check_writable) runs an `UPDATE`, a `DELETE`
//!   and an `INSERT` that touch no row: a user without those privileges, a `read_only` server or
//!   a read-only transaction is [`StoreError::ReadOnly`](zoho_oauth::StoreError::ReadOnly) before
//!   anything is asked of Zoho (such a user can connect to a current schema and load);
//! - a row whose `zo_state` does not decode is listed and loads as `Corrupt` naming its key; it
//!   can be replaced or deleted under its lock.
//!
//! Out of scope: TLS to the server (no TLS backend is compiled in: use a local socket, a private
//! network or a TLS tunnel), a table name other than `oauthtoken`, the tables of SDKs older than
//! v5 (`user_mail`: refused, untouched).
//!
//! ```no_run
//! use std::time::Duration;
//! use zoho_oauth::{CredentialKey, LockWait, TokenStore};
//! use zoho_oauth::core::{DataCenter, Environment, Origin};
//! use zoho_oauth_mysql::MysqlStore;
//!
//! // The SDK's rows without api_domain belong to the client's configured data centre.
//! let store = MysqlStore::connect("mysql://root@localhost:3306/zohooauth")?
//!     .with_configured_region(Origin::Zoho(DataCenter::Eu), DataCenter::Eu, Environment::Production);
//! for row in store.unusable_rows()? {
//!     eprintln!("row {} is not a credential: {}", row.id, row.why);
//! }
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

mod row;
mod schema;
mod store;

pub use row::{Unusable, UnusableRow};
pub use schema::SCHEMA_VERSION;
pub use store::MysqlStore;
