//! `status`: every stored credential of the configured client, without secrets: expiry, mint
//! budget, a throttle or backoff window shared by every process using the store, a needed
//! re-authorization (and why), and damaged entries. On a MySQL store, also the rows of the
//! official SDKs' `oauthtoken` table that are not credentials (and why), instead of hiding them.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::json;
use zoho_oauth::CredentialStatus;
use zoho_oauth_mysql::UnusableRow;

use crate::context::Ctx;
use crate::exit::CliError;
use crate::{human, out};

/// Print the status of every stored credential.
pub fn run(ctx: &Ctx) -> Result<(), CliError> {
    let opened = ctx.open_store()?;
    let client = ctx.client_with(Arc::clone(&opened.store))?;
    let mut all = client.status()?;
    let mut unusable = match &opened.mysql {
        Some(store) => store
            .unusable_rows()
            .map_err(|e| CliError::from(zoho_oauth::Error::Store(e)))?,
        None => Vec::new(),
    };
    if let Some(user) = &ctx.settings.user {
        all.retain(|s| &s.user == user);
        unusable.retain(|r| r.user_name.as_ref() == Some(user));
    }
    let now = SystemTime::now();
    if !ctx.json {
        note_other_data_centres(ctx, &*opened.store);
    }
    if ctx.json {
        out::json(&serde_json::Value::Array(
            all.iter()
                .map(|s| to_json(s, now))
                .chain(unusable.iter().map(unusable_json))
                .collect(),
        ));
        return Ok(());
    }
    if all.is_empty() {
        out::note(format!(
            "no credential is stored for client {} in {} {} ({})",
            ctx.settings.client_id.as_deref().unwrap_or("?"),
            ctx.settings.data_centers_text(),
            ctx.settings.environment,
            ctx.settings.store.display()
        ));
        out::note("  hint: run `zoho-oauth exchange` or `zoho-oauth login`");
    }
    for (i, s) in all.iter().enumerate() {
        if i > 0 {
            out::line("");
        }
        for line in describe(s, now) {
            out::line(line);
        }
    }
    if !unusable.is_empty() {
        if !all.is_empty() {
            out::line("");
        }
        describe_unusable(&unusable);
    }
    Ok(())
}

/// Say so when the store holds credentials of this client in data centres it is not set up for
/// (stored by a run that allowed them): they are not listed, and a refusal there would puzzle.
fn note_other_data_centres(ctx: &Ctx, store: &dyn zoho_oauth::TokenStore) {
    let settings = &ctx.settings;
    let Ok(keys) = store.list() else { return };
    let mut hidden: Vec<&str> = keys
        .iter()
        .filter(|k| {
            Some(k.client_id.as_str()) == settings.client_id.as_deref()
                && k.environment == settings.environment
                && k.data_center != settings.data_center
                && !settings
                    .other_dcs
                    .iter()
                    .any(|o| o.data_center == k.data_center)
        })
        .map(|k| k.data_center.location_code())
        .collect();
    if hidden.is_empty() {
        return;
    }
    let count = hidden.len();
    hidden.sort_unstable();
    hidden.dedup();
    out::note(format!(
        "note: {count} credential(s) of this client in data centre(s) {} are not shown: allow them with --allowed-dcs {}",
        hidden.join(", "),
        hidden.join(",")
    ));
}

/// One credential as a few human lines (each printed escaped).
pub fn describe(s: &CredentialStatus, now: SystemTime) -> Vec<String> {
    let mut lines = vec![
        s.user.clone(),
        format!("  data centre:   {} {}", s.data_center, s.environment),
    ];
    if let Some(why) = &s.damaged {
        lines.push(format!("  DAMAGED: {why}"));
        lines.push(format!(
            "  it cannot be used or refreshed: delete it with `zoho-oauth delete --user {}` (or `revoke`)",
            s.user
        ));
        return lines;
    }
    let access = match s.access_expires_at {
        Some(at) => format!("{} ({})", human::expiry(at, now), human::clock_time(at)),
        None => "none yet (the next `token` gets one)".to_owned(),
    };
    lines.extend([
        format!("  grant:         {}", s.grant.map_or("?", |g| g.name())),
        format!(
            "  api_domain:    {}",
            if s.api_domain.is_empty() {
                "(not known yet)"
            } else {
                &s.api_domain
            }
        ),
        format!("  access token:  {access}"),
        if is_client_credentials(s) {
            "  refresh token: none (client credentials: a new access token is asked for when due)"
                .to_owned()
        } else {
            format!("  refresh token: …{}", s.hint)
        },
        format!(
            "  mint budget:   {} of {} left in the rolling 10 minutes",
            s.mints_left, s.mint_budget
        ),
    ]);
    if let Some((until, why)) = s.paused_until {
        let why = match why {
            "throttled" => "throttled by Zoho",
            "backoff" => "backing off after failures",
            other => other,
        };
        lines.push(format!(
            "  token requests paused ({why}) until {} ({}); no process sharing this store asks Zoho before then",
            human::clock_time(until),
            human::relative(until, now)
        ));
    }
    if let Some(why) = &s.needs_authorization {
        lines.push(format!("  NEEDS RE-AUTHORIZATION: {why}"));
        lines.push("  run `zoho-oauth login` or `zoho-oauth exchange` for this user".to_owned());
    }
    lines
}

/// Whether the credential is a client-credentials one (no refresh token).
fn is_client_credentials(s: &CredentialStatus) -> bool {
    s.grant == Some(zoho_oauth::core::token::GrantKind::ClientCredentials)
}

/// One credential as JSON (the shape is documented in the README; keys are only ever added).
pub fn to_json(s: &CredentialStatus, now: SystemTime) -> serde_json::Value {
    json!({
        "user": s.user,
        "data_center": s.data_center.location_code(),
        "environment": s.environment.name(),
        "api_domain": s.api_domain,
        "access_expires_at": s.access_expires_at.map(human::unix_secs),
        "access_expires_at_rfc3339": s.access_expires_at.map(human::clock_time),
        "access_expires_in_secs": s.access_expires_at.map(|at| at.duration_since(now).map_or(0, |d| d.as_secs())),
        "access_valid": s.access_expires_at.is_some_and(|at| at > now),
        // A client-credentials credential has no refresh token (the library's hint is then the
        // access token's).
        "refresh_token_last4": if is_client_credentials(s) { "" } else { s.hint.as_str() },
        "grant": s.grant.map(|g| g.name()),
        "mints_left": s.mints_left,
        "mint_budget": s.mint_budget,
        "paused_until": s.paused_until.map(|(until, _)| human::unix_secs(until)),
        "paused_until_rfc3339": s.paused_until.map(|(until, _)| human::clock_time(until)),
        "paused_because": s.paused_until.map(|(_, why)| why),
        "needs_authorization": s.needs_authorization.is_some(),
        "needs_authorization_reason": s.needs_authorization,
        "damaged": s.damaged,
        "unusable_row": null,
    })
}

/// A row of the SDKs' table that is not a credential, as a `status --json` entry: the shape of
/// a damaged entry (empty or null data, `damaged` saying why), plus `unusable_row` with its id,
/// user and reason.
fn unusable_json(row: &UnusableRow) -> serde_json::Value {
    let reason = row.why.to_string();
    json!({
        "user": row.user_name.clone().unwrap_or_default(),
        "data_center": null,
        "environment": null,
        "api_domain": "",
        "access_expires_at": null,
        "access_expires_at_rfc3339": null,
        "access_expires_in_secs": null,
        "access_valid": false,
        "refresh_token_last4": "",
        "grant": null,
        "mints_left": 0,
        "mint_budget": 0,
        "paused_until": null,
        "paused_until_rfc3339": null,
        "paused_because": null,
        "needs_authorization": false,
        "needs_authorization_reason": null,
        "damaged": format!("oauthtoken row {} is not a credential: {reason}", row.id),
        "unusable_row": { "id": row.id, "user": row.user_name, "reason": reason },
    })
}

/// The rows of the SDKs' table that are not credentials, after the credentials.
fn describe_unusable(rows: &[UnusableRow]) {
    out::line(format!(
        "{} row(s) of the oauthtoken table are not credentials (left as they are):",
        rows.len()
    ));
    for row in rows {
        out::line(format!(
            "  row {} ({}): {}",
            row.id,
            row.user_name.as_deref().unwrap_or("no user_name"),
            row.why
        ));
    }
}
