//! The bodies of the fuzz targets, shared by the cargo-fuzz binaries (`fuzz_targets/*.rs`) and
//! the stable replay test `core/tests/fuzz_corpus_replay.rs`, which include this file by path.
//!
//! Each driver calls public functions of `zoho-oauth-core` and panics only when an invariant
//! fails; any input that is merely invalid must be refused with an error.
#![allow(dead_code)] // each fuzz binary uses one driver

use core::time::Duration;

use zoho_oauth_core::authorize;
use zoho_oauth_core::form;
use zoho_oauth_core::machine::WaitReason;
use zoho_oauth_core::response::{self, Flow};
use zoho_oauth_core::{Config, Credentials, DataCenter, Instant, Machine, Origin, Poll, TokenSet};

/// The first two bytes are the HTTP status (big-endian), the rest the body; both flows.
pub fn parse_token(data: &[u8]) {
    let (status, body) = match data {
        [hi, lo, body @ ..] => (u16::from_be_bytes([*hi, *lo]), body),
        _ => (200, data),
    };
    for flow in [Flow::Exchange, Flow::Refresh] {
        if let Ok(grant) = response::parse_token(flow, status, body) {
            assert!(
                !grant.access_token.is_empty(),
                "a grant without an access token"
            );
        }
    }
}

/// The input is the redirect; the expected state is `abc`; a Zoho and a custom configuration.
pub fn parse_redirect(data: &[u8]) {
    let Ok(query) = core::str::from_utf8(data) else {
        return;
    };
    let us = Origin::Zoho(DataCenter::Us);
    let custom = Origin::custom("http://127.0.0.1:40123").expect("valid origin");
    if let Ok(cb) = authorize::parse_redirect(query, "abc", &us) {
        assert!(
            matches!(cb.accounts, Origin::Zoho(_)),
            "a Zoho configuration left Zoho"
        );
        assert!(!cb.code.is_empty());
    }
    if let Ok(cb) = authorize::parse_redirect(query, "abc", &custom) {
        assert_eq!(cb.accounts, custom, "a custom configuration went elsewhere");
    }
}

/// Decode the input as one component and as pairs; whatever decodes re-encodes and decodes back.
pub fn form_decode(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let mut out = vec![0u8; text.len()];
    let mut again = vec![0u8; text.len() * 3 + 1];
    let mut back = vec![0u8; text.len() + 1];
    for piece in core::iter::once(text).chain(form::pairs(text).flat_map(|(k, v)| [k, v])) {
        let Ok(decoded) = form::decode_into(piece, &mut out) else {
            continue;
        };
        assert!(decoded.len() <= piece.len());
        let n = form::encode_into(decoded, &mut again).expect("3 bytes per byte suffice");
        assert_eq!(n, form::encoded_len(decoded));
        let reencoded = core::str::from_utf8(&again[..n]).expect("encoding is ASCII");
        assert_eq!(form::decode_into(reencoded, &mut back), Ok(decoded));
    }
}

/// Whatever decodes as a `TokenSet` encodes to bytes that decode to the same set and encode
/// identically.
pub fn token_decode(data: &[u8]) {
    let Ok(token) = TokenSet::decode(data) else {
        return;
    };
    let mut first = vec![0u8; TokenSet::MAX_ENCODED_LEN];
    let first = token.encode(&mut first).expect("MAX_ENCODED_LEN suffices");
    let again = TokenSet::decode(first).expect("an encoding decodes");
    assert_eq!(again, token);
    let mut second = vec![0u8; TokenSet::MAX_ENCODED_LEN];
    assert_eq!(again.encode(&mut second).expect("fits"), first);
}

/// Zoho-shaped responses the machine script can feed back.
const RESPONSES: &[(u16, &[u8])] = &[
    (200, br#"{"access_token":"1000.a1b2c3d4e5f60718293a4b5c6d7e8f90.0a1b2c3d4e5f60718293a4b5c6d7e8f9","refresh_token":"1000.f9e8d7c6b5a4938271605f4e3d2c1b0a.9f8e7d6c5b4a3928170615f4e3d2c1b0","scope":"ZohoCRM.modules.ALL","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":3600}"#),
    (200, br#"{"access_token":"1000.0f1e2d3c4b5a69788796a5b4c3d2e1f0.1f2e3d4c5b6a79889706b5c4d3e2f1a0","api_domain":"https:\/\/www.zohoapis.com","token_type":"Bearer","expires_in":3600}"#),
    (200, br#"{"access_token":"1000.11112222333344445555666677778888.99990000aaaabbbbccccddddeeeeffff","expires_in_sec":3600,"expires_in":3600000,"token_type":"Bearer"}"#),
    (200, br#"{"error":"invalid_code"}"#),
    (400, br#"{"error":"Access Denied","error_description":"You have made too many requests continuously. Please try again after some time.","status":"failure"}"#),
    (200, br#"{"error":"invalid_client"}"#),
    (502, b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"),
    (200, br#"{"access_token":"1000.abc"#),
    (200, b""),
    (200, br#"{"access_token":"1000.22223333444455556666777788889999.aaaabbbbccccddddeeeeffff00001111","expires_in":1,"token_type":"Bearer"}"#),
];

/// Drive a [`Machine`] with the input as a script of (op, arg) byte pairs, checking after every
/// step that no expired token is handed out, that at most one request is in flight, and that no
/// path loses the refresh token.
pub fn machine(data: &[u8]) {
    let credentials = Credentials::new(
        "1000.9Y3A0SDKWXM2P7QH1LZ4TV8NBF6CJR",
        "4b3c1f0e9d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d",
        Origin::Zoho(DataCenter::Us),
    )
    .expect("fits");
    let mut m = Machine::new(credentials, Config::default());
    let mut now = Instant::from_millis(1_700_000_000_000);
    let mut buf = vec![0u8; 4096];
    let mut had_token = false;
    for step in data.chunks(2) {
        let (op, arg) = (step[0], step.get(1).copied().unwrap_or(0));
        match op % 8 {
            // Time passes: up to about 18 hours, quadratic so small steps are common.
            0 => now = now.saturating_add(Duration::from_secs(u64::from(arg) * u64::from(arg))),
            1 => {
                if let Poll::Send(_) = m.poll(now) {
                    m.write_request(&mut buf).expect("4 KiB holds any request");
                    assert!(
                        matches!(
                            m.poll(now),
                            Poll::Wait {
                                reason: WaitReason::InFlight,
                                ..
                            }
                        ),
                        "a second request while one is in flight"
                    );
                }
            }
            2 => {
                let (status, body) = RESPONSES[usize::from(arg) % RESPONSES.len()];
                let _ =
                    m.handle_response(now, status, body, u32::from(arg).wrapping_mul(2654435761));
            }
            3 => {
                let _ = m.handle_transport_error(now, u32::from(arg));
            }
            4 => {
                let _ = m.set_grant(
                    "1000.6f3c2a1b9e8d7c6b5a4f3e2d1c0b9a8f.5e4d3c2b1a0f9e8d",
                    None,
                );
            }
            5 => m.force_refresh(),
            6 => {
                let token = match m.token() {
                    Some(t) if arg % 2 == 0 => t.clone(),
                    _ => TokenSet::new("1000.8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d.2e1f0a9b8c7d6e5f")
                        .expect("fits"),
                };
                m.restore(token);
            }
            _ => {
                // "Nothing to do before t" must hold: polling earlier sends nothing.
                if m.wake_at(now).is_some_and(|t| t > now) {
                    assert!(!matches!(m.poll(now), Poll::Send(_)), "sent before wake_at");
                }
            }
        }
        if let Some(access) = m.access_token(now) {
            let token = m.token().expect("an access token belongs to a token set");
            assert!(
                now < token.expires_at,
                "an expired access token was handed out"
            );
            assert_eq!(Some(access), token.access_token(now));
        }
        if had_token {
            assert!(m.token().is_some(), "the refresh token was lost");
        }
        had_token = m.token().is_some();
    }
}
