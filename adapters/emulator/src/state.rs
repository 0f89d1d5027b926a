//! The model of one emulated Zoho: clients, users, grant codes, tokens, limits and counters.
//!
//! Everything here is plain data behind one mutex (held only for short, non-async sections); the
//! routes translate HTTP to these calls and back. Every time comes from the emulated [`Clock`].

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

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
}

/// What a credential is: whose, for which client, where, and allowed to do what.
#[derive(Debug, Clone)]
struct Grant {
    client_id: String,
    data_center: DataCenter,
    environment: Environment,
    /// The user's e-mail, lower-cased (the users map key).
    user: String,
    scopes: Vec<String>,
}

#[derive(Debug)]
struct GrantCode {
    grant: Grant,
    /// `Some` for web-flow codes, which must be exchanged with the same `redirect_uri`.
    redirect_uri: Option<String>,
    /// `access_type=offline`: the exchange also issues a refresh token.
    offline: bool,
    expires_at: u64,
}

#[derive(Debug)]
struct RefreshRecord {
    grant: Grant,
    /// Issue order, to find the oldest refresh token of a user.
    seq: u64,
    /// When each token response of the current window was sent.
    mints: VecDeque<u64>,
    /// Throttled until then.
    blocked_until: u64,
    /// Access tokens minted from it that may still be alive, oldest first.
    live: VecDeque<String>,
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
    /// Space separated, as Zoho answers.
    pub(crate) scope: String,
    pub(crate) data_center: DataCenter,
    pub(crate) environment: Environment,
    pub(crate) lifetime: Duration,
}

/// The parameters of `GET /oauth/v2/auth`.
#[derive(Debug, Default)]
pub(crate) struct AuthorizeRequest<'a> {
    pub(crate) client_id: Option<&'a str>,
    pub(crate) response_type: Option<&'a str>,
    pub(crate) redirect_uri: Option<&'a str>,
    pub(crate) scope: Option<&'a str>,
    pub(crate) access_type: Option<&'a str>,
}

/// The answer to an authorization request.
#[derive(Debug)]
pub(crate) enum AuthorizeOutcome {
    /// Redirect to `redirect_uri` with a code (`Ok`) or an `error` (`Err`).
    Redirect {
        redirect_uri: String,
        code: Result<String, &'static str>,
    },
    /// An error page; Zoho never redirects to an unverified redirect URI.
    Refused { title: &'static str, detail: String },
}

/// Who an access token acts for, and with which scopes.
#[derive(Debug)]
pub(crate) struct Authenticated {
    pub(crate) user: UserSpec,
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

    /// Registers (or replaces) a client at its data centre.
    pub(crate) fn register_client(&mut self, spec: ClientSpec) -> Result<(), ControlError> {
        if spec.id.is_empty() {
            return Err(ControlError::Invalid {
                field: "client id",
                problem: "it must not be empty",
            });
        }
        if spec.secret.is_empty() {
            return Err(ControlError::Invalid {
                field: "client secret",
                problem: "it must not be empty",
            });
        }
        self.check_data_center(spec.data_center)?;
        self.clients
            .insert((spec.data_center, spec.id.clone()), spec);
        Ok(())
    }

    /// The registered clients.
    pub(crate) fn clients(&self) -> impl Iterator<Item = &ClientSpec> {
        self.clients.values()
    }

    /// Registers (or replaces) a user, keyed by e-mail.
    pub(crate) fn register_user(&mut self, spec: UserSpec) -> Result<(), ControlError> {
        if !spec.email.contains('@') {
            return Err(ControlError::Invalid {
                field: "user e-mail",
                problem: "it must be an e-mail address such as user@example.com",
            });
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
        if !self
            .clients
            .contains_key(&(spec.data_center, spec.client_id.clone()))
        {
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
            user,
            scopes,
        };
        let expires_at = self.now().saturating_add(ms(lifetime));
        self.codes.insert(
            code.clone(),
            GrantCode {
                grant,
                redirect_uri: None,
                offline: true,
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
        let client = self
            .clients
            .get(&(data_center, id.to_owned()))
            .ok_or(errors::INVALID_CLIENT)?;
        if client_secret != Some(client.secret.as_str()) {
            return Err(errors::INVALID_CLIENT_SECRET);
        }
        Ok(client.id.clone())
    }

    /// `grant_type=authorization_code`.
    pub(crate) fn exchange_code(
        &mut self,
        data_center: DataCenter,
        client_id: Option<&str>,
        client_secret: Option<&str>,
        code: Option<&str>,
        redirect_uri: Option<&str>,
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
        let Some(found) = self.codes.remove(code) else {
            return TokenOutcome::Refused(errors::INVALID_CODE);
        };
        let grant = found.grant;
        let refresh_token = found
            .offline
            .then(|| self.issue_refresh_token(grant.clone()));
        let access_token = self.mint_access(grant.clone(), refresh_token.as_deref());
        TokenOutcome::Minted(self.minted(access_token, refresh_token, &grant))
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
        let window = ms(self.limits.mint_window);
        let budget = usize::try_from(self.limits.mints_per_window).unwrap_or(usize::MAX);
        let extends = self.limits.throttle_retry_extends_block;
        let Some(record) = self.refresh_tokens.get_mut(refresh_token) else {
            return TokenOutcome::Refused(errors::INVALID_CODE);
        };
        if record.grant.data_center != data_center || record.grant.client_id != client_id {
            return TokenOutcome::Refused(errors::INVALID_CODE);
        }
        if now < record.blocked_until {
            if extends {
                record.blocked_until = now.saturating_add(window);
            }
            self.counters.throttled += 1;
            return TokenOutcome::Throttled;
        }
        record.mints.retain(|&at| now.saturating_sub(at) < window);
        if record.mints.len() >= budget {
            record.blocked_until = if extends {
                now.saturating_add(window)
            } else {
                record
                    .mints
                    .front()
                    .map_or(now, |&oldest| oldest.saturating_add(window))
            };
            self.counters.throttled += 1;
            return TokenOutcome::Throttled;
        }
        let grant = record.grant.clone();
        let access_token = self.mint_access(grant.clone(), Some(refresh_token));
        TokenOutcome::Minted(self.minted(access_token, None, &grant))
    }

    fn minted(&self, access_token: String, refresh_token: Option<String>, grant: &Grant) -> Minted {
        Minted {
            access_token,
            refresh_token,
            scope: grant.scopes.join(" "),
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
                mints: VecDeque::new(),
                blocked_until: 0,
                live: VecDeque::new(),
            },
        );
        token
    }

    /// A new access token; with a refresh token, counts a mint and evicts the oldest live token past the maximum.
    fn mint_access(&mut self, grant: Grant, refresh_token: Option<&str>) -> String {
        let now = self.now();
        let token = self.ids.token();
        if let Some(refresh_token) = refresh_token {
            let max_live =
                usize::try_from(self.limits.max_live_access_tokens.max(1)).unwrap_or(usize::MAX);
            if let Some(record) = self.refresh_tokens.get_mut(refresh_token) {
                let access = &mut self.access_tokens;
                record
                    .live
                    .retain(|t| access.get(t).is_some_and(|a| a.expires_at > now));
                while record.live.len() >= max_live {
                    if let Some(oldest) = record.live.pop_front() {
                        access.remove(&oldest);
                    }
                }
                record.live.push_back(token.clone());
                record.mints.push_back(now);
            }
        }
        self.access_tokens.insert(
            token.clone(),
            AccessRecord {
                grant,
                refresh: refresh_token.map(str::to_owned),
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

    /// `GET /oauth/v2/auth`: consent (or denial) as the configured user, at once.
    pub(crate) fn authorize(
        &mut self,
        data_center: DataCenter,
        request: &AuthorizeRequest<'_>,
    ) -> AuthorizeOutcome {
        self.counters.authorizations += 1;
        let client_id = non_empty(request.client_id).unwrap_or_default();
        let Some(client) = self.clients.get(&(data_center, client_id.to_owned())) else {
            return AuthorizeOutcome::Refused {
                title: "Invalid Client",
                detail: format!(
                    "No client `{client_id}` is registered at data centre `{data_center}`. Check the client id and the accounts server."
                ),
            };
        };
        let redirect_uri = non_empty(request.redirect_uri).unwrap_or_default();
        if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
            return AuthorizeOutcome::Refused {
                title: "Invalid Redirect Uri",
                detail: format!(
                    "The redirect URI `{redirect_uri}` is not registered for this client. Register it in the API console."
                ),
            };
        }
        if request.response_type != Some("code") {
            return AuthorizeOutcome::Refused {
                title: "Invalid Response Type",
                detail: "Only response_type=code is supported.".to_owned(),
            };
        }
        let scopes = parse_scopes(request.scope.unwrap_or_default());
        if scopes.is_empty() {
            return AuthorizeOutcome::Refused {
                title: "Invalid OAuth Scope",
                detail: "The scope parameter is missing or empty.".to_owned(),
            };
        }
        let redirect_uri = redirect_uri.to_owned();
        if self.consent.deny {
            return AuthorizeOutcome::Redirect {
                redirect_uri,
                code: Err(errors::ACCESS_DENIED),
            };
        }
        let client_id = client.id.clone();
        if self.take_code_slot(data_center, &client_id).is_err() {
            return AuthorizeOutcome::Redirect {
                redirect_uri,
                code: Err(errors::ACCESS_DENIED),
            };
        }
        let grant = Grant {
            client_id,
            data_center,
            environment: self.consent.environment,
            user: self.consent.user.to_lowercase(),
            scopes,
        };
        let offline = request
            .access_type
            .is_some_and(|a| a.eq_ignore_ascii_case("offline"));
        let code = self.ids.token();
        let expires_at = self.now().saturating_add(ms(self.limits.web_code_lifetime));
        self.codes.insert(
            code.clone(),
            GrantCode {
                grant,
                redirect_uri: Some(redirect_uri.clone()),
                offline,
                expires_at,
            },
        );
        AuthorizeOutcome::Redirect {
            redirect_uri,
            code: Ok(code),
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
        let user = self.users.get(&record.grant.user)?.clone();
        Some(Authenticated {
            user,
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
