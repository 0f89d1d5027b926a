//! The per-credential state machine: when to exchange, refresh, back off, wait, or ask for authorization.
//!
//! ```text
//!   restore(token) / set_grant(code)
//!            │
//!    ┌───────▼────────┐  poll(now) = Send(kind)   ┌────────────────┐
//!    │      Idle      │ ────────────────────────▶ │   InFlight     │  (one request at most)
//!    │ wake_at(now)   │ ◀──────────────────────── │                │
//!    └──┬─────────▲───┘  handle_response(now,..)  └───────┬────────┘
//!       │ budget  │ retry after backoff                   │ invalid_code on refresh
//!       ▼ empty   │                                       ▼
//!    ┌────────────┴──┐                            ┌────────────────┐
//!    │  Waiting(t)   │                            │ NeedsAuthorize │  until a new grant
//!    └───────────────┘                            └────────────────┘
//! ```
//!
//! Time is an argument everywhere: the machine never reads a clock, so tests step hours of
//! protocol time in microseconds.

use core::fmt;
use core::time::Duration;

use crate::cap;
use crate::region::Origin;
use crate::request::{self, BufferTooSmall, Request};
use crate::response::{self, Fault, Flow, ReAuthReason, TokenGrant, Verdict};
use crate::secret::{CapacityError, Secret};
use crate::time::Instant;
use crate::token::{MintLog, TokenSet};

/// Tunables of the machine. `Default` follows Zoho's published limits: refresh 60 s before
/// expiry, at most 10 mints per rolling 10 minutes, backoff from 1 s to 5 min, 10 min after a
/// throttle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Refresh this long before expiry (clamped to half the token's lifetime). Default 60 s.
    pub refresh_margin: Duration,
    /// Mints allowed per `budget_window` per refresh token. Default 10.
    pub budget_mints: usize,
    /// The rolling window of the budget. Default 600 s.
    pub budget_window: Duration,
    /// First backoff after a fault. Default 1 s.
    pub backoff_initial: Duration,
    /// Longest backoff. Default 5 min.
    pub backoff_max: Duration,
    /// How long to wait after Zoho's throttle. Default 10 min.
    pub throttle_wait: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            refresh_margin: Duration::from_secs(60),
            budget_mints: 10,
            budget_window: Duration::from_secs(600),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            throttle_wait: Duration::from_secs(600),
        }
    }
}

/// The client registration a machine talks to Zoho with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    client_id: heapless::String<{ cap::CLIENT_ID }>,
    client_secret: Secret<{ cap::CLIENT_SECRET }>,
    accounts: Origin,
    redirect_uri: Option<heapless::String<{ cap::REDIRECT_URI }>>,
}

impl Credentials {
    /// Client id and secret from the API console, and the accounts server of the data centre the
    /// client was registered at (or a custom origin such as the emulator's).
    pub fn new(
        client_id: &str,
        client_secret: &str,
        accounts: Origin,
    ) -> Result<Self, CapacityError> {
        Ok(Self {
            client_id: heapless::String::try_from(client_id).map_err(|_| CapacityError {
                field: "client_id",
                capacity: cap::CLIENT_ID,
                actual: client_id.len(),
            })?,
            client_secret: Secret::new("client_secret", client_secret)?,
            accounts,
            redirect_uri: None,
        })
    }

    /// The redirect URI registered for the client, sent with every grant exchange whose
    /// [`Machine::set_grant`] gave none. Self Client codes need none.
    pub fn with_redirect_uri(mut self, uri: &str) -> Result<Self, CapacityError> {
        self.redirect_uri = Some(heapless::String::try_from(uri).map_err(|_| CapacityError {
            field: "redirect_uri",
            capacity: cap::REDIRECT_URI,
            actual: uri.len(),
        })?);
        Ok(self)
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The default redirect URI, if one was configured.
    pub fn redirect_uri(&self) -> Option<&str> {
        self.redirect_uri.as_deref()
    }

    /// The accounts server token calls go to.
    pub fn accounts(&self) -> &Origin {
        &self.accounts
    }

    /// Point token calls at another accounts server, e.g. the one an authorization redirect named
    /// (validated with [`Origin::accepts_accounts_server`]) for a multi-DC client.
    pub fn set_accounts(&mut self, o: Origin) {
        self.accounts = o;
    }
}

/// Which token request is in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// Grant code → tokens.
    Exchange,
    /// Refresh token → access token.
    Refresh,
}

/// Why [`Poll::Wait`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitReason {
    /// The access token is fresh.
    Fresh,
    /// A request is in flight.
    InFlight,
    /// Backing off after a fault.
    Backoff,
    /// The mint budget is spent.
    BudgetSpent,
    /// Zoho throttled us.
    Throttled,
}

/// What to do next, from [`Machine::poll`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Poll {
    /// Send this request now.
    Send(RequestKind),
    /// Nothing to do until `until`.
    Wait {
        /// When to poll again (`None`: after the response in flight is handed over).
        until: Option<Instant>,
        /// Why.
        reason: WaitReason,
    },
    /// Zoho refused the refresh token (or the grant): authorize again, then
    /// [`Machine::set_grant`]. The refresh token is still in [`Machine::token`].
    NeedsAuthorization,
    /// No token and no grant: [`Machine::restore`] or [`Machine::set_grant`] first.
    Empty,
}

/// What a successful [`Machine::handle_response`] did: either way, save [`Machine::token`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Event {
    /// A grant was exchanged.
    Exchanged,
    /// An access token was refreshed.
    Refreshed,
}

/// The machine's state, for inspection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// No token and no grant.
    Empty,
    /// Nothing pending.
    Idle,
    /// A request is in flight.
    InFlight(RequestKind),
    /// Waiting.
    Waiting {
        /// Until when.
        until: Instant,
        /// Why.
        reason: WaitReason,
    },
    /// Needs a new grant.
    NeedsAuthorization,
}

/// [`Machine::write_request`] could not render the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MachineError {
    /// No request is in flight: call it only after [`Machine::poll`] returned [`Poll::Send`].
    NotInFlight,
    /// The buffer is too small; grow it to `required` and call again.
    Buffer(BufferTooSmall),
}

impl fmt::Display for MachineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotInFlight => {
                f.write_str("no request is in flight: call poll and get Poll::Send first")
            }
            Self::Buffer(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for MachineError {}

/// The per-credential state machine: one per (user, client, data centre, environment).
///
/// It never performs I/O and never reads a clock. Drive it as the [crate docs](crate) show:
/// [`poll`](Machine::poll); on [`Poll::Send`], [`write_request`](Machine::write_request), send it,
/// then [`handle_response`](Machine::handle_response) or
/// [`handle_transport_error`](Machine::handle_transport_error); otherwise sleep until the `Wait`'s
/// instant or [`wake_at`](Machine::wake_at).
///
/// Guarantees (each checked by the model-based property test `core/tests/machine_model.rs`):
/// at most one request in flight; [`access_token`](Machine::access_token) never returns an
/// expired token, and keeps returning the current one while a refresh is pending or failing; a
/// refresh is due `margin` before expiry (never more than half the lifetime); at most
/// `budget_mints` mints per rolling `budget_window`, recorded in the [`TokenSet`]; faults back off
/// exponentially with the caller's jitter; a throttle, or too many grant codes on an exchange
/// ([`Verdict::TooManyGrantCodes`]), waits `throttle_wait`; `invalid_code` on a
/// refresh stops at [`Poll::NeedsAuthorization`]; no error path drops the refresh token.
#[derive(Debug)]
pub struct Machine {
    credentials: Credentials,
    config: Config,
    token: Option<TokenSet>,
    grant: Option<Grant>,
    /// Bumped by every `set_grant`, so that an exchange finishing consumes only the grant it sent.
    grant_generation: u32,
    in_flight: Option<Flight>,
    /// Zoho refused the refresh token (or the only grant): a new grant is needed.
    needs_authorization: bool,
    /// `force_refresh` was called and no mint has happened since.
    force: bool,
    /// A backoff or throttle pause that the next request must wait out.
    pause: Option<(Instant, WaitReason)>,
    /// Consecutive failed requests: the exponent of the backoff.
    failures: u32,
    last_verdict: Option<Verdict>,
}

/// A grant code waiting to be exchanged.
#[derive(Debug)]
struct Grant {
    code: Secret<{ cap::GRANT_CODE }>,
    redirect_uri: Option<heapless::String<{ cap::REDIRECT_URI }>>,
}

/// The request in flight.
#[derive(Clone, Copy, Debug)]
struct Flight {
    kind: RequestKind,
    grant_generation: u32,
}

impl Machine {
    /// A machine with no token and no grant: [`poll`](Machine::poll) returns [`Poll::Empty`] until
    /// [`restore`](Machine::restore) or [`set_grant`](Machine::set_grant).
    pub fn new(credentials: Credentials, config: Config) -> Self {
        Self {
            credentials,
            config,
            token: None,
            grant: None,
            grant_generation: 0,
            in_flight: None,
            needs_authorization: false,
            force: false,
            pause: None,
            failures: 0,
            last_verdict: None,
        }
    }

    /// Replace the token set, e.g. with what the store holds (another process may have refreshed).
    ///
    /// Callable at any time. The budget travels with the token set, so a fleet sharing one store
    /// shares one budget. Clears [`Poll::NeedsAuthorization`] when the restored refresh token differs
    /// from the one Zoho refused (restoring the refused one again would only be refused again).
    /// Cancels a pending [`force_refresh`](Machine::force_refresh) when the restored access token
    /// differs from the current one (someone else already minted a new one). A backoff or throttle
    /// pause stays: it is about the server, not the token. A request in flight stays in flight;
    /// its response applies to the restored token.
    pub fn restore(&mut self, mut token: TokenSet) {
        // A store (or an imported file) may hold an access token that could not go into a header
        // line: drop it, so that the next poll mints a clean one.
        if token
            .access_token
            .as_ref()
            .is_some_and(|a| !crate::secret::is_token_text(a.expose().as_bytes()))
        {
            token.access_token = None;
        }
        if let Some(current) = &self.token {
            if current.refresh_token != token.refresh_token {
                self.needs_authorization = false;
            }
            if current.access_token != token.access_token {
                self.force = false;
            }
        } else {
            self.needs_authorization = false;
        }
        self.token = Some(token);
    }

    /// Give a grant code (from the API console's Self Client, or [`crate::authorize::parse_redirect`])
    /// to exchange: the next [`poll`](Machine::poll) returns `Send(Exchange)`.
    ///
    /// `redirect_uri` defaults to the one in the [`Credentials`]. Callable at any time; a fresh
    /// grant is a person's action, so it clears a backoff or throttle pause (grant codes expire in
    /// minutes). Set during an exchange in flight, the new code is exchanged next.
    pub fn set_grant(
        &mut self,
        code: &str,
        redirect_uri: Option<&str>,
    ) -> Result<(), CapacityError> {
        let redirect_uri = match redirect_uri {
            Some(uri) => Some(heapless::String::try_from(uri).map_err(|_| CapacityError {
                field: "redirect_uri",
                capacity: cap::REDIRECT_URI,
                actual: uri.len(),
            })?),
            None => None,
        };
        self.grant = Some(Grant {
            code: Secret::new("grant code", code)?,
            redirect_uri,
        });
        self.grant_generation = self.grant_generation.wrapping_add(1);
        self.pause = None;
        self.failures = 0;
        Ok(())
    }

    /// Ask for a new access token even if the current one is fresh (Zoho refused it with
    /// `INVALID_TOKEN`): the next [`poll`](Machine::poll) returns `Send(Refresh)`, still within the
    /// budget and after any pause. No effect without a token. Cleared by the next mint.
    pub fn force_refresh(&mut self) {
        if self.token.is_some() {
            self.force = true;
        }
    }

    /// What to do now. On [`Poll::Send`] the request is in flight: call
    /// [`write_request`](Machine::write_request), send it, and report the outcome with
    /// [`handle_response`](Machine::handle_response) or
    /// [`handle_transport_error`](Machine::handle_transport_error). Until then every poll returns
    /// `Wait { until: None, reason: InFlight }`.
    ///
    /// `Wait { until: Some(t), .. }`: nothing to do before `t`. [`Poll::NeedsAuthorization`]:
    /// call [`set_grant`](Machine::set_grant) (or [`restore`](Machine::restore) a new token).
    /// [`Poll::Empty`]: nothing was given yet.
    #[must_use = "on Poll::Send the machine is in flight: write, send and hand back the request"]
    pub fn poll(&mut self, now: Instant) -> Poll {
        if self.pause.is_some_and(|(until, _)| now >= until) {
            self.pause = None;
        }
        let decision = self.decide(now);
        if let Poll::Send(kind) = decision {
            self.in_flight = Some(Flight {
                kind,
                grant_generation: self.grant_generation,
            });
        }
        decision
    }

    /// Render the request that [`poll`](Machine::poll) asked to send into `buf` (2 KiB is plenty
    /// for Zoho's tokens). Only between `Poll::Send` and its `handle_*`; may be called again (for
    /// a retry with a larger buffer, or to resend the same bytes).
    pub fn write_request<'b>(&self, buf: &'b mut [u8]) -> Result<Request<'b>, MachineError> {
        let flight = self.in_flight.ok_or(MachineError::NotInFlight)?;
        let c = &self.credentials;
        match flight.kind {
            RequestKind::Exchange => {
                let grant = self.grant.as_ref().ok_or(MachineError::NotInFlight)?;
                let redirect_uri = grant.redirect_uri.as_deref().or(c.redirect_uri.as_deref());
                request::exchange(
                    buf,
                    &c.accounts,
                    &c.client_id,
                    c.client_secret.expose(),
                    grant.code.expose(),
                    redirect_uri,
                )
            }
            RequestKind::Refresh => {
                let token = self.token.as_ref().ok_or(MachineError::NotInFlight)?;
                request::refresh(
                    buf,
                    &c.accounts,
                    &c.client_id,
                    c.client_secret.expose(),
                    token.refresh_token.expose(),
                )
            }
        }
        .map_err(MachineError::Buffer)
    }

    /// Hand over the answer (HTTP status and whole body) to the request in flight. `now` is when
    /// it arrived; `jitter` is a random `u32` used only if the machine backs off.
    ///
    /// Only after `Poll::Send`; otherwise `Err(Verdict::NotInFlight)` and nothing changes. On
    /// success the new token is in [`token`](Machine::token): save it to the store. On error the
    /// verdict says why; the machine has already scheduled what comes next (see
    /// [`poll`](Machine::poll)).
    pub fn handle_response(
        &mut self,
        now: Instant,
        status: u16,
        body: &[u8],
        jitter: u32,
    ) -> Result<Event, Verdict> {
        let Some(flight) = self.in_flight.take() else {
            return Err(Verdict::NotInFlight);
        };
        let flow = match flight.kind {
            RequestKind::Exchange => Flow::Exchange,
            RequestKind::Refresh => Flow::Refresh,
        };
        let outcome = response::parse_token(flow, status, body)
            .and_then(|grant| self.apply(now, flight, grant));
        match outcome {
            Ok(event) => {
                self.failures = 0;
                self.pause = None;
                self.last_verdict = None;
                Ok(event)
            }
            Err(verdict) => {
                self.fail(now, flight, &verdict, jitter);
                self.last_verdict = Some(verdict.clone());
                Err(verdict)
            }
        }
    }

    /// Report that the request in flight got no answer (connection refused, reset, timeout):
    /// backs off and returns `Verdict::Retryable(Fault::Transport)`. Only after `Poll::Send`;
    /// otherwise returns [`Verdict::NotInFlight`] and nothing changes.
    pub fn handle_transport_error(&mut self, now: Instant, jitter: u32) -> Verdict {
        let Some(flight) = self.in_flight.take() else {
            return Verdict::NotInFlight;
        };
        let verdict = Verdict::Retryable(Fault::Transport);
        self.fail(now, flight, &verdict, jitter);
        self.last_verdict = Some(verdict.clone());
        verdict
    }

    /// The access token to use at `now`, if any: never one at or past its expiry, and still the
    /// current one while a refresh is due, in flight or failing (stale-while-revalidate).
    pub fn access_token(&self, now: Instant) -> Option<&str> {
        self.token.as_ref().and_then(|t| t.access_token(now))
    }

    /// The token set to save in the store (after every `Ok` from
    /// [`handle_response`](Machine::handle_response)). Kept through every error.
    pub fn token(&self) -> Option<&TokenSet> {
        self.token.as_ref()
    }

    /// The state, for inspection and logs. `Waiting` shows a backoff or throttle pause, which may
    /// already be over (the machine does not know the time between calls).
    pub fn state(&self) -> State {
        if let Some(flight) = self.in_flight {
            return State::InFlight(flight.kind);
        }
        if self.grant.is_none() {
            if self.needs_authorization {
                return State::NeedsAuthorization;
            }
            if self.token.is_none() {
                return State::Empty;
            }
        }
        match self.pause {
            Some((until, reason)) => State::Waiting { until, reason },
            None => State::Idle,
        }
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Point token calls at another accounts server (see [`Credentials::set_accounts`]).
    pub fn credentials_mut(&mut self) -> &mut Credentials {
        &mut self.credentials
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Why the last request failed; `None` after a success.
    pub fn last_verdict(&self) -> Option<&Verdict> {
        self.last_verdict.as_ref()
    }

    /// When [`poll`](Machine::poll) next has something to do: `now` if a request is due, the end of
    /// a wait, or `None` when only an outside event helps (a response, a grant, a restore).
    pub fn wake_at(&self, now: Instant) -> Option<Instant> {
        match self.decide(now) {
            Poll::Send(_) => Some(now),
            Poll::Wait { until, .. } => until,
            Poll::NeedsAuthorization | Poll::Empty => None,
        }
    }

    /// The decision of [`poll`](Machine::poll), without its effect.
    fn decide(&self, now: Instant) -> Poll {
        if self.in_flight.is_some() {
            return Poll::Wait {
                until: None,
                reason: WaitReason::InFlight,
            };
        }
        let kind = if self.grant.is_some() {
            RequestKind::Exchange
        } else if self.needs_authorization {
            return Poll::NeedsAuthorization;
        } else if let Some(token) = &self.token {
            let due = self.config.refresh_due(token);
            if self.force || token.access_token(now).is_none() || now >= due {
                RequestKind::Refresh
            } else {
                return Poll::Wait {
                    until: Some(due),
                    reason: WaitReason::Fresh,
                };
            }
        } else {
            return Poll::Empty;
        };
        if let Some((until, reason)) = self.pause {
            if now < until {
                return Poll::Wait {
                    until: Some(until),
                    reason,
                };
            }
        }
        if let (RequestKind::Refresh, Some(token)) = (kind, &self.token) {
            let recent = token.mints.in_window(now, self.config.budget_window);
            let budget = self.config.effective_budget();
            if recent.len() >= budget {
                // The slot opens when enough of the oldest mints leave the window.
                let until = recent[recent.len() - budget].saturating_add(self.config.budget_window);
                return Poll::Wait {
                    until: Some(until),
                    reason: WaitReason::BudgetSpent,
                };
            }
        }
        Poll::Send(kind)
    }

    /// Store a successful token response.
    fn apply(&mut self, now: Instant, flight: Flight, grant: TokenGrant) -> Result<Event, Verdict> {
        let expires_at = now.saturating_add(grant.expires_in);
        match flight.kind {
            RequestKind::Exchange => {
                if self.grant_generation == flight.grant_generation {
                    self.grant = None;
                }
                match (grant.refresh_token, &mut self.token) {
                    (Some(refresh_token), _) => {
                        let mut mints = MintLog::default();
                        mints.record(now);
                        self.token = Some(TokenSet {
                            refresh_token,
                            access_token: Some(grant.access_token),
                            issued_at: now,
                            expires_at,
                            api_domain: grant.api_domain.unwrap_or_default(),
                            scope: grant.scope.unwrap_or_default(),
                            mints,
                        });
                        self.needs_authorization = false;
                        self.force = false;
                    }
                    // An online grant beside the refresh token we keep: use its access token
                    // (minted from the grant, so not counted against our refresh token's budget).
                    (None, Some(token)) => {
                        token.access_token = Some(grant.access_token);
                        token.issued_at = now;
                        token.expires_at = expires_at;
                        if let Some(d) = grant.api_domain {
                            token.api_domain = d;
                        }
                        if let Some(s) = grant.scope {
                            token.scope = s;
                        }
                        self.force = false;
                    }
                    (None, None) => return Err(Verdict::ReAuthorize(ReAuthReason::NoRefreshToken)),
                }
                Ok(Event::Exchanged)
            }
            RequestKind::Refresh => {
                // Nothing removes the token, so a refresh in flight always has one.
                let token = self.token.as_mut().ok_or(Verdict::NotInFlight)?;
                token.access_token = Some(grant.access_token);
                token.issued_at = now;
                token.expires_at = expires_at;
                if let Some(d) = grant.api_domain {
                    token.api_domain = d;
                }
                if let Some(s) = grant.scope {
                    token.scope = s;
                }
                token.mints.record(now);
                self.force = false;
                Ok(Event::Refreshed)
            }
        }
    }

    /// Schedule what follows a failed request. Never touches the refresh token.
    fn fail(&mut self, now: Instant, flight: Flight, verdict: &Verdict, jitter: u32) {
        match verdict {
            Verdict::ReAuthorize(_) => match flight.kind {
                RequestKind::Refresh => self.needs_authorization = true,
                RequestKind::Exchange => {
                    if self.grant_generation == flight.grant_generation {
                        self.grant = None;
                    }
                    // A refused grant falls back to the refresh token we had, if any.
                    if self.token.is_none() {
                        self.needs_authorization = true;
                    }
                }
            },
            // Too many grant codes: wait like a throttle, keeping the grant. After the wait it
            // is tried once more: still alive (codes live up to 10 minutes) it may pass, else it
            // is `invalid_code` and dropped; a new `set_grant` ends the wait at once.
            Verdict::Throttled | Verdict::TooManyGrantCodes => {
                self.pause = Some((
                    now.saturating_add(self.config.throttle_wait),
                    WaitReason::Throttled,
                ));
            }
            // Faults, and errors a person must fix (client, request, malformed answers): retry
            // at a growing interval, capped at `backoff_max`; `last_verdict` tells the person.
            _ => {
                let delay = self.config.backoff(self.failures, jitter);
                self.pause = Some((now.saturating_add(delay), WaitReason::Backoff));
                self.failures = self.failures.saturating_add(1);
            }
        }
    }
}

impl Config {
    /// The backoff after `failures` consecutive failures: `d = min(backoff_initial * 2^failures,
    /// backoff_max)`, then `d/2 + jitter % (d/2 + 1)` (in milliseconds): between half and all of `d`.
    pub fn backoff(&self, failures: u32, jitter: u32) -> Duration {
        let initial = u64::try_from(self.backoff_initial.as_millis()).unwrap_or(u64::MAX);
        let max = u64::try_from(self.backoff_max.as_millis()).unwrap_or(u64::MAX);
        let d = 1u64
            .checked_shl(failures)
            .and_then(|factor| initial.checked_mul(factor))
            .map_or(max, |d| d.min(max));
        let half = d / 2;
        Duration::from_millis(half + u64::from(jitter) % (half + 1))
    }

    /// When `token` is due for a refresh: `refresh_margin` before expiry, the margin clamped to half
    /// the token's lifetime.
    pub fn refresh_due(&self, token: &TokenSet) -> Instant {
        let lifetime = token.expires_at.saturating_duration_since(token.issued_at);
        token
            .expires_at
            .saturating_sub(self.refresh_margin.min(lifetime / 2))
    }

    /// `budget_mints` clamped to `1..=cap::MINT_LOG`: the log remembers at most that many mints.
    pub fn effective_budget(&self) -> usize {
        self.budget_mints.clamp(1, cap::MINT_LOG)
    }
}
