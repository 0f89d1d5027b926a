//! `POST /oauth/v2/token`: code exchange (with PKCE), refresh and client credentials, with Zoho's
//! errors as HTTP-200 bodies.

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::gate::admit;
use super::params::Params;
use super::{json_response, json_text, AppState};
use crate::conn::ConnControl;
use crate::faults;
use crate::state::{errors, Minted, TokenOutcome};

/// Zoho's success body, fields in Zoho's order.
#[derive(Serialize)]
struct TokenBody<'a> {
    access_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    api_domain: &'a str,
    token_type: &'static str,
    /// Only in the legacy dialect, where `expires_in` is then in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in_sec: Option<u64>,
    expires_in: u64,
}

/// The HTTP-200 token response of a mint, in the configured dialect.
pub(crate) fn token_response(app: &AppState, minted: &Minted, legacy: bool) -> Response {
    let api_domain = app
        .topology
        .api_domain(minted.data_center, minted.environment)
        .unwrap_or_default();
    let seconds = minted.lifetime.as_secs();
    let body = TokenBody {
        access_token: &minted.access_token,
        refresh_token: minted.refresh_token.as_deref(),
        scope: minted.scope.as_deref(),
        api_domain: &api_domain,
        token_type: "Bearer",
        expires_in_sec: legacy.then_some(seconds),
        expires_in: if legacy {
            seconds.saturating_mul(1000)
        } else {
            seconds
        },
    };
    // Serialized from the struct, not a `Value`, to keep Zoho's field order.
    json_text(
        StatusCode::OK,
        serde_json::to_string(&body).unwrap_or_default(),
    )
}

/// Handles one token request.
pub(crate) async fn handle(
    State(app): State<AppState>,
    ConnectInfo(conn): ConnectInfo<ConnControl>,
    params: Params,
) -> Response {
    let grant_type = params.get("grant_type");
    let _in_flight = match admit(&app, &conn, |model| {
        model.count_token_request(grant_type, params.get("refresh_token"));
    })
    .await
    {
        Ok(in_flight) => in_flight,
        Err(fault) => return fault,
    };

    let mut model = app.model();
    let client_id = params.get("client_id");
    let client_secret = params.get("client_secret");
    let outcome = match grant_type {
        Some("authorization_code") => model.exchange_code(
            app.data_center,
            client_id,
            client_secret,
            params.get("code"),
            params.get("redirect_uri"),
            params.get("code_verifier"),
        ),
        Some("refresh_token") => model.refresh(
            app.data_center,
            client_id,
            client_secret,
            params.get("refresh_token"),
        ),
        Some("client_credentials") => model.client_credentials(
            app.data_center,
            client_id,
            client_secret,
            params.get("scope"),
            params.get("soid"),
        ),
        _ => TokenOutcome::Refused(errors::UNSUPPORTED_GRANT_TYPE),
    };
    let legacy = model.limits.legacy_expires;
    let throttle_status = model.limits.throttle_status;
    drop(model);

    match outcome {
        TokenOutcome::Minted(minted) => token_response(&app, &minted, legacy),
        TokenOutcome::Refused(error) => {
            json_response(StatusCode::OK, serde_json::json!({ "error": error }))
        }
        TokenOutcome::Throttled => faults::throttle_response(throttle_status),
    }
}
