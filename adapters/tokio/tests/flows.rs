//! The async client does what the blocking one does, through the same engine: exchange, tokens,
//! users, status, the API helper, user info, revoke and delete.

mod common;

use common::{Harness, HOUR, USER};
use zoho_oauth::{Error, Method};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_exchanged_by_the_async_client_serves_tokens_and_api_calls() {
    let h = Harness::start();
    let client = h.client();
    let exchanged = client.exchange_grant(USER, &h.code()).await.unwrap();
    let token = client.access_token(USER).await.unwrap();
    assert_eq!(token, exchanged);
    assert_eq!(client.users().await.unwrap(), vec![USER.to_owned()]);
    let status = client.status().await.unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].user, USER);

    let resp = client
        .request(USER, Method::Get, "/crm/v8/users?type=CurrentUser", None)
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert!(String::from_utf8_lossy(&resp.body).contains(USER));
    assert_eq!(client.user_info(USER).await.unwrap().email, USER);
    let seen = h.counters();
    assert_eq!(
        (
            seen.authorization_code_requests,
            seen.refresh_token_requests
        ),
        (1, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refreshed_and_a_forced_refresh_mints_another() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).await.unwrap();
    let first = client.access_token(USER).await.unwrap();
    h.advance(HOUR);
    let second = client.access_token(USER).await.unwrap();
    assert_ne!(first, second);
    let forced = client.refresh(USER, true).await.unwrap();
    assert!(forced.minted);
    assert_ne!(forced.token, second);
    assert_eq!(h.counters().refresh_token_requests, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_credential_is_gone_from_the_store_and_from_zoho() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).await.unwrap();
    client.revoke(USER).await.unwrap();
    assert_eq!(h.counters().revocations, 1);
    assert!(h.stored_refresh_token(&client, USER).is_none());
    let err = client.access_token(USER).await.unwrap_err();
    assert!(matches!(err, Error::UnknownUser { .. }), "{err:?}");
    assert!(client.delete(USER).await.is_err(), "nothing left to delete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_async_and_the_blocking_client_can_share_one_engine_and_its_cache() {
    let h = Harness::start();
    let blocking = h
        .builder()
        .transport(zoho_oauth_ureq::UreqTransport::new())
        .build()
        .unwrap();
    let client = zoho_oauth_tokio::Client::from_engine(
        blocking.engine().clone(),
        std::sync::Arc::new(Harness::transport()),
    );
    let token = tokio::task::spawn_blocking({
        let (blocking, code) = (blocking.clone(), h.code());
        move || blocking.exchange_grant(USER, &code).unwrap()
    })
    .await
    .unwrap();
    // The async face reads the same cache: no request, the same token.
    assert_eq!(client.access_token(USER).await.unwrap(), token);
    h.advance(HOUR);
    let refreshed = client.access_token(USER).await.unwrap();
    let seen_by_blocking = tokio::task::spawn_blocking(move || blocking.access_token(USER))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(refreshed, seen_by_blocking);
    assert_eq!(h.counters().refresh_token_requests, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_call_is_small_enough_to_keep_in_ten_thousand_tasks() {
    let h = Harness::start();
    let client = h.client();
    // The engine's own futures hold token sets across awaits; the client keeps them on the heap.
    let token = client.access_token(USER);
    let call = client.request(USER, Method::Get, "/crm/v8/org", None);
    assert!(
        std::mem::size_of_val(&token) <= 256,
        "{}",
        std::mem::size_of_val(&token)
    );
    assert!(
        std::mem::size_of_val(&call) <= 256,
        "{}",
        std::mem::size_of_val(&call)
    );
}
