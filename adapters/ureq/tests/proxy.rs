//! `UreqTransport` through an HTTP CONNECT proxy: tunnelling, basic credentials, refusals.

mod common;

use common::{get, respond, ConnectProxy, Origin};
use zoho_oauth::TransportError;
use zoho_oauth_ureq::UreqTransport;

#[test]
fn requests_are_tunnelled_through_the_proxy_with_basic_credentials() {
    let origin =
        Origin::start(|_, stream| respond(stream, "200 OK", &[], br#"{"status":"success"}"#));
    let proxy = ConnectProxy::start(None);
    // Reserved characters in the credentials are percent-encoded in the URL and sent decoded.
    let transport = UreqTransport::builder()
        .proxy(format!("http://zoho%40user:p%3Ass@{}", proxy.addr))
        .build()
        .unwrap();

    let response = get(&transport, &origin.url("/oauth/v2/token/revoke")).unwrap();

    assert_eq!(response.status, 200);
    assert_eq!(response.body, br#"{"status":"success"}"#);
    let connects = proxy.requests();
    assert_eq!(connects.len(), 1);
    assert_eq!(
        connects[0].line,
        format!("CONNECT {} HTTP/1.1", origin.addr)
    );
    // base64("zoho@user:p:ss")
    assert_eq!(
        connects[0].header("proxy-authorization"),
        Some("Basic em9ob0B1c2VyOnA6c3M=")
    );
    // The origin saw the request through the tunnel, without the proxy credentials.
    let seen = origin.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("proxy-authorization"), None);
}

#[test]
fn a_proxy_without_credentials_gets_no_proxy_authorization() {
    let origin = Origin::start(|_, stream| respond(stream, "200 OK", &[], b"{}"));
    let proxy = ConnectProxy::start(None);
    let transport = UreqTransport::builder()
        .proxy(format!("http://{}", proxy.addr))
        .build()
        .unwrap();

    assert_eq!(get(&transport, &origin.url("/")).unwrap().status, 200);

    let connects = proxy.requests();
    assert_eq!(connects.len(), 1);
    assert_eq!(connects[0].header("proxy-authorization"), None);
}

#[test]
fn a_proxy_that_refuses_the_tunnel_is_a_connect_error_and_the_origin_is_never_reached() {
    let origin = Origin::start(|_, stream| respond(stream, "200 OK", &[], b"{}"));
    let proxy = ConnectProxy::start(Some("407 Proxy Authentication Required"));
    let transport = UreqTransport::builder()
        .proxy(format!("http://user:wrong-password@{}", proxy.addr))
        .build()
        .unwrap();

    let err = get(&transport, &origin.url("/")).unwrap_err();

    assert!(matches!(err, TransportError::Connect(_)), "{err:?}");
    assert!(!err.to_string().contains("wrong-password"), "{err}");
    // Nor does the transport show them: only that there are some.
    let shown = format!("{transport:?}");
    assert!(
        !shown.contains("wrong-password") && !shown.contains("user:"),
        "{shown}"
    );
    assert!(shown.contains("http://<redacted>@127.0.0.1:"), "{shown}");
    assert_eq!(proxy.requests().len(), 1);
    assert_eq!(origin.connections(), 0);
}
