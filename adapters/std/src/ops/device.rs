//! The device flow, for devices without a browser or keyboard (gateways, kiosks): ask Zoho for a
//! user code, show it, then poll on the core's schedule (never faster than once per 30 s by
//! default) until the person approves it on another device — following `other_dc` to the data
//! centre their account lives in — and store the credential under its owner.

use std::fmt;
use std::time::SystemTime;

use zeroize::Zeroize;
use zoho_oauth_core::authorize::{AccessType, Prompt};
use zoho_oauth_core::device::{self, DeviceEnd, DeviceFlow, DevicePoll, PollAnswer};
use zoho_oauth_core::response::ReAuthReason;
use zoho_oauth_core::token::GrantKind;
use zoho_oauth_core::{DataCenter, TokenSet};

use super::exchange::Exchanged;
use super::owner::UserSource;
use crate::clock::to_system_time;
use crate::engine::outbound::Rendered;
use crate::engine::{cycle, Engine, Io};
use crate::error::Error;

/// A device authorization in progress, from `device_login`: show [`user_code`] and
/// [`verification_url`] to the person, then wait for them with `device_wait`.
///
/// [`user_code`]: DeviceLogin::user_code
/// [`verification_url`]: DeviceLogin::verification_url
pub struct DeviceLogin {
    /// The code the person enters on the verification page.
    pub user_code: String,
    /// Where the person goes, in any browser.
    pub verification_url: String,
    /// When the codes expire (about five minutes after the start).
    pub expires_at: SystemTime,
    flow: DeviceFlow,
    /// The data centre the polls go to (moved by `other_dc`).
    data_center: DataCenter,
    /// Whether a refresh token was asked for.
    offline: bool,
}

impl fmt::Debug for DeviceLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The device code is a secret; the user code is meant to be shown.
        f.debug_struct("DeviceLogin")
            .field("user_code", &self.user_code)
            .field("verification_url", &self.verification_url)
            .field("data_center", &self.data_center)
            .finish_non_exhaustive()
    }
}

/// How a device login asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceOptions {
    /// Ask for a refresh token (`access_type=offline`, default `true`): without one the
    /// credential cannot be kept, so only `false` for a one-off call.
    pub offline: bool,
    /// `prompt=consent` (default `true`): a new refresh token even if the person approved this
    /// client before.
    pub prompt_consent: bool,
}

impl Default for DeviceOptions {
    fn default() -> Self {
        Self {
            offline: true,
            prompt_consent: true,
        }
    }
}

impl DeviceOptions {
    /// Set [`prompt_consent`](Self::prompt_consent).
    pub fn prompt_consent(mut self, on: bool) -> Self {
        self.prompt_consent = on;
        self
    }
}

impl Engine {
    /// Start a device login at the home data centre for `scopes` (add `aaaserver.profile.READ`
    /// to let `device_wait` learn the person): the user code and URL to show.
    pub async fn device_login<I: Io>(
        &self,
        io: &I,
        scopes: &[&str],
        options: DeviceOptions,
    ) -> Result<DeviceLogin, Error> {
        let s = &self.s;
        let dc = s.data_center;
        let origin = s.home_accounts();
        let access = if options.offline {
            AccessType::Offline
        } else {
            AccessType::Online
        };
        let prompt = options.prompt_consent.then_some(Prompt::Consent);
        let rendered = Rendered::new(|buf| {
            device::initiation_request(buf, origin, &s.client_id, scopes, access, prompt)
        })?;
        let mut resp = rendered.send(io, "device_code", "(device)", None).await?;
        let parsed = device::parse_initiation(resp.status, &resp.body);
        resp.body.zeroize();
        let authorization = parsed.map_err(Error::Zoho)?;
        let now = s.clock.now();
        let flow = DeviceFlow::new(now, origin.clone(), &authorization, s.device);
        tracing::info!(dc = %dc, "device login started");
        Ok(DeviceLogin {
            user_code: authorization.user_code.as_str().to_owned(),
            verification_url: authorization.verification_url.as_str().to_owned(),
            expires_at: to_system_time(flow.expires_at()),
            flow,
            data_center: dc,
            offline: options.offline,
        })
    }

    /// Wait for the person to approve `login`, polling on the core's schedule, and store the
    /// credential under `user` — or, when `None`, under the e-mail `/oauth/user/info` reports
    /// (the scopes must then include `aaaserver.profile.READ`; otherwise it is stored under
    /// `default`). Follows `other_dc` to the person's data centre if the client is allowed it.
    /// A denial or an expiry is [`Error::NeedsAuthorization`] with its reason.
    pub async fn device_wait<I: Io>(
        &self,
        io: &I,
        login: &mut DeviceLogin,
        user: Option<&str>,
    ) -> Result<Exchanged, Error> {
        if let Some(user) = user {
            Engine::check_user(user)?;
        }
        let s = &self.s;
        loop {
            let now = s.clock.now();
            match login.flow.poll(now) {
                DevicePoll::Wait { until } => {
                    let until = until.unwrap_or(now);
                    io.sleep(until.saturating_duration_since(now)).await;
                }
                DevicePoll::Done(end) => return Err(self.device_ended(login, end, None)),
                DevicePoll::Send => {
                    if let Some(done) = self.device_poll(io, login, user).await? {
                        return Ok(done);
                    }
                }
            }
        }
    }

    /// Send the poll in flight and follow its answer; `Some` when the tokens came and are stored.
    async fn device_poll<I: Io>(
        &self,
        io: &I,
        login: &mut DeviceLogin,
        user: Option<&str>,
    ) -> Result<Option<Exchanged>, Error> {
        let s = &self.s;
        let credentials = s.credentials_for(login.data_center)?;
        let secret = credentials.client_secret().expose();
        let rendered = Rendered::new(|buf| login.flow.write_request(buf, &s.client_id, secret))?;
        let sent = rendered.send(io, "device_token", "(device)", None).await;
        drop(rendered);
        let now = s.clock.now();
        let mut resp = match sent {
            Ok(resp) => resp,
            Err(e) if !e.is_retryable() => return Err(Error::Transport(e)),
            Err(e) => {
                let _ = login.flow.handle_transport_error(now);
                tracing::debug!(error = %e, "device poll got no answer; polling again later");
                return Ok(None);
            }
        };
        let answer = login.flow.handle_response(now, resp.status, &resp.body);
        resp.body.zeroize();
        match answer {
            Ok(PollAnswer::Pending | PollAnswer::SlowDown) => Ok(None),
            Ok(PollAnswer::OtherDataCenter(dc)) => {
                // Only a data centre this client is set up for: its origin, and its secret.
                let origin = s.accounts_for(dc)?.clone();
                tracing::info!(dc = %dc, "the person's account lives in another data centre; polling there");
                login.flow.set_accounts(origin);
                login.data_center = dc;
                Ok(None)
            }
            Ok(PollAnswer::Granted(grant)) => {
                let token = TokenSet::from_grant(grant, now, GrantKind::Device)
                    .map_err(|reason| self.device_ended(login, DeviceEnd::Refused, Some(reason)))?;
                self.store_device_credential(io, login.data_center, token, user)
                    .await
                    .map(Some)
            }
            // Not approved yet, in a way this version does not know: keep polling.
            Ok(_) => Ok(None),
            Err(v) => match login.flow.end() {
                // Keeps polling: a fault, a throttle, an answer that was not Zoho's.
                None => {
                    tracing::debug!(verdict = ?v, "device poll failed; polling again later");
                    Ok(None)
                }
                Some(end @ (DeviceEnd::Denied | DeviceEnd::Expired)) => {
                    Err(self.device_ended(login, end, None))
                }
                // Zoho refused the flow itself (a bad client, an unknown data centre).
                Some(_) => Err(Error::Zoho(v)),
            },
        }
    }

    /// Install the tokens the device flow gave, under their owner.
    async fn store_device_credential<I: Io>(
        &self,
        io: &I,
        dc: DataCenter,
        token: TokenSet,
        user: Option<&str>,
    ) -> Result<Exchanged, Error> {
        let unknown = self.key_in("(device)", dc);
        cycle::trusted(self, &unknown, &token)?;
        let (user, source) = match user {
            Some(u) => (u.to_owned(), None),
            None => {
                let access = token
                    .access_token
                    .as_ref()
                    .map(|a| a.expose().to_owned())
                    .unwrap_or_default();
                match self
                    .owner_email(io, self.s.accounts_for(dc)?, &access)
                    .await
                {
                    Ok(email) => (email, Some(UserSource::Learned)),
                    Err(e) => ("default".to_owned(), Some(UserSource::Fallback(e))),
                }
            }
        };
        let added = self.install(io, self.key_in(&user, dc), token).await?;
        let token = added
            .token
            .ok_or_else(|| Error::Internal("a device grant without an access token".into()))?;
        tracing::info!(user = user.as_str(), dc = %dc, "device login finished and credential stored");
        Ok(Exchanged {
            key: added.key,
            token,
            source,
        })
    }

    /// The error a finished device flow is.
    fn device_ended(
        &self,
        login: &DeviceLogin,
        end: DeviceEnd,
        reason: Option<ReAuthReason>,
    ) -> Error {
        let key = self.key_in("(device)", login.data_center);
        let reason = match (end, reason) {
            (DeviceEnd::Denied, _) => ReAuthReason::DeviceAccessDenied,
            (DeviceEnd::Expired, _) => ReAuthReason::DeviceCodeExpired,
            (_, Some(r)) => r,
            // A grant without a refresh token (an online device login cannot be kept).
            _ if !login.offline => ReAuthReason::NoRefreshToken,
            _ => ReAuthReason::DeviceCodeExpired,
        };
        Error::NeedsAuthorization { key, reason }
    }
}
