//! `MysqlStore`: credentials in the SDKs' `oauthtoken` table, and `SELECT … FOR UPDATE` on a lock
//! row per credential as the refresh lock.

use std::collections::BTreeSet;
use std::fmt;
use std::time::{Duration, Instant};

use mysql::consts::CapabilityFlags;
use mysql::prelude::Queryable;
use mysql::{Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts, PooledConn, Value};
use zoho_oauth::core::{DataCenter, Environment, Origin, TokenSet};
use zoho_oauth::{CredentialKey, LockBusy, LockWait, LockedCredential, StoreError, TokenStore};

use crate::row::{self, Configured, StoredRow, Unusable, UnusableRow, COLUMNS, DEFAULT_USER};
use crate::schema;

/// MySQL error codes this store handles.
const ER_DUP_ENTRY: u16 = 1062;
const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;
const ER_LOCK_DEADLOCK: u16 = 1213;
/// MariaDB: `max_statement_time` exceeded.
const ER_STATEMENT_TIMEOUT: u16 = 1969;
/// MySQL 8: `NOWAIT` found the row locked.
const ER_LOCK_NOWAIT: u16 = 3572;
/// The session may not write: no privilege, `read_only`, a read-only transaction.
const READ_ONLY_CODES: [u16; 4] = [1142, 1290, 1792, 1836];

/// A save that keeps losing races with other writers (each loss means another process just wrote
/// the same key or took the same new id) gives up after this many attempts.
const SAVE_ATTEMPTS: usize = 16;

/// The SDKs' `id` is `varchar(10)`.
const MAX_ID: u64 = 9_999_999_999;

/// How long [`TokenStore::delete_all`] waits for the locks held on the store.
const DELETE_ALL_WAIT: Duration = Duration::from_secs(60);

/// The default of [`MysqlStore::with_hold_limit`].
const HOLD_LIMIT: Duration = Duration::from_secs(300);

/// How long opening a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The text whose SHA-256 is the `zo_key` of the store-wide lock row (no [`key_text`] is `*`: it
/// starts with a digit). Every key lock holds that row shared; `delete_all` holds it exclusive.
const STORE_LOCK_TEXT: &str = "*";

/// The row lock modes.
const SHARED: &str = "LOCK IN SHARE MODE";
const EXCLUSIVE: &str = "FOR UPDATE";

/// The named lock (`GET_LOCK`) a holder takes once it has the row lock of `?`, so that a waiter
/// that gives up can ask the server who holds it (`IS_USED_LOCK`): row locks are visible only
/// while someone waits for them. Names are server-wide, so they include the database.
const HOLDER_NAME: &str = "CONCAT('zoho_oauth:', LEFT(SHA2(CONCAT(DATABASE(), ':', ?), 256), 48))";

/// A [`TokenStore`] on a MySQL or MariaDB database, shared with the official Zoho SDKs and with
/// every process and machine that connects to it. See the [crate documentation](crate).
pub struct MysqlStore {
    pool: Pool,
    /// How the store names itself: `mysql://user@host:port/database` (no password).
    name: String,
    /// MariaDB bounds a statement's lock wait to the millisecond (`max_statement_time`); MySQL
    /// only to the second (`innodb_lock_wait_timeout`).
    mariadb: bool,
    /// How SDK rows whose `api_domain` does not say their data centre are keyed.
    configured: Option<Configured>,
    /// How long a lock holder may sit idle before the server ends its session.
    hold_limit: Duration,
}

impl fmt::Debug for MysqlStore {
    // The URL may carry a password: show nothing of it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MysqlStore").finish_non_exhaustive()
    }
}

impl MysqlStore {
    /// Connect to `url` (`mysql://user[:password]@host[:port]/database`; the SDKs' database is
    /// `zohooauth`), then create `oauthtoken` if it is missing and migrate it. Opening a
    /// connection gives up after 10 s.
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
        let name = format!(
            "mysql://{}@{}:{}/{}",
            opts.get_user().unwrap_or(""),
            opts.get_ip_or_hostname(),
            opts.get_tcp_port(),
            opts.get_db_name().unwrap_or("")
        );
        let constraints = PoolConstraints::new(0, 64).expect("0 <= 64");
        let opts = OptsBuilder::from_opts(opts)
            // UPDATE reports matched rows, not changed rows: an unchanged save still finds its row.
            .additional_capabilities(CapabilityFlags::CLIENT_FOUND_ROWS)
            .tcp_connect_timeout(Some(CONNECT_TIMEOUT))
            // Every read sees the latest commit, also inside the lock's transaction.
            .init(vec![
                "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
            ])
            // A pooled connection is checked before use (one the server closed is replaced) and
            // reset when returned (which rolls back and frees its named locks).
            .pool_opts(
                PoolOpts::default()
                    .with_constraints(constraints)
                    .with_check_health(true)
                    .with_reset_connection(true),
            );
        let pool = Pool::new(opts).map_err(|e| {
            StoreError::Database(format!(
                "cannot connect to MySQL ({e}): check the URL, that the server runs and that it accepts this user"
            ))
        })?;
        let mut store = Self {
            pool,
            name,
            mariadb: false,
            configured: None,
            hold_limit: HOLD_LIMIT,
        };
        let mut conn = store.conn()?;
        let version: Option<String> = conn.query_first("SELECT VERSION()").map_err(db)?;
        store.mariadb = version.is_some_and(|v| v.contains("MariaDB"));
        schema::migrate(&mut conn)?;
        // The store-wide lock row; a user that may not write cannot, and needs no lock to write.
        match conn.exec_drop(
            "INSERT IGNORE INTO zoho_oauth_lock (zo_key) VALUES (UNHEX(SHA2(?, 256)))",
            (STORE_LOCK_TEXT,),
        ) {
            Err(e) if !is_read_only(&e) => return Err(db(e)),
            _ => {}
        }
        Ok(store)
    }

    /// Key the official SDKs' rows whose `api_domain` does not name a Zoho data centre as the
    /// client using this store is configured: `accounts` (its accounts origin), `data_center` and
    /// `environment`. Older SDKs wrote no `api_domain` (NULL or empty): such rows belong to the
    /// configured data centre and environment; with a custom accounts origin (the emulator), so
    /// does a loopback `api_domain`. This is the rule of the core for every SDK row
    /// ([`Origin::region_of_api_domain`]), the CSV import's too.
    ///
    /// Without it, only rows whose `api_domain` is a Zoho API domain are credentials; the others
    /// are reported by [`unusable_rows`](Self::unusable_rows) (and logged by `list`).
    #[must_use]
    pub fn with_configured_region(
        mut self,
        accounts: Origin,
        data_center: DataCenter,
        environment: Environment,
    ) -> Self {
        self.configured = Some(Configured {
            accounts,
            data_center,
            environment,
        });
        self
    }

    /// How long a holder of a lock may sit idle on its connection (between its statements: while
    /// it talks to Zoho) before the server ends the session (`wait_timeout`, whole seconds),
    /// which frees the lock and rolls its cycle back (its later save or release is a
    /// [`StoreError::Database`]). Five minutes by default, far above a refresh's round trip; it
    /// bounds how long a frozen process can keep the others waiting.
    #[must_use]
    pub fn with_hold_limit(mut self, limit: Duration) -> Self {
        self.hold_limit = limit;
        self
    }

    /// The rows of `oauthtoken` that are not credentials this store can serve, and why (a grant
    /// token never exchanged, no client id, an `api_domain` that is not Zoho's, no `api_domain`
    /// without a configured region, a damaged row of ours). [`TokenStore::list`] leaves them out
    /// and logs a warning for each; a status display should show them.
    pub fn unusable_rows(&self) -> Result<Vec<UnusableRow>, StoreError> {
        let (_, unusable) = self.classify()?;
        Ok(unusable)
    }

    /// Every row, as a key or as a report of why it is not one.
    fn classify(&self) -> Result<(BTreeSet<CredentialKey>, Vec<UnusableRow>), StoreError> {
        let rows: Vec<mysql::Row> = self
            .conn()?
            .query(format!("SELECT {COLUMNS} FROM oauthtoken ORDER BY id"))
            .map_err(db)?;
        let mut keys = BTreeSet::new();
        let mut unusable = Vec::new();
        for raw in rows {
            let id: Option<String> = raw.get_opt(0).and_then(Result::ok);
            match StoredRow::read(raw) {
                Ok(row) => match row.key(self.configured.as_ref()) {
                    Ok(key) => {
                        keys.insert(key);
                    }
                    Err(why) => unusable.push(row.unusable(why)),
                },
                Err(e) => unusable.push(UnusableRow {
                    id: id.unwrap_or_default(),
                    user_name: None,
                    why: Unusable::Damaged(e.to_string()),
                }),
            }
        }
        Ok((keys, unusable))
    }

    fn conn(&self) -> Result<PooledConn, StoreError> {
        self.pool.get_conn().map_err(|e| {
            StoreError::Database(format!(
                "cannot connect to MySQL ({e}): check the URL, that the server runs and that it accepts this user"
            ))
        })
    }

    /// A `SELECT … {mode}` of the lock row `zo_key = UNHEX(SHA2(?, 256))` (the second `?`) that,
    /// in the exclusive mode, also takes the holder's named lock of the first `?`, waiting at
    /// most until `deadline`.
    fn lock_row_sql(&self, mode: &str, deadline: Option<Instant>) -> String {
        // Only an exclusive holder names itself: of many shared holders, the one that got the
        // named lock would be no more the holder than the others.
        let holder = if mode == EXCLUSIVE {
            format!("GET_LOCK({HOLDER_NAME}, 0)")
        } else {
            "LENGTH(?)".to_owned()
        };
        let select = format!(
            "SELECT {holder} FROM zoho_oauth_lock WHERE zo_key = UNHEX(SHA2(?, 256)) {mode}"
        );
        let remaining = deadline.map_or(Duration::ZERO, |d| {
            d.saturating_duration_since(Instant::now())
        });
        if remaining.is_zero() {
            format!("{select} NOWAIT")
        } else if self.mariadb {
            // Bounded to the millisecond; innodb_lock_wait_timeout (whole seconds) stays the
            // backstop.
            format!(
                "SET STATEMENT max_statement_time = {:.3} FOR {select}",
                remaining.as_secs_f64().max(0.001)
            )
        } else {
            select
        }
    }

    /// Take the lock row of `text` in `mode` within the open transaction. A missing row is
    /// inserted on its own, outside the transaction (a duplicate-key check inside it would take a
    /// shared lock that two waiters could then not both upgrade), which ends the transaction: the
    /// caller starts over.
    fn lock_row(
        &self,
        conn: &mut PooledConn,
        text: &str,
        mode: &str,
        deadline: Option<Instant>,
    ) -> Result<RowLock, mysql::Error> {
        let got: Option<Option<i64>> =
            conn.exec_first(self.lock_row_sql(mode, deadline), (text, text))?;
        if got.is_some() {
            return Ok(RowLock::Held);
        }
        conn.query_drop("ROLLBACK")?;
        match conn.exec_drop(
            "INSERT IGNORE INTO zoho_oauth_lock (zo_key) VALUES (UNHEX(SHA2(?, 256)))",
            (text,),
        ) {
            Err(e) if is_read_only(&e) => Ok(RowLock::CannotInsert(e.to_string())),
            Err(e) => Err(e),
            Ok(()) => Ok(RowLock::Inserted),
        }
    }

    /// The lock of `text` stayed held: a [`StoreError::Busy`] naming the holder if the server
    /// can say (the connection holding its named lock, from `PROCESSLIST` and `INNODB_TRX`).
    fn busy(
        &self,
        conn: &mut PooledConn,
        key: &CredentialKey,
        text: &str,
        started: Instant,
    ) -> StoreError {
        let mut busy = LockBusy::new(self.describe(), key, started.elapsed());
        let _ = conn.query_drop("ROLLBACK");
        let holder: Option<Option<u64>> = conn
            .exec_first(format!("SELECT IS_USED_LOCK({HOLDER_NAME})"), (text,))
            .ok()
            .flatten();
        if let Some(Some(id)) = holder {
            let detail: Option<String> = conn
                .exec_first(
                    "SELECT CONCAT(' (', p.USER, '@', p.HOST, ')', \
                     IFNULL(CONCAT(', in a transaction since ', t.trx_started), '')) \
                     FROM information_schema.PROCESSLIST p \
                     LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID \
                     WHERE p.ID = ?",
                    (id,),
                )
                .ok()
                .flatten();
            let server = if self.mariadb { "MariaDB" } else { "MySQL" };
            busy = busy.held_by(format!(
                "{server} connection {id}{}",
                detail.unwrap_or_default()
            ));
        }
        busy.into()
    }
}

/// `d` in whole seconds, rounded up, at least 1 (MySQL's timeouts count seconds).
fn whole_seconds(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

/// What [`MysqlStore::lock_row`] did.
enum RowLock {
    /// The row is locked, in the open transaction.
    Held,
    /// The row was missing and is inserted now; the transaction ended: start over.
    Inserted,
    /// The row was missing and this session may not insert it (why); the transaction ended.
    CannotInsert(String),
}

/// Whether `e` is one of the lock waits that gave up.
fn is_timeout(e: &mysql::Error) -> bool {
    matches!(
        code(e),
        Some(ER_LOCK_WAIT_TIMEOUT | ER_STATEMENT_TIMEOUT | ER_LOCK_NOWAIT)
    )
}

/// Whether `e` says the session may not write.
fn is_read_only(e: &mysql::Error) -> bool {
    code(e).is_some_and(|c| READ_ONLY_CODES.contains(&c))
}

impl TokenStore for MysqlStore {
    fn load(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
        load_on(&mut self.conn()?, key, self.configured.as_ref())
    }

    /// Every key of a usable row. Rows that are not credentials (see
    /// [`MysqlStore::unusable_rows`]) are left out, each with a warning; the others are listed.
    fn list(&self) -> Result<Vec<CredentialKey>, StoreError> {
        let (keys, unusable) = self.classify()?;
        for row in &unusable {
            tracing::warn!(
                store = %self.name, row = %row.id, user = row.user_name.as_deref().unwrap_or(""),
                why = %row.why, "a row of oauthtoken is not a credential this store can serve"
            );
        }
        Ok(keys.into_iter().collect())
    }

    /// Deletes every row of `oauthtoken`, the SDKs' rows included (as their `delete_tokens`),
    /// under the store-wide lock taken exclusive: it waits (at most 60 s) for every locked cycle.
    fn delete_all(&self) -> Result<(), StoreError> {
        let anyone = CredentialKey::new("*", "*", DataCenter::Us, Environment::Production);
        let mut conn = self.conn()?;
        let started = Instant::now();
        let deadline = started + DELETE_ALL_WAIT;
        conn.query_drop(format!(
            "SET SESSION innodb_lock_wait_timeout = {}",
            DELETE_ALL_WAIT.as_secs()
        ))
        .map_err(db)?;
        loop {
            conn.query_drop("START TRANSACTION").map_err(db)?;
            let mut run = || -> Result<RowLock, mysql::Error> {
                let got = self.lock_row(&mut conn, STORE_LOCK_TEXT, EXCLUSIVE, Some(deadline))?;
                if let RowLock::Held = got {
                    conn.query_drop("DELETE FROM oauthtoken")?;
                    conn.query_drop("COMMIT")?;
                }
                Ok(got)
            };
            match run() {
                Ok(RowLock::Held) => return Ok(()),
                Ok(RowLock::Inserted) => {}
                Ok(RowLock::CannotInsert(refused)) => {
                    return Err(StoreError::ReadOnly(format!("{}: {refused}", self.name)))
                }
                Err(e) if code(&e) == Some(ER_LOCK_DEADLOCK) && Instant::now() < deadline => {
                    conn.query_drop("ROLLBACK").map_err(db)?;
                }
                Err(e) if is_timeout(&e) => {
                    // Held shared by many cycles: none is the holder.
                    let _ = conn.query_drop("ROLLBACK");
                    return Err(LockBusy::new(self.describe(), &anyone, started.elapsed()).into());
                }
                Err(e) if is_read_only(&e) => {
                    return Err(StoreError::ReadOnly(format!("{}: {e}", self.name)))
                }
                Err(e) => return Err(db(e)),
            }
        }
    }

    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
        wait: LockWait,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError> {
        let mut conn = self.conn()?;
        let text = key_text(key);
        let started = Instant::now();
        let deadline = match wait {
            LockWait::NoWait => None,
            LockWait::AtMost(d) => Some(started + d),
        };
        // InnoDB's own bound, in whole seconds (at least 1): exact on MySQL to the second, a
        // backstop on MariaDB where max_statement_time bounds each statement (NoWait: NOWAIT).
        // A holder that stops (frozen, stuck in a debugger) is ended by the server after the
        // hold limit: its lock is not held forever. The pool's reset restores both.
        conn.query_drop(format!(
            "SET SESSION innodb_lock_wait_timeout = {}, wait_timeout = {}",
            whole_seconds(wait.limit()),
            whole_seconds(self.hold_limit)
        ))
        .map_err(db)?;
        loop {
            conn.query_drop("START TRANSACTION").map_err(db)?;
            // The store-wide row shared (only delete_all holds it exclusive), then the key's row.
            let mut waited_on = STORE_LOCK_TEXT;
            let mut take = || -> Result<RowLock, mysql::Error> {
                match self.lock_row(&mut conn, STORE_LOCK_TEXT, SHARED, deadline)? {
                    RowLock::Held => {}
                    other => return Ok(other),
                }
                waited_on = &text;
                self.lock_row(&mut conn, &text, EXCLUSIVE, deadline)
            };
            let locked = take();
            match locked {
                Ok(RowLock::Inserted) => {}
                Ok(RowLock::Held) => {
                    return Ok(Box::new(Locked {
                        store: self,
                        conn: Some(conn),
                        key: key.clone(),
                        failed: false,
                        read_only: None,
                    }))
                }
                // This session cannot write, so it cannot lose anyone's update: a transaction
                // without the row lock will do, and check_writable says why nothing will be saved.
                Ok(RowLock::CannotInsert(why)) => {
                    conn.query_drop("START TRANSACTION").map_err(db)?;
                    return Ok(Box::new(Locked {
                        store: self,
                        conn: Some(conn),
                        key: key.clone(),
                        failed: false,
                        read_only: Some(why),
                    }));
                }
                // InnoDB picked this transaction to break a deadlock: try again while time is left.
                Err(e)
                    if code(&e) == Some(ER_LOCK_DEADLOCK)
                        && deadline.is_some_and(|d| Instant::now() < d) =>
                {
                    conn.query_drop("ROLLBACK").map_err(db)?;
                }
                Err(e) if is_timeout(&e) || code(&e) == Some(ER_LOCK_DEADLOCK) => {
                    return Err(self.busy(&mut conn, key, waited_on, started))
                }
                Err(e) => return Err(db(e)),
            }
        }
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// The refresh lock of one key: an open transaction holding the key's lock row (and the
/// store-wide row, shared).
struct Locked<'s> {
    store: &'s MysqlStore,
    /// `None` once released.
    conn: Option<PooledConn>,
    key: CredentialKey,
    /// A statement failed: a deadlock rolls the whole transaction back (and drops the lock), so
    /// `release` must not report success.
    failed: bool,
    /// The session may not write (why): nothing will be saved, as `check_writable` says.
    read_only: Option<String>,
}

impl Locked<'_> {
    fn run<T>(
        &mut self,
        op: impl FnOnce(&mut PooledConn, &CredentialKey, Option<&Configured>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| StoreError::Other("the refresh lock was already released".into()))?;
        let out = op(conn, &self.key, self.store.configured.as_ref());
        // Only a statement that failed may have rolled the transaction back; a stored token that
        // does not decode leaves it usable.
        if matches!(out, Err(StoreError::Database(_))) {
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
        self.check_writable()?;
        self.run(|c, key, configured| save_on(c, key, token, configured))
    }

    fn delete(&mut self) -> Result<bool, StoreError> {
        self.check_writable()?;
        self.run(delete_on)
    }

    /// Whether this session may insert, update and delete rows of `oauthtoken`: three statements
    /// that touch no row, for the server to refuse (no privilege, `read_only`, a read-only
    /// transaction) before anything is asked of Zoho.
    fn check_writable(&mut self) -> Result<(), StoreError> {
        let name = self.store.name.clone();
        if let Some(why) = &self.read_only {
            return Err(StoreError::ReadOnly(format!("{name}: {why}")));
        }
        self.run(|c, _, _| {
            let probe = c.query_drop(
                "UPDATE oauthtoken SET id = id WHERE FALSE; \
                 DELETE FROM oauthtoken WHERE FALSE; \
                 INSERT INTO oauthtoken (id) SELECT id FROM oauthtoken WHERE FALSE",
            );
            match probe {
                Err(e) if is_read_only(&e) => Err(StoreError::ReadOnly(format!(
                    "{name}: {e}; GRANT this user INSERT, UPDATE and DELETE on oauthtoken, or use a writable server"
                ))),
                other => other.map_err(db),
            }
        })
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
        conn.query_drop("COMMIT").map_err(|e| {
            StoreError::Database(format!(
                "the commit under the refresh lock of {} failed ({e}): the cycle's change was stored whole or not at all; reload and retry",
                self.key
            ))
        })
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            // Roll back now so the lock is free at once; the pool's connection reset would too.
            let _ = conn.query_drop("ROLLBACK");
        }
    }
}

/// Our row of `key`, else the first SDK row that belongs to it.
fn find(
    conn: &mut PooledConn,
    key: &CredentialKey,
    configured: Option<&Configured>,
) -> Result<Option<StoredRow>, StoreError> {
    let ours: Option<mysql::Row> = conn
        .exec_first(
            format!("SELECT {COLUMNS} FROM oauthtoken WHERE zo_key = UNHEX(SHA2(?, 256))"),
            (key_text(key),),
        )
        .map_err(db)?;
    if let Some(row) = ours {
        return Ok(Some(StoredRow::read(row)?));
    }
    Ok(sdk_rows(conn, key, configured)?.into_iter().next())
}

/// The SDK rows (not written by this store) that belong to `key`, by `id`.
fn sdk_rows(
    conn: &mut PooledConn,
    key: &CredentialKey,
    configured: Option<&Configured>,
) -> Result<Vec<StoredRow>, StoreError> {
    // The collation may compare case- and trailing-space-insensitively: the exact key is checked
    // below. An SDK row without a user is the "default" user's.
    let no_user = if key.user == DEFAULT_USER {
        " OR user_name IS NULL OR user_name = ''"
    } else {
        ""
    };
    let rows: Vec<mysql::Row> = conn
        .exec(
            format!(
                "SELECT {COLUMNS} FROM oauthtoken \
                 WHERE zo_key IS NULL AND (user_name = ?{no_user}) AND client_id = ? ORDER BY id"
            ),
            (&key.user, &key.client_id),
        )
        .map_err(db)?;
    let mut found = Vec::new();
    for row in rows {
        // A row that cannot be read or keyed belongs to no key (unusable_rows reports it).
        let Ok(row) = StoredRow::read(row) else {
            continue;
        };
        if !row.is_ours() && row.key(configured).as_ref() == Ok(key) {
            found.push(row);
        }
    }
    Ok(found)
}

fn load_on(
    conn: &mut PooledConn,
    key: &CredentialKey,
    configured: Option<&Configured>,
) -> Result<Option<TokenSet>, StoreError> {
    find(conn, key, configured)?
        .map(|row| row.token(key, configured))
        .transpose()
}

/// Update our row of `key`, else adopt its SDK row (in place, same `id`), else insert a row; a
/// race with another writer (duplicate key or id) starts over.
fn save_on(
    conn: &mut PooledConn,
    key: &CredentialKey,
    token: &TokenSet,
    configured: Option<&Configured>,
) -> Result<(), StoreError> {
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

        if let Some(sdk_row) = sdk_rows(conn, key, configured)?.into_iter().next() {
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
fn delete_on(
    conn: &mut PooledConn,
    key: &CredentialKey,
    configured: Option<&Configured>,
) -> Result<bool, StoreError> {
    conn.exec_drop(
        "DELETE FROM oauthtoken WHERE zo_key = UNHEX(SHA2(?, 256))",
        (key_text(key),),
    )
    .map_err(db)?;
    let mut deleted = conn.affected_rows();
    for row in sdk_rows(conn, key, configured)? {
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
