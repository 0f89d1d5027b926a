//! The background refresh task: refreshes before expiry with no caller waiting, wakes when a
//! credential arrives, and stops when asked or when the client is dropped.

mod common;

use std::time::Duration;

use common::{eventually, Harness, HOUR, USER};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_refreshes_a_due_token_before_it_expires_without_any_caller() {
    let h = Harness::start();
    let client = h.client();
    let old = client.exchange_grant(USER, &h.code()).await.unwrap();
    let refresher = client.spawn_background_refresh();
    // Inside the refresh margin, 40 s before expiry: due, still valid.
    h.advance(HOUR - Duration::from_secs(40));
    refresher.wake();

    eventually("the background task refreshed", || {
        h.counters().refresh_token_requests == 1
    })
    .await;
    eventually("the new token is cached", || {
        client.engine().cached(USER).is_some_and(|t| t != old)
    })
    .await;
    // Callers get the new token from the cache, without a request.
    let served = client.access_token(USER).await.unwrap();
    assert_ne!(served, old);
    assert_eq!(h.counters().refresh_token_requests, 1);
    refresher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_stored_after_the_start_is_kept_fresh_too() {
    let h = Harness::start();
    let client = h.client();
    let refresher = client.spawn_background_refresh();
    // The new credential wakes the task (the engine tells it the schedule changed).
    let old = client.exchange_grant(USER, &h.code()).await.unwrap();
    h.advance(HOUR - Duration::from_secs(40));
    refresher.wake();
    eventually("the background task refreshed", || {
        client.engine().cached(USER).is_some_and(|t| t != old)
    })
    .await;
    assert_eq!(h.counters().refresh_token_requests, 1);
    assert!(refresher.is_running());
    refresher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_stops_by_itself_when_the_last_clone_of_its_client_is_dropped() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).await.unwrap();
    let refresher = client.spawn_background_refresh();
    let clone = client.clone();
    drop(client);
    assert!(refresher.is_running(), "a clone still lives");
    drop(clone);
    tokio::time::timeout(Duration::from_secs(5), refresher.finished())
        .await
        .expect("the task ended with its client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_the_task_and_waits_for_it() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).await.unwrap();
    let refresher = client.spawn_background_refresh();
    assert!(refresher.is_running());
    tokio::time::timeout(Duration::from_secs(5), refresher.stop())
        .await
        .expect("stopped while the client lives on");
}
