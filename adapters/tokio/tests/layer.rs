//! The tower layer: the user's token on every request (sensitive), tokens only to the user's API
//! domain, and on a 401 `INVALID_TOKEN` one refresh and one retry — never two.

mod common;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use common::{Harness, USER};
use http::header::AUTHORIZATION;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;
use tower::{service_fn, Layer, ServiceExt};
use zoho_oauth_tokio::{AuthorizeError, ReplayBody, ZohoAuthLayer};

/// CRM's answer to a dead or foreign token.
const INVALID_TOKEN: &[u8] =
    br#"{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}"#;
/// CRM's answer to a token without the scope the URL needs: not a token problem.
const SCOPE_MISMATCH: &[u8] = br#"{"code":"OAUTH_SCOPE_MISMATCH","details":{},"message":"invalid oauth scope to access this URL","status":"error"}"#;

fn get(uri: &str) -> Request<Full<Bytes>> {
    Request::get(uri).body(Full::default()).unwrap()
}

/// A fake API: answers every request with `status` and `body`, recording each request's head.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(String, HeaderMap)>>>);

impl Recorder {
    fn calls(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    fn call(&self, i: usize) -> (String, HeaderMap) {
        self.0.lock().unwrap()[i].clone()
    }
    fn service<B: Send + 'static>(
        &self,
        status: u16,
        body: &'static [u8],
    ) -> impl tower::Service<
        Request<B>,
        Response = Response<Full<Bytes>>,
        Error = Infallible,
        Future = impl Send,
    > + Clone
           + Send
           + 'static {
        let seen = self.0.clone();
        service_fn(move |req: Request<B>| {
            seen.lock()
                .unwrap()
                .push((req.uri().to_string(), req.headers().clone()));
            let response = Response::builder()
                .status(status)
                .body(Full::new(Bytes::from_static(body)))
                .unwrap();
            async move { Ok::<_, Infallible>(response) }
        })
    }
}

async fn body_of<B: Body>(response: Response<B>) -> Bytes
where
    B::Error: std::fmt::Debug,
{
    response.into_body().collect().await.unwrap().to_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_layer_sends_the_users_token_as_a_sensitive_authorization_header_to_its_api_domain() {
    let h = Harness::start();
    let client = h.client();
    let token = client.exchange_grant(USER, &h.code()).await.unwrap();
    let api = Recorder::default();
    let service = ZohoAuthLayer::new(client, USER).layer(api.service(200, b"{}"));

    let response = service.oneshot(get("/crm/v8/org")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (uri, headers) = api.call(0);
    assert_eq!(
        uri,
        h.crm_url("/crm/v8/org"),
        "a path goes to the user's API domain"
    );
    let value = headers.get(AUTHORIZATION).expect("the header");
    assert_eq!(
        value.to_str().unwrap(),
        format!("Zoho-oauthtoken {}", token.secret())
    );
    assert!(value.is_sensitive());
    assert!(
        !format!("{headers:?}").contains(token.secret()),
        "never in Debug"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_to_another_origin_is_refused_before_the_token_leaves() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).await.unwrap();
    let api = Recorder::default();
    let layer = ZohoAuthLayer::new(client, USER);
    for uri in [
        "https://evil.example/crm/v8/org".to_owned(),
        "https://www.zohoapis.com/crm/v8/org".to_owned(),
        h.crm_url("/crm").replace("127.0.0.1", "localhost"),
    ] {
        let err = layer
            .layer(api.service(200, b"{}"))
            .oneshot(get(&uri))
            .await
            .unwrap_err();
        assert!(
            matches!(err, AuthorizeError::Origin { .. }),
            "{uri}: {err:?}"
        );
    }
    assert_eq!(api.calls(), 0);
    // The same origin, absolute, is fine.
    let ok = layer
        .layer(api.service(200, b"{}"))
        .oneshot(get(&h.crm_url("/crm/v8/org")));
    assert_eq!(ok.await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_invalid_token_the_layer_refreshes_once_and_the_retry_reaches_the_crm() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).await.unwrap();
    // Zoho killed the token early (evicted, revoked elsewhere): the client still thinks it fresh.
    h.emu.expire_access_tokens();
    let http = HttpClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let crm = ZohoAuthLayer::new(client, USER).layer(http);

    let response = crm.oneshot(get("/crm/v8/org")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(String::from_utf8_lossy(&body_of(response).await).contains("company_name"));
    let seen = h.counters();
    assert_eq!(seen.refresh_token_requests, 1);
    assert_eq!((seen.api_calls, seen.api_unauthorized), (2, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_rejected_again_after_the_refresh_is_retried_once_and_not_twice() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).await.unwrap();
    let api = Recorder::default();
    let service = ZohoAuthLayer::new(client, USER).layer(api.service(401, INVALID_TOKEN));

    let response = service.oneshot(get("/crm/v8/org")).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        &body_of(response).await[..],
        INVALID_TOKEN,
        "the 401 comes back whole"
    );
    assert_eq!(api.calls(), 2, "one retry");
    assert_ne!(
        api.call(0).1.get(AUTHORIZATION),
        api.call(1).1.get(AUTHORIZATION),
        "the retry carried the new token"
    );
    assert_eq!(h.counters().refresh_token_requests, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_about_something_else_than_the_token_is_returned_without_a_refresh() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).await.unwrap();
    let api = Recorder::default();
    let service = ZohoAuthLayer::new(client, USER).layer(api.service(401, SCOPE_MISMATCH));

    let response = service.oneshot(get("/crm/v8/org")).await.unwrap();
    assert_eq!(&body_of(response).await[..], SCOPE_MISMATCH);
    assert_eq!(api.calls(), 1);
    assert_eq!(h.counters().refresh_token_requests, 0);
}

/// A body that can be read once only, like a stream from a socket.
struct OnceBody(Full<Bytes>);

impl Body for OnceBody {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        std::pin::Pin::new(&mut self.0).poll_frame(cx)
    }
}

impl ReplayBody for OnceBody {
    fn try_replay(&self) -> Option<Self> {
        None
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_cannot_be_replayed_gets_its_401_and_the_next_request_the_new_token() {
    let h = Harness::start();
    let client = h.client();
    let old = client.exchange_grant(USER, &h.code()).await.unwrap();
    let api = Recorder::default();
    let layer = ZohoAuthLayer::new(client.clone(), USER);
    let upload = Request::post("/crm/v8/Leads")
        .body(OnceBody(Full::new(Bytes::from_static(b"{\"data\":[]}"))))
        .unwrap();

    let response = layer
        .layer(api.service(401, INVALID_TOKEN))
        .oneshot(upload)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(api.calls(), 1, "not retried");
    assert_eq!(
        h.counters().refresh_token_requests,
        1,
        "but the token was replaced"
    );
    let new = client.access_token(USER).await.unwrap();
    assert_ne!(new, old);

    let next = layer
        .layer(api.service(200, b"{}"))
        .oneshot(get("/crm/v8/org"));
    assert_eq!(next.await.unwrap().status(), 200);
    let sent = api.call(1).1;
    assert_eq!(
        sent.get(AUTHORIZATION).unwrap().to_str().unwrap(),
        format!("Zoho-oauthtoken {}", new.secret())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_requests_rejected_with_the_same_token_share_one_refresh() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).await.unwrap();
    h.emu.expire_access_tokens();
    let http = HttpClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let crm = ZohoAuthLayer::new(client, USER).layer(http);
    let ok = Arc::new(AtomicUsize::new(0));

    let requests: Vec<_> = (0..20)
        .map(|_| {
            let (crm, ok) = (crm.clone(), ok.clone());
            tokio::spawn(async move {
                let response = crm
                    .oneshot(get("/crm/v8/users?type=CurrentUser"))
                    .await
                    .unwrap();
                if response.status() == StatusCode::OK {
                    ok.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for r in requests {
        r.await.unwrap();
    }
    assert_eq!(ok.load(Ordering::SeqCst), 20);
    assert_eq!(h.counters().refresh_token_requests, 1);
}
