//! `SqliteStore`: the [`TokenStore`] on one SQLite file, with `BEGIN IMMEDIATE` as the refresh lock.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use zoho_oauth::core::{DataCenter, Environment, TokenSet};
use zoho_oauth::{CredentialKey, LockedCredential, StoreError, TokenStore};

use crate::error::{is_busy, store_error};
use crate::schema;

/// How long one statement waits for another connection's write lock before SQLite reports busy.
/// Operations that must block ([`TokenStore::lock`] and the writes) then simply wait again.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Idle connections kept for reuse.
const POOL_SIZE: usize = 4;

/// A [`TokenStore`] in a SQLite database file (see the [crate docs](crate)).
///
/// Every operation takes a connection from a small pool (opening one when none is idle), so
/// threads do not queue behind each other except for SQLite's single writer. Do not call
/// `save`, `delete`, `delete_all` or `lock` while holding a [`LockedCredential`] of the same file
/// on the same thread: they wait for that lock, which is never released. Use the methods of the
/// [`LockedCredential`] instead.
pub struct SqliteStore {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Open (or create) the store at `path`, migrating its schema to
    /// [`SCHEMA_VERSION`](crate::SCHEMA_VERSION). A missing file is created with mode `0600`
    /// (its missing parent directory with `0700`). Fails with `FutureVersion` for a newer schema
    /// and `Corrupt` for a file that is not a database, is damaged, or belongs to something else.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        create_private(&path)?;
        let conn = connect(&path)?;
        schema::migrate(&conn)?;
        Ok(Self {
            path,
            idle: Mutex::new(vec![conn]),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// An idle connection, or a new one.
    fn conn(&self) -> Result<Pooled<'_>, StoreError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(c) => c,
            None => connect(&self.path)?,
        };
        Ok(Pooled {
            store: self,
            conn: Some(conn),
        })
    }
}

/// Create the database file with mode 0600 if it does not exist (never truncating).
fn create_private(path: &Path) -> Result<(), StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir)?;
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Io(e)),
    }
}

/// Open a configured connection (the schema is checked once, by [`SqliteStore::open`]).
fn connect(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(store_error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(store_error)?;
    // journal_mode answers with the mode now in force: a file that cannot do WAL says so.
    let mode: String =
        retry_busy(|| conn.pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0)))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Database(format!(
            "the database cannot use WAL journaling (journal_mode is {mode}); put it on a local file system"
        )));
    }
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY;",
    )
    .map_err(store_error)?;
    Ok(conn)
}

/// Run `op`, again and again while another connection holds the write lock past the busy
/// timeout: the store's writes block until they can proceed, like a file lock.
fn retry_busy<T>(mut op: impl FnMut() -> rusqlite::Result<T>) -> Result<T, StoreError> {
    loop {
        match op() {
            Err(e) if is_busy(&e) => {
                tracing::debug!("token store is busy with another writer; still waiting");
            }
            other => return other.map_err(store_error),
        }
    }
}

/// A connection on loan from the pool; returned when dropped, unless a transaction is still open.
struct Pooled<'s> {
    store: &'s SqliteStore,
    conn: Option<Connection>,
}

impl Deref for Pooled<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("present until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if conn.is_autocommit() {
                let mut idle = self
                    .store
                    .idle
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if idle.len() < POOL_SIZE {
                    idle.push(conn);
                }
            }
        }
    }
}

/// The stored token of `key` through `conn` (in its transaction, if one is open).
fn load(conn: &Connection, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
    let blob: Option<Vec<u8>> = retry_busy(|| {
        conn.prepare_cached(
            "SELECT token FROM credentials
             WHERE user = ?1 AND client_id = ?2 AND data_center = ?3 AND environment = ?4",
        )?
        .query_row(key_params(key), |r| r.get(0))
        .optional()
    })?;
    let Some(mut blob) = blob else {
        return Ok(None);
    };
    let token = zoho_oauth::store::decode_token(key, &blob);
    blob.fill(0);
    token.map(Some)
}

/// Insert or replace the token of `key` through `conn`.
fn save(conn: &Connection, key: &CredentialKey, token: &TokenSet) -> Result<(), StoreError> {
    let bytes = zoho_oauth::store::encode_token(key, token)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let (user, client_id, dc, env) = key_params(key);
    retry_busy(|| {
        conn.prepare_cached(
            "INSERT INTO credentials
                 (user, client_id, data_center, environment, token, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (user, client_id, data_center, environment)
             DO UPDATE SET token = excluded.token, updated_at = excluded.updated_at",
        )?
        .execute(params![user, client_id, dc, env, bytes.as_slice(), now])
    })
    .map(drop)
}

/// The primary-key columns of `key`.
fn key_params(key: &CredentialKey) -> (&str, &str, &'static str, &'static str) {
    (
        &key.user,
        &key.client_id,
        key.data_center.location_code(),
        key.environment.name(),
    )
}

impl TokenStore for SqliteStore {
    fn load(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
        load(&*self.conn()?, key)
    }

    fn save(&self, key: &CredentialKey, token: &TokenSet) -> Result<(), StoreError> {
        save(&*self.conn()?, key, token)
    }

    fn delete(&self, key: &CredentialKey) -> Result<bool, StoreError> {
        let conn = self.conn()?;
        let n = retry_busy(|| {
            conn.prepare_cached(
                "DELETE FROM credentials
                 WHERE user = ?1 AND client_id = ?2 AND data_center = ?3 AND environment = ?4",
            )?
            .execute(key_params(key))
        })?;
        Ok(n > 0)
    }

    fn list(&self) -> Result<Vec<CredentialKey>, StoreError> {
        let conn = self.conn()?;
        let rows: Vec<(String, String, String, String)> = retry_busy(|| {
            conn.prepare_cached(
                "SELECT user, client_id, data_center, environment FROM credentials
                 ORDER BY user, client_id, data_center, environment",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect()
        })?;
        rows.into_iter()
            .map(|(user, client_id, dc, env)| {
                let bad = |what: &str, v: &str| {
                    StoreError::Corrupt(format!("the row of {user} has an unknown {what} {v:?}"))
                };
                let data_center =
                    DataCenter::from_location(&dc).map_err(|_| bad("data centre", &dc))?;
                let environment =
                    Environment::from_name(&env).map_err(|_| bad("environment", &env))?;
                Ok(CredentialKey::new(
                    user.clone(),
                    client_id,
                    data_center,
                    environment,
                ))
            })
            .collect()
    }

    fn delete_all(&self) -> Result<(), StoreError> {
        let conn = self.conn()?;
        retry_busy(|| conn.execute("DELETE FROM credentials", [])).map(drop)
    }

    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError> {
        let conn = self.conn()?;
        retry_busy(|| conn.execute_batch("BEGIN IMMEDIATE"))?;
        Ok(Box::new(SqliteLocked {
            conn,
            key: key.clone(),
        }))
    }
}

/// The refresh lock: a dedicated connection inside a `BEGIN IMMEDIATE` transaction.
struct SqliteLocked<'s> {
    conn: Pooled<'s>,
    key: CredentialKey,
}

impl LockedCredential for SqliteLocked<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        load(&self.conn, &self.key)
    }

    fn save(&mut self, token: &TokenSet) -> Result<(), StoreError> {
        save(&self.conn, &self.key, token)
    }

    fn release(self: Box<Self>) -> Result<(), StoreError> {
        // On failure the transaction stays open and Drop rolls it back.
        self.conn.execute_batch("COMMIT").map_err(store_error)
    }
}

impl Drop for SqliteLocked<'_> {
    fn drop(&mut self) {
        if !self.conn.is_autocommit() && self.conn.execute_batch("ROLLBACK").is_err() {
            // A connection stuck in a transaction would keep the lock: never pool it.
            self.conn.conn = None;
        }
    }
}
