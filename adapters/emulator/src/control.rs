//! The test-control API under `/_emulator/…` on every data centre's port: JSON in, JSON out.
//!
//! Each route does what the [`Emulator`](crate::Emulator) method of the same name does. Bodies may
//! omit fields: defaults apply, an omitted `data_center` means the data centre of the port called,
//! and `PUT /consent` and `PUT /limits` change only the fields given.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{any, get, post, put};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::{ClientSpec, Consent, Limits, SelfClientCode, UserSpec};
use crate::error::ControlError;
use crate::faults::Fault;
use crate::routes::{json_response, AppState};

/// The control routes, to nest under `/_emulator`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/info", get(info))
        .route("/clients", post(register_client))
        .route("/users", post(register_user))
        .route("/codes", post(mint_code))
        .route("/counters", get(counters))
        .route("/counters/reset", post(reset_counters))
        .route("/access-tokens/expire", post(expire_access_tokens))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance_clock))
        .route(
            "/faults",
            get(pending_faults).post(queue_fault).delete(clear_faults),
        )
        .route("/latency", put(set_latency))
        .route("/consent", get(consent).put(set_consent))
        .route("/limits", get(limits).put(set_limits))
        .route("/device/approve", post(approve_device))
        .route("/device/deny", post(deny_device))
        .route("/redirect-target", any(redirect_target))
}

fn ok(body: Value) -> Response {
    json_response(StatusCode::OK, body)
}

fn refused(error: &ControlError) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        json!({"error": error.kind(), "message": error.to_string()}),
    )
}

/// Parses a JSON body (empty means `{}`), filling absent top-level keys from `defaults`.
fn parse<T: DeserializeOwned>(
    body: &Bytes,
    defaults: &[(&str, Value)],
) -> Result<T, serde_json::Error> {
    let mut value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body)?
    };
    if let Value::Object(map) = &mut value {
        for (key, default) in defaults {
            map.entry(*key).or_insert_with(|| default.clone());
        }
    }
    serde_json::from_value(value)
}

fn bad_json(error: &serde_json::Error) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid_json", "message": format!("the request body is not the expected JSON ({error}): see the emulator's README for the fields")}),
    )
}

fn here(app: &AppState) -> [(&'static str, Value); 1] {
    [("data_center", json!(app.data_center))]
}

async fn info(State(app): State<AppState>) -> Response {
    let data_centers: Vec<Value> = app
        .topology
        .iter()
        .map(|(dc, base)| {
            json!({
                "data_center": dc,
                "accounts_server": base,
                "api_domains": {
                    "production": app.topology.api_domain(dc, crate::Environment::Production),
                    "sandbox": app.topology.api_domain(dc, crate::Environment::Sandbox),
                    "developer": app.topology.api_domain(dc, crate::Environment::Developer),
                },
            })
        })
        .collect();
    let model = app.model();
    let clients: Vec<&ClientSpec> = model.clients().collect();
    let users: Vec<&UserSpec> = model.users().collect();
    ok(json!({
        "data_center": app.data_center,
        "data_centers": data_centers,
        "clients": clients,
        "users": users,
    }))
}

async fn register_client(State(app): State<AppState>, body: Bytes) -> Response {
    let spec: ClientSpec = match parse(&body, &here(&app)) {
        Ok(spec) => spec,
        Err(e) => return bad_json(&e),
    };
    match app.model().register_client(spec) {
        Ok(()) => ok(json!({"status": "success"})),
        Err(e) => refused(&e),
    }
}

async fn register_user(State(app): State<AppState>, body: Bytes) -> Response {
    let spec: UserSpec = match parse(&body, &[]) {
        Ok(spec) => spec,
        Err(e) => return bad_json(&e),
    };
    match app.model().register_user(spec) {
        Ok(()) => ok(json!({"status": "success"})),
        Err(e) => refused(&e),
    }
}

async fn mint_code(State(app): State<AppState>, body: Bytes) -> Response {
    let spec: SelfClientCode = match parse(&body, &here(&app)) {
        Ok(spec) => spec,
        Err(e) => return bad_json(&e),
    };
    match app.model().mint_self_client_code(&spec) {
        Ok(code) => ok(json!({"code": code})),
        Err(e) => refused(&e),
    }
}

async fn counters(State(app): State<AppState>) -> Response {
    ok(json!(app.model().counters))
}

async fn reset_counters(State(app): State<AppState>) -> Response {
    app.model().counters.reset();
    ok(json!({"status": "success"}))
}

async fn expire_access_tokens(State(app): State<AppState>) -> Response {
    app.model().expire_access_tokens();
    ok(json!({"status": "success"}))
}

async fn clock(State(app): State<AppState>) -> Response {
    ok(json!({"now_ms": app.model().now()}))
}

#[derive(Deserialize)]
struct Millis {
    ms: u64,
}

async fn advance_clock(State(app): State<AppState>, body: Bytes) -> Response {
    let Millis { ms } = match parse(&body, &[]) {
        Ok(m) => m,
        Err(e) => return bad_json(&e),
    };
    let mut model = app.model();
    model.clock.advance(Duration::from_millis(ms));
    ok(json!({"now_ms": model.now()}))
}

#[derive(Deserialize)]
struct QueueFault {
    fault: Fault,
    #[serde(default = "one")]
    times: usize,
}

fn one() -> usize {
    1
}

async fn queue_fault(State(app): State<AppState>, body: Bytes) -> Response {
    let QueueFault { fault, times } = match parse(&body, &[]) {
        Ok(q) => q,
        Err(e) => return bad_json(&e),
    };
    let mut model = app.model();
    model.queue_fault(fault, times);
    ok(json!({"pending": model.pending_faults()}))
}

async fn pending_faults(State(app): State<AppState>) -> Response {
    ok(json!({"pending": app.model().pending_faults()}))
}

async fn clear_faults(State(app): State<AppState>) -> Response {
    app.model().clear_faults();
    ok(json!({"pending": 0}))
}

async fn set_latency(State(app): State<AppState>, body: Bytes) -> Response {
    let Millis { ms } = match parse(&body, &[]) {
        Ok(m) => m,
        Err(e) => return bad_json(&e),
    };
    app.model().latency = Duration::from_millis(ms);
    ok(json!({"latency_ms": ms}))
}

async fn consent(State(app): State<AppState>) -> Response {
    ok(json!(app.model().consent()))
}

/// The top-level fields of `current`, as defaults for a partial update.
fn fields_of(current: &impl serde::Serialize) -> Vec<(String, Value)> {
    match serde_json::to_value(current) {
        Ok(Value::Object(map)) => map.into_iter().collect(),
        _ => Vec::new(),
    }
}

fn as_defaults(fields: &[(String, Value)]) -> Vec<(&str, Value)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect()
}

async fn set_consent(State(app): State<AppState>, body: Bytes) -> Response {
    let current = fields_of(app.model().consent());
    let consent: Consent = match parse(&body, &as_defaults(&current)) {
        Ok(c) => c,
        Err(e) => return bad_json(&e),
    };
    match app.model().set_consent(consent) {
        Ok(()) => ok(json!({"status": "success"})),
        Err(e) => refused(&e),
    }
}

#[derive(Deserialize)]
struct DeviceDecision {
    user_code: String,
    /// The approving user; the consenting user when omitted.
    #[serde(default)]
    user: Option<String>,
}

async fn approve_device(State(app): State<AppState>, body: Bytes) -> Response {
    let DeviceDecision { user_code, user } = match parse(&body, &[]) {
        Ok(d) => d,
        Err(e) => return bad_json(&e),
    };
    let mut model = app.model();
    let user = user.unwrap_or_else(|| model.consent().user.clone());
    match model.approve_device(&user_code, &user) {
        Ok(()) => ok(json!({"status": "success"})),
        Err(e) => refused(&e),
    }
}

async fn deny_device(State(app): State<AppState>, body: Bytes) -> Response {
    let DeviceDecision { user_code, .. } = match parse(&body, &[]) {
        Ok(d) => d,
        Err(e) => return bad_json(&e),
    };
    match app.model().deny_device(&user_code) {
        Ok(()) => ok(json!({"status": "success"})),
        Err(e) => refused(&e),
    }
}

/// Where [`Fault::Redirect`] points: counts the clients that followed it, and rewards them with a
/// success-shaped body so that following looks like success to the client (and shows in the count).
async fn redirect_target(State(app): State<AppState>) -> Response {
    app.model().counters.redirects_followed += 1;
    let base_url = app.topology.base_url(app.data_center).unwrap_or_default();
    crate::routes::json_text(
        StatusCode::OK,
        crate::faults::fake_token_body(
            "1000.ffffffffffffffffffffffffffffffff.ffffffffffffffffffffffffffffffff",
            base_url,
        ),
    )
}

async fn limits(State(app): State<AppState>) -> Response {
    ok(json!(app.model().limits))
}

async fn set_limits(State(app): State<AppState>, body: Bytes) -> Response {
    let current = fields_of(&app.model().limits);
    let limits: Limits = match parse(&body, &as_defaults(&current)) {
        Ok(l) => l,
        Err(e) => return bad_json(&e),
    };
    app.model().limits = limits;
    ok(json!({"status": "success"}))
}
