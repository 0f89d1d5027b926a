//! `conformance`: the checks every [`TokenStore`] must pass, this project's stores and yours.
//!
//! Each check is a function that drives a store through the trait only and panics with a message
//! saying what the store got wrong, so that it reads as a test assertion. Call them from your
//! `#[test]`s, one test per check, or all at once with [`run_all`]. A check expects an empty store
//! (it says so when it is not) and leaves it empty.
//!
//! Most checks take two handles: `store`, the one under test, and `other`, a second instance on
//! the same storage (another connection, the same file opened again) — or the same store again
//! when it lives in one process only. Through `other` the checks see whether the storage is the
//! truth or a cache, and whether the lock excludes a holder that is not the same instance.
//! [`locked_increments_across_processes`] runs the lock across processes. For a store on a
//! database server, [`connected_or_skip`] and [`scratch_name`] set up a test that skips when the
//! server is away (fails with `CI=true`) and works in a schema of its own.
//!
//! Enabled by the `conformance` feature; add it to your dev-dependencies:
//!
//! ```toml
//! [dev-dependencies]
//! zoho-oauth = { version = "0.1", features = ["conformance"] }
//! ```
//!
//! Then, for a store kept in one process (a persistent one passes a second instance as `other`):
//!
//! ```
//! use std::sync::Arc;
//! use zoho_oauth::conformance::{self, LockScope, Profile, UnreleasedSaves};
//! use zoho_oauth::MemoryStore; // your store here
//!
//! let store = Arc::new(MemoryStore::new());
//! conformance::run_all(
//!     &*store,
//!     store.clone(),
//!     Profile {
//!         model_cases: 8,
//!         ..Profile::new(UnreleasedSaves::Kept, LockScope::Key)
//!     },
//! );
//! ```

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant as WallClock};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use zoho_oauth_core::{DataCenter, Environment, Instant, Secret, TokenSet};

use crate::key::CredentialKey;
use crate::store::{StoreError, TokenStore};

/// How long a check waits for something that must happen (a released lock taken, the backend
/// reporting a waiter) before it fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(30);

/// How long a second holder must keep waiting, when nothing better than time says it waits.
pub const DEFAULT_PATIENCE: Duration = Duration::from_millis(300);

/// The environment variable that turns a re-run of the test binary into one of the child
/// processes of [`locked_increments_across_processes`]; it holds the store's location.
pub const CHILD_ENV: &str = "ZOHO_OAUTH_CONFORMANCE_CHILD";

/// What a store does with saves made through a lock that is dropped without
/// [`release`](crate::LockedCredential::release).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnreleasedSaves {
    /// They are durable as soon as `save` returns (file and in-memory stores).
    Kept,
    /// They are rolled back, and invisible to others until `release` (transactional stores).
    RolledBack,
}

/// What a store's refresh lock covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockScope {
    /// One key: holders of different keys never wait for each other (checked).
    Key,
    /// More than one key, up to the whole store (a file lock, `BEGIN IMMEDIATE`): not checked.
    Store,
}

/// How [`lock_excludes_a_second_holder`] knows that the second holder waits for the lock.
pub enum LockEvidence<'a> {
    /// No outside view: the second holder must not get the lock within this time after it said it
    /// was calling `lock` (a bounded check that it waits, not a synchronisation).
    Patience(Duration),
    /// A probe that says, without blocking, whether the lock of the first key of [`keys`] is free,
    /// as another process would (a try-lock on another open file description, a zero-timeout
    /// transaction): free before, held while the first holder has it, free after. The second
    /// holder must also not get the lock within [`DEFAULT_PATIENCE`].
    FreeProbe(&'a mut dyn FnMut() -> bool),
    /// The backend's own view (`pg_stat_activity`, `INNODB_LOCK_WAITS`) that the second holder is
    /// blocked on the lock, asked every `every` (the pace of asking, not a synchronisation) until
    /// it says so; the check fails after 30 s or when the second holder got the lock instead.
    BackendSaysWaiting {
        /// Pause between two questions (some backends refresh their view only so often).
        every: Duration,
        /// Whether the second holder is blocked on the lock now.
        waiting: &'a mut dyn FnMut() -> bool,
    },
}

impl fmt::Debug for LockEvidence<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Patience(d) => f.debug_tuple("Patience").field(d).finish(),
            Self::FreeProbe(_) => f.write_str("FreeProbe(..)"),
            Self::BackendSaysWaiting { every, .. } => f
                .debug_struct("BackendSaysWaiting")
                .field("every", every)
                .finish_non_exhaustive(),
        }
    }
}

/// What [`run_all`] needs to know about a store.
#[derive(Debug)]
pub struct Profile<'a> {
    /// What happens to saves through a lock dropped without release.
    pub unreleased_saves: UnreleasedSaves,
    /// What the refresh lock covers.
    pub lock_scope: LockScope,
    /// How the lock check knows that a second holder waits.
    pub lock_evidence: LockEvidence<'a>,
    /// Random operation sequences for [`agrees_with_a_hashmap_model`].
    pub model_cases: u32,
}

impl Profile<'_> {
    /// A profile with [`LockEvidence::Patience`] of [`DEFAULT_PATIENCE`] and 32 model cases.
    pub fn new(unreleased_saves: UnreleasedSaves, lock_scope: LockScope) -> Self {
        Self {
            unreleased_saves,
            lock_scope,
            lock_evidence: LockEvidence::Patience(DEFAULT_PATIENCE),
            model_cases: 32,
        }
    }
}

/// Every check of this module that needs no more than `store`, `other` and `profile` (all but
/// [`locked_increments_across_processes`]), in turn.
pub fn run_all(store: &dyn TokenStore, other: Arc<dyn TokenStore>, profile: Profile<'_>) {
    round_trip(store, &*other);
    locked_load_and_save(store);
    lock_excludes_a_second_holder(store, other.clone(), profile.lock_evidence);
    a_dropped_lock_is_free_again(store, other.clone(), profile.unreleased_saves);
    if profile.lock_scope == LockScope::Key {
        locks_of_different_keys_are_independent(store, other.clone());
    }
    agrees_with_a_hashmap_model(
        store,
        &*other,
        profile.unreleased_saves,
        profile.model_cases,
    );
}

/// Keys that differ from the first in exactly one field (user case, a trailing space, client,
/// data centre, environment), and awkward user names (empty, spaces, quotes, a newline, non-ASCII).
pub fn keys() -> Vec<CredentialKey> {
    const CLIENT_ID: &str = "1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG";
    let user =
        |name: &str| CredentialKey::new(name, CLIENT_ID, DataCenter::Us, Environment::Production);
    let ana_with = |change: fn(&mut CredentialKey)| {
        let mut key = user("ana@example.com");
        change(&mut key);
        key
    };
    vec![
        user("ana@example.com"),
        user("Ana@example.com"),
        user("ana@example.com "),
        ana_with(|k| k.client_id = "1000.OTHERCLIENTID".into()),
        ana_with(|k| k.data_center = DataCenter::Eu),
        ana_with(|k| k.environment = Environment::Sandbox),
        ana_with(|k| k.environment = Environment::Developer),
        user("bo@example.org"),
        user(""),
        user("with space%and\npercent,\"quote\" zoë"),
    ]
}

/// A token set shaped like Zoho's for `seed`: `1000.`-prefixed tokens, one hour of life, an
/// `api_domain`, CRM scopes and up to three mints. Every third has no access token and every
/// seventh no `api_domain` (Zoho sent none); distinct seeds give distinct refresh tokens.
pub fn token(seed: u64) -> TokenSet {
    let refresh = format!(
        "1000.{seed:032x}.{:032x}",
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    );
    let mut t = TokenSet::new(&refresh).expect("a Zoho-shaped refresh token fits a TokenSet");
    let minted = 1_700_000_000_000 + (seed % 1_000_000_000) * 1000;
    if seed % 3 != 0 {
        let access = format!("1000.{:032x}.{seed:032x}", !seed);
        t.access_token =
            Some(Secret::new("access_token", &access).expect("a Zoho-shaped access token fits"));
        t.issued_at = Instant::from_millis(minted);
        t.expires_at = Instant::from_millis(minted + 3_600_000);
    }
    if seed % 7 != 6 {
        t.api_domain
            .push_str("https://www.zohoapis.com")
            .expect("an api_domain fits");
    }
    t.scope
        .push_str("ZohoCRM.modules.ALL ZohoCRM.settings.READ")
        .expect("the scopes fit");
    for i in 0..seed % 4 {
        t.mints
            .record(Instant::from_millis(minted - (3 - i) * 60_000));
    }
    t
}

/// Several credentials round-trip, through `store` and as `other` sees them; `list` is complete;
/// a save replaces (the same token twice makes no second entry); `delete` and `delete_all`
/// remove exactly what they should.
pub fn round_trip(store: &dyn TokenStore, other: &dyn TokenStore) {
    const CHECK: &str = "round_trip";
    expect_empty(store, CHECK);
    let keys = keys();
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(must(store.load(k), CHECK, "load"), None, "{CHECK}: {k}");
        must(store.save(k, &token(i as u64)), CHECK, "save");
    }
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(
            must(store.load(k), CHECK, "load"),
            Some(token(i as u64)),
            "{CHECK}: {k} must load what was saved for it (keys that differ in one field only are separate credentials)"
        );
        assert_eq!(
            must(other.load(k), CHECK, "load from the other instance"),
            Some(token(i as u64)),
            "{CHECK}: the other instance must see what was saved for {k}: the storage is the truth, not a cache"
        );
    }
    assert_eq!(
        sorted(must(store.list(), CHECK, "list")),
        sorted(keys.clone()),
        "{CHECK}: list must give every stored key once"
    );
    assert_eq!(
        sorted(must(other.list(), CHECK, "list from the other instance")),
        sorted(keys.clone()),
        "{CHECK}: the other instance must list every stored key once"
    );

    must(store.save(&keys[0], &token(100)), CHECK, "save over");
    must(
        store.save(&keys[0], &token(100)),
        CHECK,
        "save the same token again",
    );
    assert_eq!(
        must(store.load(&keys[0]), CHECK, "load"),
        Some(token(100)),
        "{CHECK}: a save must replace the stored token"
    );
    assert_eq!(
        must(other.load(&keys[0]), CHECK, "load from the other instance"),
        Some(token(100)),
        "{CHECK}: the other instance must see the replacement"
    );
    assert_eq!(
        must(store.load(&keys[1]), CHECK, "load"),
        Some(token(1)),
        "{CHECK}: replacing {} must not touch {}",
        keys[0],
        keys[1]
    );
    assert_eq!(
        must(store.list(), CHECK, "list").len(),
        keys.len(),
        "{CHECK}: saving over a key must not add one"
    );

    assert!(
        must(store.delete(&keys[2]), CHECK, "delete"),
        "{CHECK}: delete of a stored key must say it was there"
    );
    assert!(
        !must(store.delete(&keys[2]), CHECK, "delete again"),
        "{CHECK}: a second delete must find nothing"
    );
    assert_eq!(
        must(store.load(&keys[2]), CHECK, "load"),
        None,
        "{CHECK}: a deleted key must not load"
    );
    assert_eq!(
        must(other.load(&keys[2]), CHECK, "load from the other instance"),
        None,
        "{CHECK}: the other instance must not load a deleted key"
    );
    assert_eq!(
        must(store.list(), CHECK, "list").len(),
        keys.len() - 1,
        "{CHECK}: delete must remove exactly one key"
    );

    must(store.delete_all(), CHECK, "delete_all");
    assert_eq!(
        must(store.list(), CHECK, "list"),
        vec![],
        "{CHECK}: delete_all must leave nothing"
    );
    assert_eq!(
        must(other.list(), CHECK, "list from the other instance"),
        vec![],
        "{CHECK}: the other instance must see nothing after delete_all"
    );
    assert_eq!(must(store.load(&keys[0]), CHECK, "load"), None);
}

/// Loads and saves through the lock see and make the store's contents; a released or dropped
/// lock can be taken again; a key with nothing stored loads `None` under its lock.
pub fn locked_load_and_save(store: &dyn TokenStore) {
    const CHECK: &str = "locked_load_and_save";
    expect_empty(store, CHECK);
    let keys = keys();
    let (a, b) = (&keys[0], &keys[1]);
    must(store.save(a, &token(1)), CHECK, "save");
    let mut locked = must(store.lock(a), CHECK, "lock");
    assert_eq!(
        must(locked.load(), CHECK, "locked load"),
        Some(token(1)),
        "{CHECK}: a load under the lock must see what was saved before"
    );
    must(locked.save(&token(2)), CHECK, "locked save");
    assert_eq!(
        must(locked.load(), CHECK, "locked load"),
        Some(token(2)),
        "{CHECK}: a load under the lock must see the save made under it"
    );
    must(locked.release(), CHECK, "release");
    assert_eq!(
        must(store.load(a), CHECK, "load"),
        Some(token(2)),
        "{CHECK}: a save under a released lock must be stored"
    );

    let mut locked = must(store.lock(b), CHECK, "lock");
    assert_eq!(
        must(locked.load(), CHECK, "locked load"),
        None,
        "{CHECK}: a key with nothing stored must load None under its lock"
    );
    drop(locked);
    must(
        must(store.lock(b), CHECK, "lock after drop").release(),
        CHECK,
        "release",
    );
    must(store.delete_all(), CHECK, "delete_all");
}

/// While `holder` has the lock of a key, `other` (on a thread of its own) cannot take it; once
/// released, `other` takes it and loads what the first holder saved under it. `evidence` says how
/// the check knows the second holder waits.
pub fn lock_excludes_a_second_holder(
    holder: &dyn TokenStore,
    other: Arc<dyn TokenStore>,
    mut evidence: LockEvidence<'_>,
) {
    const CHECK: &str = "lock_excludes_a_second_holder";
    expect_empty(holder, CHECK);
    let key = keys().swap_remove(0);
    must(holder.save(&key, &token(1)), CHECK, "save");
    if let LockEvidence::FreeProbe(free) = &mut evidence {
        assert!(
            free(),
            "{CHECK}: the probe must find the lock free before anyone holds it"
        );
    }
    // Dropped when a panic unwinds from here on, so that the second holder never stays blocked.
    let mut held = must(holder.lock(&key), CHECK, "lock");
    if let LockEvidence::FreeProbe(free) = &mut evidence {
        assert!(!free(), "{CHECK}: the lock must be visible to other holders, but the probe found it free while held");
    }
    must(held.save(&token(2)), CHECK, "locked save");

    let (tx, rx) = mpsc::channel();
    let waiter = {
        let key = key.clone();
        thread::spawn(move || {
            let _ = tx.send(Event::Trying);
            let seen = other.lock(&key).and_then(|mut locked| {
                let seen = locked.load()?;
                locked.release().map(|()| seen)
            });
            let _ = tx.send(Event::Acquired(Box::new(seen)));
        })
    };
    assert!(
        matches!(rx.recv(), Ok(Event::Trying)),
        "{CHECK}: the second holder's thread did not start"
    );
    let got_it = "the second holder got the lock while the first held it";
    match &mut evidence {
        LockEvidence::Patience(patience) => expect_still_waiting(&rx, *patience, CHECK, got_it),
        LockEvidence::FreeProbe(_) => expect_still_waiting(&rx, DEFAULT_PATIENCE, CHECK, got_it),
        LockEvidence::BackendSaysWaiting { every, waiting } => {
            let deadline = WallClock::now() + LIMIT;
            while !waiting() {
                match rx.try_recv() {
                    Err(TryRecvError::Empty) => {}
                    Ok(event) => event.unexpected(CHECK, got_it),
                    Err(TryRecvError::Disconnected) => {
                        panic!("{CHECK}: the second holder's thread ended without a result")
                    }
                }
                assert!(
                    WallClock::now() < deadline,
                    "{CHECK}: the backend did not report the second holder waiting for the lock within {LIMIT:?}"
                );
                thread::sleep(*every);
            }
            assert!(
                matches!(rx.try_recv(), Err(TryRecvError::Empty)),
                "{CHECK}: {got_it}"
            );
        }
    }
    must(held.release(), CHECK, "release");
    match rx.recv_timeout(LIMIT).map(|event| match event {
        Event::Acquired(result) => *result,
        Event::Trying => unreachable!("sent once, first"),
    }) {
        Ok(Ok(seen)) => assert_eq!(
            seen,
            Some(token(2)),
            "{CHECK}: once it has the lock, the second holder must load what the first saved under it"
        ),
        Ok(Err(e)) => panic!("{CHECK}: the second holder failed: {e}"),
        Err(_) => panic!("{CHECK}: the second holder did not get the lock within {LIMIT:?} of its release"),
    }
    waiter
        .join()
        .expect("the second holder's thread does not panic");
    if let LockEvidence::FreeProbe(free) = &mut evidence {
        assert!(
            free(),
            "{CHECK}: the lock must be free once both holders released it"
        );
    }
    must(holder.delete_all(), CHECK, "delete_all");
}

/// A lock dropped without release keeps or rolls back its saves as `unreleased` says (others see
/// them only if kept), and is free again at once: `other` takes it within 30 s.
pub fn a_dropped_lock_is_free_again(
    store: &dyn TokenStore,
    other: Arc<dyn TokenStore>,
    unreleased: UnreleasedSaves,
) {
    const CHECK: &str = "a_dropped_lock_is_free_again";
    expect_empty(store, CHECK);
    let key = keys().swap_remove(0);
    must(store.save(&key, &token(1)), CHECK, "save");
    let expected = match unreleased {
        UnreleasedSaves::Kept => token(2),
        UnreleasedSaves::RolledBack => token(1),
    };
    let mut locked = must(store.lock(&key), CHECK, "lock");
    must(locked.save(&token(2)), CHECK, "locked save");
    assert_eq!(
        must(store.load(&key), CHECK, "load while locked"),
        Some(expected.clone()),
        "{CHECK}: with unreleased saves {unreleased:?}, a reader outside the lock must see this"
    );
    drop(locked);
    assert_eq!(
        must(store.load(&key), CHECK, "load after drop"),
        Some(expected.clone()),
        "{CHECK}: with unreleased saves {unreleased:?}, a dropped lock must leave this"
    );

    // On a thread of its own: a lock that stays held fails the check instead of hanging it.
    let (tx, rx) = mpsc::channel();
    let taker = {
        let key = key.clone();
        thread::spawn(move || {
            let seen = other.lock(&key).and_then(|mut locked| {
                let seen = locked.load()?;
                locked.save(&token(3))?;
                locked.release().map(|()| seen)
            });
            let _ = tx.send(seen);
        })
    };
    match rx.recv_timeout(LIMIT) {
        Ok(Ok(seen)) => assert_eq!(seen, Some(expected), "{CHECK}: under the lock"),
        Ok(Err(e)) => {
            panic!("{CHECK}: taking the dropped lock from the other instance failed: {e}")
        }
        Err(_) => {
            panic!("{CHECK}: the lock dropped without release was still held {LIMIT:?} later")
        }
    }
    taker.join().expect("the taker thread does not panic");
    assert_eq!(must(store.load(&key), CHECK, "load"), Some(token(3)));
    must(
        must(store.lock(&key), CHECK, "lock again").release(),
        CHECK,
        "release",
    );
    must(store.delete_all(), CHECK, "delete_all");
}

/// For a store whose lock covers one key: while `store` holds the lock of the first key, `other`
/// takes and uses the lock of every other key of [`keys`] without waiting (30 s at most).
pub fn locks_of_different_keys_are_independent(store: &dyn TokenStore, other: Arc<dyn TokenStore>) {
    const CHECK: &str = "locks_of_different_keys_are_independent";
    expect_empty(store, CHECK);
    let mut keys = keys();
    let first = keys.remove(0);
    let held = must(store.lock(&first), CHECK, "lock");
    let (tx, rx) = mpsc::channel();
    let user = thread::spawn({
        let keys = keys.clone();
        move || {
            for (i, key) in keys.iter().enumerate() {
                let done = other.lock(key).and_then(|mut locked| {
                    locked.save(&token(i as u64))?;
                    locked.release()
                });
                let _ = tx.send(done);
            }
        }
    });
    for key in &keys {
        match rx.recv_timeout(LIMIT) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("{CHECK}: locking {key} failed: {e}"),
            Err(_) => panic!("{CHECK}: the lock of {key} waited {LIMIT:?} for the lock of {first}"),
        }
    }
    drop(held);
    user.join().expect("the other thread does not panic");
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(must(store.load(key), CHECK, "load"), Some(token(i as u64)));
    }
    must(store.delete_all(), CHECK, "delete_all");
}

/// One step of [`agrees_with_a_hashmap_model`], on an index into [`keys`].
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

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let k = 0..keys().len();
    let op = prop_oneof![
        4 => (k.clone(), any::<u64>()).prop_map(|(k, s)| Op::Save(k, s)),
        2 => k.clone().prop_map(Op::Load),
        3 => k.clone().prop_map(Op::Delete),
        1 => Just(Op::List),
        1 => Just(Op::DeleteAll),
        2 => (k.clone(), any::<u64>()).prop_map(|(k, s)| Op::LockedSave(k, s)),
        1 => (k, any::<u64>()).prop_map(|(k, s)| Op::LockedSaveDropped(k, s)),
    ];
    proptest::collection::vec(op, 1..24)
}

/// `cases` random sequences of save, load, delete, list, delete_all and saves through released
/// and dropped locks, applied to `store` (emptied first) and to a `HashMap`: after every step
/// they agree on the key touched, and at the end `store` and `other` agree with the map on every
/// key and the list. A failure shows the shortest failing sequence.
pub fn agrees_with_a_hashmap_model(
    store: &dyn TokenStore,
    other: &dyn TokenStore,
    unreleased: UnreleasedSaves,
    cases: u32,
) {
    const CHECK: &str = "agrees_with_a_hashmap_model";
    let keys = keys();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&ops(), |ops| {
        must(store.delete_all(), CHECK, "delete_all");
        let mut model: HashMap<CredentialKey, TokenSet> = HashMap::new();
        for op in ops {
            let touched = match op {
                Op::Save(k, seed) => {
                    must(store.save(&keys[k], &token(seed)), CHECK, "save");
                    model.insert(keys[k].clone(), token(seed));
                    Some(k)
                }
                Op::Load(k) => Some(k),
                Op::Delete(k) => {
                    let was = model.remove(&keys[k]).is_some();
                    prop_assert_eq!(must(store.delete(&keys[k]), CHECK, "delete"), was);
                    Some(k)
                }
                Op::List => {
                    let listed = sorted(must(store.list(), CHECK, "list"));
                    prop_assert_eq!(listed, sorted(model.keys().cloned().collect()));
                    None
                }
                Op::DeleteAll => {
                    must(store.delete_all(), CHECK, "delete_all");
                    model.clear();
                    None
                }
                Op::LockedSave(k, seed) | Op::LockedSaveDropped(k, seed) => {
                    let mut locked = must(store.lock(&keys[k]), CHECK, "lock");
                    prop_assert_eq!(
                        must(locked.load(), CHECK, "locked load"),
                        model.get(&keys[k]).cloned()
                    );
                    must(locked.save(&token(seed)), CHECK, "locked save");
                    let released = matches!(op, Op::LockedSave(..));
                    if released {
                        must(locked.release(), CHECK, "release");
                    } else {
                        drop(locked);
                    }
                    if released || unreleased == UnreleasedSaves::Kept {
                        model.insert(keys[k].clone(), token(seed));
                    }
                    Some(k)
                }
            };
            if let Some(k) = touched {
                prop_assert_eq!(
                    must(store.load(&keys[k]), CHECK, "load"),
                    model.get(&keys[k]).cloned()
                );
            }
        }
        for (who, s) in [("store", store), ("other", other)] {
            for k in &keys {
                prop_assert_eq!(
                    must(s.load(k), CHECK, "load"),
                    model.get(k).cloned(),
                    "{} disagrees on {}",
                    who,
                    k
                );
            }
            prop_assert_eq!(
                sorted(must(s.list(), CHECK, "list")),
                sorted(model.keys().cloned().collect()),
                "{} lists other keys",
                who
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{CHECK}: the store and a HashMap disagree. {e}");
    }
    must(store.delete_all(), CHECK, "delete_all");
}

/// Processes that increment a counter kept in the first key's token, each increment a
/// read-modify-write under the lock, lose no update; plain saves of other keys made meanwhile
/// are not lost either.
///
/// Call it from a `#[test]` named `test_name` (the full path the test harness shows, e.g.
/// `the_lock_works_across_processes`): it re-runs the test binary as 4 child processes running
/// only that test with [`CHILD_ENV`] set to `location`, in which this function opens the store
/// with `open(location)`, increments 25 times and returns. In the parent it opens the store with
/// `open(location)` and checks the outcome.
pub fn locked_increments_across_processes<S: TokenStore>(
    test_name: &str,
    location: &str,
    open: impl Fn(&str) -> S,
) {
    const CHECK: &str = "locked_increments_across_processes";
    const PROCESSES: usize = 4;
    const INCREMENTS: u64 = 25;
    if let Ok(location) = std::env::var(CHILD_ENV) {
        locked_increments(&open(&location), INCREMENTS);
        return;
    }
    let store = open(location);
    expect_empty(&store, CHECK);
    let keys = keys();
    let exe = std::env::current_exe().expect("the test binary's path");
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            Command::new(&exe)
                .args([test_name, "--exact", "--test-threads=1", "--nocapture"])
                .env(CHILD_ENV, location)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("re-run the test binary")
        })
        .collect();
    for i in 0..20 {
        must(
            store.save(&keys[1 + i % 3], &token(i as u64)),
            CHECK,
            "save",
        );
    }
    for child in children {
        let out = child.wait_with_output().expect("wait for a child");
        assert!(
            out.status.success(),
            "{CHECK}: a child process failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let counter = must(store.load(&keys[0]), CHECK, "load")
        .map_or(0, |t| t.scope.parse::<u64>().expect("a counter"));
    assert_eq!(
        counter,
        PROCESSES as u64 * INCREMENTS,
        "{CHECK}: increments under the lock were lost: it does not exclude other processes"
    );
    for i in 17..20 {
        assert_eq!(
            must(store.load(&keys[1 + i % 3]), CHECK, "load"),
            Some(token(i as u64)),
            "{CHECK}: a plain save made meanwhile was lost"
        );
    }
    must(store.delete_all(), CHECK, "delete_all");
}

/// `n` read-modify-write increments of the counter in the first key's scope, each under the lock.
fn locked_increments(store: &dyn TokenStore, n: u64) {
    const CHECK: &str = "locked_increments_across_processes (child)";
    let key = keys().swap_remove(0);
    for _ in 0..n {
        let mut locked = must(store.lock(&key), CHECK, "lock");
        let (mut t, current) = match must(locked.load(), CHECK, "locked load") {
            Some(t) => {
                let current: u64 = t.scope.parse().expect("a counter");
                (t, current)
            }
            None => (token(0), 0),
        };
        t.scope.clear();
        write!(t.scope, "{}", current + 1).expect("a counter fits the scope");
        must(locked.save(&t), CHECK, "locked save");
        must(locked.release(), CHECK, "release");
    }
}

/// For tests against a database server: the connection when `connected` is `Ok`. When the server
/// cannot be reached, the test fails if `CI=true` is set (CI must run every check) and is skipped
/// otherwise: this prints why and how to run it, and returns `None`. `server` names the server
/// and where its address comes from.
pub fn connected_or_skip<C, E: std::error::Error>(
    server: &str,
    connected: Result<C, E>,
) -> Option<C> {
    let e = match connected {
        Ok(connection) => return Some(connection),
        Err(e) => e,
    };
    let mut why = format!("{server} is not reachable: {e}");
    let mut source = e.source();
    while let Some(cause) = source {
        let _ = write!(why, ": {cause}");
        source = cause.source();
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why}; CI=true requires the server");
    }
    eprintln!("skipped: {why}; start the server or set the URL (CI=true makes this a failure)");
    None
}

/// A name for a scratch schema or database that no other test, here or in another process, uses
/// at the same time: `zo_test_<process id>_<counter>`.
pub fn scratch_name() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "zo_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn must<T>(result: Result<T, StoreError>, check: &str, what: &str) -> T {
    result.unwrap_or_else(|e| panic!("{check}: {what} failed: {e}"))
}

fn expect_empty(store: &dyn TokenStore, check: &str) {
    let listed = must(store.list(), check, "list");
    assert!(
        listed.is_empty(),
        "{check}: the check needs an empty store, but it lists {} credential(s)",
        listed.len()
    );
}

/// What the second holder's thread of [`lock_excludes_a_second_holder`] reports.
enum Event {
    Trying,
    /// Boxed: a `TokenSet` is large.
    Acquired(Box<Result<Option<TokenSet>, StoreError>>),
}

impl Event {
    /// Fail the check: this event came while the first holder still had the lock.
    fn unexpected(self, check: &str, got_it: &str) -> ! {
        match self {
            Self::Acquired(result) => match *result {
                Err(e) => panic!("{check}: the second holder's lock failed: {e}"),
                Ok(_) => panic!("{check}: {got_it}"),
            },
            Self::Trying => unreachable!("sent once, first"),
        }
    }
}

fn expect_still_waiting(rx: &mpsc::Receiver<Event>, patience: Duration, check: &str, got_it: &str) {
    match rx.recv_timeout(patience) {
        Err(RecvTimeoutError::Timeout) => {}
        Ok(event) => event.unexpected(check, got_it),
        Err(RecvTimeoutError::Disconnected) => {
            panic!("{check}: the second holder's thread ended without a result")
        }
    }
}

fn sorted(mut keys: Vec<CredentialKey>) -> Vec<CredentialKey> {
    keys.sort();
    keys
}
