//! `ReqwestTransport` keeps the ureq transport's policy: HTTPS except to loopback (the core's
//! rule), no redirects followed, the caller's deadline and the transport's timeouts, a body limit,
//! ring-only TLS with chosen roots, and a proxy with credentials.

mod common;
// The ureq transport's test CA and server certificate, and the server TLS it tests against.
#[path = "../../ureq/tests/fixtures/tls.rs"]
mod tls_fixtures;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Harness;
use tls_fixtures::{server_config, CA_PEM, SERVER_KEY};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use zoho_oauth::{HttpRequest, HttpResponse, Method, TransportError};
use zoho_oauth_emulator::{Fault, DEFAULT_CLIENT_ID};
use zoho_oauth_tokio::{BuildError, ReqwestTransport, Transport};

async fn get(
    t: &ReqwestTransport,
    url: &str,
    timeout: Option<Duration>,
) -> Result<HttpResponse, TransportError> {
    let request = HttpRequest {
        method: Method::Get,
        url,
        headers: &[],
        body: &[],
        timeout,
    };
    t.send(&request).await
}

/// A loopback server answering every connection with `answer`, recording each request head.
async fn origin(answer: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && socket.read(&mut byte).await.unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&head).into_owned());
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    (format!("http://{addr}"), heads)
}

#[tokio::test]
async fn plain_http_is_refused_before_connecting_unless_the_host_is_loopback() {
    let t = ReqwestTransport::new();
    for url in [
        "http://accounts.zoho.com/oauth/v2/token",
        "http://10.0.0.1/",
        "http://127.0.0.1.nip.io/",
        "http://127.0.0.1@evil.example/",
        "ftp://accounts.zoho.com/",
        "not a url",
    ] {
        let err = get(&t, url, None).await.unwrap_err();
        assert!(matches!(err, TransportError::Refused(_)), "{url}: {err:?}");
        assert!(!err.is_retryable());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_comes_back_as_it_is_and_is_not_followed() {
    let h = Harness::start();
    let url = format!(
        "{}/oauth/v2/auth?client_id={DEFAULT_CLIENT_ID}&response_type=code&redirect_uri=http://127.0.0.1/callback&scope=ZohoCRM.users.READ&access_type=offline&state=s1",
        h.crm_url("")
    );
    let response = get(&ReqwestTransport::new(), &url, None).await.unwrap();
    assert_eq!(response.status, 302);
    let location = response
        .headers
        .iter()
        .find(|(n, _)| n == "location")
        .unwrap();
    assert!(
        location.1.starts_with("http://127.0.0.1/callback?code="),
        "{location:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_status_is_an_answer_and_a_body_over_the_limit_is_refused() {
    let h = Harness::start();
    let url = h.crm_url("/crm/v8/org");
    let answer = get(&ReqwestTransport::new(), &url, None).await.unwrap();
    assert_eq!(answer.status, 401, "statuses are answers, not errors");
    let small = ReqwestTransport::builder().max_body(16).build().unwrap();
    let err = get(&small, &url, None).await.unwrap_err();
    assert_eq!(err, TransportError::TooLarge { limit: 16 });
    let exact = ReqwestTransport::builder()
        .max_body(answer.body.len())
        .build()
        .unwrap();
    assert_eq!(
        get(&exact, &url, None).await.unwrap().body,
        answer.body,
        "exactly the limit is fine"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callers_remaining_deadline_bounds_a_request_below_the_transport_timeout() {
    let h = Harness::start();
    h.emu.queue_fault(Fault::Hang, 1);
    let url = format!("{}/oauth/v2/token", h.crm_url(""));
    let request = HttpRequest {
        method: Method::Post,
        url: &url,
        headers: &[("Content-Type", "application/x-www-form-urlencoded")],
        body: b"grant_type=refresh_token",
        timeout: Some(Duration::from_millis(300)),
    };
    // The transport alone would wait a minute; the caller's 300 ms decide.
    let err = ReqwestTransport::new().send(&request).await.unwrap_err();
    assert_eq!(err, TransportError::Timeout(Duration::from_millis(300)));
}

#[tokio::test]
async fn a_deadline_already_passed_is_a_timeout_without_connecting() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/late", listener.local_addr().unwrap());
    let err = get(&ReqwestTransport::new(), &url, Some(Duration::ZERO))
        .await
        .unwrap_err();
    assert_eq!(err, TransportError::Timeout(Duration::ZERO));
    assert!(err.is_retryable());
    // A connection made before the error came back would wait in the backlog.
    listener.set_nonblocking(true).unwrap();
    let backlog = listener.accept().map(|_| ()).map_err(|e| e.kind());
    assert_eq!(backlog, Err(std::io::ErrorKind::WouldBlock));
}

#[tokio::test]
async fn a_refused_connection_is_a_retryable_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = get(&ReqwestTransport::new(), &format!("http://{addr}/"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Connect(_)), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_proxy_carries_the_request_with_its_credentials() {
    let (proxy, heads) =
        origin("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nproxied").await;
    let via_proxy = ReqwestTransport::builder()
        .proxy(proxy.replace("http://", "http://ada:s3cret@"))
        .build()
        .unwrap();
    let response = get(&via_proxy, "http://127.0.0.1:9/oauth/user/info", None)
        .await
        .unwrap();
    assert_eq!(response.body, b"proxied");
    let shown = format!("{via_proxy:?}");
    assert!(
        !shown.contains("s3cret") && shown.contains("http://<redacted>@127.0.0.1:"),
        "{shown}"
    );
    let head = heads.lock().unwrap()[0].clone();
    assert!(
        head.starts_with("GET http://127.0.0.1:9/oauth/user/info HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(
        head.contains("proxy-authorization: Basic YWRhOnMzY3JldA==\r\n"),
        "{head}"
    );
}

/// An HTTPS origin on loopback with the test certificate, answering `ok`.
async fn tls_origin() -> String {
    let acceptor = tokio_rustls::TlsAcceptor::from(server_config());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that distrusts the certificate ends the handshake here.
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let mut buf = [0u8; 1024];
                let _ = tls.read(&mut buf).await;
                let _ = tls
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://localhost:{port}/")
}

#[tokio::test]
async fn https_works_with_a_trusted_custom_root_and_fails_to_connect_without_it() {
    let url = tls_origin().await;
    let trusting = ReqwestTransport::builder()
        .root_certificates_pem(CA_PEM)
        .build()
        .unwrap();
    assert_eq!(get(&trusting, &url, None).await.unwrap().body, b"ok");

    // Mozilla's roots do not know the test CA.
    let err = get(&ReqwestTransport::new(), &url, None).await.unwrap_err();
    let TransportError::Connect(why) = &err else {
        panic!("{err:?}");
    };
    assert!(why.to_ascii_lowercase().contains("certificate"), "{why}");

    // Roots without a CERTIFICATE block (here a key) are refused when building.
    let keys_only = ReqwestTransport::builder().root_certificates_pem(SERVER_KEY);
    assert!(matches!(
        keys_only.build(),
        Err(BuildError::Certificates(_))
    ));
}
