//! `MysqlStore`: credentials in the SDKs' `oauthtoken` table, and `SELECT … FOR UPDATE` on a lock
//! row per credential as the refresh lock.

use std::collections::BTreeSet;
use std::fmt;

use mysql::consts::CapabilityFlags;
use mysql::prelude::Queryable;
use mysql::{Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts, PooledConn, Value};
use zoho_oauth::core::TokenSet;
use zoho_oauth::{CredentialKey, LockedCredential, StoreError, TokenStore};

use crate::row::{self, StoredRow, COLUMNS};
use crate::schema;

/// MySQL error codes this store handles.
const ER_DUP_ENTRY: u16 = 1062;
const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;
const ER_LOCK_DEADLOCK: u16 = 1213;

/// A save that keeps losing races with other writers (each loss means another process just wrote
/// the same key or took the same new id) gives up after this many attempts.
const SAVE_ATTEMPTS: usize = 16;

/// The SDKs' `id` is `varchar(10)`.
const MAX_ID: u64 = 9_999_999_999;

/// A [`TokenStore`] on a MySQL or MariaDB database, shared with the official Zoho SDKs and with
/// every process and machine that connects to it. See the [crate documentation](crate).
pub struct MysqlStore {
    pool: Pool,
}

impl fmt::Debug for MysqlStore {
    // The URL may carry a password: show nothing of it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MysqlStore").finish_non_exhaustive()
    }
}

impl MysqlStore {
    /// Connect to `url` (`mysql://user[:password]@host[:port]/database`; the SDKs' database is
    /// `zohooauth`), then create `oauthtoken` if it is missing and migrate it.
    ///
    /// Fails with [`StoreError::Other`] for a malformed URL, [`StoreError::Database`] when the
    /// server cannot be reached or refuses, [`StoreError::Corrupt`] when `oauthtoken` is not the
    /// SDKs' table, and [`StoreError::FutureVersion`] when a newer version of this crate migrated
    /// it already.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let opts = Opts::from_url(url).map_err(|e| {
            StoreError::Other(format!(
                "the MySQL URL is not valid ({e}): write mysql://user[:password]@host[:port]/database"
            ))
        })?;
        if opts.get_db_name().is_none_or(str::is_empty) {
            return Err(StoreError::Other(
                "the MySQL URL names no database: add it as the path, e.g. mysql://root@localhost:3306/zohooauth".into(),
            ));
        }
        let constraints = PoolConstraints::new(0, 64).expect("0 <= 64");
        let opts = OptsBuilder::from_opts(opts)
            // UPDATE reports matched rows, not changed rows: an unchanged save still finds its row.
            .additional_capabilities(CapabilityFlags::CLIENT_FOUND_ROWS)
            // Every read sees the latest commit, also inside the lock's transaction.
            .init(vec![
                "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
            ])
            .pool_opts(PoolOpts::default().with_constraints(constraints));
        let pool = Pool::new(opts).map_err(|e| {
            StoreError::Database(format!(
                "cannot connect to MySQL ({e}): check the URL, that the server runs and that it accepts this user"
            ))
        })?;
        let store = Self { pool };
        let mut conn = store.conn()?;
        schema::migrate(&mut conn)?;
        Ok(store)
    }

    fn conn(&self) -> Result<PooledConn, StoreError> {
        self.pool.get_conn().map_err(|e| {
            StoreError::Database(format!(
                "cannot connect to MySQL ({e}): check the URL, that the server runs and that it accepts this user"
            ))
        })
    }
}

impl TokenStore for MysqlStore {
    fn load(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
        load_on(&mut self.conn()?, key)
    }

    fn save(&self, key: &CredentialKey, token: &TokenSet) -> Result<(), StoreError> {
        save_on(&mut self.conn()?, key, token)
    }

    fn delete(&self, key: &CredentialKey) -> Result<bool, StoreError> {
        let mut conn = self.conn()?;
        conn.query_drop("START TRANSACTION").map_err(db)?;
        let deleted = delete_on(&mut conn, key);
        let end = if deleted.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let ended = conn.query_drop(end).map_err(db);
        let deleted = deleted?;
        ended.map(|()| deleted)
    }

    fn list(&self) -> Result<Vec<CredentialKey>, StoreError> {
        let rows: Vec<mysql::Row> = self
            .conn()?
            .query(format!("SELECT {COLUMNS} FROM oauthtoken"))
            .map_err(db)?;
        let mut keys = BTreeSet::new();
        for row in rows {
            if let Some(key) = StoredRow::read(row)?.key()? {
                keys.insert(key);
            }
        }
        Ok(keys.into_iter().collect())
    }

    /// Deletes every row of `oauthtoken`, the SDKs' rows included (as their `delete_tokens`).
    fn delete_all(&self) -> Result<(), StoreError> {
        self.conn()?
            .query_drop("DELETE FROM oauthtoken")
            .map_err(db)
    }

    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError> {
        let mut conn = self.conn()?;
        let name = key_text(key);
        loop {
            conn.query_drop("START TRANSACTION").map_err(db)?;
            // Blocks until every other holder of this key's row has committed or rolled back.
            let locked: Result<Option<Vec<u8>>, _> = conn.exec_first(
                "SELECT zo_key FROM zoho_oauth_lock WHERE zo_key = UNHEX(SHA2(?, 256)) FOR UPDATE",
                (&name,),
            );
            match locked {
                Ok(Some(_)) => {
                    return Ok(Box::new(Locked {
                        conn: Some(conn),
                        key: key.clone(),
                        failed: false,
                    }))
                }
                // No row to lock yet (first lock of this key, or the row was deleted): insert it
                // on its own, outside the transaction (a duplicate-key check inside it would take
                // a shared lock that two waiters could then not both upgrade), and lock again.
                Ok(None) => {
                    conn.query_drop("ROLLBACK").map_err(db)?;
                    conn.exec_drop(
                        "INSERT IGNORE INTO zoho_oauth_lock (zo_key) VALUES (UNHEX(SHA2(?, 256)))",
                        (&name,),
                    )
                    .map_err(db)?;
                    continue;
                }
                // Still held after innodb_lock_wait_timeout: keep waiting, as the contract says.
                Err(e) if code(&e) == Some(ER_LOCK_WAIT_TIMEOUT) => {}
                // InnoDB picked this transaction to break a deadlock: try again.
                Err(e) if code(&e) == Some(ER_LOCK_DEADLOCK) => {}
                Err(e) => return Err(db(e)),
            }
            conn.query_drop("ROLLBACK").map_err(db)?;
        }
    }
}

/// The refresh lock of one key: an open transaction holding the key's lock row.
struct Locked {
    /// `None` once released.
    conn: Option<PooledConn>,
    key: CredentialKey,
    /// A statement failed: a deadlock rolls the whole transaction back (and drops the lock), so
    /// `release` must not report success.
    failed: bool,
}

impl Locked {
    fn run<T>(
        &mut self,
        op: impl FnOnce(&mut PooledConn, &CredentialKey) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| StoreError::Other("the refresh lock was already released".into()))?;
        let out = op(conn, &self.key);
        if out.is_err() {
            self.failed = true;
        }
        out
    }
}

impl LockedCredential for Locked {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.run(load_on)
    }

    fn save(&mut self, token: &TokenSet) -> Result<(), StoreError> {
        self.run(|c, key| save_on(c, key, token))
    }

    fn release(mut self: Box<Self>) -> Result<(), StoreError> {
        let Some(mut conn) = self.conn.take() else {
            return Ok(());
        };
        if self.failed {
            let _ = conn.query_drop("ROLLBACK");
            return Err(StoreError::Database(format!(
                "a statement under the refresh lock of {} failed, so its transaction was rolled back: retry the refresh",
                self.key
            )));
        }
        conn.query_drop("COMMIT").map_err(db)
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            // Roll back now so the lock is free at once; the pool's connection reset would too.
            let _ = conn.query_drop("ROLLBACK");
        }
    }
}

/// Our row of `key`, else the first SDK row that belongs to it.
fn find(conn: &mut PooledConn, key: &CredentialKey) -> Result<Option<StoredRow>, StoreError> {
    let ours: Option<mysql::Row> = conn
        .exec_first(
            format!("SELECT {COLUMNS} FROM oauthtoken WHERE zo_key = UNHEX(SHA2(?, 256))"),
            (key_text(key),),
        )
        .map_err(db)?;
    if let Some(row) = ours {
        return Ok(Some(StoredRow::read(row)?));
    }
    Ok(sdk_rows(conn, key)?.into_iter().next())
}

/// The SDK rows (not written by this store) that belong to `key`, by `id`.
fn sdk_rows(conn: &mut PooledConn, key: &CredentialKey) -> Result<Vec<StoredRow>, StoreError> {
    // The collation may compare case- and trailing-space-insensitively: the exact key is checked
    // below.
    let rows: Vec<mysql::Row> = conn
        .exec(
            format!(
                "SELECT {COLUMNS} FROM oauthtoken \
                 WHERE zo_key IS NULL AND user_name = ? AND client_id = ? ORDER BY id"
            ),
            (&key.user, &key.client_id),
        )
        .map_err(db)?;
    let mut found = Vec::new();
    for row in rows {
        let row = StoredRow::read(row)?;
        if !row.is_ours() && row.key()?.as_ref() == Some(key) {
            found.push(row);
        }
    }
    Ok(found)
}

fn load_on(conn: &mut PooledConn, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
    find(conn, key)?.map(|row| row.token(key)).transpose()
}

/// Update our row of `key`, else adopt its SDK row (in place, same `id`), else insert a row; a
/// race with another writer (duplicate key or id) starts over.
fn save_on(conn: &mut PooledConn, key: &CredentialKey, token: &TokenSet) -> Result<(), StoreError> {
    const SET: &str = "user_name = ?, client_id = ?, refresh_token = ?, access_token = ?, \
         expiry_time = ?, api_domain = ?, zo_dc = ?, zo_env = ?, zo_state = ?";
    let values = row::written_values(key, token)?;
    let name = Value::from(key_text(key));
    for _ in 0..SAVE_ATTEMPTS {
        let mut params = values.clone();
        params.push(name.clone());
        conn.exec_drop(
            format!("UPDATE oauthtoken SET {SET} WHERE zo_key = UNHEX(SHA2(?, 256))"),
            params,
        )
        .map_err(db)?;
        if conn.affected_rows() > 0 {
            return Ok(());
        }

        if let Some(sdk_row) = sdk_rows(conn, key)?.into_iter().next() {
            let mut params = values.clone();
            params.push(name.clone());
            params.push(sdk_row.id.into());
            match conn.exec_drop(
                format!(
                    "UPDATE oauthtoken SET {SET}, zo_key = UNHEX(SHA2(?, 256)) \
                     WHERE id = ? AND zo_key IS NULL"
                ),
                params,
            ) {
                Ok(()) if conn.affected_rows() > 0 => return Ok(()),
                Ok(()) => continue,
                Err(e) if code(&e) == Some(ER_DUP_ENTRY) => continue,
                Err(e) => return Err(db(e)),
            }
        }

        // Numeric like the SDKs' ids: their generate_id is int(max(id)) + 1.
        let max: Option<Option<u64>> = conn
            .query_first("SELECT MAX(CAST(id AS UNSIGNED)) FROM oauthtoken")
            .map_err(db)?;
        let id = max.flatten().unwrap_or(0) + 1;
        if id > MAX_ID {
            return Err(StoreError::Other(
                "oauthtoken has no numeric id left in varchar(10): renumber its rows".into(),
            ));
        }
        let mut params = vec![Value::from(id.to_string())];
        params.extend(values.iter().cloned());
        params.push(name.clone());
        match conn.exec_drop(
            "INSERT INTO oauthtoken (id, user_name, client_id, refresh_token, access_token, \
             expiry_time, api_domain, zo_dc, zo_env, zo_state, zo_key, client_secret, grant_token, \
             redirect_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UNHEX(SHA2(?, 256)), '', NULL, NULL)",
            params,
        ) {
            Ok(()) => return Ok(()),
            Err(e) if code(&e) == Some(ER_DUP_ENTRY) => continue,
            Err(e) => return Err(db(e)),
        }
    }
    Err(StoreError::Database(format!(
        "saving {key} kept colliding with other writers of oauthtoken: retry"
    )))
}

/// Delete our row of `key` and every SDK row that belongs to it.
fn delete_on(conn: &mut PooledConn, key: &CredentialKey) -> Result<bool, StoreError> {
    conn.exec_drop(
        "DELETE FROM oauthtoken WHERE zo_key = UNHEX(SHA2(?, 256))",
        (key_text(key),),
    )
    .map_err(db)?;
    let mut deleted = conn.affected_rows();
    for row in sdk_rows(conn, key)? {
        conn.exec_drop(
            "DELETE FROM oauthtoken WHERE id = ? AND zo_key IS NULL",
            (row.id,),
        )
        .map_err(db)?;
        deleted += conn.affected_rows();
    }
    Ok(deleted > 0)
}

/// The text whose SHA-256 is the key's `zo_key`: length-prefixed, so distinct keys never share it.
fn key_text(key: &CredentialKey) -> String {
    format!(
        "{}:{}{}:{}{}/{}",
        key.user.len(),
        key.user,
        key.client_id.len(),
        key.client_id,
        key.data_center.location_code(),
        key.environment.name()
    )
}

fn code(e: &mysql::Error) -> Option<u16> {
    match e {
        mysql::Error::MySqlError(e) => Some(e.code),
        _ => None,
    }
}

/// A driver error as [`StoreError::Database`].
pub(crate) fn db(e: mysql::Error) -> StoreError {
    StoreError::Database(e.to_string())
}
