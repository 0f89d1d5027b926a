//! Single flight across tasks, across clients sharing a store, and across the two faces: however
//! many ask at expiry, the emulator sees one refresh.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Harness, HOUR, USER};
use tokio::sync::Barrier;
use zoho_oauth::{AccessToken, FileStore};
use zoho_oauth_tokio::Client;

const TASKS: usize = 10_000;

/// Spawn one task per client in `clients` (cycling) up to `n`, released together; their tokens.
async fn at_once(clients: &[Client], n: usize) -> Vec<Result<AccessToken, zoho_oauth::Error>> {
    let barrier = Arc::new(Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (client, barrier) = (clients[i % clients.len()].clone(), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                client.access_token(USER).await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for task in tasks {
        out.push(task.await.expect("task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_tasks_at_expiry_send_one_refresh_and_all_get_the_same_new_token() {
    let h = Harness::start();
    let client = h.client();
    let old = client.exchange_grant(USER, &h.code()).await.unwrap();
    h.advance(HOUR);
    // Slow answers make the tasks overlap for certain.
    h.emu.set_latency(Duration::from_millis(200));

    let tokens: Vec<AccessToken> = at_once(&[client], TASKS)
        .await
        .into_iter()
        .map(|r| r.expect("no errors"))
        .collect();
    assert_eq!(tokens.len(), TASKS);
    assert!(
        tokens.iter().all(|t| *t == tokens[0]),
        "all tasks got the same token"
    );
    assert_ne!(tokens[0], old);
    let seen = h.counters();
    assert_eq!(seen.refresh_token_requests, 1);
    assert_eq!(seen.max_in_flight, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tasks_in_the_refresh_window_refresh_once_and_are_served_the_valid_token_meanwhile() {
    let h = Harness::start();
    let client = h.client();
    let old = client.exchange_grant(USER, &h.code()).await.unwrap();
    // Due (inside the 60 s margin) but still valid for 30 s.
    h.advance(HOUR - Duration::from_secs(30));
    h.emu.set_latency(Duration::from_millis(200));

    let results = at_once(std::slice::from_ref(&client), 1_000).await;
    let new = client.access_token(USER).await.unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn async_clients_sharing_a_file_store_refresh_once_through_its_lock() {
    let h = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.zot");
    // Four "processes": own engines, caches and flights; one file and its lock.
    let make = || {
        Client::build(
            h.builder().store(FileStore::open(&path).unwrap()),
            Harness::transport(),
        )
        .unwrap()
    };
    let clients: Vec<Client> = (0..4).map(|_| make()).collect();
    clients[0].exchange_grant(USER, &h.code()).await.unwrap();
    h.advance(HOUR);
    h.emu.set_latency(Duration::from_millis(100));

    let tokens: Vec<AccessToken> = at_once(&clients, 400)
        .await
        .into_iter()
        .map(|r| r.expect("no errors"))
        .collect();
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    assert_eq!(h.counters().refresh_token_requests, 1);
    // A client opened afterwards finds the new token in the file.
    assert_eq!(make().access_token(USER).await.unwrap(), tokens[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_blocking_and_an_async_client_sharing_a_file_store_refresh_once() {
    let h = Harness::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.zot");
    let blocking = h
        .builder()
        .store(FileStore::open(&path).unwrap())
        .transport(zoho_oauth_ureq::UreqTransport::new())
        .build()
        .unwrap();
    let client = Client::build(
        h.builder().store(FileStore::open(&path).unwrap()),
        Harness::transport(),
    )
    .unwrap();
    client.exchange_grant(USER, &h.code()).await.unwrap();
    h.advance(HOUR);
    h.emu.set_latency(Duration::from_millis(200));

    let threads: Vec<_> = (0..8)
        .map(|_| {
            let blocking = blocking.clone();
            tokio::task::spawn_blocking(move || blocking.access_token(USER))
        })
        .collect();
    let tasks = at_once(&[client], 100).await;
    let mut tokens: Vec<AccessToken> = tasks.into_iter().map(|r| r.expect("async")).collect();
    for t in threads {
        tokens.push(t.await.unwrap().expect("blocking"));
    }
    assert!(tokens.iter().all(|t| *t == tokens[0]), "both faces agree");
    assert_eq!(h.counters().refresh_token_requests, 1);
}
