//! Zoho's limits: 10 token responses per refresh token per rolling 10 minutes, 15 live access
//! tokens per refresh token, 20 refresh tokens per user and client, 10 grant codes per client per
//! rolling 10 minutes, and token expiry.

mod common;

use std::time::Duration;

use common::*;
use zoho_oauth_emulator::{
    ClientSpec, Config, DataCenter, Emulator, Limits, SelfClientCode, DEFAULT_CLIENT_ID,
    DEFAULT_REDIRECT_URI,
};

const THROTTLE: &str = r#"{"error":"Access Denied","error_description":"You have made too many requests continuously. Please try again after some time.","status":"failure"}"#;

/// [`frozen`] with room for more than ten grant codes in ten minutes, for tests about other limits.
fn many_codes() -> Config {
    Config {
        limits: Limits {
            grant_codes_per_window: 100,
            ..Limits::default()
        },
        ..frozen()
    }
}

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
    let emu = Emulator::start(many_codes()).unwrap();
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
    let emu = Emulator::start(many_codes()).unwrap();
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

/// `POST /_emulator/codes` at `base` with a JSON body: a Self Client code, or the refusal.
fn mint_over_http(base: &str, json: &str) -> Reply {
    control("POST", &format!("{base}/_emulator/codes"), json)
}

/// `GET /oauth/v2/auth` for the default client, as a browser would, with `state=s1`.
fn authorize(emu: &Emulator) -> Reply {
    let query = serde_urlencoded::to_string([
        ("client_id", DEFAULT_CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", DEFAULT_REDIRECT_URI),
        ("scope", "ZohoCRM.modules.ALL"),
        ("access_type", "offline"),
        ("state", "s1"),
    ])
    .unwrap();
    get(
        &format!("{}/oauth/v2/auth?{query}", emu.base_url(DataCenter::Us)),
        None,
    )
}

/// The decoded query of a redirect.
fn redirect_params(reply: &Reply) -> Vec<(String, String)> {
    assert_eq!(reply.status, 302, "{}", reply.body);
    let location = reply.location.as_deref().expect("a Location header");
    let (_, query) = location.split_once('?').expect("a query");
    serde_urlencoded::from_str(query).unwrap()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Mints ten Self Client codes over HTTP, one second apart from the clock's current instant;
/// the last one lives `last_lifetime_ms`. Returns them in order.
fn ten_codes(emu: &Emulator, last_lifetime_ms: u64) -> Vec<String> {
    let base = emu.base_url(DataCenter::Us);
    (0..10)
        .map(|i| {
            if i > 0 {
                emu.advance_clock(Duration::from_secs(1));
            }
            let body = if i == 9 {
                format!(r#"{{"lifetime_ms":{last_lifetime_ms}}}"#)
            } else {
                "{}".to_owned()
            };
            let reply = mint_over_http(base, &body);
            assert_eq!(reply.status, 200, "code {}: {}", i + 1, reply.body);
            text(&reply.json(), "code")
        })
        .collect()
}

#[test]
fn ten_grant_codes_in_ten_minutes_are_issued_and_exchanged() {
    let emu = start();
    for code in ten_codes(&emu, 180_000) {
        let reply = exchange_at(emu.base_url(DataCenter::Us), &code);
        assert_eq!(reply.status, 200);
        assert!(reply.json()["refresh_token"].is_string(), "{}", reply.body);
    }
}

#[test]
fn the_eleventh_grant_code_in_ten_minutes_is_refused_saying_when_one_is_issued_again() {
    let emu = start();
    ten_codes(&emu, 180_000); // issued at t0 … t0+9 s
    let base = emu.base_url(DataCenter::Us);
    let refused = mint_over_http(base, "{}");
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["error"], "too_many_grant_codes");
    let message = text(&refused.json(), "message");
    assert!(message.contains("591000 ms"), "{message}"); // t0+600 s - (t0+9 s)
    assert!(message.contains("grant_codes_per_window"), "{message}");
    match emu.mint_self_client_code(&SelfClientCode::default()) {
        Err(zoho_oauth_emulator::ControlError::TooManyGrantCodes {
            limit, retry_in, ..
        }) => {
            assert_eq!(limit, 10);
            assert_eq!(retry_in, Duration::from_secs(591));
        }
        other => panic!("expected TooManyGrantCodes, got {other:?}"),
    }
    emu.advance_clock(Duration::from_millis(590_999)); // t0+599.999 s: all ten still inside
    assert_eq!(mint_over_http(base, "{}").status, 400);
    emu.advance_clock(Duration::from_millis(1)); // t0+600 s: the first left the window
    assert_eq!(mint_over_http(base, "{}").status, 200);
    assert_eq!(
        mint_over_http(base, "{}").status,
        400,
        "only one slot opened"
    );
}

#[test]
fn over_the_code_limit_every_exchange_answers_access_denied_until_the_window_rolls() {
    let emu = start();
    // The last code lives ten minutes, so that it outlives the block.
    let codes = ten_codes(&emu, 600_000); // issued at t0 … t0+9 s
    let base = emu.base_url(DataCenter::Us);
    assert_eq!(
        exchange_at(base, &codes[0]).status,
        200,
        "no refusal yet: the limit was reached, not passed"
    );
    assert_eq!(mint_over_http(base, "{}").status, 400);
    let denied = exchange_at(base, &codes[9]);
    assert_eq!(denied.status, 200);
    assert_eq!(denied.body, r#"{"error":"access_denied"}"#);
    // Whatever the code: the client is blocked, not the code.
    assert_eq!(
        exchange_at(base, "1000.no-such-code").error(),
        "access_denied"
    );
    emu.advance_clock(Duration::from_millis(590_999)); // t0+599.999 s
    assert_eq!(exchange_at(base, &codes[9]).error(), "access_denied");
    emu.advance_clock(Duration::from_millis(1)); // t0+600 s: the block is over
    let reply = exchange_at(base, &codes[9]);
    assert!(
        reply.json()["refresh_token"].is_string(),
        "the refused code was not consumed: {}",
        reply.body
    );
    assert_eq!(
        exchange_at(base, &codes[1]).error(),
        "invalid_code",
        "expired"
    );
}

#[test]
fn over_the_code_limit_refresh_tokens_keep_working() {
    let emu = start();
    let rt = text(&tokens(&emu), "refresh_token"); // the first code of the window
    let base = emu.base_url(DataCenter::Us);
    for _ in 0..9 {
        assert_eq!(mint_over_http(base, "{}").status, 200);
    }
    assert_eq!(mint_over_http(base, "{}").status, 400);
    assert!(refresh(&emu, &rt).json()["access_token"].is_string());
}

#[test]
fn the_browser_flow_past_the_code_limit_redirects_with_access_denied_and_the_state() {
    let emu = start();
    for _ in 0..10 {
        let params = redirect_params(&authorize(&emu));
        assert!(param(&params, "code").is_some(), "{params:?}");
    }
    let params = redirect_params(&authorize(&emu));
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "code"), None);
    assert_eq!(param(&params, "state"), Some("s1"));
    // Browser codes and Self Client codes share the client's budget.
    assert_eq!(
        mint_over_http(emu.base_url(DataCenter::Us), "{}").status,
        400
    );
}

#[test]
fn the_code_limit_is_per_client_and_per_data_centre() {
    let emu = Emulator::start(Config {
        frozen_clock_ms: Some(1_700_000_000_000),
        ..Config::with_data_centers([DataCenter::Us, DataCenter::Eu])
    })
    .unwrap();
    emu.register_client(ClientSpec {
        id: "1000.OTHERCLIENT".into(),
        secret: "other-secret".into(),
        ..ClientSpec::default()
    })
    .unwrap();
    ten_codes(&emu, 180_000);
    let us = emu.base_url(DataCenter::Us);
    assert_eq!(mint_over_http(us, "{}").status, 400);
    assert_eq!(
        mint_over_http(emu.base_url(DataCenter::Eu), "{}").status,
        200,
        "the same client id at another data centre has its own budget"
    );
    assert_eq!(
        mint_over_http(us, r#"{"client_id":"1000.OTHERCLIENT"}"#).status,
        200,
        "another client at the same data centre has its own budget"
    );
}

#[test]
fn the_code_limit_and_its_window_are_configurable_over_http() {
    let emu = start();
    let base = emu.base_url(DataCenter::Us);
    let set = control(
        "PUT",
        &format!("{base}/_emulator/limits"),
        r#"{"grant_codes_per_window":2,"grant_code_window_ms":60000}"#,
    );
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(mint_over_http(base, "{}").status, 200);
    assert_eq!(mint_over_http(base, "{}").status, 200);
    assert_eq!(mint_over_http(base, "{}").status, 400);
    emu.advance_clock(Duration::from_secs(60));
    assert_eq!(mint_over_http(base, "{}").status, 200);
}
