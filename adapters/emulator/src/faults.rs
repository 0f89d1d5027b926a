//! Faults a test can queue for the next token requests: the ways a proxy or an outage misbehaves.

use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::conn::ConnControl;

/// One way to answer a token request other than normally, queued with
/// [`Emulator::queue_fault`](crate::Emulator::queue_fault) or `POST /_emulator/faults`.
///
/// A faulted request is counted (by grant type and in `faults_injected`) but not processed: no code
/// is consumed and no token minted. In JSON a fault is its snake_case name (`"server_error"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Fault {
    /// HTTP 500 with an HTML error page, as an overloaded front end answers.
    ServerError,
    /// HTTP 200 with an HTML page (a captive portal or a proxy's login page).
    HtmlOk,
    /// A success-shaped JSON body whose `Content-Length` promises more than is sent before the
    /// connection closes.
    TruncatedBody,
    /// The connection is closed (FIN) after the request is read, without a byte of response.
    CloseWithoutResponse,
    /// The connection is reset (RST) after the request is read, without a byte of response.
    ConnectionReset,
    /// No answer at all until the emulator stops: longer than any client timeout.
    Hang,
    /// Zoho's throttle body ("Access Denied"), with the configured throttle status.
    Throttle,
}

/// Zoho's throttle body.
pub(crate) const THROTTLE_BODY: &str = r#"{"error":"Access Denied","error_description":"You have made too many requests continuously. Please try again after some time.","status":"failure"}"#;

const OUTAGE_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\
<body><h1>Internal Server Error</h1><p>The server encountered an internal error. Please try again later.</p></body></html>\n";

const PORTAL_PAGE: &str =
    "<!DOCTYPE html>\n<html><head><title>Sign in to the network</title></head>\
<body><h1>Sign in</h1><p>You must accept the terms of use before browsing.</p></body></html>\n";

/// A success-shaped body for [`Fault::TruncatedBody`]: it is never delivered whole.
const TRUNCATED_SOURCE: &str = r#"{"access_token":"1000.00000000000000000000000000000000.00000000000000000000000000000000","scope":"ZohoCRM.modules.ALL","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":3600}"#;

/// The throttle response with the given status (200 or 400 at Zoho).
pub(crate) fn throttle_response(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        THROTTLE_BODY,
    )
        .into_response()
}

/// Answers a request with `fault`. For [`Fault::Hang`] this never returns; the task is dropped when
/// the emulator stops.
pub(crate) async fn respond(fault: Fault, conn: &ConnControl, throttle_status: u16) -> Response {
    match fault {
        Fault::ServerError => {
            (StatusCode::INTERNAL_SERVER_ERROR, Html(OUTAGE_PAGE)).into_response()
        }
        Fault::HtmlOk => (StatusCode::OK, Html(PORTAL_PAGE)).into_response(),
        Fault::TruncatedBody => {
            conn.truncate_body_after(TRUNCATED_SOURCE.len() / 2);
            json_ok(TRUNCATED_SOURCE)
        }
        Fault::CloseWithoutResponse => {
            conn.close_without_response();
            json_ok("{}")
        }
        Fault::ConnectionReset => {
            conn.reset();
            json_ok("{}")
        }
        Fault::Hang => loop {
            // Real time on purpose: a hang outlives client timeouts, and ends with the runtime.
            tokio::time::sleep(Duration::from_secs(3600)).await;
        },
        Fault::Throttle => throttle_response(throttle_status),
    }
}

fn json_ok(body: &'static str) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body,
    )
        .into_response()
}
