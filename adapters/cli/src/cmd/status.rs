//! `status`: every stored credential of the configured client, without secrets.

use std::time::SystemTime;

use serde_json::json;
use zoho_oauth::CredentialStatus;

use crate::context::Ctx;
use crate::exit::CliError;
use crate::{human, out};

/// The mint budget Zoho allows per refresh token and window (shown as "N of 10 left").
const BUDGET: usize = 10;

/// Print the status of every stored credential.
pub fn run(ctx: &Ctx) -> Result<(), CliError> {
    let client = ctx.client()?;
    let mut all = client.status()?;
    if let Some(user) = &ctx.settings.user {
        all.retain(|s| &s.user == user);
    }
    let now = SystemTime::now();
    if ctx.json {
        out::json(&serde_json::Value::Array(
            all.iter().map(|s| to_json(s, now)).collect(),
        ));
        return Ok(());
    }
    if all.is_empty() {
        out::note(format!(
            "no credential is stored for client {} in {} {} ({})\n  hint: run `zoho-oauth exchange --grant-token CODE` or `zoho-oauth login`",
            ctx.settings.client_id.as_deref().unwrap_or("?"),
            ctx.settings.data_center,
            ctx.settings.environment,
            ctx.settings.store.display()
        ));
        return Ok(());
    }
    for (i, s) in all.iter().enumerate() {
        if i > 0 {
            println!();
        }
        print!("{}", describe(s, now));
    }
    Ok(())
}

/// One credential as a few human lines.
pub fn describe(s: &CredentialStatus, now: SystemTime) -> String {
    let access = match s.access_expires_at {
        Some(at) => format!("{} ({})", human::expiry(at, now), human::clock_time(at)),
        None => "none yet (the next `token` refreshes)".to_owned(),
    };
    let mut text = format!(
        "{}\n  data centre:   {} {}\n  api_domain:    {}\n  access token:  {}\n  refresh token: …{}\n  mint budget:   {} of {BUDGET} left in the rolling 10 minutes\n",
        s.user,
        s.data_center,
        s.environment,
        if s.api_domain.is_empty() { "(not known yet)" } else { &s.api_domain },
        access,
        s.refresh_hint,
        s.mints_left,
    );
    if s.needs_authorization {
        text.push_str(
            "  NEEDS RE-AUTHORIZATION: run `zoho-oauth login` or `zoho-oauth exchange`\n",
        );
    }
    text
}

/// One credential as JSON.
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
        "refresh_token_last4": s.refresh_hint,
        "mints_left": s.mints_left,
        "needs_authorization": s.needs_authorization,
    })
}
