//! The model of one emulated Zoho: clients, users, grant codes, tokens, limits and counters.
//!
//! Everything here is plain data behind one mutex (held only for short, non-async sections); the
//! routes translate HTTP to these calls and back. Every time comes from the emulated [`Clock`].
//! The grants beyond the code exchange and the refresh live in submodules: the browser flow with
//! its consent page and PKCE ([`authorize`]), the device flow ([`device`]) and client credentials
//! ([`credentials`]).

mod authorize;
mod credentials;
mod device;
mod pkce;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::time::Duration;

pub(crate) use authorize::{AuthorizeOutcome, AuthorizeRequest, ConsentPage, Decision};
pub(crate) use device::{DeviceIssued, PollOutcome};

use crate::clock::Clock;
use crate::config::{ClientSpec, Config, Consent, Limits, SelfClientCode, UserSpec};
use crate::counters::Counters;
use crate::error::ControlError;
use crate::faults::Fault;
use crate::ids::IdGen;
use crate::region::{DataCenter, Environment};

/// Zoho's error codes, as sent in `{"error": …}`.
pub(crate) mod errors {
    pub(crate) const INVALID_CLIENT: &str = "invalid_client";
    pub(crate) const INVALID_CLIENT_SECRET: &str = "invalid_client_secret";
    pub(crate) const INVALID_CODE: &str = "invalid_code";
    pub(crate) const INVALID_REDIRECT_URI: &str = "invalid_redirect_uri";
    pub(crate) const UNSUPPORTED_GRANT_TYPE: &str = "unsupported_grant_type";
    pub(crate) const ACCESS_DENIED: &str = "access_denied";
    pub(crate) const INVALID_SCOPE: &str = "invalid_scope";
    /// Client credentials: the client reaches several orgs and the request named none.
    pub(crate) const MISSING_ORG_INFO: &str = "missing_org_info";
    /// Client credentials: the `soid` names an org the client cannot reach (the emulator's choice of text).
    pub(crate) const INVALID_ORG_INFO: &str = "invalid_org_info";
    /// Client credentials: the client reaches no org at all (the emulator's choice of text).
    pub(crate) const UNAUTHORIZED_CLIENT: &str = "unauthorized_client";
    pub(crate) const AUTHORIZATION_PENDING: &str = "authorization_pending";
    pub(crate) const SLOW_DOWN: &str = "slow_down";
    pub(crate) const EXPIRED: &str = "expired";
    pub(crate) const OTHER_DC: &str = "other_dc";
}

/// What a credential is: whose, for which client, where, and allowed to do what.
#[derive(Debug, Clone)]
struct Grant {
    client_id: String,
    data_center: DataCenter,
    environment: Environment,
    /// The user's e-mail, lower-cased (the users map key); `None` for a client-credentials token,
    /// which acts for an organisation rather than a person.
    user: Option<String>,
    /// The org id a client-credentials token acts for.
    org: Option<String>,
    scopes: Vec<String>,
}

#[derive(Debug)]
struct GrantCode {
    grant: Grant,
    /// `Some` for web-flow codes, which must be exchanged with the same `redirect_uri`.
    redirect_uri: Option<String>,
    /// Whether the exchange also issues a refresh token.
    refresh: RefreshPolicy,
    /// The PKCE challenge of the authorization request, which the exchange's verifier must meet.
    challenge: Option<pkce::Challenge>,
    expires_at: u64,
}

/// Whether a grant brings a refresh token when it is turned into tokens (code exchange, or the
/// device poll that succeeds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshPolicy {
    /// `access_type=online`: never.
    Never,
    /// `access_type=offline` without `prompt=consent`: only for the first time the app gets tokens
    /// for this user (Zoho: "a refresh token will also be provided for the first time the app
    /// requests for an access token").
    FirstTime,
    /// `access_type=offline` with `prompt=consent`, or a Self Client code: always.
    Always,
}

impl RefreshPolicy {
    /// The policy of a request's `access_type` and `prompt`.
    pub(crate) fn of(access_type: Option<&str>, prompt: Option<&str>) -> Self {
        let offline = access_type.is_some_and(|a| a.eq_ignore_ascii_case("offline"));
        let consent = prompt.is_some_and(|p| p.eq_ignore_ascii_case("consent"));
        match (offline, consent) {
            (false, _) => RefreshPolicy::Never,
            (true, false) => RefreshPolicy::FirstTime,
            (true, true) => RefreshPolicy::Always,
        }
    }
}

/// Zoho's minting limits for one source of access tokens (a refresh token, or a client's org for
/// client credentials): so many token responses per rolling window, so many live tokens.
#[derive(Debug, Default)]
struct MintBudget {
    /// When each token response of the current window was sent.
    mints: VecDeque<u64>,
    /// Throttled until then.
    blocked_until: u64,
    /// Access tokens minted from it that may still be alive, oldest first.
    live: VecDeque<String>,
}

impl MintBudget {
    /// Whether one more token may be minted now; when not, the block starts (or, when configured,
    /// a retry during it extends it).
    fn admit(&mut self, now: u64, limits: &Limits) -> bool {
        let window = ms(limits.mint_window);
        let budget = usize::try_from(limits.mints_per_window).unwrap_or(usize::MAX);
        let extends = limits.throttle_retry_extends_block;
        if now < self.blocked_until {
            if extends {
                self.blocked_until = now.saturating_add(window);
            }
            return false;
        }
        self.mints.retain(|&at| now.saturating_sub(at) < window);
        if self.mints.len() >= budget {
            self.blocked_until = if extends {
                now.saturating_add(window)
            } else {
                self.mints
                    .front()
                    .map_or(now, |&oldest| oldest.saturating_add(window))
            };
            return false;
        }
        true
    }

    /// Records a mint of `token`, evicting the oldest live tokens past `max_live` from `access`.
    fn record(
        &mut self,
        now: u64,
        max_live: usize,
        token: &str,
        access: &mut HashMap<String, AccessRecord>,
    ) {
        self.live
            .retain(|t| access.get(t).is_some_and(|a| a.expires_at > now));
        while self.live.len() >= max_live {
            if let Some(oldest) = self.live.pop_front() {
                access.remove(&oldest);
            }
        }
        self.live.push_back(token.to_owned());
        self.mints.push_back(now);
    }
}

#[derive(Debug)]
struct RefreshRecord {
    grant: Grant,
    /// Issue order, to find the oldest refresh token of a user.
    seq: u64,
    budget: MintBudget,
}

/// The grant codes issued to one client at one data centre in the current window.
#[derive(Debug, Default)]
struct CodeBudget {
    /// When each code of the window was issued, oldest first.
    issued: VecDeque<u64>,
    /// A code was refused: until then no code is issued and none is exchanged.
    blocked_until: u64,
}

#[derive(Debug)]
struct AccessRecord {
    grant: Grant,
    refresh: Option<String>,
    expires_at: u64,
}

/// Where a new access token's minting limits are counted.
enum MintSource<'a> {
    /// An online code exchange: no refresh token, no budget.
    Unbudgeted,
    /// A refresh token (its exchange or a refresh).
    Refresh(&'a str),
    /// Client credentials for one org of one client at one data centre.
    Org(OrgKey),
}

/// A client-credentials budget: (data centre, client id, soid).
type OrgKey = (DataCenter, String, String);

/// The answer to a token request.
#[derive(Debug)]
pub(crate) enum TokenOutcome {
    /// A token response.
    Minted(Minted),
    /// `{"error": code}` with HTTP 200.
    Refused(&'static str),
    /// Zoho's throttle body.
    Throttled,
}

/// A freshly minted access token (and refresh token on a code exchange).
#[derive(Debug)]
pub(crate) struct Minted {
    pub(crate) access_token: String,
    pub(crate) refresh_token: Option<String>,
    /// Space separated, as Zoho answers; `None` where Zoho's answer has no `scope` (client credentials).
    pub(crate) scope: Option<String>,
    pub(crate) data_center: DataCenter,
    pub(crate) environment: Environment,
    pub(crate) lifetime: Duration,
}

/// Who an access token acts for, and with which scopes.
#[derive(Debug)]
pub(crate) struct Authenticated {
    /// The person; `None` for a client-credentials token.
    pub(crate) user: Option<UserSpec>,
    /// The org id of a client-credentials token.
    pub(crate) org: Option<String>,
    pub(crate) scopes: Vec<String>,
}

/// The whole emulated state.
#[derive(Debug)]
pub(crate) struct Model {
    pub(crate) clock: Clock,
    pub(crate) limits: Limits,
    pub(crate) counters: Counters,
    /// Artificial delay before every token request is answered.
    pub(crate) latency: Duration,
    ids: IdGen,
    consent: Consent,
    data_centers: Vec<DataCenter>,
    clients: BTreeMap<(DataCenter, String), ClientSpec>,
    users: BTreeMap<String, UserSpec>,
    codes: HashMap<String, GrantCode>,
    /// Grant codes issued per client and data centre, for Zoho's "10 codes per 10 minutes".
    code_budgets: HashMap<(DataCenter, String), CodeBudget>,
    refresh_tokens: HashMap<String, RefreshRecord>,
    access_tokens: HashMap<String, AccessRecord>,
    /// Client-credentials minting limits per (data centre, client, soid).
    org_budgets: HashMap<OrgKey, MintBudget>,
    /// The scopes each user consented to per client at each data centre (lower-cased): a consent
    /// page is not shown again for them without `prompt=consent`.
    consents: HashMap<(DataCenter, String, String), BTreeSet<String>>,
    /// (data centre, client, user) that already got a refresh token from a browser or device
    /// grant: an offline grant without `prompt=consent` brings none after that.
    refresh_granted: HashSet<(DataCenter, String, String)>,
    /// Consent pages shown and not yet answered.
    pending_consents: authorize::PendingConsents,
    devices: device::Devices,
    faults: VecDeque<Fault>,
    next_seq: u64,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Scopes as Zoho accepts them: separated by commas (authorization URL) or spaces.
pub(crate) fn parse_scopes(scope: &str) -> Vec<String> {
    scope
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

impl Model {
    /// The model a configuration describes; the data centres are assumed already validated.
    pub(crate) fn new(config: &Config) -> Result<Self, ControlError> {
        let mut model = Model {
            clock: Clock::new(config.frozen_clock_ms),
            limits: config.limits.clone(),
            counters: Counters::default(),
            latency: Duration::ZERO,
            ids: IdGen::new(config.seed),
            consent: Consent::default(),
            data_centers: config.data_centers.clone(),
            clients: BTreeMap::new(),
            users: BTreeMap::new(),
            codes: HashMap::new(),
            code_budgets: HashMap::new(),
            refresh_tokens: HashMap::new(),
            access_tokens: HashMap::new(),
            org_budgets: HashMap::new(),
            consents: HashMap::new(),
            refresh_granted: HashSet::new(),
            pending_consents: authorize::PendingConsents::default(),
            devices: device::Devices::default(),
            faults: VecDeque::new(),
            next_seq: 0,
        };
        for user in &config.users {
            model.register_user(user.clone())?;
        }
        for client in &config.clients {
            model.register_client(client.clone())?;
        }
        model.set_consent(config.consent.clone())?;
        Ok(model)
    }

    /// Now on the emulated clock, in epoch milliseconds.
    pub(crate) fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    fn check_data_center(&self, data_center: DataCenter) -> Result<(), ControlError> {
        if self.data_centers.contains(&data_center) {
            Ok(())
        } else {
            Err(ControlError::DataCenterNotEmulated { data_center })
        }
    }

    /// Registers (or replaces) a client at its data centre and at each of its `multi_dc` ones,
    /// each with the secret it has there.
    pub(crate) fn register_client(&mut self, spec: ClientSpec) -> Result<(), ControlError> {
        if spec.id.is_empty() {
            return Err(ControlError::Invalid {
                field: "client id",
                problem: "it must not be empty",
            });
        }
        let mut at = vec![spec.data_center];
        at.extend(spec.multi_dc.iter().filter(|dc| **dc != spec.data_center));
        for &data_center in &at {
            self.check_data_center(data_center)?;
            let secret = spec.secrets.get(&data_center).unwrap_or(&spec.secret);
            if secret.is_empty() {
                return Err(ControlError::Invalid {
                    field: "client secret",
                    problem: "it must not be empty",
                });
            }
        }
        if spec.secrets.keys().any(|dc| !at.contains(dc)) {
            return Err(ControlError::Invalid {
                field: "client secrets",
                problem: "a secret is given for a data centre the client is not enabled at: list it in multi_dc",
            });
        }
        if spec
            .orgs
            .iter()
            .any(|soid| credentials::org_id(soid).is_none())
        {
            return Err(ControlError::Invalid {
                field: "client orgs",
                problem: "each must be a soid `<service>.<org id>`, such as ZohoCRM.600001234",
            });
        }
        for data_center in at {
            let secret = spec
                .secrets
                .get(&data_center)
                .unwrap_or(&spec.secret)
                .clone();
            // Stored one entry per data centre, as Zoho's accounts servers know a multi-DC client.
            let entry = ClientSpec {
                data_center,
                secret,
                multi_dc: Vec::new(),
                secrets: BTreeMap::new(),
                ..spec.clone()
            };
            self.clients.insert((data_center, spec.id.clone()), entry);
        }
        Ok(())
    }

    /// The registered clients, one entry per data centre where each is enabled.
    pub(crate) fn clients(&self) -> impl Iterator<Item = &ClientSpec> {
        self.clients.values()
    }

    fn client(&self, data_center: DataCenter, client_id: &str) -> Option<&ClientSpec> {
        self.clients.get(&(data_center, client_id.to_owned()))
    }

    /// Registers (or replaces) a user, keyed by e-mail.
    pub(crate) fn register_user(&mut self, spec: UserSpec) -> Result<(), ControlError> {
        if !spec.email.contains('@') {
            return Err(ControlError::Invalid {
                field: "user e-mail",
                problem: "it must be an e-mail address such as user@example.com",
            });
        }
        if let Some(home) = spec.home {
            self.check_data_center(home)?;
        }
        self.users.insert(spec.email.to_lowercase(), spec);
        Ok(())
    }

    fn user_key(&self, email: &str) -> Result<String, ControlError> {
        let key = email.to_lowercase();
        if self.users.contains_key(&key) {
            Ok(key)
        } else {
            Err(ControlError::UnknownUser {
                email: email.to_owned(),
            })
        }
    }

    /// Where a user's account lives when they sign in at `at`.
    fn home_of(&self, user_key: &str, at: DataCenter) -> DataCenter {
        self.users.get(user_key).and_then(|u| u.home).unwrap_or(at)
    }

    /// The registered users.
    pub(crate) fn users(&self) -> impl Iterator<Item = &UserSpec> {
        self.users.values()
    }

    /// How the authorization endpoint answers.
    pub(crate) fn consent(&self) -> &Consent {
        &self.consent
    }

    /// Sets how the authorization endpoint answers.
    pub(crate) fn set_consent(&mut self, consent: Consent) -> Result<(), ControlError> {
        self.user_key(&consent.user)?;
        self.consent = consent;
        Ok(())
    }

    /// Mints a Self Client code (offline, no redirect URI).
    pub(crate) fn mint_self_client_code(
        &mut self,
        spec: &SelfClientCode,
    ) -> Result<String, ControlError> {
        self.check_data_center(spec.data_center)?;
        if self.client(spec.data_center, &spec.client_id).is_none() {
            return Err(ControlError::UnknownClient {
                client_id: spec.client_id.clone(),
                data_center: spec.data_center,
            });
        }
        let user = self.user_key(&spec.user)?;
        let scopes = parse_scopes(&spec.scope);
        if scopes.is_empty() {
            return Err(ControlError::Invalid {
                field: "scope",
                problem: "a code needs at least one scope, e.g. ZohoCRM.modules.ALL",
            });
        }
        let lifetime = spec
            .lifetime
            .unwrap_or(self.limits.self_client_code_lifetime);
        if lifetime.is_zero() {
            return Err(ControlError::Invalid {
                field: "code lifetime",
                problem: "it must be positive (Zoho offers 3, 5, 7 or 10 minutes)",
            });
        }
        if let Err(retry_in) = self.take_code_slot(spec.data_center, &spec.client_id) {
            return Err(ControlError::TooManyGrantCodes {
                client_id: spec.client_id.clone(),
                data_center: spec.data_center,
                limit: self.limits.grant_codes_per_window,
                retry_in,
            });
        }
        let code = self.ids.token();
        let grant = Grant {
            client_id: spec.client_id.clone(),
            data_center: spec.data_center,
            environment: spec.environment,
            user: Some(user),
            org: None,
            scopes,
        };
        let expires_at = self.now().saturating_add(ms(lifetime));
        self.codes.insert(
            code.clone(),
            GrantCode {
                grant,
                redirect_uri: None,
                refresh: RefreshPolicy::Always,
                challenge: None,
                expires_at,
            },
        );
        Ok(code)
    }

    /// Counts a grant code about to be issued to `client_id` at `data_center`. Refused, with the
    /// time until the oldest code of the window leaves it, when the window already holds
    /// `grant_codes_per_window` codes; the refusal blocks the client's exchanges until then.
    fn take_code_slot(&mut self, data_center: DataCenter, client_id: &str) -> Result<(), Duration> {
        let now = self.now();
        let window = ms(self.limits.grant_code_window);
        let limit = usize::try_from(self.limits.grant_codes_per_window).unwrap_or(usize::MAX);
        let budget = self
            .code_budgets
            .entry((data_center, client_id.to_owned()))
            .or_default();
        budget.issued.retain(|&at| now.saturating_sub(at) < window);
        if budget.issued.len() < limit {
            budget.issued.push_back(now);
            return Ok(());
        }
        let opens = budget
            .issued
            .front()
            .map_or(now, |&oldest| oldest.saturating_add(window));
        budget.blocked_until = budget.blocked_until.max(opens);
        Err(Duration::from_millis(
            budget.blocked_until.saturating_sub(now),
        ))
    }

    /// Whether a refused grant code keeps `client_id` at `data_center` from exchanging codes now.
    fn codes_blocked(&self, data_center: DataCenter, client_id: &str) -> bool {
        self.code_budgets
            .get(&(data_center, client_id.to_owned()))
            .is_some_and(|b| self.now() < b.blocked_until)
    }

    /// Records that `user` consented to `scopes` for `client_id` at `data_center`.
    fn record_consent(
        &mut self,
        data_center: DataCenter,
        client_id: &str,
        user: &str,
        scopes: &[String],
    ) {
        self.consents
            .entry((data_center, client_id.to_owned(), user.to_owned()))
            .or_default()
            .extend(scopes.iter().map(|s| s.to_ascii_lowercase()));
    }

    /// Whether `user` already consented to every one of `scopes` for `client_id` at `data_center`.
    fn already_consented(
        &self,
        data_center: DataCenter,
        client_id: &str,
        user: &str,
        scopes: &[String],
    ) -> bool {
        self.consents
            .get(&(data_center, client_id.to_owned(), user.to_owned()))
            .is_some_and(|given| {
                scopes
                    .iter()
                    .all(|s| given.contains(&s.to_ascii_lowercase()))
            })
    }

    /// Makes every access token expired as of now.
    pub(crate) fn expire_access_tokens(&mut self) {
        let now = self.now();
        for token in self.access_tokens.values_mut() {
            token.expires_at = token.expires_at.min(now);
        }
    }

    /// Queues `fault` for the next `times` token requests, after those already queued.
    pub(crate) fn queue_fault(&mut self, fault: Fault, times: usize) {
        self.faults.extend(std::iter::repeat_n(fault, times));
    }

    /// Drops every queued fault.
    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// How many faults are still queued.
    pub(crate) fn pending_faults(&self) -> usize {
        self.faults.len()
    }

    /// The fault for the token request being handled, if one is queued.
    pub(crate) fn next_fault(&mut self) -> Option<Fault> {
        let fault = self.faults.pop_front();
        if fault.is_some() {
            self.counters.faults_injected += 1;
            if fault == Some(Fault::Throttle) {
                self.counters.throttled += 1;
            }
        }
        fault
    }

    /// Counts an arriving token request.
    pub(crate) fn count_token_request(
        &mut self,
        grant_type: Option<&str>,
        refresh_token: Option<&str>,
    ) {
        let counters = &mut self.counters;
        counters.token_requests += 1;
        match grant_type {
            Some("authorization_code") => counters.authorization_code_requests += 1,
            Some("refresh_token") => {
                counters.refresh_token_requests += 1;
                if let Some(token) = non_empty(refresh_token) {
                    *counters
                        .refreshes_per_token
                        .entry(token.to_owned())
                        .or_default() += 1;
                }
            }
            Some("client_credentials") => counters.client_credentials_requests += 1,
            _ => counters.other_grant_requests += 1,
        }
    }

    fn check_client(
        &self,
        data_center: DataCenter,
        client_id: Option<&str>,
        client_secret: Option<&str>,
    ) -> Result<String, &'static str> {
        let id = non_empty(client_id).ok_or(errors::INVALID_CLIENT)?;
        let client = self.client(data_center, id).ok_or(errors::INVALID_CLIENT)?;
        if client_secret != Some(client.secret.as_str()) {
            return Err(errors::INVALID_CLIENT_SECRET);
        }
        Ok(client.id.clone())
    }

    /// `grant_type=authorization_code`; `code_verifier` is checked when the code has a PKCE challenge.
    pub(crate) fn exchange_code(
        &mut self,
        data_center: DataCenter,
        client_id: Option<&str>,
        client_secret: Option<&str>,
        code: Option<&str>,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> TokenOutcome {
        let client_id = match self.check_client(data_center, client_id, client_secret) {
            Ok(id) => id,
            Err(error) => return TokenOutcome::Refused(error),
        };
        // Zoho's "too many grant codes": the client is over its code budget. The code stays
        // unused, so it can still be exchanged once the block ends, if it is still alive.
        if self.codes_blocked(data_center, &client_id) {
            return TokenOutcome::Refused(errors::ACCESS_DENIED);
        }
        let Some(code) = non_empty(code) else {
            return TokenOutcome::Refused(errors::INVALID_CODE);
        };
        let now = self.now();
        let Some(found) = self.codes.get(code) else {
            return TokenOutcome::Refused(errors::INVALID_CODE);
        };
        if found.expires_at <= now {
            self.codes.remove(code);
            return TokenOutcome::Refused(errors::INVALID_CODE);
        }
        if found.grant.data_center != data_center || found.grant.client_id != client_id {
            return TokenOutcome::Refused(errors::INVALID_CODE);
        }
        if let Some(expected) = &found.redirect_uri {
            if redirect_uri != Some(expected.as_str()) {
                return TokenOutcome::Refused(errors::INVALID_REDIRECT_URI);
            }
        }
        // Like a wrong redirect URI, a missing or wrong verifier leaves the code unused.
        if let Some(challenge) = &found.challenge {
            if !non_empty(code_verifier).is_some_and(|v| challenge.is_met_by(v)) {
                self.counters.pkce_failures += 1;
                return TokenOutcome::Refused(errors::INVALID_CODE);
            }
        }
        let Some(found) = self.codes.remove(code) else {
            return TokenOutcome::Refused(errors::INVALID_CODE);
        };
        TokenOutcome::Minted(self.grant_tokens(found.grant, found.refresh))
    }

    /// The token response of a granted authorization (a code exchange, a device approval): an
    /// access token, and a refresh token as `policy` says.
    fn grant_tokens(&mut self, grant: Grant, policy: RefreshPolicy) -> Minted {
        let key = (
            grant.data_center,
            grant.client_id.clone(),
            grant.user.clone().unwrap_or_default(),
        );
        let refresh = match policy {
            RefreshPolicy::Never => false,
            RefreshPolicy::FirstTime => !self.refresh_granted.contains(&key),
            RefreshPolicy::Always => true,
        };
        if refresh {
            self.refresh_granted.insert(key);
        }
        let refresh_token = refresh.then(|| self.issue_refresh_token(grant.clone()));
        let source = refresh_token
            .as_deref()
            .map_or(MintSource::Unbudgeted, MintSource::Refresh);
        let access_token = self.mint_access(grant.clone(), source);
        self.minted(access_token, refresh_token, &grant)
    }

    /// `grant_type=refresh_token`.
    pub(crate) fn refresh(
        &mut self,
        data_center: DataCenter,
        client_id: Option<&str>,
        client_secret: Option<&str>,
        refresh_token: Option<&str>,
    ) -> TokenOutcome {
        let client_id = match self.check_client(data_center, client_id, client_secret) {
            Ok(id) => id,
            Err(error) => return TokenOutcome::Refused(error),
        };
        let Some(refresh_token) = non_empty(refresh_token) else {
            return TokenOutcome::Refused(errors::INVALID_CODE);
        };
        let now = self.now();
        let Some(record) = self.refresh_tokens.get_mut(refresh_token) else {
            return TokenOutcome::Refused(errors::INVALID_CODE);
        };
        if record.grant.data_center != data_center || record.grant.client_id != client_id {
            return TokenOutcome::Refused(errors::INVALID_CODE);
        }
        if !record.budget.admit(now, &self.limits) {
            self.counters.throttled += 1;
            return TokenOutcome::Throttled;
        }
        let grant = record.grant.clone();
        let access_token = self.mint_access(grant.clone(), MintSource::Refresh(refresh_token));
        TokenOutcome::Minted(self.minted(access_token, None, &grant))
    }

    fn minted(&self, access_token: String, refresh_token: Option<String>, grant: &Grant) -> Minted {
        Minted {
            access_token,
            refresh_token,
            scope: Some(grant.scopes.join(" ")),
            data_center: grant.data_center,
            environment: grant.environment,
            lifetime: self.limits.access_token_lifetime,
        }
    }

    /// A new refresh token; the user's oldest for this client goes if they already hold the maximum.
    fn issue_refresh_token(&mut self, grant: Grant) -> String {
        let max =
            usize::try_from(self.limits.max_refresh_tokens_per_user.max(1)).unwrap_or(usize::MAX);
        loop {
            let same: Vec<(u64, &String)> = self
                .refresh_tokens
                .iter()
                .filter(|(_, r)| {
                    r.grant.client_id == grant.client_id
                        && r.grant.data_center == grant.data_center
                        && r.grant.user == grant.user
                })
                .map(|(token, r)| (r.seq, token))
                .collect();
            if same.len() < max {
                break;
            }
            let Some(oldest) = same
                .iter()
                .min_by_key(|(seq, _)| *seq)
                .map(|(_, t)| (*t).clone())
            else {
                break;
            };
            self.remove_refresh_token(&oldest);
        }
        let token = self.ids.token();
        self.next_seq += 1;
        self.refresh_tokens.insert(
            token.clone(),
            RefreshRecord {
                grant,
                seq: self.next_seq,
                budget: MintBudget::default(),
            },
        );
        token
    }

    /// A new access token; a budgeted source counts a mint and loses its oldest live token past
    /// the maximum.
    fn mint_access(&mut self, grant: Grant, source: MintSource<'_>) -> String {
        let now = self.now();
        let token = self.ids.token();
        let max_live =
            usize::try_from(self.limits.max_live_access_tokens.max(1)).unwrap_or(usize::MAX);
        let refresh = match &source {
            MintSource::Refresh(rt) => Some((*rt).to_owned()),
            _ => None,
        };
        let budget = match source {
            MintSource::Unbudgeted => None,
            MintSource::Refresh(rt) => self.refresh_tokens.get_mut(rt).map(|r| &mut r.budget),
            MintSource::Org(key) => Some(self.org_budgets.entry(key).or_default()),
        };
        if let Some(budget) = budget {
            budget.record(now, max_live, &token, &mut self.access_tokens);
        }
        self.access_tokens.insert(
            token.clone(),
            AccessRecord {
                grant,
                refresh,
                expires_at: now.saturating_add(ms(self.limits.access_token_lifetime)),
            },
        );
        self.counters.mints += 1;
        token
    }

    fn remove_refresh_token(&mut self, token: &str) -> bool {
        if self.refresh_tokens.remove(token).is_none() {
            return false;
        }
        self.access_tokens
            .retain(|_, a| a.refresh.as_deref() != Some(token));
        true
    }

    /// Revokes a refresh token of this data centre and every access token minted from it.
    pub(crate) fn revoke(&mut self, data_center: DataCenter, token: Option<&str>) -> bool {
        let Some(token) = non_empty(token) else {
            return false;
        };
        let here = self
            .refresh_tokens
            .get(token)
            .is_some_and(|r| r.grant.data_center == data_center);
        if here && self.remove_refresh_token(token) {
            self.counters.revocations += 1;
            true
        } else {
            false
        }
    }

    /// The owner of a live access token presented at `data_center` (and, for APIs, `environment`).
    pub(crate) fn authenticate(
        &self,
        data_center: DataCenter,
        environment: Option<Environment>,
        token: &str,
    ) -> Option<Authenticated> {
        let record = self.access_tokens.get(token)?;
        let alive = record.expires_at > self.now();
        let here = record.grant.data_center == data_center
            && environment.is_none_or(|env| env == record.grant.environment);
        if !(alive && here) {
            return None;
        }
        let user = match &record.grant.user {
            Some(key) => Some(self.users.get(key)?.clone()),
            None => None,
        };
        Some(Authenticated {
            user,
            org: record.grant.org.clone(),
            scopes: record.grant.scopes.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        Model::new(&Config {
            frozen_clock_ms: Some(1_000_000),
            seed: Some(1),
            ..Config::default()
        })
        .unwrap()
    }

    fn exchange(model: &mut Model) -> Minted {
        let code = model
            .mint_self_client_code(&SelfClientCode::default())
            .unwrap();
        match model.exchange_code(
            DataCenter::Us,
            Some(crate::DEFAULT_CLIENT_ID),
            Some(crate::DEFAULT_CLIENT_SECRET),
            Some(&code),
            None,
            None,
        ) {
            TokenOutcome::Minted(m) => m,
            other => panic!("expected a token, got {other:?}"),
        }
    }

    #[test]
    fn scopes_split_on_commas_and_spaces() {
        assert_eq!(parse_scopes("A,B C,,"), vec!["A", "B", "C"]);
    }

    #[test]
    fn the_throttle_lifts_when_the_oldest_mint_leaves_the_window() {
        let mut model = model();
        let minted = exchange(&mut model);
        let refresh = minted.refresh_token.unwrap();
        let do_refresh = |m: &mut Model| {
            m.refresh(
                DataCenter::Us,
                Some(crate::DEFAULT_CLIENT_ID),
                Some(crate::DEFAULT_CLIENT_SECRET),
                Some(&refresh),
            )
        };
        for _ in 0..9 {
            model.clock.advance(Duration::from_secs(1));
            assert!(matches!(do_refresh(&mut model), TokenOutcome::Minted(_)));
        }
        assert!(matches!(do_refresh(&mut model), TokenOutcome::Throttled));
        // The exchange was at t0; the window is 600 s; nine seconds have passed.
        model.clock.advance(Duration::from_secs(590));
        assert!(matches!(do_refresh(&mut model), TokenOutcome::Throttled));
        model.clock.advance(Duration::from_secs(1));
        assert!(matches!(do_refresh(&mut model), TokenOutcome::Minted(_)));
    }
}
