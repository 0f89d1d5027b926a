//! `POST /oauth/v2/token/revoke`: kill a refresh token and every access token minted from it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::params::Params;
use super::{json_response, AppState};

/// Handles one revocation; `token` may be in the query string or the body.
pub(crate) async fn handle(State(app): State<AppState>, params: Params) -> Response {
    let revoked = app.model().revoke(app.data_center, params.get("token"));
    if revoked {
        json_response(StatusCode::OK, serde_json::json!({"status": "success"}))
    } else {
        json_response(
            StatusCode::BAD_REQUEST,
            serde_json::json!({"status": "failure", "error": "invalid_token"}),
        )
    }
}
