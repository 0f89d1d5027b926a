//! `GET /oauth/v2/auth`: the browser flow, auto-consenting as the configured user.

mod common;

use std::time::Duration;

use common::*;
use zoho_oauth_emulator::{
    ClientSpec, Consent, DataCenter, Emulator, Environment, DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI, DEFAULT_USER_EMAIL,
};

const CALLBACK: &str = "http://127.0.0.1:9999/callback";

fn emulator() -> Emulator {
    let emu = start();
    emu.register_client(ClientSpec {
        redirect_uris: vec![DEFAULT_REDIRECT_URI.into(), CALLBACK.into()],
        ..ClientSpec::default()
    })
    .unwrap();
    emu
}

fn authorize(emu: &Emulator, query: &[(&str, &str)]) -> Reply {
    let query = serde_urlencoded::to_string(query).unwrap();
    get(
        &format!("{}/oauth/v2/auth?{query}", emu.base_url(DataCenter::Us)),
        None,
    )
}

fn standard(access_type: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", DEFAULT_CLIENT_ID.to_owned()),
        ("response_type", "code".to_owned()),
        ("redirect_uri", CALLBACK.to_owned()),
        (
            "scope",
            "ZohoCRM.modules.ALL,aaaserver.profile.READ".to_owned(),
        ),
        ("access_type", access_type.to_owned()),
        ("prompt", "consent".to_owned()),
        ("state", "st&te=1".to_owned()),
    ]
}

fn as_refs<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The redirect's query parameters, decoded, after checking it goes to `CALLBACK`.
fn redirect_params(reply: &Reply) -> Vec<(String, String)> {
    assert_eq!(reply.status, 302, "{}", reply.body);
    let location = reply.location.as_deref().expect("a Location header");
    let (target, query) = location.split_once('?').expect("a query");
    assert_eq!(target, CALLBACK);
    serde_urlencoded::from_str(query).unwrap()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn exchange_web(emu: &Emulator, code: &str, redirect_uri: &str) -> Reply {
    exchange_web_at(emu.base_url(DataCenter::Us), code, redirect_uri, None)
}

#[test]
fn consent_redirects_with_code_location_accounts_server_and_state() {
    let emu = emulator();
    let reply = authorize(&emu, &as_refs(&standard("offline")));
    let params = redirect_params(&reply);
    assert!(zoho_shaped(param(&params, "code").unwrap()));
    assert_eq!(param(&params, "location"), Some("us"));
    assert_eq!(
        param(&params, "accounts-server"),
        Some(emu.base_url(DataCenter::Us))
    );
    assert_eq!(param(&params, "state"), Some("st&te=1"));
    let location = reply.location.unwrap();
    assert!(
        location.contains("accounts-server=http%3A%2F%2F127.0.0.1%3A"),
        "the accounts server is percent-encoded: {location}"
    );
}

#[test]
fn an_offline_web_code_exchanges_for_both_tokens_with_the_same_redirect_uri() {
    let emu = emulator();
    let params = redirect_params(&authorize(&emu, &as_refs(&standard("offline"))));
    let code = param(&params, "code").unwrap();
    let json = exchange_web(&emu, code, CALLBACK).json();
    assert!(json["refresh_token"].is_string());
    assert_eq!(json["scope"], "ZohoCRM.modules.ALL aaaserver.profile.READ");
}

#[test]
fn an_online_web_code_gives_no_refresh_token() {
    let emu = emulator();
    let params = redirect_params(&authorize(&emu, &as_refs(&standard("online"))));
    let json = exchange_web(&emu, param(&params, "code").unwrap(), CALLBACK).json();
    assert!(json["access_token"].is_string());
    assert!(json.get("refresh_token").is_none());
}

#[test]
fn access_type_defaults_to_online_as_at_zoho() {
    let emu = emulator();
    let mut query = standard("x");
    query.retain(|(k, _)| *k != "access_type");
    let params = redirect_params(&authorize(&emu, &as_refs(&query)));
    let json = exchange_web(&emu, param(&params, "code").unwrap(), CALLBACK).json();
    assert!(json.get("refresh_token").is_none());
}

#[test]
fn a_web_code_must_be_exchanged_with_its_redirect_uri() {
    let emu = emulator();
    let params = redirect_params(&authorize(&emu, &as_refs(&standard("offline"))));
    let code = param(&params, "code").unwrap();
    let wrong = exchange_web(&emu, code, DEFAULT_REDIRECT_URI);
    assert_eq!(wrong.status, 200);
    assert_eq!(wrong.error(), "invalid_redirect_uri");
    let missing = post_form(
        &token_url(&emu),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("code", code),
        ],
    );
    assert_eq!(missing.error(), "invalid_redirect_uri");
    assert!(exchange_web(&emu, code, CALLBACK).json()["access_token"].is_string());
}

#[test]
fn a_web_code_expires_after_two_minutes() {
    let emu = emulator();
    let first = redirect_params(&authorize(&emu, &as_refs(&standard("offline"))));
    let second = redirect_params(&authorize(&emu, &as_refs(&standard("offline"))));
    emu.advance_clock(Duration::from_secs(119));
    assert!(
        exchange_web(&emu, param(&first, "code").unwrap(), CALLBACK).json()["access_token"]
            .is_string()
    );
    emu.advance_clock(Duration::from_secs(1));
    assert_eq!(
        exchange_web(&emu, param(&second, "code").unwrap(), CALLBACK).error(),
        "invalid_code"
    );
}

#[test]
fn a_denying_user_sends_access_denied_instead_of_a_code() {
    let emu = emulator();
    emu.set_consent(Consent {
        deny: true,
        ..Consent::default()
    })
    .unwrap();
    let params = redirect_params(&authorize(&emu, &as_refs(&standard("offline"))));
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "code"), None);
    assert_eq!(param(&params, "state"), Some("st&te=1"));
    assert_eq!(param(&params, "location"), Some("us"));
}

#[test]
fn an_unknown_client_gets_an_error_page_not_a_redirect() {
    let emu = emulator();
    let mut query = standard("offline");
    query[0].1 = "1000.NOSUCHCLIENT".into();
    let reply = authorize(&emu, &as_refs(&query));
    assert_eq!(reply.status, 400);
    assert!(reply.location.is_none());
    assert!(reply.body.contains("Invalid Client"), "{}", reply.body);
}

#[test]
fn an_unregistered_redirect_uri_gets_an_error_page_not_a_redirect() {
    let emu = emulator();
    let mut query = standard("offline");
    query[2].1 = "https://attacker.example/<script>alert(1)</script>".into();
    let reply = authorize(&emu, &as_refs(&query));
    assert_eq!(reply.status, 400);
    assert!(reply.location.is_none());
    assert!(
        reply.body.contains("Invalid Redirect Uri"),
        "{}",
        reply.body
    );
    assert!(!reply.body.contains("<script"), "parameters are escaped");
}

#[test]
fn the_consenting_user_and_environment_are_configurable() {
    let emu = emulator();
    emu.register_user(zoho_oauth_emulator::UserSpec {
        email: "boss@example.com".into(),
        first_name: "Big".into(),
        last_name: "Boss".into(),
        display_name: "Big Boss".into(),
        zuid: 777,
        ..Default::default()
    })
    .unwrap();
    emu.set_consent(Consent {
        user: "boss@example.com".into(),
        deny: false,
        environment: Environment::Developer,
        ..Consent::default()
    })
    .unwrap();
    let params = redirect_params(&authorize(&emu, &as_refs(&standard("offline"))));
    let json = exchange_web(&emu, param(&params, "code").unwrap(), CALLBACK).json();
    let api = text(&json, "api_domain");
    assert_eq!(api, format!("{}/developer", emu.base_url(DataCenter::Us)));
    let info = get_with_token(
        &format!("{}/oauth/user/info", emu.base_url(DataCenter::Us)),
        &text(&json, "access_token"),
    )
    .json();
    assert_eq!(info["Email"], "boss@example.com");
    assert_eq!(info["ZUID"], 777);
}

#[test]
fn consent_as_an_unknown_user_is_refused() {
    let emu = emulator();
    let error = emu
        .set_consent(Consent {
            user: "ghost@example.com".into(),
            ..Consent::default()
        })
        .unwrap_err();
    assert!(error.to_string().contains("register it first"), "{error}");
    // The previous consent stays in force.
    let params = redirect_params(&authorize(&emu, &as_refs(&standard("offline"))));
    let json = exchange_web(&emu, param(&params, "code").unwrap(), CALLBACK).json();
    let info = get_with_token(
        &format!("{}/oauth/user/info", emu.base_url(DataCenter::Us)),
        &text(&json, "access_token"),
    )
    .json();
    assert_eq!(info["Email"], DEFAULT_USER_EMAIL);
}
