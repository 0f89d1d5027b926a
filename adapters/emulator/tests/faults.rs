//! Queued faults: the next token requests fail the way proxies and outages make them fail.

mod common;

use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};

use common::*;
use zoho_oauth_emulator::{Config, DataCenter, Emulator, Fault, Limits, SelfClientCode};

/// What a raw HTTP/1.1 exchange produced: the bytes received, and the error that ended it, if any.
struct Raw {
    received: Vec<u8>,
    error: Option<std::io::Error>,
}

impl Raw {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.received).into_owned()
    }
}

/// Sends a token request over a bare socket and reads until the server closes or fails.
fn raw_token_request(emu: &Emulator) -> Raw {
    let mut stream = raw_token_request_stream(emu);
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => {
                return Raw {
                    received,
                    error: None,
                }
            }
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(e) => {
                return Raw {
                    received,
                    error: Some(e),
                }
            }
        }
    }
}

/// Polls `condition` until it holds, failing the test after ten seconds.
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_server_error_fault_answers_500_with_an_html_page() {
    let emu = start();
    emu.queue_fault(Fault::ServerError, 1);
    let reply = refresh(&emu, "anything");
    assert_eq!(reply.status, 500);
    assert!(
        reply.content_type.starts_with("text/html"),
        "{}",
        reply.content_type
    );
    assert!(reply.body.contains("<html>"));
}

#[test]
fn an_html_ok_fault_answers_200_with_an_html_page() {
    let emu = start();
    emu.queue_fault(Fault::HtmlOk, 1);
    let reply = refresh(&emu, "anything");
    assert_eq!(reply.status, 200);
    assert!(reply.content_type.starts_with("text/html"));
    assert!(serde_json::from_str::<serde_json::Value>(&reply.body).is_err());
}

#[test]
fn a_throttle_fault_answers_the_throttle_body_with_the_configured_status() {
    let emu = Emulator::start(Config {
        limits: Limits {
            throttle_status: 400,
            ..Limits::default()
        },
        ..frozen()
    })
    .unwrap();
    let rt = text(&tokens(&emu), "refresh_token");
    emu.queue_fault(Fault::Throttle, 1);
    let reply = refresh(&emu, &rt);
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "Access Denied");
    assert_eq!(reply.json()["status"], "failure");
    assert_eq!(emu.counters().throttled, 1);
}

#[test]
fn faults_apply_to_the_next_n_token_requests_only() {
    let emu = start();
    emu.queue_fault(Fault::ServerError, 2);
    emu.queue_fault(Fault::HtmlOk, 1);
    assert_eq!(emu.pending_faults(), 3);
    assert_eq!(refresh(&emu, "x").status, 500);
    assert_eq!(refresh(&emu, "x").status, 500);
    assert!(refresh(&emu, "x").content_type.starts_with("text/html"));
    assert_eq!(refresh(&emu, "x").error(), "invalid_code");
    let counters = emu.counters();
    assert_eq!(counters.faults_injected, 3);
    assert_eq!(
        counters.refresh_token_requests, 4,
        "faulted requests are counted too"
    );
}

#[test]
fn cleared_faults_are_not_applied() {
    let emu = start();
    emu.queue_fault(Fault::ServerError, 5);
    emu.clear_faults();
    assert_eq!(refresh(&emu, "x").status, 200);
}

#[test]
fn a_faulted_exchange_does_not_consume_the_code() {
    let emu = start();
    let code = emu
        .mint_self_client_code(&SelfClientCode::default())
        .unwrap();
    emu.queue_fault(Fault::ServerError, 1);
    assert_eq!(exchange_at(emu.base_url(DataCenter::Us), &code).status, 500);
    assert!(exchange_at(emu.base_url(DataCenter::Us), &code).json()["refresh_token"].is_string());
    assert_eq!(emu.counters().mints, 1);
}

#[test]
fn a_truncated_body_fault_sends_less_than_its_content_length() {
    let emu = start();
    emu.queue_fault(Fault::TruncatedBody, 1);
    let raw = raw_token_request(&emu);
    let text = raw.text();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .expect("a content-length")
        .trim()
        .parse()
        .unwrap();
    assert!(!body.is_empty(), "part of the body arrives");
    assert!(body.len() < length, "{} of {length} bytes", body.len());
    assert!(body.starts_with("{\"access_token\":\"1000."), "{body}");
}

#[test]
fn a_truncated_body_is_an_error_for_an_http_client() {
    let emu = start();
    emu.queue_fault(Fault::TruncatedBody, 1);
    let mut response = agent()
        .post(&token_url(&emu))
        .send_form([("grant_type", "refresh_token")])
        .unwrap();
    assert!(response.body_mut().read_to_string().is_err());
}

#[test]
fn a_close_fault_closes_the_connection_without_a_byte() {
    let emu = start();
    emu.queue_fault(Fault::CloseWithoutResponse, 1);
    let raw = raw_token_request(&emu);
    assert!(raw.received.is_empty(), "{}", raw.text());
    assert!(
        raw.error.is_none(),
        "a clean close, not a reset: {:?}",
        raw.error
    );
}

#[test]
fn a_reset_fault_resets_the_connection_without_a_byte() {
    let emu = start();
    emu.queue_fault(Fault::ConnectionReset, 1);
    let raw = raw_token_request(&emu);
    assert!(raw.received.is_empty(), "{}", raw.text());
    let error = raw.error.expect("a reset");
    assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{error}");
}

#[test]
fn the_server_keeps_serving_after_transport_faults() {
    let emu = start();
    emu.queue_fault(Fault::ConnectionReset, 1);
    emu.queue_fault(Fault::CloseWithoutResponse, 1);
    emu.queue_fault(Fault::TruncatedBody, 1);
    for _ in 0..3 {
        raw_token_request(&emu);
    }
    assert!(tokens(&emu)["access_token"].is_string());
}

#[test]
fn a_hang_outlasts_the_client_timeout_and_the_next_request_is_served() {
    let emu = start();
    emu.queue_fault(Fault::Hang, 1);
    let impatient: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_millis(300)))
        .build()
        .into();
    let result = impatient
        .post(&token_url(&emu))
        .send_form([("grant_type", "refresh_token")]);
    assert!(matches!(result, Err(ureq::Error::Timeout(_))), "{result:?}");
    assert!(tokens(&emu)["access_token"].is_string());
}

#[test]
fn stopping_the_emulator_ends_a_hung_request() {
    let emu = start();
    emu.queue_fault(Fault::Hang, 1);
    let url = token_url(&emu);
    let client = std::thread::spawn(move || {
        let patient: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        patient
            .post(&url)
            .send_form([("grant_type", "refresh_token")])
    });
    wait_until("the request hangs in the emulator", || {
        emu.counters().in_flight == 1
    });
    let stopping = Instant::now();
    emu.stop();
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "stop does not wait for the hang"
    );
    let result = client.join().unwrap();
    assert!(
        result.is_err(),
        "the hung request ends without an answer: {result:?}"
    );
}
