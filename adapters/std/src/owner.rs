//! Who a new credential is stored under: named by the caller, or learnt from user info with
//! the new access token, before anything is stored.

use zoho_oauth_core::response::{Malformed, Verdict};
use zoho_oauth_core::Origin;

use crate::client::Inner;
use crate::error::Error;
use crate::user_info;

/// How [`Client::exchange_grant_as_owner`](crate::Client::exchange_grant_as_owner) chose the user
/// a credential is stored under.
#[derive(Debug)]
#[non_exhaustive]
pub enum UserSource {
    /// The e-mail `/oauth/user/info` reported for the new access token.
    Learned,
    /// The fallback user, because user info could not say who the owner is. The error says why:
    /// [`Error::Zoho`]`(`[`Verdict::MissingScope`]`)` when the grant's scope lacks
    /// `aaaserver.profile.READ` (the usual case), else the failure of the user-info call. The
    /// credential is stored anyway: the grant is spent, and its tokens are not thrown away.
    Fallback(Error),
}

/// Who the caller of [`Inner::exchange`] wants the credential stored under.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Owner<'a> {
    /// This user.
    Named(&'a str),
    /// The e-mail user info reports; failing to learn it fails the call.
    Learn,
    /// The e-mail user info reports, or this user when it cannot be learnt.
    LearnOr(&'a str),
}

impl<'a> Owner<'a> {
    /// The user to name in logs before the owner is known.
    pub(crate) fn shown(self) -> &'a str {
        match self {
            Owner::Named(user) => user,
            Owner::Learn | Owner::LearnOr(_) => "(from user info)",
        }
    }

    /// Refuse an empty user name before anything is sent.
    pub(crate) fn check(self) -> Result<(), Error> {
        match self {
            Owner::Named("") | Owner::LearnOr("") => {
                Err(Error::Config("the user e-mail is empty".into()))
            }
            _ => Ok(()),
        }
    }

    /// The user to store under, asking `accounts` with `access_token` unless it is named.
    /// `None` as the source: the user was named.
    pub(crate) fn resolve(
        self,
        inner: &Inner,
        accounts: &Origin,
        access_token: &str,
    ) -> Result<(String, Option<UserSource>), Error> {
        let learnt = match self {
            Owner::Named(user) => return Ok((user.to_owned(), None)),
            Owner::Learn | Owner::LearnOr(_) => learn(inner, accounts, access_token),
        };
        match (learnt, self) {
            (Ok(email), _) => Ok((email, Some(UserSource::Learned))),
            (Err(e), Owner::LearnOr(fallback)) => {
                if matches!(e, Error::Zoho(Verdict::MissingScope)) {
                    tracing::info!(
                        user = fallback,
                        "the scope lacks aaaserver.profile.READ; storing under the fallback user"
                    );
                } else {
                    tracing::warn!(user = fallback, error = %e, "user info failed after the exchange; storing under the fallback user");
                }
                Ok((fallback.to_owned(), Some(UserSource::Fallback(e))))
            }
            (Err(e), _) => Err(e),
        }
    }
}

/// The e-mail of the owner of `access_token` (an answer without one is malformed).
fn learn(inner: &Inner, accounts: &Origin, access_token: &str) -> Result<String, Error> {
    let email = user_info::fetch(inner, accounts, access_token, "(from user info)")?.email;
    if email.is_empty() {
        return Err(Error::Zoho(Verdict::Malformed(Malformed::MissingField(
            "Email",
        ))));
    }
    Ok(email)
}
