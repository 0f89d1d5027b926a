//! Helpers shared by the integration tests: a plain HTTP client, as a user's test would use.

#![allow(dead_code)]

use std::io::Write as _;
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;
use zoho_oauth_emulator::{
    Config, DataCenter, Emulator, SelfClientCode, UserSpec, DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI,
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

/// Sends a refresh request to US over a bare socket (10 s read timeout) and returns the socket,
/// ready to read the answer byte by byte.
pub fn raw_token_request_stream(emu: &Emulator) -> TcpStream {
    let address = emu
        .base_url(DataCenter::Us)
        .trim_start_matches("http://")
        .to_owned();
    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let body = "grant_type=refresh_token&client_id=x&client_secret=y&refresh_token=z";
    write!(
        stream,
        "POST /oauth/v2/token HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    stream
}

/// Exchanges a browser-flow `code` for the default client at `base`, with its `redirect_uri`
/// and, when given, a PKCE `code_verifier`.
pub fn exchange_web_at(
    base: &str,
    code: &str,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> Reply {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("client_secret", DEFAULT_CLIENT_SECRET),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ];
    form.extend(verifier.map(|v| ("code_verifier", v)));
    post_form(&format!("{base}/oauth/v2/token"), &form)
}

/// [`exchange_web_at`] at US with [`DEFAULT_REDIRECT_URI`].
pub fn exchange_login(emu: &Emulator, code: &str, verifier: Option<&str>) -> Reply {
    exchange_web_at(
        emu.base_url(DataCenter::Us),
        code,
        DEFAULT_REDIRECT_URI,
        verifier,
    )
}

/// The query of a browser login of the default client to [`DEFAULT_REDIRECT_URI`] for [`SCOPE`].
pub fn login_query(access_type: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("client_id", DEFAULT_CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", DEFAULT_REDIRECT_URI),
        ("scope", SCOPE),
        ("access_type", access_type),
    ]
}

/// A user whose account lives in EU.
pub const EU_USER: &str = "eu.person@example.com";

/// The default user, and [`EU_USER`] homed in EU.
pub fn users_with_one_in_eu() -> Vec<UserSpec> {
    vec![
        UserSpec::default(),
        UserSpec {
            email: EU_USER.into(),
            zuid: 20_000_000_001,
            home: Some(DataCenter::Eu),
            ..UserSpec::default()
        },
    ]
}

/// The scope the new-grant tests ask for: a CRM scope and the profile scope.
pub const SCOPE: &str = "ZohoCRM.modules.ALL,aaaserver.profile.READ";

/// Sets each of `extra` in `pairs`, replacing a pair of the same name.
fn merge<'a>(pairs: &mut Vec<(&'a str, &'a str)>, extra: &[(&'a str, &'a str)]) {
    for &(name, value) in extra {
        match pairs.iter_mut().find(|(n, _)| *n == name) {
            Some(pair) => pair.1 = value,
            None => pairs.push((name, value)),
        }
    }
}

/// `POST {base}/oauth/v3/device/code` for the default client, plus `extra` parameters.
pub fn device_code(base: &str, extra: &[(&str, &str)]) -> Reply {
    let mut pairs = vec![
        ("client_id", DEFAULT_CLIENT_ID),
        ("grant_type", "device_request"),
        ("scope", SCOPE),
    ];
    merge(&mut pairs, extra);
    post_form(&format!("{base}/oauth/v3/device/code"), &pairs)
}

/// `POST {base}/oauth/v3/device/token` for the default client with `device_code`.
pub fn device_poll(base: &str, device_code: &str) -> Reply {
    post_form(
        &format!("{base}/oauth/v3/device/token"),
        &[
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("grant_type", "device_token"),
            ("code", device_code),
        ],
    )
}

/// `POST` the client-credentials grant for the default client at `base`, plus `extra` parameters.
pub fn client_credentials(base: &str, extra: &[(&str, &str)]) -> Reply {
    let mut pairs = vec![
        ("grant_type", "client_credentials"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("client_secret", DEFAULT_CLIENT_SECRET),
        ("scope", "ZohoCRM.org.READ"),
    ];
    merge(&mut pairs, extra);
    post_form(&format!("{base}/oauth/v2/token"), &pairs)
}

/// `GET {base}/oauth/v2/auth` with `query`.
pub fn authorize_at(base: &str, query: &[(&str, &str)]) -> Reply {
    let query = serde_urlencoded::to_string(query).unwrap();
    get(&format!("{base}/oauth/v2/auth?{query}"), None)
}

/// The decoded query parameters of a 302's `Location`, after checking it goes to `target`.
pub fn redirect_params(reply: &Reply, target: &str) -> Vec<(String, String)> {
    assert_eq!(reply.status, 302, "{}", reply.body);
    let location = reply.location.as_deref().expect("a Location header");
    let (to, query) = location.split_once('?').expect("a query");
    assert_eq!(to, target);
    serde_urlencoded::from_str(query).unwrap()
}

/// One parameter of [`redirect_params`].
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The `value` of the element with `id="{id}"` (or of the named hidden input) in an HTML page,
/// as a browser would read it from the form.
pub fn html_value(html: &str, marker: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no `{marker}` in {html}"));
    let rest = &html[at..];
    let start = rest.find("value=\"").expect("a value attribute") + "value=\"".len();
    let end = rest[start..].find('"').expect("a closing quote");
    rest[start..start + end].to_owned()
}
