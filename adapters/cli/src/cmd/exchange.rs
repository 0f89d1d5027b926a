//! `exchange`: the Self Client flow: a grant token becomes a stored credential.
//!
//! Without `--user` the library stores the credential under its owner's e-mail, learned from
//! `/oauth/user/info`, or under `default` when the scope does not allow asking.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::json;
use zoho_oauth::core::response::Verdict;
use zoho_oauth::{AccessToken, Client, Error, UserSource};

use crate::args::ExchangeArgs;
use crate::cmd::secret_arg;
use crate::context::Ctx;
use crate::exit::{Class, CliError};
use crate::{human, out};

/// The user a credential is stored under when its owner cannot be learned.
pub const DEFAULT_USER: &str = "default";

/// Exchange the grant token and store the credential.
pub fn run(ctx: &Ctx, args: &ExchangeArgs) -> Result<(), CliError> {
    let code = secret_arg(&args.grant_token, "grant token")?;
    let store = ctx.store()?;
    let client = ctx.client_with(Arc::clone(&store))?;
    let before = refresh_hints(&client);
    let redirect = args.redirect_uri.as_deref();
    let (user, token, how) = match &ctx.settings.user {
        Some(user) => {
            let token = match redirect {
                Some(uri) => client.exchange_grant_with_redirect(user, &code, uri),
                None => client.exchange_grant(user, &code),
            };
            (user.clone(), token.map_err(exchange_error)?, Learned::Given)
        }
        None => {
            let (key, token, source) = client
                .exchange_grant_as_owner(&code, redirect, DEFAULT_USER)
                .map_err(exchange_error)?;
            (key.user, token, Learned::from(source))
        }
    };
    note_replaced(&client, &before, &user);
    report(ctx, &user, &token, &how);
    Ok(())
}

/// An exchange failure in the words of the exchange: a rejected code is a used or expired grant
/// token.
fn exchange_error(e: Error) -> CliError {
    match e {
        Error::NeedsAuthorization { .. } | Error::Zoho(Verdict::ReAuthorize(_)) => CliError::new(
            Class::ReAuthorize,
            "Zoho refused the grant token: it was already used or has expired (grant tokens are single-use and live 3 to 10 minutes)",
            "generate a new grant token in the API console (Self Client) and exchange it right away",
        ),
        other => other.into(),
    }
}

/// The last four characters of each stored user's refresh token (empty when the store cannot say).
fn refresh_hints(client: &Client) -> Vec<(String, String)> {
    client
        .status()
        .unwrap_or_default()
        .into_iter()
        .map(|s| (s.user, s.refresh_hint))
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
            UserSource::Fallback(e) => Learned::Failed(e.to_string()),
            _ => Learned::Failed("the library did not say how it chose the user".to_owned()),
        }
    }
}

/// Say what was stored.
pub fn report(ctx: &Ctx, user: &str, token: &AccessToken, how: &Learned) {
    if ctx.json {
        out::json(&json!({
            "user": user,
            "user_source": match how {
                Learned::Given => "flag",
                Learned::FromUserInfo => "user_info",
                Learned::NoScope | Learned::Failed(_) => "default",
            },
            "data_center": ctx.settings.data_center.location_code(),
            "environment": ctx.settings.environment.name(),
            "api_domain": token.api_domain(),
            "expires_at": human::unix_secs(token.expires_at()),
            "store": ctx.settings.store.display(),
        }));
    } else {
        println!(
            "stored the credential of {user} ({} {}) in {}; access token {} {}",
            ctx.settings.data_center,
            ctx.settings.environment,
            ctx.settings.store.display(),
            out::hint(token.secret()),
            human::expiry(token.expires_at(), SystemTime::now())
        );
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
