//! `token` and `header`: print a valid access token (or the whole header line) for scripts.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::json;
use zoho_oauth::{AccessToken, Client};

use crate::context::Ctx;
use crate::exit::CliError;
use crate::spinner::while_waiting;
use crate::{human, out};

/// Print the access token (`header == false`) or `Authorization: Zoho-oauthtoken …`.
pub fn run(ctx: &Ctx, header: bool) -> Result<(), CliError> {
    let store = ctx.store()?;
    let client = ctx.client_with(Arc::clone(&store))?;
    let user = ctx.user(&client)?;
    let token = valid_token(&client, &user)?;
    if ctx.json {
        let mut v = json!({
            "user": user,
            "access_token": token.secret(),
            "api_domain": token.api_domain(),
            "expires_at": human::unix_secs(token.expires_at()),
            "expires_at_rfc3339": human::clock_time(token.expires_at()),
        });
        if header {
            v["header"] = json!(format!("Authorization: {}", token.header_value().as_str()));
        }
        out::json(&v);
    } else if header {
        out::line(format!("Authorization: {}", token.header_value().as_str()));
    } else {
        out::line(token.secret());
    }
    Ok(())
}

/// A valid access token, refreshed if it is due. When the refresh fails (or is on hold: backoff,
/// throttle, spent budget, another process holding the lock) but the stored token has not
/// expired, the client serves that token with the refresh's error; this says so on stderr in two
/// lines: that the still-valid token is used and why (the library's own words), then what to do.
pub fn valid_token(client: &Client, user: &str) -> Result<AccessToken, CliError> {
    let (token, refresh_error) = while_waiting(
        "getting an access token (waiting for Zoho or for the credential's lock)",
        || client.access_token_with_refresh_error(user),
    )?;
    if let Some(e) = refresh_error {
        out::warn(
            format!(
                "using the still valid access token of {user} ({}); it could not be refreshed: {}",
                human::expiry(token.expires_at(), SystemTime::now()),
                e.what()
            ),
            Some(&e.todo()),
        );
        tracing::warn!(
            user,
            "served a still-valid token after a failed or deferred refresh"
        );
    }
    Ok(token)
}
