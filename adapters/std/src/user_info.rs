//! `UserInfo`: who a credential belongs to (`GET /oauth/user/info`).

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

impl From<&zoho_oauth_core::response::UserInfo> for UserInfo {
    fn from(u: &zoho_oauth_core::response::UserInfo) -> Self {
        Self {
            email: u.email.as_str().to_owned(),
            zuid: u.zuid,
            first_name: u.first_name.as_str().to_owned(),
            last_name: u.last_name.as_str().to_owned(),
            display_name: u.display_name.as_str().to_owned(),
        }
    }
}

use zeroize::Zeroize;
use zoho_oauth_core::response::{self, ApiVerdict};
use zoho_oauth_core::Origin;

use crate::client::{Client, Inner};
use crate::error::Error;
use crate::refresh::Want;
use crate::send;

impl Client {
    /// Who `user`'s credential belongs to, from Zoho (needs the scope `aaaserver.profile.READ`).
    /// A rejected access token is refreshed and the call retried once.
    pub fn user_info(&self, user: &str) -> Result<UserInfo, Error> {
        let inner = &self.inner;
        let token = self.access_token(user)?;
        let (rejected, first) = fetch_raw(inner, &inner.s.accounts, token.secret(), user)?;
        if !rejected {
            return first;
        }
        tracing::debug!(user, "user info refused the access token; refreshing once");
        let entry = inner.entry(user)?;
        let fresh = entry.obtain(
            inner,
            Want::Force {
                rejected: Some(token),
            },
        )?;
        fetch(inner, &inner.s.accounts, fresh.secret(), user)
    }
}

/// `GET {accounts}/oauth/user/info` with `access_token`.
pub(crate) fn fetch(
    inner: &Inner,
    accounts: &Origin,
    access_token: &str,
    user: &str,
) -> Result<UserInfo, Error> {
    fetch_raw(inner, accounts, access_token, user)?.1
}

/// The answer, and whether it says the access token is not valid (401 `INVALID_OAUTHTOKEN`).
fn fetch_raw(
    inner: &Inner,
    accounts: &Origin,
    access_token: &str,
    user: &str,
) -> Result<(bool, Result<UserInfo, Error>), Error> {
    let mut buf = send::buffer(0);
    if let Err(b) = zoho_oauth_core::request::user_info(&mut buf, accounts, access_token) {
        buf = send::buffer(b.required);
    }
    let sent = {
        let req = zoho_oauth_core::request::user_info(&mut buf, accounts, access_token)
            .map_err(|e| Error::Core(e.to_string()))?;
        send::send(&*inner.s.transport, &req, "user_info", user)
    };
    drop(buf);
    let mut resp = sent?;
    let rejected = response::classify_api(resp.status, &resp.body) == ApiVerdict::InvalidToken;
    let parsed = response::parse_user_info(resp.status, &resp.body)
        .map(|u| UserInfo::from(&u))
        .map_err(Error::Zoho);
    resp.body.zeroize();
    Ok((rejected, parsed))
}
