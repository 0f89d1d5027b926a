//! PKCE (RFC 7636): the authorization remembers a challenge, the exchange must bring its verifier.

mod common;

use common::*;
use zoho_oauth_emulator::{ClientSpec, DataCenter, Emulator, DEFAULT_REDIRECT_URI};

/// The pair of RFC 7636, appendix B: an independent check of the S256 transformation.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn emulator() -> Emulator {
    let emu = start();
    emu.register_client(ClientSpec::default()).unwrap();
    emu
}

/// A code from an authorization with `extra` PKCE parameters.
fn code_with(emu: &Emulator, extra: &[(&'static str, &'static str)]) -> String {
    let mut query = login_query("offline");
    query.push(("prompt", "consent"));
    query.extend_from_slice(extra);
    let reply = authorize_at(emu.base_url(DataCenter::Us), &query);
    let params = redirect_params(&reply, DEFAULT_REDIRECT_URI);
    param(&params, "code").expect("a code").to_owned()
}

fn exchange(emu: &Emulator, code: &str, verifier: Option<&str>) -> Reply {
    exchange_login(emu, code, verifier)
}

#[test]
fn an_s256_code_is_refused_without_its_verifier_or_with_another_and_then_exchanged_with_it() {
    let emu = emulator();
    let code = code_with(
        &emu,
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    let missing = exchange(&emu, &code, None);
    assert_eq!(missing.status, 200);
    assert_eq!(missing.body, r#"{"error":"invalid_code"}"#);
    assert_eq!(exchange(&emu, &code, Some("")).error(), "invalid_code");
    assert_eq!(
        exchange(&emu, &code, Some(CHALLENGE)).error(),
        "invalid_code",
        "the challenge itself is not the verifier of an S256 code"
    );
    let tokens = exchange(&emu, &code, Some(VERIFIER)).json();
    assert!(tokens["refresh_token"].is_string(), "{tokens}");
    let counters = emu.counters();
    assert_eq!(counters.pkce_failures, 3);
    assert_eq!(counters.mints, 1);
}

#[test]
fn plain_is_the_method_when_none_is_named_as_at_zoho() {
    let emu = emulator();
    let code = code_with(&emu, &[("code_challenge", VERIFIER)]);
    assert_eq!(
        exchange(&emu, &code, Some(CHALLENGE)).error(),
        "invalid_code"
    );
    assert!(exchange(&emu, &code, Some(VERIFIER)).json()["access_token"].is_string());

    let code = code_with(
        &emu,
        &[
            ("code_challenge", "same-as-verifier"),
            ("code_challenge_method", "plain"),
        ],
    );
    assert!(exchange(&emu, &code, Some("same-as-verifier")).json()["access_token"].is_string());
    assert_eq!(emu.counters().pkce_failures, 1);
}

#[test]
fn a_used_pkce_code_cannot_be_exchanged_again() {
    let emu = emulator();
    let code = code_with(
        &emu,
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    assert!(exchange(&emu, &code, Some(VERIFIER)).json()["access_token"].is_string());
    assert_eq!(
        exchange(&emu, &code, Some(VERIFIER)).error(),
        "invalid_code"
    );
}

#[test]
fn a_code_without_a_challenge_ignores_a_verifier() {
    let emu = emulator();
    let code = code_with(&emu, &[]);
    assert!(exchange(&emu, &code, Some("anything")).json()["access_token"].is_string());
    assert_eq!(emu.counters().pkce_failures, 0);
}

#[test]
fn an_unknown_method_or_a_method_without_a_challenge_gets_an_error_page() {
    let emu = emulator();
    for extra in [
        vec![
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S512"),
        ],
        vec![("code_challenge_method", "S256")],
    ] {
        let mut query = login_query("online");
        query.extend(extra);
        let reply = authorize_at(emu.base_url(DataCenter::Us), &query);
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert!(reply.location.is_none());
        assert!(reply.body.contains("Code Challenge"), "{}", reply.body);
    }
}
