//! `PostgresStore` against a real PostgreSQL server, each test in a scratch schema of its own.
//!
//! The server is `ZOHO_OAUTH_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//! When it cannot be reached every test prints why and passes, except with `CI=true`: then it fails.

use std::sync::Arc;
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};
use zoho_oauth::store::conformance::{
    self, save, token, LockEvidence, LockScope, Profile, UnreleasedSaves,
};
use zoho_oauth::{LockWait, StoreError, TokenStore};
use zoho_oauth_postgres::{PostgresStore, SCHEMA_VERSION};

#[path = "shared/db_faults.rs"]
mod db_faults;

/// A lock wait long enough for a lock that must come free.
const WAIT: LockWait = LockWait::AtMost(Duration::from_secs(30));

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

    /// A store whose connections carry `application_name` = `<schema>_<role>`.
    fn store_as(&self, role: &str) -> PostgresStore {
        PostgresStore::connect(&self.url(&self.app(role))).expect("connect the store")
    }

    fn app(&self, role: &str) -> String {
        format!("{}_{role}", self.schema)
    }

    fn execute(&mut self, sql: &str) {
        let sql = sql.replace("{schema}", &self.schema);
        self.admin.batch_execute(&sql).expect("admin statement");
    }

    /// The backend pid of the one session of `role` that is inside a transaction.
    fn pid_in_transaction(&mut self, role: &str) -> i32 {
        self.admin
            .query_one(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1 \
                 AND state IN ('idle in transaction', 'active') AND xact_start IS NOT NULL",
                &[&self.app(role)],
            )
            .expect("one session of the role in a transaction")
            .get(0)
    }

    /// End the sessions of `role` as an administrator or a server shutdown would; how many.
    fn terminate(&mut self, role: &str) -> i64 {
        self.admin
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
                &[&self.app(role)],
            )
            .unwrap()
            .get(0)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = self.admin.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {0} CASCADE; DROP ROLE IF EXISTS {0}_reader",
            self.schema
        ));
    }
}

#[test]
fn a_schema_from_a_newer_version_is_refused_and_left_untouched() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    save(&store, &conformance::keys()[0], &token(1)).unwrap();
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
    save(&store, ana, &token(1)).unwrap();
    save(&store, bo, &token(2)).unwrap();
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
    // A password in the URL (the server trusts local users and ignores it): describe() must not
    // show it.
    let with_password = db
        .url(&other_app)
        .replacen("postgres@", "postgres:zo-pw-4f1c9e@", 1);
    let other = Arc::new(PostgresStore::connect(&with_password).unwrap());
    let mut damager = Client::connect(&db.url("zo_damage"), NoTls).unwrap();
    let mut damage = |key: &zoho_oauth::CredentialKey| {
        let changed = damager
            .execute(
                "UPDATE zoho_oauth_credentials SET token = '\\x5a4f5402ffff'::bytea \
                 WHERE user_name = $1 AND client_id = $2 AND data_center = $3 AND environment = $4",
                &[
                    &key.user,
                    &key.client_id,
                    &key.data_center.location_code(),
                    &key.environment.name(),
                ],
            )
            .unwrap();
        assert_eq!(changed, 1);
    };
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
            damage: Some(&mut damage),
            secrets: &["zo-pw-4f1c9e"],
            ..Profile::new(UnreleasedSaves::RolledBack, LockScope::Key)
        },
    );
}

#[test]
fn a_locked_delete_excludes_saves_across_processes() {
    let Some(db) = Scratch::new() else { return };
    conformance::a_locked_delete_excludes_saves_across_processes(
        "a_locked_delete_excludes_saves_across_processes",
        &db.url("zo_test"),
        |url| PostgresStore::connect(url).unwrap(),
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

#[test]
fn a_row_naming_an_unknown_data_centre_is_left_out_of_the_list_and_the_others_serve() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let keys = conformance::keys();
    let (ana, bo) = (&keys[3], &keys[7]);
    save(&store, ana, &token(1)).unwrap();
    save(&store, bo, &token(2)).unwrap();
    db.execute(
        "UPDATE {schema}.zoho_oauth_credentials SET data_center = 'mars' WHERE client_id = '1000.OTHERCLIENTID'",
    );
    assert_eq!(store.list().unwrap(), vec![bo.clone()]);
    assert_eq!(store.load(bo).unwrap(), Some(token(2)));
}

#[test]
fn a_lock_held_elsewhere_is_busy_within_the_bound_naming_the_holders_backend_and_application() {
    let Some(mut db) = Scratch::new() else { return };
    let holder = db.store_as("holder");
    let waiter = db.store_as("waiter");
    let keys = conformance::keys();
    let held = holder.lock(&keys[0], WAIT).unwrap();
    let pid = db.pid_in_transaction("holder");

    let started = Instant::now();
    let e = waiter.lock(&keys[0], LockWait::NoWait).err().expect("busy");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let StoreError::Busy(busy) = e else {
        panic!("{e:?}")
    };
    assert_eq!(busy.store, "postgres://postgres@127.0.0.1:5432/test");
    assert_eq!(busy.key, keys[0].to_string());
    let named = busy.holder.clone().expect("PostgreSQL names the holder");
    assert!(named.contains(&format!("pid {pid}")), "{named}");
    assert!(named.contains(&db.app("holder")), "{named}");
    assert!(named.contains("since"), "{named}");

    let bound = Duration::from_millis(400);
    let started = Instant::now();
    let e = waiter
        .lock(&keys[0], LockWait::AtMost(bound))
        .err()
        .expect("busy");
    let waited = started.elapsed();
    assert!(
        matches!(&e, StoreError::Busy(b) if b.waited >= bound),
        "{e:?}"
    );
    assert!(waited < bound + Duration::from_secs(2), "{waited:?}");
    // Other keys are not held.
    waiter
        .lock(&keys[1], LockWait::NoWait)
        .unwrap()
        .release()
        .unwrap();
    drop(held);
    waiter
        .lock(&keys[0], LockWait::NoWait)
        .unwrap()
        .release()
        .unwrap();
}

#[test]
fn check_writable_says_read_only_for_a_user_without_write_grants_and_for_a_read_only_session() {
    let Some(mut db) = Scratch::new() else { return };
    let keys = conformance::keys();
    save(&db.store(), &keys[0], &token(1)).unwrap();
    db.execute(
        "CREATE ROLE {schema}_reader LOGIN; GRANT USAGE ON SCHEMA {schema} TO {schema}_reader; \
         GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {schema}_reader",
    );
    let url = db
        .url("zo_test")
        .replacen("postgres@", &format!("{}_reader@", db.schema), 1);
    let reader = PostgresStore::connect(&url).expect("a read-only user connects");
    assert_eq!(reader.load(&keys[0]).unwrap(), Some(token(1)));
    let mut locked = reader.lock(&keys[0], WAIT).unwrap();
    let e = locked.check_writable().unwrap_err();
    assert!(
        matches!(&e, StoreError::ReadOnly(m) if m.contains("GRANT")),
        "{e:?}"
    );
    drop(locked);

    let read_only = PostgresStore::connect(&format!(
        "{}%20-cdefault_transaction_read_only%3Don",
        db.url("zo_test")
    ))
    .expect("a read-only session connects");
    let mut locked = read_only.lock(&keys[0], WAIT).unwrap();
    assert!(matches!(
        locked.check_writable(),
        Err(StoreError::ReadOnly(_))
    ));
    drop(locked);

    let writer = db.store();
    let mut locked = writer.lock(&keys[0], WAIT).unwrap();
    locked.check_writable().unwrap();
}

#[test]
fn a_holder_whose_session_is_terminated_between_load_and_save_gets_a_typed_error_and_nothing_is_lost_or_held(
) {
    let Some(mut db) = Scratch::new() else { return };
    let (victim, other) = (db.store_as("victim"), db.store());
    db_faults::killed_between_load_and_save(&victim, &other, &mut || {
        assert_eq!(db.terminate("victim"), 1);
    });
}

#[test]
fn a_session_lost_between_save_and_commit_leaves_the_previous_credential_whole() {
    let Some(mut db) = Scratch::new() else { return };
    let (victim, other) = (db.store_as("victim"), db.store());
    db_faults::killed_between_save_and_commit(&victim, &other, &mut || {
        assert_eq!(db.terminate("victim"), 1);
    });
}

#[test]
fn after_the_server_dropped_every_connection_the_next_operations_reconnect() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store_as("restarted");
    db_faults::reconnects_after_every_session_ended(&store, &mut || {
        assert!(db.terminate("restarted") >= 1);
    });
}

#[test]
fn a_holder_that_stops_inside_its_cycle_loses_the_lock_after_the_hold_limit_and_cannot_save() {
    let Some(db) = Scratch::new() else { return };
    let frozen = db.store().with_hold_limit(Duration::from_millis(500));
    db_faults::a_stopped_holder_loses_the_lock_after_the_hold_limit(&frozen, &db.store());
}
