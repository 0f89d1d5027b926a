//! SqliteStore: the conformance checks (across instances and processes), permissions, schema
//! versions and damaged rows.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rusqlite::Connection;
use zoho_oauth::conformance::{self, LockEvidence, LockScope, Profile, UnreleasedSaves};
use zoho_oauth::{StoreError, TokenStore};
use zoho_oauth_sqlite::{SqliteStore, SCHEMA_VERSION};

fn store_in(dir: &tempfile::TempDir) -> (SqliteStore, PathBuf) {
    let path = dir.path().join("tokens.sqlite3");
    (SqliteStore::open(&path).unwrap(), path)
}

#[cfg(unix)]
#[test]
fn the_database_and_its_wal_and_shm_files_are_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = store_in(&dir);
    store
        .save(&conformance::keys()[0], &conformance::token(1))
        .unwrap();
    let _held = store.lock(&conformance::keys()[0]).unwrap(); // keeps -wal and -shm in place
    let sibling = |suffix: &str| PathBuf::from(format!("{}{suffix}", path.display()));
    for p in [path.clone(), sibling("-wal"), sibling("-shm")] {
        assert!(p.exists(), "{} exists", p.display());
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
}

#[test]
fn a_newer_schema_version_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = store_in(&dir);
    store
        .save(&conformance::keys()[0], &conformance::token(1))
        .unwrap();
    drop(store);
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);

    let e = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(e, StoreError::FutureVersion(_)), "{e:?}");
    let conn = Connection::open(&path).unwrap();
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION + 1);
    let rows: u32 = conn
        .query_row("SELECT count(*) FROM credentials", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);
}

#[test]
fn a_file_that_is_not_ours_is_reported_corrupt_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    // Not a database at all: the SDKs' CSV token file, given by mistake.
    let csv = dir.path().join("tokens.csv");
    let text = "id,user_name,client_id,client_secret,refresh_token,access_token,grant_token,expiry_time,redirect_url,api_domain\n";
    std::fs::write(&csv, text).unwrap();
    let e = SqliteStore::open(&csv).unwrap_err();
    assert!(matches!(e, StoreError::Corrupt(_)), "{e:?}");
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), text);

    // Another application's database.
    let other = dir.path().join("app.sqlite3");
    let conn = Connection::open(&other).unwrap();
    conn.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL);")
        .unwrap();
    drop(conn);
    let e = SqliteStore::open(&other).unwrap_err();
    assert!(matches!(e, StoreError::Corrupt(_)), "{e:?}");
    let conn = Connection::open(&other).unwrap();
    let tables: u32 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 1, "nothing was added");
}

#[test]
fn a_row_that_does_not_decode_is_a_typed_corrupt_error_and_others_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = store_in(&dir);
    let keys = conformance::keys();
    store.save(&keys[0], &conformance::token(1)).unwrap();
    store.save(&keys[1], &conformance::token(2)).unwrap();
    let conn = Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE credentials SET token = x'5a4f5401ffff' WHERE user = ?1 AND client_id = ?2",
        [&keys[0].user, &keys[0].client_id],
    )
    .unwrap();
    drop(conn);

    let e = store.load(&keys[0]).unwrap_err();
    assert!(
        matches!(&e, StoreError::Corrupt(m) if m.contains("ana@example.com")),
        "{e:?}"
    );
    let e = store.lock(&keys[0]).unwrap().load().unwrap_err();
    assert!(matches!(e, StoreError::Corrupt(_)), "{e:?}");
    assert_eq!(store.load(&keys[1]).unwrap(), Some(conformance::token(2)));
    // The damaged row can be replaced.
    store.save(&keys[0], &conformance::token(3)).unwrap();
    assert_eq!(store.load(&keys[0]).unwrap(), Some(conformance::token(3)));
}

#[test]
fn many_threads_opening_a_new_file_at_once_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh").join("tokens.sqlite3");
    thread::scope(|s| {
        let handles: Vec<_> = (0..8u64)
            .map(|i| {
                let path = &path;
                s.spawn(move || {
                    let store = SqliteStore::open(path).unwrap();
                    store
                        .save(&conformance::keys()[i as usize], &conformance::token(i))
                        .unwrap();
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.list().unwrap().len(), 8);
}

#[test]
fn the_sqlite_store_passes_every_conformance_check_against_a_second_instance() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = store_in(&dir);
    let other = Arc::new(SqliteStore::open(&path).unwrap());
    // Probe from a separate connection, as another process would: a write transaction that
    // does not wait.
    let probe = Connection::open(&path).unwrap();
    probe.busy_timeout(Duration::ZERO).unwrap();
    let mut lock_is_free = || match probe.execute_batch("BEGIN IMMEDIATE") {
        Ok(()) => {
            probe.execute_batch("ROLLBACK").unwrap();
            true
        }
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => false,
        Err(e) => panic!("{e}"),
    };
    conformance::run_all(
        &store,
        other,
        Profile {
            lock_evidence: LockEvidence::FreeProbe(&mut lock_is_free),
            model_cases: 48,
            ..Profile::new(UnreleasedSaves::RolledBack, LockScope::Store)
        },
    );
}

#[test]
fn the_lock_serialises_read_modify_write_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.sqlite3");
    conformance::locked_increments_across_processes(
        "the_lock_serialises_read_modify_write_across_processes",
        path.to_str().unwrap(),
        |path| SqliteStore::open(path).unwrap(),
    );
}
