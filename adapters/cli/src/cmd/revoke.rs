//! `revoke`: revoke the refresh token at Zoho and delete the credential locally.

use serde_json::json;

use crate::context::Ctx;
use crate::exit::CliError;
use crate::out;

/// Revoke the user's credential.
pub fn run(ctx: &Ctx) -> Result<(), CliError> {
    let client = ctx.client()?;
    let user = ctx.user(&client)?;
    let hint = client
        .status()?
        .into_iter()
        .find(|s| s.user == user)
        .map(|s| s.refresh_hint)
        .unwrap_or_default();
    client.revoke(&user)?;
    if ctx.json {
        out::json(&json!({ "user": user, "revoked": true, "refresh_token_last4": hint }));
    } else {
        println!(
            "{user}: refresh token …{hint} revoked at Zoho (with every access token minted from it) and deleted from {}",
            ctx.settings.store.display()
        );
    }
    Ok(())
}
