//! `Error`: everything a [`Client`](crate::Client) call can fail with, and what to do about it.

use std::fmt;
use std::time::SystemTime;

use zoho_oauth_core::authorize::RedirectError;
use zoho_oauth_core::response::Verdict;
use zoho_oauth_core::{DataCenter, Environment};

use crate::key::CredentialKey;
use crate::store::StoreError;
use crate::transport::TransportError;

/// Why a [`Client`](crate::Client) call failed. `Display` says what happened and what to do.
/// Nothing stored is lost by any error: a refresh token is deleted only by
/// [`Client::revoke`](crate::Client::revoke).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The token store failed.
    Store(StoreError),
    /// The network failed (after the allowed retries), and no still-valid token could be served.
    Transport(TransportError),
    /// Zoho answered with something other than what was asked (see the verdict).
    Zoho(Verdict),
    /// The credential cannot be used any more (grant code used or expired, refresh token revoked
    /// or evicted, or no refresh token): authorize again and exchange a new grant token.
    NeedsAuthorization {
        /// The credential concerned.
        key: CredentialKey,
    },
    /// No credential is stored for this user (with this client, data centre and environment).
    UnknownUser {
        /// The user asked for.
        user: String,
        /// The users that are known.
        known: Vec<String>,
    },
    /// Zoho throttled this client, or the local mint budget (10 new access tokens per 10 minutes
    /// per refresh token) is spent: wait until `retry_at`.
    Throttled {
        /// When trying again can succeed.
        retry_at: SystemTime,
        /// `true` when the local budget refused before asking Zoho.
        local: bool,
    },
    /// The authorization redirect was refused (state mismatch, denial, untrusted accounts server…).
    Redirect(RedirectError),
    /// The client is configured wrongly, or a call was made with an argument it cannot use.
    Config(String),
    /// Zoho's answer named an `api_domain` this client will not send tokens to.
    UntrustedApiDomain(String),
    /// The token belongs to another data centre or environment than the client is configured for.
    DataCenterMismatch {
        /// The configured data centre.
        expected_data_center: DataCenter,
        /// The configured environment.
        expected_environment: Environment,
        /// What the answer said (an `api_domain`, or a data centre code).
        found: String,
    },
    /// A value did not fit the core's fixed capacities, or the core was misused (a bug: report it).
    Core(String),
}

/// The broad class of an [`Error`]: what a program (or the CLI's exit code) does about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Fix the configuration or the call (CLI exit code 2).
    Usage,
    /// Authorize again (exit code 3).
    ReAuthorize,
    /// Wait and retry later (exit code 4).
    Throttled,
    /// The network or Zoho is failing: retry later (exit code 5).
    Network,
    /// Anything else (exit code 1).
    Other,
}

impl Error {
    /// The broad class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Store(_) | Self::Core(_) => ErrorKind::Other,
            Self::Transport(_) => ErrorKind::Network,
            Self::Zoho(v) => match v {
                Verdict::Retryable(_) => ErrorKind::Network,
                // Zoho refuses the client's grant codes for up to 10 minutes: wait, like a throttle.
                Verdict::Throttled | Verdict::TooManyGrantCodes => ErrorKind::Throttled,
                Verdict::ReAuthorize(_) => ErrorKind::ReAuthorize,
                Verdict::BadClient { .. } | Verdict::BadRequest(_) | Verdict::MissingScope => {
                    ErrorKind::Usage
                }
                _ => ErrorKind::Other,
            },
            Self::NeedsAuthorization { .. } => ErrorKind::ReAuthorize,
            Self::Throttled { .. } => ErrorKind::Throttled,
            Self::UnknownUser { .. }
            | Self::Redirect(_)
            | Self::Config(_)
            | Self::UntrustedApiDomain(_)
            | Self::DataCenterMismatch { .. } => ErrorKind::Usage,
        }
    }

    /// A copy of this error, for the threads that waited on the same refresh.
    pub(crate) fn duplicate(&self) -> Self {
        match self {
            Self::Store(e) => Self::Store(match e {
                StoreError::Io(io) => {
                    StoreError::Io(std::io::Error::new(io.kind(), io.to_string()))
                }
                StoreError::Corrupt(s) => StoreError::Corrupt(s.clone()),
                StoreError::FutureVersion(s) => StoreError::FutureVersion(s.clone()),
                StoreError::Database(s) => StoreError::Database(s.clone()),
                other => StoreError::Other(other.to_string()),
            }),
            Self::Transport(e) => Self::Transport(e.clone()),
            Self::Zoho(v) => Self::Zoho(v.clone()),
            Self::NeedsAuthorization { key } => Self::NeedsAuthorization { key: key.clone() },
            Self::UnknownUser { user, known } => Self::UnknownUser {
                user: user.clone(),
                known: known.clone(),
            },
            Self::Throttled { retry_at, local } => Self::Throttled {
                retry_at: *retry_at,
                local: *local,
            },
            Self::Redirect(e) => Self::Redirect(e.clone()),
            Self::Config(s) => Self::Config(s.clone()),
            Self::UntrustedApiDomain(s) => Self::UntrustedApiDomain(s.clone()),
            Self::DataCenterMismatch {
                expected_data_center,
                expected_environment,
                found,
            } => Self::DataCenterMismatch {
                expected_data_center: *expected_data_center,
                expected_environment: *expected_environment,
                found: found.clone(),
            },
            Self::Core(s) => Self::Core(s.clone()),
        }
    }

    /// A short, stable name of the variant, for logs.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::Store(_) => "store",
            Self::Transport(_) => "transport",
            Self::Zoho(_) => "zoho",
            Self::NeedsAuthorization { .. } => "needs_authorization",
            Self::UnknownUser { .. } => "unknown_user",
            Self::Throttled { local: true, .. } => "budget_spent",
            Self::Throttled { local: false, .. } => "throttled",
            Self::Redirect(_) => "redirect",
            Self::Config(_) => "config",
            Self::UntrustedApiDomain(_) => "untrusted_api_domain",
            Self::DataCenterMismatch { .. } => "data_center_mismatch",
            Self::Core(_) => "core",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Store(e) => e.fmt(f),
            Self::Transport(e) => write!(f, "request to Zoho failed and no valid token is cached: {e}"),
            // Already says that Zoho refuses, and why.
            Self::Zoho(v @ Verdict::TooManyGrantCodes) => v.fmt(f),
            Self::Zoho(v) => write!(f, "Zoho refused the request: {v}"),
            Self::NeedsAuthorization { key } => write!(
                f,
                "the credential of {key} can no longer be used (grant used or expired, or refresh token revoked): \
                 authorize again and exchange a new grant token; the stored refresh token was kept"
            ),
            Self::UnknownUser { user, known } if known.is_empty() => write!(
                f,
                "no credential is stored for user {user:?}, and none for any user: exchange a grant token first"
            ),
            Self::UnknownUser { user, known } => write!(
                f,
                "no credential is stored for user {user:?}; known users: {}",
                known.join(", ")
            ),
            Self::Throttled { retry_at, local } => {
                let secs = retry_at
                    .duration_since(SystemTime::now())
                    .map_or(0, |d| d.as_secs());
                if *local {
                    write!(
                        f,
                        "the mint budget of this refresh token is spent (Zoho allows 10 new access tokens per 10 minutes): \
                         retry in about {secs} s"
                    )
                } else {
                    write!(
                        f,
                        "Zoho is throttling this client (\"too many requests\"): do not retry for about {secs} s"
                    )
                }
            }
            Self::Redirect(e) => write!(f, "the authorization redirect was refused: {e}"),
            Self::Config(s) => write!(f, "configuration error: {s}"),
            Self::UntrustedApiDomain(d) => write!(
                f,
                "Zoho's answer names the api_domain {d:?}, which is not a Zoho API domain \
                 (nor loopback, for a custom accounts origin): tokens will not be sent there; check the accounts origin"
            ),
            Self::DataCenterMismatch {
                expected_data_center,
                expected_environment,
                found,
            } => write!(
                f,
                "data-centre/environment mismatch: this client is configured for {expected_data_center} {expected_environment}, \
                 but the token belongs to {found}: configure the matching data_center()/environment()"
            ),
            Self::Core(s) => write!(f, "internal error: {s}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Store(e) => Some(e),
            Self::Transport(e) => Some(e),
            Self::Zoho(v) => Some(v),
            Self::Redirect(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Self::Transport(e)
    }
}

impl From<RedirectError> for Error {
    fn from(e: RedirectError) -> Self {
        Self::Redirect(e)
    }
}

impl From<zoho_oauth_core::secret::CapacityError> for Error {
    fn from(e: zoho_oauth_core::secret::CapacityError) -> Self {
        Self::Core(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use zoho_oauth_core::response::{Fault, ReAuthReason};

    use super::*;

    #[test]
    fn every_error_has_the_kind_the_cli_maps_to_an_exit_code() {
        let key = CredentialKey::new("u@x", "1000.X", DataCenter::Us, Environment::Production);
        let cases = [
            (
                Error::Transport(TransportError::Timeout(Duration::from_secs(1))),
                ErrorKind::Network,
            ),
            (
                Error::Zoho(Verdict::Retryable(Fault::Truncated)),
                ErrorKind::Network,
            ),
            (Error::Zoho(Verdict::Throttled), ErrorKind::Throttled),
            (
                Error::Zoho(Verdict::TooManyGrantCodes),
                ErrorKind::Throttled,
            ),
            (
                Error::Throttled {
                    retry_at: SystemTime::now(),
                    local: true,
                },
                ErrorKind::Throttled,
            ),
            (
                Error::Zoho(Verdict::ReAuthorize(ReAuthReason::RefreshTokenRevoked)),
                ErrorKind::ReAuthorize,
            ),
            (Error::NeedsAuthorization { key }, ErrorKind::ReAuthorize),
            (
                Error::UnknownUser {
                    user: "a".into(),
                    known: vec![],
                },
                ErrorKind::Usage,
            ),
            (
                Error::Redirect(RedirectError::StateMismatch),
                ErrorKind::Usage,
            ),
            (Error::Config("x".into()), ErrorKind::Usage),
            (
                Error::Store(StoreError::Corrupt("x".into())),
                ErrorKind::Other,
            ),
        ];
        for (e, kind) in cases {
            assert_eq!(e.kind(), kind, "{e:?}");
            assert_eq!(e.duplicate().kind(), kind);
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn an_unknown_user_error_lists_the_known_users() {
        let e = Error::UnknownUser {
            user: "c@x".into(),
            known: vec!["a@x".into(), "b@x".into()],
        };
        assert!(e.to_string().contains("a@x, b@x"), "{e}");
    }
}
