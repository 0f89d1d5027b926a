//! Cancellation safety: a call's future dropped at any await point (a `tokio::time::timeout`,
//! a `select!` that moved on) never leaves a credential locked, half-saved, or its flight stuck.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use common::{eventually, Harness, HOUR, USER};
use tokio::sync::Notify;
use tokio::time::timeout;
use zoho_oauth::core::TokenSet;
use zoho_oauth::{CredentialKey, LockWait, LockedCredential, MemoryStore, StoreError, TokenStore};
use zoho_oauth_tokio::Client;

/// Whether `key`'s store lock can be taken now (waiting a little for a holder that is letting
/// go), on a blocking thread as a store wants.
async fn lock_is_free(store: Arc<dyn TokenStore>, key: CredentialKey) -> bool {
    tokio::task::spawn_blocking(move || {
        store
            .lock(&key, LockWait::AtMost(Duration::from_secs(5)))
            .is_ok()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_call_cancelled_while_its_refresh_is_on_the_wire_releases_the_lock_and_frees_the_flight()
{
    let h = Harness::start();
    let client = h.client();
    let old = client.exchange_grant(USER, &h.code()).await.unwrap();
    let refresh = h.stored_refresh_token(&client, USER);
    h.advance(HOUR);
    h.emu.set_latency(Duration::from_millis(500));

    let cancelled = timeout(Duration::from_millis(100), client.access_token(USER)).await;
    assert!(cancelled.is_err(), "the call was cancelled mid-refresh");
    assert_eq!(h.counters().refresh_token_requests, 1, "it was on the wire");

    assert!(lock_is_free(h.store.clone(), client.key(USER)).await);
    assert_eq!(
        h.stored_refresh_token(&client, USER),
        refresh,
        "nothing half-saved"
    );
    h.emu.set_latency(Duration::ZERO);
    let new = timeout(Duration::from_secs(5), client.access_token(USER))
        .await
        .expect("the flight is not stuck")
        .expect("a new token");
    assert_ne!(new, old);
    assert_eq!(h.counters().refresh_token_requests, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_call_cancelled_while_waiting_for_the_store_lock_leaves_it_unlocked_when_it_comes() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).await.unwrap();
    h.advance(HOUR);
    let key = client.key(USER);
    // Another "process" holds the credential's lock.
    let held = h.store.lock(&key, LockWait::NoWait).unwrap();

    let cancelled = timeout(Duration::from_millis(200), client.access_token(USER)).await;
    assert!(
        cancelled.is_err(),
        "the call waited for the lock and was cancelled"
    );
    // The blocking thread still waits for the lock; once it gets it, its caller is gone.
    drop(held);
    assert!(lock_is_free(h.store.clone(), key).await);
    assert_eq!(h.counters().refresh_token_requests, 0, "nothing was sent");

    timeout(Duration::from_secs(5), client.access_token(USER))
        .await
        .expect("the flight is not stuck")
        .expect("a new token");
    assert_eq!(h.counters().refresh_token_requests, 1);
}

/// A store whose saves, once armed, stop half-way until the test opens the gate: to cancel a
/// call while its save is running on the lock's thread.
struct GatedStore {
    inner: MemoryStore,
    armed: AtomicBool,
    entered: Notify,
    gate: Mutex<Option<mpsc::Receiver<()>>>,
}

struct GatedLock<'s> {
    inner: Box<dyn LockedCredential + 's>,
    store: &'s GatedStore,
}

impl TokenStore for GatedStore {
    fn load(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
        self.inner.load(key)
    }
    fn list(&self) -> Result<Vec<CredentialKey>, StoreError> {
        self.inner.list()
    }
    fn delete_all(&self) -> Result<(), StoreError> {
        self.inner.delete_all()
    }
    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
        wait: LockWait,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError> {
        let inner = self.inner.lock(key, wait)?;
        Ok(Box::new(GatedLock { inner, store: self }))
    }
    fn describe(&self) -> String {
        "gated memory".to_owned()
    }
}

impl LockedCredential for GatedLock<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.inner.load()
    }
    fn save(&mut self, token: &TokenSet) -> Result<(), StoreError> {
        if self.store.armed.swap(false, Ordering::SeqCst) {
            self.store.entered.notify_one();
            let gate = self
                .store
                .gate
                .lock()
                .unwrap()
                .take()
                .expect("one gated save");
            gate.recv().expect("the test opens the gate");
        }
        self.inner.save(token)
    }
    fn delete(&mut self) -> Result<bool, StoreError> {
        self.inner.delete()
    }
    fn release(self: Box<Self>) -> Result<(), StoreError> {
        self.inner.release()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_call_cancelled_during_its_save_leaves_a_whole_credential_and_a_free_lock() {
    let h = Harness::start();
    let (open, gate) = mpsc::channel();
    let store = Arc::new(GatedStore {
        inner: MemoryStore::new(),
        armed: AtomicBool::new(false),
        entered: Notify::new(),
        gate: Mutex::new(Some(gate)),
    });
    let client = Client::build(h.builder().store_arc(store.clone()), Harness::transport()).unwrap();
    let old = client.exchange_grant(USER, &h.code()).await.unwrap();
    let refresh = store
        .load(&client.key(USER))
        .unwrap()
        .unwrap()
        .refresh_token;
    h.advance(HOUR);
    store.armed.store(true, Ordering::SeqCst);

    // Drop the call the moment its save has started on the lock's thread.
    tokio::select! {
        r = client.access_token(USER) => panic!("the call finished before its save: {r:?}"),
        () = store.entered.notified() => {}
    }
    open.send(()).unwrap();

    assert!(lock_is_free(store.clone(), client.key(USER)).await);
    let stored = store
        .load(&client.key(USER))
        .unwrap()
        .expect("still stored");
    assert_eq!(stored.refresh_token, refresh, "the refresh token survived");
    // This store applies a save at once (a database would roll it back): the new token is
    // whole, and the next call finds it there instead of refreshing again.
    let next = timeout(Duration::from_secs(5), client.access_token(USER))
        .await
        .expect("the flight is not stuck")
        .unwrap();
    assert_ne!(next, old);
    assert_eq!(stored.access_token.unwrap().expose(), next.secret());
    assert_eq!(h.counters().refresh_token_requests, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_the_task_refreshing_is_cancelled_a_waiting_task_takes_the_flight_over() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).await.unwrap();
    h.advance(HOUR);
    h.emu.set_latency(Duration::from_millis(300));

    let first = tokio::spawn({
        let client = client.clone();
        async move { timeout(Duration::from_millis(100), client.access_token(USER)).await }
    });
    eventually("the first task's refresh is on the wire", || {
        h.counters().in_flight == 1
    })
    .await;
    let waiters: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.access_token(USER).await })
        })
        .collect();
    assert!(
        first.await.unwrap().is_err(),
        "the first task was cancelled"
    );
    let mut tokens = Vec::new();
    for w in waiters {
        tokens.push(w.await.unwrap().expect("a waiter took over"));
    }
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    assert_eq!(
        h.counters().refresh_token_requests,
        2,
        "the cancelled one and one more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn waiters_cancelled_while_a_refresh_is_in_flight_do_not_disturb_it() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).await.unwrap();
    h.advance(HOUR);
    h.emu.set_latency(Duration::from_millis(300));

    let holder = tokio::spawn({
        let client = client.clone();
        async move { client.access_token(USER).await }
    });
    eventually("the refresh is on the wire", || h.counters().in_flight == 1).await;
    let waiters: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                timeout(Duration::from_millis(20), client.access_token(USER)).await
            })
        })
        .collect();
    for w in waiters {
        assert!(
            w.await.unwrap().is_err(),
            "a waiter gave up while the refresh was on the wire"
        );
    }
    let token = holder.await.unwrap().expect("the flight finished");
    assert_eq!(client.access_token(USER).await.unwrap(), token);
    assert_eq!(h.counters().refresh_token_requests, 1);
}
