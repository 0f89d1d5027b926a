//! The HTTP control API under `/_emulator/`, for tests written outside Rust.

mod common;

use common::*;
use serde_json::json;
use zoho_oauth_emulator::{DataCenter, Emulator};

fn url(emu: &Emulator, path: &str) -> String {
    format!("{}/_emulator{path}", emu.base_url(DataCenter::Us))
}

#[test]
fn a_client_user_and_code_made_over_http_give_working_tokens() {
    let emu = start();
    let client = control(
        "POST",
        &url(&emu, "/clients"),
        r#"{"id":"1000.HTTPCLIENT","secret":"http-secret","redirect_uris":["http://127.0.0.1/cb"]}"#,
    );
    assert_eq!(client.status, 200, "{}", client.body);
    let user = control(
        "POST",
        &url(&emu, "/users"),
        r#"{"email":"ops@example.com","first_name":"Op","last_name":"S","display_name":"Op S","zuid":55}"#,
    );
    assert_eq!(user.status, 200, "{}", user.body);
    let code = control(
        "POST",
        &url(&emu, "/codes"),
        r#"{"client_id":"1000.HTTPCLIENT","user":"ops@example.com","scope":"ZohoCRM.users.READ,aaaserver.profile.READ","lifetime_ms":600000}"#,
    );
    assert_eq!(code.status, 200, "{}", code.body);
    let code = text(&code.json(), "code");
    let tokens = post_form(
        &token_url(&emu),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "1000.HTTPCLIENT"),
            ("client_secret", "http-secret"),
            ("code", &code),
        ],
    )
    .json();
    assert_eq!(tokens["scope"], "ZohoCRM.users.READ aaaserver.profile.READ");
    let info = get_with_token(
        &format!("{}/oauth/user/info", emu.base_url(DataCenter::Us)),
        &text(&tokens, "access_token"),
    )
    .json();
    assert_eq!(info["ZUID"], 55);
}

#[test]
fn an_empty_code_request_mints_a_default_self_client_code() {
    let emu = start();
    let reply = post_empty(&url(&emu, "/codes"));
    let code = text(&reply.json(), "code");
    assert!(exchange_at(emu.base_url(DataCenter::Us), &code).json()["refresh_token"].is_string());
}

#[test]
fn refused_control_requests_say_what_to_do() {
    let emu = start();
    let reply = control(
        "POST",
        &url(&emu, "/codes"),
        r#"{"client_id":"1000.NOBODY"}"#,
    );
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "unknown_client");
    assert!(text(&reply.json(), "message").contains("register it first"));
    let bad = control("POST", &url(&emu, "/clients"), "{not json");
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"], "invalid_json");
    let elsewhere = control("POST", &url(&emu, "/clients"), r#"{"data_center":"jp"}"#);
    assert_eq!(elsewhere.json()["error"], "data_center_not_emulated");
}

#[test]
fn counters_can_be_read_and_reset_over_http() {
    let emu = start();
    let rt = text(&tokens(&emu), "refresh_token");
    refresh(&emu, &rt);
    let counters = get(&url(&emu, "/counters"), None).json();
    assert_eq!(counters["token_requests"], 2);
    assert_eq!(counters["authorization_code_requests"], 1);
    assert_eq!(counters["refresh_token_requests"], 1);
    assert_eq!(counters["refreshes_per_token"][rt.as_str()], 1);
    assert_eq!(counters["mints"], 2);
    assert_eq!(post_empty(&url(&emu, "/counters/reset")).status, 200);
    let counters = get(&url(&emu, "/counters"), None).json();
    assert_eq!(counters["token_requests"], 0);
    assert_eq!(counters["refreshes_per_token"], json!({}));
    assert_eq!(
        emu.counters().mints,
        0,
        "the HTTP and Rust views are one state"
    );
}

#[test]
fn the_clock_advances_over_http() {
    let emu = start();
    let before = get(&url(&emu, "/clock"), None).json()["now_ms"]
        .as_u64()
        .unwrap();
    let access = text(&tokens(&emu), "access_token");
    let after = control("POST", &url(&emu, "/clock/advance"), r#"{"ms":3600000}"#).json();
    assert_eq!(after["now_ms"].as_u64().unwrap(), before + 3_600_000);
    let org = format!("{}/crm/v8/org", emu.base_url(DataCenter::Us));
    assert_eq!(get_with_token(&org, &access).status, 401);
}

#[test]
fn access_tokens_expire_on_request_over_http() {
    let emu = start();
    let access = text(&tokens(&emu), "access_token");
    assert_eq!(post_empty(&url(&emu, "/access-tokens/expire")).status, 200);
    let org = format!("{}/crm/v8/org", emu.base_url(DataCenter::Us));
    assert_eq!(get_with_token(&org, &access).status, 401);
}

#[test]
fn faults_are_queued_and_cleared_over_http() {
    let emu = start();
    let queued = control(
        "POST",
        &url(&emu, "/faults"),
        r#"{"fault":"server_error","times":2}"#,
    );
    assert_eq!(queued.json()["pending"], 2);
    assert_eq!(refresh(&emu, "x").status, 500);
    let cleared = agent().delete(&url(&emu, "/faults")).call().unwrap();
    assert_eq!(cleared.status(), 200);
    assert_eq!(get(&url(&emu, "/faults"), None).json()["pending"], 0);
    assert_eq!(refresh(&emu, "x").status, 200);
    let unknown = control("POST", &url(&emu, "/faults"), r#"{"fault":"meteor"}"#);
    assert_eq!(unknown.status, 400);
}

#[test]
fn limits_change_field_by_field_over_http() {
    let emu = start();
    let reply = control("PUT", &url(&emu, "/limits"), r#"{"legacy_expires":true}"#);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let limits = get(&url(&emu, "/limits"), None).json();
    assert_eq!(limits["legacy_expires"], true);
    assert_eq!(limits["mints_per_window"], 10, "other fields are kept");
    assert_eq!(tokens(&emu)["expires_in_sec"], 3600);
}

#[test]
fn consent_changes_over_http() {
    let emu = start();
    assert_eq!(
        control("PUT", &url(&emu, "/consent"), r#"{"deny":true}"#).status,
        200
    );
    let consent = get(&url(&emu, "/consent"), None).json();
    assert_eq!(consent["deny"], true);
    assert_eq!(consent["user"], zoho_oauth_emulator::DEFAULT_USER_EMAIL);
    let refused = control(
        "PUT",
        &url(&emu, "/consent"),
        r#"{"user":"nobody@example.com"}"#,
    );
    assert_eq!(refused.json()["error"], "unknown_user");
}

#[test]
fn latency_is_set_over_http() {
    let emu = start();
    let reply = control("PUT", &url(&emu, "/latency"), r#"{"ms":150}"#);
    assert_eq!(reply.status, 200);
    let started = std::time::Instant::now();
    refresh(&emu, "x");
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
}

#[test]
fn info_lists_data_centres_with_their_origins_and_api_domains() {
    let emu = start();
    let info = get(&url(&emu, "/info"), None).json();
    let base = emu.base_url(DataCenter::Us);
    assert_eq!(info["data_center"], "us");
    assert_eq!(info["data_centers"][0]["accounts_server"], base);
    assert_eq!(
        info["data_centers"][0]["api_domains"]["sandbox"],
        format!("{base}/sandbox")
    );
    assert_eq!(
        info["clients"][0]["id"],
        zoho_oauth_emulator::DEFAULT_CLIENT_ID
    );
}

#[test]
fn an_unknown_path_is_a_json_404() {
    let emu = start();
    let reply = get(&url(&emu, "/nope"), None);
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json()["error"], "not_found");
}
