#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Criterion benchmarks of the core's hot operations: parsing a token response, rendering a
//! refresh request, a full refresh cycle of the machine, and the TokenSet encoding; and of the
//! other answers read by the same scanner (revoke, user info, API errors, device-flow polls) and
//! the PKCE challenge.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use zoho_oauth_core::device::parse_poll;
use zoho_oauth_core::pkce::CodeVerifier;
use zoho_oauth_core::response::{classify_api, parse_revoke, parse_token, parse_user_info, Flow};
use zoho_oauth_core::{
    request, Config, Credentials, DataCenter, Instant, Machine, Origin, Poll, TokenSet,
};

const EXCHANGE_BODY: &[u8] = br#"{"access_token":"1000.9f8e7d6c5b4a39281706f5e4d3c2b1a0.0a1b2c3d4e5f60718293a4b5c6d7e8f9","refresh_token":"1000.1a2b3c4d5e6f708192a3b4c5d6e7f809.9f8e7d6c5b4a39281706f5e4d3c2b1a0","scope":"ZohoCRM.modules.ALL aaaserver.profile.READ","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":3600}"#;
const REFRESH_BODY: &[u8] = br#"{"access_token":"1000.0a1b2c3d4e5f60718293a4b5c6d7e8f9.9f8e7d6c5b4a39281706f5e4d3c2b1a0","scope":"ZohoCRM.modules.ALL aaaserver.profile.READ","api_domain":"https:\/\/www.zohoapis.com","token_type":"Bearer","expires_in":3600}"#;
const USER_INFO_BODY: &[u8] = br#"{"First_Name":"Ada","Email":"ada.lovelace@example.com","Last_Name":"Lovelace","Display_Name":"Ada Lovelace","ZUID":748291045}"#;
const API_INVALID_TOKEN_BODY: &[u8] =
    br#"{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}"#;
const CLIENT_ID: &str = "1000.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123";
const CLIENT_SECRET: &str = "0123456789abcdef0123456789abcdef0123456789";

fn machine_with_token(now: Instant) -> Machine {
    let creds = Credentials::new(CLIENT_ID, CLIENT_SECRET, Origin::Zoho(DataCenter::Us)).unwrap();
    let mut machine = Machine::new(creds, Config::default());
    machine.set_grant("1000.grantcode.abcdef", None).unwrap();
    assert_eq!(
        machine.poll(now),
        Poll::Send(zoho_oauth_core::RequestKind::Exchange)
    );
    let _exchanged = machine.handle_response(now, 200, EXCHANGE_BODY, 7).unwrap();
    machine
}

/// The core benchmark group.
pub fn benches(c: &mut Criterion) {
    c.bench_function("parse_token/exchange (success body, 330 B)", |b| {
        b.iter(|| parse_token(Flow::Exchange, 200, black_box(EXCHANGE_BODY)))
    });
    c.bench_function("parse_token/refresh (with \\/ escapes)", |b| {
        b.iter(|| parse_token(Flow::Refresh, 200, black_box(REFRESH_BODY)))
    });
    c.bench_function("parse_revoke (success)", |b| {
        b.iter(|| parse_revoke(200, black_box(br#"{"status":"success"}"#)))
    });
    c.bench_function("parse_user_info (success)", |b| {
        b.iter(|| parse_user_info(200, black_box(USER_INFO_BODY)))
    });
    c.bench_function("classify_api (401 INVALID_TOKEN)", |b| {
        b.iter(|| classify_api(401, black_box(API_INVALID_TOKEN_BODY)))
    });
    c.bench_function("device::parse_poll (authorization_pending)", |b| {
        b.iter(|| parse_poll(400, black_box(br#"{"error":"authorization_pending"}"#)))
    });
    c.bench_function("device::parse_poll (other_dc)", |b| {
        b.iter(|| {
            parse_poll(
                200,
                black_box(br#"{"error":"other_dc","user_location":"eu"}"#),
            )
        })
    });
    c.bench_function("pkce verifier + S256 challenge (32 bytes)", |b| {
        b.iter(|| {
            CodeVerifier::from_random(black_box(&[0x5au8; 32]))
                .map(|v| v.challenge().as_str().len())
        })
    });
    c.bench_function("request::refresh (render into 1 KiB)", |b| {
        let mut buf = [0u8; 1024];
        let origin = Origin::Zoho(DataCenter::Us);
        b.iter(|| {
            request::refresh(
                &mut buf,
                &origin,
                CLIENT_ID,
                CLIENT_SECRET,
                black_box("1000.1a2b3c4d5e6f708192a3b4c5d6e7f809.9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
            )
            .map(|r| r.body.len())
        })
    });
    c.bench_function("machine/access_token (fresh)", |b| {
        let now = Instant::from_millis(1_700_000_000_000);
        let machine = machine_with_token(now);
        b.iter(|| {
            black_box(&machine)
                .access_token(black_box(now))
                .map(str::len)
        })
    });
    c.bench_function("machine/refresh cycle (poll, render, parse, update)", |b| {
        let start = Instant::from_millis(1_700_000_000_000);
        let mut machine = machine_with_token(start);
        let mut buf = [0u8; 2048];
        // Each iteration is one refresh; restore a clean budget so the mint limit never bites.
        let fresh = machine.token().unwrap().clone();
        let mut now = start;
        b.iter(|| {
            let mut t = fresh.clone();
            t.mints = Default::default();
            machine.restore(t);
            machine.force_refresh();
            now = now.saturating_add(Duration::from_millis(1));
            let _ = machine.poll(now);
            let len = machine
                .write_request(&mut buf)
                .map(|r| r.body.len())
                .unwrap_or(0);
            let _ = machine.handle_response(now, 200, REFRESH_BODY, 11);
            len
        })
    });
    c.bench_function("TokenSet encode + decode", |b| {
        let now = Instant::from_millis(1_700_000_000_000);
        let token: TokenSet = machine_with_token(now).token().unwrap().clone();
        let mut buf = [0u8; TokenSet::MAX_ENCODED_LEN];
        b.iter(|| {
            let bytes = token.encode(&mut buf).unwrap();
            TokenSet::decode(black_box(bytes)).map(|t| t.scope.len())
        })
    });
}

criterion_group!(
    name = core_benches;
    config = Criterion::default();
    targets = benches
);
criterion_main!(core_benches);
