//! FileStore: the conformance checks (across instances and processes), permissions,
//! corrupt and future files left untouched, and crash safety.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use fs4::fs_std::FileExt;
use std::time::Duration;

use zoho_oauth::store::conformance::{
    self, delete, save, LockEvidence, LockScope, Profile, UnreleasedSaves,
};
use zoho_oauth::{CredentialKey, FileStore, LockWait, StoreError, TokenStore};

const WAIT: LockWait = LockWait::AtMost(Duration::from_secs(30));

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
    save(&store, &conformance::keys()[0], &conformance::token(1)).unwrap();
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
    save(&store, &conformance::keys()[0], &conformance::token(1)).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(store.lock_path()), 0o600);
    // Every rewrite replaces the file: still 0600 after an update and a delete.
    save(&store, &conformance::keys()[1], &conformance::token(2)).unwrap();
    delete(&store, &conformance::keys()[0]).unwrap();
    assert_eq!(mode(&path), 0o600);
}

/// Write `bytes` over the store (another program wrote there), then check every write refuses
/// with `want` and leaves the bytes as they were.
fn assert_refuses_to_overwrite(bytes: &[u8], want: fn(&StoreError) -> bool) {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = store_in(&dir);
    let keys = conformance::keys();
    save(&store, &keys[0], &conformance::token(1)).unwrap();
    fs::write(&path, bytes).unwrap();

    let check = |r: Result<(), StoreError>, what: &str| {
        let e = r.expect_err(what);
        assert!(want(&e), "{what}: {e:?}");
        assert_eq!(fs::read(&path).unwrap(), bytes, "{what} changed the file");
    };
    check(save(&store, &keys[1], &conformance::token(2)), "save");
    check(delete(&store, &keys[0]).map(drop), "delete");
    check(store.delete_all(), "delete_all");
    check(store.load(&keys[0]).map(drop), "load");
    check(store.list().map(drop), "list");
    let mut locked = store.lock(&keys[0], WAIT).unwrap();
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

/// Three saved records and the file's lines: first line, three records, end line.
fn three_records(dir: &tempfile::TempDir) -> (FileStore, PathBuf, Vec<String>) {
    let (store, path) = store_in(dir);
    for (i, k) in conformance::keys().iter().enumerate().take(3) {
        save(&store, k, &conformance::token(i as u64)).unwrap();
    }
    let lines: Vec<String> = fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(lines[0] == "zoho-oauth-store v1" && lines[4] == "end 3");
    (store, path, lines)
}

#[test]
fn a_cut_short_or_foreign_framed_store_is_reported_corrupt_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path, lines) = three_records(&dir);
    let good = fs::read_to_string(&path).unwrap();
    // Cut short (the end line lost), a record dropped (the count does not match), text after
    // the end line, a line far longer than any record.
    let cut = good[..good.len() / 2].to_string();
    let dropped = format!("{}\n{}\n{}\n{}\n", lines[0], lines[1], lines[2], lines[4]);
    let trailing = format!("{good}record\n");
    let huge = format!("{}\n{}\nend 1\n", lines[0], "x".repeat(100_000));
    for damaged in [cut, dropped, trailing, huge] {
        assert_refuses_to_overwrite(damaged.as_bytes(), is_corrupt);
    }
}

/// `key`'s user or client id as the file writes it (percent-encoded).
fn escaped(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_graphic() && b != b'%' {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Damage the record of `key` in the file at `path` as a disk error would: its token's first
/// byte changes, so that it no longer decodes. Returns the damaged line.
fn damage_record(path: &Path, key: &CredentialKey) -> String {
    let prefix = format!(
        "record {} {} {} {} ",
        escaped(&key.user),
        escaped(&key.client_id),
        key.data_center.location_code(),
        key.environment.name()
    );
    let text = fs::read_to_string(path).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no record of {key}"));
    let damaged = format!("{prefix}00{}", &line[prefix.len() + 2..]);
    fs::write(path, text.replacen(line, &damaged, 1)).unwrap();
    damaged
}

#[test]
fn one_damaged_record_is_reported_by_key_and_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path, _) = three_records(&dir);
    let keys = conformance::keys();
    let damaged_line = damage_record(&path, &keys[1]);

    let reopened =
        FileStore::open(&path).expect("a damaged record does not make the store unusable");
    for s in [&store, &reopened] {
        assert_eq!(s.load(&keys[0]).unwrap(), Some(conformance::token(0)));
        assert_eq!(s.load(&keys[2]).unwrap(), Some(conformance::token(2)));
        assert_eq!(s.list().unwrap(), {
            let mut k = keys[..3].to_vec();
            k.sort();
            k
        });
        match s.load(&keys[1]) {
            Err(StoreError::Corrupt(why)) => {
                assert!(why.contains(&keys[1].to_string()), "names the key: {why}");
                assert!(
                    why.contains(&path.display().to_string()),
                    "names the file: {why}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    // Changing another record writes the damaged one back byte for byte.
    save(&store, &keys[3], &conformance::token(3)).unwrap();
    delete(&store, &keys[0]).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.lines().any(|l| l == damaged_line), "{text}");
    assert_eq!(store.load(&keys[3]).unwrap(), Some(conformance::token(3)));

    // The damaged record itself: a locked load says Corrupt, a save replaces it, a delete
    // removes it.
    let mut locked = store.lock(&keys[1], WAIT).unwrap();
    assert!(matches!(locked.load(), Err(StoreError::Corrupt(_))));
    locked.save(&conformance::token(11)).unwrap();
    locked.release().unwrap();
    assert_eq!(store.load(&keys[1]).unwrap(), Some(conformance::token(11)));
    damage_record(&path, &keys[1]);
    assert!(delete(&store, &keys[1]).unwrap());
    assert_eq!(store.load(&keys[1]).unwrap(), None);
    assert_eq!(store.list().unwrap().len(), 2);
}

#[test]
fn a_record_without_a_readable_key_is_kept_as_it_is_and_not_listed() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path, lines) = three_records(&dir);
    let keys = conformance::keys();
    // A data centre this version does not know (a newer one's), and a line that is no record.
    let unknown_dc = lines[2].replacen(" us production ", " zz production ", 1);
    assert_ne!(unknown_dc, lines[2]);
    let text = format!(
        "{}\n{}\n{unknown_dc}\nnot a record at all\n{}\nend 4\n",
        lines[0], lines[1], lines[3]
    );
    fs::write(&path, &text).unwrap();
    assert_eq!(store.list().unwrap().len(), 2);
    save(&store, &keys[5], &conformance::token(5)).unwrap();
    let written = fs::read_to_string(&path).unwrap();
    for kept in [unknown_dc.as_str(), "not a record at all"] {
        assert!(written.lines().any(|l| l == kept), "{written}");
    }
    assert!(written.ends_with("end 5\n"), "{written}");
    assert_eq!(store.list().unwrap().len(), 3);
}

#[test]
fn a_key_with_two_records_is_damaged_and_a_delete_removes_both() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path, lines) = three_records(&dir);
    let keys = conformance::keys();
    let first_key = store.list().unwrap()[0].clone();
    let text = format!(
        "{}\n{}\n{}\n{}\n{}\nend 4\n",
        lines[0], lines[1], lines[1], lines[2], lines[3]
    );
    fs::write(&path, text).unwrap();
    assert_eq!(store.list().unwrap().len(), 3, "the key is listed once");
    match store.load(&first_key) {
        Err(StoreError::Corrupt(why)) => assert!(why.contains("both records of"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.load(&keys[2]).unwrap(), Some(conformance::token(2)));
    assert!(delete(&store, &first_key).unwrap());
    assert_eq!(store.load(&first_key).unwrap(), None);
    assert!(fs::read_to_string(&path).unwrap().ends_with("end 2\n"));
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
    save(&store, &keys[0], &conformance::token(1)).unwrap();
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

    save(&reopened, &keys[1], &conformance::token(2)).unwrap();
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
    save(&store, &keys[0], &conformance::token(10)).unwrap();
    save(&store, &keys[1], &conformance::token(20)).unwrap();
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            for i in 0..60u64 {
                save(&store, &keys[0], &conformance::token(10 + i % 2)).unwrap();
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
            damage: Some(&mut |key: &CredentialKey| {
                damage_record(&path, key);
            }),
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

#[test]
fn a_locked_delete_excludes_saves_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens");
    conformance::a_locked_delete_excludes_saves_across_processes(
        "a_locked_delete_excludes_saves_across_processes",
        path.to_str().unwrap(),
        |path| FileStore::open(path).unwrap(),
    );
}

#[cfg(unix)]
#[test]
fn a_store_reached_through_a_link_stays_one_file_with_one_lock() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real").join("tokens");
    let via_link = dir.path().join("tokens-link");
    fs::create_dir(real.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&real, &via_link).unwrap();

    let linked = FileStore::open(&via_link).unwrap();
    assert_eq!(linked.path(), real);
    assert_eq!(linked.lock_path(), real.with_file_name("tokens.lock"));
    // Every check sees the store opened through the link and the one opened through the real
    // path as one storage with one lock.
    let direct = Arc::new(FileStore::open(&real).unwrap());
    conformance::run_all(
        &linked,
        direct,
        Profile {
            model_cases: 8,
            ..Profile::new(UnreleasedSaves::Kept, LockScope::Store)
        },
    );
    save(&linked, &conformance::keys()[0], &conformance::token(1)).unwrap();
    assert!(
        fs::symlink_metadata(&via_link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is still a link"
    );
    assert!(!dir.path().join("tokens-link.lock").exists());
}

#[cfg(unix)]
#[test]
fn a_lock_file_that_is_a_link_is_refused_and_its_target_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = store_in(&dir);
    let target = dir.path().join("elsewhere");
    fs::write(&target, "someone else's file\n").unwrap();
    std::os::unix::fs::symlink(&target, store.lock_path()).unwrap();
    let key = &conformance::keys()[0];
    match store.lock(key, WAIT) {
        Err(StoreError::Io(e)) => assert!(e.to_string().contains("symbolic link"), "{e}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("the lock followed a link"),
    }
    assert!(save(&store, key, &conformance::token(1)).is_err());
    assert!(store.delete_all().is_err());
    assert_eq!(
        fs::read_to_string(&target).unwrap(),
        "someone else's file\n"
    );
    // A dangling link is refused too, and its target is not created.
    fs::remove_file(&target).unwrap();
    assert!(store.lock(key, WAIT).is_err());
    assert!(!target.exists());
}

#[test]
fn a_wait_that_runs_out_names_the_store_and_the_process_holding_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = store_in(&dir);
    let other = FileStore::open(&path).unwrap();
    let key = &conformance::keys()[0];
    let held = store.lock(key, WAIT).unwrap();
    let err = other
        .lock(key, LockWait::AtMost(Duration::from_millis(30)))
        .err()
        .expect("the lock is held");
    let StoreError::Busy(busy) = &err else {
        panic!("{err}")
    };
    assert_eq!(busy.store, format!("file:{}", path.display()));
    let holder = busy.holder.as_deref().expect("the holder recorded itself");
    assert!(
        holder.starts_with(&format!("pid {} on ", std::process::id())),
        "{holder}"
    );
    assert!(err.to_string().contains(holder), "{err}");
    // In the same instance, the holder is another thread of this process.
    let same = store.lock(key, LockWait::NoWait).err().expect("held");
    assert!(
        same.to_string().contains("another thread of this process"),
        "{same}"
    );
    drop(held);
    assert_eq!(
        fs::read_to_string(store.lock_path()).unwrap(),
        "",
        "the record goes with the lock"
    );
    other.lock(key, LockWait::NoWait).unwrap();
}

#[test]
fn a_frozen_holder_outside_the_store_gives_busy_within_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = store_in(&dir);
    let key = &conformance::keys()[0];
    drop(store.lock(key, WAIT).unwrap()); // creates the lock file
                                          // A peer that took the OS lock and froze without recording itself.
    let peer = OpenOptions::new()
        .read(true)
        .write(true)
        .open(store.lock_path())
        .unwrap();
    assert!(FileExt::try_lock_exclusive(&peer).unwrap());
    for wait in [
        LockWait::NoWait,
        LockWait::AtMost(Duration::from_millis(50)),
    ] {
        match store.lock(key, wait) {
            Err(StoreError::Busy(b)) => assert_eq!(b.holder, None),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("taken while the peer holds it"),
        }
    }
    FileExt::unlock(&peer).unwrap();
    store.lock(key, LockWait::NoWait).unwrap();
}

#[test]
fn a_store_that_cannot_be_written_says_so_before_anything_is_asked_of_zoho() {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = store_in(&dir);
    let key = &conformance::keys()[0];
    save(&store, key, &conformance::token(1)).unwrap();
    let mut locked = store.lock(key, WAIT).unwrap();
    locked.check_writable().unwrap();
    // A directory in the way of the temp file: no write can succeed (as on a read-only disk).
    fs::create_dir(path.with_file_name("tokens.tmp")).unwrap();
    match locked.check_writable() {
        Err(StoreError::ReadOnly(why)) => assert!(why.contains("tokens"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(locked.save(&conformance::token(2)).is_err());
    drop(locked);
    fs::remove_dir(path.with_file_name("tokens.tmp")).unwrap();
    // A foreign file in place of the store: refused before any request too.
    fs::write(&path, "id,user_name,client_id\n").unwrap();
    let mut locked = store.lock(key, WAIT).unwrap();
    assert!(matches!(
        locked.check_writable(),
        Err(StoreError::Corrupt(_))
    ));
}

#[cfg(unix)]
#[test]
fn a_read_only_directory_makes_check_writable_fail() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = store_in(&dir);
    let key = &conformance::keys()[0];
    save(&store, key, &conformance::token(1)).unwrap();
    drop(store.lock(key, WAIT).unwrap());
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o500)).unwrap();
    let probe = dir.path().join("probe");
    if fs::write(&probe, b"").is_ok() {
        // Root (or a capability) writes anyway: nothing to check here.
        let _ = fs::remove_file(&probe);
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        eprintln!("skipped: this user writes into read-only directories (root?)");
        return;
    }
    let result = store.lock(key, WAIT).and_then(|mut l| l.check_writable());
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
    assert!(matches!(result, Err(StoreError::ReadOnly(_))), "{result:?}");
}
