//! `revoke`: revoke the refresh token at Zoho and delete the credential locally; `delete`: delete
//! it locally only. Both go through the library's locked cycle, so a refresh in flight in another
//! process cannot write the credential back; both work on a damaged entry too.

use serde_json::json;
use zoho_oauth::{AtZoho, Client};

use crate::context::Ctx;
use crate::exit::CliError;
use crate::out;
use crate::spinner::while_waiting;

/// What progress lines say while a removal waits.
const WAITING: &str = "waiting for Zoho or for the credential's lock";

/// The last four characters of `user`'s refresh token, and whether its entry is damaged.
fn describe(client: &Client, user: &str) -> Result<(String, bool), CliError> {
    Ok(client
        .status()?
        .into_iter()
        .find(|s| s.user == user)
        .map(|s| (s.hint, s.damaged.is_some()))
        .unwrap_or_default())
}

/// Revoke the user's credential at Zoho, then delete it here.
pub fn run(ctx: &Ctx) -> Result<(), CliError> {
    let client = ctx.client()?;
    let user = ctx.user(&client)?;
    let (hint, _) = describe(&client, &user)?;
    let removed = while_waiting(WAITING, || client.revoke(&user))?;
    let at_zoho = match removed.at_zoho {
        AtZoho::Revoked => "revoked",
        AtZoho::AlreadyGone => "already_gone",
        AtZoho::NothingToRevoke => "nothing_to_revoke",
        AtZoho::Unreadable => "unreadable",
        _ => "not_asked",
    };
    if ctx.json {
        out::json(&json!({
            "user": user,
            "revoked": matches!(removed.at_zoho, AtZoho::Revoked | AtZoho::AlreadyGone),
            "at_zoho": at_zoho,
            "deleted": true,
            "refresh_token_last4": hint,
        }));
        return Ok(());
    }
    let store = ctx.settings.store.display();
    match removed.at_zoho {
        AtZoho::Revoked => out::line(format!(
            "{user}: refresh token …{hint} revoked at Zoho (with every access token minted from it) and deleted from {store}"
        )),
        AtZoho::AlreadyGone => out::line(format!(
            "{user}: Zoho no longer knew refresh token …{hint} (already revoked or evicted); deleted from {store}"
        )),
        AtZoho::NothingToRevoke => out::line(format!(
            "{user}: a client-credentials credential has no refresh token to revoke (its access token expires by itself); deleted from {store}"
        )),
        _ => {
            out::line(format!(
                "{user}: the stored entry was damaged, so its refresh token could not be read or revoked; deleted from {store}"
            ));
            out::warn(
                "Zoho was not asked to revoke it: the refresh token may still be valid there",
                Some("if it may still be valid, revoke it from the connected apps of the Zoho account"),
            );
        }
    }
    Ok(())
}

/// Delete the user's credential from the store only.
pub fn delete(ctx: &Ctx) -> Result<(), CliError> {
    let client = ctx.client()?;
    let user = ctx.user(&client)?;
    let (hint, damaged) = describe(&client, &user)?;
    while_waiting(WAITING, || client.delete(&user))?;
    let store = ctx.settings.store.display();
    if ctx.json {
        out::json(&json!({
            "user": user,
            "deleted": true,
            "was_damaged": damaged,
            "refresh_token_last4": hint,
            "store": store,
        }));
    } else if damaged {
        out::line(format!("{user}: deleted the damaged entry from {store}"));
    } else {
        out::line(format!(
            "{user}: deleted from {store}; Zoho was not asked, so refresh token …{hint} stays valid there until revoked"
        ));
    }
    Ok(())
}
