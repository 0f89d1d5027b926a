//! `POST /oauth/v2/token`: code exchange and refresh, as Zoho answers them.

mod common;

use std::time::Duration;

use common::*;
use zoho_oauth_emulator::{
    ClientSpec, Config, DataCenter, Emulator, Limits, SelfClientCode, DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
};

#[test]
fn a_code_exchange_answers_exactly_zohos_fields() {
    let emu = start();
    let tokens = tokens(&emu);
    let object = tokens.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "access_token",
            "api_domain",
            "expires_in",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    assert!(zoho_shaped(&text(&tokens, "access_token")));
    assert!(zoho_shaped(&text(&tokens, "refresh_token")));
    assert_eq!(
        tokens["scope"],
        "ZohoCRM.modules.ALL aaaserver.profile.READ"
    );
    assert_eq!(tokens["api_domain"], emu.base_url(DataCenter::Us));
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
}

#[test]
fn the_success_body_keeps_zohos_field_order() {
    let emu = start();
    let code = emu
        .mint_self_client_code(&SelfClientCode::default())
        .unwrap();
    let body = exchange_at(emu.base_url(DataCenter::Us), &code).body;
    let position = |field: &str| body.find(&format!("\"{field}\"")).unwrap();
    assert!(position("access_token") < position("refresh_token"));
    assert!(position("refresh_token") < position("scope"));
    assert!(position("scope") < position("api_domain"));
    assert!(position("api_domain") < position("token_type"));
    assert!(position("token_type") < position("expires_in"));
}

#[test]
fn a_grant_code_is_single_use() {
    let emu = start();
    let code = emu
        .mint_self_client_code(&SelfClientCode::default())
        .unwrap();
    let base = emu.base_url(DataCenter::Us);
    assert!(exchange_at(base, &code).json()["access_token"].is_string());
    let second = exchange_at(base, &code);
    assert_eq!(second.status, 200, "errors come with HTTP 200");
    assert_eq!(second.error(), "invalid_code");
}

#[test]
fn a_self_client_code_expires_after_its_lifetime() {
    let emu = start();
    let code = emu
        .mint_self_client_code(&SelfClientCode {
            lifetime: Some(Duration::from_secs(300)),
            ..SelfClientCode::default()
        })
        .unwrap();
    emu.advance_clock(Duration::from_secs(300));
    assert_eq!(
        exchange_at(emu.base_url(DataCenter::Us), &code).error(),
        "invalid_code"
    );
}

#[test]
fn a_self_client_code_lives_three_minutes_by_default() {
    let emu = start();
    let base = emu.base_url(DataCenter::Us);
    let fresh = emu
        .mint_self_client_code(&SelfClientCode::default())
        .unwrap();
    let stale = emu
        .mint_self_client_code(&SelfClientCode::default())
        .unwrap();
    emu.advance_clock(Duration::from_secs(179));
    assert!(exchange_at(base, &fresh).json()["access_token"].is_string());
    emu.advance_clock(Duration::from_secs(1));
    assert_eq!(exchange_at(base, &stale).error(), "invalid_code");
}

#[test]
fn a_self_client_code_accepts_any_or_no_redirect_uri() {
    let emu = start();
    for redirect in ["", "https://anything.example/cb"] {
        let code = emu
            .mint_self_client_code(&SelfClientCode::default())
            .unwrap();
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("code", code.as_str()),
        ];
        if !redirect.is_empty() {
            pairs.push(("redirect_uri", redirect));
        }
        let reply = post_form(&token_url(&emu), &pairs);
        assert!(reply.json()["refresh_token"].is_string(), "{}", reply.body);
    }
}

#[test]
fn an_unknown_client_is_invalid_client() {
    let emu = start();
    let code = emu
        .mint_self_client_code(&SelfClientCode::default())
        .unwrap();
    let reply = post_form(
        &token_url(&emu),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "1000.NOSUCHCLIENT"),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("code", &code),
        ],
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.error(), "invalid_client");
}

#[test]
fn a_wrong_secret_is_invalid_client_secret_and_leaves_the_code_usable() {
    let emu = start();
    let code = emu
        .mint_self_client_code(&SelfClientCode::default())
        .unwrap();
    let reply = post_form(
        &token_url(&emu),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", "wrong"),
            ("code", &code),
        ],
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.error(), "invalid_client_secret");
    assert!(exchange_at(emu.base_url(DataCenter::Us), &code).json()["access_token"].is_string());
}

#[test]
fn a_code_of_another_client_is_invalid_code() {
    let emu = start();
    emu.register_client(ClientSpec {
        id: "1000.OTHER".into(),
        secret: "other-secret".into(),
        ..ClientSpec::default()
    })
    .unwrap();
    let code = emu
        .mint_self_client_code(&SelfClientCode::default())
        .unwrap();
    let reply = post_form(
        &token_url(&emu),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "1000.OTHER"),
            ("client_secret", "other-secret"),
            ("code", &code),
        ],
    );
    assert_eq!(reply.error(), "invalid_code");
}

#[test]
fn an_unknown_grant_type_is_unsupported_grant_type() {
    let emu = start();
    for grant in ["password", "device_token", ""] {
        let reply = post_form(
            &token_url(&emu),
            &[
                ("grant_type", grant),
                ("client_id", DEFAULT_CLIENT_ID),
                ("client_secret", DEFAULT_CLIENT_SECRET),
            ],
        );
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, r#"{"error":"unsupported_grant_type"}"#);
    }
}

#[test]
fn a_refresh_answers_a_new_access_token_without_a_refresh_token() {
    let emu = start();
    let first = tokens(&emu);
    let reply = refresh(&emu, &text(&first, "refresh_token"));
    let json = reply.json();
    assert!(json.get("refresh_token").is_none(), "{}", reply.body);
    assert!(zoho_shaped(&text(&json, "access_token")));
    assert_ne!(json["access_token"], first["access_token"]);
    assert_eq!(json["api_domain"], first["api_domain"]);
    assert_eq!(json["scope"], first["scope"]);
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["expires_in"], 3600);
}

#[test]
fn an_unknown_refresh_token_is_invalid_code() {
    let emu = start();
    let reply = refresh(
        &emu,
        "1000.00000000000000000000000000000000.00000000000000000000000000000000",
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.error(), "invalid_code");
}

#[test]
fn a_refresh_with_a_wrong_secret_is_invalid_client_secret() {
    let emu = start();
    let rt = text(&tokens(&emu), "refresh_token");
    let reply = post_form(
        &token_url(&emu),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", "nope"),
            ("refresh_token", &rt),
        ],
    );
    assert_eq!(reply.error(), "invalid_client_secret");
}

#[test]
fn parameters_may_travel_in_the_query_string() {
    let emu = start();
    let code = emu
        .mint_self_client_code(&SelfClientCode::default())
        .unwrap();
    let url = format!(
        "{}?grant_type=authorization_code&client_id={DEFAULT_CLIENT_ID}&client_secret={DEFAULT_CLIENT_SECRET}&code={code}",
        token_url(&emu)
    );
    let reply = post_empty(&url);
    assert!(reply.json()["refresh_token"].is_string(), "{}", reply.body);
}

#[test]
fn parameters_may_travel_in_a_multipart_body_as_the_node_sdk_sends_them() {
    let emu = start();
    let rt = text(&tokens(&emu), "refresh_token");
    let boundary = "----zohoEmulatorBoundary";
    let mut body = String::new();
    for (name, value) in [
        ("grant_type", "refresh_token"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("client_secret", DEFAULT_CLIENT_SECRET),
        ("refresh_token", rt.as_str()),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let reply = post_raw(
        &token_url(&emu),
        &format!("multipart/form-data; boundary={boundary}"),
        &body,
    );
    assert!(reply.json()["access_token"].is_string(), "{}", reply.body);
}

#[test]
fn the_access_token_lifetime_is_configurable() {
    let emu = Emulator::start(Config {
        limits: Limits {
            access_token_lifetime: Duration::from_secs(120),
            ..Limits::default()
        },
        ..frozen()
    })
    .unwrap();
    assert_eq!(tokens(&emu)["expires_in"], 120);
}

#[test]
fn the_legacy_dialect_sends_expires_in_sec_and_expires_in_milliseconds() {
    let emu = Emulator::start(Config {
        limits: Limits {
            legacy_expires: true,
            ..Limits::default()
        },
        ..frozen()
    })
    .unwrap();
    let first = tokens(&emu);
    assert_eq!(first["expires_in_sec"], 3600);
    assert_eq!(first["expires_in"], 3_600_000);
    let refreshed = refresh(&emu, &text(&first, "refresh_token")).json();
    assert_eq!(refreshed["expires_in_sec"], 3600);
    assert_eq!(refreshed["expires_in"], 3_600_000);
}

#[test]
fn the_dialect_can_be_switched_while_running() {
    let emu = start();
    let rt = text(&tokens(&emu), "refresh_token");
    emu.set_limits(Limits {
        legacy_expires: true,
        ..emu.limits()
    });
    assert_eq!(refresh(&emu, &rt).json()["expires_in"], 3_600_000);
}

#[test]
fn the_token_endpoint_answers_json_with_zohos_content_type() {
    let emu = start();
    let reply = refresh(&emu, "nope");
    assert!(
        reply.content_type.starts_with("application/json"),
        "{}",
        reply.content_type
    );
}

#[test]
fn sandbox_codes_get_the_sandbox_api_domain() {
    let emu = start();
    let code = emu
        .mint_self_client_code(&SelfClientCode {
            environment: zoho_oauth_emulator::Environment::Sandbox,
            ..SelfClientCode::default()
        })
        .unwrap();
    let json = exchange_at(emu.base_url(DataCenter::Us), &code).json();
    assert_eq!(
        json["api_domain"],
        format!("{}/sandbox", emu.base_url(DataCenter::Us))
    );
}
