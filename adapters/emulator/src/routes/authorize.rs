//! `GET /oauth/v2/auth`: the browser flow, consenting (or denying) at once as the configured user.

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::params::Params;
use super::AppState;
use crate::state::{AuthorizeOutcome, AuthorizeRequest};

/// Handles one authorization request: a 302 to the redirect URI, or a 400 error page.
pub(crate) async fn handle(State(app): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let params = Params::from_query(query.as_deref());
    let request = AuthorizeRequest {
        client_id: params.get("client_id"),
        response_type: params.get("response_type"),
        redirect_uri: params.get("redirect_uri"),
        scope: params.get("scope"),
        access_type: params.get("access_type"),
    };
    let outcome = app.model().authorize(app.data_center, &request);
    match outcome {
        AuthorizeOutcome::Redirect { redirect_uri, code } => {
            let accounts_server = app.topology.base_url(app.data_center).unwrap_or_default();
            let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(4);
            match &code {
                Ok(code) => pairs.push(("code", code)),
                Err(error) => pairs.push(("error", error)),
            }
            pairs.push(("location", app.data_center.location()));
            pairs.push(("accounts-server", accounts_server));
            if let Some(state) = params.get("state") {
                pairs.push(("state", state));
            }
            let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            let separator = if redirect_uri.contains('?') { '&' } else { '?' };
            let location = format!("{redirect_uri}{separator}{query}");
            (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
        }
        AuthorizeOutcome::Refused { title, detail } => (
            StatusCode::BAD_REQUEST,
            Html(format!(
                "<!DOCTYPE html>\n<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{}</p></body></html>\n",
                escape_html(&detail)
            )),
        )
            .into_response(),
    }
}

/// The page echoes request parameters: never let them become markup.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_html;

    #[test]
    fn echoed_parameters_cannot_inject_markup() {
        assert_eq!(escape_html("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }
}
