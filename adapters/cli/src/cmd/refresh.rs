//! `refresh [--force]`: mint a new access token now if it is due, or always with `--force`.

use std::time::SystemTime;

use serde_json::json;

use crate::args::RefreshArgs;
use crate::context::Ctx;
use crate::exit::CliError;
use crate::{human, out};

/// Refresh the user's access token.
pub fn run(ctx: &Ctx, args: &RefreshArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let user = ctx.user(&client)?;
    let before = client
        .status()?
        .into_iter()
        .find(|s| s.user == user)
        .and_then(|s| s.access_expires_at);
    let token = client.refresh(&user, args.force)?;
    let refreshed = before != Some(token.expires_at());
    let now = SystemTime::now();
    if ctx.json {
        out::json(&json!({
            "user": user,
            "refreshed": refreshed,
            "api_domain": token.api_domain(),
            "expires_at": human::unix_secs(token.expires_at()),
            "expires_at_rfc3339": human::clock_time(token.expires_at()),
        }));
    } else if refreshed {
        println!(
            "{user}: new access token {}, {}",
            out::hint(token.secret()),
            human::expiry(token.expires_at(), now)
        );
    } else {
        println!(
            "{user}: the access token is still fresh ({}); nothing to do (use --force to refresh anyway)",
            human::expiry(token.expires_at(), now)
        );
    }
    Ok(())
}
