//! `exchange`: the Self Client flow: a grant token becomes a stored credential.
//!
//! Without `--user` the library stores the credential under its owner's e-mail, learned from
//! `/oauth/user/info`, or under `default` when the scope does not allow asking.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::json;
use zoho_oauth::core::response::Verdict;
use zoho_oauth::core::token::GrantKind;
use zoho_oauth::{AccessToken, Client, CredentialKey, Error, UserSource};

use crate::args::ExchangeArgs;
use crate::context::Ctx;
use crate::exit::CliError;
use crate::spinner::while_waiting;
use crate::{human, input, out};

/// The user a credential is stored under when its owner cannot be learned.
pub const DEFAULT_USER: &str = "default";

/// Exchange the grant token and store the credential.
pub fn run(ctx: &Ctx, args: &ExchangeArgs) -> Result<(), CliError> {
    let code = input::secret(input::GRANT_TOKEN, args.grant_token.as_deref())?;
    if let Some(uri) = &args.redirect_uri {
        redirect_uri(uri)?;
    }
    let store = ctx.store()?;
    let client = ctx.client_with(Arc::clone(&store))?;
    let before = refresh_hints(&client);
    let redirect = args.redirect_uri.as_deref();
    let (user, token, how) = match &ctx.settings.user {
        Some(user) => {
            let token = while_waiting(WAITING, || match redirect {
                Some(uri) => client.exchange_grant_with_redirect(user, &code, uri),
                None => client.exchange_grant(user, &code),
            })?;
            (user.clone(), token, Learned::Given)
        }
        None => {
            let exchanged = while_waiting(WAITING, || {
                client.exchange_grant_as_owner(&code, redirect, DEFAULT_USER)
            })?;
            let source = exchanged.source.unwrap_or(zoho_oauth::UserSource::Learned);
            (exchanged.key.user, exchanged.token, Learned::from(source))
        }
    };
    note_replaced(&client, &before, &user);
    report(
        ctx,
        &client.key(&user),
        &token,
        &how,
        GrantKind::AuthorizationCode,
    );
    Ok(())
}

/// What the progress line says while an exchange waits.
const WAITING: &str = "exchanging the grant token (waiting for Zoho or for the credential's lock)";

/// A redirect URI given on the command line: a URL without control characters, within the
/// core's capacity.
pub fn redirect_uri(uri: &str) -> Result<(), CliError> {
    let cap = zoho_oauth::core::cap::REDIRECT_URI;
    if uri.len() > cap || uri.chars().any(out::is_unsafe) || uri.contains(' ') {
        return Err(CliError::usage(
            format!(
                "the redirect URI is not one Zoho registers: it holds a blank or a control character, or is longer than {cap} bytes"
            ),
            "copy it exactly as registered in Zoho's API console",
        ));
    }
    Ok(())
}

/// The last four characters of each stored user's refresh token (empty when the store cannot say).
fn refresh_hints(client: &Client) -> Vec<(String, String)> {
    client
        .status()
        .unwrap_or_default()
        .into_iter()
        .map(|s| (s.user, s.hint))
        .collect()
}

/// Say so when the exchange replaced another credential of `user` (which Zoho still honours).
fn note_replaced(client: &Client, before: &[(String, String)], user: &str) {
    let Some((_, old)) = before.iter().find(|(u, _)| u == user) else {
        return;
    };
    let now = refresh_hints(client);
    if now.iter().any(|(u, hint)| u == user && hint != old) {
        out::note(format!(
            "note: replaced the credential stored before for {user} (refresh token …{old}; it stays valid at Zoho until revoked)"
        ));
    }
}

/// How the user of a new credential was decided.
pub enum Learned {
    /// `--user` was given.
    Given,
    /// From `/oauth/user/info`.
    FromUserInfo,
    /// The scope lacks `aaaserver.profile.READ`: stored under `default`.
    NoScope,
    /// Asking failed: stored under `default`.
    Failed(String),
}

impl From<UserSource> for Learned {
    fn from(source: UserSource) -> Self {
        match source {
            UserSource::Learned => Learned::FromUserInfo,
            UserSource::Fallback(Error::Zoho(Verdict::MissingScope)) => Learned::NoScope,
            UserSource::Fallback(e) => Learned::Failed(e.what()),
            _ => Learned::Failed("the library did not say how it chose the user".to_owned()),
        }
    }
}

/// Say what was stored under `key` (its user, data centre and environment: with several allowed
/// data centres, a login's may not be the home one) and how it was obtained.
pub fn report(
    ctx: &Ctx,
    key: &CredentialKey,
    token: &AccessToken,
    how: &Learned,
    grant: GrantKind,
) {
    let user = key.user.as_str();
    if ctx.json {
        out::json(&stored_json(ctx, key, token, how, grant));
    } else {
        out::line(format!(
            "stored the credential of {user} ({} {}) in {}; access token {} {}",
            key.data_center,
            key.environment,
            ctx.settings.store.display(),
            out::hint(token.secret()),
            human::expiry(token.expires_at(), SystemTime::now())
        ));
    }
    match how {
        Learned::NoScope => out::note(format!(
            "note: the grant's scope lacks aaaserver.profile.READ, so the user could not be learned: stored under `{DEFAULT_USER}` (pass --user EMAIL to name it)"
        )),
        Learned::Failed(e) => out::note(format!(
            "note: could not learn the user ({e}): stored under `{DEFAULT_USER}` (pass --user EMAIL to name it)"
        )),
        _ => {}
    }
}

/// The `--json` of a stored credential (`exchange`, `add-refresh-token`, `login`,
/// `add-client-credentials`); keys are only ever added.
pub fn stored_json(
    ctx: &Ctx,
    key: &CredentialKey,
    token: &AccessToken,
    how: &Learned,
    grant: GrantKind,
) -> serde_json::Value {
    json!({
        "user": key.user,
        "user_source": match how {
            Learned::Given => "flag",
            Learned::FromUserInfo => "user_info",
            Learned::NoScope | Learned::Failed(_) => "default",
        },
        "data_center": key.data_center.location_code(),
        "environment": key.environment.name(),
        "api_domain": token.api_domain(),
        "expires_at": human::unix_secs(token.expires_at()),
        "expires_at_rfc3339": human::clock_time(token.expires_at()),
        "store": ctx.settings.store.display(),
        "grant": grant.name(),
    })
}
