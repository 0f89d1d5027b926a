//! Metrics through the `metrics` facade, for dashboards: token requests by outcome, throttles,
//! requests in flight, lock waits, store latency, expiry and mint budget per credential.
//!
//! Nothing is recorded unless the application installs a recorder (e.g.
//! `metrics-exporter-prometheus`, as `zoho-oauth watch --metrics-addr` does). Labels never
//! carry a secret: `kind`, `outcome` (a stable name of the core's verdict), `store` (the store's
//! own description, which carries no password), and `user`, `dc`, `env` of a credential — the
//! `user` label can be turned off (`ClientBuilder::metrics_user_label(false)`).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `zoho_oauth_token_requests_total` | counter | `kind` (exchange, refresh, client_credentials), `outcome` |
//! | `zoho_oauth_throttled_total` | counter | `by` (`zoho`, or `budget` for the local mint budget) |
//! | `zoho_oauth_token_requests_in_flight` | gauge | — |
//! | `zoho_oauth_lock_wait_seconds` | histogram | `store` |
//! | `zoho_oauth_store_seconds` | histogram | `store`, `op` (load, save, delete) |
//! | `zoho_oauth_access_token_expiry_seconds` | gauge | `user`, `dc`, `env`: seconds until the access token expires, when it was minted or served |
//! | `zoho_oauth_mint_budget_left` | gauge | `user`, `dc`, `env` |

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use zoho_oauth_core::response::Verdict;
use zoho_oauth_core::{Instant, TokenSet};

use crate::error::Error;
use crate::key::CredentialKey;

/// The names of the metrics the engine records, for exporters and dashboards.
pub mod names {
    /// Counter: token requests sent to Zoho, by `kind` and `outcome`.
    pub const TOKEN_REQUESTS: &str = "zoho_oauth_token_requests_total";
    /// Counter: token requests refused for the rate limit, `by` Zoho or the local budget.
    pub const THROTTLED: &str = "zoho_oauth_throttled_total";
    /// Gauge: token requests on the wire now.
    pub const IN_FLIGHT: &str = "zoho_oauth_token_requests_in_flight";
    /// Histogram (seconds): time to get a credential's store lock, by `store`.
    pub const LOCK_WAIT: &str = "zoho_oauth_lock_wait_seconds";
    /// Histogram (seconds): store operations under the lock, by `store` and `op`.
    pub const STORE: &str = "zoho_oauth_store_seconds";
    /// Gauge (seconds): until a credential's access token expires, by `user`, `dc`, `env`.
    pub const ACCESS_TOKEN_EXPIRY: &str = "zoho_oauth_access_token_expiry_seconds";
    /// Gauge: new access tokens the rolling budget still allows, by `user`, `dc`, `env`.
    pub const MINT_BUDGET_LEFT: &str = "zoho_oauth_mint_budget_left";
}

/// Register the description (HELP text) and unit of every metric the engine records with the
/// installed recorder. Call it once after installing one (an exporter shows the text).
pub fn describe_metrics() {
    use names::*;
    metrics::describe_counter!(
        TOKEN_REQUESTS,
        "Token requests sent to Zoho, by kind (exchange, refresh, client_credentials) and outcome."
    );
    metrics::describe_counter!(
        THROTTLED,
        "Token requests refused for the rate limit: by Zoho (by=zoho) or the local mint budget (by=budget)."
    );
    metrics::describe_gauge!(IN_FLIGHT, "Token requests on the wire now.");
    metrics::describe_histogram!(
        LOCK_WAIT,
        metrics::Unit::Seconds,
        "Time to get a credential's store lock (or to give up on it)."
    );
    metrics::describe_histogram!(
        STORE,
        metrics::Unit::Seconds,
        "Store operations under the lock (load, save, delete)."
    );
    metrics::describe_gauge!(
        ACCESS_TOKEN_EXPIRY,
        metrics::Unit::Seconds,
        "Seconds until the credential's access token expires."
    );
    metrics::describe_gauge!(
        MINT_BUDGET_LEFT,
        "New access tokens the rolling budget (10 per 10 minutes per refresh token) still allows."
    );
}

/// How the engine labels what it records.
#[derive(Debug)]
pub(crate) struct Telemetry {
    pub(crate) user_label: bool,
    /// Without the user label, one series per data centre and environment stands for all of
    /// their credentials: the last known state of each (expiry, budget left), so that the series
    /// shows the one closest to trouble rather than whichever was written last.
    seen: Mutex<HashMap<CredentialKey, (Option<Instant>, usize)>>,
}

impl Telemetry {
    pub(crate) fn new(user_label: bool) -> Self {
        Self {
            user_label,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// A token request is on the wire until the returned guard drops.
    pub(crate) fn in_flight(&self) -> InFlight {
        metrics::gauge!(names::IN_FLIGHT).increment(1.0);
        InFlight
    }

    /// The outcome of one token request.
    pub(crate) fn token_request(&self, kind: &'static str, outcome: Result<(), &Error>) {
        let outcome = match outcome {
            Ok(()) => "ok",
            Err(e) => outcome_label(e),
        };
        metrics::counter!(names::TOKEN_REQUESTS, "kind" => kind, "outcome" => outcome).increment(1);
        if outcome == "throttled" {
            metrics::counter!(names::THROTTLED, "by" => "zoho").increment(1);
        }
    }

    /// A token request the local mint budget refused.
    pub(crate) fn budget_refused(&self) {
        metrics::counter!(names::THROTTLED, "by" => "budget").increment(1);
    }

    /// How long the store lock took to get (or to give up on).
    pub(crate) fn lock_wait(&self, store: &str, waited: Duration) {
        metrics::histogram!(names::LOCK_WAIT, "store" => store.to_owned())
            .record(waited.as_secs_f64());
    }

    /// How long a store operation under the lock took.
    pub(crate) fn store_op(&self, store: &str, op: &'static str, took: Duration) {
        metrics::histogram!(names::STORE, "store" => store.to_owned(), "op" => op)
            .record(took.as_secs_f64());
    }

    /// The state of a credential after a pass: expiry and budget left.
    pub(crate) fn credential(
        &self,
        key: &CredentialKey,
        token: &TokenSet,
        now: Instant,
        budget_left: usize,
    ) {
        let expires_at = token.access_token.is_some().then_some(token.expires_at);
        let (user, expires_at, budget_left) = if self.user_label {
            (key.user.clone(), expires_at, budget_left)
        } else {
            // The soonest expiry and the smallest budget among this centre's credentials.
            let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
            seen.insert(key.clone(), (expires_at, budget_left));
            let same_place = seen.iter().filter(|(k, _)| {
                k.data_center == key.data_center && k.environment == key.environment
            });
            let (soonest, least) =
                same_place.fold((None, usize::MAX), |(soonest, least), (_, v)| {
                    let soonest = match (soonest, v.0) {
                        (Some(a), Some(b)) => Some(Instant::min(a, b)),
                        (a, b) => a.or(b),
                    };
                    (soonest, least.min(v.1))
                });
            (String::new(), soonest, least)
        };
        let labels = [
            ("user", user),
            ("dc", key.data_center.location_code().to_owned()),
            ("env", key.environment.name().to_owned()),
        ];
        if let Some(expires_at) = expires_at {
            let left = expires_at.saturating_duration_since(now);
            metrics::gauge!(names::ACCESS_TOKEN_EXPIRY, &labels).set(left.as_secs_f64());
        }
        metrics::gauge!(names::MINT_BUDGET_LEFT, &labels).set(budget_left as f64);
    }

    /// A credential is gone (revoked or deleted): it no longer stands in its centre's series.
    pub(crate) fn forget(&self, key: &CredentialKey) {
        if !self.user_label {
            self.seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(key);
        }
    }
}

/// Decrements the in-flight gauge when dropped (also when the request's future is cancelled).
pub(crate) struct InFlight;

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(names::IN_FLIGHT).decrement(1.0);
    }
}

/// A stable, secret-free name of what an error says about the request.
fn outcome_label(e: &Error) -> &'static str {
    match e {
        Error::Zoho(v) => match v {
            Verdict::Retryable(_) => "server_fault",
            Verdict::Throttled => "throttled",
            Verdict::TooManyGrantCodes => "too_many_grant_codes",
            Verdict::BadClient { .. } => "bad_client",
            Verdict::BadRequest(_) => "bad_request",
            Verdict::Malformed(_) | Verdict::TooLong(_) => "malformed",
            _ => "other",
        },
        Error::Throttled { .. } => "throttled",
        Error::NeedsAuthorization { .. } => "reauthorize",
        Error::Transport(_) => "transport",
        other => other.label(),
    }
}
