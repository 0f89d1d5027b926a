//! `SqliteStore`: the [`TokenStore`] on one SQLite file, with `BEGIN IMMEDIATE` as the refresh lock.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, MAIN_DB};
use zoho_oauth::core::{DataCenter, Environment, TokenSet};
use zoho_oauth::{CredentialKey, LockBusy, LockWait, LockedCredential, StoreError, TokenStore};

use crate::error::{is_busy, store_error};
use crate::schema::{self, Found};

/// How long an operation without a caller-given bound (opening, reads, `delete_all`'s wait for
/// the write lock) lets SQLite wait for another connection's lock before it gives up with an
/// error: bounded, never a wait forever.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long [`TokenStore::delete_all`] waits for the locks held on the file, like the
/// [`FileStore`](zoho_oauth::FileStore)'s.
const DELETE_ALL_WAIT: Duration = Duration::from_secs(60);

/// Idle connections kept for reuse.
const POOL_SIZE: usize = 4;

/// A [`TokenStore`] in a SQLite database file (see the [crate docs](crate)).
///
/// Every operation takes a connection from a small pool (opening one when none is idle), so
/// threads do not queue behind each other except for SQLite's single writer. Do not call
/// `delete_all` or `lock` while holding a [`LockedCredential`] of the same file on the same
/// thread: they wait for that lock (boundedly, then [`StoreError::Busy`]).
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
    /// and `Corrupt` for a file that is not a database, is damaged, or belongs to something else;
    /// such a file is checked before anything is written to it (its journal mode included) and
    /// left exactly as it was.
    ///
    /// A file this process may only read opens read-only: loads and lists work, and
    /// [`LockedCredential::check_writable`] says [`StoreError::ReadOnly`] before anything is asked
    /// of Zoho. A read-only file that still needs its schema created or upgraded is refused with
    /// `ReadOnly`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        create_private(&path)?;
        let conn = connect(&path)?;
        // Nothing that writes may run before the file is known to be ours.
        let found = schema::inspect(&conn)?;
        if read_only(&conn)? {
            if found == Found::NeedsUpgrade {
                return Err(StoreError::ReadOnly(format!(
                    "{} must have its zoho-oauth schema created or upgraded, but this process may only read it",
                    path.display()
                )));
            }
        } else {
            use_wal(&conn)?;
            if found == Found::NeedsUpgrade {
                schema::migrate(&conn)?;
            }
        }
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

    /// A busy lock of `key` after `started`.
    fn busy(&self, key: &CredentialKey, started: Instant) -> StoreError {
        // SQLite does not say which connection holds its write lock, and its locks are POSIX
        // byte-range locks on the -shm file that the OS reports for other processes only:
        // the holder stays unnamed.
        LockBusy::new(self.describe(), key, started.elapsed()).into()
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

/// Open a connection with the per-connection settings, none of which writes the file (the
/// journal mode, which does, is [`use_wal`]'s, after the file was checked).
fn connect(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(store_error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(store_error)?;
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY;",
    )
    .map_err(store_error)?;
    Ok(conn)
}

/// Whether SQLite opened the file read-only (the OS refused writing).
fn read_only(conn: &Connection) -> Result<bool, StoreError> {
    conn.is_readonly(MAIN_DB).map_err(store_error)
}

/// Switch a checked file to WAL (persistent: done once, by [`SqliteStore::open`]).
///
/// Switching needs the file to itself, and SQLite answers `SQLITE_BUSY` at once, without its busy
/// handler, while another connection reads it — as happens when several processes open a new
/// file together. So a busy switch is retried (1 ms, doubling to 50 ms) within the busy timeout,
/// re-reading the mode first: another process may have switched it meanwhile.
fn use_wal(conn: &Connection) -> Result<(), StoreError> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    let mode = loop {
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .map_err(store_error)?;
        if mode.eq_ignore_ascii_case("wal") {
            return Ok(());
        }
        // journal_mode answers with the mode now in force: a file that cannot do WAL says so.
        match conn.pragma_update_and_check(None, "journal_mode", "wal", |r| r.get::<_, String>(0)) {
            Ok(mode) => break mode,
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && started.elapsed() + pause < BUSY_TIMEOUT =>
            {
                std::thread::sleep(pause); // SQLite offers no wait for this lock
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(store_error(e)),
        }
    };
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Database(format!(
            "the database cannot use WAL journaling (journal_mode is {mode}); put it on a local file system"
        )));
    }
    Ok(())
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
    let blob: Option<Vec<u8>> = conn
        .prepare_cached(
            "SELECT token FROM credentials
             WHERE user = ?1 AND client_id = ?2 AND data_center = ?3 AND environment = ?4",
        )
        .and_then(|mut s| s.query_row(key_params(key), |r| r.get(0)).optional())
        .map_err(store_error)?;
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
    conn.prepare_cached(
        "INSERT INTO credentials
             (user, client_id, data_center, environment, token, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (user, client_id, data_center, environment)
         DO UPDATE SET token = excluded.token, updated_at = excluded.updated_at",
    )
    .and_then(|mut s| s.execute(params![user, client_id, dc, env, bytes.as_slice(), now]))
    .map(drop)
    .map_err(store_error)
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

    /// Every stored key. A row whose key columns do not name a known data centre or environment
    /// (written by hand, or by a newer program) cannot be a [`CredentialKey`]: it is left out
    /// with a warning, and the other keys are listed.
    fn list(&self) -> Result<Vec<CredentialKey>, StoreError> {
        let conn = self.conn()?;
        let rows: Vec<(String, String, String, String)> = conn
            .prepare_cached(
                "SELECT user, client_id, data_center, environment FROM credentials
                 ORDER BY user, client_id, data_center, environment",
            )
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect()
            })
            .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .filter_map(|(user, client_id, dc, env)| {
                match (DataCenter::from_location(&dc), Environment::from_name(&env)) {
                    (Ok(data_center), Ok(environment)) => Some(CredentialKey::new(
                        user,
                        client_id,
                        data_center,
                        environment,
                    )),
                    _ => {
                        tracing::warn!(
                            store = %self.describe(), user = %user, data_center = %dc, environment = %env,
                            "a stored row names an unknown data centre or environment; it is not listed"
                        );
                        None
                    }
                }
            })
            .collect())
    }

    fn delete_all(&self) -> Result<(), StoreError> {
        // The write lock, as a locked cycle takes it: waits (boundedly) for every held lock.
        let conn = self.conn()?;
        let anyone = CredentialKey::new("*", "*", DataCenter::Us, Environment::Production);
        let started = Instant::now();
        conn.busy_timeout(DELETE_ALL_WAIT).map_err(store_error)?;
        let begun = conn.execute_batch("BEGIN IMMEDIATE");
        conn.busy_timeout(BUSY_TIMEOUT).map_err(store_error)?;
        match begun {
            Ok(()) => {}
            Err(e) if is_busy(&e) => return Err(self.busy(&anyone, started)),
            Err(e) => return Err(store_error(e)),
        }
        // On failure the transaction stays open and the connection is not pooled: dropping it
        // rolls back.
        conn.execute_batch("DELETE FROM credentials; COMMIT")
            .map_err(store_error)
    }

    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
        wait: LockWait,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError> {
        let conn = self.conn()?;
        if read_only(&conn)? {
            // This process cannot write, so it cannot lose anyone's update: a read transaction
            // suffices, and check_writable says why nothing will be saved.
            conn.execute_batch("BEGIN DEFERRED").map_err(store_error)?;
            return Ok(Box::new(SqliteLocked {
                conn,
                key: key.clone(),
                read_only: true,
                store: self.describe(),
            }));
        }
        let started = Instant::now();
        // SQLite waits for the write lock itself, for at most its busy timeout: the caller's bound
        // (zero for NoWait: busy at once).
        conn.busy_timeout(wait.limit()).map_err(store_error)?;
        let begun = conn.execute_batch("BEGIN IMMEDIATE");
        conn.busy_timeout(BUSY_TIMEOUT).map_err(store_error)?;
        match begun {
            Ok(()) => {}
            Err(e) if is_busy(&e) => return Err(self.busy(key, started)),
            Err(e) => return Err(store_error(e)),
        }
        Ok(Box::new(SqliteLocked {
            conn,
            key: key.clone(),
            read_only: false,
            store: self.describe(),
        }))
    }

    fn locks_per_key(&self) -> bool {
        // One lock for the whole store: refreshes side by side would only wait for each other.
        false
    }

    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }
}

/// The refresh lock: a dedicated connection inside a `BEGIN IMMEDIATE` transaction (a read
/// transaction on a file this process may only read).
struct SqliteLocked<'s> {
    conn: Pooled<'s>,
    key: CredentialKey,
    read_only: bool,
    store: String,
}

impl LockedCredential for SqliteLocked<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        load(&self.conn, &self.key)
    }

    fn save(&mut self, token: &TokenSet) -> Result<(), StoreError> {
        self.check_writable()?;
        save(&self.conn, &self.key, token)
    }

    fn delete(&mut self) -> Result<bool, StoreError> {
        self.check_writable()?;
        let n = self
            .conn
            .prepare_cached(
                "DELETE FROM credentials
                 WHERE user = ?1 AND client_id = ?2 AND data_center = ?3 AND environment = ?4",
            )
            .and_then(|mut s| s.execute(key_params(&self.key)))
            .map_err(store_error)?;
        Ok(n > 0)
    }

    fn check_writable(&mut self) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly(format!(
                "{} is read-only for this process (file or directory permissions, a read-only mount)",
                self.store
            )));
        }
        Ok(())
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
