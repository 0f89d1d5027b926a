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
//! - **rows written by an SDK** are read: the key is `user_name` × `client_id` × the data centre and
//!   environment of `api_domain` (a row without a refresh token or a Zoho `api_domain` is not a
//!   credential this store can use and is skipped). Saving such a key updates that row in place;
//! - **rows written here stay readable by the SDKs**: their columns are always filled (`id` is
//!   numeric as the SDKs' `max(id) + 1` needs; `expiry_time` in ms; `api_domain` is the token's, or
//!   the key's data centre and environment when Zoho sent none). `client_secret`, `grant_token` and
//!   `redirect_url` are not known to a token store: an update leaves them as they are, an insert
//!   writes `client_secret = ''` and NULLs — give the SDK its client secret in code;
//! - when an SDK refreshed a token after this store wrote it, the SDK's columns win and the mint
//!   budget of `zo_state` is kept;
//! - the refresh lock of [`TokenStore::lock`](zoho_oauth::TokenStore::lock) is a transaction on a
//!   connection of its own holding `SELECT … FOR UPDATE` on the key's row of `zoho_oauth_lock`
//!   (inserted first if missing: InnoDB cannot lock a row that does not exist). Loads and saves
//!   through the lock run in that transaction: `release` commits, dropping rolls back; the server
//!   releases the lock if the holder dies. Connections run at `READ COMMITTED`.
//!
//! Out of scope: TLS to the server (no TLS backend is compiled in: use a local socket, a private
//! network or a TLS tunnel), a table name other than `oauthtoken`, the 9-column tables of SDKs
//! older than v5 (`user_mail`: refused, untouched).
//!
//! ```no_run
//! use zoho_oauth::{CredentialKey, TokenStore};
//! use zoho_oauth::core::{DataCenter, Environment};
//! use zoho_oauth_mysql::MysqlStore;
//!
//! let store = MysqlStore::connect("mysql://root@localhost:3306/zohooauth")?;
//! let key = CredentialKey::new("ana@example.com", "1000.ABC", DataCenter::Eu, Environment::Production);
//! let mut locked = store.lock(&key)?; // other machines refreshing this credential wait here
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

pub use schema::SCHEMA_VERSION;
pub use store::MysqlStore;
