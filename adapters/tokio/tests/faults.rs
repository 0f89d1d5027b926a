//! Faults of the network and of Zoho through the async client behave as through the blocking
//! one (the same engine decides): a still-valid token is served, errors are typed, retries are
//! bounded, a throttle is honoured, and nothing stored is ever lost.

mod common;

use std::time::{Duration, SystemTime};

use common::{Harness, HOUR, USER};
use zoho_oauth::{AccessToken, Error, ErrorKind};
use zoho_oauth_emulator::Fault;
use zoho_oauth_tokio::Client;

/// Faults that make a token request fail without an answer Zoho would give.
const OUTAGES: [Fault; 6] = [
    Fault::ServerError,
    Fault::HtmlOk,
    Fault::TruncatedBody,
    Fault::ConnectionReset,
    Fault::CloseWithoutResponse,
    Fault::Hang,
];

async fn setup() -> (Harness, Client, AccessToken, Option<String>) {
    let h = Harness::start();
    let client = h.client();
    let token = client.exchange_grant(USER, &h.code()).await.unwrap();
    let refresh = h.stored_refresh_token(&client, USER);
    h.emu.reset_counters();
    (h, client, token, refresh)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_an_outage_a_still_valid_token_keeps_being_served() {
    for fault in OUTAGES {
        let (h, client, old, refresh) = setup().await;
        h.advance(HOUR - Duration::from_secs(30)); // due, still valid for 30 s
        h.emu.queue_fault(fault, 10);
        for _ in 0..3 {
            let served = client.access_token(USER).await;
            assert_eq!(
                served.unwrap_or_else(|e| panic!("{fault:?}: {e:?}")),
                old,
                "{fault:?}"
            );
        }
        // One attempt, then the backoff keeps the hot path quiet: no hammering.
        assert_eq!(h.counters().refresh_token_requests, 1, "{fault:?}");
        assert_eq!(h.stored_refresh_token(&client, USER), refresh, "{fault:?}");

        h.emu.clear_faults();
        h.advance(Duration::from_secs(2));
        assert_ne!(client.access_token(USER).await.unwrap(), old, "{fault:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_valid_token_an_outage_is_a_typed_network_error_after_three_attempts() {
    for fault in OUTAGES.into_iter().filter(|f| *f != Fault::Hang) {
        let (h, client, _, refresh) = setup().await;
        h.advance(HOUR);
        h.emu.queue_fault(fault, 10);
        let err = client.access_token(USER).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network, "{fault:?}: {err:?}");
        assert_eq!(h.counters().refresh_token_requests, 3, "{fault:?}");
        assert_eq!(h.stored_refresh_token(&client, USER), refresh, "{fault:?}");
        assert!(client.status().await.unwrap()[0]
            .needs_authorization
            .is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_refresh_times_out_within_the_transport_timeout_and_the_retry_succeeds() {
    let (h, client, old, _) = setup().await;
    h.advance(HOUR);
    h.emu.queue_fault(Fault::Hang, 1);
    let new = client.access_token(USER).await.expect("the retry succeeds");
    assert_ne!(new, old);
    assert_eq!(h.counters().refresh_token_requests, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttle_is_a_typed_error_and_nothing_is_sent_until_the_window_passes() {
    let (h, client, _, refresh) = setup().await;
    h.advance(HOUR);
    h.emu.queue_fault(Fault::Throttle, 1);
    let now = SystemTime::UNIX_EPOCH + Duration::from_millis(h.emu.now_ms());
    let err = client.access_token(USER).await.unwrap_err();
    let Error::Throttled { retry_at, local } = err else {
        panic!("{err:?}");
    };
    assert!(!local);
    assert!(
        retry_at >= now + Duration::from_secs(60),
        "waits for the window"
    );
    let again = client.access_token(USER).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Throttled);
    let seen = h.counters();
    assert_eq!(
        (seen.refresh_token_requests, seen.throttled),
        (1, 1),
        "no retry during the block"
    );
    assert_eq!(h.stored_refresh_token(&client, USER), refresh);

    h.advance(Duration::from_secs(601));
    assert!(client.access_token(USER).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_mint_budget_refuses_before_zoho_would_throttle() {
    let (h, client, _, _) = setup().await;
    // The exchange was mint 1 of 10; nine forced refreshes use the rest.
    for _ in 0..9 {
        client.refresh(USER, true).await.unwrap();
    }
    let err = client.refresh(USER, true).await.unwrap_err();
    assert!(
        matches!(err, Error::Throttled { local: true, .. }),
        "{err:?}"
    );
    let seen = h.counters();
    assert_eq!((seen.refresh_token_requests, seen.throttled), (9, 0));
    assert!(
        client.access_token(USER).await.is_ok(),
        "the current token is still served"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_needs_authorization_and_is_not_asked_again() {
    let (h, client, _, refresh) = setup().await;
    let revoke = Harness::transport();
    let url = format!("{}/oauth/v2/token/revoke", h.crm_url(""));
    let body = format!("token={}", refresh.clone().unwrap());
    let request = zoho_oauth::HttpRequest {
        method: zoho_oauth::Method::Post,
        url: &url,
        headers: &[("Content-Type", "application/x-www-form-urlencoded")],
        body: body.as_bytes(),
        timeout: None,
    };
    use zoho_oauth_tokio::Transport;
    assert_eq!(revoke.send(&request).await.unwrap().status, 200);
    h.advance(HOUR);

    let err = client.access_token(USER).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReAuthorize, "{err:?}");
    assert!(client.access_token(USER).await.is_err());
    assert_eq!(
        h.counters().refresh_token_requests,
        1,
        "a dead token is not hammered"
    );
    assert_eq!(
        h.stored_refresh_token(&client, USER),
        refresh,
        "and not deleted"
    );
    assert!(client.status().await.unwrap()[0]
        .needs_authorization
        .is_some());
}
