//! `token` and `header`: print a valid access token (or the whole header line) for scripts.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use zoho_oauth::core::Config;
use zoho_oauth::{AccessToken, Client, CredentialKey, TokenStore};

use crate::context::Ctx;
use crate::exit::CliError;
use crate::{human, out};

/// Print the access token (`header == false`) or `Authorization: Zoho-oauthtoken …`.
pub fn run(ctx: &Ctx, header: bool) -> Result<(), CliError> {
    let store = ctx.store()?;
    let client = ctx.client_with(Arc::clone(&store))?;
    let user = ctx.user(&client)?;
    let token = valid_token(&client, store.as_ref(), &user)?;
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
        println!("Authorization: {}", token.header_value().as_str());
    } else {
        println!("{}", token.secret());
    }
    Ok(())
}

/// A valid access token, refreshed if it is due. When the refresh fails (or is on hold: backoff,
/// throttle, spent budget) but the stored token has not expired, the client serves that token;
/// this says so on stderr.
pub fn valid_token(
    client: &Client,
    store: &dyn TokenStore,
    user: &str,
) -> Result<AccessToken, CliError> {
    let token = client.access_token(user)?;
    let now = SystemTime::now();
    if still_due(store, &client.key(user), &token, now) {
        out::warn(format!(
            "could not refresh the access token of {user} (rerun with -v for why); the stored one is still valid and {} — using it",
            human::expiry(token.expires_at(), now)
        ));
        tracing::warn!(
            user,
            "served a still-valid token after a failed or deferred refresh"
        );
    }
    Ok(token)
}

/// Whether `token` is the stored one and is past its refresh time (expiry minus the margin,
/// which the client clamps to half the token's lifetime): then the refresh did not happen.
fn still_due(
    store: &dyn TokenStore,
    key: &CredentialKey,
    token: &AccessToken,
    now: SystemTime,
) -> bool {
    let Ok(Some(stored)) = store.load(key) else {
        return false;
    };
    let lifetime = stored
        .expires_at
        .saturating_duration_since(stored.issued_at);
    let margin = Config::default().refresh_margin.min(lifetime / 2);
    let refresh_at = token.expires_at().checked_sub(margin).unwrap_or(UNIX_EPOCH);
    let same = human::unix_millis(token.expires_at()) == stored.expires_at.as_millis();
    same && now >= refresh_at
}
