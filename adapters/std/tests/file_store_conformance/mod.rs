//! `TokenStore` conformance checks, shared by the FileStore tests and (through `#[path]`) the
//! SQLite store tests, so that every store is held to the same specification.
#![allow(dead_code)] // each test crate uses a different subset

use std::collections::HashMap;
use std::fmt::Write as _;
use std::process::Command;
use std::sync::mpsc;
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use proptest::prelude::*;
use zoho_oauth::core::secret::Secret;
use zoho_oauth::core::{DataCenter, Environment, Instant, TokenSet};
use zoho_oauth::{CredentialKey, TokenStore};

/// A realistic token set: Zoho-shaped tokens, an api_domain, a scope, a few mints.
pub fn token(seed: u64) -> TokenSet {
    let mut t = TokenSet::new(&format!(
        "1000.{seed:032x}.{:032x}",
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    ))
    .unwrap();
    if seed % 3 != 0 {
        t.access_token =
            Some(Secret::new("access_token", &format!("1000.{:032x}.{seed:032x}", !seed)).unwrap());
        t.issued_at = Instant::from_millis(1_700_000_000_000 + seed);
        t.expires_at = Instant::from_millis(1_700_000_000_000 + seed + 3_600_000);
    }
    t.api_domain.push_str("https://www.zohoapis.eu").unwrap();
    t.scope
        .push_str("ZohoCRM.modules.ALL ZohoCRM.settings.READ")
        .unwrap();
    for i in 0..(seed % 4) {
        t.mints
            .record(Instant::from_millis(1_700_000_000_000 + i * 1000));
    }
    t
}

/// Keys that differ in exactly one field from the first, and awkward user names.
pub fn keys() -> Vec<CredentialKey> {
    let base = |user: &str| {
        CredentialKey::new(user, "1000.ABCDEF", DataCenter::Us, Environment::Production)
    };
    let mut other_client = base("ana@example.com");
    other_client.client_id = "1000.OTHER".into();
    let mut other_dc = base("ana@example.com");
    other_dc.data_center = DataCenter::Eu;
    let mut other_env = base("ana@example.com");
    other_env.environment = Environment::Sandbox;
    vec![
        base("ana@example.com"),
        other_client,
        other_dc,
        other_env,
        base("bo@example.org"),
        base("default"),
        base(""),
        base("with space%and\npercent,\"quote\" zoë"),
    ]
}

/// Several credentials round-trip; list is complete; overwrite, delete and delete_all behave.
pub fn round_trip(store: &dyn TokenStore) {
    let keys = keys();
    assert!(store.list().unwrap().is_empty());
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(store.load(k).unwrap(), None);
        store.save(k, &token(i as u64)).unwrap();
    }
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(store.load(k).unwrap(), Some(token(i as u64)), "{k}");
    }
    let mut listed = store.list().unwrap();
    listed.sort();
    let mut expected = keys.clone();
    expected.sort();
    assert_eq!(listed, expected);

    store.save(&keys[0], &token(100)).unwrap();
    assert_eq!(store.load(&keys[0]).unwrap(), Some(token(100)));
    assert_eq!(store.load(&keys[1]).unwrap(), Some(token(1)));

    assert!(store.delete(&keys[2]).unwrap());
    assert!(!store.delete(&keys[2]).unwrap());
    assert_eq!(store.load(&keys[2]).unwrap(), None);
    assert_eq!(store.list().unwrap().len(), keys.len() - 1);

    store.delete_all().unwrap();
    assert!(store.list().unwrap().is_empty());
    assert_eq!(store.load(&keys[0]).unwrap(), None);
}

/// Loads and saves through the lock see and make the store's contents; a dropped lock can be
/// taken again.
pub fn locked_load_and_save(store: &dyn TokenStore) {
    let [a, b, ..] = &keys()[..] else {
        unreachable!()
    };
    store.save(a, &token(1)).unwrap();
    let mut locked = store.lock(a).unwrap();
    assert_eq!(locked.load().unwrap(), Some(token(1)));
    locked.save(&token(2)).unwrap();
    assert_eq!(locked.load().unwrap(), Some(token(2)));
    locked.release().unwrap();
    assert_eq!(store.load(a).unwrap(), Some(token(2)));

    let mut locked = store.lock(b).unwrap();
    assert_eq!(locked.load().unwrap(), None);
    drop(locked);
    store.lock(b).unwrap().release().unwrap();
}

/// While one holder has the lock, a second `lock` call (another thread) does not return; it
/// returns once the first is released. `lock_is_free` probes the lock from outside without
/// blocking (a non-blocking OS lock or a zero-timeout transaction).
pub fn lock_excludes_a_second_holder(store: &dyn TokenStore, lock_is_free: &dyn Fn() -> bool) {
    #[derive(Debug, PartialEq)]
    enum Event {
        Trying,
        Acquired,
    }
    let key = &keys()[0];
    let order = Mutex::new(Vec::new());
    assert!(lock_is_free());
    let held = store.lock(key).unwrap();
    assert!(!lock_is_free(), "the lock must be visible to other holders");
    let (tx, rx) = mpsc::channel();
    thread::scope(|s| {
        s.spawn(|| {
            tx.send(Event::Trying).unwrap();
            let second = store.lock(key).unwrap();
            order.lock().unwrap().push("second acquired");
            tx.send(Event::Acquired).unwrap();
            second.release().unwrap();
        });
        assert_eq!(rx.recv().unwrap(), Event::Trying);
        // Not synchronisation: a bounded check that the second holder is still waiting.
        assert_eq!(
            rx.recv_timeout(Duration::from_millis(300)),
            Err(mpsc::RecvTimeoutError::Timeout),
            "the second holder got the lock while the first held it"
        );
        order.lock().unwrap().push("first released");
        held.release().unwrap();
        assert_eq!(rx.recv().unwrap(), Event::Acquired);
    });
    assert_eq!(
        order.into_inner().unwrap(),
        ["first released", "second acquired"]
    );
    assert!(lock_is_free());
}

/// One step of the model check.
#[derive(Clone, Debug)]
pub enum Op {
    Save(usize, u64),
    Delete(usize),
    LockedSave(usize, u64),
    DeleteAll,
}

/// Random operation sequences over a few keys (delete_all rarely).
pub fn ops() -> impl Strategy<Value = Vec<Op>> {
    let n = keys().len();
    let op = prop_oneof![
        6 => (0..n, any::<u64>()).prop_map(|(k, s)| Op::Save(k, s)),
        4 => (0..n).prop_map(Op::Delete),
        2 => (0..n, any::<u64>()).prop_map(|(k, s)| Op::LockedSave(k, s)),
        1 => Just(Op::DeleteAll),
    ];
    prop::collection::vec(op, 1..24)
}

/// Apply `ops` to `store` and to a HashMap; after every step they agree on the touched key,
/// and at the end on every key and the list.
pub fn agrees_with_model(store: &dyn TokenStore, ops: &[Op]) -> Result<(), TestCaseError> {
    let keys = keys();
    let mut model: HashMap<CredentialKey, TokenSet> = HashMap::new();
    for op in ops {
        let touched = match *op {
            Op::Save(k, seed) => {
                store.save(&keys[k], &token(seed)).unwrap();
                model.insert(keys[k].clone(), token(seed));
                Some(k)
            }
            Op::LockedSave(k, seed) => {
                let mut l = store.lock(&keys[k]).unwrap();
                prop_assert_eq!(l.load().unwrap(), model.get(&keys[k]).cloned());
                l.save(&token(seed)).unwrap();
                l.release().unwrap();
                model.insert(keys[k].clone(), token(seed));
                Some(k)
            }
            Op::Delete(k) => {
                let was = model.remove(&keys[k]).is_some();
                prop_assert_eq!(store.delete(&keys[k]).unwrap(), was);
                Some(k)
            }
            Op::DeleteAll => {
                store.delete_all().unwrap();
                model.clear();
                None
            }
        };
        if let Some(k) = touched {
            prop_assert_eq!(store.load(&keys[k]).unwrap(), model.get(&keys[k]).cloned());
        }
    }
    for k in &keys {
        prop_assert_eq!(store.load(k).unwrap(), model.get(k).cloned());
    }
    let mut listed = store.list().unwrap();
    listed.sort();
    let mut expected: Vec<_> = model.into_keys().collect();
    expected.sort();
    prop_assert_eq!(listed, expected);
    Ok(())
}

/// The counter kept in the scope of the first key's token (0 when absent).
pub fn counter(store: &dyn TokenStore) -> u64 {
    store
        .load(&keys()[0])
        .unwrap()
        .map_or(0, |t| t.scope.parse().unwrap())
}

/// `n` read-modify-write increments of the counter, each under the refresh lock. Without a
/// working lock, concurrent incrementers lose updates.
pub fn locked_increments(store: &dyn TokenStore, n: u64) {
    let key = &keys()[0];
    for _ in 0..n {
        let mut l = store.lock(key).unwrap();
        let (mut t, current) = match l.load().unwrap() {
            Some(t) => {
                let current: u64 = t.scope.parse().unwrap();
                (t, current)
            }
            None => (token(0), 0),
        };
        let next = current + 1;
        t.scope.clear();
        write!(t.scope, "{next}").unwrap();
        l.save(&t).unwrap();
        l.release().unwrap();
    }
}

/// The environment variable that turns a re-run of the test binary into an incrementer child.
pub const CHILD_ENV: &str = "ZOHO_OAUTH_STORE_TEST_CHILD";

/// Re-run the current test binary `processes` times, concurrently, as children running only
/// `test_name` with `CHILD_ENV=store_path`; wait for all and assert they succeeded.
pub fn run_children(test_name: &str, store_path: &std::path::Path, processes: usize) {
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..processes)
        .map(|_| {
            Command::new(&exe)
                .args([test_name, "--exact", "--test-threads=1", "--nocapture"])
                .env(CHILD_ENV, store_path)
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        let status = c.wait().unwrap();
        assert!(status.success(), "a child process failed: {status}");
    }
}
