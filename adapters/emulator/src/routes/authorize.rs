//! `GET /oauth/v2/auth`, the browser flow: a redirect at once, or Zoho's consent page whose form
//! posts the person's decision to `POST /oauth/v2/auth/consent`.

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::html::{error_page, escape, page};
use super::params::Params;
use super::AppState;
use crate::state::{AuthorizeOutcome, AuthorizeRequest, ConsentPage, Decision};

/// The path the consent page's form posts to.
pub(crate) const CONSENT_PATH: &str = "/oauth/v2/auth/consent";

/// Handles one authorization request: a 302 to the redirect URI, the consent page, or a 400 error page.
pub(crate) async fn handle(State(app): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let params = Params::from_query(query.as_deref());
    let request = AuthorizeRequest {
        client_id: params.get("client_id"),
        response_type: params.get("response_type"),
        redirect_uri: params.get("redirect_uri"),
        scope: params.get("scope"),
        access_type: params.get("access_type"),
        prompt: params.get("prompt"),
        state: params.get("state"),
        code_challenge: params.get("code_challenge"),
        code_challenge_method: params.get("code_challenge_method"),
    };
    let outcome = app.model().authorize(app.data_center, &request);
    answer(&app, outcome)
}

/// The consent page's form: `consent_id` and the clicked button's `decision` (`accept` or `deny`).
pub(crate) async fn decide(State(app): State<AppState>, params: Params) -> Response {
    let decision = match params.get("decision") {
        Some("accept") => Decision::Accept,
        Some("deny") => Decision::Deny,
        _ => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Invalid Request",
                "Click Accept or Deny on the consent page.",
            )
        }
    };
    let ticket = params.get("consent_id").unwrap_or_default();
    let outcome = app.model().decide_consent(ticket, decision);
    answer(&app, outcome)
}

fn answer(app: &AppState, outcome: AuthorizeOutcome) -> Response {
    match outcome {
        AuthorizeOutcome::Redirect {
            redirect_uri,
            data_center,
            code,
            state,
        } => {
            let accounts_server = app.topology.base_url(data_center).unwrap_or_default();
            let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(4);
            match &code {
                Ok(code) => pairs.push(("code", code)),
                Err(error) => pairs.push(("error", error)),
            }
            pairs.push(("location", data_center.location()));
            pairs.push(("accounts-server", accounts_server));
            if let Some(state) = &state {
                pairs.push(("state", state));
            }
            let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            let separator = if redirect_uri.contains('?') { '&' } else { '?' };
            let location = format!("{redirect_uri}{separator}{query}");
            (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
        }
        AuthorizeOutcome::Page(consent) => consent_page(&consent),
        AuthorizeOutcome::Refused { title, detail } => {
            error_page(StatusCode::BAD_REQUEST, title, &detail)
        }
    }
}

/// Zoho's consent page, reduced to what a person (or a headless browser) needs: who asks, for
/// what, as whom, and two buttons with stable ids.
fn consent_page(consent: &ConsentPage) -> Response {
    let app_name = escape(&consent.app_name);
    let scopes: String = consent
        .scopes
        .iter()
        .map(|s| format!("<li>{}</li>", escape(s)))
        .collect();
    let body = format!(
        "<h1><span id=\"app-name\">{app_name}</span> would like to access your Zoho account</h1>\n\
         <p>Signed in as <strong id=\"user\">{user}</strong></p>\n\
         <p>{app_name} requests permission to:</p>\n\
         <ul id=\"scopes\">{scopes}</ul>\n\
         <form id=\"consent\" method=\"post\" action=\"{CONSENT_PATH}\">\n\
         <input type=\"hidden\" name=\"consent_id\" value=\"{ticket}\">\n\
         <button type=\"submit\" id=\"accept\" name=\"decision\" value=\"accept\">Accept</button>\n\
         <button type=\"submit\" id=\"deny\" name=\"decision\" value=\"deny\">Deny</button>\n\
         </form>",
        user = escape(&consent.user),
        ticket = escape(&consent.ticket),
    );
    page(
        StatusCode::OK,
        &format!("Zoho Accounts - Authorize {}", consent.app_name),
        &body,
    )
}
