//! The device flow: `POST /oauth/v3/device/code` and `POST /oauth/v3/device/token` for the device,
//! and the verification page (`GET`/`POST /oauth/v3/device`) where a person enters the user code.
//!
//! Errors are `{"error": …}` bodies with [`Limits::device_error_status`](crate::Limits) (200 by
//! default): Zoho does not document the status, so clients must decide by the body.

use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::json;

use super::gate::admit;
use super::html::{error_page, escape, page};
use super::params::Params;
use super::token::token_response;
use super::{json_response, json_text, AppState};
use crate::conn::ConnControl;
use crate::state::{DeviceIssued, PollOutcome};

/// The verification page's path, `verification_url` in the initiation's answer.
pub(crate) const VERIFICATION_PATH: &str = "/oauth/v3/device";

/// The initiation's answer, fields in the order of Zoho's documentation.
#[derive(Serialize)]
struct CodeBody<'a> {
    user_code: &'a str,
    device_code: &'a str,
    interval: u64,
    expires_in: u64,
    verification_url: String,
}

fn error_body(app: &AppState, body: serde_json::Value) -> Response {
    let status = app.model().limits.device_error_status;
    json_response(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body)
}

/// `POST /oauth/v3/device/code`.
pub(crate) async fn code(
    State(app): State<AppState>,
    ConnectInfo(conn): ConnectInfo<ConnControl>,
    params: Params,
) -> Response {
    let _in_flight = match admit(&app, &conn, |model| {
        model.counters.device_code_requests += 1
    })
    .await
    {
        Ok(in_flight) => in_flight,
        Err(fault) => return fault,
    };
    let mut model = app.model();
    let issued = model.request_device_code(
        app.data_center,
        params.get("client_id"),
        params.get("grant_type"),
        params.get("scope"),
        params.get("access_type"),
        params.get("prompt"),
    );
    let in_ms = model.limits.device_times_in_ms;
    drop(model);
    match issued {
        Ok(DeviceIssued {
            device_code,
            user_code,
            interval,
            expires_in,
        }) => {
            let unit = |d: std::time::Duration| {
                let value = if in_ms {
                    d.as_millis()
                } else {
                    u128::from(d.as_secs())
                };
                u64::try_from(value).unwrap_or(u64::MAX)
            };
            let base = app.topology.base_url(app.data_center).unwrap_or_default();
            let body = CodeBody {
                user_code: &user_code,
                device_code: &device_code,
                interval: unit(interval),
                expires_in: unit(expires_in),
                verification_url: format!("{base}{VERIFICATION_PATH}"),
            };
            json_text(
                StatusCode::OK,
                serde_json::to_string(&body).unwrap_or_default(),
            )
        }
        Err(error) => error_body(&app, json!({ "error": error })),
    }
}

/// `POST /oauth/v3/device/token`.
pub(crate) async fn token(
    State(app): State<AppState>,
    ConnectInfo(conn): ConnectInfo<ConnControl>,
    params: Params,
) -> Response {
    let _in_flight = match admit(&app, &conn, |model| {
        model.counters.device_token_requests += 1
    })
    .await
    {
        Ok(in_flight) => in_flight,
        Err(fault) => return fault,
    };
    let mut model = app.model();
    let outcome = model.poll_device(
        app.data_center,
        params.get("client_id"),
        params.get("client_secret"),
        params.get("grant_type"),
        params.get("code"),
    );
    let legacy = model.limits.legacy_expires;
    drop(model);
    match outcome {
        PollOutcome::Minted(minted) => token_response(&app, &minted, legacy),
        PollOutcome::Error(error) => error_body(&app, json!({ "error": error })),
        PollOutcome::OtherDc(home) => error_body(
            &app,
            json!({ "error": "other_dc", "user_location": home.location() }),
        ),
    }
}

/// `GET /oauth/v3/device[?user_code=…]`: the form where a person enters the code and decides.
pub(crate) async fn verification_page(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::from_query(query.as_deref());
    let user_code = escape(params.get("user_code").unwrap_or_default());
    let email = escape(&app.model().consent().user);
    let body = format!(
        "<h1>Connect a device to your Zoho account</h1>\n\
         <form id=\"device\" method=\"post\" action=\"{VERIFICATION_PATH}\">\n\
         <label>Code shown on the device <input id=\"user_code\" name=\"user_code\" value=\"{user_code}\" autocomplete=\"off\"></label>\n\
         <label>Signed in as <input id=\"email\" name=\"email\" value=\"{email}\"></label>\n\
         <button type=\"submit\" id=\"accept\" name=\"decision\" value=\"accept\">Accept</button>\n\
         <button type=\"submit\" id=\"deny\" name=\"decision\" value=\"deny\">Deny</button>\n\
         </form>"
    );
    page(StatusCode::OK, "Zoho Accounts - Connect a device", &body)
}

/// `POST /oauth/v3/device`: the person's decision on a user code.
pub(crate) async fn verification_submit(State(app): State<AppState>, params: Params) -> Response {
    let user_code = params.get("user_code").unwrap_or_default();
    let result = match params.get("decision") {
        Some("accept") => {
            let email = params
                .get("email")
                .map_or_else(|| app.model().consent().user.clone(), str::to_owned);
            app.model()
                .approve_device(user_code, &email)
                .map(|()| "Access granted: you may return to your device.")
        }
        Some("deny") => app
            .model()
            .deny_device(user_code)
            .map(|()| "Access denied: the device will not be connected."),
        _ => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Invalid Request",
                "Click Accept or Deny.",
            )
        }
    };
    match result {
        Ok(done) => page(
            StatusCode::OK,
            "Zoho Accounts - Device",
            &format!("<h1 id=\"result\">{}</h1>", escape(done)),
        ),
        Err(e) => error_page(StatusCode::BAD_REQUEST, "Invalid Code", &e.to_string()),
    }
}
