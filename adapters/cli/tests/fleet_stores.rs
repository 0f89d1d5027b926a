//! The fleet stores through the binary: `--store postgres://…` and `--store mysql://…` against the
//! local servers. 16 `zoho-oauth token` processes at expiry share one refresh through the
//! database's lock. Skipped with a message when a server is unreachable, except under `CI=true`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{access, now_ms, run_concurrently, World, USER};
use mysql::prelude::Queryable;
use zoho_oauth::core::Instant;
use zoho_oauth::TokenStore;

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";
const MYSQL_ADMIN: &str = "mysql://root@127.0.0.1:3306/test";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh database on one server, dropped at the end.
struct Scratch {
    url: String,
    drop_sql: String,
    admin: String,
    postgres: bool,
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
            postgres: true,
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
            postgres: false,
        })
    }

    fn store(&self) -> Box<dyn TokenStore> {
        if self.postgres {
            Box::new(zoho_oauth_postgres::PostgresStore::connect(&self.url).unwrap())
        } else {
            Box::new(zoho_oauth_mysql::MysqlStore::connect(&self.url).unwrap())
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.postgres {
            if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
                let _ = c.batch_execute(&self.drop_sql);
            }
        } else if let Ok(mut c) = mysql::Conn::new(self.admin.as_str()) {
            let _ = c.query_drop(&self.drop_sql);
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
    store.save(&key, &t).unwrap();
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
