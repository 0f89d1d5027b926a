//! `PostgresStore`: one row per credential, and a transaction-scoped advisory lock per credential
//! as the refresh lock.

use std::fmt;

use postgres::{Client, Config};
use zoho_oauth::core::{DataCenter, Environment, TokenSet};
use zoho_oauth::{CredentialKey, LockedCredential, StoreError, TokenStore};

use crate::pool::Pool;
use crate::schema;

const LOAD: &str = "SELECT token FROM zoho_oauth_credentials \
     WHERE user_name = $1 AND client_id = $2 AND data_center = $3 AND environment = $4";
const SAVE: &str = "INSERT INTO zoho_oauth_credentials \
     (user_name, client_id, data_center, environment, token) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (user_name, client_id, data_center, environment) \
     DO UPDATE SET token = EXCLUDED.token, updated_at = now()";
const DELETE: &str = "DELETE FROM zoho_oauth_credentials \
     WHERE user_name = $1 AND client_id = $2 AND data_center = $3 AND environment = $4";
const LIST: &str = "SELECT user_name, client_id, data_center, environment \
     FROM zoho_oauth_credentials ORDER BY 1, 2, 3, 4";
/// The lock is per schema and key: stores in different schemas of one database do not wait for
/// each other. Two keys whose hashes collide share a lock, which is allowed (never unsafe).
const LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtextextended(current_schema()::text || ':' || $1::text, 0))";

/// A [`TokenStore`] on a PostgreSQL database, shared by every process and machine that connects to
/// it. See the [crate documentation](crate) for the locking and schema rules.
pub struct PostgresStore {
    pool: Pool,
}

impl fmt::Debug for PostgresStore {
    // The URL may carry a password: show nothing of it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connect to `url` (`postgres://user[:password]@host[:port]/database[?options]`, or the
    /// `key=value` form), then create or migrate the schema.
    ///
    /// Fails with [`StoreError::Other`] for a malformed URL, [`StoreError::Database`] when the
    /// server cannot be reached or refuses, and [`StoreError::FutureVersion`] when a newer version
    /// of this crate already owns the schema.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let config: Config = url.parse().map_err(|e| {
            StoreError::Other(format!(
                "the PostgreSQL URL is not valid ({}): write postgres://user[:password]@host[:port]/database",
                describe(&e)
            ))
        })?;
        let store = Self {
            pool: Pool::new(config),
        };
        let mut client = store.pool.get()?;
        schema::migrate(&mut client)?;
        store.pool.put(client);
        Ok(store)
    }

    /// Run `op` on a pooled connection; the connection goes back only if `op` succeeded.
    fn with_client<T>(
        &self,
        op: impl FnOnce(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.pool.get()?;
        let out = op(&mut client)?;
        self.pool.put(client);
        Ok(out)
    }
}

impl TokenStore for PostgresStore {
    fn load(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
        self.with_client(|c| load_on(c, key))
    }

    fn save(&self, key: &CredentialKey, token: &TokenSet) -> Result<(), StoreError> {
        self.with_client(|c| save_on(c, key, token))
    }

    fn delete(&self, key: &CredentialKey) -> Result<bool, StoreError> {
        self.with_client(|c| {
            let n = c
                .execute(
                    DELETE,
                    &[
                        &key.user,
                        &key.client_id,
                        &key.data_center.location_code(),
                        &key.environment.name(),
                    ],
                )
                .map_err(db)?;
            Ok(n > 0)
        })
    }

    fn list(&self) -> Result<Vec<CredentialKey>, StoreError> {
        self.with_client(|c| {
            let rows = c.query(LIST, &[]).map_err(db)?;
            rows.iter()
                .map(|row| {
                    let user: String = row.try_get(0).map_err(db)?;
                    let client_id: String = row.try_get(1).map_err(db)?;
                    let dc: String = row.try_get(2).map_err(db)?;
                    let env: String = row.try_get(3).map_err(db)?;
                    let data_center = DataCenter::from_location(&dc).map_err(|_| {
                        StoreError::Corrupt(format!(
                            "a credential of {user} names the unknown data centre {dc:?}"
                        ))
                    })?;
                    let environment = Environment::from_name(&env).map_err(|_| {
                        StoreError::Corrupt(format!(
                            "a credential of {user} names the unknown environment {env:?}"
                        ))
                    })?;
                    Ok(CredentialKey::new(
                        user,
                        client_id,
                        data_center,
                        environment,
                    ))
                })
                .collect()
        })
    }

    fn delete_all(&self) -> Result<(), StoreError> {
        // DELETE, not TRUNCATE: TRUNCATE would wait for, and block, every reader of the table.
        self.with_client(|c| {
            c.execute("DELETE FROM zoho_oauth_credentials", &[])
                .map(drop)
                .map_err(db)
        })
    }

    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError> {
        let mut client = self.pool.get()?;
        client.batch_execute("BEGIN").map_err(db)?;
        // Blocks until every other holder of this key's lock has committed or rolled back.
        if let Err(e) = client.execute(LOCK, &[&lock_name(key)]) {
            // Dropping the connection ends the transaction; it is not reused.
            return Err(db(e));
        }
        Ok(Box::new(Locked {
            pool: &self.pool,
            client: Some(client),
            key: key.clone(),
            failed: false,
        }))
    }
}

/// The refresh lock of one key: an open transaction holding the key's advisory lock.
struct Locked<'s> {
    pool: &'s Pool,
    /// `None` once released.
    client: Option<Client>,
    key: CredentialKey,
    /// A statement failed: PostgreSQL has aborted the transaction, so `release` must not report
    /// success (a `COMMIT` of an aborted transaction silently rolls back).
    failed: bool,
}

impl Locked<'_> {
    fn run<T>(
        &mut self,
        op: impl FnOnce(&mut Client, &CredentialKey) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let client = self
            .client
            .as_mut()
            .ok_or_else(|| StoreError::Other("the refresh lock was already released".into()))?;
        let out = op(client, &self.key);
        if out.is_err() {
            self.failed = true;
        }
        out
    }
}

impl LockedCredential for Locked<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.run(load_on)
    }

    fn save(&mut self, token: &TokenSet) -> Result<(), StoreError> {
        self.run(|c, key| save_on(c, key, token))
    }

    fn release(mut self: Box<Self>) -> Result<(), StoreError> {
        let Some(mut client) = self.client.take() else {
            return Ok(());
        };
        if self.failed {
            if client.batch_execute("ROLLBACK").is_ok() {
                self.pool.put(client);
            }
            return Err(StoreError::Database(format!(
                "a statement under the refresh lock of {} failed, so its transaction was rolled back: retry the refresh",
                self.key
            )));
        }
        client.batch_execute("COMMIT").map_err(db)?;
        self.pool.put(client);
        Ok(())
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if let Some(mut client) = self.client.take() {
            // Roll back now so the lock is free at once; a connection that cannot is closed,
            // which rolls back too.
            if client.batch_execute("ROLLBACK").is_ok() {
                self.pool.put(client);
            }
        }
    }
}

fn load_on(client: &mut Client, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
    let row = client
        .query_opt(
            LOAD,
            &[
                &key.user,
                &key.client_id,
                &key.data_center.location_code(),
                &key.environment.name(),
            ],
        )
        .map_err(db)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let bytes = zeroize::Zeroizing::new(row.try_get::<_, Vec<u8>>(0).map_err(db)?);
    zoho_oauth::store::decode_token(key, &bytes).map(Some)
}

fn save_on(client: &mut Client, key: &CredentialKey, token: &TokenSet) -> Result<(), StoreError> {
    let bytes = zoho_oauth::store::encode_token(key, token)?;
    client
        .execute(
            SAVE,
            &[
                &key.user,
                &key.client_id,
                &key.data_center.location_code(),
                &key.environment.name(),
                &bytes.as_slice(),
            ],
        )
        .map(drop)
        .map_err(db)
}

/// The text whose hash names the advisory lock of `key` (unit separators between the parts).
fn lock_name(key: &CredentialKey) -> String {
    format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}",
        key.user,
        key.client_id,
        key.data_center.location_code(),
        key.environment.name()
    )
}

/// A driver error as [`StoreError::Database`].
pub(crate) fn db(e: postgres::Error) -> StoreError {
    StoreError::Database(describe(&e))
}

/// What went wrong, for a message. For a server error: severity, message and hint, but not the
/// DETAIL, which may quote a failing row (with its token bytes).
pub(crate) fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut out = format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
        if let Some(hint) = db.hint() {
            out.push_str("; hint: ");
            out.push_str(hint);
        }
        return out;
    }
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
