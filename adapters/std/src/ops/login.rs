//! "Login with Zoho": the authorization URL, and completing the redirect it comes back with.

use std::fmt;

use zoho_oauth_core::authorize::{self, AccessType, AuthorizeParams, Prompt, RedirectError};
use zoho_oauth_core::pkce::CodeVerifier;
use zoho_oauth_core::Origin;

use super::exchange::Exchanged;
use super::owner::Owner;
use crate::engine::cycle::Grant;
use crate::engine::{Engine, Io};
use crate::error::Error;

/// One pending browser login, from `begin_login`: send the user to `url`, keep this value, and
/// give it back to `complete_login` with the redirect.
#[derive(Clone)]
pub struct LoginRequest {
    /// The authorization URL to open in the user's browser.
    pub url: String,
    /// The random `state` (32 hex characters) the redirect must carry back.
    pub state: String,
    /// The redirect URI the grant is bound to (sent again with the exchange).
    pub redirect_uri: String,
    /// The PKCE verifier whose challenge the URL carries (sent with the exchange); `None` when
    /// PKCE was turned off. A secret for the duration of the login.
    pub(crate) verifier: Option<CodeVerifier>,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The state and the verifier are secrets for the duration of the login.
        f.debug_struct("LoginRequest")
            .field("redirect_uri", &self.redirect_uri)
            .field("pkce", &self.verifier.is_some())
            .finish_non_exhaustive()
    }
}

/// How a browser login asks: PKCE and the consent prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoginOptions {
    /// Send a PKCE S256 challenge, and its verifier with the exchange (default `true`): a code
    /// intercepted on its way back is useless without the verifier. Required for public clients
    /// (desktop and mobile apps, which cannot keep a secret); harmless for others.
    pub pkce: bool,
    /// `prompt=consent` (default `true`): Zoho shows the consent page again and issues a new
    /// refresh token even when the user authorized this client before.
    pub prompt_consent: bool,
}

impl Default for LoginOptions {
    fn default() -> Self {
        Self {
            pkce: true,
            prompt_consent: true,
        }
    }
}

impl LoginOptions {
    /// Set [`pkce`](Self::pkce).
    pub fn pkce(mut self, on: bool) -> Self {
        self.pkce = on;
        self
    }

    /// Set [`prompt_consent`](Self::prompt_consent).
    pub fn prompt_consent(mut self, on: bool) -> Self {
        self.prompt_consent = on;
        self
    }
}

impl Engine {
    /// Start a browser login with the default [`LoginOptions`] (PKCE, consent prompt): the URL to
    /// send the user to (offline access, a fresh random `state`), for `scopes` (e.g.
    /// `ZohoCRM.modules.ALL`; add `aaaserver.profile.READ` to let `complete_login` learn the user).
    pub fn begin_login(&self, scopes: &[&str], redirect_uri: &str) -> LoginRequest {
        self.begin_login_with(scopes, redirect_uri, LoginOptions::default())
    }

    /// [`begin_login`](Engine::begin_login) with explicit options.
    pub fn begin_login_with(
        &self,
        scopes: &[&str],
        redirect_uri: &str,
        options: LoginOptions,
    ) -> LoginRequest {
        let s = &self.s;
        let state = crate::random::state();
        let verifier = options.pkce.then(crate::random::pkce_verifier).flatten();
        let challenge = verifier.as_ref().map(CodeVerifier::challenge);
        let params = AuthorizeParams {
            client_id: &s.client_id,
            redirect_uri,
            scopes,
            access_type: AccessType::Offline,
            prompt: options.prompt_consent.then_some(Prompt::Consent),
            state: &state,
            code_challenge: challenge.as_ref(),
        };
        let mut buf = vec![0u8; 2048];
        if let Err(b) = authorize::authorization_url(&mut buf, s.home_accounts(), &params) {
            buf = vec![0u8; b.required];
        }
        let url = authorize::authorization_url(&mut buf, s.home_accounts(), &params)
            .map(str::to_owned)
            .unwrap_or_default();
        tracing::debug!(
            redirect_uri,
            scopes = scopes.len(),
            pkce = verifier.is_some(),
            "login started"
        );
        LoginRequest {
            url,
            state,
            redirect_uri: redirect_uri.to_owned(),
            verifier,
        }
    }

    /// Finish a browser login with the redirect Zoho sent the user back with (`callback`: the
    /// whole URL or its query string). Checks the `state`, and exchanges the code at the accounts
    /// server the redirect names — only a data centre this client is set up for (Zoho's table,
    /// or a configured origin); the tokens' key is that data centre — then stores them under
    /// `user`, or, when `None`, under the e-mail user info reports (the login must then include
    /// the scope `aaaserver.profile.READ`).
    pub async fn complete_login<I: Io>(
        &self,
        io: &I,
        login: &LoginRequest,
        callback: &str,
        user: Option<&str>,
    ) -> Result<Exchanged, Error> {
        let s = &self.s;
        // The redirect's `accounts-server` must be one this client trusts: the core checks it
        // against Zoho's table (a Zoho origin) or the configured origin itself (a custom one).
        // A multi-DC client with custom origins (emulated data centres) trusts each of them.
        let mut parsed = authorize::parse_redirect(callback, &login.state, s.home_accounts());
        if matches!(parsed, Err(RedirectError::UntrustedAccountsServer)) {
            for origin in s.accounts.values() {
                let again = authorize::parse_redirect(callback, &login.state, origin);
                if again.is_ok() {
                    parsed = again;
                    break;
                }
            }
        }
        if matches!(parsed, Err(RedirectError::UntrustedAccountsServer))
            && !matches!(s.home_accounts(), Origin::Zoho(_))
        {
            // Emulated centres (custom origins): the redirect's origin is unknown here, but if it
            // claims a known centre the client does not allow, say so, as against Zoho itself.
            if let Some(found) =
                authorize::redirect_location(callback).filter(|dc| !s.accounts.contains_key(dc))
            {
                tracing::warn!(%found, "authorization redirect from a data centre not allowed");
                return Err(Error::DataCenterNotAllowed { found });
            }
        }
        let cb = parsed.map_err(|e| {
            tracing::warn!(error = ?e, "authorization redirect refused");
            Error::Redirect(e)
        })?;
        // Refused before the code is spent or any secret is sent there.
        let dc = s.data_center_of(&cb.accounts)?;
        let owner = user.map_or(Owner::Learn, Owner::Named);
        let grant = Grant {
            code: cb.code.expose(),
            redirect_uri: Some(&login.redirect_uri),
            verifier: login.verifier.clone(),
        };
        self.exchange_in(io, owner, grant, dc).await
    }
}
