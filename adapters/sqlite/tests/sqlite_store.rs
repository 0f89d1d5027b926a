//! SqliteStore: the conformance checks (across instances and processes), permissions, schema
//! versions and damaged rows.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use zoho_oauth::store::conformance::{
    self, save, LockEvidence, LockScope, Profile, UnreleasedSaves,
};
use zoho_oauth::{LockWait, StoreError, TokenStore};
use zoho_oauth_sqlite::{SqliteStore, SCHEMA_VERSION};

/// A lock wait long enough for a lock that must come free.
const WAIT: LockWait = LockWait::AtMost(Duration::from_secs(30));

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
    save(&store, &conformance::keys()[0], &conformance::token(1)).unwrap();
    let _held = store.lock(&conformance::keys()[0], WAIT).unwrap(); // keeps -wal and -shm in place
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
    save(&store, &conformance::keys()[0], &conformance::token(1)).unwrap();
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
fn a_row_naming_an_unknown_data_centre_is_left_out_of_the_list_and_the_others_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = store_in(&dir);
    let keys = conformance::keys();
    save(&store, &keys[0], &conformance::token(1)).unwrap();
    save(&store, &keys[7], &conformance::token(2)).unwrap();
    let conn = Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE credentials SET data_center = 'mars' WHERE user = ?1",
        [&keys[0].user],
    )
    .unwrap();
    assert_eq!(store.list().unwrap(), vec![keys[7].clone()]);
    assert_eq!(store.load(&keys[7]).unwrap(), Some(conformance::token(2)));
}

#[test]
fn opening_a_foreign_database_changes_neither_its_journal_mode_nor_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("app.sqlite3");
    let conn = Connection::open(&other).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = DELETE; CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL);",
    )
    .unwrap();
    drop(conn);
    let before = std::fs::read(&other).unwrap();

    let e = SqliteStore::open(&other).unwrap_err();
    assert!(matches!(e, StoreError::Corrupt(_)), "{e:?}");

    assert_eq!(
        std::fs::read(&other).unwrap(),
        before,
        "not one byte changed"
    );
    let siblings: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        siblings,
        vec![std::ffi::OsString::from("app.sqlite3")],
        "no -wal or -shm"
    );
    let conn = Connection::open(&other).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");

    // Another application's marked database: the same.
    let marked = dir.path().join("marked.sqlite3");
    let conn = Connection::open(&marked).unwrap();
    conn.execute_batch("PRAGMA application_id = 1234; CREATE TABLE t (x);")
        .unwrap();
    drop(conn);
    let before = std::fs::read(&marked).unwrap();
    let e = SqliteStore::open(&marked).unwrap_err();
    assert!(matches!(e, StoreError::Corrupt(_)), "{e:?}");
    assert_eq!(std::fs::read(&marked).unwrap(), before);
}

#[test]
fn a_lock_held_elsewhere_is_busy_at_once_with_no_wait_and_after_the_bound_with_at_most() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = store_in(&dir);
    let other = SqliteStore::open(&path).unwrap();
    let keys = conformance::keys();
    let held = store.lock(&keys[0], WAIT).unwrap();

    let started = Instant::now();
    let e = other.lock(&keys[0], LockWait::NoWait).err().expect("busy");
    let StoreError::Busy(busy) = e else {
        panic!("{e:?}")
    };
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(busy.store, format!("sqlite:{}", path.display()));
    assert_eq!(busy.key, keys[0].to_string());
    assert_eq!(busy.holder, None, "SQLite does not say who holds its lock");

    let bound = Duration::from_millis(400);
    let started = Instant::now();
    let e = other
        .lock(&keys[1], LockWait::AtMost(bound))
        .err()
        .expect("busy");
    let waited = started.elapsed();
    assert!(
        matches!(&e, StoreError::Busy(b) if b.waited >= bound),
        "{e:?}"
    );
    assert!(
        waited >= bound && waited < bound + Duration::from_secs(2),
        "{waited:?}"
    );
    drop(held);
    other
        .lock(&keys[0], LockWait::NoWait)
        .unwrap()
        .release()
        .unwrap();
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
                    save(
                        &store,
                        &conformance::keys()[i as usize],
                        &conformance::token(i),
                    )
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
    // Bytes that do not decode, written behind the store's back.
    let damager = Connection::open(&path).unwrap();
    let mut damage = |key: &zoho_oauth::CredentialKey| {
        let changed = damager
            .execute(
                "UPDATE credentials SET token = x'5a4f5402ffff' WHERE user = ?1 AND client_id = ?2 \
                 AND data_center = ?3 AND environment = ?4",
                [
                    key.user.as_str(),
                    &key.client_id,
                    key.data_center.location_code(),
                    key.environment.name(),
                ],
            )
            .unwrap();
        assert_eq!(changed, 1);
    };
    conformance::run_all(
        &store,
        other,
        Profile {
            lock_evidence: LockEvidence::FreeProbe(&mut lock_is_free),
            model_cases: 48,
            damage: Some(&mut damage),
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

#[test]
fn a_locked_delete_excludes_saves_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.sqlite3");
    conformance::a_locked_delete_excludes_saves_across_processes(
        "a_locked_delete_excludes_saves_across_processes",
        path.to_str().unwrap(),
        |path| SqliteStore::open(path).unwrap(),
    );
}

/// Set in a re-run of this test binary: the child's role and the store's path.
const CHILD: &str = "ZO_SQLITE_TEST_CHILD";

#[test]
fn a_process_killed_while_holding_the_lock_frees_it_and_its_unreleased_save_is_never_seen() {
    let keys = conformance::keys();
    if let Ok(path) = std::env::var(CHILD) {
        // The child: lock, save a new token, say so, and hang until killed.
        let store = SqliteStore::open(path).unwrap();
        let mut locked = store.lock(&keys[0], WAIT).unwrap();
        locked.save(&conformance::token(2)).unwrap();
        println!("saved under the lock");
        std::io::stdin().read_line(&mut String::new()).unwrap();
        unreachable!("killed before");
    }
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = store_in(&dir);
    save(&store, &keys[0], &conformance::token(1)).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "a_process_killed_while_holding_the_lock_frees_it_and_its_unreleased_save_is_never_seen",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD, &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("saved under the lock") {
        line.clear();
        assert_ne!(
            out.read_line(&mut line).unwrap(),
            0,
            "the child ended early"
        );
    }
    assert!(matches!(
        store.lock(&keys[0], LockWait::NoWait),
        Err(StoreError::Busy(_))
    ));
    child.kill().unwrap();
    child.wait().unwrap();
    let mut locked = store
        .lock(&keys[0], LockWait::AtMost(Duration::from_secs(10)))
        .expect("the dead holder's lock is free");
    assert_eq!(locked.load().unwrap(), Some(conformance::token(1)));
    locked.release().unwrap();
}

/// Set in the re-run of a test with the permission-bypassing capabilities dropped.
const UNPRIVILEGED: &str = "ZO_SQLITE_TEST_UNPRIVILEGED";

/// Root writes read-only files: for a test of read-only files, re-run `test` without the
/// capabilities that bypass permissions (`setpriv`, util-linux) and say `true` (the caller
/// returns); `false` when this process already respects permissions.
fn rerun_unprivileged(test: &str) -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !root || std::env::var_os(UNPRIVILEGED).is_some() {
        return false;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("setpriv")
        .arg("--bounding-set=-dac_override,-dac_read_search,-fowner")
        .arg(exe)
        .args([test, "--exact", "--nocapture"])
        .env(UNPRIVILEGED, "1")
        .output()
        .expect("setpriv (util-linux) runs the test without permission-bypassing capabilities");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "the unprivileged re-run failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

#[cfg(unix)]
#[test]
fn a_read_only_file_serves_loads_and_check_writable_says_read_only_before_anything_is_asked() {
    use std::os::unix::fs::PermissionsExt;
    if rerun_unprivileged(
        "a_read_only_file_serves_loads_and_check_writable_says_read_only_before_anything_is_asked",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = store_in(&dir);
    let keys = conformance::keys();
    save(&store, &keys[0], &conformance::token(1)).unwrap();
    drop(store);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.load(&keys[0]).unwrap(), Some(conformance::token(1)));
    assert_eq!(store.list().unwrap(), vec![keys[0].clone()]);
    let mut locked = store.lock(&keys[0], LockWait::NoWait).unwrap();
    assert_eq!(locked.load().unwrap(), Some(conformance::token(1)));
    let e = locked.check_writable().unwrap_err();
    assert!(
        matches!(&e, StoreError::ReadOnly(m) if m.contains(&path.display().to_string())),
        "{e:?}"
    );
    assert!(matches!(
        locked.save(&conformance::token(2)),
        Err(StoreError::ReadOnly(_))
    ));
    assert!(matches!(locked.delete(), Err(StoreError::ReadOnly(_))));
    locked.release().unwrap();
    assert_eq!(store.load(&keys[0]).unwrap(), Some(conformance::token(1)));

    // A writable file says nothing (SQLite gave the -wal and -shm files the database's mode).
    drop(store);
    for file in std::fs::read_dir(dir.path()).unwrap() {
        let file = file.unwrap().path();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    store
        .lock(&keys[0], WAIT)
        .unwrap()
        .check_writable()
        .unwrap();
}
