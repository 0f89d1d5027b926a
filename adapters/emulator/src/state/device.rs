//! The device flow (`/oauth/v3/device/code` and `/oauth/v3/device/token`): a device asks for a
//! user code, a person approves or denies it elsewhere, the device polls until it has its tokens.
//!
//! A device code belongs to the data centre it was requested at until a person whose account
//! lives in another data centre approves it: from then on it belongs there, the first data
//! centre answers `other_dc`, and the tokens are issued by the person's data centre.

use std::collections::HashMap;
use std::time::Duration;

use super::{errors, ms, non_empty, parse_scopes, Grant, Minted, Model, RefreshPolicy};
use crate::error::ControlError;
use crate::region::DataCenter;

/// The answer to a device-code request.
#[derive(Debug)]
pub(crate) struct DeviceIssued {
    pub(crate) device_code: String,
    pub(crate) user_code: String,
    pub(crate) interval: Duration,
    pub(crate) expires_in: Duration,
}

/// The answer to a poll.
#[derive(Debug)]
pub(crate) enum PollOutcome {
    /// The person approved: the usual token response.
    Minted(Minted),
    /// `{"error": …}`: `authorization_pending`, `slow_down`, `access_denied`, `expired`, or a
    /// request error (`invalid_client`, `invalid_code`, …).
    Error(&'static str),
    /// `{"error":"other_dc","user_location":…}`: poll that data centre instead.
    OtherDc(DataCenter),
}

impl PollOutcome {
    /// The name this answer is counted under.
    fn name(&self) -> &'static str {
        match self {
            PollOutcome::Minted(_) => "success",
            PollOutcome::Error(error) => error,
            PollOutcome::OtherDc(_) => errors::OTHER_DC,
        }
    }
}

#[derive(Debug)]
enum DeviceState {
    Pending,
    Denied,
    /// Approved: the credential to issue on the next poll at `grant.data_center`.
    Approved {
        grant: Grant,
    },
    /// The tokens were handed out.
    Used,
}

#[derive(Debug)]
struct Device {
    client_id: String,
    /// The data centre the device asked at.
    origin: DataCenter,
    user_code: String,
    scopes: Vec<String>,
    refresh: RefreshPolicy,
    expires_at: u64,
    last_poll: Option<u64>,
    state: DeviceState,
}

/// Every device authorization, by device code, with the user codes that lead to them.
#[derive(Debug, Default)]
pub(crate) struct Devices {
    by_code: HashMap<String, Device>,
    by_user_code: HashMap<String, String>,
}

/// A user code as typed by a person: case, dashes and spaces do not matter.
fn normalize(user_code: &str) -> String {
    user_code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl Model {
    /// `POST /oauth/v3/device/code`.
    pub(crate) fn request_device_code(
        &mut self,
        data_center: DataCenter,
        client_id: Option<&str>,
        grant_type: Option<&str>,
        scope: Option<&str>,
        access_type: Option<&str>,
        prompt: Option<&str>,
    ) -> Result<DeviceIssued, &'static str> {
        if grant_type != Some("device_request") {
            return Err(errors::UNSUPPORTED_GRANT_TYPE);
        }
        let client_id = non_empty(client_id).ok_or(errors::INVALID_CLIENT)?;
        let client_id = self
            .client(data_center, client_id)
            .ok_or(errors::INVALID_CLIENT)?
            .id
            .clone();
        let scopes = parse_scopes(scope.unwrap_or_default());
        if scopes.is_empty() {
            return Err(errors::INVALID_SCOPE);
        }
        let device_code = self.ids.token();
        let user_code = loop {
            let candidate = self.ids.user_code();
            if !self
                .devices
                .by_user_code
                .contains_key(&normalize(&candidate))
            {
                break candidate;
            }
        };
        let lifetime = self.limits.device_code_lifetime;
        let expires_at = self.now().saturating_add(ms(lifetime));
        self.devices
            .by_user_code
            .insert(normalize(&user_code), device_code.clone());
        self.devices.by_code.insert(
            device_code.clone(),
            Device {
                client_id,
                origin: data_center,
                user_code: user_code.clone(),
                scopes,
                refresh: RefreshPolicy::of(access_type, prompt),
                expires_at,
                last_poll: None,
                state: DeviceState::Pending,
            },
        );
        Ok(DeviceIssued {
            device_code,
            user_code,
            interval: self.limits.device_poll_interval,
            expires_in: lifetime,
        })
    }

    /// `POST /oauth/v3/device/token`, counted by its answer.
    pub(crate) fn poll_device(
        &mut self,
        data_center: DataCenter,
        client_id: Option<&str>,
        client_secret: Option<&str>,
        grant_type: Option<&str>,
        code: Option<&str>,
    ) -> PollOutcome {
        let outcome = self.poll(data_center, client_id, client_secret, grant_type, code);
        *self
            .counters
            .device_polls
            .entry(outcome.name().to_owned())
            .or_default() += 1;
        outcome
    }

    fn poll(
        &mut self,
        data_center: DataCenter,
        client_id: Option<&str>,
        client_secret: Option<&str>,
        grant_type: Option<&str>,
        code: Option<&str>,
    ) -> PollOutcome {
        if grant_type != Some("device_token") {
            return PollOutcome::Error(errors::UNSUPPORTED_GRANT_TYPE);
        }
        let client_id = match self.check_client(data_center, client_id, client_secret) {
            Ok(id) => id,
            Err(error) => return PollOutcome::Error(error),
        };
        let now = self.now();
        let floor = ms(self.limits.device_poll_floor);
        let Some(device) = non_empty(code).and_then(|c| self.devices.by_code.get_mut(c)) else {
            return PollOutcome::Error(errors::INVALID_CODE);
        };
        if device.client_id != client_id || matches!(device.state, DeviceState::Used) {
            return PollOutcome::Error(errors::INVALID_CODE);
        }
        let belongs = match &device.state {
            DeviceState::Approved { grant, .. } => grant.data_center,
            _ => device.origin,
        };
        if data_center != belongs && data_center != device.origin {
            // Unknown here: the code lives at its origin, or at the approver's data centre.
            return PollOutcome::Error(errors::INVALID_CODE);
        }
        // Every poll counts for the next one's spacing, a refused one too.
        let previous = device.last_poll.replace(now);
        if now >= device.expires_at {
            return PollOutcome::Error(errors::EXPIRED);
        }
        if previous.is_some_and(|p| now.saturating_sub(p) < floor) {
            return PollOutcome::Error(errors::SLOW_DOWN);
        }
        if data_center != belongs {
            return PollOutcome::OtherDc(belongs);
        }
        match std::mem::replace(&mut device.state, DeviceState::Used) {
            DeviceState::Pending => {
                device.state = DeviceState::Pending;
                PollOutcome::Error(errors::AUTHORIZATION_PENDING)
            }
            DeviceState::Denied => {
                device.state = DeviceState::Denied;
                PollOutcome::Error(errors::ACCESS_DENIED)
            }
            DeviceState::Approved { grant } => {
                let policy = device.refresh;
                PollOutcome::Minted(self.grant_tokens(grant, policy))
            }
            DeviceState::Used => PollOutcome::Error(errors::INVALID_CODE),
        }
    }

    /// The pending device authorization of `user_code`, or why there is none to decide.
    fn pending_device(&mut self, user_code: &str) -> Result<&mut Device, ControlError> {
        let now = self.now();
        let unknown = || ControlError::UnknownUserCode {
            user_code: user_code.to_owned(),
        };
        let device_code = self
            .devices
            .by_user_code
            .get(&normalize(user_code))
            .ok_or_else(unknown)?;
        let device = self
            .devices
            .by_code
            .get_mut(device_code)
            .ok_or_else(unknown)?;
        if now >= device.expires_at {
            return Err(ControlError::UserCodeExpired {
                user_code: device.user_code.clone(),
            });
        }
        if !matches!(device.state, DeviceState::Pending) {
            return Err(ControlError::DeviceAlreadyDecided {
                user_code: device.user_code.clone(),
            });
        }
        Ok(device)
    }

    /// The person signed in as `user_email` approves `user_code`; the tokens will come from the
    /// data centre of the person's account.
    pub(crate) fn approve_device(
        &mut self,
        user_code: &str,
        user_email: &str,
    ) -> Result<(), ControlError> {
        let user = self.user_key(user_email)?;
        let environment = self.consent.environment;
        let device = self.pending_device(user_code)?;
        let (client_id, origin) = (device.client_id.clone(), device.origin);
        let scopes = device.scopes.clone();
        let home = self.home_of(&user, origin);
        if self.client(home, &client_id).is_none() {
            // Zoho's multi-DC: the account's data centre must know the client too.
            return Err(ControlError::UnknownClient {
                client_id,
                data_center: home,
            });
        }
        self.record_consent(home, &client_id, &user, &scopes);
        let grant = Grant {
            client_id,
            data_center: home,
            environment,
            user: Some(user),
            org: None,
            scopes,
        };
        self.pending_device(user_code)?.state = DeviceState::Approved { grant };
        self.counters.device_approvals += 1;
        Ok(())
    }

    /// The person denies `user_code`: the device's next poll answers `access_denied`.
    pub(crate) fn deny_device(&mut self, user_code: &str) -> Result<(), ControlError> {
        self.pending_device(user_code)?.state = DeviceState::Denied;
        self.counters.device_denials += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn a_typed_user_code_ignores_case_dashes_and_spaces() {
        assert_eq!(normalize(" bcdf-ghjk "), "BCDFGHJK");
        assert_eq!(normalize("BCDF GHJK"), normalize("BCDF-GHJK"));
    }
}
