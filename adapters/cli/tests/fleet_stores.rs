//! The fleet stores through the binary: `--store postgres://…`, `--store mysql://…` and
//! `--store redis://…` against the local servers. 16 `zoho-oauth token` processes at expiry share
//! one refresh through the store's lock; a revoke that comes during a refresh waits for it and
//! the credential stays gone; the official SDKs' `oauthtoken` rows are keyed with the client's
//! configured data centre and the rows that are not credentials are shown by `status`. Skipped
//! with a message when a server is unreachable, except under `CI=true`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{access, now_ms, run_concurrently, wait_until, Spawned, World, USER};
use mysql::prelude::Queryable;
use zoho_oauth::core::Instant;
use zoho_oauth::TokenStore;

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";
const MYSQL_ADMIN: &str = "mysql://root@127.0.0.1:3306/test";
const REDIS: &str = "redis://127.0.0.1:6379/0";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Which server a scratch store lives on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Server {
    Postgres,
    Mysql,
    Redis,
}

/// A fresh database on one server (a fresh key prefix on Redis), dropped at the end.
struct Scratch {
    url: String,
    drop_sql: String,
    admin: String,
    server: Server,
}

/// `None` after saying why when the server is down and `CI` is not `true`.
fn reachable<T, E: std::fmt::Debug>(what: &str, r: Result<T, E>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{what} is not reachable ({e:?}); CI=true requires it")
        }
        Err(e) => {
            eprintln!(
                "skipped: {what} is not reachable ({e:?}); start it (CI=true makes this a failure)"
            );
            None
        }
    }
}

impl Scratch {
    fn name() -> String {
        format!(
            "zo_cli_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        )
    }

    fn postgres() -> Option<Self> {
        let mut admin = reachable(
            "PostgreSQL",
            postgres::Client::connect(PG_ADMIN, postgres::NoTls),
        )?;
        let db = Self::name();
        admin
            .batch_execute(&format!("CREATE DATABASE {db}"))
            .unwrap();
        Some(Self {
            url: format!("postgres://postgres@127.0.0.1:5432/{db}"),
            drop_sql: format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
            admin: PG_ADMIN.into(),
            server: Server::Postgres,
        })
    }

    fn mysql() -> Option<Self> {
        let pool = reachable("MariaDB/MySQL", mysql::Pool::new(MYSQL_ADMIN))?;
        let mut conn = reachable("MariaDB/MySQL", pool.get_conn())?;
        let db = Self::name();
        conn.query_drop(format!("CREATE DATABASE {db}")).unwrap();
        Some(Self {
            url: format!("mysql://root@127.0.0.1:3306/{db}"),
            drop_sql: format!("DROP DATABASE IF EXISTS {db}"),
            admin: MYSQL_ADMIN.into(),
            server: Server::Mysql,
        })
    }

    /// A key prefix of its own in Redis's database 0 (nothing to create).
    fn redis() -> Option<Self> {
        reachable("Redis", zoho_oauth_redis::RedisStore::connect(REDIS))?;
        let url = format!("{REDIS}?prefix={}", Self::name());
        Some(Self {
            url,
            drop_sql: String::new(),
            admin: REDIS.into(),
            server: Server::Redis,
        })
    }

    fn store(&self) -> Box<dyn TokenStore> {
        match self.server {
            Server::Postgres => {
                Box::new(zoho_oauth_postgres::PostgresStore::connect(&self.url).unwrap())
            }
            Server::Mysql => Box::new(zoho_oauth_mysql::MysqlStore::connect(&self.url).unwrap()),
            Server::Redis => Box::new(zoho_oauth_redis::RedisStore::connect(&self.url).unwrap()),
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        match self.server {
            Server::Postgres => {
                if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
                    let _ = c.batch_execute(&self.drop_sql);
                }
            }
            Server::Mysql => {
                if let Ok(mut c) = mysql::Conn::new(self.admin.as_str()) {
                    let _ = c.query_drop(&self.drop_sql);
                }
            }
            // Released leases leave no key: deleting the credentials empties the prefix.
            Server::Redis => {
                if let Ok(store) = zoho_oauth_redis::RedisStore::connect(&self.url) {
                    let _ = store.delete_all();
                }
            }
        }
    }
}

fn sixteen_token_processes_at_expiry_share_one_refresh(db: Scratch) {
    let w = World::new();
    let code = w.code();
    w.run(&["--store", &db.url, "exchange", "--grant-token", &code])
        .ok();

    // Expire the stored access token (keeping the refresh token), as an hour passing would.
    let store = db.store();
    let key = World::key(USER);
    let mut t = store
        .load(&key)
        .unwrap()
        .expect("the exchange stored the credential");
    let old = access(&t);
    t.expires_at = Instant::from_millis(now_ms() - 1_000);
    t.issued_at = t.expires_at.saturating_sub(Duration::from_secs(3600));
    common::save_locked(&*store, &key, &t);
    w.emu.reset_counters();

    let outputs = run_concurrently((0..16).map(|_| {
        let mut c = w.cmd();
        c.args(["--store", &db.url, "token"]);
        c
    }));
    for o in &outputs {
        assert!(o.status.success(), "{o:?}");
    }
    let stored = store.load(&key).unwrap().expect("still stored");
    let new = access(&stored);
    assert_ne!(new, old);
    assert_eq!(
        stored.refresh_token, t.refresh_token,
        "the refresh token is kept"
    );
    for o in &outputs {
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), new);
    }
    assert_eq!(
        w.emu.counters().refresh_token_requests,
        1,
        "one refresh for all 16"
    );

    // And the credential reads back through the CLI: status sees it, revoke removes it.
    let status = w.run(&["--store", &db.url, "status", "--json"]).ok().json();
    assert_eq!(status[0]["user"], USER);
    w.run(&["--store", &db.url, "revoke"]).ok();
    assert_eq!(store.load(&key).unwrap(), None);
}

/// Exchange into `db` and move the stored access token's expiry to `from_now_ms` from now (an
/// hour after it was issued); returns the store and the access token.
fn stored_with_expiry(w: &World, db: &Scratch, from_now_ms: i64) -> (Box<dyn TokenStore>, String) {
    let code = w.code();
    w.run(&["--store", &db.url, "exchange", "--grant-token", &code])
        .ok();
    let store = db.store();
    let key = World::key(USER);
    let mut t = store.load(&key).unwrap().expect("stored");
    t.expires_at = Instant::from_millis((now_ms() as i64 + from_now_ms) as u64);
    t.issued_at = t.expires_at.saturating_sub(Duration::from_secs(3600));
    common::save_locked(&*store, &key, &t);
    (store, access(&t))
}

/// After Zoho throttles a credential, the window is kept in the shared database: the next
/// processes exit 4 saying when to retry without asking Zoho, `status` shows the window, and a
/// forced refresh is refused locally.
fn a_throttle_is_honoured_by_every_process_sharing_the_store(db: Scratch) {
    let w = World::new();
    stored_with_expiry(&w, &db, -1_000);
    w.emu.reset_counters();
    w.emu.queue_fault(zoho_oauth_emulator::Fault::Throttle, 1);
    for _ in 0..5 {
        let run = w.run(&["--store", &db.url, "token"]).code(4);
        assert!(run.stderr.contains("Zoho is throttling"), "{run:#?}");
        assert!(run.stderr.contains("do not retry for about"), "{run:#?}");
    }
    assert_eq!(
        w.emu.counters().token_requests,
        1,
        "only the throttled request"
    );
    let status = w.run(&["--store", &db.url, "status", "--json"]).ok().json();
    assert_eq!(status[0]["paused_because"], "throttled", "{status}");
    let forced = w.run(&["--store", &db.url, "refresh", "--force"]).code(4);
    assert!(forced.stderr.contains("Zoho is throttling"), "{forced:#?}");
    assert_eq!(w.emu.counters().token_requests, 1);
}

/// A token that is due but still valid is refreshed by the next `token` (which takes the lock
/// without waiting, since it could serve the valid token if the lock were held).
fn a_due_token_is_refreshed_by_the_next_process(db: Scratch) {
    let w = World::new();
    let (store, old) = stored_with_expiry(&w, &db, 30_000);
    w.emu.reset_counters();
    let run = w.run(&["--store", &db.url, "token"]).ok();
    assert_eq!(w.emu.counters().refresh_token_requests, 1, "{run:#?}");
    let new = access(&store.load(&World::key(USER)).unwrap().unwrap());
    assert_ne!(new, old);
    assert_eq!(run.stdout.trim(), new);
}

/// A revoke that starts while another process refreshes the credential (holding its lock, its
/// request slow at Zoho) waits for that refresh, then revokes and deletes: the refresh cannot
/// write the credential back, and every process after it finds none.
fn a_revoke_during_a_refresh_waits_for_it_and_the_credential_stays_gone(db: Scratch) {
    let w = World::new();
    let (store, old) = stored_with_expiry(&w, &db, -1_000);
    w.emu.reset_counters();
    w.emu.set_latency(Duration::from_millis(1_500));
    let refresh = Spawned::start(w.cmd().args(["--store", &db.url, "token"]));
    wait_until(Duration::from_secs(30), "the refresh to reach Zoho", || {
        w.emu.counters().in_flight >= 1
    });
    let revoke = Spawned::start(w.cmd().args(["--store", &db.url, "revoke", "--json"]));
    let (code, token, stderr) = refresh.finish(Duration::from_secs(60));
    assert_eq!(code, 0, "{stderr}");
    assert_ne!(token.trim(), old, "the refresh finished with a new token");
    let (code, revoked, stderr) = revoke.finish(Duration::from_secs(60));
    assert_eq!(code, 0, "{stderr}");
    let revoked: serde_json::Value = serde_json::from_str(&revoked).unwrap();
    assert_eq!(revoked["at_zoho"], "revoked", "{revoked}");
    w.emu.set_latency(Duration::ZERO);

    assert_eq!(store.load(&World::key(USER)).unwrap(), None);
    let c = w.emu.counters();
    assert_eq!((c.refresh_token_requests, c.revocations), (1, 1), "{c:?}");
    let after = w.run(&["--store", &db.url, "token"]).code(3);
    assert!(after.stderr.contains("error: "), "{after:#?}");
    assert_eq!(
        w.emu.counters().refresh_token_requests,
        1,
        "nothing to refresh"
    );
}

#[test]
fn a_revoke_during_a_refresh_on_a_postgres_store_waits_and_the_credential_stays_gone() {
    if let Some(db) = Scratch::postgres() {
        a_revoke_during_a_refresh_waits_for_it_and_the_credential_stays_gone(db);
    }
}

#[test]
fn a_revoke_during_a_refresh_on_a_mysql_store_waits_and_the_credential_stays_gone() {
    if let Some(db) = Scratch::mysql() {
        a_revoke_during_a_refresh_waits_for_it_and_the_credential_stays_gone(db);
    }
}

#[test]
fn a_revoke_during_a_refresh_on_a_redis_store_waits_and_the_credential_stays_gone() {
    if let Some(db) = Scratch::redis() {
        a_revoke_during_a_refresh_waits_for_it_and_the_credential_stays_gone(db);
    }
}

#[test]
fn sixteen_processes_on_a_redis_store_at_expiry_refresh_once() {
    if let Some(db) = Scratch::redis() {
        sixteen_token_processes_at_expiry_share_one_refresh(db);
    }
}

#[test]
fn a_throttle_on_a_redis_store_is_honoured_by_every_process() {
    if let Some(db) = Scratch::redis() {
        a_throttle_is_honoured_by_every_process_sharing_the_store(db);
    }
}

#[test]
fn a_redis_url_with_a_wrong_password_fails_without_echoing_it() {
    let Some(db) = Scratch::redis() else { return };
    let w = World::new();
    let url = db.url.replace("redis://", "redis://:wrong-hunter2@");
    let run = w.run(&["--store", &url, "status"]);
    assert_ne!(run.code, 0, "{run:#?}");
    assert!(!run.stderr.contains("hunter2"), "{run:#?}");
    assert_eq!(common::lines(&run.stderr).len(), 2, "{run:#?}");
}

#[test]
fn a_throttle_on_a_postgres_store_is_honoured_by_every_process() {
    if let Some(db) = Scratch::postgres() {
        a_throttle_is_honoured_by_every_process_sharing_the_store(db);
    }
}

#[test]
fn a_throttle_on_a_mysql_store_is_honoured_by_every_process() {
    if let Some(db) = Scratch::mysql() {
        a_throttle_is_honoured_by_every_process_sharing_the_store(db);
    }
}

#[test]
fn a_due_token_on_a_postgres_store_is_refreshed_by_the_next_process() {
    if let Some(db) = Scratch::postgres() {
        a_due_token_is_refreshed_by_the_next_process(db);
    }
}

#[test]
fn a_due_token_on_a_mysql_store_is_refreshed_by_the_next_process() {
    if let Some(db) = Scratch::mysql() {
        a_due_token_is_refreshed_by_the_next_process(db);
    }
}

#[test]
fn sixteen_processes_on_a_postgres_store_at_expiry_refresh_once() {
    if let Some(db) = Scratch::postgres() {
        sixteen_token_processes_at_expiry_share_one_refresh(db);
    }
}

#[test]
fn sixteen_processes_on_a_mysql_store_at_expiry_refresh_once() {
    if let Some(db) = Scratch::mysql() {
        sixteen_token_processes_at_expiry_share_one_refresh(db);
    }
}

/// The table the official SDKs' documentation creates for their MySQL `DBStore`.
const SDK_TABLE: &str =
    "CREATE TABLE oauthtoken (id varchar(10) NOT NULL, user_name varchar(255), \
    client_id varchar(255), client_secret varchar(255), refresh_token varchar(255), \
    access_token varchar(255), grant_token varchar(255), expiry_time varchar(20), \
    redirect_url varchar(255), api_domain varchar(255), primary key (id))";

/// An `oauthtoken` row as the Python SDK's `DBStore.save_token` writes it: id and expiry (epoch
/// milliseconds) as text, `api_domain` as configured (NULL unless told).
fn sdk_row(id: u32, user: &str, client_id: Option<&str>, api_domain: Option<&str>) -> String {
    let quoted = |v: Option<&str>| v.map_or("NULL".to_owned(), |v| format!("'{v}'"));
    format!(
        "INSERT INTO oauthtoken VALUES ('{id}','{user}',{},'5f1d0c2b9a8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b',\
         '1000.{id:04}7e0f9d8b6a5c4e3f2a1b0c9d8e7f.6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d',\
         '1000.{id:04}5d3c1a0f8e6d4c2b0a9f8e7d6c5b.4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d',NULL,\
         '1795986965929','https://app.example.com/oauth/callback',{})",
        quoted(client_id),
        quoted(api_domain)
    )
}

#[test]
fn status_on_the_sdks_mysql_table_keys_rows_by_the_configured_centre_and_shows_those_that_are_not_credentials(
) {
    let Some(db) = Scratch::mysql() else { return };
    let w = World::new();
    let client = Some(zoho_oauth_emulator::DEFAULT_CLIENT_ID);
    let mut conn = mysql::Conn::new(db.url.as_str()).unwrap();
    conn.query_drop(SDK_TABLE).unwrap();
    for row in [
        // No api_domain (older SDKs, and today's unless told): the configured centre's.
        sdk_row(1, "alice@example.com", client, None),
        // The emulator's origin, as an SDK configured with a custom URL writes it.
        sdk_row(2, "bob@example.com", client, Some(&w.base())),
        // Zoho's EU API domain: an EU credential, not served by a client that allows only US.
        sdk_row(
            3,
            "carol@example.com",
            client,
            Some("https://www.zohoapis.eu"),
        ),
        // No client id: not a credential of anyone.
        sdk_row(5, "erin@example.com", None, None),
    ] {
        conn.query_drop(row).unwrap();
    }
    // A grant token the SDK never exchanged.
    conn.query_drop(
        "INSERT INTO oauthtoken (id, user_name, client_id, grant_token, redirect_url) VALUES \
         ('4', 'dan@example.com', '1000.EMULATORCLIENT0000000000000000', \
          '1000.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef', 'https://app.example.com/cb')",
    )
    .unwrap();

    let status = w.run(&["--store", &db.url, "status", "--json"]).ok().json();
    let rows = status.as_array().unwrap();
    let users: Vec<&str> = rows.iter().map(|r| r["user"].as_str().unwrap()).collect();
    assert_eq!(
        users,
        [
            "alice@example.com",
            "bob@example.com",
            "dan@example.com",
            "erin@example.com"
        ],
        "{status:#}"
    );
    for credential in &rows[..2] {
        assert_eq!(credential["data_center"], "us");
        assert!(credential["damaged"].is_null() && credential["unusable_row"].is_null());
    }
    let unusable: Vec<(&str, &str)> = rows[2..]
        .iter()
        .map(|r| {
            assert!(r["damaged"].is_string(), "{r}");
            (
                r["unusable_row"]["id"].as_str().unwrap(),
                r["unusable_row"]["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(unusable[0].0, "4");
    assert!(unusable[0].1.contains("grant token"), "{unusable:?}");
    assert_eq!(unusable[1].0, "5");
    assert!(unusable[1].1.contains("client_id"), "{unusable:?}");

    let human = w.run(&["--store", &db.url, "status"]).ok();
    assert!(
        human
            .stdout
            .contains("2 row(s) of the oauthtoken table are not credentials"),
        "{human:#?}"
    );
    assert!(
        human.stdout.contains("  row 4 (dan@example.com): "),
        "{human:#?}"
    );
    assert!(
        human.stderr.contains("data centre(s) eu are not shown"),
        "carol's is an EU credential: {human:#?}"
    );
    let dan = w
        .run(&[
            "--store",
            &db.url,
            "status",
            "--json",
            "--user",
            "dan@example.com",
        ])
        .ok()
        .json();
    assert_eq!(dan.as_array().unwrap().len(), 1);
    assert_eq!(dan[0]["unusable_row"]["id"], "4");
}
