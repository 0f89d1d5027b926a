//! `POST /oauth/v2/token`: code exchange and refresh, with Zoho's errors as HTTP-200 bodies.

use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::params::Params;
use super::{json_response, json_text, AppState};
use crate::conn::ConnControl;
use crate::faults;
use crate::state::{errors, Model, TokenOutcome};

/// Counts a token request as in flight for as long as it lives, even if its task is dropped.
struct InFlight(Arc<Mutex<Model>>);

impl InFlight {
    fn enter(model: &Arc<Mutex<Model>>) -> Self {
        model
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .counters
            .enter();
        InFlight(Arc::clone(model))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .counters
            .leave();
    }
}

/// Zoho's success body, fields in Zoho's order.
#[derive(Serialize)]
struct TokenBody<'a> {
    access_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    scope: &'a str,
    api_domain: &'a str,
    token_type: &'static str,
    /// Only in the legacy dialect, where `expires_in` is then in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in_sec: Option<u64>,
    expires_in: u64,
}

/// Handles one token request.
pub(crate) async fn handle(
    State(app): State<AppState>,
    ConnectInfo(conn): ConnectInfo<ConnControl>,
    params: Params,
) -> Response {
    let _in_flight = InFlight::enter(&app.model);
    let grant_type = params.get("grant_type");
    let (latency, fault, throttle_status) = {
        let mut model = app.model();
        model.count_token_request(grant_type, params.get("refresh_token"));
        (
            model.latency,
            model.next_fault(),
            model.limits.throttle_status,
        )
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(fault) = fault {
        return faults::respond(fault, &conn, throttle_status).await;
    }

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
        ),
        Some("refresh_token") => model.refresh(
            app.data_center,
            client_id,
            client_secret,
            params.get("refresh_token"),
        ),
        _ => TokenOutcome::Refused(errors::UNSUPPORTED_GRANT_TYPE),
    };
    let legacy = model.limits.legacy_expires;
    let throttle_status = model.limits.throttle_status;
    drop(model);

    match outcome {
        TokenOutcome::Minted(minted) => {
            let api_domain = app
                .topology
                .api_domain(minted.data_center, minted.environment)
                .unwrap_or_default();
            let seconds = minted.lifetime.as_secs();
            let body = TokenBody {
                access_token: &minted.access_token,
                refresh_token: minted.refresh_token.as_deref(),
                scope: &minted.scope,
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
        TokenOutcome::Refused(error) => {
            json_response(StatusCode::OK, serde_json::json!({ "error": error }))
        }
        TokenOutcome::Throttled => faults::throttle_response(throttle_status),
    }
}
