//! `add-client-credentials`: store a client-credentials credential (a back-end job's: no person,
//! no refresh token; an access token is asked for with the client id and secret, the scope and
//! the org's `soid` whenever the current one is due), and prove it works by asking for the first
//! token at once. A credential Zoho refuses is not kept.

use zoho_oauth::core::cap;
use zoho_oauth::core::token::GrantKind;

use crate::args::AddClientCredentialsArgs;
use crate::cmd::exchange::{stored_json, Learned};
use crate::context::Ctx;
use crate::exit::{class_of, Class, CliError};
use crate::spinner::while_waiting;
use crate::{human, out};

/// Store the credential under `--user` (default: the soid) and ask for its first access token.
pub fn run(ctx: &Ctx, args: &AddClientCredentialsArgs) -> Result<(), CliError> {
    let scope = scope(&args.scope)?;
    let soid = args.soid.as_deref().map(soid).transpose()?;
    let user = match (&ctx.settings.user, soid) {
        (Some(user), _) => user.clone(),
        (None, Some(soid)) => soid.to_owned(),
        (None, None) => {
            return Err(CliError::usage(
                "add-client-credentials needs a name to store the credential under",
                "pass --soid ZohoCRM.<org id> (the default name) or --user NAME",
            ))
        }
    };
    let client = ctx.client()?;
    let added = client.add_client_credentials(&user, &scope, soid)?;
    if added.replaced != zoho_oauth::Replaced::Nothing {
        out::note(format!(
            "note: replaced the credential stored before under {user} (a refresh token it held stays valid at Zoho until revoked)"
        ));
    }
    let token = match while_waiting("asking Zoho for a first access token", || {
        client.access_token(&user)
    }) {
        Ok(token) => token,
        Err(e)
            if matches!(
                class_of(&e),
                Class::ReAuthorize | Class::Usage | Class::Other
            ) =>
        {
            // Zoho refused the grant itself (a wrong org, scope or client): useless to keep.
            let refused = CliError::from(e);
            // Only the credential added here: not one another process stored meanwhile.
            client.delete_if(&user, |stored| {
                stored.grant == GrantKind::ClientCredentials
                    && stored.scope.as_str() == scope
                    && stored.soid.as_str() == soid.unwrap_or("")
            })?;
            return Err(CliError::new(
                refused.class,
                format!("{}; the credential was not kept", refused.what),
                format!(
                    "check that --soid names an org this client reaches and --scope what it may use; {}",
                    refused.todo
                ),
            ));
        }
        Err(e) => {
            let mut err = CliError::from(e);
            err.what = format!(
                "stored the client-credentials credential {user}, but could not get an access token with it: {}",
                err.what
            );
            return Err(err);
        }
    };
    if ctx.json {
        let mut v = stored_json(
            ctx,
            &added.key,
            &token,
            &Learned::Given,
            GrantKind::ClientCredentials,
        );
        v["scope"] = serde_json::json!(scope);
        v["soid"] = serde_json::json!(soid);
        out::json(&v);
    } else {
        out::line(format!(
            "stored the client-credentials credential {user} ({} {}, {}) in {}; access token {} {}",
            added.key.data_center,
            added.key.environment,
            soid.map_or_else(
                || "the client's only org".to_owned(),
                |s| format!("org {s}")
            ),
            ctx.settings.store.display(),
            out::hint(token.secret()),
            human::expiry(token.expires_at(), std::time::SystemTime::now())
        ));
    }
    Ok(())
}

/// The scope as Zoho takes it (comma separated, blanks dropped), or a usage error.
fn scope(text: &str) -> Result<String, CliError> {
    let parts: Vec<&str> = text.split([',', ' ']).filter(|s| !s.is_empty()).collect();
    let joined = parts.join(",");
    let bad = parts
        .iter()
        .any(|p| !p.bytes().all(|b| b.is_ascii_graphic()));
    if parts.is_empty() || bad || joined.len() > cap::SCOPE {
        return Err(CliError::usage(
            format!(
                "--scope must name scopes, comma separated, in visible ASCII, at most {} bytes in all",
                cap::SCOPE
            ),
            "e.g. --scope ZohoCRM.modules.ALL,ZohoCRM.settings.READ",
        ));
    }
    Ok(joined)
}

/// A `soid` as Zoho takes it: `<service>.<org id>` in visible ASCII, or a usage error.
fn soid(text: &str) -> Result<&str, CliError> {
    let text = text.trim();
    let shaped = text
        .split_once('.')
        .is_some_and(|(service, org)| !service.is_empty() && !org.is_empty());
    if !shaped || !text.bytes().all(|b| b.is_ascii_graphic()) || text.len() > cap::SOID {
        return Err(CliError::usage(
            format!(
                "--soid must be <service>.<org id> in visible ASCII, at most {} bytes, e.g. ZohoCRM.600001234",
                cap::SOID
            ),
            "copy the org id from the service's settings (CRM: Setup › Company Details) and prefix it with the service, e.g. ZohoCRM.",
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_joined_with_commas_and_must_be_visible_ascii() {
        assert_eq!(
            scope("ZohoCRM.modules.ALL, ZohoCRM.users.READ").unwrap(),
            "ZohoCRM.modules.ALL,ZohoCRM.users.READ"
        );
        assert!(scope(" , ").is_err());
        assert!(scope("ZohoCRM.modules.ALL\u{7}").is_err());
        assert!(scope("Zoho…").is_err());
    }

    #[test]
    fn a_soid_is_a_service_and_an_org_id() {
        assert_eq!(soid(" ZohoCRM.600001234 ").unwrap(), "ZohoCRM.600001234");
        for bad in [
            "600001234",
            "ZohoCRM.",
            ".600001234",
            "Zoho CRM.1",
            "ZohoCRM.1\u{7}",
        ] {
            assert!(soid(bad).is_err(), "{bad:?}");
        }
    }
}
