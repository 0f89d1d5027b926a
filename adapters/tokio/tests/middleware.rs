//! The reqwest middleware behaves as the tower layer: the user's token (sensitive), only to the
//! user's API domain, one refresh and one retry on 401 `INVALID_TOKEN` — never two.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{Harness, USER};
use http::header::AUTHORIZATION;
use http::Extensions;
use reqwest::{Request, Response};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};
use zoho_oauth_tokio::{Client, ZohoAuthMiddleware};

const INVALID_TOKEN: &str =
    r#"{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}"#;

fn crm(client: &Client, then: Option<Rejector>) -> ClientWithMiddleware {
    let transport = Harness::transport();
    let mut builder = ClientBuilder::new(transport.reqwest_client().clone())
        .with(ZohoAuthMiddleware::new(client.clone(), USER));
    if let Some(rejector) = then {
        builder = builder.with(rejector);
    }
    builder.build()
}

/// Stands for an API that rejects every token: answers 401 `INVALID_TOKEN` without sending,
/// counting the requests and the tokens they carried.
#[derive(Clone, Default)]
struct Rejector {
    calls: Arc<AtomicUsize>,
    sensitive: Arc<AtomicUsize>,
}

#[async_trait::async_trait]
impl Middleware for Rejector {
    async fn handle(
        &self,
        req: Request,
        _: &mut Extensions,
        _: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if req
            .headers()
            .get(AUTHORIZATION)
            .is_some_and(|v| v.is_sensitive())
        {
            self.sensitive.fetch_add(1, Ordering::SeqCst);
        }
        let response = http::Response::builder()
            .status(401)
            .body(INVALID_TOKEN)
            .unwrap();
        Ok(Response::from(response))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_invalid_token_the_middleware_refreshes_once_and_the_retry_reaches_the_crm() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).await.unwrap();
    h.emu.expire_access_tokens();

    let response = crm(&client, None)
        .get(h.crm_url("/crm/v8/users?type=CurrentUser"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains(USER));
    let seen = h.counters();
    assert_eq!(seen.refresh_token_requests, 1);
    assert_eq!((seen.api_calls, seen.api_unauthorized), (2, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_rejected_again_after_the_refresh_is_retried_once_and_not_twice() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).await.unwrap();
    let api = Rejector::default();

    let response = crm(&client, Some(api.clone()))
        .post(h.crm_url("/crm/v8/Leads"))
        .body(r#"{"data":[{"Last_Name":"Lovelace"}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.text().await.unwrap(),
        INVALID_TOKEN,
        "the 401 comes back whole"
    );
    assert_eq!(api.calls.load(Ordering::SeqCst), 2);
    assert_eq!(
        api.sensitive.load(Ordering::SeqCst),
        2,
        "the header is marked sensitive"
    );
    assert_eq!(h.counters().refresh_token_requests, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_body_is_not_replayed_but_the_next_request_gets_the_new_token() {
    let h = Harness::start();
    let client = h.client();
    let old = client.exchange_grant(USER, &h.code()).await.unwrap();
    let api = Rejector::default();

    let response = crm(&client, Some(api.clone()))
        .post(h.crm_url("/crm/v8/Leads"))
        .body(reqwest::Body::wrap(String::from(r#"{"data":[]}"#)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(api.calls.load(Ordering::SeqCst), 1, "not retried");
    assert_eq!(h.counters().refresh_token_requests, 1);
    assert_ne!(client.access_token(USER).await.unwrap(), old);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_middleware_never_sends_the_token_to_another_origin() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).await.unwrap();
    let api = Rejector::default();

    let err = crm(&client, Some(api.clone()))
        .get("https://evil.example/crm/v8/org")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_middleware());
    assert!(
        err.to_string().contains("refused to send a Zoho token"),
        "{err}"
    );
    assert_eq!(api.calls.load(Ordering::SeqCst), 0);
}
