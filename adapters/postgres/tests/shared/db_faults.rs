//! Database faults every server store must survive, for the PostgreSQL and MySQL tests (the
//! MySQL crate includes this file by path). Each check drives the stores through the trait and a
//! `kill` function that ends every server session of the victim store, as an operator
//! (`pg_terminate_backend`, `KILL CONNECTION`) or a server restart would. Candidates for
//! `zoho_oauth::store::conformance`.

use std::time::Duration;

use zoho_oauth::store::conformance::{self, save, token};
use zoho_oauth::{LockWait, StoreError, TokenStore};

/// A lock wait long enough for a lock that must come free.
const WAIT: LockWait = LockWait::AtMost(Duration::from_secs(30));

/// The victim's sessions end while it holds the lock, after its load and before its save: the
/// save is a typed error, the release does not report success, the lock is free for `other` at
/// once, the credential is the one before the cycle, and the victim serves again afterwards.
pub fn killed_between_load_and_save(
    victim: &dyn TokenStore,
    other: &dyn TokenStore,
    kill: &mut dyn FnMut(),
) {
    let key = &conformance::keys()[0];
    save(other, key, &token(1)).unwrap();
    let mut locked = victim.lock(key, WAIT).unwrap();
    assert_eq!(locked.load().unwrap(), Some(token(1)));
    kill();
    let e = locked.save(&token(2)).unwrap_err();
    assert!(matches!(e, StoreError::Database(_)), "{e:?}");
    assert!(
        locked.release().is_err(),
        "a cycle whose session died does not report success"
    );
    let mut again = other
        .lock(key, LockWait::AtMost(Duration::from_secs(10)))
        .expect("the server freed the dead session's lock");
    assert_eq!(again.load().unwrap(), Some(token(1)));
    again.release().unwrap();
    assert_eq!(
        victim.load(key).unwrap(),
        Some(token(1)),
        "the victim serves again"
    );
}

/// The victim's sessions end after its save and before its commit: the release is a typed error
/// and the credential is the one before the cycle, whole.
pub fn killed_between_save_and_commit(
    victim: &dyn TokenStore,
    other: &dyn TokenStore,
    kill: &mut dyn FnMut(),
) {
    let key = &conformance::keys()[0];
    save(victim, key, &token(1)).unwrap();
    let mut locked = victim.lock(key, WAIT).unwrap();
    locked.save(&token(2)).unwrap();
    kill();
    assert!(matches!(locked.release(), Err(StoreError::Database(_))));
    assert_eq!(other.load(key).unwrap(), Some(token(1)));
}

/// Every idle pooled session of `store` ends (a server restart, emulated) before each of load,
/// list, a locked save and delete_all: each reconnects and succeeds.
pub fn reconnects_after_every_session_ended(store: &dyn TokenStore, kill: &mut dyn FnMut()) {
    let keys = conformance::keys();
    save(store, &keys[0], &token(1)).unwrap();
    // Two idle connections in the pool.
    let first = store.lock(&keys[0], WAIT).unwrap();
    let second = store.lock(&keys[1], WAIT).unwrap();
    drop((first, second));
    kill();
    assert_eq!(store.load(&keys[0]).unwrap(), Some(token(1)));
    kill();
    assert_eq!(store.list().unwrap(), vec![keys[0].clone()]);
    kill();
    save(store, &keys[1], &token(2)).unwrap();
    kill();
    store.delete_all().unwrap();
}

/// `frozen` (a store with a short hold limit) takes the lock, loads and does nothing more: the
/// server ends its session after the limit, so `other` gets the lock (within 20 s) and saves;
/// the frozen holder's later save is a typed error and cannot overwrite that.
pub fn a_stopped_holder_loses_the_lock_after_the_hold_limit(
    frozen: &dyn TokenStore,
    other: &dyn TokenStore,
) {
    let key = &conformance::keys()[0];
    save(other, key, &token(1)).unwrap();
    let mut locked = frozen.lock(key, WAIT).unwrap();
    assert_eq!(locked.load().unwrap(), Some(token(1)));
    let mut again = other
        .lock(key, LockWait::AtMost(Duration::from_secs(20)))
        .expect("the server ended the idle holder's session");
    again.save(&token(3)).unwrap();
    again.release().unwrap();
    assert!(matches!(
        locked.save(&token(2)),
        Err(StoreError::Database(_))
    ));
    assert!(locked.release().is_err());
    assert_eq!(other.load(key).unwrap(), Some(token(3)));
}
