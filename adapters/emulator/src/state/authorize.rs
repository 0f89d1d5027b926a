//! The browser flow, `GET /oauth/v2/auth`: validation, the consent page and its answer, PKCE, and
//! the code it ends with (issued by the data centre where the user's account lives).

use std::collections::{HashMap, VecDeque};

use super::pkce::{Challenge, Method};
use super::{errors, ms, non_empty, parse_scopes, Grant, GrantCode, Model, RefreshPolicy};
use crate::region::{DataCenter, Environment};

/// Consent pages kept waiting for an answer; past this many the oldest is forgotten, so that a
/// script opening pages without answering them cannot grow the emulator without bound.
const MAX_PENDING: usize = 1024;

/// The parameters of `GET /oauth/v2/auth`.
#[derive(Debug, Default)]
pub(crate) struct AuthorizeRequest<'a> {
    pub(crate) client_id: Option<&'a str>,
    pub(crate) response_type: Option<&'a str>,
    pub(crate) redirect_uri: Option<&'a str>,
    pub(crate) scope: Option<&'a str>,
    pub(crate) access_type: Option<&'a str>,
    pub(crate) prompt: Option<&'a str>,
    pub(crate) state: Option<&'a str>,
    pub(crate) code_challenge: Option<&'a str>,
    pub(crate) code_challenge_method: Option<&'a str>,
}

/// The answer to an authorization request or to its consent page.
#[derive(Debug)]
pub(crate) enum AuthorizeOutcome {
    /// Redirect to `redirect_uri` with a code (`Ok`) or an `error` (`Err`), naming `data_center`
    /// (the one that issued the code) in `location` and `accounts-server`.
    Redirect {
        redirect_uri: String,
        data_center: DataCenter,
        code: Result<String, &'static str>,
        state: Option<String>,
    },
    /// The consent page, waiting for Accept or Deny.
    Page(ConsentPage),
    /// An error page; Zoho never redirects to an unverified redirect URI.
    Refused { title: &'static str, detail: String },
}

/// What the consent page shows.
#[derive(Debug)]
pub(crate) struct ConsentPage {
    /// Names this pending authorization in the page's form.
    pub(crate) ticket: String,
    /// The application's name (its client id when it has none).
    pub(crate) app_name: String,
    /// The signed-in user's e-mail.
    pub(crate) user: String,
    pub(crate) scopes: Vec<String>,
}

/// The button the person clicked on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Accept,
    Deny,
}

/// A validated authorization request, decided at once or waiting on its consent page.
#[derive(Debug)]
struct Authorization {
    /// The data centre that issues the code: the one of the user's account.
    issuer: DataCenter,
    client_id: String,
    redirect_uri: String,
    scopes: Vec<String>,
    refresh: RefreshPolicy,
    prompt_consent: bool,
    challenge: Option<Challenge>,
    /// The users map key.
    user: String,
    environment: Environment,
    state: Option<String>,
}

/// Consent pages shown and not yet answered, by ticket.
#[derive(Debug, Default)]
pub(crate) struct PendingConsents {
    by_ticket: HashMap<String, Authorization>,
    order: VecDeque<String>,
}

impl PendingConsents {
    fn insert(&mut self, ticket: String, authorization: Authorization) {
        while self.order.len() >= MAX_PENDING {
            if let Some(oldest) = self.order.pop_front() {
                self.by_ticket.remove(&oldest);
            }
        }
        self.order.push_back(ticket.clone());
        self.by_ticket.insert(ticket, authorization);
    }

    fn take(&mut self, ticket: &str) -> Option<Authorization> {
        let found = self.by_ticket.remove(ticket)?;
        self.order.retain(|t| t != ticket);
        Some(found)
    }
}

fn refused(title: &'static str, detail: String) -> AuthorizeOutcome {
    AuthorizeOutcome::Refused { title, detail }
}

impl Model {
    /// `GET /oauth/v2/auth` as the configured user: a redirect at once (automatic consent, or a
    /// consent already given without `prompt=consent`), or the consent page.
    pub(crate) fn authorize(
        &mut self,
        data_center: DataCenter,
        request: &AuthorizeRequest<'_>,
    ) -> AuthorizeOutcome {
        self.counters.authorizations += 1;
        let authorization = match self.validate(data_center, request) {
            Ok(authorization) => authorization,
            Err(page) => return page,
        };
        if self.consent.auto {
            if self.consent.deny {
                return denied(authorization);
            }
            return self.issue(authorization);
        }
        if !authorization.prompt_consent
            && self.already_consented(
                authorization.issuer,
                &authorization.client_id,
                &authorization.user,
                &authorization.scopes,
            )
        {
            // Zoho asks only once: a user who consented to these scopes goes straight back.
            return self.issue(authorization);
        }
        let app_name = self
            .client(data_center, &authorization.client_id)
            .map(|c| {
                if c.name.is_empty() {
                    c.id.clone()
                } else {
                    c.name.clone()
                }
            })
            .unwrap_or_default();
        let user = self
            .users
            .get(&authorization.user)
            .map(|u| u.email.clone())
            .unwrap_or_default();
        let ticket = self.ids.token();
        let page = ConsentPage {
            ticket: ticket.clone(),
            app_name,
            user,
            scopes: authorization.scopes.clone(),
        };
        self.pending_consents.insert(ticket, authorization);
        self.counters.consent_pages_shown += 1;
        AuthorizeOutcome::Page(page)
    }

    /// The person's click on a consent page.
    pub(crate) fn decide_consent(&mut self, ticket: &str, decision: Decision) -> AuthorizeOutcome {
        let Some(authorization) = self.pending_consents.take(ticket) else {
            return refused(
                "Consent Request Expired",
                "This consent request is unknown or was already answered. Start the authorization again from the application.".to_owned(),
            );
        };
        match decision {
            Decision::Accept => {
                self.counters.consent_accepted += 1;
                self.issue(authorization)
            }
            Decision::Deny => {
                self.counters.consent_denied += 1;
                denied(authorization)
            }
        }
    }

    /// The request's checks, in Zoho's order: client, redirect URI, response type, scope, PKCE,
    /// and the data centre of the signed-in user.
    fn validate(
        &self,
        data_center: DataCenter,
        request: &AuthorizeRequest<'_>,
    ) -> Result<Authorization, AuthorizeOutcome> {
        let client_id = non_empty(request.client_id).unwrap_or_default();
        let Some(client) = self.client(data_center, client_id) else {
            return Err(refused(
                "Invalid Client",
                format!(
                    "No client `{client_id}` is registered at data centre `{data_center}`. Check the client id and the accounts server."
                ),
            ));
        };
        let redirect_uri = non_empty(request.redirect_uri).unwrap_or_default();
        if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
            return Err(refused(
                "Invalid Redirect Uri",
                format!(
                    "The redirect URI `{redirect_uri}` is not registered for this client. Register it in the API console."
                ),
            ));
        }
        if request.response_type != Some("code") {
            return Err(refused(
                "Invalid Response Type",
                "Only response_type=code is supported.".to_owned(),
            ));
        }
        let scopes = parse_scopes(request.scope.unwrap_or_default());
        if scopes.is_empty() {
            return Err(refused(
                "Invalid OAuth Scope",
                "The scope parameter is missing or empty.".to_owned(),
            ));
        }
        let challenge = match (
            non_empty(request.code_challenge),
            non_empty(request.code_challenge_method),
        ) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(refused(
                    "Invalid Code Challenge",
                    "code_challenge_method was sent without code_challenge.".to_owned(),
                ))
            }
            (Some(value), method) => {
                let Some(method) = Method::parse(method) else {
                    return Err(refused(
                        "Invalid Code Challenge Method",
                        "code_challenge_method must be S256 or plain.".to_owned(),
                    ));
                };
                Some(Challenge {
                    method,
                    value: value.to_owned(),
                })
            }
        };
        let user = self.consent.user.to_lowercase();
        let issuer = self.home_of(&user, data_center);
        if self.client(issuer, client_id).is_none() {
            return Err(refused(
                "Invalid Client",
                format!(
                    "The account `{}` lives in data centre `{issuer}`, where client `{client_id}` is not enabled. Enable multi-DC for the client in the API console.",
                    self.consent.user
                ),
            ));
        }
        Ok(Authorization {
            issuer,
            client_id: client.id.clone(),
            redirect_uri: redirect_uri.to_owned(),
            scopes,
            refresh: RefreshPolicy::of(request.access_type, request.prompt),
            prompt_consent: request
                .prompt
                .is_some_and(|p| p.eq_ignore_ascii_case("consent")),
            challenge,
            user,
            environment: self.consent.environment,
            state: request.state.map(str::to_owned),
        })
    }

    /// Consent given: a code from the user's data centre, unless the client is over its code limit.
    fn issue(&mut self, authorization: Authorization) -> AuthorizeOutcome {
        let Authorization {
            issuer,
            client_id,
            redirect_uri,
            scopes,
            refresh,
            prompt_consent: _,
            challenge,
            user,
            environment,
            state,
        } = authorization;
        if self.take_code_slot(issuer, &client_id).is_err() {
            return AuthorizeOutcome::Redirect {
                redirect_uri,
                data_center: issuer,
                code: Err(errors::ACCESS_DENIED),
                state,
            };
        }
        self.record_consent(issuer, &client_id, &user, &scopes);
        let code = self.ids.token();
        let expires_at = self.now().saturating_add(ms(self.limits.web_code_lifetime));
        self.codes.insert(
            code.clone(),
            GrantCode {
                grant: Grant {
                    client_id,
                    data_center: issuer,
                    environment,
                    user: Some(user),
                    org: None,
                    scopes,
                },
                redirect_uri: Some(redirect_uri.clone()),
                refresh,
                challenge,
                expires_at,
            },
        );
        AuthorizeOutcome::Redirect {
            redirect_uri,
            data_center: issuer,
            code: Ok(code),
            state,
        }
    }
}

/// The redirect of a denial: `error=access_denied`, nothing issued.
fn denied(authorization: Authorization) -> AuthorizeOutcome {
    AuthorizeOutcome::Redirect {
        redirect_uri: authorization.redirect_uri,
        data_center: authorization.issuer,
        code: Err(errors::ACCESS_DENIED),
        state: authorization.state,
    }
}
