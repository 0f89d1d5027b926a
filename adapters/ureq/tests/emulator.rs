//! `UreqTransport` against the Zoho emulator: real token requests rendered by the core, and the
//! faults of proxies and outages (HTML 500, truncated body, reset, hang) turned into typed results.

use std::time::{Duration, Instant};

use zoho_oauth::core::request;
use zoho_oauth::core::response::{parse_token, Flow, Verdict};
use zoho_oauth::core::Origin;
use zoho_oauth::{HttpRequest, HttpResponse, Transport, TransportError};
use zoho_oauth_emulator::{
    Config, DataCenter, Emulator, Fault, SelfClientCode, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
};
use zoho_oauth_ureq::UreqTransport;

/// Renders the exchange of `code` with the core and sends it with `transport`.
fn exchange(
    emu: &Emulator,
    transport: &UreqTransport,
    code: &str,
) -> Result<HttpResponse, TransportError> {
    let accounts = Origin::custom(emu.base_url(DataCenter::Us)).unwrap();
    let mut buf = [0u8; 2048];
    let req = request::exchange(
        &mut buf,
        &accounts,
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        code,
        None,
        None,
    )
    .unwrap();
    let content_type = req.content_type.unwrap_or_default();
    let headers = [("Content-Type", content_type)];
    transport.send(&HttpRequest {
        method: req.method,
        url: req.url,
        headers: &headers,
        body: req.body,
        timeout: None,
    })
}

fn emulator() -> Emulator {
    Emulator::start(Config::default()).unwrap()
}

#[test]
fn a_self_client_code_is_exchanged_for_tokens() {
    let emu = emulator();
    let code = emu
        .mint_self_client_code(&SelfClientCode::default())
        .unwrap();

    let response = exchange(&emu, &UreqTransport::new(), &code).unwrap();

    assert_eq!(response.status, 200);
    let grant = parse_token(Flow::Exchange, response.status, &response.body).unwrap();
    assert!(grant.refresh_token.is_some());
    assert_eq!(emu.counters().authorization_code_requests, 1);
}

#[test]
fn zoho_errors_in_a_200_body_are_returned_as_responses() {
    let emu = emulator();
    let response = exchange(&emu, &UreqTransport::new(), "1000.notarealcode").unwrap();
    assert_eq!(response.status, 200);
    let verdict = parse_token(Flow::Exchange, response.status, &response.body).unwrap_err();
    assert!(verdict.needs_reauthorization(), "{verdict:?}");
}

#[test]
fn an_html_500_is_returned_as_a_response_for_the_core_to_judge() {
    let emu = emulator();
    emu.queue_fault(Fault::ServerError, 1);

    let response = exchange(&emu, &UreqTransport::new(), "1000.any").unwrap();

    assert_eq!(response.status, 500);
    assert!(String::from_utf8_lossy(&response.body).contains("<html"));
    let verdict = parse_token(Flow::Exchange, response.status, &response.body).unwrap_err();
    assert!(matches!(verdict, Verdict::Retryable(_)), "{verdict:?}");
}

#[test]
fn a_truncated_body_is_an_io_error() {
    let emu = emulator();
    emu.queue_fault(Fault::TruncatedBody, 1);
    let err = exchange(&emu, &UreqTransport::new(), "1000.any").unwrap_err();
    assert!(matches!(err, TransportError::Io(_)), "{err:?}");
    assert_eq!(emu.counters().faults_injected, 1);
}

#[test]
fn a_reset_or_closed_connection_is_an_io_error() {
    let emu = emulator();
    for fault in [Fault::ConnectionReset, Fault::CloseWithoutResponse] {
        emu.queue_fault(fault, 1);
        let err = exchange(&emu, &UreqTransport::new(), "1000.any").unwrap_err();
        assert!(matches!(err, TransportError::Io(_)), "{fault:?}: {err:?}");
    }
    assert_eq!(emu.counters().faults_injected, 2);
}

#[test]
fn a_hung_token_endpoint_times_out_within_the_read_timeout() {
    let emu = emulator();
    emu.queue_fault(Fault::Hang, 1);
    let read_timeout = Duration::from_millis(400);
    let transport = UreqTransport::builder()
        .read_timeout(read_timeout)
        .build()
        .unwrap();

    let started = Instant::now();
    let err = exchange(&emu, &transport, "1000.any").unwrap_err();
    let elapsed = started.elapsed();

    assert_eq!(err, TransportError::Timeout(read_timeout));
    assert!(
        elapsed >= read_timeout && elapsed < read_timeout + Duration::from_secs(5),
        "{elapsed:?}"
    );
    // The same transport works again once the fault is spent.
    let code = emu
        .mint_self_client_code(&SelfClientCode::default())
        .unwrap();
    assert_eq!(exchange(&emu, &transport, &code).unwrap().status, 200);
}
