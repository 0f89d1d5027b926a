//! `grant_type=client_credentials`: an access token for an organisation, no refresh token.

mod common;

use std::time::Duration;

use common::*;
use zoho_oauth_emulator::{ClientSpec, Config, DataCenter, Emulator, Limits, DEFAULT_SOID};

const ORG_A: &str = "ZohoCRM.600001234";
const ORG_B: &str = "ZohoCRM.600005678";

fn us(emu: &Emulator) -> &str {
    emu.base_url(DataCenter::Us)
}

/// The default client, reaching two orgs.
fn two_orgs(limits: Limits) -> Emulator {
    Emulator::start(Config {
        clients: vec![ClientSpec {
            orgs: vec![ORG_A.into(), ORG_B.into()],
            ..ClientSpec::default()
        }],
        limits,
        ..frozen()
    })
    .unwrap()
}

fn org_id_seen_by_the_crm(emu: &Emulator, access_token: &str) -> String {
    let org = get_with_token(&format!("{}/crm/v8/org", us(emu)), access_token);
    assert_eq!(org.status, 200, "{}", org.body);
    org.json()["org"][0]["id"].as_str().unwrap().to_owned()
}

#[test]
fn the_answer_has_an_access_token_api_domain_token_type_and_expires_in_and_nothing_else() {
    let emu = start();
    let reply = client_credentials(us(&emu), &[]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json = reply.json();
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["access_token", "api_domain", "expires_in", "token_type"]
    );
    assert!(zoho_shaped(&text(&json, "access_token")));
    assert_eq!(json["api_domain"], us(&emu));
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["expires_in"], 3600);
    let counters = emu.counters();
    assert_eq!(counters.client_credentials_requests, 1);
    assert_eq!(counters.token_requests, 1);
    assert_eq!(counters.mints, 1);
}

#[test]
fn a_client_of_one_org_may_omit_the_soid_or_name_it() {
    let emu = start();
    let omitted = client_credentials(us(&emu), &[]).json();
    let named = client_credentials(us(&emu), &[("soid", DEFAULT_SOID)]).json();
    assert_eq!(
        org_id_seen_by_the_crm(&emu, &text(&omitted, "access_token")),
        "10000000001"
    );
    assert_eq!(
        org_id_seen_by_the_crm(&emu, &text(&named, "access_token")),
        "10000000001"
    );
    let other = client_credentials(us(&emu), &[("soid", ORG_A)]);
    assert_eq!(other.status, 200);
    assert_eq!(other.body, r#"{"error":"invalid_org_info"}"#);
}

#[test]
fn a_client_of_several_orgs_must_name_one_and_the_token_acts_for_it() {
    let emu = two_orgs(Limits::default());
    let missing = client_credentials(us(&emu), &[]);
    assert_eq!(missing.status, 200);
    assert_eq!(missing.body, r#"{"error":"missing_org_info"}"#);
    let unknown = client_credentials(us(&emu), &[("soid", "ZohoCRM.999")]);
    assert_eq!(unknown.error(), "invalid_org_info");

    let b = client_credentials(us(&emu), &[("soid", ORG_B)]).json();
    assert_eq!(
        org_id_seen_by_the_crm(&emu, &text(&b, "access_token")),
        "600005678"
    );
}

#[test]
fn an_org_token_has_no_user() {
    let emu = start();
    let token = text(&client_credentials(us(&emu), &[]).json(), "access_token");
    let info = get_with_token(&format!("{}/oauth/user/info", us(&emu)), &token);
    assert_eq!(info.status, 401);
    assert_eq!(info.json()["cause"], "INVALID_OAUTHSCOPE");
    let me = get_with_token(
        &format!("{}/crm/v8/users?type=CurrentUser", us(&emu)),
        &token,
    );
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["users"].as_array().unwrap().len(), 0);
}

#[test]
fn a_client_reaching_no_org_is_refused() {
    let emu = Emulator::start(Config {
        clients: vec![ClientSpec {
            orgs: Vec::new(),
            ..ClientSpec::default()
        }],
        ..frozen()
    })
    .unwrap();
    assert_eq!(
        client_credentials(us(&emu), &[]).error(),
        "unauthorized_client"
    );
    assert_eq!(emu.counters().mints, 0);
}

#[test]
fn a_wrong_secret_or_a_missing_scope_is_refused_as_for_other_grants() {
    let emu = start();
    assert_eq!(
        client_credentials(us(&emu), &[("client_secret", "nope")]).error(),
        "invalid_client_secret"
    );
    assert_eq!(
        client_credentials(us(&emu), &[("client_id", "1000.NOPE")]).error(),
        "invalid_client"
    );
    assert_eq!(
        client_credentials(us(&emu), &[("scope", "")]).error(),
        "invalid_scope"
    );
}

#[test]
fn ten_answers_per_ten_minutes_per_client_and_org_then_the_throttle() {
    let emu = two_orgs(Limits::default());
    for _ in 0..10 {
        let reply = client_credentials(us(&emu), &[("soid", ORG_A)]);
        assert!(reply.json()["access_token"].is_string(), "{}", reply.body);
    }
    let throttled = client_credentials(us(&emu), &[("soid", ORG_A)]);
    assert_eq!(throttled.error(), "Access Denied");
    assert_eq!(throttled.json()["status"], "failure");
    assert!(
        client_credentials(us(&emu), &[("soid", ORG_B)]).json()["access_token"].is_string(),
        "another org of the same client has its own budget"
    );
    emu.advance_clock(Duration::from_secs(600));
    assert!(client_credentials(us(&emu), &[("soid", ORG_A)]).json()["access_token"].is_string());
    let counters = emu.counters();
    assert_eq!(counters.throttled, 1);
    assert_eq!(counters.client_credentials_requests, 13);
    assert_eq!(counters.mints, 12);
}

#[test]
fn the_sixteenth_live_token_of_a_client_and_org_silently_kills_the_oldest() {
    let emu = two_orgs(Limits {
        mints_per_window: 100,
        ..Limits::default()
    });
    let mint = |soid: &str| {
        text(
            &client_credentials(us(&emu), &[("soid", soid)]).json(),
            "access_token",
        )
    };
    let other_org = mint(ORG_B);
    let tokens: Vec<String> = (0..16).map(|_| mint(ORG_A)).collect();
    let crm = |token: &str| get_with_token(&format!("{}/crm/v8/org", us(&emu)), token).status;
    assert_eq!(crm(&tokens[0]), 401, "the oldest was evicted");
    assert_eq!(crm(&tokens[1]), 200);
    assert_eq!(crm(&tokens[15]), 200);
    assert_eq!(
        crm(&other_org),
        200,
        "the other org's tokens are not touched"
    );
}

#[test]
fn orgs_are_registered_through_the_control_api_too() {
    let emu = start();
    let reply = control(
        "POST",
        &format!("{}/_emulator/clients", us(&emu)),
        r#"{"id":"1000.BACKEND","secret":"backend-secret","orgs":["ZohoCRM.600001234","ZohoDesk.700001"]}"#,
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let token = client_credentials(
        us(&emu),
        &[
            ("client_id", "1000.BACKEND"),
            ("client_secret", "backend-secret"),
            ("soid", ORG_A),
        ],
    );
    assert!(token.json()["access_token"].is_string(), "{}", token.body);
    let bad = control(
        "POST",
        &format!("{}/_emulator/clients", us(&emu)),
        r#"{"id":"1000.BAD","secret":"s","orgs":["600001234"]}"#,
    );
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("soid"), "{}", bad.body);
}
