//! `CredentialKey`: which credential a token belongs to (user × client × data centre × environment).

use std::fmt;

use zoho_oauth_core::{DataCenter, Environment};

/// Identifies one stored credential: the user's e-mail (Zoho's "user signature"), the OAuth client,
/// the data centre and the environment. Tokens of one key are never used for another.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CredentialKey {
    /// The user's e-mail address (or `default` when it is not known).
    pub user: String,
    /// The OAuth client id (`1000.…`). Not a secret.
    pub client_id: String,
    /// The data centre the tokens were issued in.
    pub data_center: DataCenter,
    /// The environment the tokens belong to.
    pub environment: Environment,
}

impl CredentialKey {
    /// A key from its four parts.
    pub fn new(
        user: impl Into<String>,
        client_id: impl Into<String>,
        data_center: DataCenter,
        environment: Environment,
    ) -> Self {
        Self {
            user: user.into(),
            client_id: client_id.into(),
            data_center,
            environment,
        }
    }
}

impl fmt::Display for CredentialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}, {} {})",
            self.user, self.client_id, self.data_center, self.environment
        )
    }
}
