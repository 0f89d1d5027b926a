//! `PostgresStore` against a real PostgreSQL server, each test in a scratch schema of its own.
//!
//! The server is `ZOHO_OAUTH_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//! When it cannot be reached every test prints why and passes, except with `CI=true`: then it fails.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant as WallClock};

use postgres::{Client, NoTls};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use zoho_oauth::core::{DataCenter, Environment, Instant, Secret, TokenSet};
use zoho_oauth::{CredentialKey, StoreError, TokenStore};
use zoho_oauth_postgres::{PostgresStore, SCHEMA_VERSION};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

static NEXT_SCRATCH: AtomicUsize = AtomicUsize::new(0);

/// A schema of its own on the test server, dropped at the end of the test.
struct Scratch {
    admin: Client,
    schema: String,
    base: String,
}

impl Scratch {
    /// `None` (after saying why) when the server is unreachable and `CI` is not `true`.
    fn new() -> Option<Self> {
        let base =
            std::env::var("ZOHO_OAUTH_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.into());
        let mut admin = match Client::connect(&base, NoTls) {
            Ok(c) => c,
            Err(e) => {
                let why = format!(
                    "PostgreSQL is not reachable at ZOHO_OAUTH_TEST_POSTGRES_URL (default {DEFAULT_URL}): {e:?}"
                );
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("{why}; CI=true requires the server");
                }
                eprintln!("skipped: {why}; start the server or set the URL (CI=true makes this a failure)");
                return None;
            }
        };
        let schema = format!(
            "zo_test_{}_{}",
            std::process::id(),
            NEXT_SCRATCH.fetch_add(1, Ordering::Relaxed)
        );
        admin
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
            ))
            .expect("create the scratch schema");
        Some(Self {
            admin,
            schema,
            base,
        })
    }

    /// A URL whose connections use the scratch schema, give up on a lock after 30 s (a test that
    /// would hang fails instead) and carry `application_name` = `app`.
    fn url(&self, app: &str) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}application_name={app}&options=-csearch_path%3D{}%20-clock_timeout%3D30s",
            self.base, self.schema
        )
    }

    fn store(&self) -> PostgresStore {
        PostgresStore::connect(&self.url("zo_test")).expect("connect the store")
    }

    fn execute(&mut self, sql: &str) {
        let sql = sql.replace("{schema}", &self.schema);
        self.admin.batch_execute(&sql).expect("admin statement");
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = self
            .admin
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
    }
}

fn key(user: &str) -> CredentialKey {
    CredentialKey::new(
        user,
        "1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG",
        DataCenter::Eu,
        Environment::Production,
    )
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

/// Poll `condition` until it holds; fail after 30 s or when `gave_up` says the other side is gone.
fn wait_until(what: &str, mut condition: impl FnMut() -> bool, gave_up: impl Fn() -> bool) {
    let deadline = WallClock::now() + Duration::from_secs(30);
    while !condition() {
        assert!(!gave_up(), "the other thread ended before: {what}");
        assert!(
            WallClock::now() < deadline,
            "timed out waiting until {what}"
        );
        thread::sleep(Duration::from_millis(5));
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
    // A second store on the same database sees it: the row is the truth, not a cache.
    assert_eq!(db.store().load(&ana).unwrap(), Some(token(2)));
}

#[test]
fn keys_that_differ_only_in_data_centre_or_environment_are_separate_credentials() {
    let Some(db) = Scratch::new() else { return };
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
}

#[test]
fn list_delete_and_delete_all_see_exactly_the_stored_keys() {
    let Some(db) = Scratch::new() else { return };
    let store = db.store();
    let (ana, bo) = (key("ana@example.com"), key("bo@example.com"));
    assert_eq!(store.list().unwrap(), vec![]);
    store.save(&bo, &token(1)).unwrap();
    store.save(&ana, &token(2)).unwrap();
    let mut listed = store.list().unwrap();
    listed.sort();
    assert_eq!(listed, vec![ana.clone(), bo.clone()]);

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
        "UPDATE {{schema}}.zoho_oauth_schema SET version = {}",
        SCHEMA_VERSION + 1
    ));
    match PostgresStore::connect(&db.url("zo_test")) {
        Err(StoreError::FutureVersion(why)) => assert!(why.contains("version 2"), "{why}"),
        other => panic!("expected FutureVersion, got {other:?}"),
    }
    let schema = db.schema.clone();
    let rows: i64 = db
        .admin
        .query_one(
            &format!("SELECT count(*) FROM {schema}.zoho_oauth_credentials"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(rows, 1, "the refused store changed nothing");
}

#[test]
fn stored_bytes_from_a_newer_encoding_are_refused_and_garbage_is_reported_corrupt() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let (ana, bo) = (key("ana@example.com"), key("bo@example.com"));
    store.save(&ana, &token(1)).unwrap();
    store.save(&bo, &token(2)).unwrap();
    // Byte 3 is the encoding version (after the magic `ZOT`).
    db.execute(
        "UPDATE {schema}.zoho_oauth_credentials SET token = set_byte(token, 3, get_byte(token, 3) + 1) \
         WHERE user_name = 'ana@example.com'",
    );
    db.execute(
        "UPDATE {schema}.zoho_oauth_credentials SET token = '\\x3c68746d6c3e'::bytea \
         WHERE user_name = 'bo@example.com'",
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
    let waiter_app = format!("{}_waiter", db.schema);
    let waiter_url = db.url(&waiter_app);

    let mut held = holder.lock(&ana).unwrap();
    let (seen_tx, seen_rx) = mpsc::channel();
    let waiter = {
        let ana = ana.clone();
        thread::spawn(move || {
            let store = PostgresStore::connect(&waiter_url).unwrap();
            let mut locked = store.lock(&ana).unwrap();
            let seen = locked.load().unwrap();
            locked.release().unwrap();
            seen_tx.send(seen).unwrap();
        })
    };
    // The server itself says when the waiter is blocked on the advisory lock.
    wait_until(
        "the waiter blocks on the lock",
        || {
            let n: i64 = db
                .admin
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity \
                     WHERE application_name = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
                    &[&waiter_app],
                )
                .unwrap()
                .get(0);
            n == 1
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
    assert_eq!(seen_rx.recv().unwrap(), Some(token(1)));
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
    // Free again: another connection takes it at once (lock_timeout would fail this otherwise).
    let other = db.store();
    let mut locked = other.lock(&ana).unwrap();
    locked.save(&token(3)).unwrap();
    locked.release().unwrap();
    assert_eq!(store.load(&ana).unwrap(), Some(token(3)));
}

#[test]
fn locks_of_different_keys_do_not_wait_for_each_other() {
    let Some(db) = Scratch::new() else { return };
    let (one, two) = (db.store(), db.store());
    let ana_lock = one.lock(&key("ana@example.com")).unwrap();
    // With lock_timeout set, waiting here would fail rather than hang.
    let mut bo_lock = two.lock(&key("bo@example.com")).unwrap();
    bo_lock.save(&token(1)).unwrap();
    bo_lock.release().unwrap();
    drop(ana_lock);
    assert_eq!(one.load(&key("bo@example.com")).unwrap(), Some(token(1)));
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

/// Keys that differ in case, trailing spaces, client, data centre or environment only.
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
                        let mut listed = store.list().unwrap();
                        listed.sort();
                        let mut expected: Vec<_> = model.keys().cloned().collect();
                        expected.sort();
                        prop_assert_eq!(listed, expected);
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
