//! FileStore: the conformance checks (across instances and processes), permissions,
//! corrupt and future files left untouched, and crash safety.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use fs4::fs_std::FileExt;
use zoho_oauth::conformance::{self, LockEvidence, LockScope, Profile, UnreleasedSaves};
use zoho_oauth::file_store::FileStore;
use zoho_oauth::{StoreError, TokenStore};

fn store_in(dir: &tempfile::TempDir) -> (FileStore, PathBuf) {
    let path = dir.path().join("tokens");
    (FileStore::open(&path).unwrap(), path)
}

#[test]
fn a_missing_or_empty_file_is_an_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens");
    assert!(FileStore::open(&path).unwrap().list().unwrap().is_empty());
    File::create(&path).unwrap();
    let store = FileStore::open(&path).unwrap();
    assert!(store.list().unwrap().is_empty());
    store
        .save(&conformance::keys()[0], &conformance::token(1))
        .unwrap();
    assert_eq!(store.list().unwrap().len(), 1);
}

#[cfg(unix)]
#[test]
fn the_store_and_its_lock_file_are_mode_0600_and_a_new_directory_0700() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new-dir").join("tokens");
    let store = FileStore::open(&path).unwrap();
    assert_eq!(mode(&dir.path().join("new-dir")), 0o700);
    store
        .save(&conformance::keys()[0], &conformance::token(1))
        .unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(store.lock_path()), 0o600);
    // Every rewrite replaces the file: still 0600 after an update and a delete.
    store
        .save(&conformance::keys()[1], &conformance::token(2))
        .unwrap();
    store.delete(&conformance::keys()[0]).unwrap();
    assert_eq!(mode(&path), 0o600);
}

/// Write `bytes` over the store (another program wrote there), then check every write refuses
/// with `want` and leaves the bytes as they were.
fn assert_refuses_to_overwrite(bytes: &[u8], want: fn(&StoreError) -> bool) {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = store_in(&dir);
    let keys = conformance::keys();
    store.save(&keys[0], &conformance::token(1)).unwrap();
    fs::write(&path, bytes).unwrap();

    let check = |r: Result<(), StoreError>, what: &str| {
        let e = r.expect_err(what);
        assert!(want(&e), "{what}: {e:?}");
        assert_eq!(fs::read(&path).unwrap(), bytes, "{what} changed the file");
    };
    check(store.save(&keys[1], &conformance::token(2)), "save");
    check(store.delete(&keys[0]).map(drop), "delete");
    check(store.delete_all(), "delete_all");
    check(store.load(&keys[0]).map(drop), "load");
    check(store.list().map(drop), "list");
    let mut locked = store.lock(&keys[0]).unwrap();
    check(locked.load().map(drop), "locked load");
    check(locked.save(&conformance::token(3)), "locked save");
    drop(locked);
    check(FileStore::open(&path).map(drop), "open");
}

fn is_corrupt(e: &StoreError) -> bool {
    matches!(e, StoreError::Corrupt(_))
}

#[test]
fn a_foreign_file_is_reported_corrupt_and_never_overwritten() {
    // The official SDKs' CSV token file, given by mistake.
    assert_refuses_to_overwrite(
        b"id,user_name,client_id,client_secret,refresh_token,access_token,grant_token,expiry_time,redirect_url,api_domain\n\
          1,ana@example.com,1000.ABCDEF,3f2a,1000.aa.bb,,,,,https://www.zohoapis.com\n",
        is_corrupt,
    );
    assert_refuses_to_overwrite(&[0x00, 0xff, 0x13, 0x37], is_corrupt);
}

#[test]
fn a_damaged_store_is_reported_corrupt_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = store_in(&dir);
    for (i, k) in conformance::keys().iter().enumerate().take(3) {
        store.save(k, &conformance::token(i as u64)).unwrap();
    }
    let good = fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    assert!(lines[0].starts_with("zoho-oauth-store v1") && lines[4] == "end 3");

    // Cut short (the end line lost), a record dropped (count mismatch), a token byte flipped,
    // a duplicated record, an unknown data centre.
    let cut = good[..good.len() / 2].to_string();
    let dropped = format!("{}\n{}\n{}\n{}\n", lines[0], lines[1], lines[2], lines[4]);
    let flipped = good.replacen(" 5a4f54", " 5a4f55", 1);
    assert_ne!(flipped, good, "the token hex starts with the magic ZOT");
    let duplicated = format!("{}\n{}\n{}\nend 2\n", lines[0], lines[1], lines[1]);
    let bad_dc = good.replacen(" us production ", " xx production ", 1);
    assert_ne!(bad_dc, good);
    for damaged in [cut, dropped, flipped, duplicated, bad_dc] {
        assert_refuses_to_overwrite(damaged.as_bytes(), is_corrupt);
    }
}

#[test]
fn a_store_from_a_newer_version_is_refused_and_left_alone() {
    assert_refuses_to_overwrite(b"zoho-oauth-store v2\nsomething new\n", |e| {
        matches!(e, StoreError::FutureVersion(_))
    });
}

#[test]
fn a_temp_file_left_by_a_crashed_writer_does_no_harm() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = store_in(&dir);
    let keys = conformance::keys();
    store.save(&keys[0], &conformance::token(1)).unwrap();
    let before = fs::read(&path).unwrap();

    // A writer died after writing half of its temp file, before the rename.
    let tmp = path.with_file_name("tokens.tmp");
    fs::write(&tmp, &before[..before.len() / 2]).unwrap();
    let reopened = FileStore::open(&path).unwrap();
    assert_eq!(
        fs::read(&path).unwrap(),
        before,
        "the target is still the old store"
    );
    assert_eq!(
        reopened.load(&keys[0]).unwrap(),
        Some(conformance::token(1))
    );

    reopened.save(&keys[1], &conformance::token(2)).unwrap();
    assert!(!tmp.exists(), "the next write replaced the leftover");
    assert_eq!(
        reopened.load(&keys[0]).unwrap(),
        Some(conformance::token(1))
    );
    assert_eq!(
        reopened.load(&keys[1]).unwrap(),
        Some(conformance::token(2))
    );
}

#[test]
fn readers_see_the_old_or_the_new_store_never_a_partial_write() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = store_in(&dir);
    let keys = conformance::keys();
    // The writer alternates between two states of the store; the reader must only ever see
    // one of them, complete.
    store.save(&keys[0], &conformance::token(10)).unwrap();
    store.save(&keys[1], &conformance::token(20)).unwrap();
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            for i in 0..60u64 {
                store
                    .save(&keys[0], &conformance::token(10 + i % 2))
                    .unwrap();
            }
            done.store(true, Ordering::SeqCst);
        });
        let mut reads = 0;
        while !done.load(Ordering::SeqCst) || reads == 0 {
            let t = store.load(&keys[0]).unwrap().unwrap();
            assert!(t == conformance::token(10) || t == conformance::token(11));
            assert_eq!(store.load(&keys[1]).unwrap(), Some(conformance::token(20)));
            reads += 1;
        }
    });
}

#[test]
fn the_file_store_passes_every_conformance_check_against_a_second_instance() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = store_in(&dir);
    let other = Arc::new(FileStore::open(&path).unwrap());
    let lock_path = store.lock_path().to_path_buf();
    // Probe with a separate open file description, as another process would.
    let mut lock_is_free = || match OpenOptions::new().read(true).write(true).open(&lock_path) {
        Err(_) => true, // not created yet: nobody holds it
        Ok(f) => {
            let free = FileExt::try_lock_exclusive(&f).unwrap();
            if free {
                FileExt::unlock(&f).unwrap();
            }
            free
        }
    };
    conformance::run_all(
        &store,
        other,
        Profile {
            lock_evidence: LockEvidence::FreeProbe(&mut lock_is_free),
            // Every write fsyncs twice: keep the case count modest.
            model_cases: 48,
            ..Profile::new(UnreleasedSaves::Kept, LockScope::Store)
        },
    );
}

#[test]
fn the_lock_serialises_read_modify_write_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens");
    conformance::locked_increments_across_processes(
        "the_lock_serialises_read_modify_write_across_processes",
        path.to_str().unwrap(),
        |path| FileStore::open(path).unwrap(),
    );
}
