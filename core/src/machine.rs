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
use crate::pkce::CodeVerifier;
use crate::region::Origin;
use crate::request::{self, BufferTooSmall, Request};
use crate::response::{self, Fault, Flow, ReAuthReason, TokenGrant, Verdict};
use crate::secret::{CapacityError, Secret};
use crate::time::Instant;
use crate::token::{GrantKind, Hold, PauseReason, TokenSet, CLOCK_SKEW_TOLERANCE};

/// Tunables of the machine. `Default` follows Zoho's published limits: refresh 60 s before
/// expiry, at most 10 mints per rolling 10 minutes, backoff from 1 s to 5 min, 10 min after a
/// throttle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Refresh this long before expiry (clamped to half the token's lifetime). Default 60 s.
    pub refresh_margin: Duration,
    /// Refresh up to this much earlier still, by an amount fixed per credential (derived from its
    /// refresh token, or its scope and `soid`), so that credentials minted together — an import,
    /// a fleet started at once — do not all come due together. Every process computes the same
    /// due time for a credential. Default 0 (Zoho's rule alone); the std client sets 60 s.
    pub refresh_spread: Duration,
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
            refresh_spread: Duration::ZERO,
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

    /// The client secret, for requests rendered outside the machine (a device flow's polls).
    pub fn client_secret(&self) -> &Secret<{ cap::CLIENT_SECRET }> {
        &self.client_secret
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
    /// Client id, secret, scope and `soid` → access token (a client-credentials credential).
    ClientCredentials,
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
    NeedsAuthorization {
        /// What Zoho refused, and so what the person must do.
        reason: ReAuthReason,
    },
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
    /// A client-credentials access token was minted.
    Minted,
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
    /// Needs a new grant, for this reason.
    NeedsAuthorization(ReAuthReason),
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
    /// `force_refresh` was called and no mint has happened since.
    force: bool,
    /// The wait state while there is no token set to keep it in (a grant being exchanged).
    /// With a token set, its [`TokenSet::hold`] is the wait state, so that it is saved with it.
    own: Hold,
    last_verdict: Option<Verdict>,
}

/// A grant code waiting to be exchanged.
#[derive(Debug)]
struct Grant {
    code: Secret<{ cap::GRANT_CODE }>,
    redirect_uri: Option<heapless::String<{ cap::REDIRECT_URI }>>,
    /// The PKCE verifier of the login that produced the code, sent as `code_verifier`.
    verifier: Option<CodeVerifier>,
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
            force: false,
            own: Hold::default(),
            last_verdict: None,
        }
    }

    /// Replace the token set, e.g. with what the store holds (another process may have refreshed,
    /// or been throttled).
    ///
    /// Callable at any time. The budget and the wait state travel with the token set
    /// ([`TokenSet::mints`], [`TokenSet::hold`]), so a fleet sharing one store shares one budget,
    /// one throttle window and one backoff: restoring adopts them. Cancels a pending
    /// [`force_refresh`](Machine::force_refresh) when the restored access token differs from the
    /// current one (someone else already minted a new one). A request in flight stays in flight
    /// and its response applies to the restored token — unless the restored token set holds
    /// another refresh token: then that request is forgotten (its answer is refused as
    /// [`Verdict::NotInFlight`]).
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
            if current.access_token != token.access_token {
                self.force = false;
            }
            // Another credential took this one's place: the answer to a request sent with the
            // old refresh token belongs to neither (its mint is not this one's budget, its refusal
            // not this one's refresh token). Forget it; the next poll decides afresh.
            if current.refresh_token != token.refresh_token {
                self.in_flight = None;
            }
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
            verifier: None,
        });
        self.grant_generation = self.grant_generation.wrapping_add(1);
        let hold = self.hold_mut();
        hold.pause = None;
        hold.failures = 0;
        Ok(())
    }

    /// Like [`set_grant`](Machine::set_grant), for a code from a login that sent a PKCE challenge:
    /// the exchange carries `verifier` as `code_verifier` (Zoho refuses the code without it).
    pub fn set_grant_with_verifier(
        &mut self,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: CodeVerifier,
    ) -> Result<(), CapacityError> {
        self.set_grant(code, redirect_uri)?;
        if let Some(grant) = &mut self.grant {
            grant.verifier = Some(verifier);
        }
        Ok(())
    }

    /// Ask for a new access token even if the current one is fresh (Zoho refused it with
    /// `INVALID_TOKEN`): the next [`poll`](Machine::poll) returns `Send(Refresh)` (or
    /// `Send(ClientCredentials)`), still within the budget and after any pause. No effect without
    /// a token. Cleared by the next mint.
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
        let decision = self.decide(now);
        if let Poll::Send(kind) = decision {
            self.in_flight = Some(Flight {
                kind,
                grant_generation: self.grant_generation,
            });
        }
        decision
    }

    /// What [`poll`](Machine::poll) would answer at `now`, without putting a request in flight:
    /// for a caller that only wants to know (is a refresh due? is the credential throttled, and
    /// until when? does it need authorization?).
    pub fn peek(&self, now: Instant) -> Poll {
        self.decide(now)
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
                    grant.verifier.as_ref().map(CodeVerifier::expose),
                )
            }
            RequestKind::Refresh => {
                let refresh = self
                    .token
                    .as_ref()
                    .and_then(|t| t.refresh_token.as_ref())
                    .ok_or(MachineError::NotInFlight)?;
                request::refresh(
                    buf,
                    &c.accounts,
                    &c.client_id,
                    c.client_secret.expose(),
                    refresh.expose(),
                )
            }
            RequestKind::ClientCredentials => {
                let token = self.token.as_ref().ok_or(MachineError::NotInFlight)?;
                // The scopes are kept comma-separated, as they were asked for.
                let mut scopes: heapless::Vec<&str, 32> = heapless::Vec::new();
                for scope in token.scope.split(',').filter(|s| !s.is_empty()) {
                    if scopes.push(scope).is_err() {
                        break;
                    }
                }
                request::client_credentials(
                    buf,
                    &c.accounts,
                    &c.client_id,
                    c.client_secret.expose(),
                    &scopes,
                    Some(token.soid.as_str()).filter(|s| !s.is_empty()),
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
    /// [`poll`](Machine::poll)) and recorded it in the token set's [`Hold`]: save it too, so that
    /// other processes honour it.
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
            RequestKind::ClientCredentials => Flow::ClientCredentials,
        };
        let outcome = response::parse_token(flow, status, body)
            .and_then(|grant| self.apply(now, flight, grant));
        match outcome {
            Ok(event) => {
                // Zoho answered: the pause and the backoff are over. A refused refresh token stays
                // refused (an online grant's access token does not vouch for it).
                let hold = self.hold_mut();
                hold.pause = None;
                hold.failures = 0;
                self.own = Hold::default();
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

    /// Forget the request in flight without an answer (the caller gave up on it: cancelled, or
    /// the answer could not be read). Nothing else changes; the next poll decides afresh.
    pub fn abandon(&mut self) {
        self.in_flight = None;
    }

    /// The access token to use at `now`, if any: never one at or past its expiry, and still the
    /// current one while a refresh is due, in flight or failing (stale-while-revalidate).
    pub fn access_token(&self, now: Instant) -> Option<&str> {
        self.token.as_ref().and_then(|t| t.access_token(now))
    }

    /// The token set to save in the store (after every `handle_*`: on success it holds the new
    /// token, on failure the wait state). Kept through every error.
    pub fn token(&self) -> Option<&TokenSet> {
        self.token.as_ref()
    }

    /// The wait state: the token set's, or while there is none, the machine's own.
    pub fn hold(&self) -> &Hold {
        self.token.as_ref().map_or(&self.own, |t| &t.hold)
    }

    fn hold_mut(&mut self) -> &mut Hold {
        match &mut self.token {
            Some(t) => &mut t.hold,
            None => &mut self.own,
        }
    }

    /// The state, for inspection and logs. `Waiting` shows a backoff or throttle pause, which may
    /// already be over (the machine does not know the time between calls).
    pub fn state(&self) -> State {
        if let Some(flight) = self.in_flight {
            return State::InFlight(flight.kind);
        }
        let hold = self.hold();
        if self.grant.is_none() {
            if let Some(reason) = hold.reauthorize {
                return State::NeedsAuthorization(reason);
            }
            if self.token.is_none() {
                return State::Empty;
            }
        }
        match hold.pause {
            Some((until, reason)) => State::Waiting {
                until,
                reason: reason.into(),
            },
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

    /// Why the last request of this machine failed; `None` after a success. (Other processes'
    /// failures reach it only as the [`Hold`] they saved.)
    pub fn last_verdict(&self) -> Option<&Verdict> {
        self.last_verdict.as_ref()
    }

    /// When [`poll`](Machine::poll) next has something to do: `now` if a request is due, the end of
    /// a wait, or `None` when only an outside event helps (a response, a grant, a restore).
    pub fn wake_at(&self, now: Instant) -> Option<Instant> {
        match self.decide(now) {
            Poll::Send(_) => Some(now),
            Poll::Wait { until, .. } => until,
            Poll::NeedsAuthorization { .. } | Poll::Empty => None,
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
        let hold = self.hold();
        let kind = if self.grant.is_some() {
            RequestKind::Exchange
        } else if let Some(reason) = hold.reauthorize {
            return Poll::NeedsAuthorization { reason };
        } else if let Some(token) = &self.token {
            let due = self.config.refresh_due(token);
            if self.force || token.access_token(now).is_none() || now >= due {
                if token.grant.refreshes() {
                    RequestKind::Refresh
                } else {
                    RequestKind::ClientCredentials
                }
            } else {
                return Poll::Wait {
                    until: Some(due),
                    reason: WaitReason::Fresh,
                };
            }
        } else {
            return Poll::Empty;
        };
        if let Some((until, reason)) = self.config.pause_at(hold, now) {
            return Poll::Wait {
                until: Some(until),
                reason: reason.into(),
            };
        }
        if let (RequestKind::Refresh | RequestKind::ClientCredentials, Some(token)) =
            (kind, &self.token)
        {
            if let Some(until) = self.config.budget_opens_at(token, now) {
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
                match (grant.refresh_token.is_some(), &mut self.token) {
                    (true, _) => {
                        self.token = Some(
                            TokenSet::from_grant(grant, now, GrantKind::AuthorizationCode)
                                .map_err(Verdict::ReAuthorize)?,
                        );
                        self.force = false;
                    }
                    // An online grant beside the refresh token we keep: use its access token
                    // (minted from the grant, so not counted against our refresh token's budget).
                    (false, Some(token)) => {
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
                    (false, None) => {
                        return Err(Verdict::ReAuthorize(ReAuthReason::NoRefreshToken))
                    }
                }
                Ok(Event::Exchanged)
            }
            RequestKind::Refresh | RequestKind::ClientCredentials => {
                // Nothing removes the token, so a refresh in flight always has one.
                let token = self.token.as_mut().ok_or(Verdict::NotInFlight)?;
                token.access_token = Some(grant.access_token);
                token.issued_at = now;
                token.expires_at = expires_at;
                if let Some(d) = grant.api_domain {
                    token.api_domain = d;
                }
                // A client-credentials token keeps the scopes it asks for: they are its request.
                if let (Some(s), true) = (grant.scope, token.grant.refreshes()) {
                    token.scope = s;
                }
                token.mints.record(now);
                self.force = false;
                Ok(if flight.kind == RequestKind::Refresh {
                    Event::Refreshed
                } else {
                    Event::Minted
                })
            }
        }
    }

    /// Schedule what follows a failed request, in the hold that is saved with the token set.
    /// Never touches the refresh token.
    fn fail(&mut self, now: Instant, flight: Flight, verdict: &Verdict, jitter: u32) {
        let config = self.config;
        match verdict {
            Verdict::ReAuthorize(reason) => match flight.kind {
                RequestKind::Refresh | RequestKind::ClientCredentials => {
                    self.hold_mut().reauthorize = Some(*reason);
                }
                RequestKind::Exchange => {
                    if self.grant_generation == flight.grant_generation {
                        self.grant = None;
                    }
                    // A refused grant falls back to the refresh token we had, if any.
                    if self.token.is_none() {
                        self.own.reauthorize = Some(*reason);
                    }
                }
            },
            // Too many grant codes: wait like a throttle, keeping the grant. After the wait it
            // is tried once more: still alive (codes live up to 10 minutes) it may pass, else it
            // is `invalid_code` and dropped; a new `set_grant` ends the wait at once.
            Verdict::Throttled | Verdict::TooManyGrantCodes => {
                self.hold_mut().pause = Some((
                    now.saturating_add(config.throttle_wait),
                    PauseReason::Throttled,
                ));
            }
            // Faults, and errors a person must fix (client, request, malformed answers): retry
            // at a growing interval, capped at `backoff_max`; `last_verdict` tells the person.
            _ => {
                let hold = self.hold_mut();
                let delay = config.backoff(hold.failures, jitter);
                hold.pause = Some((now.saturating_add(delay), PauseReason::Backoff));
                hold.failures = hold.failures.saturating_add(1);
            }
        }
    }
}

impl From<PauseReason> for WaitReason {
    fn from(r: PauseReason) -> Self {
        match r {
            PauseReason::Backoff => WaitReason::Backoff,
            PauseReason::Throttled => WaitReason::Throttled,
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

    /// When `token` is due for a refresh: `refresh_margin` (plus this credential's share of
    /// `refresh_spread`) before expiry, clamped to half the token's lifetime.
    pub fn refresh_due(&self, token: &TokenSet) -> Instant {
        let lifetime = token.expires_at.saturating_duration_since(token.issued_at);
        let lead = self.refresh_margin.saturating_add(self.spread_of(token));
        token.expires_at.saturating_sub(lead.min(lifetime / 2))
    }

    /// This credential's fixed share of `refresh_spread`: an FNV-1a hash of what identifies it
    /// (the refresh token; for client credentials the scope and `soid`), scaled into the spread.
    fn spread_of(&self, token: &TokenSet) -> Duration {
        let spread = u64::try_from(self.refresh_spread.as_millis()).unwrap_or(u64::MAX);
        if spread == 0 {
            return Duration::ZERO;
        }
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |bytes: &[u8]| {
            for b in bytes {
                h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
            }
        };
        match &token.refresh_token {
            Some(r) => feed(r.expose().as_bytes()),
            None => {
                feed(token.scope.as_bytes());
                feed(token.soid.as_bytes());
            }
        }
        // (h mod 2^16) / 2^16 of the spread, without overflow.
        Duration::from_millis(((u128::from(spread) * u128::from(h & 0xffff)) >> 16) as u64)
    }

    /// The pause of `hold` still running at `now`. A pause ending further ahead than its own
    /// longest length (plus the clock-skew tolerance) was recorded by a clock running ahead: its
    /// start is unknown, and honoured it would silence the credential until the clock catches up
    /// (a day, after a day's jump), so it is over.
    pub fn pause_at(&self, hold: &Hold, now: Instant) -> Option<(Instant, PauseReason)> {
        hold.paused_at(now).filter(|(until, reason)| {
            let longest = match reason {
                PauseReason::Throttled => self.throttle_wait,
                PauseReason::Backoff => self.backoff_max,
            };
            *until
                <= now
                    .saturating_add(longest)
                    .saturating_add(CLOCK_SKEW_TOLERANCE)
        })
    }

    /// When the mint budget of `token` allows the next mint, if it is spent at `now`: the slot
    /// opens when enough of the oldest mints leave the rolling window.
    pub fn budget_opens_at(&self, token: &TokenSet, now: Instant) -> Option<Instant> {
        let recent = token.mints.in_window(now, self.budget_window);
        let budget = self.effective_budget();
        (recent.len() >= budget)
            .then(|| recent[recent.len() - budget].saturating_add(self.budget_window))
    }

    /// `budget_mints` clamped to `1..=cap::MINT_LOG`: the log remembers at most that many mints.
    pub fn effective_budget(&self) -> usize {
        self.budget_mints.clamp(1, cap::MINT_LOG)
    }
}
