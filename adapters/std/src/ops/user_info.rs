//! `UserInfo`: who a credential belongs to (`GET /oauth/user/info`).

use zeroize::Zeroize;
use zoho_oauth_core::response::{self, ApiVerdict, Malformed, Verdict};
use zoho_oauth_core::Origin;

use crate::engine::outbound::Rendered;
use crate::engine::{Engine, Io};
use crate::error::Error;

/// The owner of a credential, as Zoho's user-info endpoint reports it (needs the scope
/// `aaaserver.profile.READ`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserInfo {
    /// E-mail address (the user key credentials are stored under).
    pub email: String,
    /// Zoho's user id.
    pub zuid: u64,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Display name.
    pub display_name: String,
}

impl From<&response::UserInfo> for UserInfo {
    fn from(u: &response::UserInfo) -> Self {
        Self {
            email: u.email.as_str().to_owned(),
            zuid: u.zuid,
            first_name: u.first_name.as_str().to_owned(),
            last_name: u.last_name.as_str().to_owned(),
            display_name: u.display_name.as_str().to_owned(),
        }
    }
}

impl Engine {
    /// Who `user`'s credential belongs to, from Zoho (needs the scope `aaaserver.profile.READ`).
    /// A rejected access token is refreshed and the call retried once.
    pub async fn user_info<I: Io>(&self, io: &I, user: &str) -> Result<UserInfo, Error> {
        let token = self.access_token(io, user).await?;
        let dc = self.resolve_key(io, user).await?.data_center;
        let accounts = self.s.accounts_for(dc)?;
        let (rejected, first) =
            fetch_raw(io, accounts, token.secret(), user, self.s.call_timeout).await?;
        if !rejected {
            return first;
        }
        tracing::debug!(user, "user info refused the access token; refreshing once");
        let fresh = self.replace_rejected(io, user, token).await?;
        fetch_raw(io, accounts, fresh.secret(), user, self.s.call_timeout)
            .await?
            .1
    }

    /// The e-mail of the owner of `access_token` (an answer without one is malformed).
    pub(crate) async fn owner_email<I: Io>(
        &self,
        io: &I,
        accounts: &Origin,
        access_token: &str,
    ) -> Result<String, Error> {
        let (_, info) = fetch_raw(
            io,
            accounts,
            access_token,
            "(from user info)",
            self.s.call_timeout,
        )
        .await?;
        let email = info?.email;
        if email.is_empty() {
            return Err(Error::Zoho(Verdict::Malformed(Malformed::MissingField(
                "Email",
            ))));
        }
        Ok(email)
    }
}

/// `GET {accounts}/oauth/user/info` with `access_token`: the answer, and whether it says the
/// access token is not valid (401 `INVALID_OAUTHTOKEN`).
async fn fetch_raw<I: Io>(
    io: &I,
    accounts: &Origin,
    access_token: &str,
    user: &str,
    timeout: std::time::Duration,
) -> Result<(bool, Result<UserInfo, Error>), Error> {
    let rendered =
        Rendered::new(|buf| zoho_oauth_core::request::user_info(buf, accounts, access_token))?;
    let mut resp = rendered.send(io, "user_info", user, Some(timeout)).await?;
    drop(rendered);
    let rejected = response::classify_api(resp.status, &resp.body) == ApiVerdict::InvalidToken;
    let parsed = response::parse_user_info(resp.status, &resp.body)
        .map(|u| UserInfo::from(&u))
        .map_err(Error::Zoho);
    resp.body.zeroize();
    Ok((rejected, parsed))
}
