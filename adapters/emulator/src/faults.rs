//! Faults a test can queue for the next token requests: the ways a proxy or an outage misbehaves,
//! and the hostile answers a security test needs (huge, endless or dripping bodies, endless
//! headers, invalid UTF-8, a redirect, tokens that could split a header, a foreign `api_domain`).

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::bodies::{Drip, Generated};
use crate::conn::ConnControl;

/// The `api_domain` of [`Fault::ForeignApiDomain`]: not a Zoho API domain, though it starts like one.
pub const FOREIGN_API_DOMAIN: &str = "https://www.zohoapis.com.attacker.example";

/// The path, on the same port, that [`Fault::Redirect`] sends the client to.
pub const REDIRECT_TARGET_PATH: &str = "/_emulator/redirect-target";

/// The size of [`Fault::HugeBody`]: 50 MiB.
pub const HUGE_BODY_BYTES: u64 = 50 * 1024 * 1024;

/// The pace of [`Fault::DripBody`]: one byte per second.
pub const DRIP_INTERVAL: Duration = Duration::from_secs(1);

/// One way to answer a token request other than normally, queued with
/// [`Emulator::queue_fault`](crate::Emulator::queue_fault) or `POST /_emulator/faults`.
///
/// A faulted request is counted (by grant type and in `faults_injected`) but not processed: no code
/// is consumed and no token minted. The queue serves the token endpoint and both device-flow
/// endpoints, in arrival order. In JSON a fault is its snake_case name (`"server_error"`).
///
/// The success-shaped bodies of the hostile faults carry tokens the emulator never minted: they
/// are for checking that a client refuses them, not for using.
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
    /// HTTP 200, `Content-Length` of [`HUGE_BODY_BYTES`] (50 MiB), a JSON-looking body streamed in
    /// full: a client must cap what it reads.
    HugeBody,
    /// HTTP 200, a chunked JSON-looking body that never ends: a client must cap what it reads.
    EndlessChunkedBody,
    /// HTTP 200 with a success-shaped body and its `Content-Length`, sent one byte per
    /// [`DRIP_INTERVAL`] (real time): a client needs an overall deadline, not only a read timeout.
    DripBody,
    /// A status line, then header lines forever, never a body: a client must cap the head's size.
    EndlessHeaders,
    /// HTTP 200 `application/json` whose body is not valid UTF-8.
    InvalidUtf8,
    /// HTTP 302 to [`REDIRECT_TARGET_PATH`] on the same port, which answers a success-shaped body and
    /// counts [`Counters::redirects_followed`](crate::Counters::redirects_followed): a token client
    /// must never follow it.
    Redirect,
    /// A success-shaped body whose `access_token` holds CR LF and a header line
    /// (`…\r\nX-Injected: 1`): a client must refuse to put it in a header.
    CrlfInToken,
    /// A success-shaped body whose `access_token` holds a space.
    SpaceInToken,
    /// A success-shaped body whose `api_domain` is [`FOREIGN_API_DOMAIN`]: a client must not send
    /// the token there.
    ForeignApiDomain,
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

/// Answers a request with `fault`; `base_url` is the origin of the port answering (its production
/// API domain and the redirect's target). For [`Fault::Hang`] this never returns, and the endless
/// ones never finish sending: their tasks are dropped when the emulator stops.
pub(crate) async fn respond(
    fault: Fault,
    conn: &ConnControl,
    throttle_status: u16,
    base_url: &str,
) -> Response {
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
        Fault::HugeBody => json_body(Body::new(Generated::sized(
            b"{\"access_token\":\"",
            HUGE_BODY_BYTES,
            b"\"}",
        ))),
        Fault::EndlessChunkedBody => {
            json_body(Body::new(Generated::endless(b"{\"access_token\":\"")))
        }
        Fault::DripBody => json_body(Body::new(Drip::new(
            Bytes::from(fake_token_body(FAKE_TOKEN, base_url)),
            DRIP_INTERVAL,
        ))),
        Fault::EndlessHeaders => {
            conn.endless_headers();
            json_ok("{}")
        }
        Fault::InvalidUtf8 => {
            let mut body = br#"{"access_token":"1000."#.to_vec();
            body.extend_from_slice(b"\xff\xfe\xc3\x28");
            body.extend_from_slice(br#"","token_type":"Bearer","expires_in":3600}"#);
            json_body(Body::from(body))
        }
        Fault::Redirect => (
            StatusCode::FOUND,
            [(
                header::LOCATION,
                format!("{base_url}{REDIRECT_TARGET_PATH}"),
            )],
        )
            .into_response(),
        Fault::CrlfInToken => json_body(Body::from(fake_token_body(
            &format!("{FAKE_TOKEN}\r\nX-Injected: 1"),
            base_url,
        ))),
        Fault::SpaceInToken => json_body(Body::from(fake_token_body(
            &format!("{FAKE_TOKEN} {FAKE_TOKEN}"),
            base_url,
        ))),
        Fault::ForeignApiDomain => {
            json_body(Body::from(fake_token_body(FAKE_TOKEN, FOREIGN_API_DOMAIN)))
        }
    }
}

/// A Zoho-shaped access token the emulator never minted.
const FAKE_TOKEN: &str = "1000.0123456789abcdef0123456789abcdef.fedcba9876543210fedcba9876543210";

/// A refresh answer's body with the given access token and API domain.
pub(crate) fn fake_token_body(access_token: &str, api_domain: &str) -> String {
    json!({
        "access_token": access_token,
        "scope": "ZohoCRM.modules.ALL",
        "api_domain": api_domain,
        "token_type": "Bearer",
        "expires_in": 3600,
    })
    .to_string()
}

fn json_body(body: Body) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body,
    )
        .into_response()
}

fn json_ok(body: &'static str) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body,
    )
        .into_response()
}
