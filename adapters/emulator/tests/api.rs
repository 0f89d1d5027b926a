//! Resource endpoints: `/oauth/user/info` and the CRM-like `/crm/v8/users` and `/crm/v8/org`.

mod common;

use common::*;
use zoho_oauth_emulator::{
    DataCenter, Emulator, SelfClientCode, DEFAULT_USER_EMAIL, DEFAULT_USER_ZUID,
};

fn user_info_url(emu: &Emulator) -> String {
    format!("{}/oauth/user/info", emu.base_url(DataCenter::Us))
}

fn access_with_scope(emu: &Emulator, scope: &str) -> String {
    let code = emu
        .mint_self_client_code(&SelfClientCode {
            scope: scope.into(),
            ..SelfClientCode::default()
        })
        .unwrap();
    text(
        &exchange_at(emu.base_url(DataCenter::Us), &code).json(),
        "access_token",
    )
}

const INVALID_TOKEN: &str =
    r#"{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}"#;

#[test]
fn user_info_describes_the_tokens_user() {
    let emu = start();
    let access = text(&tokens(&emu), "access_token");
    let reply = get_with_token(&user_info_url(&emu), &access);
    assert_eq!(reply.status, 200);
    let info = reply.json();
    assert_eq!(info["Email"], DEFAULT_USER_EMAIL);
    assert_eq!(info["First_Name"], "Emulated");
    assert_eq!(info["Last_Name"], "User");
    assert_eq!(info["Display_Name"], "Emulated User");
    assert_eq!(info["ZUID"], DEFAULT_USER_ZUID, "ZUID is a number");
}

#[test]
fn user_info_accepts_a_bearer_header_too() {
    let emu = start();
    let access = text(&tokens(&emu), "access_token");
    let reply = get(&user_info_url(&emu), Some(&format!("Bearer {access}")));
    assert_eq!(reply.status, 200);
}

#[test]
fn user_info_checks_the_profile_scope_case_insensitively() {
    let emu = start();
    let access = access_with_scope(&emu, "ZohoCRM.modules.ALL,AaaServer.profile.Read");
    assert_eq!(get_with_token(&user_info_url(&emu), &access).status, 200);
}

#[test]
fn user_info_without_the_profile_scope_is_invalid_oauthscope() {
    let emu = start();
    let access = access_with_scope(&emu, "ZohoCRM.modules.ALL");
    let reply = get_with_token(&user_info_url(&emu), &access);
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.body,
        r#"{"response":"error","cause":"INVALID_OAUTHSCOPE"}"#
    );
}

#[test]
fn user_info_with_a_dead_token_is_401() {
    let emu = start();
    let access = text(&tokens(&emu), "access_token");
    emu.expire_access_tokens();
    let reply = get_with_token(&user_info_url(&emu), &access);
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["response"], "error");
}

#[test]
fn the_crm_current_user_is_the_tokens_user() {
    let emu = start();
    let access = text(&tokens(&emu), "access_token");
    let reply = get_with_token(
        &format!(
            "{}/crm/v8/users?type=CurrentUser",
            emu.base_url(DataCenter::Us)
        ),
        &access,
    );
    assert_eq!(reply.status, 200);
    let users = reply.json()["users"].as_array().unwrap().clone();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["email"], DEFAULT_USER_EMAIL);
    assert_eq!(users[0]["full_name"], "Emulated User");
    assert!(users[0]["id"].is_string());
}

#[test]
fn the_crm_org_answers_a_company() {
    let emu = start();
    let access = text(&tokens(&emu), "access_token");
    let reply = get_with_token(
        &format!("{}/crm/v8/org", emu.base_url(DataCenter::Us)),
        &access,
    );
    assert_eq!(reply.status, 200);
    let org = &reply.json()["org"][0];
    assert!(org["id"].is_string());
    assert!(org["company_name"].is_string());
}

#[test]
fn the_crm_refuses_expired_evicted_revoked_and_unknown_tokens_alike() {
    let emu = start();
    let org = format!("{}/crm/v8/org", emu.base_url(DataCenter::Us));
    // Expired.
    let expired = text(&tokens(&emu), "access_token");
    emu.advance_clock(std::time::Duration::from_secs(3600));
    // Revoked.
    let set = tokens(&emu);
    post_form(
        &format!("{}/oauth/v2/token/revoke", emu.base_url(DataCenter::Us)),
        &[("token", &text(&set, "refresh_token"))],
    );
    let revoked = text(&set, "access_token");
    // Unknown.
    let unknown = "1000.00000000000000000000000000000000.00000000000000000000000000000000";
    for token in [expired.as_str(), revoked.as_str(), unknown] {
        let reply = get_with_token(&org, token);
        assert_eq!(reply.status, 401);
        assert_eq!(reply.body, INVALID_TOKEN);
    }
}

#[test]
fn the_crm_wants_the_zoho_oauthtoken_scheme() {
    let emu = start();
    let access = text(&tokens(&emu), "access_token");
    let org = format!("{}/crm/v8/org", emu.base_url(DataCenter::Us));
    for header in [None, Some(format!("Bearer {access}")), Some(access.clone())] {
        let reply = get(&org, header.as_deref());
        assert_eq!(reply.status, 401);
        assert_eq!(reply.json()["code"], "AUTHENTICATION_FAILURE");
    }
    let lower = get(&org, Some(&format!("zoho-oauthtoken {access}")));
    assert_eq!(lower.status, 200, "the scheme is case-insensitive");
}

#[test]
fn the_crm_wants_a_crm_scope() {
    let emu = start();
    let access = access_with_scope(&emu, "aaaserver.profile.READ");
    let reply = get_with_token(
        &format!("{}/crm/v8/org", emu.base_url(DataCenter::Us)),
        &access,
    );
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["code"], "OAUTH_SCOPE_MISMATCH");
}

#[test]
fn api_calls_and_401s_are_counted() {
    let emu = start();
    let access = text(&tokens(&emu), "access_token");
    let org = format!("{}/crm/v8/org", emu.base_url(DataCenter::Us));
    get_with_token(&org, &access);
    get_with_token(&user_info_url(&emu), &access);
    get_with_token(&org, "1000.bad");
    let counters = emu.counters();
    assert_eq!(counters.api_calls, 3);
    assert_eq!(counters.api_unauthorized, 1);
}
