//! `PostgresStore`: one row per credential, and a transaction-scoped advisory lock per credential
//! as the refresh lock.

use std::fmt;
use std::time::{Duration, Instant};

use postgres::{Client, Config};
use zoho_oauth::core::{DataCenter, Environment, TokenSet};
use zoho_oauth::{CredentialKey, LockBusy, LockWait, LockedCredential, StoreError, TokenStore};

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

/// The store-wide lock, an advisory lock of the two-`int4` kind (PostgreSQL keeps those apart
/// from the one-`bigint` kind of the key locks): every key lock holds it shared, `delete_all`
/// takes it exclusive, so `delete_all` waits for (and excludes) every locked cycle. The second
/// number is "ZO" + "AU" in ASCII; the first is the schema's hash (stores in different schemas do
/// not wait for each other).
const STORE_LOCK_ARGS: &str = "hashtext(current_schema()::text), 1515143509";
/// The lock of one key, of the one-`bigint` kind: a 64-bit hash of the schema and the key. Two
/// keys whose hashes collide share a lock, which is allowed (never unsafe).
const KEY_LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtextextended(current_schema()::text || ':' || $1::text, 0))";

/// Who holds the key lock of `$1` (or, when `$2`, the store-wide lock in any mode; else only in
/// the exclusive mode of `delete_all`), from the server's lock table: backend pid, application
/// name, client address and since when its transaction runs. Advisory locks show their key as
/// `classid` (high 32 bits) and `objid` (low 32 bits), `objsubid` 1 for one `bigint`, 2 for two
/// `int4`s.
const HOLDER: &str = "WITH k AS (SELECT hashtextextended(current_schema()::text || ':' || $1::text, 0) AS h) \
     SELECT format('PostgreSQL backend pid %s (application_name %L, client %s), in a transaction since %s UTC', \
         a.pid, a.application_name, coalesce(host(a.client_addr), 'local socket'), \
         to_char(a.xact_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')) \
     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid, k \
     WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid() \
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
       AND ((NOT $2 AND l.objsubid = 1 AND l.classid::text::bigint = (k.h >> 32) & 4294967295 \
             AND l.objid::text::bigint = k.h & 4294967295) \
         OR (l.objsubid = 2 AND l.classid::text::bigint = hashtext(current_schema()::text)::bigint & 4294967295 \
             AND l.objid::text::bigint = 1515143509 AND ($2 OR l.mode = 'ExclusiveLock'))) \
     ORDER BY l.objsubid LIMIT 1";

/// How long [`TokenStore::delete_all`] waits for the locks held on the store.
const DELETE_ALL_WAIT: Duration = Duration::from_secs(60);

/// The default of [`PostgresStore::with_hold_limit`].
const HOLD_LIMIT: Duration = Duration::from_secs(300);

/// How long opening a connection may take when the URL does not say (`connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A [`TokenStore`] on a PostgreSQL database, shared by every process and machine that connects to
/// it. See the [crate documentation](crate) for the locking and schema rules.
pub struct PostgresStore {
    pool: Pool,
    /// How long a lock holder may sit idle in its transaction before the server ends its session.
    hold_limit: Duration,
}

impl fmt::Debug for PostgresStore {
    // The URL may carry a password: show nothing of it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connect to `url` (`postgres://user[:password]@host[:port]/database[?options]`, or the
    /// `key=value` form), then create or migrate the schema. Opening a connection gives up after
    /// the URL's `connect_timeout`, 10 s when it sets none.
    ///
    /// Fails with [`StoreError::Other`] for a malformed URL, [`StoreError::Database`] when the
    /// server cannot be reached or refuses, and [`StoreError::FutureVersion`] when a newer version
    /// of this crate already owns the schema.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let mut config: Config = url.parse().map_err(|e| {
            StoreError::Other(format!(
                "the PostgreSQL URL is not valid ({}): write postgres://user[:password]@host[:port]/database",
                describe(&e)
            ))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let store = Self {
            pool: Pool::new(config),
            hold_limit: HOLD_LIMIT,
        };
        store.with_client(schema::migrate)?;
        Ok(store)
    }

    /// How long a holder of a lock may sit idle inside its transaction (between its statements:
    /// while it talks to Zoho) before the server ends its session, which frees the lock and rolls
    /// its cycle back (its later save or release is a [`StoreError::Database`]). Five minutes by
    /// default, far above a refresh's round trip; it bounds how long a frozen process can keep
    /// the others waiting.
    #[must_use]
    pub fn with_hold_limit(mut self, limit: Duration) -> Self {
        self.hold_limit = limit;
        self
    }

    /// Run `op` on a pooled connection; the connection goes back only if `op` succeeded. A reused
    /// connection that turns out closed (the server restarted, or an administrator ended the
    /// session while it was idle) is replaced by a new one and `op` runs again, once: `op` is
    /// one statement or one transaction, so nothing ran twice.
    fn with_client<T>(
        &self,
        mut op: impl FnMut(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let (mut client, reused) = self.pool.get()?;
        let out = match op(&mut client) {
            Err(_) if reused && !alive(&mut client) => {
                tracing::info!(store = %self.describe(), "a pooled PostgreSQL connection was closed by the server; reconnecting");
                client = self.pool.connect()?;
                op(&mut client)
            }
            out => out,
        }?;
        self.pool.put(client);
        Ok(out)
    }

    /// Run `sql` (statements without parameters) on a pooled connection, again on a new one if
    /// the pooled one turns out closed; the connection and the outcome.
    fn batch(&self, sql: &str) -> Result<(Client, Result<(), postgres::Error>), StoreError> {
        let (mut client, reused) = self.pool.get()?;
        let mut done = client.batch_execute(sql);
        if done.is_err() && reused && !alive(&mut client) {
            client = self.pool.connect()?;
            done = client.batch_execute(sql);
        }
        Ok((client, done))
    }

    /// Who holds the key lock of `key` (or, for `delete_all`, the store-wide lock), if the
    /// server can say; run after the failed attempt was rolled back.
    fn holder(client: &mut Client, name: &str, store_wide: bool) -> Option<String> {
        client
            .query_opt(HOLDER, &[&name, &store_wide])
            .ok()
            .flatten()
            .and_then(|row| row.try_get(0).ok())
    }

    /// A lock still held after the wait, with its holder if the server can say.
    fn busy(
        &self,
        mut client: Client,
        key: &CredentialKey,
        name: &str,
        store_wide: bool,
        started: Instant,
    ) -> StoreError {
        let waited = started.elapsed();
        let mut busy = LockBusy::new(self.describe(), key, waited);
        if client.batch_execute("ROLLBACK").is_ok() {
            if let Some(holder) = Self::holder(&mut client, name, store_wide) {
                busy = busy.held_by(holder);
            }
            self.pool.put(client);
        }
        busy.into()
    }
}

/// Whether a connection on which a statement just failed still answers (a server that ended the
/// session says so in an error before the connection reads as closed).
fn alive(client: &mut Client) -> bool {
    !client.is_closed() && client.is_valid(Duration::from_secs(5)).is_ok()
}

/// `SET LOCAL lock_timeout` for a wait of `limit`: at least 1 ms (0 would mean forever).
fn lock_timeout(limit: Duration) -> String {
    let ms = limit.as_millis().clamp(1, u128::from(u32::MAX >> 1));
    format!("SET LOCAL lock_timeout = '{ms}ms'")
}

fn is_lock_timeout(e: &postgres::Error) -> bool {
    e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE)
}

impl TokenStore for PostgresStore {
    fn load(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
        self.with_client(|c| load_on(c, key))
    }

    /// Every stored key. A row naming an unknown data centre or environment (written by hand or
    /// by a newer program) cannot be a [`CredentialKey`]: it is left out with a warning, and the
    /// other keys are listed.
    fn list(&self) -> Result<Vec<CredentialKey>, StoreError> {
        let rows = self.with_client(|c| c.query(LIST, &[]).map_err(db))?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in &rows {
            let user: String = row.try_get(0).map_err(db)?;
            let client_id: String = row.try_get(1).map_err(db)?;
            let dc: String = row.try_get(2).map_err(db)?;
            let env: String = row.try_get(3).map_err(db)?;
            match (DataCenter::from_location(&dc), Environment::from_name(&env)) {
                (Ok(data_center), Ok(environment)) => keys.push(CredentialKey::new(
                    user,
                    client_id,
                    data_center,
                    environment,
                )),
                _ => tracing::warn!(
                    store = %self.describe(), user = %user, data_center = %dc, environment = %env,
                    "a stored row names an unknown data centre or environment; it is not listed"
                ),
            }
        }
        Ok(keys)
    }

    fn delete_all(&self) -> Result<(), StoreError> {
        // DELETE, not TRUNCATE: TRUNCATE would wait for, and block, every reader of the table.
        // The store-wide lock taken exclusive first: it waits for every locked cycle, and no
        // cycle starts until the delete committed.
        let anyone = CredentialKey::new("*", "*", DataCenter::Us, Environment::Production);
        let started = Instant::now();
        let sql = format!(
            "BEGIN; {}; SELECT pg_advisory_xact_lock({STORE_LOCK_ARGS}); \
             DELETE FROM zoho_oauth_credentials; COMMIT",
            lock_timeout(DELETE_ALL_WAIT)
        );
        let (client, done) = self.batch(&sql)?;
        match done {
            Ok(()) => {
                self.pool.put(client);
                Ok(())
            }
            Err(e) if is_lock_timeout(&e) => Err(self.busy(client, &anyone, "", true, started)),
            // The connection is dropped, which ends the transaction.
            Err(e) => Err(db(e)),
        }
    }

    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
        wait: LockWait,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError> {
        let name = lock_name(key);
        // A holder that stops (frozen, swapped out, stuck in a debugger) while idle in its
        // transaction is ended by the server after the hold limit: its lock is not held forever.
        let begin = format!(
            "BEGIN; {}; SET LOCAL idle_in_transaction_session_timeout = '{}ms'; \
             SELECT pg_advisory_xact_lock_shared({STORE_LOCK_ARGS})",
            lock_timeout(wait.limit()),
            self.hold_limit
                .as_millis()
                .clamp(1, u128::from(u32::MAX >> 1))
        );
        let started = Instant::now();
        let (mut client, begun) = self.batch(&begin)?;
        // Each waits at most the lock timeout: the shared store lock only for a delete_all, the
        // key lock for every other holder of this key (until it commits or rolls back).
        let locked = begun.and_then(|()| client.execute(KEY_LOCK, &[&name]).map(drop));
        match locked {
            Ok(()) => Ok(Box::new(Locked {
                pool: &self.pool,
                client: Some(client),
                key: key.clone(),
                failed: false,
            })),
            Err(e) if is_lock_timeout(&e) => Err(self.busy(client, key, &name, false, started)),
            // Dropping the connection ends the transaction; it is not reused.
            Err(e) => Err(db(e)),
        }
    }

    fn describe(&self) -> String {
        self.pool.describe()
    }
}

/// The refresh lock of one key: an open transaction holding the key's advisory lock (and the
/// store-wide lock, shared).
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
        // Only a statement that failed aborts the transaction; a stored token that does not
        // decode, or one too long to encode, leaves it usable.
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
        self.run(|c, key| save_on(c, key, token))
    }

    fn delete(&mut self) -> Result<bool, StoreError> {
        self.run(|c, key| {
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

    /// A read-only transaction (a standby, `default_transaction_read_only`) or a user without
    /// `INSERT`, `UPDATE` and `DELETE` on the table cannot save: one query tells.
    fn check_writable(&mut self) -> Result<(), StoreError> {
        let store = self.pool.describe();
        self.run(|c, _| {
            let row = c
                .query_one(
                    "SELECT current_setting('transaction_read_only') = 'on', \
                     has_table_privilege('zoho_oauth_credentials', 'INSERT') \
                     AND has_table_privilege('zoho_oauth_credentials', 'UPDATE') \
                     AND has_table_privilege('zoho_oauth_credentials', 'DELETE')",
                    &[],
                )
                .map_err(db)?;
            let read_only: bool = row.try_get(0).map_err(db)?;
            let may_write: bool = row.try_get(1).map_err(db)?;
            if read_only {
                return Err(StoreError::ReadOnly(format!(
                    "{store} runs this session read-only (a standby, or default_transaction_read_only)"
                )));
            }
            if !may_write {
                return Err(StoreError::ReadOnly(format!(
                    "the user of {store} may not insert, update and delete zoho_oauth_credentials: GRANT it those"
                )));
            }
            Ok(())
        })
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
        client.batch_execute("COMMIT").map_err(|e| {
            StoreError::Database(format!(
                "the commit under the refresh lock of {} failed ({}): the cycle's change was stored whole or not at all; reload and retry",
                self.key,
                describe(&e)
            ))
        })?;
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
