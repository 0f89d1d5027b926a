//! "Login with Zoho": the authorization URL, and completing the redirect it comes back with.

use std::fmt;

/// One pending browser login, from [`Client::begin_login`](crate::Client::begin_login): send the
/// user to `url`, keep this value, and give it back to
/// [`Client::complete_login`](crate::Client::complete_login) with the redirect.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginRequest {
    /// The authorization URL to open in the user's browser.
    pub url: String,
    /// The random `state` (32 hex characters) the redirect must carry back.
    pub state: String,
    /// The redirect URI the grant is bound to (sent again with the exchange).
    pub redirect_uri: String,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The state is a CSRF secret for the duration of the login.
        f.debug_struct("LoginRequest")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

use zoho_oauth_core::authorize::{self, AccessType, AuthorizeParams, Prompt};
use zoho_oauth_core::Origin;

use crate::access::AccessToken;
use crate::client::Client;
use crate::error::Error;
use crate::key::CredentialKey;
use crate::owner::Owner;

impl Client {
    /// Start a browser login: the URL to send the user to (offline access, consent prompt, a
    /// fresh random `state`), for `scopes` (e.g. `ZohoCRM.modules.ALL`; add
    /// `aaaserver.profile.READ` to let [`complete_login`](Client::complete_login) learn the user).
    pub fn begin_login(&self, scopes: &[&str], redirect_uri: &str) -> LoginRequest {
        let s = &self.inner.s;
        let state = crate::random::state();
        let params = AuthorizeParams {
            client_id: &s.client_id,
            redirect_uri,
            scopes,
            access_type: AccessType::Offline,
            prompt: Some(Prompt::Consent),
            state: &state,
        };
        let mut buf = vec![0u8; 2048];
        if let Err(b) = authorize::authorization_url(&mut buf, &s.accounts, &params) {
            buf = vec![0u8; b.required];
        }
        let url = authorize::authorization_url(&mut buf, &s.accounts, &params)
            .map(str::to_owned)
            .unwrap_or_default();
        tracing::debug!(redirect_uri, scopes = scopes.len(), "login started");
        LoginRequest {
            url,
            state,
            redirect_uri: redirect_uri.to_owned(),
        }
    }

    /// Finish a browser login with the redirect Zoho sent the user back with (`callback`: the
    /// whole URL or its query string). Checks the `state`, exchanges the grant at the accounts
    /// server the redirect names (only a Zoho data centre, or the configured custom origin), and
    /// stores the tokens under `user` — or, when `None`, under the e-mail user info reports (the
    /// login must then include the scope `aaaserver.profile.READ`).
    pub fn complete_login(
        &self,
        login: &LoginRequest,
        callback: &str,
        user: Option<&str>,
    ) -> Result<(CredentialKey, AccessToken), Error> {
        let s = &self.inner.s;
        let cb = authorize::parse_redirect(callback, &login.state, &s.accounts).map_err(|e| {
            tracing::warn!(error = ?e, "authorization redirect refused");
            Error::Redirect(e)
        })?;
        if let Origin::Zoho(dc) = cb.accounts {
            if dc != s.data_center {
                // Refuse before the grant is spent: tokens of another centre would not be usable here.
                return Err(Error::DataCenterMismatch {
                    expected_data_center: s.data_center,
                    expected_environment: s.environment,
                    found: format!("{dc} (the user's account lives there)"),
                });
            }
        }
        let owner = user.map_or(Owner::Learn, Owner::Named);
        self.inner
            .exchange(
                owner,
                cb.code.expose(),
                Some(&login.redirect_uri),
                cb.accounts.clone(),
            )
            .map(|(key, token, _)| (key, token))
    }
}
