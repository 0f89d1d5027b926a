//! `exchange`: the Self Client flow: a grant token becomes a stored credential.
//!
//! Without `--user` the credential is first stored under a temporary name, its owner is learned
//! from `/oauth/user/info`, and it is then moved to the owner's e-mail (or to `default` when the
//! scope does not allow asking), saving the new key before deleting the temporary one so that no
//! crash loses the refresh token.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::json;
use zoho_oauth::core::response::Verdict;
use zoho_oauth::{AccessToken, Client, Error, TokenStore};

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
    let exchange = |user: &str| -> Result<AccessToken, Error> {
        match &args.redirect_uri {
            Some(uri) => client.exchange_grant_with_redirect(user, &code, uri),
            None => client.exchange_grant(user, &code),
        }
    };
    let (user, token, how) = match &ctx.settings.user {
        Some(user) => (
            user.clone(),
            exchange(user).map_err(exchange_error)?,
            Learned::Given,
        ),
        None => {
            let pending = pending_name();
            let token = exchange(&pending).map_err(exchange_error)?;
            let (user, how) = match client.user_info(&pending) {
                Ok(info) => (info.email, Learned::FromUserInfo),
                Err(Error::Zoho(Verdict::MissingScope)) => {
                    (DEFAULT_USER.to_owned(), Learned::NoScope)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "user info failed after the exchange");
                    (DEFAULT_USER.to_owned(), Learned::Failed(e.to_string()))
                }
            };
            rename(&client, store.as_ref(), &pending, &user)?;
            (user, token, how)
        }
    };
    report(ctx, &user, &token, &how);
    Ok(())
}

/// An exchange failure in the words of the exchange: a rejected code is a used or expired grant
/// token (whatever temporary name the credential had).
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

/// A temporary user name no e-mail can collide with.
fn pending_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(".pending-exchange-{}-{nanos}", std::process::id())
}

/// Move the credential of `from` to `to` (save first, then delete).
pub fn rename(
    client: &Client,
    store: &dyn TokenStore,
    from: &str,
    to: &str,
) -> Result<(), CliError> {
    let (from_key, to_key) = (client.key(from), client.key(to));
    let fail = |e: zoho_oauth::StoreError| {
        CliError::other(
            format!("storing the new credential under {to} failed: {e}"),
            "check the store; the credential may remain under a `.pending-exchange-…` user (see `zoho-oauth status`)",
        )
    };
    let token = store.load(&from_key).map_err(fail)?.ok_or_else(|| {
        CliError::other(
            "the new credential vanished from the store before it could be renamed",
            "exchange a new grant token",
        )
    })?;
    if let Ok(Some(old)) = store.load(&to_key) {
        if old.refresh_token != token.refresh_token {
            out::note(format!(
                "note: replaced the credential stored before for {to} (refresh token …{}; it stays valid at Zoho until revoked)",
                old.refresh_token.hint()
            ));
        }
    }
    store.save(&to_key, &token).map_err(fail)?;
    store.delete(&from_key).map_err(fail)?;
    Ok(())
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
