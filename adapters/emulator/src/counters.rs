//! What the emulator has seen: request counts that tests assert on (single-flight, throttling, 401s).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A snapshot of the emulator's counters, from [`Emulator::counters`](crate::Emulator::counters)
/// or `GET /_emulator/counters`. All count since start or the last reset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Counters {
    /// Every request to `POST /oauth/v2/token`, faulted ones included.
    pub token_requests: u64,
    /// Token requests with `grant_type=authorization_code`.
    pub authorization_code_requests: u64,
    /// Token requests with `grant_type=refresh_token`.
    pub refresh_token_requests: u64,
    /// Token requests with `grant_type=client_credentials`.
    pub client_credentials_requests: u64,
    /// Token requests with another or no `grant_type`.
    pub other_grant_requests: u64,
    /// Refresh requests per `refresh_token` value sent (whatever the outcome).
    pub refreshes_per_token: BTreeMap<String, u64>,
    /// Token responses that carried a new access token.
    pub mints: u64,
    /// Token requests answered with the throttle body (limit reached or fault queued).
    pub throttled: u64,
    /// Token requests answered by a queued [`Fault`](crate::Fault) instead of normally.
    pub faults_injected: u64,
    /// Token and device-flow requests being processed right now (a hung request stays counted until
    /// the emulator stops).
    pub in_flight: u64,
    /// The largest number of token and device-flow requests ever processed at the same time.
    pub max_in_flight: u64,
    /// Successful revocations.
    pub revocations: u64,
    /// Requests to `GET /oauth/v2/auth`.
    pub authorizations: u64,
    /// Consent pages shown by `GET /oauth/v2/auth` (when consent is not automatic).
    pub consent_pages_shown: u64,
    /// Consent pages answered with Accept.
    pub consent_accepted: u64,
    /// Consent pages answered with Deny.
    pub consent_denied: u64,
    /// Code exchanges refused because the PKCE `code_verifier` was missing or wrong.
    pub pkce_failures: u64,
    /// Requests to `POST /oauth/v3/device/code`, faulted ones included.
    pub device_code_requests: u64,
    /// Requests to `POST /oauth/v3/device/token`, faulted ones included.
    pub device_token_requests: u64,
    /// Device polls by answer: `authorization_pending`, `slow_down`, `access_denied`, `expired`,
    /// `other_dc`, `success`, or the error sent (`invalid_code`, `invalid_client`, …). Faulted polls
    /// are not in it.
    pub device_polls: BTreeMap<String, u64>,
    /// Device authorizations approved (control API or verification page).
    pub device_approvals: u64,
    /// Device authorizations denied (control API or verification page).
    pub device_denials: u64,
    /// Requests that followed a [`Fault::Redirect`](crate::Fault::Redirect) to its target: a client
    /// that never follows redirects on the token endpoint leaves it at 0.
    pub redirects_followed: u64,
    /// Requests to the resource endpoints (`/oauth/user/info`, `/crm/...`).
    pub api_calls: u64,
    /// Resource requests refused with HTTP 401.
    pub api_unauthorized: u64,
}

impl Counters {
    /// Zeroes every counter except `in_flight`, which is a gauge; `max_in_flight` restarts from it.
    pub(crate) fn reset(&mut self) {
        let in_flight = self.in_flight;
        *self = Counters {
            in_flight,
            max_in_flight: in_flight,
            ..Counters::default()
        };
    }

    /// Counts a token request entering processing.
    pub(crate) fn enter(&mut self) {
        self.in_flight += 1;
        self.max_in_flight = self.max_in_flight.max(self.in_flight);
    }

    /// Counts a token request leaving processing.
    pub(crate) fn leave(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }
}
