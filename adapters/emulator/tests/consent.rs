//! The consent page of `GET /oauth/v2/auth` when consent is not automatic, and `prompt=consent`.

mod common;

use common::*;
use zoho_oauth_emulator::{
    Consent, DataCenter, Emulator, DEFAULT_CLIENT_NAME, DEFAULT_REDIRECT_URI, DEFAULT_USER_EMAIL,
};

/// An emulator that shows the consent page.
fn with_page() -> Emulator {
    let emu = start();
    emu.set_auto_consent(false);
    emu
}

fn query(
    access_type: &'static str,
    prompt: Option<&'static str>,
    scope: &'static str,
) -> Vec<(&'static str, &'static str)> {
    let mut query = login_query(access_type);
    query[3].1 = scope;
    query.push(("state", "opaque&state"));
    query.extend(prompt.map(|p| ("prompt", p)));
    query
}

fn open(emu: &Emulator, query: &[(&str, &str)]) -> Reply {
    authorize_at(emu.base_url(DataCenter::Us), query)
}

/// What a browser posts when the person clicks the button `decision` of the page.
fn click(emu: &Emulator, page: &Reply, decision: &str) -> Reply {
    assert_eq!(page.status, 200, "a consent page: {}", page.body);
    assert!(
        page.body.contains(&format!(r#"id="{decision}""#)),
        "{}",
        page.body
    );
    let consent_id = html_value(&page.body, r#"name="consent_id""#);
    post_form(
        &format!("{}/oauth/v2/auth/consent", emu.base_url(DataCenter::Us)),
        &[("consent_id", &consent_id), ("decision", decision)],
    )
}

fn exchange(emu: &Emulator, reply: &Reply) -> serde_json::Value {
    exchange_verified(emu, reply, None).json()
}

fn exchange_verified(emu: &Emulator, reply: &Reply, verifier: Option<&str>) -> Reply {
    let params = redirect_params(reply, DEFAULT_REDIRECT_URI);
    exchange_login(emu, param(&params, "code").expect("a code"), verifier)
}

#[test]
fn consent_is_automatic_by_default() {
    assert!(Consent::default().auto);
    let emu = start();
    let reply = open(&emu, &query("offline", None, SCOPE));
    assert_eq!(reply.status, 302);
    assert_eq!(emu.counters().consent_pages_shown, 0);
}

#[test]
fn without_automatic_consent_the_page_names_the_application_the_user_and_the_scopes() {
    let emu = with_page();
    let page = open(
        &emu,
        &query("offline", Some("consent"), "ZohoCRM.modules.ALL,<b>x</b>"),
    );
    assert_eq!(page.status, 200);
    assert!(page.location.is_none());
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );
    assert!(page.body.contains(DEFAULT_CLIENT_NAME), "{}", page.body);
    assert!(page.body.contains(DEFAULT_USER_EMAIL), "{}", page.body);
    assert!(
        page.body.contains("<li>ZohoCRM.modules.ALL</li>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("<li>&lt;b&gt;x&lt;/b&gt;</li>"),
        "scopes are escaped"
    );
    assert!(page
        .body
        .contains(r#"<form id="consent" method="post" action="/oauth/v2/auth/consent">"#));
    assert!(page
        .body
        .contains(r#"<button type="submit" id="accept" name="decision" value="accept">"#));
    assert!(page
        .body
        .contains(r#"<button type="submit" id="deny" name="decision" value="deny">"#));
    assert_eq!(emu.counters().consent_pages_shown, 1);
}

#[test]
fn accept_redirects_with_code_location_accounts_server_and_state() {
    let emu = with_page();
    let page = open(&emu, &query("offline", Some("consent"), SCOPE));
    let reply = click(&emu, &page, "accept");
    let params = redirect_params(&reply, DEFAULT_REDIRECT_URI);
    assert_eq!(param(&params, "location"), Some("us"));
    assert_eq!(
        param(&params, "accounts-server"),
        Some(emu.base_url(DataCenter::Us))
    );
    assert_eq!(param(&params, "state"), Some("opaque&state"));
    let tokens = exchange(&emu, &reply);
    assert!(tokens["refresh_token"].is_string(), "{tokens}");
    assert_eq!(emu.counters().consent_accepted, 1);
}

#[test]
fn deny_redirects_with_access_denied_and_state() {
    let emu = with_page();
    let page = open(&emu, &query("offline", Some("consent"), SCOPE));
    let reply = click(&emu, &page, "deny");
    let params = redirect_params(&reply, DEFAULT_REDIRECT_URI);
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "code"), None);
    assert_eq!(param(&params, "state"), Some("opaque&state"));
    let counters = emu.counters();
    assert_eq!(counters.consent_denied, 1);
    assert_eq!(counters.consent_accepted, 0);
}

#[test]
fn a_consent_page_is_answered_once() {
    let emu = with_page();
    let page = open(&emu, &query("offline", Some("consent"), SCOPE));
    assert_eq!(click(&emu, &page, "accept").status, 302);
    let again = click(&emu, &page, "accept");
    assert_eq!(again.status, 400);
    assert!(again.location.is_none());
    assert!(again.body.contains("already answered"), "{}", again.body);
}

#[test]
fn a_user_who_already_consented_goes_straight_back_without_a_new_refresh_token() {
    let emu = with_page();
    let first = click(&emu, &open(&emu, &query("offline", None, SCOPE)), "accept");
    assert!(
        exchange(&emu, &first)["refresh_token"].is_string(),
        "first consent"
    );

    let second = open(&emu, &query("offline", None, SCOPE));
    assert_eq!(
        second.status, 302,
        "no page the second time: {}",
        second.body
    );
    let tokens = exchange(&emu, &second);
    assert!(tokens["access_token"].is_string());
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");

    let page = open(&emu, &query("offline", Some("consent"), SCOPE));
    let third = click(&emu, &page, "accept");
    assert!(
        exchange(&emu, &third)["refresh_token"].is_string(),
        "prompt=consent"
    );
    assert_eq!(emu.counters().consent_pages_shown, 2);
}

#[test]
fn new_scopes_need_a_new_consent() {
    let emu = with_page();
    let first = click(
        &emu,
        &open(&emu, &query("online", None, "ZohoCRM.modules.ALL")),
        "accept",
    );
    assert_eq!(first.status, 302);
    let wider = open(&emu, &query("offline", None, SCOPE));
    assert_eq!(wider.status, 200, "a page for the new scope");
    let reply = click(&emu, &wider, "accept");
    assert!(exchange(&emu, &reply)["refresh_token"].is_string());
}

#[test]
fn automatic_consent_also_gives_a_refresh_token_only_on_first_consent_without_prompt() {
    let emu = start();
    let first = open(&emu, &query("offline", None, SCOPE));
    assert!(exchange(&emu, &first)["refresh_token"].is_string());
    let second = open(&emu, &query("offline", None, SCOPE));
    assert!(exchange(&emu, &second).get("refresh_token").is_none());
    let third = open(&emu, &query("offline", Some("consent"), SCOPE));
    assert!(exchange(&emu, &third)["refresh_token"].is_string());
}

#[test]
fn the_first_refresh_token_goes_to_the_first_exchange_not_the_first_authorization() {
    let emu = start();
    let never_exchanged = open(&emu, &query("offline", None, SCOPE));
    assert_eq!(never_exchanged.status, 302);
    let exchanged = open(&emu, &query("offline", None, SCOPE));
    assert!(exchange(&emu, &exchanged)["refresh_token"].is_string());
    assert!(exchange(&emu, &never_exchanged)
        .get("refresh_token")
        .is_none());
}

#[test]
fn the_consent_switch_is_in_the_control_api_and_the_configuration() {
    let emu = start();
    let url = format!("{}/_emulator/consent", emu.base_url(DataCenter::Us));
    assert_eq!(get(&url, None).json()["auto"], true);
    assert_eq!(control("PUT", &url, r#"{"auto":false}"#).status, 200);
    assert_eq!(
        open(&emu, &query("online", Some("consent"), SCOPE)).status,
        200
    );
    assert_eq!(
        get(&url, None).json()["user"],
        DEFAULT_USER_EMAIL,
        "other fields kept"
    );
    emu.set_auto_consent(true);
    assert_eq!(
        open(&emu, &query("online", Some("consent"), SCOPE)).status,
        302
    );

    let configured = Emulator::start(zoho_oauth_emulator::Config {
        consent: Consent {
            auto: false,
            ..Consent::default()
        },
        ..frozen()
    })
    .unwrap();
    assert_eq!(open(&configured, &query("online", None, SCOPE)).status, 200);
}

#[test]
fn a_pkce_challenge_survives_the_consent_page() {
    let emu = with_page();
    let mut q = query("online", Some("consent"), SCOPE);
    q.push(("code_challenge", "plain-verifier"));
    let reply = click(&emu, &open(&emu, &q), "accept");
    assert_eq!(
        exchange_verified(&emu, &reply, Some("other")).error(),
        "invalid_code"
    );
    assert!(
        exchange_verified(&emu, &reply, Some("plain-verifier")).json()["access_token"].is_string()
    );
}
