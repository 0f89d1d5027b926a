//! The locked credential cycle, end to end on the emulator. Two clients on one store stand for
//! two processes (each has its own cache, flight lock and machine; only the store is shared):
//! what one learns from Zoho binds the other; nothing waits behind I/O it need not; no call
//! outlives its deadline; nothing is reported minted that was not saved; a revoke during a
//! refresh leaves nothing behind.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant as Monotonic};

use common::{Harness, HttpTransport, USER};
use zoho_oauth::core::TokenSet;
use zoho_oauth::{
    Client, CredentialKey, Error, LockWait, LockedCredential, MemoryStore, StoreError, TokenStore,
};
use zoho_oauth_emulator::{Counters, Fault};

/// Wait (bounded) until the emulator reports `pred` of its counters: a request has arrived.
fn until_emulator(h: &Harness, what: &str, pred: impl Fn(&Counters) -> bool) {
    let deadline = Monotonic::now() + Duration::from_secs(10);
    while !pred(&h.counters()) {
        assert!(Monotonic::now() < deadline, "the emulator never saw {what}");
        std::thread::yield_now();
    }
}

/// A client of the harness's store with a transport that waits up to `timeout` for an answer.
fn client_waiting(h: &Harness, timeout: Duration) -> Client {
    h.builder()
        .transport(HttpTransport::new(timeout))
        .build()
        .unwrap()
}

/// Exchange a grant and move both clocks into the refresh margin: due, still valid.
fn due_but_valid(h: &Harness, client: &Client) -> zoho_oauth::AccessToken {
    let token = client.exchange_grant(USER, &h.code()).unwrap();
    h.advance(Duration::from_secs(3600 - 30));
    token
}

#[test]
fn reading_the_refresh_error_never_waits_behind_a_refresh_on_the_wire() {
    let h = Harness::start();
    let client = client_waiting(&h, Duration::from_secs(5));
    let old = due_but_valid(&h, &client);
    h.emu.queue_fault(Fault::Hang, 1);
    let refresher = client.clone();
    let hung = std::thread::spawn(move || refresher.refresh(USER, false));
    until_emulator(&h, "the refresh", |c| c.in_flight == 1);

    let started = Monotonic::now();
    let (token, _) = client.access_token_with_refresh_error(USER).unwrap();
    let waited = started.elapsed();
    assert_eq!(token, old, "the still-valid token is served");
    assert!(
        waited < Duration::from_secs(1),
        "the reader waited {waited:?} behind a refresh that hangs for 5 s"
    );
    // The hung attempt timed out; the retry after the backoff minted.
    assert!(hung.join().unwrap().unwrap().minted);
}

#[test]
fn a_throttle_seen_by_one_process_keeps_every_process_from_asking_until_the_window_ends() {
    let h = Harness::start();
    let (first, second) = (h.client(), h.client());
    let old = due_but_valid(&h, &first);
    h.emu.queue_fault(Fault::Throttle, 1);
    let err = first.refresh(USER, false).unwrap_err();
    assert!(
        matches!(err, Error::Throttled { local: false, .. }),
        "{err:?}"
    );
    let asked = h.counters().token_requests;

    // The other process serves its still-valid token without asking Zoho…
    assert_eq!(second.access_token(USER).unwrap(), old);
    // …and a forced refresh is refused locally with the window's end.
    let err = second.refresh(USER, true).unwrap_err();
    let Error::Throttled {
        local: false,
        retry_at,
    } = err
    else {
        panic!("{err:?}")
    };
    let now = std::time::UNIX_EPOCH + Duration::from_millis(h.clock_now());
    let left = retry_at.duration_since(now).unwrap_or_default();
    assert!(
        left > Duration::from_secs(500),
        "{left:?} left of the window"
    );
    assert_eq!(
        h.counters().token_requests,
        asked,
        "nobody asked Zoho again"
    );
    assert!(second.status().unwrap()[0].paused_until.is_some());

    // After the window, one refresh goes out.
    h.advance(Duration::from_secs(601));
    second.refresh(USER, false).unwrap();
    assert_eq!(h.counters().token_requests, asked + 1);
}

#[test]
fn a_caller_finding_the_lock_held_serves_its_valid_token_at_once_and_others_wait_bounded() {
    let h = Harness::start();
    let holder = client_waiting(&h, Duration::from_secs(5));
    let old = due_but_valid(&h, &holder);
    h.emu.queue_fault(Fault::Hang, 1);
    let refresher = holder.clone();
    let hung = std::thread::spawn(move || refresher.refresh(USER, false));
    until_emulator(&h, "the refresh", |c| c.in_flight == 1);

    // Another process that only needs a token: the valid one, at once.
    let reader = h.client();
    let started = Monotonic::now();
    assert_eq!(reader.access_token(USER).unwrap(), old);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // One that wants a refresh waits for the lock, but not past its bound.
    let impatient = h
        .builder()
        .lock_wait(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = impatient.refresh(USER, false).unwrap_err();
    let Error::Store(StoreError::Busy(busy)) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(busy.store, "memory");
    assert!(err.what().contains("stayed held"), "{}", err.what());
    assert_eq!(
        h.counters().token_requests,
        2,
        "the exchange and the hung refresh only"
    );
    // The hung attempt timed out; the holder's retry after the backoff minted.
    assert!(hung.join().unwrap().unwrap().minted);
}

#[test]
fn no_call_outlives_its_deadline_against_a_hung_zoho() {
    let h = Harness::start();
    let client = h
        .builder()
        .transport(HttpTransport::new(Duration::from_secs(30)))
        .call_timeout(Duration::from_millis(1500))
        .build()
        .unwrap();
    client.exchange_grant(USER, &h.code()).unwrap();
    h.advance(Duration::from_secs(3601)); // expired: nothing valid to serve
    h.emu.queue_fault(Fault::Hang, 5);
    let started = Monotonic::now();
    let err = client.access_token(USER).unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(took < Duration::from_secs(3), "the call took {took:?}");
}

/// A store whose writes fail as the test says, around a memory store.
struct Crippled {
    inner: MemoryStore,
    /// `check_writable` says it cannot be written.
    read_only: bool,
    /// `save` fails (after `check_writable` said yes).
    saves_fail: bool,
}

struct CrippledLock<'s> {
    inner: Box<dyn LockedCredential + 's>,
    store: &'s Crippled,
}

impl TokenStore for Crippled {
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
        Ok(Box::new(CrippledLock {
            inner: self.inner.lock(key, wait)?,
            store: self,
        }))
    }
    fn describe(&self) -> String {
        "crippled".into()
    }
}

impl LockedCredential for CrippledLock<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.inner.load()
    }
    fn save(&mut self, token: &TokenSet) -> Result<(), StoreError> {
        if self.store.saves_fail {
            return Err(StoreError::Io(std::io::Error::other("disk full")));
        }
        self.inner.save(token)
    }
    fn delete(&mut self) -> Result<bool, StoreError> {
        self.inner.delete()
    }
    fn check_writable(&mut self) -> Result<(), StoreError> {
        if self.store.read_only {
            return Err(StoreError::ReadOnly("the test says so".into()));
        }
        Ok(())
    }
    fn release(self: Box<Self>) -> Result<(), StoreError> {
        self.inner.release()
    }
}

fn crippled_client(h: &Harness, read_only: bool, saves_fail: bool) -> (Client, Arc<Crippled>) {
    let store = Arc::new(Crippled {
        inner: MemoryStore::new(),
        read_only: false,
        saves_fail: false,
    });
    let writable = h.builder().store_arc(store.clone()).build().unwrap();
    writable.exchange_grant(USER, &h.code()).unwrap();
    // The same credential, behind a store that now cannot be written.
    let store = Arc::new(Crippled {
        inner: MemoryStore::new(),
        read_only,
        saves_fail,
    });
    let key = writable.key(USER);
    let token = writable_token(&writable, &key);
    let mut lock = store.inner.lock(&key, LockWait::NoWait).unwrap();
    lock.save(&token).unwrap();
    lock.release().unwrap();
    (h.builder().store_arc(store.clone()).build().unwrap(), store)
}

fn writable_token(client: &Client, key: &CredentialKey) -> TokenSet {
    client.engine().store().load(key).unwrap().unwrap()
}

#[test]
fn a_store_that_says_it_cannot_be_written_is_told_before_zoho_is_asked() {
    let h = Harness::start();
    let (client, _) = crippled_client(&h, true, false);
    let asked = h.counters().token_requests;
    let err = client.refresh(USER, true).unwrap_err();
    assert!(
        matches!(err, Error::Store(StoreError::ReadOnly(_))),
        "{err:?}"
    );
    assert!(
        err.what().contains("nothing was asked of Zoho"),
        "{}",
        err.what()
    );
    assert_eq!(h.counters().token_requests, asked);
}

#[test]
fn a_mint_that_cannot_be_saved_is_an_error_and_is_not_used() {
    let h = Harness::start();
    let (client, store) = crippled_client(&h, false, true);
    let key = client.key(USER);
    let before = store.load(&key).unwrap().unwrap();
    let old = client.access_token(USER).unwrap();
    let err = client.refresh(USER, true).unwrap_err();
    assert!(matches!(err, Error::NotSaved { .. }), "{err:?}");
    assert!(err.what().contains("could not be saved"), "{}", err.what());
    assert_eq!(h.counters().mints, 2, "Zoho did mint it");
    // Not used, and the store (its mint log) is as it was.
    assert_eq!(client.access_token(USER).unwrap(), old);
    assert_eq!(store.load(&key).unwrap().unwrap(), before);
}

#[test]
fn a_revoke_while_a_refresh_is_on_the_wire_leaves_nothing_behind() {
    let h = Harness::start();
    let refresher = client_waiting(&h, Duration::from_secs(5));
    refresher.exchange_grant(USER, &h.code()).unwrap();
    // The refresh's answer is late; the revoke arrives meanwhile, from another process.
    h.emu.set_latency(Duration::from_millis(300));
    let late = refresher.clone();
    let refreshing = std::thread::spawn(move || late.refresh(USER, true));
    until_emulator(&h, "the refresh", |c| c.in_flight == 1);
    let revoker = h.client();
    let removed = revoker.revoke(USER).unwrap();
    assert_eq!(removed.at_zoho, zoho_oauth::AtZoho::Revoked);
    refreshing.join().unwrap().unwrap();
    h.emu.set_latency(Duration::ZERO);

    // The late refresh saved before the revoke could take the lock: the revoke then removed it.
    assert_eq!(h.store.load(&refresher.key(USER)).unwrap(), None);
    assert_eq!(h.counters().revocations, 1);
    let err = h.client().access_token(USER).unwrap_err();
    assert!(matches!(err, Error::UnknownUser { .. }), "{err:?}");
}

#[test]
fn a_conditional_delete_leaves_a_credential_another_process_stored_meanwhile() {
    let h = Harness::start();
    let (first, second) = (h.client(), h.client());
    let ours = "1000.0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a.0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b";
    let theirs = "1000.1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c.1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d";
    let holds = |rt: &'static str| {
        move |t: &zoho_oauth::core::TokenSet| t.refresh_token.as_ref().is_some_and(|r| r.ct_eq(rt))
    };
    first.add_refresh_token(USER, ours).unwrap();
    // Another process replaces it before the first one decides to drop what it added.
    second.add_refresh_token(USER, theirs).unwrap();
    assert!(!first.delete_if(USER, holds(ours)).unwrap());
    assert_eq!(
        h.stored_refresh_token(&first, USER).as_deref(),
        Some(theirs)
    );
    assert!(first.delete_if(USER, holds(theirs)).unwrap());
    assert_eq!(h.stored_refresh_token(&first, USER), None);
}
