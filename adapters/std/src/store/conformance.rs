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
//!
//! What they check:
//! - contents: [`round_trip`], [`locked_load_and_save`], [`agrees_with_a_hashmap_model`],
//!   [`damaged_entries_do_not_block_the_others`] (for a store that can hold an entry that no
//!   longer decodes), [`describe_names_the_store_without_a_secret`];
//! - the lock: [`lock_excludes_a_second_holder`], [`a_dropped_lock_is_free_again`],
//!   [`locks_of_different_keys_are_independent`], [`lock_waits_are_bounded`];
//! - delete under the lock: [`a_locked_delete_excludes_a_concurrent_locked_save`],
//!   [`a_cycle_that_loaded_before_a_delete_cannot_resurrect_the_key`],
//!   [`delete_all_waits_for_a_held_lock`];
//! - across processes (each called from a `#[test]` of its own, which it re-runs as child
//!   processes): [`locked_increments_across_processes`],
//!   [`a_locked_delete_excludes_saves_across_processes`].
//!
//! For a store on a database server, [`connected_or_skip`] and [`scratch_name`] set up a test that
//! skips when the server is away (fails with `CI=true`) and works in a schema of its own.
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
//! use zoho_oauth::store::conformance::{self, LockScope, Profile, UnreleasedSaves};
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
use std::io::{BufRead, BufReader, Write as _};
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
use crate::store::{LockWait, StoreError, TokenStore};

/// How long a check waits for something that must happen (a released lock taken, the backend
/// reporting a waiter) before it fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(30);

/// The lock wait of every check: as long as [`LIMIT`], so a lock that should come free does.
const WAIT: LockWait = LockWait::AtMost(LIMIT);

/// Save `token` under `key` the only way a store allows: through the key's lock, then release.
pub fn save(
    store: &dyn TokenStore,
    key: &CredentialKey,
    token: &TokenSet,
) -> Result<(), StoreError> {
    let mut locked = store.lock(key, WAIT)?;
    locked.save(token)?;
    locked.release()
}

/// Delete `key` through its lock; `Ok(false)` when it was not stored.
pub fn delete(store: &dyn TokenStore, key: &CredentialKey) -> Result<bool, StoreError> {
    let mut locked = store.lock(key, WAIT)?;
    let found = locked.delete()?;
    locked.release()?;
    Ok(found)
}

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
pub struct Profile<'a> {
    /// What happens to saves through a lock dropped without release.
    pub unreleased_saves: UnreleasedSaves,
    /// What the refresh lock covers.
    pub lock_scope: LockScope,
    /// How the lock checks know that a second holder waits.
    pub lock_evidence: LockEvidence<'a>,
    /// Random operation sequences for [`agrees_with_a_hashmap_model`].
    pub model_cases: u32,
    /// For a store that keeps encoded bytes (and so can hold an entry that no longer decodes): a
    /// function that damages the stored entry of a key through the backend (writes bytes that do
    /// not decode), for [`damaged_entries_do_not_block_the_others`]. `None` skips that check (a
    /// store of decoded values cannot hold a damaged entry).
    pub damage: Option<&'a mut dyn FnMut(&CredentialKey)>,
    /// Secrets the store was opened with (a database password): [`describe`](TokenStore::describe)
    /// must show none of them.
    pub secrets: &'a [&'a str],
}

impl fmt::Debug for Profile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("unreleased_saves", &self.unreleased_saves)
            .field("lock_scope", &self.lock_scope)
            .field("lock_evidence", &self.lock_evidence)
            .field("model_cases", &self.model_cases)
            .field("damage", &self.damage.as_ref().map(|_| ".."))
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Profile<'_> {
    /// A profile with [`LockEvidence::Patience`] of [`DEFAULT_PATIENCE`], 32 model cases, no
    /// damage function and no secrets.
    pub fn new(unreleased_saves: UnreleasedSaves, lock_scope: LockScope) -> Self {
        Self {
            unreleased_saves,
            lock_scope,
            lock_evidence: LockEvidence::Patience(DEFAULT_PATIENCE),
            model_cases: 32,
            damage: None,
            secrets: &[],
        }
    }
}

impl LockEvidence<'_> {
    /// The same evidence, borrowed for one more check.
    fn reborrow(&mut self) -> LockEvidence<'_> {
        match self {
            Self::Patience(d) => LockEvidence::Patience(*d),
            Self::FreeProbe(free) => LockEvidence::FreeProbe(&mut **free),
            Self::BackendSaysWaiting { every, waiting } => LockEvidence::BackendSaysWaiting {
                every: *every,
                waiting: &mut **waiting,
            },
        }
    }

    /// How long a waiter must stay blocked when the only evidence is time.
    fn patience(&self) -> Duration {
        match self {
            Self::Patience(d) => *d,
            _ => DEFAULT_PATIENCE,
        }
    }
}

/// Every check of this module that needs no more than `store`, `other` and `profile` (all but
/// the cross-process ones, [`locked_increments_across_processes`] and
/// [`a_locked_delete_excludes_saves_across_processes`]), in turn.
pub fn run_all(store: &dyn TokenStore, other: Arc<dyn TokenStore>, mut profile: Profile<'_>) {
    let evidence = &mut profile.lock_evidence;
    describe_names_the_store_without_a_secret(store, profile.secrets);
    round_trip(store, &*other);
    locked_load_and_save(store);
    lock_excludes_a_second_holder(store, other.clone(), evidence.reborrow());
    a_dropped_lock_is_free_again(store, other.clone(), profile.unreleased_saves);
    if profile.lock_scope == LockScope::Key {
        locks_of_different_keys_are_independent(store, other.clone());
    }
    lock_waits_are_bounded(store, other.clone());
    a_locked_delete_excludes_a_concurrent_locked_save(store, other.clone(), evidence.reborrow());
    a_cycle_that_loaded_before_a_delete_cannot_resurrect_the_key(
        store,
        other.clone(),
        evidence.reborrow(),
    );
    delete_all_waits_for_a_held_lock(store, other.clone(), evidence.patience());
    if let Some(damage) = profile.damage.as_mut() {
        damaged_entries_do_not_block_the_others(store, &*other, &mut **damage);
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
        must(save(store, k, &token(i as u64)), CHECK, "save");
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

    must(save(store, &keys[0], &token(100)), CHECK, "save over");
    must(
        save(store, &keys[0], &token(100)),
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
        must(delete(store, &keys[2]), CHECK, "delete"),
        "{CHECK}: delete of a stored key must say it was there"
    );
    assert!(
        !must(delete(store, &keys[2]), CHECK, "delete again"),
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
    must(save(store, a, &token(1)), CHECK, "save");
    let mut locked = must(store.lock(a, WAIT), CHECK, "lock");
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

    let mut locked = must(store.lock(b, WAIT), CHECK, "lock");
    assert_eq!(
        must(locked.load(), CHECK, "locked load"),
        None,
        "{CHECK}: a key with nothing stored must load None under its lock"
    );
    drop(locked);
    must(
        must(store.lock(b, WAIT), CHECK, "lock after drop").release(),
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
    must(save(holder, &key, &token(1)), CHECK, "save");
    if let LockEvidence::FreeProbe(free) = &mut evidence {
        assert!(
            free(),
            "{CHECK}: the probe must find the lock free before anyone holds it"
        );
    }
    // Dropped when a panic unwinds from here on, so that the second holder never stays blocked.
    let mut held = must(holder.lock(&key, WAIT), CHECK, "lock");
    if let LockEvidence::FreeProbe(free) = &mut evidence {
        assert!(!free(), "{CHECK}: the lock must be visible to other holders, but the probe found it free while held");
    }
    must(held.save(&token(2)), CHECK, "locked save");

    let (waiter, rx) = start_waiter(CHECK, {
        let key = key.clone();
        move |tx| {
            let seen = other.lock(&key, WAIT).and_then(|mut locked| {
                let seen = locked.load()?;
                locked.release().map(|()| seen)
            });
            let _ = tx.send(Waiter::Loaded(Box::new(seen)));
        }
    });
    let early = "the second holder got the lock while the first held it";
    expect_blocked(&rx, &mut evidence, CHECK, early, |w| w.describe(early));
    must(held.release(), CHECK, "release");
    match rx.recv_timeout(LIMIT).map(|w| match w {
        Waiter::Loaded(result) => *result,
        Waiter::Done(_) => unreachable!("this waiter only loads"),
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
    must(save(store, &key, &token(1)), CHECK, "save");
    let expected = match unreleased {
        UnreleasedSaves::Kept => token(2),
        UnreleasedSaves::RolledBack => token(1),
    };
    let mut locked = must(store.lock(&key, WAIT), CHECK, "lock");
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
            let seen = other.lock(&key, WAIT).and_then(|mut locked| {
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
        must(store.lock(&key, WAIT), CHECK, "lock again").release(),
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
    let held = must(store.lock(&first, WAIT), CHECK, "lock");
    let (tx, rx) = mpsc::channel();
    let user = thread::spawn({
        let keys = keys.clone();
        move || {
            for (i, key) in keys.iter().enumerate() {
                let done = other.lock(key, WAIT).and_then(|mut locked| {
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

/// [`describe`](TokenStore::describe) names the store for messages: not empty, and showing none
/// of `secrets` (the password it was opened with), no `password=` and no password in a URL
/// (`scheme://user:password@host`).
pub fn describe_names_the_store_without_a_secret(store: &dyn TokenStore, secrets: &[&str]) {
    const CHECK: &str = "describe_names_the_store_without_a_secret";
    let named = store.describe();
    assert!(
        !named.trim().is_empty(),
        "{CHECK}: describe() must name the store (Busy and other messages show it)"
    );
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        assert!(
            !named.contains(secret),
            "{CHECK}: describe() shows a secret the store was opened with"
        );
    }
    assert!(
        !named.to_ascii_lowercase().contains("password="),
        "{CHECK}: describe() shows a password= parameter"
    );
    if let Some((_, rest)) = named.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            assert!(
                !userinfo.contains(':'),
                "{CHECK}: describe() shows the password of its URL"
            );
        }
    }
}

/// While `store` holds the lock of a key, `other` asking for it with [`LockWait::NoWait`] and
/// with [`LockWait::AtMost`] (200 ms) gets [`StoreError::Busy`] naming the store (as its
/// `describe` does) and the key, no sooner than asked and never forever (30 s at most, even
/// though the holder never lets go meanwhile); once released, both waits take the lock.
pub fn lock_waits_are_bounded(store: &dyn TokenStore, other: Arc<dyn TokenStore>) {
    const CHECK: &str = "lock_waits_are_bounded";
    const BOUND: Duration = Duration::from_millis(200);
    expect_empty(store, CHECK);
    let key = keys().swap_remove(0);
    must(save(store, &key, &token(1)), CHECK, "save");
    let held = must(store.lock(&key, WAIT), CHECK, "lock");

    let (tx, rx) = mpsc::channel();
    let (go, released) = mpsc::channel::<()>();
    let waiter = {
        let key = key.clone();
        thread::spawn(move || {
            for wait in [LockWait::NoWait, LockWait::AtMost(BOUND)] {
                let started = WallClock::now();
                let result = other.lock(&key, wait).map(drop);
                let _ = tx.send((wait, result, started.elapsed(), other.describe()));
            }
            if released.recv().is_err() {
                return;
            }
            for wait in [LockWait::NoWait, LockWait::AtMost(BOUND)] {
                let started = WallClock::now();
                let result = other.lock(&key, wait).and_then(|mut locked| {
                    locked.load()?;
                    locked.release()
                });
                let _ = tx.send((wait, result, started.elapsed(), other.describe()));
            }
        })
    };
    for _ in 0..2 {
        let (wait, result, waited, store_name) =
            expect_report(&rx, CHECK, "a bounded wait for a held lock returning");
        match result {
            Err(StoreError::Busy(busy)) => {
                assert_eq!(
                    busy.store, store_name,
                    "{CHECK}: Busy must name the store as its describe() does"
                );
                assert_eq!(busy.key, key.to_string(), "{CHECK}: Busy must name the key");
                assert!(
                    waited >= wait.limit(),
                    "{CHECK}: with {wait:?} the lock gave up after {waited:?}, before the bound"
                );
                let shown = StoreError::Busy(busy).to_string();
                assert!(
                    shown.contains(&store_name),
                    "{CHECK}: the message of Busy must name the store: {shown}"
                );
            }
            Err(e) => panic!("{CHECK}: with {wait:?} a held lock must give Busy, not: {e}"),
            Ok(()) => panic!("{CHECK}: with {wait:?} the lock was taken while held by another"),
        }
    }
    must(held.release(), CHECK, "release");
    let _ = go.send(());
    for _ in 0..2 {
        let (wait, result, _, _) = expect_report(&rx, CHECK, "a lock free again being taken");
        if let Err(e) = result {
            panic!("{CHECK}: with {wait:?} a released lock must be taken, not: {e}");
        }
    }
    waiter.join().expect("the waiter's thread does not panic");
    must(store.delete_all(), CHECK, "delete_all");
}

/// What the waiter of a lock check reports.
enum Waiter {
    /// What it loaded once it had the lock. Boxed: a `TokenSet` is large.
    Loaded(Box<Result<Option<TokenSet>, StoreError>>),
    /// How its work under the lock ended.
    Done(Result<bool, StoreError>),
}

impl Waiter {
    fn describe(self, early: &str) -> String {
        match self {
            Self::Loaded(result) => match *result {
                Ok(_) => early.to_owned(),
                Err(e) => format!("the waiter's lock or load failed: {e}"),
            },
            Self::Done(Ok(_)) => early.to_owned(),
            Self::Done(Err(e)) => format!("the waiter failed: {e}"),
        }
    }
}

/// `store` deletes a key under its lock while `other` (on a thread of its own) runs a locked
/// cycle on the same key: lock, load, and save only if something was loaded. The cycle waits
/// for the delete's release (as `evidence` can tell), then loads nothing and saves nothing; the
/// lock of the deleted key it then holds still excludes `store` ([`LockWait::NoWait`] gives
/// [`StoreError::Busy`]); afterwards nothing is stored, as both instances see.
pub fn a_locked_delete_excludes_a_concurrent_locked_save(
    store: &dyn TokenStore,
    other: Arc<dyn TokenStore>,
    mut evidence: LockEvidence<'_>,
) {
    const CHECK: &str = "a_locked_delete_excludes_a_concurrent_locked_save";
    expect_empty(store, CHECK);
    let key = keys().swap_remove(0);
    must(save(store, &key, &token(1)), CHECK, "save");
    let mut held = must(store.lock(&key, WAIT), CHECK, "lock");
    assert!(
        must(held.delete(), CHECK, "locked delete"),
        "{CHECK}: a locked delete of a stored key must say it was there"
    );
    assert_eq!(
        must(held.load(), CHECK, "locked load after the delete"),
        None,
        "{CHECK}: a load under the lock must see the delete made under it"
    );

    let (go, proceed) = mpsc::channel::<()>();
    let (waiter, rx) = start_waiter(CHECK, {
        let (key, other) = (key.clone(), other.clone());
        move |tx| {
            let mut locked = match other.lock(&key, WAIT) {
                Ok(locked) => locked,
                Err(e) => {
                    let _ = tx.send(Waiter::Loaded(Box::new(Err(e))));
                    return;
                }
            };
            let loaded = locked.load();
            let seen = loaded.as_ref().ok().cloned().flatten();
            let _ = tx.send(Waiter::Loaded(Box::new(loaded)));
            // Hold the lock of the deleted key until told to finish the cycle.
            let _ = proceed.recv();
            let done = match seen {
                Some(t) => locked
                    .save(&t)
                    .and_then(|()| locked.release())
                    .map(|()| true),
                None => locked.release().map(|()| false),
            };
            let _ = tx.send(Waiter::Done(done));
        }
    });
    let early = "the cycle got the lock before the delete released it";
    expect_blocked(&rx, &mut evidence, CHECK, early, |w| w.describe(early));
    must(held.release(), CHECK, "release the delete");
    match expect_report(&rx, CHECK, "the cycle taking the lock after the delete") {
        Waiter::Loaded(loaded) => match *loaded {
            Ok(None) => {}
            Ok(Some(_)) => panic!(
                "{CHECK}: the cycle loaded the credential after a delete under the lock was released"
            ),
            Err(e) => panic!("{CHECK}: the cycle's lock or load failed: {e}"),
        },
        other => panic!("{CHECK}: {}", other.describe("unexpected report")),
    }
    match store.lock(&key, LockWait::NoWait) {
        Err(StoreError::Busy(_)) => {}
        Err(e) => panic!("{CHECK}: a NoWait lock of a held key must give Busy, not: {e}"),
        Ok(_) => panic!(
            "{CHECK}: the lock of a deleted key was taken while the cycle held it: a lock must exclude whether or not the key is stored"
        ),
    }
    let _ = go.send(());
    match expect_report(&rx, CHECK, "the cycle's release") {
        Waiter::Done(Ok(false)) => {}
        other => panic!("{CHECK}: {}", other.describe("the cycle saved")),
    }
    waiter.join().expect("the waiter's thread does not panic");
    expect_gone(CHECK, &key, store, &*other);
    must(store.delete_all(), CHECK, "delete_all");
}

/// `store` runs a locked cycle that loads a key, and before it saves, `other` (on a thread of its
/// own) deletes the key under its lock: the delete waits for the cycle (as `evidence` can tell),
/// then finds and deletes what the cycle saved, so the cycle that loaded before the delete does
/// not bring the key back; a later cycle loads nothing.
pub fn a_cycle_that_loaded_before_a_delete_cannot_resurrect_the_key(
    store: &dyn TokenStore,
    other: Arc<dyn TokenStore>,
    mut evidence: LockEvidence<'_>,
) {
    const CHECK: &str = "a_cycle_that_loaded_before_a_delete_cannot_resurrect_the_key";
    expect_empty(store, CHECK);
    let key = keys().swap_remove(0);
    must(save(store, &key, &token(1)), CHECK, "save");
    let mut cycle = must(store.lock(&key, WAIT), CHECK, "lock");
    assert_eq!(
        must(cycle.load(), CHECK, "locked load"),
        Some(token(1)),
        "{CHECK}: the cycle must load what was saved"
    );

    let (deleter, rx) = start_waiter(CHECK, {
        let (key, other) = (key.clone(), other.clone());
        move |tx| {
            let done = other.lock(&key, WAIT).and_then(|mut locked| {
                let found = locked.delete()?;
                locked.release().map(|()| found)
            });
            let _ = tx.send(Waiter::Done(done));
        }
    });
    let early = "the delete went through while the cycle held the lock";
    expect_blocked(&rx, &mut evidence, CHECK, early, |w| w.describe(early));
    must(cycle.save(&token(2)), CHECK, "the cycle's save");
    must(cycle.release(), CHECK, "the cycle's release");
    match expect_report(&rx, CHECK, "the delete after the cycle") {
        Waiter::Done(Ok(true)) => {}
        Waiter::Done(Ok(false)) => {
            panic!("{CHECK}: the delete after the cycle found nothing, but the cycle had saved")
        }
        other => panic!("{CHECK}: {}", other.describe("unexpected report")),
    }
    deleter.join().expect("the deleter's thread does not panic");
    expect_gone(CHECK, &key, store, &*other);
    let mut later = must(store.lock(&key, WAIT), CHECK, "lock again");
    assert_eq!(
        must(later.load(), CHECK, "locked load"),
        None,
        "{CHECK}: a cycle after the delete must load nothing"
    );
    must(later.release(), CHECK, "release");
    must(store.delete_all(), CHECK, "delete_all");
}

/// While `store` holds the lock of a key (and has saved under it), `other.delete_all()` (on a
/// thread of its own) does not return for `patience`; once the lock is released it returns
/// within 30 s and leaves nothing, the save made under the lock included.
pub fn delete_all_waits_for_a_held_lock(
    store: &dyn TokenStore,
    other: Arc<dyn TokenStore>,
    patience: Duration,
) {
    const CHECK: &str = "delete_all_waits_for_a_held_lock";
    expect_empty(store, CHECK);
    let keys = keys();
    must(save(store, &keys[0], &token(1)), CHECK, "save");
    must(save(store, &keys[1], &token(2)), CHECK, "save");
    let mut held = must(store.lock(&keys[0], WAIT), CHECK, "lock");
    must(held.save(&token(3)), CHECK, "locked save");

    let (deleter, rx) = start_waiter(CHECK, {
        let other = other.clone();
        move |tx| {
            let _ = tx.send(Waiter::Done(other.delete_all().map(|()| true)));
        }
    });
    let early = "delete_all returned while a lock was held";
    expect_blocked(
        &rx,
        &mut LockEvidence::Patience(patience),
        CHECK,
        early,
        |w| w.describe(early),
    );
    must(held.release(), CHECK, "release");
    match expect_report(&rx, CHECK, "delete_all after the release") {
        Waiter::Done(Ok(_)) => {}
        other => panic!("{CHECK}: {}", other.describe("unexpected report")),
    }
    deleter.join().expect("the deleter's thread does not panic");
    for (who, s) in [("store", store), ("other", &*other)] {
        assert!(
            must(s.list(), CHECK, "list").is_empty(),
            "{CHECK}: {who} still lists credentials after delete_all"
        );
        assert_eq!(
            must(s.load(&keys[0]), CHECK, "load"),
            None,
            "{CHECK}: {who}: the save made under the held lock survived delete_all"
        );
    }
}

/// With a stored entry damaged through the backend (`damage` writes bytes that do not decode),
/// the others are still served by both instances; the damaged key is listed, its load (plain
/// and under the lock) is [`StoreError::Corrupt`] naming the key's user; a save under its lock
/// replaces it, a delete under its lock removes it, and `delete_all` clears a store holding one.
pub fn damaged_entries_do_not_block_the_others(
    store: &dyn TokenStore,
    other: &dyn TokenStore,
    damage: &mut dyn FnMut(&CredentialKey),
) {
    const CHECK: &str = "damaged_entries_do_not_block_the_others";
    expect_empty(store, CHECK);
    let keys = keys();
    // bo@example.org: a user name no other key has, so that the message can be checked for it.
    let (bad, good) = (&keys[7], [&keys[0], &keys[4], &keys[9]]);
    for (i, k) in good.iter().enumerate() {
        must(save(store, k, &token(i as u64)), CHECK, "save");
    }
    must(save(store, bad, &token(7)), CHECK, "save");
    damage(bad);

    let corrupt = |result: Result<Option<TokenSet>, StoreError>, what: &str| match result {
        Err(StoreError::Corrupt(why)) => assert!(
            why.contains(&bad.user),
            "{CHECK}: {what} of a damaged entry must name its key ({}): {why}",
            bad.user
        ),
        Err(e) => panic!("{CHECK}: {what} of a damaged entry must be Corrupt, not: {e}"),
        Ok(_) => panic!("{CHECK}: {what} of a damaged entry must be Corrupt, not a token"),
    };
    for (who, s) in [("store", store), ("other", other)] {
        for (i, k) in good.iter().enumerate() {
            assert_eq!(
                must(s.load(k), CHECK, "load beside a damaged entry"),
                Some(token(i as u64)),
                "{CHECK}: {who}: one damaged entry must not stop {k} from loading"
            );
        }
        let mut all: Vec<CredentialKey> = good.iter().map(|k| (*k).clone()).collect();
        all.push(bad.clone());
        assert_eq!(
            sorted(must(s.list(), CHECK, "list beside a damaged entry")),
            sorted(all),
            "{CHECK}: {who} must list every key, the damaged one included"
        );
        corrupt(s.load(bad), "load");
    }
    let mut locked = must(store.lock(bad, WAIT), CHECK, "lock a damaged entry");
    corrupt(locked.load(), "locked load");
    must(
        locked.save(&token(8)),
        CHECK,
        "locked save over a damaged entry",
    );
    must(locked.release(), CHECK, "release");
    assert_eq!(
        must(other.load(bad), CHECK, "load after the save"),
        Some(token(8)),
        "{CHECK}: a save under the lock must replace a damaged entry"
    );

    damage(bad);
    let mut locked = must(store.lock(bad, WAIT), CHECK, "lock a damaged entry");
    assert!(
        must(locked.delete(), CHECK, "locked delete of a damaged entry"),
        "{CHECK}: a delete of a damaged entry must say it was there"
    );
    must(locked.release(), CHECK, "release");
    assert_eq!(must(other.load(bad), CHECK, "load after the delete"), None);
    assert_eq!(
        must(other.list(), CHECK, "list").len(),
        good.len(),
        "{CHECK}: a deleted damaged entry must not be listed"
    );
    for (i, k) in good.iter().enumerate() {
        assert_eq!(
            must(other.load(k), CHECK, "load"),
            Some(token(i as u64)),
            "{CHECK}: changing a damaged entry must not touch {k}"
        );
    }

    must(save(store, bad, &token(9)), CHECK, "save");
    damage(bad);
    must(store.delete_all(), CHECK, "delete_all with a damaged entry");
    assert!(
        must(other.list(), CHECK, "list").is_empty(),
        "{CHECK}: delete_all must clear a store holding a damaged entry"
    );
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
                    must(save(store, &keys[k], &token(seed)), CHECK, "save");
                    model.insert(keys[k].clone(), token(seed));
                    Some(k)
                }
                Op::Load(k) => Some(k),
                Op::Delete(k) => {
                    let was = model.remove(&keys[k]).is_some();
                    prop_assert_eq!(must(delete(store, &keys[k]), CHECK, "delete"), was);
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
                    let mut locked = must(store.lock(&keys[k], WAIT), CHECK, "lock");
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
            save(&store, &keys[1 + i % 3], &token(i as u64)),
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
        let mut locked = must(store.lock(&key, WAIT), CHECK, "lock");
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

/// What a child process of [`a_locked_delete_excludes_saves_across_processes`] prints before each
/// report, to tell its reports from the test harness's output.
const CHILD_SAYS: &str = "zoho-oauth-conformance child: ";

/// A delete under the lock excludes the locked saves of other processes. Two child processes
/// run locked cycles on the first key of [`keys`] when told (lock, load, then on the next
/// command save the counter plus one only if something was loaded, release). While child A holds
/// the lock with the credential loaded, child B asks for the lock and this process deletes the
/// key under its lock (on a thread); then A saves and releases, and B finishes its cycle after
/// the delete or before it, whichever got the lock first. Whatever the order, the delete comes
/// last: nothing is stored afterwards, and a later cycle of A loads nothing.
///
/// Call it from a `#[test]` named `test_name`, as [`locked_increments_across_processes`]: it
/// re-runs the test binary as child processes running only that test with [`CHILD_ENV`] set to
/// `location`, each of which opens the store with `open(location)` and takes its commands on
/// standard input.
pub fn a_locked_delete_excludes_saves_across_processes<S: TokenStore>(
    test_name: &str,
    location: &str,
    open: impl Fn(&str) -> S,
) {
    const CHECK: &str = "a_locked_delete_excludes_saves_across_processes";
    let key = keys().swap_remove(0);
    if let Ok(location) = std::env::var(CHILD_ENV) {
        cycles_on_command(&open(&location), &key);
        return;
    }
    let store = open(location);
    expect_empty(&store, CHECK);
    let mut counter = token(0);
    counter.scope.clear();
    counter.scope.push('0').expect("a counter fits the scope");
    must(save(&store, &key, &counter), CHECK, "save");

    let mut a = CommandedChild::spawn(test_name, location);
    let mut b = CommandedChild::spawn(test_name, location);
    a.tell("cycle");
    assert_eq!(
        a.report(CHECK),
        "loaded some",
        "{CHECK}: child A must load the saved credential"
    );
    // A holds the lock with the credential loaded: B and the delete both wait for it.
    b.tell("cycle");
    thread::scope(|s| {
        let deleter = s.spawn(|| {
            let mut locked = must(store.lock(&key, WAIT), CHECK, "lock for the delete");
            let found = must(locked.delete(), CHECK, "locked delete");
            must(locked.release(), CHECK, "release the delete");
            found
        });
        a.tell("save");
        assert_eq!(a.report(CHECK), "released");
        // B's cycle comes before or after the delete; either way it must not outlive it.
        let b_loaded = b.report(CHECK);
        b.tell("save");
        assert_eq!(b.report(CHECK), "released");
        assert!(
            deleter.join().expect("the deleter does not panic"),
            "{CHECK}: the delete found nothing, but child A had saved (B loaded {b_loaded})"
        );
    });
    assert_eq!(
        must(store.load(&key), CHECK, "load"),
        None,
        "{CHECK}: a child process wrote the deleted key back: a cycle that loaded before the delete saved after it"
    );
    a.tell("cycle");
    assert_eq!(
        a.report(CHECK),
        "loaded none",
        "{CHECK}: a cycle after the delete must load nothing in another process"
    );
    a.tell("save");
    assert_eq!(a.report(CHECK), "released");
    a.finish(CHECK);
    b.finish(CHECK);
    assert!(
        must(store.list(), CHECK, "list").is_empty(),
        "{CHECK}: the store lists a deleted key"
    );
}

/// A child process of [`a_locked_delete_excludes_saves_across_processes`]: commands go to its
/// standard input, its reports come back over a channel.
struct CommandedChild {
    process: std::process::Child,
    commands: std::process::ChildStdin,
    reports: mpsc::Receiver<String>,
    output: thread::JoinHandle<String>,
}

impl CommandedChild {
    fn spawn(test_name: &str, location: &str) -> Self {
        let exe = std::env::current_exe().expect("the test binary's path");
        let mut process = Command::new(exe)
            .args([test_name, "--exact", "--test-threads=1", "--nocapture"])
            .env(CHILD_ENV, location)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("re-run the test binary");
        let commands = process.stdin.take().expect("a piped stdin");
        let stdout = process.stdout.take().expect("a piped stdout");
        let (tx, reports) = mpsc::channel();
        // Read the child's output as it comes: its reports reach the check at once, and a full
        // pipe never blocks the child.
        let output = thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // The harness may have begun the line ("test name ... ").
                if let Some(at) = line.find(CHILD_SAYS) {
                    let _ = tx.send(line[at + CHILD_SAYS.len()..].to_owned());
                }
                text.push_str(&line);
                text.push('\n');
            }
            text
        });
        Self {
            process,
            commands,
            reports,
            output,
        }
    }

    fn tell(&mut self, command: &str) {
        writeln!(self.commands, "{command}")
            .and_then(|()| self.commands.flush())
            .expect("a child process takes commands");
    }

    fn report(&self, check: &str) -> String {
        match self.reports.recv_timeout(LIMIT) {
            Ok(report) => report,
            Err(RecvTimeoutError::Timeout) => {
                panic!("{check}: a child process did not report within {LIMIT:?}")
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("{check}: a child process ended early (its error is above)")
            }
        }
    }

    fn finish(self, check: &str) {
        drop(self.commands);
        let status = self
            .process
            .wait_with_output()
            .expect("wait for a child")
            .status;
        let output = self.output.join().unwrap_or_default();
        assert!(
            status.success(),
            "{check}: a child process failed ({status}):\n{output}"
        );
    }
}

/// The child side of [`a_locked_delete_excludes_saves_across_processes`]: on `cycle`, lock and
/// load `key` and report what was found; on the next command, save the counter plus one if
/// something was loaded, release and report; until standard input ends.
fn cycles_on_command(store: &dyn TokenStore, key: &CredentialKey) {
    const CHECK: &str = "a_locked_delete_excludes_saves_across_processes (child)";
    let mut commands = std::io::stdin().lock().lines().map_while(Result::ok);
    while let Some(command) = commands.next() {
        assert_eq!(command, "cycle", "{CHECK}: unknown command");
        let mut locked = must(store.lock(key, WAIT), CHECK, "lock");
        let loaded = must(locked.load(), CHECK, "locked load");
        println!(
            "{CHILD_SAYS}loaded {}",
            if loaded.is_some() { "some" } else { "none" }
        );
        if commands.next().is_none() {
            return;
        }
        if let Some(mut t) = loaded {
            let current: u64 = t.scope.parse().expect("a counter");
            t.scope.clear();
            write!(t.scope, "{}", current + 1).expect("a counter fits the scope");
            must(locked.save(&t), CHECK, "locked save");
        }
        must(locked.release(), CHECK, "release");
        println!("{CHILD_SAYS}released");
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

/// Fail `check` unless neither `store` nor `other` loads or lists `key`: a deleted key came back.
fn expect_gone(check: &str, key: &CredentialKey, store: &dyn TokenStore, other: &dyn TokenStore) {
    for (who, s) in [("store", store), ("other", other)] {
        assert_eq!(
            must(s.load(key), check, "load"),
            None,
            "{check}: {who} loads the key after the delete: it came back"
        );
        assert!(
            !must(s.list(), check, "list").contains(key),
            "{check}: {who} lists a deleted key"
        );
    }
}

/// Run `work` on a thread of its own and return once it has started; what it reports comes on
/// the receiver.
fn start_waiter(
    check: &str,
    work: impl FnOnce(&mpsc::Sender<Waiter>) + Send + 'static,
) -> (thread::JoinHandle<()>, mpsc::Receiver<Waiter>) {
    let (tx, rx) = mpsc::channel();
    let (started_tx, started) = mpsc::channel();
    let handle = thread::spawn(move || {
        let _ = started_tx.send(());
        work(&tx);
    });
    assert!(
        started.recv().is_ok(),
        "{check}: the other thread did not start"
    );
    (handle, rx)
}

/// Fail `check` unless the waiter reporting on `rx` stays blocked, as far as `evidence` can
/// tell: nothing arrives within the patience (and, with [`LockEvidence::BackendSaysWaiting`], the
/// backend reports the waiter blocked before anything arrives). `what` says what an early report
/// means; `got_it` names the failure when the backend view and the report disagree.
fn expect_blocked<T>(
    rx: &mpsc::Receiver<T>,
    evidence: &mut LockEvidence<'_>,
    check: &str,
    got_it: &str,
    what: impl Fn(T) -> String,
) {
    let patience = match evidence {
        LockEvidence::Patience(patience) => *patience,
        LockEvidence::FreeProbe(_) => DEFAULT_PATIENCE,
        LockEvidence::BackendSaysWaiting { every, waiting } => {
            let deadline = WallClock::now() + LIMIT;
            while !waiting() {
                match rx.try_recv() {
                    Err(TryRecvError::Empty) => {}
                    Ok(event) => panic!("{check}: {}", what(event)),
                    Err(TryRecvError::Disconnected) => {
                        panic!("{check}: the waiter's thread ended without a result")
                    }
                }
                assert!(
                    WallClock::now() < deadline,
                    "{check}: the backend did not report the waiter blocked on the lock within {LIMIT:?}"
                );
                thread::sleep(*every);
            }
            assert!(
                matches!(rx.try_recv(), Err(TryRecvError::Empty)),
                "{check}: {got_it}"
            );
            return;
        }
    };
    match rx.recv_timeout(patience) {
        Err(RecvTimeoutError::Timeout) => {}
        Ok(event) => panic!("{check}: {}", what(event)),
        Err(RecvTimeoutError::Disconnected) => {
            panic!("{check}: the waiter's thread ended without a result")
        }
    }
}

/// Wait (30 s at most) for the report of a waiter that should have come free.
fn expect_report<T>(rx: &mpsc::Receiver<T>, check: &str, what: &str) -> T {
    match rx.recv_timeout(LIMIT) {
        Ok(report) => report,
        Err(RecvTimeoutError::Timeout) => panic!("{check}: {what} did not happen within {LIMIT:?}"),
        Err(RecvTimeoutError::Disconnected) => {
            panic!("{check}: the other thread ended before {what}")
        }
    }
}

fn sorted(mut keys: Vec<CredentialKey>) -> Vec<CredentialKey> {
    keys.sort();
    keys
}
