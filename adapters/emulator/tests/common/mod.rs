//! Helpers shared by the integration tests: a plain HTTP client, as a user's test would use.

#![allow(dead_code)]

use std::time::Duration;

use serde_json::Value;
use zoho_oauth_emulator::{
    Config, DataCenter, Emulator, SelfClientCode, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
};

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
    pub content_type: String,
}

impl Reply {
    /// The body as JSON; panics with the body if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `error` field of a JSON body, or "" if none.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

/// A client that returns every status, never follows redirects, and gives up after 10 s.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn read(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut response = result.expect("the emulator answered");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let location = header("location");
    let content_type = header("content-type").unwrap_or_default();
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .expect("a complete body");
    Reply {
        status,
        body,
        location,
        content_type,
    }
}

/// `POST url` with an urlencoded body.
pub fn post_form(url: &str, pairs: &[(&str, &str)]) -> Reply {
    read(agent().post(url).send_form(pairs.iter().copied()))
}

/// `POST url` with a raw body and content type.
pub fn post_raw(url: &str, content_type: &str, body: &str) -> Reply {
    read(
        agent()
            .post(url)
            .header("Content-Type", content_type)
            .send(body),
    )
}

/// `POST url` with no body.
pub fn post_empty(url: &str) -> Reply {
    read(agent().post(url).send_empty())
}

/// `GET url`, with an `Authorization` header when given.
pub fn get(url: &str, authorization: Option<&str>) -> Reply {
    let mut request = agent().get(url);
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    read(request.call())
}

/// `GET url` with `Authorization: Zoho-oauthtoken <token>`.
pub fn get_with_token(url: &str, token: &str) -> Reply {
    get(url, Some(&format!("Zoho-oauthtoken {token}")))
}

/// A control API call with a JSON body.
pub fn control(method: &str, url: &str, json: &str) -> Reply {
    let agent = agent();
    let request = match method {
        "POST" => agent.post(url),
        "PUT" => agent.put(url),
        other => panic!("use get() for {other}"),
    };
    read(
        request
            .header("Content-Type", "application/json")
            .send(json),
    )
}

/// The default config with a frozen clock and a fixed seed: fully deterministic tests.
pub fn frozen() -> Config {
    Config {
        frozen_clock_ms: Some(1_700_000_000_000),
        seed: Some(42),
        ..Config::default()
    }
}

/// An emulator on [`frozen`].
pub fn start() -> Emulator {
    Emulator::start(frozen()).expect("the emulator starts")
}

/// The US token endpoint.
pub fn token_url(emu: &Emulator) -> String {
    format!("{}/oauth/v2/token", emu.base_url(DataCenter::Us))
}

/// Exchanges `code` for the default client at `base`.
pub fn exchange_at(base: &str, code: &str) -> Reply {
    post_form(
        &format!("{base}/oauth/v2/token"),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("code", code),
        ],
    )
}

/// Mints a default Self Client code and exchanges it at US; returns the token response.
pub fn tokens(emu: &Emulator) -> Value {
    let code = emu
        .mint_self_client_code(&SelfClientCode::default())
        .expect("a code");
    let reply = exchange_at(emu.base_url(DataCenter::Us), &code);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json = reply.json();
    assert!(json["access_token"].is_string(), "{}", reply.body);
    json
}

/// Refreshes `refresh_token` for the default client at US.
pub fn refresh(emu: &Emulator, refresh_token: &str) -> Reply {
    post_form(
        &token_url(emu),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("refresh_token", refresh_token),
        ],
    )
}

/// A string field of a JSON value.
pub fn text(json: &Value, field: &str) -> String {
    json[field]
        .as_str()
        .unwrap_or_else(|| panic!("no string `{field}` in {json}"))
        .to_owned()
}

/// Whether `token` looks like Zoho's: `1000.` + 32 hex + `.` + 32 hex.
pub fn zoho_shaped(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3
        && parts[0] == "1000"
        && parts[1..]
            .iter()
            .all(|p| p.len() == 32 && p.chars().all(|c| c.is_ascii_hexdigit()))
}
