//! Listing credentials without their secrets.

use std::time::SystemTime;

use zoho_oauth_core::token::{GrantKind, PauseReason};
use zoho_oauth_core::{DataCenter, Environment};

use crate::clock::to_system_time;
use crate::engine::{Engine, Io};
use crate::error::Error;
use crate::store::StoreError;

/// One stored credential, described without secrets (from `status`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CredentialStatus {
    /// The user's e-mail.
    pub user: String,
    /// The data centre.
    pub data_center: DataCenter,
    /// The environment.
    pub environment: Environment,
    /// How the credential was obtained (`None` when the entry is damaged).
    pub grant: Option<GrantKind>,
    /// Where its API calls go (empty when not known yet).
    pub api_domain: String,
    /// When the current access token expires; `None` when there is none.
    pub access_expires_at: Option<SystemTime>,
    /// New access tokens the mint budget still allows now…
    pub mints_left: usize,
    /// …of this many per rolling window (Zoho's 10 per 10 minutes, unless configured lower).
    pub mint_budget: usize,
    /// The last four characters of the refresh token (or access token, for client credentials),
    /// to tell credentials apart.
    pub hint: String,
    /// Until when token requests are paused, and why (`throttled` by Zoho, or `backoff` after
    /// faults) — shared by every process using the store.
    pub paused_until: Option<(SystemTime, &'static str)>,
    /// Why Zoho refused the credential, when it did: it needs a new authorization.
    pub needs_authorization: Option<String>,
    /// The entry cannot be read (damaged): it can only be deleted. Says why.
    pub damaged: Option<String>,
}

impl Engine {
    /// Every stored credential of this client, without secrets; a damaged entry is listed as
    /// such (and can be deleted) instead of failing the listing.
    pub async fn status<I: Io>(&self, io: &I) -> Result<Vec<CredentialStatus>, Error> {
        let now = self.s.clock.now();
        let mut out = Vec::new();
        for key in self.own_keys(io).await? {
            let mut row = CredentialStatus {
                user: key.user.clone(),
                data_center: key.data_center,
                environment: key.environment,
                grant: None,
                api_domain: String::new(),
                access_expires_at: None,
                mints_left: 0,
                mint_budget: self.s.config.effective_budget(),
                hint: String::new(),
                paused_until: None,
                needs_authorization: None,
                damaged: None,
            };
            match io.load(&key).await {
                Ok(Some(token)) => {
                    row.grant = Some(token.grant);
                    row.api_domain = token.api_domain.as_str().to_owned();
                    row.access_expires_at = token
                        .access_token
                        .as_ref()
                        .map(|_| to_system_time(token.expires_at));
                    row.mints_left = token.mints_left(now, &self.s.config);
                    row.hint = token.hint().to_owned();
                    row.paused_until =
                        self.s
                            .config
                            .pause_at(&token.hold, now)
                            .map(|(until, why)| {
                                let why = match why {
                                    PauseReason::Throttled => "throttled",
                                    PauseReason::Backoff => "backoff",
                                };
                                (to_system_time(until), why)
                            });
                    row.needs_authorization = token.hold.reauthorize.map(|r| r.to_string());
                }
                Ok(None) => continue,
                Err(StoreError::Corrupt(why)) => row.damaged = Some(why),
                Err(e) => return Err(e.into()),
            }
            out.push(row);
        }
        Ok(out)
    }
}
