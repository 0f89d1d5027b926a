//! `MysqlStore` against a real MySQL/MariaDB server, each test in a scratch database of its own.
//!
//! The server is `ZOHO_OAUTH_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`; the
//! database in the path is replaced by the scratch one). When it cannot be reached every test
//! prints why and passes, except with `CI=true`: then it fails.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant as WallClock};

use mysql::prelude::Queryable;
use mysql::{Conn, Opts};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use zoho_oauth::core::{DataCenter, Environment, Instant, Secret, TokenSet};
use zoho_oauth::{CredentialKey, StoreError, TokenStore};
use zoho_oauth_mysql::{MysqlStore, SCHEMA_VERSION};

const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3306/test";
const CLIENT_ID: &str = "1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG";

static NEXT_SCRATCH: AtomicUsize = AtomicUsize::new(0);

/// A database of its own on the test server, dropped at the end of the test.
struct Scratch {
    admin: Conn,
    name: String,
    url: String,
}

impl Scratch {
    /// `None` (after saying why) when the server is unreachable and `CI` is not `true`.
    fn new() -> Option<Self> {
        let base =
            std::env::var("ZOHO_OAUTH_TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_URL.into());
        let connected = Opts::from_url(&base)
            .map_err(mysql::Error::from)
            .and_then(Conn::new);
        let mut admin = match connected {
            Ok(c) => c,
            Err(e) => {
                let why = format!(
                    "MySQL/MariaDB is not reachable at ZOHO_OAUTH_TEST_MYSQL_URL (default {DEFAULT_URL}): {e}"
                );
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("{why}; CI=true requires the server");
                }
                eprintln!("skipped: {why}; start the server or set the URL (CI=true makes this a failure)");
                return None;
            }
        };
        let name = format!(
            "zo_test_{}_{}",
            std::process::id(),
            NEXT_SCRATCH.fetch_add(1, Ordering::Relaxed)
        );
        admin
            .query_drop(format!("DROP DATABASE IF EXISTS {name}"))
            .and_then(|()| admin.query_drop(format!("CREATE DATABASE {name}")))
            .expect("create the scratch database");
        let prefix = base.rsplit_once('/').map_or(base.as_str(), |(p, _)| p);
        let url = format!("{prefix}/{name}");
        Some(Self { admin, name, url })
    }

    fn store(&self) -> MysqlStore {
        MysqlStore::connect(&self.url).expect("connect the store")
    }

    /// Run `sql` in the scratch database.
    fn execute(&mut self, sql: &str) {
        self.admin.query_drop(format!("USE {}", self.name)).unwrap();
        self.admin.query_drop(sql).expect("admin statement");
    }

    /// The SDKs' view of a row: `select * from oauthtoken where user_name='…' limit 1`.
    fn sdk_row(&mut self, user: &str) -> Vec<Option<String>> {
        self.admin.query_drop(format!("USE {}", self.name)).unwrap();
        let row: mysql::Row = self
            .admin
            .exec_first(
                "select * from oauthtoken where user_name = ? limit 1",
                (user,),
            )
            .unwrap()
            .expect("the SDK finds the row");
        (0..10)
            .map(|i| row.get::<Option<String>, _>(i).unwrap())
            .collect()
    }

    fn count(&mut self, sql: &str) -> i64 {
        self.admin.query_drop(format!("USE {}", self.name)).unwrap();
        self.admin.query_first(sql).unwrap().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = self
            .admin
            .query_drop(format!("DROP DATABASE IF EXISTS {}", self.name));
    }
}

fn key(user: &str) -> CredentialKey {
    CredentialKey::new(user, CLIENT_ID, DataCenter::Eu, Environment::Production)
}

/// A token set shaped like Zoho's: `1000.` + 32 hex + `.` + 32 hex tokens, one hour of life, the
/// EU `api_domain`, CRM scopes and one mint.
fn token(seed: u64) -> TokenSet {
    let refresh = format!("1000.{:032x}.{:032x}", seed, seed.wrapping_mul(0x9e37_79b9));
    let access = format!("1000.{:032x}.{:032x}", seed ^ 0xffff, seed.wrapping_add(7));
    let mut t = TokenSet::new(&refresh).unwrap();
    t.access_token = Some(Secret::new("access_token", &access).unwrap());
    t.issued_at = Instant::from_millis(1_717_000_000_000 + seed * 1000);
    t.expires_at = t.issued_at.saturating_add(Duration::from_secs(3600));
    t.api_domain.push_str("https://www.zohoapis.eu").unwrap();
    t.scope
        .push_str("ZohoCRM.modules.ALL ZohoCRM.settings.READ")
        .unwrap();
    t.mints.record(t.issued_at);
    t
}

/// The table as the SDKs' documentation creates it, with one row as the Python SDK's
/// `DBStore.save_token` inserts it after a grant-token exchange.
const SDK_TABLE_AND_ROW: &str = "
    CREATE TABLE oauthtoken (
      id varchar(10) NOT NULL,
      user_name varchar(255),
      client_id varchar(255),
      client_secret varchar(255),
      refresh_token varchar(255),
      access_token varchar(255),
      grant_token varchar(255),
      expiry_time varchar(20),
      redirect_url varchar(255),
      api_domain varchar(255),
      primary key (id)
    );
    insert into oauthtoken (id,user_name,client_id,client_secret,refresh_token,access_token,grant_token,expiry_time,redirect_url,api_domain)
    values ('1','ana@example.com','1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG','5f1d0c2b9a8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b',
            '1000.3c1a7e0f9d8b6a5c4e3f2a1b0c9d8e7f.6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d',
            '1000.9b7e5d3c1a0f8e6d4c2b0a9f8e7d6c5b.4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d',
            '1000.ab12cd34ef56ab78cd90ef12ab34cd56.78ef90ab12cd34ef56ab78cd90ef12ab',
            '1717003600000','https://app.example.com/oauth/callback','https://www.zohoapis.eu');
";

/// How often [`wait_until`] asks the server about lock waits. InnoDB serves `INNODB_TRX`,
/// `INNODB_LOCKS` and `INNODB_LOCK_WAITS` from one buffer that it refreshes only when it was last
/// read more than 0.1 s ago (MySQL manual, "Persistence and Consistency of InnoDB Transaction and
/// Locking Information"): polled more often, it keeps showing its first snapshot forever, taken
/// before the waiter blocked. Not a sleep standing in for synchronisation: the condition is the
/// server's own view, this is only the pace of asking.
const LOCK_VIEW_POLL: Duration = Duration::from_millis(200);

/// Poll `condition` every `every` until it holds; fail after 30 s or when `gave_up` says the
/// other side is gone.
fn wait_until(
    what: &str,
    every: Duration,
    mut condition: impl FnMut() -> bool,
    gave_up: impl Fn() -> bool,
) {
    let deadline = WallClock::now() + Duration::from_secs(30);
    while !condition() {
        assert!(!gave_up(), "the other thread ended before: {what}");
        assert!(
            WallClock::now() < deadline,
            "timed out waiting until {what}"
        );
        thread::sleep(every);
    }
}

#[test]
fn a_saved_token_loads_back_unchanged_and_a_second_save_replaces_it() {
    let Some(db) = Scratch::new() else { return };
    let store = db.store();
    let ana = key("ana@example.com");
    assert_eq!(store.load(&ana).unwrap(), None);
    store.save(&ana, &token(1)).unwrap();
    assert_eq!(store.load(&ana).unwrap(), Some(token(1)));
    store.save(&ana, &token(2)).unwrap();
    assert_eq!(store.load(&ana).unwrap(), Some(token(2)));
    // Saving the same token again still finds its row (no second row).
    store.save(&ana, &token(2)).unwrap();
    assert_eq!(db.store().load(&ana).unwrap(), Some(token(2)));
}

#[test]
fn keys_that_differ_only_in_data_centre_or_environment_are_separate_credentials() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let eu = key("ana@example.com");
    let mut us = eu.clone();
    us.data_center = DataCenter::Us;
    let mut sandbox = eu.clone();
    sandbox.environment = Environment::Sandbox;
    store.save(&eu, &token(1)).unwrap();
    store.save(&us, &token(2)).unwrap();
    store.save(&sandbox, &token(3)).unwrap();
    assert_eq!(store.load(&eu).unwrap(), Some(token(1)));
    assert_eq!(store.load(&us).unwrap(), Some(token(2)));
    assert_eq!(store.load(&sandbox).unwrap(), Some(token(3)));
    assert_eq!(db.count("SELECT COUNT(*) FROM oauthtoken"), 3);
}

#[test]
fn list_delete_and_delete_all_see_exactly_the_stored_keys() {
    let Some(db) = Scratch::new() else { return };
    let store = db.store();
    let (ana, bo) = (key("ana@example.com"), key("bo@example.com"));
    assert_eq!(store.list().unwrap(), vec![]);
    store.save(&bo, &token(1)).unwrap();
    store.save(&ana, &token(2)).unwrap();
    assert_eq!(store.list().unwrap(), vec![ana.clone(), bo.clone()]);

    assert!(store.delete(&ana).unwrap());
    assert!(
        !store.delete(&ana).unwrap(),
        "a second delete finds nothing"
    );
    assert_eq!(store.list().unwrap(), vec![bo.clone()]);
    assert_eq!(store.load(&ana).unwrap(), None);

    store.save(&ana, &token(3)).unwrap();
    store.delete_all().unwrap();
    assert_eq!(store.list().unwrap(), vec![]);
    assert_eq!(store.load(&bo).unwrap(), None);
}

#[test]
fn a_schema_from_a_newer_version_is_refused_and_left_untouched() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    store.save(&key("ana@example.com"), &token(1)).unwrap();
    drop(store);
    db.execute(&format!(
        "UPDATE zoho_oauth_schema SET version = {}",
        SCHEMA_VERSION + 1
    ));
    match MysqlStore::connect(&db.url) {
        Err(StoreError::FutureVersion(why)) => assert!(why.contains("version 2"), "{why}"),
        other => panic!("expected FutureVersion, got {other:?}"),
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM oauthtoken"), 1);
}

#[test]
fn a_table_of_an_sdk_older_than_v5_is_refused_and_left_untouched() {
    let Some(mut db) = Scratch::new() else { return };
    db.execute(
        "CREATE TABLE oauthtoken (id varchar(255) NOT NULL, user_mail varchar(255) NOT NULL, \
         client_id varchar(255), client_secret varchar(255), refresh_token varchar(255), \
         access_token varchar(255), grant_token varchar(255), expiry_time varchar(20), \
         redirect_url varchar(255), primary key (id))",
    );
    match MysqlStore::connect(&db.url) {
        Err(StoreError::Corrupt(why)) => assert!(why.contains("user_name"), "{why}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let columns = db.count(
        "SELECT COUNT(*) FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'oauthtoken'",
    );
    assert_eq!(columns, 9, "no column was added");
}

#[test]
fn stored_state_from_a_newer_encoding_is_refused_and_garbage_is_reported_corrupt() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let (ana, bo) = (key("ana@example.com"), key("bo@example.com"));
    store.save(&ana, &token(1)).unwrap();
    store.save(&bo, &token(2)).unwrap();
    // Byte 4 (1-based) is the encoding version, after the magic `ZOT`.
    db.execute(
        "UPDATE oauthtoken SET zo_state = CONCAT(SUBSTRING(zo_state, 1, 3), \
         CHAR(ASCII(SUBSTRING(zo_state, 4, 1)) + 1), SUBSTRING(zo_state, 5)) \
         WHERE user_name = 'ana@example.com'",
    );
    db.execute(
        "UPDATE oauthtoken SET zo_state = X'3c68746d6c3e' WHERE user_name = 'bo@example.com'",
    );
    assert!(matches!(
        store.load(&ana),
        Err(StoreError::FutureVersion(_))
    ));
    assert!(matches!(store.load(&bo), Err(StoreError::Corrupt(_))));
}

#[test]
fn the_refresh_lock_excludes_a_holder_on_another_connection_until_released() {
    let Some(mut db) = Scratch::new() else { return };
    let holder = db.store();
    let ana = key("ana@example.com");
    let url = db.url.clone();

    let mut held = holder.lock(&ana).unwrap();
    let (seen_tx, seen_rx) = mpsc::channel();
    let waiter = {
        let ana = ana.clone();
        thread::spawn(move || {
            // Errors go to the main thread, which says what it was waiting for when it fails.
            let seen = MysqlStore::connect(&url).and_then(|store| {
                let mut locked = store.lock(&ana)?;
                let seen = locked.load()?;
                locked.release().map(|()| seen)
            });
            let _ = seen_tx.send(seen);
        })
    };
    // The server itself says when the waiter waits for a row lock of this database's lock table.
    let lock_table = format!("`{}`.`zoho_oauth_lock`", db.name);
    wait_until(
        "the waiter blocks on the lock",
        LOCK_VIEW_POLL,
        || {
            let n: Option<i64> = db
                .admin
                .exec_first(
                    "SELECT COUNT(*) FROM information_schema.INNODB_LOCK_WAITS w \
                     JOIN information_schema.INNODB_LOCKS l ON l.lock_id = w.requested_lock_id \
                     WHERE l.lock_table = ?",
                    (&lock_table,),
                )
                .unwrap();
            n == Some(1)
        },
        || waiter.is_finished(),
    );
    assert!(
        seen_rx.try_recv().is_err(),
        "the waiter got the lock while it was held"
    );

    held.save(&token(1)).unwrap();
    held.release().unwrap();
    // The waiter's load ran under its lock, after our commit.
    assert_eq!(seen_rx.recv().unwrap().unwrap(), Some(token(1)));
    waiter.join().unwrap();
}

#[test]
fn dropping_the_lock_without_release_rolls_back_and_frees_it() {
    let Some(db) = Scratch::new() else { return };
    let store = db.store();
    let ana = key("ana@example.com");
    store.save(&ana, &token(1)).unwrap();
    {
        let mut locked = store.lock(&ana).unwrap();
        assert_eq!(locked.load().unwrap(), Some(token(1)));
        locked.save(&token(2)).unwrap();
    }
    assert_eq!(store.load(&ana).unwrap(), Some(token(1)));
    // Free again: another connection takes it (a hang would fail the timeout below).
    let (done_tx, done_rx) = mpsc::channel();
    let url = db.url.clone();
    let other_key = ana.clone();
    thread::spawn(move || {
        let other = MysqlStore::connect(&url).unwrap();
        let mut locked = other.lock(&other_key).unwrap();
        locked.save(&token(3)).unwrap();
        locked.release().unwrap();
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the dropped lock was free");
    assert_eq!(store.load(&ana).unwrap(), Some(token(3)));
}

#[test]
fn a_row_written_by_the_official_sdk_is_read_and_listed() {
    let Some(mut db) = Scratch::new() else { return };
    db.execute(SDK_TABLE_AND_ROW);
    // Not credentials: a row still waiting for its grant exchange, and one for a custom domain.
    db.execute(
        "insert into oauthtoken (id,user_name,client_id,grant_token) \
         values ('2','bo@example.com','1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG','1000.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef')",
    );
    db.execute(
        "insert into oauthtoken (id,user_name,client_id,refresh_token,api_domain) \
         values ('3','cy@example.com','1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG','1000.aa.bb','https://crm.example.org')",
    );
    let store = db.store();
    let ana = key("ana@example.com");
    assert_eq!(store.list().unwrap(), vec![ana.clone()]);

    let token = store.load(&ana).unwrap().expect("the SDK's row");
    assert_eq!(
        token.refresh_token.expose(),
        "1000.3c1a7e0f9d8b6a5c4e3f2a1b0c9d8e7f.6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d"
    );
    assert_eq!(
        token.access_token.as_ref().map(|a| a.expose()),
        Some("1000.9b7e5d3c1a0f8e6d4c2b0a9f8e7d6c5b.4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d")
    );
    assert_eq!(token.expires_at, Instant::from_millis(1_717_003_600_000));
    assert_eq!(token.api_domain.as_str(), "https://www.zohoapis.eu");
    // The same user in another data centre is another credential, which the SDK row is not.
    let mut us = ana.clone();
    us.data_center = DataCenter::Us;
    assert_eq!(store.load(&us).unwrap(), None);
}

#[test]
fn saving_over_an_sdk_row_updates_it_in_place_and_keeps_what_the_store_does_not_know() {
    let Some(mut db) = Scratch::new() else { return };
    db.execute(SDK_TABLE_AND_ROW);
    let store = db.store();
    let ana = key("ana@example.com");
    store.save(&ana, &token(5)).unwrap();

    assert_eq!(db.count("SELECT COUNT(*) FROM oauthtoken"), 1);
    let row = db.sdk_row("ana@example.com");
    let t = token(5);
    assert_eq!(row[0].as_deref(), Some("1"), "same id");
    assert_eq!(row[2].as_deref(), Some(CLIENT_ID));
    assert_eq!(
        row[3].as_deref(),
        Some("5f1d0c2b9a8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b"),
        "client_secret kept"
    );
    assert_eq!(row[4].as_deref(), Some(t.refresh_token.expose()));
    assert_eq!(
        row[5].as_deref(),
        t.access_token.as_ref().map(|a| a.expose())
    );
    assert_eq!(
        row[6].as_deref(),
        Some("1000.ab12cd34ef56ab78cd90ef12ab34cd56.78ef90ab12cd34ef56ab78cd90ef12ab"),
        "grant_token kept"
    );
    assert_eq!(row[7], Some(t.expires_at.as_millis().to_string()));
    assert_eq!(
        row[8].as_deref(),
        Some("https://app.example.com/oauth/callback"),
        "redirect_url kept"
    );
    assert_eq!(row[9].as_deref(), Some("https://www.zohoapis.eu"));
    assert_eq!(store.load(&ana).unwrap(), Some(t));
}

#[test]
fn a_row_the_store_inserts_is_readable_the_way_the_sdk_reads_it() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let mut t = token(7);
    t.api_domain.clear(); // Zoho sent none: the key's data centre and environment fill the column.
    let mut bo = key("bo@example.com");
    bo.environment = Environment::Sandbox;
    store.save(&bo, &t).unwrap();
    store.save(&key("cy@example.com"), &token(8)).unwrap();

    let row = db.sdk_row("bo@example.com");
    let id: u64 = row[0].as_deref().unwrap().parse().expect("a numeric id");
    assert_eq!(row[1].as_deref(), Some("bo@example.com"));
    assert_eq!(row[2].as_deref(), Some(CLIENT_ID));
    assert_eq!(
        row[3].as_deref(),
        Some(""),
        "client_secret is not known to a store"
    );
    assert_eq!(row[4].as_deref(), Some(t.refresh_token.expose()));
    assert_eq!(
        row[5].as_deref(),
        t.access_token.as_ref().map(|a| a.expose())
    );
    assert_eq!(row[6], None);
    assert_eq!(row[7], Some(t.expires_at.as_millis().to_string()));
    assert_eq!(row[8], None);
    assert_eq!(row[9].as_deref(), Some("https://sandbox.zohoapis.eu"));
    // The SDK's generate_id: int(max(id)) + 1 must not collide.
    let max = db.count("SELECT CAST(MAX(id) AS UNSIGNED) FROM oauthtoken");
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) FROM oauthtoken WHERE id = '{}'",
            max + 1
        )),
        0
    );
    assert!(id >= 1);
    // And the store still reads its own row exactly (the empty api_domain included).
    assert_eq!(store.load(&bo).unwrap(), Some(t));
}

#[test]
fn a_refresh_the_sdk_writes_after_the_store_wins_and_keeps_the_mint_budget() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let ana = key("ana@example.com");
    let before = token(1);
    store.save(&ana, &before).unwrap();
    // What the Python SDK's save_token does after its own refresh.
    db.execute(
        "update oauthtoken set user_name='ana@example.com',access_token='1000.1111222233334444aaaabbbbccccdddd.eeeeffff00001111222233334444aaaa',\
         expiry_time='1717090000000' where user_name='ana@example.com' limit 1",
    );
    let after = store.load(&ana).unwrap().unwrap();
    assert_eq!(
        after.access_token.as_ref().map(|a| a.expose()),
        Some("1000.1111222233334444aaaabbbbccccdddd.eeeeffff00001111222233334444aaaa")
    );
    assert_eq!(after.expires_at, Instant::from_millis(1_717_090_000_000));
    assert_eq!(after.refresh_token, before.refresh_token);
    assert_eq!(after.mints, before.mints);
    assert_eq!(after.scope, before.scope);
}

#[derive(Clone, Debug)]
enum Op {
    Save(usize, u64),
    Load(usize),
    Delete(usize),
    List,
    DeleteAll,
    LockedSave(usize, u64),
    LockedSaveDropped(usize, u64),
}

/// Keys that differ in case, trailing spaces (both equal under MySQL's default collations),
/// client, data centre or environment only.
fn model_keys() -> Vec<CredentialKey> {
    let mut keys = vec![
        key("ana@example.com"),
        key("Ana@example.com"),
        key("ana@example.com "),
        CredentialKey::new(
            "ana@example.com",
            "1000.OTHERCLIENT",
            DataCenter::Eu,
            Environment::Production,
        ),
    ];
    let mut us = key("ana@example.com");
    us.data_center = DataCenter::Us;
    keys.push(us);
    let mut dev = key("ana@example.com");
    dev.environment = Environment::Developer;
    keys.push(dev);
    keys
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0..model_keys().len();
    prop_oneof![
        3 => (k.clone(), 0..1000u64).prop_map(|(k, s)| Op::Save(k, s)),
        3 => k.clone().prop_map(Op::Load),
        2 => k.clone().prop_map(Op::Delete),
        1 => Just(Op::List),
        1 => Just(Op::DeleteAll),
        1 => (k.clone(), 0..1000u64).prop_map(|(k, s)| Op::LockedSave(k, s)),
        1 => (k, 0..1000u64).prop_map(|(k, s)| Op::LockedSaveDropped(k, s)),
    ]
}

#[test]
fn the_store_behaves_like_a_map_from_key_to_token() {
    let Some(db) = Scratch::new() else { return };
    let store = db.store();
    let keys = model_keys();
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 32,
        ..ProptestConfig::default()
    });
    runner
        .run(&proptest::collection::vec(op(), 1..16), |ops| {
            store.delete_all().unwrap();
            let mut model: HashMap<CredentialKey, TokenSet> = HashMap::new();
            for op in ops {
                match op {
                    Op::Save(k, s) => {
                        store.save(&keys[k], &token(s)).unwrap();
                        model.insert(keys[k].clone(), token(s));
                    }
                    Op::Load(k) => {
                        prop_assert_eq!(store.load(&keys[k]).unwrap(), model.get(&keys[k]).cloned())
                    }
                    Op::Delete(k) => prop_assert_eq!(
                        store.delete(&keys[k]).unwrap(),
                        model.remove(&keys[k]).is_some()
                    ),
                    Op::List => {
                        let mut expected: Vec<_> = model.keys().cloned().collect();
                        expected.sort();
                        prop_assert_eq!(store.list().unwrap(), expected);
                    }
                    Op::DeleteAll => {
                        store.delete_all().unwrap();
                        model.clear();
                    }
                    Op::LockedSave(k, s) => {
                        let mut locked = store.lock(&keys[k]).unwrap();
                        prop_assert_eq!(locked.load().unwrap(), model.get(&keys[k]).cloned());
                        locked.save(&token(s)).unwrap();
                        locked.release().unwrap();
                        model.insert(keys[k].clone(), token(s));
                    }
                    Op::LockedSaveDropped(k, s) => {
                        let mut locked = store.lock(&keys[k]).unwrap();
                        locked.save(&token(s)).unwrap();
                        drop(locked);
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}
