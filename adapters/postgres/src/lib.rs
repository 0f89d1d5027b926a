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
//!   the lock run in that transaction: `release` commits, dropping rolls back;
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
//! use zoho_oauth::{CredentialKey, TokenStore};
//! use zoho_oauth::core::{DataCenter, Environment};
//! use zoho_oauth_postgres::PostgresStore;
//!
//! let store = PostgresStore::connect("postgres://app@db.internal:5432/app")?;
//! let key = CredentialKey::new("ana@example.com", "1000.ABC", DataCenter::Eu, Environment::Production);
//! let mut locked = store.lock(&key)?; // other machines refreshing this credential wait here
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
