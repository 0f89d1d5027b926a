//! Resource endpoints: `GET /oauth/user/info` and a CRM-like `/crm/v8/users` and `/crm/v8/org`,
//! which accept only live tokens of their own data centre and environment.
//!
//! A client-credentials token acts for an organisation, not a person: the CRM answers with its org
//! (the `soid`'s org id), user info refuses it (there is no user), and `CurrentUser` is empty.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use serde_json::{json, Value};

use super::params::Params;
use super::{json_text, AppState};
use crate::region::Environment;
use crate::state::Authenticated;

/// The id of the one organisation every emulated CRM holds.
const ORG_ID: &str = "10000000001";
/// Its name.
const COMPANY_NAME: &str = "Emulated Company";

/// The access token of an `Authorization` header with the scheme `Zoho-oauthtoken` (or `Bearer` when allowed).
fn access_token(headers: &HeaderMap, allow_bearer: bool) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    let scheme_ok = scheme.eq_ignore_ascii_case("Zoho-oauthtoken")
        || (allow_bearer && scheme.eq_ignore_ascii_case("Bearer"));
    (scheme_ok && !token.is_empty()).then_some(token)
}

fn has_scope(auth: &Authenticated, wanted: impl Fn(&str) -> bool) -> bool {
    auth.scopes.iter().any(|s| wanted(&s.to_ascii_lowercase()))
}

/// Counts the call and its 401, then builds the response.
fn answer(app: &AppState, status: StatusCode, body: Value) -> Response {
    answer_text(app, status, body.to_string())
}

/// [`answer`] with an already serialized body.
fn answer_text(app: &AppState, status: StatusCode, body: String) -> Response {
    let mut model = app.model();
    model.counters.api_calls += 1;
    if status == StatusCode::UNAUTHORIZED {
        model.counters.api_unauthorized += 1;
    }
    json_text(status, body)
}

/// The user-info body, fields in Zoho's order.
#[derive(Serialize)]
struct UserInfo<'a> {
    #[serde(rename = "First_Name")]
    first_name: &'a str,
    #[serde(rename = "Email")]
    email: &'a str,
    #[serde(rename = "Last_Name")]
    last_name: &'a str,
    #[serde(rename = "Display_Name")]
    display_name: &'a str,
    #[serde(rename = "ZUID")]
    zuid: u64,
}

/// `GET /oauth/user/info`: needs `aaaserver.profile.READ` (or `.ALL`), any environment of this data centre.
pub(crate) async fn user_info(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let auth = access_token(&headers, true)
        .and_then(|token| app.model().authenticate(app.data_center, None, token));
    let (status, body) = match auth {
        None => (
            StatusCode::UNAUTHORIZED,
            r#"{"response":"error","cause":"INVALID_OAUTHTOKEN"}"#.to_owned(),
        ),
        Some(Authenticated {
            user: Some(user),
            scopes,
            ..
        }) if scopes.iter().any(|s| {
            let s = s.to_ascii_lowercase();
            s == "aaaserver.profile.read" || s == "aaaserver.profile.all"
        }) =>
        {
            (
                StatusCode::OK,
                serde_json::to_string(&UserInfo {
                    first_name: &user.first_name,
                    email: &user.email,
                    last_name: &user.last_name,
                    display_name: &user.display_name,
                    zuid: user.zuid,
                })
                .unwrap_or_default(),
            )
        }
        // Without the scope, or an org's token (no user to describe).
        Some(_) => (
            StatusCode::UNAUTHORIZED,
            r#"{"response":"error","cause":"INVALID_OAUTHSCOPE"}"#.to_owned(),
        ),
    };
    answer_text(&app, status, body)
}

/// The CRM's check: `Zoho-oauthtoken` header, live token of this data centre and environment, a CRM scope.
fn crm_auth(
    app: &AppState,
    environment: Environment,
    headers: &HeaderMap,
) -> Result<Authenticated, Value> {
    let Some(token) = access_token(headers, false) else {
        return Err(
            json!({"code": "AUTHENTICATION_FAILURE", "details": {}, "message": "Authentication failed", "status": "error"}),
        );
    };
    let Some(auth) = app
        .model()
        .authenticate(app.data_center, Some(environment), token)
    else {
        return Err(
            json!({"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"}),
        );
    };
    if !has_scope(&auth, |s| s.starts_with("zohocrm.")) {
        return Err(
            json!({"code": "OAUTH_SCOPE_MISMATCH", "details": {}, "message": "invalid oauth scope to access this URL", "status": "error"}),
        );
    }
    Ok(auth)
}

fn crm_user(user: &crate::config::UserSpec) -> Value {
    json!({
        "id": user.zuid.to_string(),
        "email": user.email,
        "full_name": user.display_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "zuid": user.zuid.to_string(),
        "status": "active",
    })
}

/// `GET {api_domain}/crm/v8/users?type=CurrentUser` (any other `type`: every registered user).
pub(crate) async fn crm_users(
    State(app): State<AppState>,
    environment: Environment,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let (status, body) = match crm_auth(&app, environment, &headers) {
        Err(body) => (StatusCode::UNAUTHORIZED, body),
        Ok(auth) => {
            let params = Params::from_query(query.as_deref());
            let users: Vec<Value> = if params.get("type") == Some("CurrentUser") {
                auth.user.iter().map(crm_user).collect()
            } else {
                app.model().users().map(crm_user).collect()
            };
            let count = users.len();
            (
                StatusCode::OK,
                json!({
                    "users": users,
                    "info": {"per_page": 200, "count": count, "page": 1, "more_records": false},
                }),
            )
        }
    };
    answer(&app, status, body)
}

/// `GET {api_domain}/crm/v8/org`.
pub(crate) async fn crm_org(
    State(app): State<AppState>,
    environment: Environment,
    headers: HeaderMap,
) -> Response {
    let (status, body) = match crm_auth(&app, environment, &headers) {
        Err(body) => (StatusCode::UNAUTHORIZED, body),
        Ok(auth) => (
            StatusCode::OK,
            json!({"org": [{
                "id": auth.org.as_deref().unwrap_or(ORG_ID),
                "company_name": COMPANY_NAME,
                "primary_email": auth.user.as_ref().map(|u| u.email.as_str()),
                "country_code": app.data_center.location().to_uppercase(),
            }]}),
        ),
    };
    answer(&app, status, body)
}
