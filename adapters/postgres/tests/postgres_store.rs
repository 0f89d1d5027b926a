//! `PostgresStore` against a real PostgreSQL server, each test in a scratch schema of its own.
//!
//! The server is `ZOHO_OAUTH_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//! When it cannot be reached every test prints why and passes, except with `CI=true`: then it fails.

use std::sync::Arc;
use std::time::Duration;

use postgres::{Client, NoTls};
use zoho_oauth::conformance::{self, token, LockEvidence, LockScope, Profile, UnreleasedSaves};
use zoho_oauth::{StoreError, TokenStore};
use zoho_oauth_postgres::{PostgresStore, SCHEMA_VERSION};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

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
        let mut admin = conformance::connected_or_skip(
            &format!("PostgreSQL at ZOHO_OAUTH_TEST_POSTGRES_URL (default {DEFAULT_URL})"),
            Client::connect(&base, NoTls),
        )?;
        let schema = conformance::scratch_name();
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

#[test]
fn a_schema_from_a_newer_version_is_refused_and_left_untouched() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    store.save(&conformance::keys()[0], &token(1)).unwrap();
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
    let keys = conformance::keys();
    let (ana, bo) = (&keys[0], &keys[7]);
    store.save(ana, &token(1)).unwrap();
    store.save(bo, &token(2)).unwrap();
    // Byte 3 is the encoding version (after the magic `ZOT`).
    db.execute(
        "UPDATE {schema}.zoho_oauth_credentials SET token = set_byte(token, 3, get_byte(token, 3) + 1) \
         WHERE user_name = 'ana@example.com'",
    );
    db.execute(
        "UPDATE {schema}.zoho_oauth_credentials SET token = '\\x3c68746d6c3e'::bytea \
         WHERE user_name = 'bo@example.org'",
    );
    assert!(matches!(store.load(ana), Err(StoreError::FutureVersion(_))));
    assert!(matches!(store.load(bo), Err(StoreError::Corrupt(_))));
}

#[test]
fn the_postgres_store_passes_every_conformance_check_against_a_second_connection() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let other_app = format!("{}_other", db.schema);
    let other = Arc::new(PostgresStore::connect(&db.url(&other_app)).unwrap());
    // The server itself says when the other store waits for an advisory lock.
    let mut waiting = || {
        let n: i64 = db
            .admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE application_name = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
                &[&other_app],
            )
            .unwrap()
            .get(0);
        n == 1
    };
    conformance::run_all(
        &store,
        other,
        Profile {
            lock_evidence: LockEvidence::BackendSaysWaiting {
                every: Duration::from_millis(5),
                waiting: &mut waiting,
            },
            ..Profile::new(UnreleasedSaves::RolledBack, LockScope::Key)
        },
    );
}

#[test]
fn the_lock_serialises_read_modify_write_across_processes() {
    let Some(db) = Scratch::new() else { return };
    conformance::locked_increments_across_processes(
        "the_lock_serialises_read_modify_write_across_processes",
        &db.url("zo_test"),
        |url| PostgresStore::connect(url).unwrap(),
    );
}
