//! `CredentialStatus`: what is stored for one credential, without its secrets.

use std::time::SystemTime;

use zoho_oauth_core::{DataCenter, Environment};

/// One stored credential, described without secrets (from [`Client::status`](crate::Client::status)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CredentialStatus {
    /// The user's e-mail.
    pub user: String,
    /// The data centre.
    pub data_center: DataCenter,
    /// The environment.
    pub environment: Environment,
    /// Where its API calls go (empty when not known yet).
    pub api_domain: String,
    /// When the current access token expires; `None` when there is none.
    pub access_expires_at: Option<SystemTime>,
    /// New access tokens the mint budget still allows now.
    pub mints_left: usize,
    /// The last four characters of the refresh token, to tell credentials apart.
    pub refresh_hint: String,
    /// Whether this process has learnt that the credential needs a new authorization.
    pub needs_authorization: bool,
}
