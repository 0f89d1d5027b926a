//! Zoho's limits: 10 token responses per refresh token per rolling 10 minutes, 15 live access
//! tokens per refresh token, 20 refresh tokens per user and client, and token expiry.

mod common;

use std::time::Duration;

use common::*;
use zoho_oauth_emulator::{Config, DataCenter, Emulator, Limits, SelfClientCode};

const THROTTLE: &str = r#"{"error":"Access Denied","error_description":"You have made too many requests continuously. Please try again after some time.","status":"failure"}"#;

/// Spends the whole budget of a fresh refresh token: the exchange plus nine refreshes, one second apart.
fn exhaust(emu: &Emulator) -> String {
    let rt = text(&tokens(emu), "refresh_token");
    for _ in 0..9 {
        emu.advance_clock(Duration::from_secs(1));
        assert!(refresh(emu, &rt).json()["access_token"].is_string());
    }
    rt
}

#[test]
fn the_eleventh_token_response_in_ten_minutes_is_throttled() {
    let emu = start();
    let rt = exhaust(&emu);
    let reply = refresh(&emu, &rt);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, THROTTLE);
    let counters = emu.counters();
    assert_eq!(counters.mints, 10);
    assert_eq!(counters.throttled, 1);
}

#[test]
fn the_throttle_status_can_be_400() {
    let emu = Emulator::start(Config {
        limits: Limits {
            throttle_status: 400,
            ..Limits::default()
        },
        ..frozen()
    })
    .unwrap();
    let rt = exhaust(&emu);
    let reply = refresh(&emu, &rt);
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body, THROTTLE);
}

#[test]
fn the_window_rolls_one_slot_at_a_time() {
    let emu = start();
    let rt = exhaust(&emu); // mints at t0, t0+1 s, …, t0+9 s
    emu.advance_clock(Duration::from_secs(590)); // t0+599 s: all ten still inside
    assert_eq!(refresh(&emu, &rt).body, THROTTLE);
    emu.advance_clock(Duration::from_secs(1)); // t0+600 s: the exchange left the window
    assert!(refresh(&emu, &rt).json()["access_token"].is_string());
    assert_eq!(refresh(&emu, &rt).body, THROTTLE, "only one slot opened");
    emu.advance_clock(Duration::from_secs(1));
    assert!(refresh(&emu, &rt).json()["access_token"].is_string());
}

#[test]
fn retrying_during_a_block_can_be_made_to_keep_it_blocked() {
    let emu = Emulator::start(Config {
        limits: Limits {
            throttle_retry_extends_block: true,
            ..Limits::default()
        },
        ..frozen()
    })
    .unwrap();
    let rt = exhaust(&emu);
    assert_eq!(refresh(&emu, &rt).body, THROTTLE);
    emu.advance_clock(Duration::from_secs(599));
    assert_eq!(
        refresh(&emu, &rt).body,
        THROTTLE,
        "this retry restarts the block"
    );
    emu.advance_clock(Duration::from_secs(599));
    assert_eq!(refresh(&emu, &rt).body, THROTTLE);
    emu.advance_clock(Duration::from_secs(600));
    assert!(refresh(&emu, &rt).json()["access_token"].is_string());
}

#[test]
fn the_budget_is_per_refresh_token() {
    let emu = start();
    let exhausted = exhaust(&emu);
    assert_eq!(refresh(&emu, &exhausted).body, THROTTLE);
    let other = text(&tokens(&emu), "refresh_token");
    assert!(refresh(&emu, &other).json()["access_token"].is_string());
}

#[test]
fn the_sixteenth_live_access_token_evicts_the_oldest() {
    let emu = Emulator::start(Config {
        limits: Limits {
            mints_per_window: 100,
            ..Limits::default()
        },
        ..frozen()
    })
    .unwrap();
    let first = tokens(&emu);
    let rt = text(&first, "refresh_token");
    let mut access = vec![text(&first, "access_token")];
    for _ in 0..14 {
        access.push(text(&refresh(&emu, &rt).json(), "access_token"));
    }
    let org = format!("{}/crm/v8/org", emu.base_url(DataCenter::Us));
    for token in &access {
        assert_eq!(
            get_with_token(&org, token).status,
            200,
            "15 tokens may live"
        );
    }
    access.push(text(&refresh(&emu, &rt).json(), "access_token"));
    assert_eq!(
        get_with_token(&org, &access[0]).json()["code"],
        "INVALID_TOKEN"
    );
    for token in &access[1..] {
        assert_eq!(get_with_token(&org, token).status, 200);
    }
}

#[test]
fn expired_access_tokens_do_not_count_as_live() {
    let emu = Emulator::start(Config {
        limits: Limits {
            mints_per_window: 100,
            ..Limits::default()
        },
        ..frozen()
    })
    .unwrap();
    let first = tokens(&emu);
    let rt = text(&first, "refresh_token");
    for _ in 0..14 {
        refresh(&emu, &rt);
    }
    emu.advance_clock(Duration::from_secs(1800));
    let survivor = text(&refresh(&emu, &rt).json(), "access_token");
    emu.advance_clock(Duration::from_secs(1800)); // the first fifteen are now expired
    for _ in 0..14 {
        refresh(&emu, &rt);
    }
    let org = format!("{}/crm/v8/org", emu.base_url(DataCenter::Us));
    assert_eq!(get_with_token(&org, &survivor).status, 200);
}

#[test]
fn an_access_token_dies_at_its_expiry() {
    let emu = start();
    let access = text(&tokens(&emu), "access_token");
    let org = format!("{}/crm/v8/org", emu.base_url(DataCenter::Us));
    emu.advance_clock(Duration::from_millis(3_599_999));
    assert_eq!(get_with_token(&org, &access).status, 200);
    emu.advance_clock(Duration::from_millis(1));
    let reply = get_with_token(&org, &access);
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["code"], "INVALID_TOKEN");
}

#[test]
fn the_twenty_first_refresh_token_of_a_user_deletes_the_first() {
    let emu = start();
    let refresh_tokens: Vec<String> = (0..21)
        .map(|_| text(&tokens(&emu), "refresh_token"))
        .collect();
    assert_eq!(refresh(&emu, &refresh_tokens[0]).error(), "invalid_code");
    for rt in &refresh_tokens[1..] {
        assert!(refresh(&emu, rt).json()["access_token"].is_string());
    }
}

#[test]
fn the_refresh_token_limit_is_per_user() {
    let emu = start();
    emu.register_user(zoho_oauth_emulator::UserSpec {
        email: "other@example.com".into(),
        zuid: 2,
        ..Default::default()
    })
    .unwrap();
    let other = emu
        .mint_self_client_code(&SelfClientCode {
            user: "other@example.com".into(),
            ..SelfClientCode::default()
        })
        .unwrap();
    let other_rt = text(
        &exchange_at(emu.base_url(DataCenter::Us), &other).json(),
        "refresh_token",
    );
    for _ in 0..20 {
        tokens(&emu);
    }
    assert!(refresh(&emu, &other_rt).json()["access_token"].is_string());
}

#[test]
fn expire_access_tokens_kills_every_access_token_but_no_refresh_token() {
    let emu = start();
    let first = tokens(&emu);
    emu.expire_access_tokens();
    let org = format!("{}/crm/v8/org", emu.base_url(DataCenter::Us));
    assert_eq!(
        get_with_token(&org, &text(&first, "access_token")).status,
        401
    );
    let fresh = refresh(&emu, &text(&first, "refresh_token")).json();
    assert_eq!(
        get_with_token(&org, &text(&fresh, "access_token")).status,
        200
    );
}
