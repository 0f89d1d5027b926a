//! Zero heap allocations across exchange → refresh → parse → encode → decode, and across every
//! other parser and renderer (revoke, user info, API errors, client credentials, the device flow,
//! PKCE), counted by a global allocator. One test in its own binary, so that nothing else
//! allocates on its thread.

// A counting `GlobalAlloc` needs `unsafe impl`; it lives in this test binary only, outside the
// `#![forbid(unsafe_code)]` crate root, and just forwards to `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use core::time::Duration;
use zoho_oauth_core::authorize::{self, AccessType, AuthorizeParams, Prompt};
use zoho_oauth_core::device::{self, DeviceConfig, DeviceFlow, DevicePoll, PollAnswer};
use zoho_oauth_core::pkce::CodeVerifier;
use zoho_oauth_core::request;
use zoho_oauth_core::response::{
    classify_api, parse_revoke, parse_token, parse_user_info, ApiVerdict, Flow, Revocation, Verdict,
};
use zoho_oauth_core::{
    Config, Credentials, DataCenter, Event, Instant, Machine, Origin, Poll, RequestKind, TokenSet,
};

thread_local! {
    /// Allocations made by this thread (const-initialized: reading it never allocates).
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

const EXCHANGE: &[u8] = br#"{"access_token":"1000.8c6a1f0e2b7d4c9aa0f3e5d7b9c1a2e4.5f6d7c8b9a0e1f2d3c4b5a6978e0f1d2","refresh_token":"1000.77b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9.8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b","scope":"ZohoCRM.modules.ALL","api_domain":"https:\/\/www.zohoapis.com","token_type":"Bearer","expires_in":3600}"#;
const REFRESH: &[u8] = br#"{"access_token":"1000.3e5a7c9b1d3f5a7c9e1b3d5f7a9c1e3b.2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":3600}"#;
const THROTTLE: &[u8] =
    r#"{"error":"拒绝访问","error_description":"您连续发出了太多请求。","status":"failure"}"#
        .as_bytes();

#[test]
fn every_parser_renderer_and_machine_of_the_core_never_allocates() {
    // Sanity: the counter does see allocations.
    let before = allocations();
    black_box(vec![1u8; 64]);
    assert_eq!(
        allocations(),
        before + 1,
        "the counting allocator is not installed"
    );

    let before = allocations();

    let credentials = Credentials::new(
        "1000.Q8WJ2V5ZK1L0",
        "5e3b9c0f2a",
        Origin::Zoho(DataCenter::Us),
    )
    .unwrap();
    let mut machine = Machine::new(credentials, Config::default());
    let mut buf = [0u8; 2048];
    let mut now = Instant::from_millis(1_700_000_000_000);

    machine.set_grant("1000.6f1d0c9e.a1b2c3d4", None).unwrap();
    assert!(machine.poll(now) == Poll::Send(RequestKind::Exchange));
    black_box(machine.write_request(&mut buf).unwrap());
    assert!(machine.handle_response(now, 200, EXCHANGE, 1) == Ok(Event::Exchanged));

    now = now.saturating_add(Duration::from_secs(3540));
    assert!(machine.poll(now) == Poll::Send(RequestKind::Refresh));
    black_box(machine.write_request(&mut buf).unwrap());
    // A throttle first (error path), then the success after the wait.
    assert!(machine.handle_response(now, 200, THROTTLE, 1) == Err(Verdict::Throttled));
    now = now.saturating_add(Duration::from_secs(600));
    assert!(machine.poll(now) == Poll::Send(RequestKind::Refresh));
    black_box(machine.write_request(&mut buf).unwrap());
    assert!(machine.handle_response(now, 200, REFRESH, 1) == Ok(Event::Refreshed));
    assert!(machine.access_token(now).is_some());

    let mut stored = [0u8; TokenSet::MAX_ENCODED_LEN];
    let bytes = machine.token().unwrap().encode(&mut stored).unwrap();
    let decoded = TokenSet::decode(bytes).unwrap();
    assert!(&decoded == machine.token().unwrap());
    assert!(parse_token(Flow::Exchange, 200, black_box(EXCHANGE)).is_ok());

    // The other answers, through the same scanner.
    assert!(parse_revoke(200, black_box(br#"{"status":"success"}"#)) == Ok(Revocation::Revoked));
    assert!(
        parse_revoke(400, black_box(br#"{"error":"invalid_token"}"#))
            == Ok(Revocation::AlreadyGone)
    );
    let user = br#"{"First_Name":"Ada","Email":"ada@example.com","Last_Name":"Lovelace","Display_Name":"Ada \u00e9","ZUID":748291045}"#;
    assert!(parse_user_info(200, black_box(user)).is_ok_and(|u| u.zuid == 748291045));
    assert!(
        parse_user_info(401, br#"{"response":"error","cause":"INVALID_OAUTHSCOPE"}"#)
            == Err(Verdict::MissingScope)
    );
    let api = br#"{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}"#;
    assert!(classify_api(401, black_box(api)) == ApiVerdict::InvalidToken);
    assert!(parse_token(Flow::ClientCredentials, 200, black_box(REFRESH)).is_ok());
    assert!(
        parse_token(
            Flow::ClientCredentials,
            200,
            br#"{"error":"missing_org_info"}"#
        ) == Err(Verdict::MissingOrgInfo)
    );
    assert!(matches!(
        parse_token(
            Flow::Refresh,
            200,
            br#"{"access_token":"1000.a","expires_in":0}"#
        ),
        Err(Verdict::LifetimeOutOfRange { .. })
    ));

    // Client credentials and PKCE.
    let us = Origin::Zoho(DataCenter::Us);
    black_box(
        request::client_credentials(
            &mut buf,
            &us,
            "1000.ID",
            "s3cret",
            &["ZohoCRM.modules.ALL"],
            Some("ZohoCRM.1"),
        )
        .unwrap(),
    );
    let verifier = CodeVerifier::from_random(black_box(&[7u8; 32])).unwrap();
    let challenge = verifier.challenge();
    let params = AuthorizeParams {
        client_id: "1000.ID",
        redirect_uri: "http://127.0.0.1:8765/callback",
        scopes: &["ZohoCRM.modules.ALL"],
        access_type: AccessType::Offline,
        prompt: Some(Prompt::Consent),
        state: "k3y",
        code_challenge: Some(&challenge),
    };
    black_box(authorize::authorization_url(&mut buf, &us, &params).unwrap());
    black_box(
        request::exchange(
            &mut buf,
            &us,
            "1000.ID",
            "s3cret",
            "1000.c",
            None,
            Some(verifier.expose()),
        )
        .unwrap(),
    );

    // The device flow, from the initiation to the tokens through another data centre.
    black_box(
        device::initiation_request(
            &mut buf,
            &us,
            "1000.ID",
            &["ZohoCRM.modules.ALL"],
            AccessType::Offline,
            Some(Prompt::Consent),
        )
        .unwrap(),
    );
    let initiation = br#"{"user_code":"QW7K2PLM","device_code":"1004.71c4.3a14","verification_url":"https:\/\/accounts.zoho.com\/oauth\/v3\/device","interval":30000,"expires_in":300000}"#;
    let authorization = device::parse_initiation(200, black_box(initiation)).unwrap();
    let mut flow = DeviceFlow::new(now, us, &authorization, DeviceConfig::default());
    for (body, expected_other) in [
        (&br#"{"error":"authorization_pending"}"#[..], false),
        (br#"{"error":"other_dc","user_location":"eu"}"#, true),
    ] {
        now = now.saturating_add(Duration::from_secs(30));
        assert!(flow.poll(now) == DevicePoll::Send);
        black_box(flow.write_request(&mut buf, "1000.ID", "s3cret").unwrap());
        match flow.handle_response(now, 200, black_box(body)) {
            Ok(PollAnswer::OtherDataCenter(dc)) if expected_other => {
                flow.set_accounts(Origin::Zoho(dc))
            }
            Ok(PollAnswer::Pending) if !expected_other => {}
            _ => panic!("unexpected poll answer"),
        }
    }
    now = now.saturating_add(Duration::from_secs(30));
    assert!(flow.poll(now) == DevicePoll::Send);
    assert!(matches!(
        flow.handle_response(now, 200, black_box(EXCHANGE)),
        Ok(PollAnswer::Granted(_))
    ));

    let made = allocations() - before;
    assert_eq!(made, 0, "{made} heap allocations on the no-alloc path");
}
