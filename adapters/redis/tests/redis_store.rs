//! `RedisStore` against a real Redis server, each test under a key prefix of its own.
//!
//! The server is `ZOHO_OAUTH_TEST_REDIS_URL` (default `redis://127.0.0.1:6379/0`). When it cannot
//! be reached every test prints why and passes, except with `CI=true`: then it fails.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use redis::Connection;
use zoho_oauth::core::TokenSet;
use zoho_oauth::store::conformance::{
    self, keys, token, LockEvidence, LockScope, Profile, UnreleasedSaves,
};
use zoho_oauth::{CredentialKey, LockWait, StoreError, TokenStore};
use zoho_oauth_redis::RedisStore;

const DEFAULT_URL: &str = "redis://127.0.0.1:6379/0";

/// Long enough for anything that must happen to happen; a test that would hang fails instead.
const LIMIT: Duration = Duration::from_secs(30);
const WAIT: LockWait = LockWait::AtMost(LIMIT);

/// Set in a child process of this test binary: `<role>|<lease ms>|<store URL>`.
const ROLE_ENV: &str = "ZOHO_OAUTH_REDIS_TEST_ROLE";

/// A key prefix of its own on the test server; its keys are deleted at the end of the test.
struct Scratch {
    admin: Connection,
    base: String,
    prefix: String,
}

impl Scratch {
    /// `None` (after saying why) when the server is unreachable and `CI` is not `true`.
    fn new() -> Option<Self> {
        let base =
            std::env::var("ZOHO_OAUTH_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_URL.into());
        let admin = conformance::connected_or_skip(
            &format!("Redis at ZOHO_OAUTH_TEST_REDIS_URL (default {DEFAULT_URL})"),
            redis::Client::open(base.as_str())
                .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(5))),
        )?;
        Some(Self {
            admin,
            base,
            prefix: format!("zo-test:{}", conformance::scratch_name()),
        })
    }

    /// The URL of this test's store, prefix included.
    fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}prefix={}", self.base, self.prefix)
    }

    fn store(&self) -> RedisStore {
        RedisStore::connect(&self.url()).expect("connect the store")
    }

    fn store_with_lease(&self, lease: Duration) -> RedisStore {
        RedisStore::builder(self.url())
            .lease(lease)
            .connect()
            .expect("connect the store")
    }

    fn cmd<T: redis::FromRedisValue>(&mut self, cmd: &mut redis::Cmd) -> T {
        cmd.query(&mut self.admin).expect("admin command")
    }

    /// Another plain connection to the server.
    fn connection(&self) -> Connection {
        redis::Client::open(self.base.as_str())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(5)))
            .expect("connect to the test server")
    }

    /// A Redis user of this test's own (deleted at its end) that may use every key, and its
    /// password.
    fn user(&self) -> (String, String) {
        let user = format!("{}:user", self.prefix).replace(':', "-");
        let password = format!("pw-{}", conformance::scratch_name());
        let _: () = redis::cmd("ACL")
            .arg("SETUSER")
            .arg(&user)
            .arg("reset")
            .arg("on")
            .arg(format!(">{password}"))
            .arg("~*")
            .arg("&*")
            .arg("+@all")
            .query(&mut self.connection())
            .expect("ACL SETUSER (Redis 6 or newer)");
        (user, password)
    }

    /// The URL of this test's store, logging in as `user` with `password`.
    fn url_as(&self, user: &str, password: &str) -> String {
        let (scheme, rest) = self
            .url()
            .split_once("://")
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .unwrap();
        let rest = rest
            .split_once('@')
            .map_or(rest.as_str(), |(_, r)| r)
            .to_owned();
        format!("{scheme}://{user}:{password}@{rest}")
    }

    /// How many connections wait for the release of `key`'s lock.
    fn waiters(&mut self, store: &RedisStore, key: &CredentialKey) -> i64 {
        waiters(&mut self.admin, store, key)
    }

    /// Ask `waiting` every 5 ms until it says yes; fail after [`LIMIT`].
    fn until(&mut self, what: &str, mut waiting: impl FnMut(&mut Self) -> bool) {
        let deadline = Instant::now() + LIMIT;
        while !waiting(self) {
            assert!(
                Instant::now() < deadline,
                "{what} did not happen within {LIMIT:?}"
            );
            thread::sleep(Duration::from_millis(5)); // the pace of asking, not a synchronisation
        }
    }
}

/// How many connections wait for the release of `key`'s lock (subscribers of its channel).
fn waiters(con: &mut Connection, store: &RedisStore, key: &CredentialKey) -> i64 {
    let (_, n): (String, i64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(store.release_channel(key))
        .query(con)
        .expect("PUBSUB NUMSUB");
    n
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let user = format!("{}:user", self.prefix).replace(':', "-");
        let _ = redis::cmd("ACL")
            .arg("DELUSER")
            .arg(user)
            .query::<i64>(&mut self.admin);
        let pattern = format!("{}:*", self.prefix);
        let names: Vec<Vec<u8>> = redis::cmd("KEYS")
            .arg(&pattern)
            .query(&mut self.admin)
            .unwrap_or_default();
        if !names.is_empty() {
            let _ = redis::cmd("DEL").arg(names).query::<i64>(&mut self.admin);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The conformance suite

#[test]
fn the_redis_store_passes_every_conformance_check_against_a_second_connection() {
    let Some(db) = Scratch::new() else { return };
    // The store under test logs in as a user of its own, so that describe() has a password to hide.
    let (user, password) = db.user();
    let store =
        RedisStore::connect(&db.url_as(&user, &password)).expect("connect as the test user");
    let other = Arc::new(db.store());
    let first = keys().swap_remove(0);
    // The server itself says when the other store waits: it subscribed to the release channel.
    let mut watcher = db.connection();
    let mut waiting = || waiters(&mut watcher, &store, &first) == 1;
    let mut vandal = db.connection();
    let mut damage = |key: &CredentialKey| {
        let _: () = redis::cmd("SET")
            .arg(store.token_key(key))
            .arg("<html>")
            .query(&mut vandal)
            .expect("damage a value");
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
            secrets: &[&password],
            ..Profile::new(UnreleasedSaves::Kept, LockScope::Key)
        },
    );
}

#[test]
fn the_lock_serialises_read_modify_write_across_processes() {
    let Some(db) = Scratch::new() else { return };
    conformance::locked_increments_across_processes(
        "the_lock_serialises_read_modify_write_across_processes",
        &db.url(),
        |url| RedisStore::connect(url).unwrap(),
    );
}

#[test]
fn a_locked_delete_excludes_the_locked_saves_of_other_processes() {
    let Some(db) = Scratch::new() else { return };
    conformance::a_locked_delete_excludes_saves_across_processes(
        "a_locked_delete_excludes_the_locked_saves_of_other_processes",
        &db.url(),
        |url| RedisStore::connect(url).unwrap(),
    );
}

// ---------------------------------------------------------------------------------------------
// The lease

/// What a child holder reports of a locked operation.
fn outcome<T>(r: Result<T, StoreError>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(StoreError::LeaseLost(_)) => "lease-lost".into(),
        Err(e) => format!("error {e}"),
    }
}

/// The role of a child process: take the lock of the first key, say `LOCKED`, wait for a line
/// on stdin (or to be killed), then try a save and a delete under the lock and report them.
fn holder_child(spec: &str) {
    let mut parts = spec.splitn(3, '|');
    let (role, lease, url) = (parts.next(), parts.next(), parts.next());
    assert_eq!(role, Some("hold"), "unknown child role in {spec}");
    let lease = Duration::from_millis(lease.unwrap().parse().unwrap());
    let store = RedisStore::builder(url.unwrap())
        .lease(lease)
        .connect()
        .unwrap();
    let mut locked = store.lock(&keys()[0], WAIT).unwrap();
    println!("LOCKED");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    println!("SAVE {}", outcome(locked.save(&token(666))));
    println!("DELETE {}", outcome(locked.delete()));
    println!("RELEASE {}", outcome(locked.release()));
}

/// A child holder process, killed if the test ends before it does.
struct Holder {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Holder {
    /// Re-run this test binary as a holder of the first key's lock (for `test`), with `lease`;
    /// returns once it holds the lock.
    fn spawn(test: &str, lease: Duration, url: &str) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env(ROLE_ENV, format!("hold|{}|{url}", lease.as_millis()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("re-run the test binary");
        let out = BufReader::new(child.stdout.take().unwrap());
        let mut holder = Self { child, out };
        holder.expect("LOCKED");
        holder
    }

    /// The next line of the child that holds `word`, from `word` on (the test harness prints
    /// `test <name> ... ` before the first one, and lines of its own).
    fn expect(&mut self, word: &str) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.out.read_line(&mut line).unwrap();
            assert!(n > 0, "the holder process ended before saying {word}");
            if let Some(at) = line.find(word) {
                return line[at..].trim_end().to_owned();
            }
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig} failed");
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_crashed_holder_frees_the_lock_after_its_lease() {
    if let Ok(spec) = std::env::var(ROLE_ENV) {
        return holder_child(&spec);
    }
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let key = keys().swap_remove(0);
    let mut holder = Holder::spawn(
        "a_crashed_holder_frees_the_lock_after_its_lease",
        Duration::from_secs(2),
        &db.url(),
    );
    let pid = holder.child.id();
    match store.lock(&key, LockWait::NoWait) {
        Err(StoreError::Busy(b)) => assert!(
            b.holder
                .as_deref()
                .is_some_and(|h| h.starts_with(&format!("{pid}@"))),
            "Busy names the holder process {pid}: {b:?}"
        ),
        Err(e) => panic!("expected Busy, got {e}"),
        Ok(_) => panic!("the lock was free while the child held it"),
    }
    holder.child.kill().unwrap();
    holder.child.wait().unwrap();
    // Dead, but its lease is still there: the lock is not freed by the connection closing...
    let lease: Option<String> = db.cmd(redis::cmd("GET").arg(store.lease_key(&key)));
    assert!(
        lease.is_some_and(|v| v.contains(&format!(" {pid}@"))),
        "the crashed holder's lease outlives it until it runs out"
    );
    // ...but by the lease running out, while this lock waits.
    let mut locked = store
        .lock(&key, WAIT)
        .expect("the crashed holder's lease runs out");
    assert_eq!(locked.load().unwrap(), None);
    locked.save(&token(2)).unwrap();
    locked.release().unwrap();
    assert_eq!(store.load(&key).unwrap(), Some(token(2)));
}

#[cfg(unix)]
#[test]
fn a_holder_whose_lease_ran_out_while_stalled_cannot_overwrite_the_newer_save() {
    if let Ok(spec) = std::env::var(ROLE_ENV) {
        return holder_child(&spec);
    }
    let Some(db) = Scratch::new() else { return };
    let store = db.store();
    let key = keys().swap_remove(0);
    let mut holder = Holder::spawn(
        "a_holder_whose_lease_ran_out_while_stalled_cannot_overwrite_the_newer_save",
        Duration::from_millis(300),
        &db.url(),
    );
    // A stalled holder (a paused VM, a stopped process): its renewer stops too.
    holder.signal("-STOP");
    let mut locked = store
        .lock(&key, WAIT)
        .expect("the stalled holder's lease runs out");
    locked.save(&token(2)).unwrap();
    locked.release().unwrap();
    holder.signal("-CONT");
    writeln!(holder.child.stdin.as_mut().unwrap(), "go").unwrap();
    assert_eq!(holder.expect("SAVE"), "SAVE lease-lost");
    assert_eq!(holder.expect("DELETE"), "DELETE lease-lost");
    assert_eq!(holder.expect("RELEASE"), "RELEASE ok");
    assert!(holder.child.wait().unwrap().success());
    assert_eq!(
        store.load(&key).unwrap(),
        Some(token(2)),
        "the newer save stands"
    );
}

#[test]
fn a_holder_whose_lease_was_taken_over_is_fenced_off_load_save_and_delete() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let other = db.store();
    let key = keys().swap_remove(0);
    conformance::save(&store, &key, &token(1)).unwrap();
    let mut late = store.lock(&key, WAIT).unwrap();
    late.check_writable().unwrap();
    // The lease disappears under the holder (it ran out, or an operator cleared it) before its
    // renewer noticed; another process takes the lock and saves.
    let _: i64 = db.cmd(redis::cmd("DEL").arg(store.lease_key(&key)));
    let mut newer = other.lock(&key, LockWait::NoWait).unwrap();
    newer.save(&token(2)).unwrap();
    assert!(matches!(
        late.save(&token(666)),
        Err(StoreError::LeaseLost(_))
    ));
    assert!(matches!(late.delete(), Err(StoreError::LeaseLost(_))));
    assert!(matches!(late.load(), Err(StoreError::LeaseLost(_))));
    assert!(matches!(
        late.check_writable(),
        Err(StoreError::LeaseLost(_))
    ));
    late.release().unwrap();
    // The late holder's release did not free the newer holder's lock.
    assert!(matches!(
        store.lock(&key, LockWait::NoWait),
        Err(StoreError::Busy(_))
    ));
    newer.release().unwrap();
    assert_eq!(store.load(&key).unwrap(), Some(token(2)));
}

#[test]
fn renewal_keeps_the_lock_held_past_many_lease_periods() {
    let Some(db) = Scratch::new() else { return };
    // Renewed every 167 ms: a renewal may come 300 ms late on a loaded machine and still hold.
    let lease = Duration::from_millis(500);
    let store = db.store_with_lease(lease);
    let other = db.store_with_lease(lease);
    let key = keys().swap_remove(0);
    let mut held = store.lock(&key, WAIT).unwrap();
    let wait = lease * 6;
    match other.lock(&key, LockWait::AtMost(wait)) {
        Err(StoreError::Busy(b)) => assert!(b.waited >= wait, "{b:?}"),
        Err(e) => panic!("expected Busy, got {e}"),
        Ok(_) => panic!("the lock was taken while its holder renewed it"),
    }
    held.check_writable().unwrap();
    held.save(&token(1)).expect("the lease is still ours");
    held.release().unwrap();
    other
        .lock(&key, LockWait::NoWait)
        .expect("a released lock is free at once")
        .release()
        .unwrap();
    assert_eq!(other.load(&key).unwrap(), Some(token(1)));
}

#[test]
fn busy_names_the_store_without_password_the_key_and_the_holder() {
    let Some(db) = Scratch::new() else { return };
    let store = db.store();
    let key = keys().swap_remove(0);
    let _held = store.lock(&key, WAIT).unwrap();
    let e = match store.lock(&key, LockWait::AtMost(Duration::from_millis(50))) {
        Err(e) => e,
        Ok(_) => panic!("the lock was taken twice"),
    };
    let StoreError::Busy(b) = &e else {
        panic!("expected Busy, got {e}")
    };
    assert_eq!(b.store, store.describe());
    assert!(b.store.starts_with("redis"), "{}", b.store);
    assert!(b.store.ends_with(&format!("?prefix={}", db.prefix)));
    assert_eq!(b.key, key.to_string());
    assert!(b.waited >= Duration::from_millis(50));
    let holder = b.holder.as_deref().expect("the holder is named");
    assert!(
        holder.starts_with(&format!("{}@", std::process::id())),
        "{holder}"
    );
    let message = e.to_string();
    assert!(
        message.contains(holder) && message.contains(&b.store),
        "{message}"
    );
}

// ---------------------------------------------------------------------------------------------
// Damaged values, prefixes, delete_all, connecting

#[test]
fn a_value_from_a_newer_encoding_or_of_another_redis_type_is_reported_and_can_be_deleted() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let keys = keys();
    let (ana, bo, cy) = (&keys[0], &keys[7], &keys[9]);
    conformance::save(&store, bo, &token(2)).unwrap();
    // Byte 3 is the encoding version (after the magic `ZOT`): one from the future.
    let mut newer = zoho_oauth::store::encode_token(ana, &token(1))
        .unwrap()
        .to_vec();
    newer[3] += 1;
    let _: () = db.cmd(redis::cmd("SET").arg(store.token_key(ana)).arg(newer));
    // Not a string at all: someone else's list under our prefix.
    let _: i64 = db.cmd(redis::cmd("RPUSH").arg(store.token_key(cy)).arg("x"));

    assert_eq!(store.list().unwrap().len(), 3, "both are listed");
    assert!(matches!(store.load(ana), Err(StoreError::FutureVersion(_))));
    match store.load(cy) {
        Err(StoreError::Corrupt(why)) => assert!(why.contains("not a string"), "{why}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert_eq!(
        store.load(bo).unwrap(),
        Some(token(2)),
        "other keys stay readable"
    );
    for key in [ana, cy] {
        let mut locked = store.lock(key, WAIT).unwrap();
        let loaded = locked.load();
        assert!(
            matches!(
                loaded,
                Err(StoreError::FutureVersion(_) | StoreError::Corrupt(_))
            ),
            "{loaded:?}"
        );
        assert!(locked.delete().unwrap(), "it can be deleted");
        locked.release().unwrap();
    }
    assert_eq!(store.list().unwrap(), vec![bo.clone()]);
    store.delete_all().unwrap();
}

#[test]
fn a_key_under_the_prefix_not_written_by_the_store_is_named_by_list_and_cleared_by_delete_all() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let stray = format!("{}:cred:not-a-credential", db.prefix);
    let _: () = db.cmd(redis::cmd("SET").arg(&stray).arg("x"));
    match store.list() {
        Err(StoreError::Corrupt(why)) => assert!(why.contains(&stray), "{why}"),
        other => panic!("expected Corrupt naming the key, got {other:?}"),
    }
    store.delete_all().unwrap();
    assert_eq!(store.list().unwrap(), vec![]);
}

#[test]
fn stores_with_different_prefixes_share_a_database_without_seeing_each_other() {
    let Some(db) = Scratch::new() else { return };
    let billing = RedisStore::builder(db.url())
        .prefix(format!("{}:billing", db.prefix))
        .connect()
        .unwrap();
    let crm = RedisStore::builder(db.url())
        .prefix(format!("{}:crm", db.prefix))
        .connect()
        .unwrap();
    let key = keys().swap_remove(0);
    conformance::save(&billing, &key, &token(1)).unwrap();
    conformance::save(&crm, &key, &token(2)).unwrap();
    assert_eq!(billing.load(&key).unwrap(), Some(token(1)));
    assert_eq!(crm.load(&key).unwrap(), Some(token(2)));
    let held = billing.lock(&key, LockWait::NoWait).unwrap();
    crm.lock(&key, LockWait::NoWait)
        .expect("the same credential under another prefix has a lock of its own")
        .release()
        .unwrap();
    held.release().unwrap();
    billing.delete_all().unwrap();
    assert_eq!(billing.list().unwrap(), vec![]);
    assert_eq!(crm.list().unwrap(), vec![key.clone()]);
    // The description is a URL (without password) that opens the same store again.
    let again = RedisStore::connect(&crm.describe()).unwrap();
    assert_eq!(again.load(&key).unwrap(), Some(token(2)));
    crm.delete_all().unwrap();
}

#[test]
fn delete_all_waits_for_a_held_lock_and_deletes_what_its_holder_saved() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let other = Arc::new(db.store());
    let keys = keys();
    conformance::save(&store, &keys[1], &token(1)).unwrap();
    // Held on a credential not stored yet: its holder is about to save it.
    let mut held = store.lock(&keys[0], WAIT).unwrap();
    let deleter = thread::spawn({
        let other = other.clone();
        move || other.delete_all()
    });
    db.until("delete_all waiting for the held lock", |db| {
        db.waiters(&store, &keys[0]) == 1
    });
    held.save(&token(2)).unwrap();
    held.release().unwrap();
    deleter.join().unwrap().expect("delete_all");
    assert_eq!(store.load(&keys[0]).unwrap(), None);
    assert_eq!(store.list().unwrap(), vec![]);
}

#[test]
fn a_wrong_password_is_a_database_error_that_does_not_echo_it() {
    let Some(db) = Scratch::new() else { return };
    let url = db
        .base
        .replacen("redis://", "redis://:hunter2-not-the-password@", 1);
    match RedisStore::connect(&url) {
        Err(StoreError::Database(why)) => assert!(!why.contains("hunter2"), "{why}"),
        Err(e) => panic!("expected a database error, got {e}"),
        Ok(_) => {} // a server that takes any password: nothing to check
    }
}

#[test]
fn a_token_round_trips_byte_for_byte() {
    let Some(mut db) = Scratch::new() else { return };
    let store = db.store();
    let key = keys().swap_remove(9);
    let t: TokenSet = token(7);
    conformance::save(&store, &key, &t).unwrap();
    let stored: Vec<u8> = db.cmd(redis::cmd("GET").arg(store.token_key(&key)));
    assert_eq!(
        stored,
        zoho_oauth::store::encode_token(&key, &t).unwrap().to_vec(),
        "the value is encode_token's bytes"
    );
}

#[test]
fn a_lock_wait_of_any_length_is_accepted() {
    let Some(db) = Scratch::new() else { return };
    let store = db.store();
    store
        .lock(&keys()[0], LockWait::AtMost(Duration::MAX))
        .expect("a free lock is taken, however long the caller would have waited")
        .release()
        .unwrap();
}
