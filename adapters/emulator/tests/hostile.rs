//! The hostile answers a security test needs, and the fault queue on the new endpoints.
//!
//! Every hostile answer is bounded on the emulator's side: generated as it is sent, and ended when
//! the emulator stops, which these tests check by stopping it in the middle of one.

mod common;

use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use zoho_oauth_emulator::{
    DataCenter, Emulator, Fault, DEFAULT_USER_EMAIL, FOREIGN_API_DOMAIN, HUGE_BODY_BYTES,
    REDIRECT_TARGET_PATH,
};

/// Reads until the head has ended and at least `body_bytes` of the body are in; returns the head
/// (as text) and the body bytes received so far.
fn read_head(stream: &mut TcpStream, body_bytes: usize) -> (String, Vec<u8>) {
    let mut received = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            if received.len() >= end + 4 + body_bytes {
                let head = String::from_utf8_lossy(&received[..end]).into_owned();
                return (head, received[end + 4..].to_vec());
            }
        }
        let n = stream.read(&mut buffer).expect("the answer keeps coming");
        assert!(
            n > 0,
            "closed early: {}",
            String::from_utf8_lossy(&received)
        );
        received.extend_from_slice(&buffer[..n]);
    }
}

/// Reads and discards `count` bytes.
fn read_bytes(stream: &mut TcpStream, count: usize) {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut left = count;
    while left > 0 {
        let n = stream.read(&mut buffer).expect("the answer keeps coming");
        assert!(n > 0, "closed with {left} bytes to go");
        left = left.saturating_sub(n);
    }
}

/// Reads until the server closes the connection (or resets it), discarding what comes.
fn read_until_closed(stream: &mut TcpStream) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return,
            Err(e) => panic!("the connection neither closed nor reset: {e}"),
        }
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Stops the emulator and checks it did so promptly, whatever its connections were doing.
fn stop_promptly(emu: Emulator) {
    let stopping = Instant::now();
    emu.stop();
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "stop took {:?}",
        stopping.elapsed()
    );
}

#[test]
fn queued_faults_answer_device_and_client_credentials_requests_too() {
    let emu = start();
    let us = emu.base_url(DataCenter::Us).to_owned();
    emu.queue_fault(Fault::ServerError, 3);
    assert_eq!(device_code(&us, &[]).status, 500);
    assert_eq!(device_poll(&us, "1000.x").status, 500);
    assert_eq!(client_credentials(&us, &[]).status, 500);
    let counters = emu.counters();
    assert_eq!(counters.faults_injected, 3);
    assert_eq!(counters.device_code_requests, 1);
    assert_eq!(counters.device_token_requests, 1);
    assert_eq!(counters.client_credentials_requests, 1);
    assert_eq!(counters.mints, 0);
    assert!(
        counters.device_polls.is_empty(),
        "faulted polls are not answers"
    );
}

#[test]
fn a_faulted_poll_is_not_processed_and_does_not_count_for_slow_down() {
    let emu = start();
    let us = emu.base_url(DataCenter::Us).to_owned();
    let json = device_code(&us, &[]).json();
    let device = text(&json, "device_code");
    assert_eq!(device_poll(&us, &device).error(), "authorization_pending");
    emu.approve_device(&text(&json, "user_code"), DEFAULT_USER_EMAIL)
        .unwrap();
    emu.advance_clock(Duration::from_secs(30));
    emu.queue_fault(Fault::Throttle, 1);
    assert_eq!(device_poll(&us, &device).error(), "Access Denied");
    assert!(device_poll(&us, &device).json()["access_token"].is_string());
}

#[test]
fn a_huge_body_is_fifty_megabytes_sent_in_full() {
    let emu = start();
    emu.queue_fault(Fault::HugeBody, 1);
    let mut stream = raw_token_request_stream(&emu);
    let (head, body) = read_head(&mut stream, 17);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(
        header(&head, "content-length"),
        Some(HUGE_BODY_BYTES.to_string().as_str())
    );
    assert!(body.starts_with(br#"{"access_token":""#));
    let total = usize::try_from(HUGE_BODY_BYTES).unwrap();
    read_bytes(&mut stream, total - body.len());
    assert!(tokens(&emu)["access_token"].is_string(), "still serving");
}

#[test]
fn an_endless_chunked_body_keeps_coming_until_the_emulator_stops() {
    let emu = start();
    emu.queue_fault(Fault::EndlessChunkedBody, 1);
    let mut stream = raw_token_request_stream(&emu);
    let (head, _) = read_head(&mut stream, 1);
    assert_eq!(
        header(&head, "transfer-encoding"),
        Some("chunked"),
        "{head}"
    );
    assert_eq!(header(&head, "content-length"), None);
    read_bytes(&mut stream, 8 * 1024 * 1024);
    stop_promptly(emu);
    read_until_closed(&mut stream);
}

#[test]
fn a_dripping_body_sends_one_byte_then_waits_about_a_second() {
    let emu = start();
    emu.queue_fault(Fault::DripBody, 1);
    let mut stream = raw_token_request_stream(&emu);
    let (head, body) = read_head(&mut stream, 1);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let length: usize = header(&head, "content-length").unwrap().parse().unwrap();
    assert!(length > 100, "a whole token body, announced: {length}");
    assert_eq!(body, b"{", "one byte so far");
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut next = [0u8; 16];
    let waited = stream.read(&mut next).unwrap_err();
    assert!(
        matches!(waited.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{waited}"
    );
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stop_promptly(emu);
    read_until_closed(&mut stream);
}

#[test]
fn endless_headers_never_reach_a_blank_line() {
    let emu = start();
    emu.queue_fault(Fault::EndlessHeaders, 1);
    let mut stream = raw_token_request_stream(&emu);
    let mut received = Vec::with_capacity(1 << 20);
    let mut buffer = [0u8; 8192];
    while received.len() < 1 << 20 {
        let n = stream.read(&mut buffer).unwrap();
        assert!(n > 0, "closed early");
        received.extend_from_slice(&buffer[..n]);
    }
    assert!(received.starts_with(b"HTTP/1.1 200 OK\r\nX-Emulator-Filler: "));
    assert!(
        !received.windows(4).any(|w| w == b"\r\n\r\n"),
        "the head never ends"
    );
    stop_promptly(emu);
    read_until_closed(&mut stream);
}

#[test]
fn an_http_client_with_a_header_limit_gives_up_on_endless_headers() {
    let emu = start();
    emu.queue_fault(Fault::EndlessHeaders, 1);
    let result = agent()
        .post(&token_url(&emu))
        .send_form([("grant_type", "refresh_token")]);
    assert!(result.is_err(), "{result:?}");
    assert!(tokens(&emu)["access_token"].is_string(), "still serving");
}

#[test]
fn an_invalid_utf8_body_is_sent_as_json() {
    let emu = start();
    emu.queue_fault(Fault::InvalidUtf8, 1);
    let mut response = agent()
        .post(&token_url(&emu))
        .send_form([("grant_type", "refresh_token")])
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body = response.body_mut().read_to_vec().unwrap();
    assert!(std::str::from_utf8(&body).is_err());
    assert!(body.starts_with(br#"{"access_token":"1000."#));
}

#[test]
fn a_redirect_points_to_a_trap_that_counts_the_clients_that_follow() {
    let emu = start();
    emu.queue_fault(Fault::Redirect, 2);
    let reply = refresh(&emu, "anything");
    assert_eq!(reply.status, 302);
    assert_eq!(
        reply.location.as_deref(),
        Some(format!("{}{REDIRECT_TARGET_PATH}", emu.base_url(DataCenter::Us)).as_str())
    );
    assert_eq!(
        emu.counters().redirects_followed,
        0,
        "this client did not follow"
    );

    let follower: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut followed = follower
        .post(&token_url(&emu))
        .send_form([("grant_type", "refresh_token")])
        .unwrap();
    let body = followed.body_mut().read_to_string().unwrap();
    assert!(
        body.contains("access_token"),
        "following looks like success: {body}"
    );
    assert_eq!(emu.counters().redirects_followed, 1);
}

#[test]
fn tokens_with_crlf_or_a_space_come_in_well_formed_json() {
    let emu = start();
    emu.queue_fault(Fault::CrlfInToken, 1);
    emu.queue_fault(Fault::SpaceInToken, 1);
    let crlf = refresh(&emu, "x").json();
    let access = text(&crlf, "access_token");
    assert!(access.contains("\r\nX-Injected: 1"), "{access:?}");
    assert_eq!(
        crlf["api_domain"],
        emu.base_url(DataCenter::Us),
        "only the token is wrong"
    );
    let spaced = text(&refresh(&emu, "x").json(), "access_token");
    assert!(
        spaced.contains(' ') && spaced.starts_with("1000."),
        "{spaced:?}"
    );
    assert_eq!(emu.counters().mints, 0, "nothing was minted");
}

#[test]
fn a_foreign_api_domain_is_not_a_zoho_domain() {
    let emu = start();
    emu.queue_fault(Fault::ForeignApiDomain, 1);
    let json = refresh(&emu, "x").json();
    assert_eq!(json["api_domain"], FOREIGN_API_DOMAIN);
    assert!(zoho_shaped(&text(&json, "access_token")));
}

#[test]
fn hostile_faults_travel_by_name_in_the_control_api() {
    let emu = start();
    let url = format!("{}/_emulator/faults", emu.base_url(DataCenter::Us));
    for name in [
        "huge_body",
        "endless_chunked_body",
        "drip_body",
        "endless_headers",
        "invalid_utf8",
        "redirect",
        "crlf_in_token",
        "space_in_token",
        "foreign_api_domain",
    ] {
        let reply = control("POST", &url, &format!(r#"{{"fault":"{name}"}}"#));
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
    }
    assert_eq!(emu.pending_faults(), 9);
}
