//! `refresh [--force]`: mint a new access token now if it is due, or always with `--force`.

use std::time::SystemTime;

use serde_json::json;

use crate::args::RefreshArgs;
use crate::context::Ctx;
use crate::exit::CliError;
use crate::spinner::while_waiting;
use crate::{human, out};

/// Refresh the user's access token.
pub fn run(ctx: &Ctx, args: &RefreshArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let user = ctx.user(&client)?;
    // A mint the store could not keep is an error (`NotSaved`): `minted` is only ever a saved one.
    let obtained = while_waiting(
        "refreshing (waiting for Zoho or for the credential's lock)",
        || client.refresh(&user, args.force),
    )?;
    let (token, refreshed) = (obtained.token, obtained.minted);
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
        out::line(format!(
            "{user}: new access token {}, {}",
            out::hint(token.secret()),
            human::expiry(token.expires_at(), now)
        ));
    } else {
        out::line(format!(
            "{user}: the access token is still fresh ({}); nothing to do (use --force to refresh anyway)",
            human::expiry(token.expires_at(), now)
        ));
    }
    Ok(())
}
