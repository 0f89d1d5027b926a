//! `add-refresh-token`: store a refresh token obtained elsewhere, and prove it works by minting an
//! access token with it.

use zoho_oauth::core::token::GrantKind;

use crate::args::AddRefreshTokenArgs;
use crate::cmd::exchange::{report, Learned};
use crate::context::Ctx;
use crate::exit::{class_of, Class, CliError};
use crate::input;
use crate::spinner::while_waiting;

/// Store the refresh token under `--user` and mint a first access token.
pub fn run(ctx: &Ctx, args: &AddRefreshTokenArgs) -> Result<(), CliError> {
    let user = ctx.settings.user.clone().ok_or_else(|| {
        CliError::usage(
            "add-refresh-token needs the user the refresh token belongs to",
            "pass --user EMAIL (or set ZOHO_USER)",
        )
    })?;
    let refresh_token = input::secret(input::REFRESH_TOKEN, args.refresh_token.as_deref())?;
    let client = ctx.client()?;
    let added = client.add_refresh_token(&user, &refresh_token)?;
    if added.replaced != zoho_oauth::Replaced::Nothing {
        crate::out::note(format!(
            "note: replaced the credential stored before for {user} (its refresh token stays valid at Zoho until revoked)"
        ));
    }
    match while_waiting("minting a first access token with it", || {
        client.access_token(&user)
    }) {
        Ok(token) => {
            report(
                ctx,
                &added.key,
                &token,
                &Learned::Given,
                GrantKind::RefreshToken,
            );
            Ok(())
        }
        Err(e) if class_of(&e) == Class::ReAuthorize => {
            // A refresh token Zoho does not know is useless: do not leave it in the store —
            // unless another process stored another credential for this user meanwhile.
            client.delete_if(&user, |stored| {
                stored
                    .refresh_token
                    .as_ref()
                    .is_some_and(|held| held.ct_eq(&refresh_token))
            })?;
            Err(CliError::new(
                Class::ReAuthorize,
                "Zoho refused this refresh token (unknown, revoked, or issued to another client, data centre or environment); it was not kept",
                "check that it belongs to this client id, data centre and environment, or authorize again with `zoho-oauth login` or `zoho-oauth exchange`",
            ))
        }
        Err(e) => {
            let mut err = CliError::from(e);
            err.what = format!(
                "stored the refresh token of {user}, but could not mint an access token with it: {}",
                err.what
            );
            Err(err)
        }
    }
}
