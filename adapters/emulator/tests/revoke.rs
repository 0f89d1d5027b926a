//! `POST /oauth/v2/token/revoke`.

mod common;

use common::*;
use zoho_oauth_emulator::DataCenter;

fn revoke_url(emu: &zoho_oauth_emulator::Emulator) -> String {
    format!("{}/oauth/v2/token/revoke", emu.base_url(DataCenter::Us))
}

#[test]
fn revoking_a_refresh_token_kills_it_and_every_access_token_minted_from_it() {
    let emu = start();
    let first = tokens(&emu);
    let rt = text(&first, "refresh_token");
    let second = refresh(&emu, &rt).json();
    let reply = post_form(&revoke_url(&emu), &[("token", &rt)]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), serde_json::json!({"status": "success"}));
    assert_eq!(refresh(&emu, &rt).error(), "invalid_code");
    let org = format!("{}/crm/v8/org", emu.base_url(DataCenter::Us));
    for access in [text(&first, "access_token"), text(&second, "access_token")] {
        assert_eq!(
            get_with_token(&org, &access).json()["code"],
            "INVALID_TOKEN"
        );
    }
    assert_eq!(emu.counters().revocations, 1);
}

#[test]
fn revoking_spares_the_other_refresh_tokens() {
    let emu = start();
    let kept = tokens(&emu);
    let doomed = text(&tokens(&emu), "refresh_token");
    post_form(&revoke_url(&emu), &[("token", &doomed)]);
    let org = format!("{}/crm/v8/org", emu.base_url(DataCenter::Us));
    assert_eq!(
        get_with_token(&org, &text(&kept, "access_token")).status,
        200
    );
    assert!(refresh(&emu, &text(&kept, "refresh_token")).json()["access_token"].is_string());
}

#[test]
fn the_token_may_travel_in_the_query_string() {
    let emu = start();
    let rt = text(&tokens(&emu), "refresh_token");
    let reply = post_empty(&format!("{}?token={rt}", revoke_url(&emu)));
    assert_eq!(reply.json()["status"], "success");
}

#[test]
fn revoking_an_unknown_or_revoked_token_is_a_400_failure() {
    let emu = start();
    let rt = text(&tokens(&emu), "refresh_token");
    assert_eq!(post_form(&revoke_url(&emu), &[("token", &rt)]).status, 200);
    for token in [rt.as_str(), "1000.nope", ""] {
        let reply = post_form(&revoke_url(&emu), &[("token", token)]);
        assert_eq!(reply.status, 400);
        assert_eq!(reply.json()["status"], "failure");
        assert_eq!(reply.json()["error"], "invalid_token");
    }
}
