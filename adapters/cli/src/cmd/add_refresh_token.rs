//! `add-refresh-token`: store a refresh token obtained elsewhere, and prove it works by minting an
//! access token with it.

use std::sync::Arc;

use crate::args::AddRefreshTokenArgs;
use crate::cmd::exchange::{report, Learned};
use crate::cmd::secret_arg;
use crate::context::Ctx;
use crate::exit::{class_of, Class, CliError};

/// Store the refresh token under `--user` and mint a first access token.
pub fn run(ctx: &Ctx, args: &AddRefreshTokenArgs) -> Result<(), CliError> {
    let user = ctx.settings.user.clone().ok_or_else(|| {
        CliError::usage(
            "add-refresh-token needs the user the refresh token belongs to",
            "pass --user EMAIL (or set ZOHO_USER)",
        )
    })?;
    let refresh_token = secret_arg(&args.refresh_token, "refresh token")?;
    let store = ctx.store()?;
    let client = ctx.client_with(Arc::clone(&store))?;
    client.add_refresh_token(&user, &refresh_token)?;
    match client.access_token(&user) {
        Ok(token) => {
            report(ctx, &user, &token, &Learned::Given);
            Ok(())
        }
        Err(e) if class_of(&e) == Class::ReAuthorize => {
            // A refresh token Zoho does not know is useless: do not leave it in the store.
            let _ = store.delete(&client.key(&user));
            Err(CliError::new(
                Class::ReAuthorize,
                format!("Zoho does not accept this refresh token ({e}); it was not kept"),
                "check that it belongs to this client id, data centre and environment, or authorize again with `zoho-oauth login`",
            ))
        }
        Err(e) => {
            let mut err = CliError::from(e);
            err.what = format!("stored the refresh token of {user}, but could not mint an access token with it: {}", err.what);
            Err(err)
        }
    }
}
