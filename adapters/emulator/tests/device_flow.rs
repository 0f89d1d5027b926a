//! The device flow: a device asks for a user code, a person decides, the device polls.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;
use zoho_oauth_emulator::{
    ClientSpec, Config, ControlError, DataCenter, Emulator, Limits, DEFAULT_USER_EMAIL,
};

const POLL_FLOOR: Duration = Duration::from_secs(30);

fn us(emu: &Emulator) -> &str {
    emu.base_url(DataCenter::Us)
}

/// Starts a flow at US and returns the initiation's answer.
fn begin(emu: &Emulator, extra: &[(&str, &str)]) -> Value {
    let reply = device_code(us(emu), extra);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

/// US and EU, the default client enabled at both (one secret), a user whose account lives in EU.
fn us_and_eu() -> Emulator {
    Emulator::start(Config {
        data_centers: vec![DataCenter::Us, DataCenter::Eu],
        clients: vec![ClientSpec {
            multi_dc: vec![DataCenter::Eu],
            ..ClientSpec::default()
        }],
        users: users_with_one_in_eu(),
        ..frozen()
    })
    .unwrap()
}

#[test]
fn an_initiation_answers_a_user_code_a_device_code_and_a_verification_url_in_seconds() {
    let emu = start();
    let json = begin(&emu, &[]);
    let user_code = text(&json, "user_code");
    assert_eq!(user_code.len(), 9, "{user_code}");
    assert!(zoho_shaped(&text(&json, "device_code")));
    assert_eq!(json["interval"], 30);
    assert_eq!(json["expires_in"], 300);
    assert_eq!(
        text(&json, "verification_url"),
        format!("{}/oauth/v3/device", us(&emu))
    );
    assert!(json.get("verification_uri").is_none(), "Zoho says _url");
    assert_eq!(emu.counters().device_code_requests, 1);
}

#[test]
fn the_initiation_can_report_milliseconds_as_one_zoho_page_says() {
    let emu = Emulator::start(Config {
        limits: Limits {
            device_times_in_ms: true,
            ..Limits::default()
        },
        ..frozen()
    })
    .unwrap();
    let json = begin(&emu, &[]);
    assert_eq!(json["interval"], 30_000);
    assert_eq!(json["expires_in"], 300_000);

    // And back to seconds through the control API, while running.
    let reply = control(
        "PUT",
        &format!("{}/_emulator/limits", us(&emu)),
        r#"{"device_times_in_ms":false}"#,
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json = begin(&emu, &[]);
    assert_eq!(json["interval"], 30);
    assert_eq!(json["expires_in"], 300);
}

#[test]
fn polls_are_pending_until_the_person_approves_then_answer_the_usual_token_body() {
    let emu = start();
    let json = begin(&emu, &[("access_type", "offline")]);
    let device = text(&json, "device_code");
    let pending = device_poll(us(&emu), &device);
    assert_eq!(pending.status, 200);
    assert_eq!(pending.body, r#"{"error":"authorization_pending"}"#);

    emu.approve_device(&text(&json, "user_code"), DEFAULT_USER_EMAIL)
        .unwrap();
    emu.advance_clock(POLL_FLOOR);
    let tokens = device_poll(us(&emu), &device).json();
    assert!(zoho_shaped(&text(&tokens, "access_token")));
    assert!(zoho_shaped(&text(&tokens, "refresh_token")), "offline");
    assert_eq!(tokens["api_domain"], us(&emu));
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(
        tokens["scope"],
        "ZohoCRM.modules.ALL aaaserver.profile.READ"
    );
    let org = get_with_token(
        &format!("{}/crm/v8/org", text(&tokens, "api_domain")),
        &text(&tokens, "access_token"),
    );
    assert_eq!(org.status, 200, "{}", org.body);
    assert_eq!(
        refresh(&emu, &text(&tokens, "refresh_token")).status,
        200,
        "refreshing a device-flow token is the ordinary refresh grant"
    );

    emu.advance_clock(POLL_FLOOR);
    assert_eq!(
        device_poll(us(&emu), &device).error(),
        "invalid_code",
        "a device code gives its tokens once"
    );
    let counters = emu.counters();
    assert_eq!(counters.device_token_requests, 3);
    assert_eq!(counters.device_polls["authorization_pending"], 1);
    assert_eq!(counters.device_polls["success"], 1);
    assert_eq!(counters.device_polls["invalid_code"], 1);
    assert_eq!(counters.device_approvals, 1);
}

#[test]
fn an_online_device_flow_gives_no_refresh_token() {
    let emu = start();
    let json = begin(&emu, &[]);
    emu.approve_device(&text(&json, "user_code"), DEFAULT_USER_EMAIL)
        .unwrap();
    let tokens = device_poll(us(&emu), &text(&json, "device_code")).json();
    assert!(tokens["access_token"].is_string());
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
}

#[test]
fn two_polls_closer_than_thirty_seconds_answer_slow_down_on_the_emulated_clock() {
    let emu = start();
    let device = text(&begin(&emu, &[]), "device_code");
    assert_eq!(
        device_poll(us(&emu), &device).error(),
        "authorization_pending"
    );
    emu.advance_clock(POLL_FLOOR - Duration::from_millis(1));
    assert_eq!(device_poll(us(&emu), &device).error(), "slow_down");
    // The refused poll counts too: the next one must again wait the whole floor.
    emu.advance_clock(POLL_FLOOR - Duration::from_millis(1));
    assert_eq!(device_poll(us(&emu), &device).error(), "slow_down");
    emu.advance_clock(POLL_FLOOR);
    assert_eq!(
        device_poll(us(&emu), &device).error(),
        "authorization_pending"
    );
    let polls = emu.counters().device_polls;
    assert_eq!(polls["slow_down"], 2);
    assert_eq!(polls["authorization_pending"], 2);
}

#[test]
fn the_poll_floor_is_configurable() {
    let emu = Emulator::start(Config {
        limits: Limits {
            device_poll_floor: Duration::from_millis(10),
            ..Limits::default()
        },
        ..frozen()
    })
    .unwrap();
    let device = text(&begin(&emu, &[]), "device_code");
    assert_eq!(
        device_poll(us(&emu), &device).error(),
        "authorization_pending"
    );
    assert_eq!(device_poll(us(&emu), &device).error(), "slow_down");
    emu.advance_clock(Duration::from_millis(10));
    assert_eq!(
        device_poll(us(&emu), &device).error(),
        "authorization_pending"
    );
}

#[test]
fn a_device_flow_meets_slow_down_then_other_dc_then_succeeds_at_the_users_data_centre() {
    let emu = us_and_eu();
    let eu = emu.base_url(DataCenter::Eu).to_owned();
    let json = begin(&emu, &[("access_type", "offline")]);
    let device = text(&json, "device_code");

    assert_eq!(
        device_poll(us(&emu), &device).error(),
        "authorization_pending"
    );
    assert_eq!(device_poll(us(&emu), &device).error(), "slow_down");
    assert_eq!(
        device_poll(&eu, &device).error(),
        "invalid_code",
        "before approval the code is known only where it was asked for"
    );

    emu.approve_device(&text(&json, "user_code"), EU_USER)
        .unwrap();
    emu.advance_clock(POLL_FLOOR);
    let moved = device_poll(us(&emu), &device);
    assert_eq!(moved.status, 200);
    assert_eq!(moved.body, r#"{"error":"other_dc","user_location":"eu"}"#);

    emu.advance_clock(POLL_FLOOR);
    let tokens = device_poll(&eu, &device).json();
    assert_eq!(tokens["api_domain"], eu.as_str(), "issued by the user's DC");
    let access = text(&tokens, "access_token");
    let info = get_with_token(&format!("{eu}/oauth/user/info"), &access);
    assert_eq!(info.json()["Email"], EU_USER);
    assert_eq!(
        get_with_token(&format!("{}/crm/v8/org", us(&emu)), &access).status,
        401,
        "an EU token is foreign at US"
    );
    let refreshed = post_form(
        &format!("{eu}/oauth/v2/token"),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", zoho_oauth_emulator::DEFAULT_CLIENT_ID),
            ("client_secret", zoho_oauth_emulator::DEFAULT_CLIENT_SECRET),
            ("refresh_token", &text(&tokens, "refresh_token")),
        ],
    );
    assert!(
        refreshed.json()["access_token"].is_string(),
        "{}",
        refreshed.body
    );

    let polls = emu.counters().device_polls;
    assert_eq!(polls["slow_down"], 1);
    assert_eq!(polls["other_dc"], 1);
    assert_eq!(polls["success"], 1);
}

#[test]
fn approval_by_a_user_of_a_data_centre_where_the_client_is_not_enabled_is_refused() {
    let emu = Emulator::start(Config {
        users: users_with_one_in_eu(),
        ..Config {
            data_centers: vec![DataCenter::Us, DataCenter::Eu],
            ..frozen()
        }
    })
    .unwrap();
    let json = begin(&emu, &[]);
    let error = emu
        .approve_device(&text(&json, "user_code"), EU_USER)
        .unwrap_err();
    assert!(
        matches!(
            error,
            ControlError::UnknownClient {
                data_center: DataCenter::Eu,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn a_denial_answers_access_denied_to_every_later_poll() {
    let emu = start();
    let json = begin(&emu, &[]);
    emu.deny_device(&text(&json, "user_code")).unwrap();
    let device = text(&json, "device_code");
    assert_eq!(device_poll(us(&emu), &device).error(), "access_denied");
    emu.advance_clock(POLL_FLOOR);
    assert_eq!(device_poll(us(&emu), &device).error(), "access_denied");
    assert!(matches!(
        emu.approve_device(&text(&json, "user_code"), DEFAULT_USER_EMAIL),
        Err(ControlError::DeviceAlreadyDecided { .. })
    ));
    assert_eq!(emu.counters().device_denials, 1);
}

#[test]
fn an_undecided_device_code_expires_after_its_lifetime() {
    let emu = start();
    let json = begin(&emu, &[]);
    let device = text(&json, "device_code");
    emu.advance_clock(Duration::from_secs(299));
    assert_eq!(
        device_poll(us(&emu), &device).error(),
        "authorization_pending"
    );
    emu.advance_clock(Duration::from_secs(1));
    assert_eq!(device_poll(us(&emu), &device).error(), "expired");
    let error = emu
        .approve_device(&text(&json, "user_code"), DEFAULT_USER_EMAIL)
        .unwrap_err();
    assert!(error.to_string().contains("ask for a new one"), "{error}");
    assert_eq!(emu.counters().device_polls["expired"], 1);
}

#[test]
fn the_person_decides_through_the_control_api_too() {
    let emu = start();
    let first = begin(&emu, &[]);
    let second = begin(&emu, &[]);
    let approve = format!("{}/_emulator/device/approve", us(&emu));
    let deny = format!("{}/_emulator/device/deny", us(&emu));

    let body = format!(
        r#"{{"user_code":"{}"}}"#,
        text(&first, "user_code").to_lowercase()
    );
    let reply = control("POST", &approve, &body);
    assert_eq!(
        reply.status, 200,
        "user codes are case-insensitive: {}",
        reply.body
    );
    let body = format!(r#"{{"user_code":"{}"}}"#, text(&second, "user_code"));
    assert_eq!(control("POST", &deny, &body).status, 200);
    let unknown = control("POST", &approve, r#"{"user_code":"BBBB-BBBB"}"#);
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.error(), "unknown_user_code");

    assert!(device_poll(us(&emu), &text(&first, "device_code")).json()["access_token"].is_string());
    assert_eq!(
        device_poll(us(&emu), &text(&second, "device_code")).error(),
        "access_denied"
    );
}

#[test]
fn the_verification_page_takes_the_user_code_and_the_persons_decision() {
    let emu = start();
    let json = begin(&emu, &[]);
    let user_code = text(&json, "user_code");
    let url = text(&json, "verification_url");

    let page = get(&format!("{url}?user_code={user_code}"), None);
    assert_eq!(page.status, 200);
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );
    assert!(page.body.contains(r#"id="accept""#) && page.body.contains(r#"id="deny""#));
    assert_eq!(html_value(&page.body, r#"id="user_code""#), user_code);
    assert_eq!(html_value(&page.body, r#"id="email""#), DEFAULT_USER_EMAIL);

    // What a browser sends when the person clicks Accept.
    let done = post_form(
        &url,
        &[
            ("user_code", &user_code),
            ("email", DEFAULT_USER_EMAIL),
            ("decision", "accept"),
        ],
    );
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Access granted"), "{}", done.body);
    assert!(device_poll(us(&emu), &text(&json, "device_code")).json()["access_token"].is_string());

    let again = post_form(&url, &[("user_code", &user_code), ("decision", "deny")]);
    assert_eq!(again.status, 400, "a decided code cannot be decided again");
    assert!(
        again.body.contains("already approved or denied"),
        "{}",
        again.body
    );
}

#[test]
fn the_verification_page_denies_when_the_person_clicks_deny() {
    let emu = start();
    let json = begin(&emu, &[]);
    let done = post_form(
        &text(&json, "verification_url"),
        &[
            ("user_code", &text(&json, "user_code")),
            ("decision", "deny"),
        ],
    );
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(
        device_poll(us(&emu), &text(&json, "device_code")).error(),
        "access_denied"
    );
}

#[test]
fn device_errors_are_bodies_whose_status_is_configurable() {
    let emu = start();
    let device = text(&begin(&emu, &[]), "device_code");
    assert_eq!(device_poll(us(&emu), &device).status, 200);
    emu.set_limits(Limits {
        device_error_status: 400,
        ..emu.limits()
    });
    emu.advance_clock(POLL_FLOOR);
    let pending = device_poll(us(&emu), &device);
    assert_eq!(pending.status, 400);
    assert_eq!(pending.error(), "authorization_pending");
}

#[test]
fn bad_device_requests_get_zohos_errors() {
    let emu = start();
    let base = us(&emu).to_owned();
    let unknown_client = post_form(
        &format!("{base}/oauth/v3/device/code"),
        &[
            ("client_id", "1000.NOPE"),
            ("grant_type", "device_request"),
            ("scope", SCOPE),
        ],
    );
    assert_eq!(unknown_client.error(), "invalid_client");
    assert_eq!(
        device_code(&base, &[("grant_type", "device_code")]).error(),
        "unsupported_grant_type"
    );
    assert_eq!(
        device_code(&base, &[("scope", "")]).error(),
        "invalid_scope"
    );

    let device = text(&begin(&emu, &[]), "device_code");
    let wrong_secret = post_form(
        &format!("{base}/oauth/v3/device/token"),
        &[
            ("client_id", zoho_oauth_emulator::DEFAULT_CLIENT_ID),
            ("client_secret", "wrong"),
            ("grant_type", "device_token"),
            ("code", &device),
        ],
    );
    assert_eq!(wrong_secret.error(), "invalid_client_secret");
    let rfc_name = post_form(
        &format!("{base}/oauth/v3/device/token"),
        &[
            ("client_id", zoho_oauth_emulator::DEFAULT_CLIENT_ID),
            ("client_secret", zoho_oauth_emulator::DEFAULT_CLIENT_SECRET),
            ("grant_type", "device_token"),
            ("device_code", &device),
        ],
    );
    assert_eq!(
        rfc_name.error(),
        "invalid_code",
        "Zoho's parameter is `code`"
    );
    assert_eq!(
        device_poll(&base, "1000.nosuchcode").error(),
        "invalid_code"
    );
}

#[test]
fn without_prompt_consent_an_offline_device_flow_brings_a_refresh_token_only_the_first_time() {
    let emu = start();
    let mut refresh_tokens = Vec::new();
    for prompt in [None, None, Some("consent")] {
        let mut extra = vec![("access_type", "offline")];
        extra.extend(prompt.map(|p| ("prompt", p)));
        let json = begin(&emu, &extra);
        emu.approve_device(&text(&json, "user_code"), DEFAULT_USER_EMAIL)
            .unwrap();
        let tokens = device_poll(us(&emu), &text(&json, "device_code")).json();
        assert!(tokens["access_token"].is_string());
        refresh_tokens.push(tokens.get("refresh_token").is_some());
    }
    assert_eq!(refresh_tokens, [true, false, true]);
}
