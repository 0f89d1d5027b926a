//! Single-flight refresh: many threads (and clients sharing a store) at expiry send one refresh.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use common::{Harness, USER};
use zoho_oauth::AccessToken;

const THREADS: usize = 32;

/// Run `f` on `n` threads released at once; their results in order.
fn at_once<T: Send + 'static>(n: usize, f: impl Fn() -> T + Send + Sync + 'static) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(n));
    let f = Arc::new(f);
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (barrier, f) = (barrier.clone(), f.clone());
            thread::spawn(move || {
                barrier.wait();
                f()
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect()
}

#[test]
fn thirty_two_threads_at_expiry_send_one_refresh_and_all_get_the_new_token() {
    let h = Harness::start();
    let client = h.client();
    let old = client.exchange_grant(USER, &h.code()).unwrap();
    h.advance(Duration::from_secs(3600));
    // Slow answers make the threads overlap for certain.
    h.emu.set_latency(Duration::from_millis(200));

    let c = client.clone();
    let results = at_once(THREADS, move || c.access_token(USER));
    let tokens: Vec<AccessToken> = results.into_iter().map(|r| r.expect("no errors")).collect();
    assert_eq!(tokens.len(), THREADS);
    assert!(
        tokens.iter().all(|t| *t == tokens[0]),
        "all threads got the same token"
    );
    assert_ne!(tokens[0], old);
    let counters = h.counters();
    assert_eq!(counters.refresh_token_requests, 1);
    assert_eq!(counters.max_in_flight, 1);
}

#[test]
fn threads_in_the_refresh_window_refresh_once_and_never_wait_for_an_error() {
    let h = Harness::start();
    let client = h.client();
    let old = client.exchange_grant(USER, &h.code()).unwrap();
    // Due (inside the 60 s margin) but still valid.
    h.advance(Duration::from_secs(3600 - 30));
    h.emu.set_latency(Duration::from_millis(200));

    let c = client.clone();
    let results = at_once(THREADS, move || c.access_token(USER));
    let new = client.access_token(USER).unwrap();
    assert_ne!(new, old);
    for r in results {
        let t = r.expect("no errors");
        assert!(
            t == old || t == new,
            "either the still-valid or the new token"
        );
    }
    assert_eq!(h.counters().refresh_token_requests, 1);
}

#[test]
fn two_clients_sharing_a_store_refresh_once_through_its_lock() {
    let h = Harness::start();
    let a = h.client();
    let b = h.client(); // another "process": own cache and machines, same store
    a.exchange_grant(USER, &h.code()).unwrap();
    b.access_token(USER).unwrap(); // loads the stored credential
    h.advance(Duration::from_secs(3600));
    h.emu.set_latency(Duration::from_millis(200));

    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .map(|client| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                client.access_token(USER)
            })
        })
        .collect();
    let tokens: Vec<AccessToken> = handles
        .into_iter()
        .map(|t| t.join().unwrap().expect("no errors"))
        .collect();
    assert_eq!(
        tokens[0], tokens[1],
        "the second reloaded what the first saved"
    );
    assert_eq!(h.counters().refresh_token_requests, 1);
}

#[test]
fn the_hot_path_serves_a_fresh_token_from_many_threads_without_requests() {
    let h = Harness::start();
    let client = h.client();
    let token = client.exchange_grant(USER, &h.code()).unwrap();
    let c = client.clone();
    let results = at_once(THREADS, move || {
        (0..1000).all(|_| c.access_token(USER).map(|t| t.secret().len()).is_ok())
    });
    assert!(results.into_iter().all(|ok| ok));
    assert_eq!(client.access_token(USER).unwrap(), token);
    assert_eq!(h.counters().token_requests, 1);
}

#[test]
fn clients_sharing_a_file_store_refresh_once_and_agree_on_the_token() {
    let h = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.zot");
    let make = || {
        h.builder()
            .store(zoho_oauth::FileStore::open(&path).unwrap())
            .build()
            .unwrap()
    };
    let clients: Vec<_> = (0..4).map(|_| make()).collect();
    clients[0].exchange_grant(USER, &h.code()).unwrap();
    h.advance(Duration::from_secs(3600));
    h.emu.set_latency(Duration::from_millis(100));

    let barrier = Arc::new(Barrier::new(clients.len() * 4));
    let handles: Vec<_> = clients
        .iter()
        .flat_map(|c| std::iter::repeat_n(c.clone(), 4))
        .map(|client| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                client.access_token(USER)
            })
        })
        .collect();
    let tokens: Vec<AccessToken> = handles
        .into_iter()
        .map(|t| t.join().unwrap().expect("no errors"))
        .collect();
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    assert_eq!(h.counters().refresh_token_requests, 1);
    // A client opened afterwards finds the new token in the file.
    assert_eq!(make().access_token(USER).unwrap(), tokens[0]);
}
