//! `UreqTransport` against scripted loopback servers: statuses, redirects, URL policy, limits, failures.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{get, get_within, hold_until_client_leaves, respond, send, ConnectProxy, Origin};
use zoho_oauth::transport::Method;
use zoho_oauth::TransportError;
use zoho_oauth_ureq::{UreqTransport, DEFAULT_TIMEOUT, USER_AGENT};

/// A transport with these read and global timeouts.
fn with_timeouts(read: Duration, global: Duration) -> UreqTransport {
    UreqTransport::builder()
        .read_timeout(read)
        .timeout(global)
        .build()
        .unwrap()
}

const INVALID_CODE: &[u8] = br#"{"error":"invalid_code"}"#;

#[test]
fn error_statuses_are_returned_with_their_body_not_turned_into_errors() {
    let origin = Origin::start(|req, stream| match req.line.split(' ').nth(1) {
        Some("/bad") => respond(
            stream,
            "400 Bad Request",
            &[("Content-Type", "application/json")],
            INVALID_CODE,
        ),
        _ => respond(
            stream,
            "500 Internal Server Error",
            &[("Content-Type", "text/html")],
            b"<html>down</html>",
        ),
    });
    let transport = UreqTransport::new();

    let bad = get(&transport, &origin.url("/bad")).unwrap();
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body, INVALID_CODE);
    assert!(bad
        .headers
        .contains(&("content-type".to_owned(), "application/json".to_owned())));

    let down = get(&transport, &origin.url("/down")).unwrap();
    assert_eq!(down.status, 500);
    assert_eq!(down.body, b"<html>down</html>");
}

#[test]
fn a_redirect_is_returned_as_is_and_never_followed() {
    let origin = Origin::start(|req, stream| {
        if req.line.contains("/start") {
            respond(stream, "302 Found", &[("Location", "/elsewhere")], b"");
        } else {
            respond(stream, "200 OK", &[], b"followed");
        }
    });
    let transport = UreqTransport::new();

    let response = send(
        &transport,
        Method::Post,
        &origin.url("/start"),
        &[],
        b"code=x",
    )
    .unwrap();

    assert_eq!(response.status, 302);
    assert!(response
        .headers
        .contains(&("location".to_owned(), "/elsewhere".to_owned())));
    let seen: Vec<String> = origin.requests().into_iter().map(|r| r.line).collect();
    assert_eq!(seen, ["POST /start HTTP/1.1"]);
}

#[test]
fn urls_the_project_policy_refuses_are_refused_before_any_network_traffic() {
    // The core's one parser decides (`TransportError::check_url`): plain http to a remote host,
    // user info, hosts that only look like loopback, lenient IPv4 spellings, blanks and
    // backslashes never reach a socket. A proxy would see any connection attempt, even one for
    // a name that cannot resolve.
    let proxy = ConnectProxy::start(None);
    let transport = UreqTransport::builder()
        .proxy(format!("http://{}", proxy.addr))
        .build()
        .unwrap();

    for url in [
        "http://example.invalid/oauth/v2/token",
        "http://accounts.zoho.com/oauth/v2/token",
        "http://127.0.0.1@evil.example/oauth/v2/token",
        "https://user:pw@accounts.zoho.com/oauth/v2/token",
        "http://127.0.0.1.nip.io/oauth/v2/token",
        "http://localhost.example.com/",
        "http://127.1/",
        "http://[::2]/",
        "https://accounts.zoho.com\\@evil.example/",
        "https://accounts.zoho.com /oauth/v2/token",
        "ftp://accounts.zoho.com/",
        "/oauth/v2/token",
        "",
    ] {
        let err = send(&transport, Method::Post, url, &[], b"client_secret=s").unwrap_err();
        let TransportError::Refused(why) = &err else {
            panic!("{url:?}: {err:?}");
        };
        assert!(!err.is_retryable(), "{url:?}");
        assert!(!why.is_empty(), "{url:?}");
    }
    assert!(proxy.requests().is_empty());
}

#[test]
fn https_anywhere_and_plain_http_to_loopback_pass_the_policy() {
    let origin = Origin::start(|_, stream| respond(stream, "200 OK", &[], b"{}"));
    let transport = UreqTransport::new();
    let port = origin.addr.port();
    for url in [
        format!("http://127.0.0.1:{port}/a"),
        format!("http://localhost:{port}/b"),
        format!("HTTP://127.0.0.1:{port}/c"),
    ] {
        assert_eq!(get(&transport, &url).unwrap().status, 200, "{url}");
    }
    assert_eq!(origin.requests().len(), 3);
}

#[test]
fn method_headers_body_and_user_agent_reach_the_server() {
    let origin = Origin::start(|_, stream| respond(stream, "200 OK", &[], b"{}"));
    let transport = UreqTransport::new();
    let body = b"grant_type=refresh_token&refresh_token=1000.abc";

    send(
        &transport,
        Method::Post,
        &origin.url("/oauth/v2/token"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body,
    )
    .unwrap();
    get(&transport, &origin.url("/oauth/user/info")).unwrap();

    let seen = origin.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].line, "POST /oauth/v2/token HTTP/1.1");
    assert_eq!(
        seen[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen[0].header("user-agent"), Some(USER_AGENT));
    assert!(USER_AGENT.starts_with("zoho-oauth/"));
    assert_eq!(seen[0].body, body);
    assert_eq!(seen[1].line, "GET /oauth/user/info HTTP/1.1");
    assert_eq!(
        seen[1].header("content-length"),
        None,
        "a GET carries no body"
    );
    assert_eq!(
        seen[1].header("accept-encoding"),
        None,
        "no compression is negotiated"
    );
}

#[test]
fn a_server_that_never_answers_times_out_within_the_read_timeout() {
    let origin = Origin::start(|_, stream| hold_until_client_leaves(stream));
    let read_timeout = Duration::from_millis(300);
    let transport = with_timeouts(read_timeout, DEFAULT_TIMEOUT);

    let started = Instant::now();
    let err = get(&transport, &origin.url("/hang")).unwrap_err();
    let elapsed = started.elapsed();

    assert_eq!(err, TransportError::Timeout(read_timeout));
    assert!(elapsed >= read_timeout, "gave up after {elapsed:?}");
    assert!(
        elapsed < read_timeout + Duration::from_secs(5),
        "gave up after {elapsed:?}"
    );
}

#[test]
fn the_global_timeout_bounds_a_body_that_trickles_forever() {
    // Headers arrive at once; the body never completes, so only the overall budget can end it.
    let origin = Origin::start(|_, stream| {
        use std::io::Write;
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{");
        hold_until_client_leaves(stream);
    });
    let global = Duration::from_millis(400);
    let transport = with_timeouts(Duration::from_secs(30), global);

    let started = Instant::now();
    let err = get(&transport, &origin.url("/slow")).unwrap_err();

    assert_eq!(err, TransportError::Timeout(global));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn the_callers_deadline_cuts_a_trickling_body_when_shorter_than_the_global_timeout() {
    let origin = Origin::start(|_, stream| {
        use std::io::Write;
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{");
        hold_until_client_leaves(stream);
    });
    let transport = with_timeouts(Duration::from_secs(30), Duration::from_secs(30));
    let left = Duration::from_millis(400);

    let started = Instant::now();
    let err = get_within(&transport, &origin.url("/slow"), left).unwrap_err();
    let elapsed = started.elapsed();

    assert_eq!(
        err,
        TransportError::Timeout(left),
        "names the budget that ran out"
    );
    assert!(elapsed >= left, "gave up after {elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(10),
        "gave up after {elapsed:?}"
    );
}

#[test]
fn a_caller_deadline_longer_than_the_global_timeout_does_not_extend_it() {
    let origin = Origin::start(|_, stream| hold_until_client_leaves(stream));
    let global = Duration::from_millis(300);
    let transport = with_timeouts(Duration::from_secs(30), global);

    let started = Instant::now();
    let err = get_within(&transport, &origin.url("/hang"), Duration::from_secs(60)).unwrap_err();

    assert_eq!(err, TransportError::Timeout(global));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_deadline_already_passed_is_a_timeout_without_connecting() {
    let origin = Origin::start(|_, stream| respond(stream, "200 OK", &[], b"{}"));
    let err = get_within(&UreqTransport::new(), &origin.url("/late"), Duration::ZERO).unwrap_err();
    assert_eq!(err, TransportError::Timeout(Duration::ZERO));
    assert!(err.is_retryable());
    assert_eq!(origin.connections(), 0);
}

#[test]
fn a_body_cut_short_is_an_io_error() {
    let origin = Origin::start(|_, stream| {
        use std::io::Write;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 120\r\n\r\n{\"access_token\":\"1000.");
        let _ = stream.shutdown(std::net::Shutdown::Both);
    });
    let err = get(&UreqTransport::new(), &origin.url("/cut")).unwrap_err();
    assert!(matches!(err, TransportError::Io(_)), "{err:?}");
}

#[test]
fn a_connection_reset_before_the_response_is_an_io_error() {
    // Closing a socket with unread input makes the kernel send RST instead of FIN.
    let origin = Origin::start_raw(|stream| {
        let mut first = [0u8; 1];
        let _ = stream.read_exact(&mut first);
    });
    let err = send(
        &UreqTransport::new(),
        Method::Post,
        &origin.url("/reset"),
        &[],
        &[b'x'; 4096],
    )
    .unwrap_err();
    assert!(matches!(err, TransportError::Io(_)), "{err:?}");
    assert_eq!(origin.connections(), 1);
}

#[test]
fn a_refused_connection_is_a_connect_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // closed again: nothing listens there now
    let err = get(&UreqTransport::new(), &format!("http://127.0.0.1:{port}/")).unwrap_err();
    assert!(matches!(err, TransportError::Connect(_)), "{err:?}");
}

#[test]
fn bodies_over_the_limit_are_too_large_and_bodies_at_the_limit_are_kept() {
    let origin = Origin::start(|req, stream| {
        let len = if req.line.contains("/big") {
            1025
        } else {
            1024
        };
        respond(stream, "200 OK", &[], &vec![b'a'; len]);
    });
    let transport = UreqTransport::builder().max_body(1024).build().unwrap();

    assert_eq!(
        get(&transport, &origin.url("/exact")).unwrap().body.len(),
        1024
    );
    assert_eq!(
        get(&transport, &origin.url("/big")).unwrap_err(),
        TransportError::TooLarge { limit: 1024 }
    );
}

#[test]
fn a_declared_length_over_the_limit_is_refused_before_the_body_is_read() {
    // The server declares 50 MiB and sends nothing: only the header can have refused it.
    let origin = Origin::start(|_, stream| {
        use std::io::Write;
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 52428800\r\n\r\n");
        hold_until_client_leaves(stream);
    });
    let transport = with_timeouts(Duration::from_secs(30), Duration::from_secs(30));

    let started = Instant::now();
    let err = get(&transport, &origin.url("/declared")).unwrap_err();

    assert_eq!(err, TransportError::TooLarge { limit: 1024 * 1024 });
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn the_default_body_limit_is_one_mebibyte() {
    let origin = Origin::start(|_, stream| {
        use std::io::Write;
        // Chunked, so the limit is hit while reading rather than from a declared length.
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        let chunk = vec![b'z'; 64 * 1024];
        for _ in 0..17 {
            let _ = stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes());
            let _ = stream.write_all(&chunk);
            let _ = stream.write_all(b"\r\n");
        }
        let _ = stream.write_all(b"0\r\n\r\n");
    });
    let err = get(&UreqTransport::new(), &origin.url("/huge")).unwrap_err();
    assert_eq!(err, TransportError::TooLarge { limit: 1024 * 1024 });
}

#[test]
fn a_malformed_response_is_an_io_error_that_does_not_quote_the_headers() {
    let origin = Origin::start(|_, stream| {
        use std::io::Write;
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nX-Token 1000.leaked-secret\r\nContent-Length: 2\r\n\r\n{}",
        );
    });
    let err = get(&UreqTransport::new(), &origin.url("/garbled")).unwrap_err();
    assert!(matches!(err, TransportError::Io(_)), "{err:?}");
    assert!(
        !format!("{err} {err:?}").contains("leaked-secret"),
        "{err:?}"
    );
}
