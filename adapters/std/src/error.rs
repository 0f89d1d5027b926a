//! `Error`: everything a client call can fail with, and what to do about it; and the small typed
//! enums of bad configuration ([`ConfigError`]) and bad input ([`InputError`]).

use std::fmt;
use std::time::SystemTime;

use zoho_oauth_core::authorize::RedirectError;
use zoho_oauth_core::region::{RegionError, TrustError};
use zoho_oauth_core::response::{ReAuthReason, Verdict};
use zoho_oauth_core::secret::CapacityError;
use zoho_oauth_core::token::TokenTextError;
use zoho_oauth_core::DataCenter;

use crate::key::CredentialKey;
use crate::store::StoreError;
use crate::transport::TransportError;

/// Why a client call failed. `Display` says what happened and what to do. Nothing stored is lost
/// by any error: a credential is deleted only by a revoke or a delete.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The token store failed.
    Store(StoreError),
    /// The network failed (after the allowed retries), and no still-valid token could be served.
    Transport(TransportError),
    /// Zoho answered with something other than what was asked (see the verdict).
    Zoho(Verdict),
    /// The credential cannot be used any more: authorize again. The reason says what Zoho
    /// refused (a used or expired grant code, a revoked refresh token, a grant without a refresh
    /// token) and so what to do.
    NeedsAuthorization {
        /// The credential concerned.
        key: CredentialKey,
        /// What Zoho refused.
        reason: ReAuthReason,
    },
    /// No credential is stored for this user (with this client, data centre and environment).
    UnknownUser {
        /// The user asked for.
        user: String,
        /// The users that are known.
        known: Vec<String>,
    },
    /// Zoho throttled this credential, or the local mint budget (10 new access tokens per 10
    /// minutes per refresh token) is spent: wait until `retry_at`. Honoured by every process
    /// sharing the store: none asks Zoho before then.
    Throttled {
        /// When trying again can succeed.
        retry_at: SystemTime,
        /// `true` when the local budget refused before asking Zoho.
        local: bool,
    },
    /// Token requests of this credential failed recently (here or in another process sharing the
    /// store) and are backing off until `retry_at`.
    BackingOff {
        /// When the next attempt is allowed.
        retry_at: SystemTime,
    },
    /// The authorization redirect was refused (state mismatch, denial, untrusted accounts server…).
    Redirect(RedirectError),
    /// The client is configured wrongly.
    Config(ConfigError),
    /// An argument of the call cannot be used (a token with characters a token never has, an
    /// empty user, a value longer than the library keeps…). Nothing was sent or stored.
    Input(InputError),
    /// Zoho's answer named an `api_domain` this client will not send tokens to.
    ApiDomain {
        /// What the answer said.
        said: String,
        /// Why it is refused.
        error: TrustError,
    },
    /// The user's account lives in a data centre this client is not set up for.
    DataCenterNotAllowed {
        /// The data centre Zoho named.
        found: DataCenter,
    },
    /// A new access token was minted but could not be saved: it is not used, and the call fails
    /// so that nobody believes a mint happened that the store does not know of.
    NotSaved {
        /// The credential concerned.
        key: CredentialKey,
        /// Why the store refused.
        cause: Box<StoreError>,
    },
    /// A bug in this library (the core was misused): please report it.
    Internal(String),
}

/// A client configuration that cannot work.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No transport was given.
    NoTransport,
    /// The client id is empty.
    EmptyClientId,
    /// The client secret is empty.
    EmptyClientSecret,
    /// The custom accounts origin is not `http(s)://host[:port]`.
    AccountsOrigin {
        /// What was given.
        given: String,
        /// Why it is refused.
        error: RegionError,
    },
    /// A configured value is longer than the core keeps.
    TooLong(CapacityError),
    /// A data centre was asked for that the client is not set up for.
    DataCenter(DataCenter),
}

/// An argument that cannot be used. Nothing was sent or stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputError {
    /// The user name is empty.
    EmptyUser,
    /// The user name holds a control character (it would break logs and listings).
    UserName,
    /// A token, grant code or secret that Zoho never issues in that shape.
    Token(TokenTextError),
    /// A value longer than the library keeps.
    TooLong(CapacityError),
    /// An API path that is not on the token's `api_domain`, or holds a line break.
    ApiPath {
        /// The path or URL given.
        given: String,
        /// The token's `api_domain`.
        api_domain: String,
    },
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
            Self::Store(StoreError::Busy(_)) => ErrorKind::Network,
            Self::Store(_) | Self::NotSaved { .. } | Self::Internal(_) => ErrorKind::Other,
            Self::Transport(e) if e.is_retryable() => ErrorKind::Network,
            Self::Transport(_) => ErrorKind::Usage,
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
            Self::BackingOff { .. } => ErrorKind::Network,
            // The person clicked Deny (or Zoho refused the grant): only a new login helps.
            Self::Redirect(RedirectError::Denied { .. }) => ErrorKind::ReAuthorize,
            Self::UnknownUser { .. }
            | Self::Redirect(_)
            | Self::Config(_)
            | Self::Input(_)
            | Self::ApiDomain { .. }
            | Self::DataCenterNotAllowed { .. } => ErrorKind::Usage,
        }
    }

    /// Whether the same call can succeed later without anyone changing anything: network and
    /// server faults (after a backoff). The rule is the core's ([`Verdict::is_retryable`]) for
    /// answers, and [`TransportError::is_retryable`] for transport failures; a throttle is
    /// retryable only after its window, which the machine enforces.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(e) => e.is_retryable(),
            Self::Zoho(v @ Verdict::Retryable(_)) => v.is_retryable(),
            // Another process's recent fault: the backoff it saved ends soon, then ask again.
            Self::BackingOff { .. } => true,
            _ => false,
        }
    }

    /// A copy of this error, for the callers that waited on the same refresh.
    pub fn duplicate(&self) -> Self {
        match self {
            Self::Store(e) => Self::Store(e.duplicate()),
            Self::Transport(e) => Self::Transport(e.clone()),
            Self::Zoho(v) => Self::Zoho(v.clone()),
            Self::NeedsAuthorization { key, reason } => Self::NeedsAuthorization {
                key: key.clone(),
                reason: *reason,
            },
            Self::UnknownUser { user, known } => Self::UnknownUser {
                user: user.clone(),
                known: known.clone(),
            },
            Self::Throttled { retry_at, local } => Self::Throttled {
                retry_at: *retry_at,
                local: *local,
            },
            Self::BackingOff { retry_at } => Self::BackingOff {
                retry_at: *retry_at,
            },
            Self::Redirect(e) => Self::Redirect(e.clone()),
            Self::Config(e) => Self::Config(e.clone()),
            Self::Input(e) => Self::Input(e.clone()),
            Self::ApiDomain { said, error } => Self::ApiDomain {
                said: said.clone(),
                error: *error,
            },
            Self::DataCenterNotAllowed { found } => Self::DataCenterNotAllowed { found: *found },
            Self::NotSaved { key, cause } => Self::NotSaved {
                key: key.clone(),
                cause: Box::new(cause.duplicate()),
            },
            Self::Internal(s) => Self::Internal(s.clone()),
        }
    }

    /// A short, stable name of the variant, for logs and metrics labels.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Store(StoreError::Busy(_)) => "store_busy",
            Self::Store(_) => "store",
            Self::Transport(_) => "transport",
            Self::Zoho(_) => "zoho",
            Self::NeedsAuthorization { .. } => "needs_authorization",
            Self::UnknownUser { .. } => "unknown_user",
            Self::Throttled { local: true, .. } => "budget_spent",
            Self::Throttled { local: false, .. } => "throttled",
            Self::BackingOff { .. } => "backing_off",
            Self::Redirect(_) => "redirect",
            Self::Config(_) => "config",
            Self::Input(_) => "input",
            Self::ApiDomain { .. } => "api_domain",
            Self::DataCenterNotAllowed { .. } => "data_center_not_allowed",
            Self::NotSaved { .. } => "not_saved",
            Self::Internal(_) => "internal",
        }
    }

    /// What happened, in one line, without the advice ([`Error::todo`] says what to do). The
    /// CLI prints these two lines; `Display` joins them.
    pub fn what(&self) -> String {
        match self {
            Self::Store(e) => e.what(),
            Self::Transport(e) => format!("the request to Zoho failed: {e}"),
            Self::Zoho(v) => v.what().to_string(),
            // A stored credential Zoho refused: say which. A refused grant stored nothing.
            Self::NeedsAuthorization {
                key,
                reason: ReAuthReason::RefreshTokenRevoked,
            } => format!(
                "the credential of {key} can no longer be used: {}",
                ReAuthReason::RefreshTokenRevoked.what()
            ),
            Self::NeedsAuthorization { reason, .. } => reason.what().to_owned(),
            Self::UnknownUser { user, known } if known.is_empty() => {
                format!("no credential is stored for user {user:?}, and none for any user")
            }
            Self::UnknownUser { user, known } => format!(
                "no credential is stored for user {user:?}; known users: {}",
                known.join(", ")
            ),
            Self::Throttled { retry_at, local: true } => format!(
                "the mint budget of this credential is spent (Zoho allows 10 new access tokens per 10 minutes); \
                 the next slot opens in about {} s",
                secs_until(*retry_at)
            ),
            Self::Throttled { retry_at, local: false } => format!(
                "Zoho is throttling this credential (\"too many requests\"): do not retry for about {} s",
                secs_until(*retry_at)
            ),
            Self::BackingOff { retry_at } => format!(
                "token requests of this credential failed recently and are backing off for about {} s",
                secs_until(*retry_at)
            ),
            Self::Redirect(e) => format!("the authorization redirect was refused: {}", e.what()),
            Self::Config(e) => format!("configuration error: {e}"),
            Self::Input(e) => e.to_string(),
            Self::ApiDomain { said, error } => {
                format!("Zoho's answer names the api_domain {said:?}, which is refused: {error}")
            }
            Self::DataCenterNotAllowed { found } => format!(
                "the user's account lives in data centre {found}, which this client is not set up for"
            ),
            Self::NotSaved { key, cause } => format!(
                "a new access token for {key} was minted but could not be saved, so it is not used: {}",
                cause.what()
            ),
            Self::Internal(s) => format!("internal error: {s}"),
        }
    }

    /// What to do about it, in one line.
    pub fn todo(&self) -> String {
        match self {
            Self::Store(e) => e.todo().into(),
            Self::Transport(e) if !e.is_retryable() => {
                "check the accounts URL: only https, or http to a loopback host, is allowed".into()
            }
            Self::Transport(_) => "check the network, proxy and data centre, then retry".into(),
            Self::Zoho(v) => v.todo().into(),
            Self::NeedsAuthorization { reason, .. } => reason.todo().into(),
            Self::UnknownUser { known, .. } if known.is_empty() => {
                "exchange a grant token or log in first".into()
            }
            Self::UnknownUser { .. } => "use one of the known users".into(),
            Self::Throttled { local: true, .. } => {
                "wait for the next slot; the local budget keeps Zoho from throttling (and evicting) this credential".into()
            }
            Self::Throttled { local: false, .. } => {
                "wait for the window to pass; asking earlier prolongs Zoho's block".into()
            }
            Self::BackingOff { .. } => "retry after that; check the network and Zoho's status meanwhile".into(),
            Self::Redirect(e) => e.todo().into(),
            Self::Config(_) => "fix the client's configuration".into(),
            Self::Input(_) => "correct the value and try again".into(),
            Self::ApiDomain { .. } => {
                "check the accounts origin: Zoho's accounts server, or a loopback emulator".into()
            }
            Self::DataCenterNotAllowed { found } => format!(
                "allow data centre {found} in the client's settings (with its client secret), or log in with an account of an allowed one"
            ),
            Self::NotSaved { .. } => "make the store writable, then retry".into(),
            Self::Internal(_) => "please report this bug, with the log at debug level".into(),
        }
    }
}

fn secs_until(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::now())
        .map_or(0, |d| d.as_secs())
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; {}", self.what(), self.todo())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Store(e) => Some(e),
            Self::NotSaved { cause, .. } => Some(&**cause),
            Self::Transport(e) => Some(e),
            Self::Zoho(v) => Some(v),
            Self::Redirect(e) => Some(e),
            Self::Config(e) => Some(e),
            Self::Input(e) => Some(e),
            Self::ApiDomain { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoTransport => f.write_str(
                "no transport: call .transport(zoho_oauth_ureq::UreqTransport::new()) or pass your own HTTP client",
            ),
            Self::EmptyClientId => f.write_str("the client id is empty: copy it from the API console"),
            Self::EmptyClientSecret => {
                f.write_str("the client secret is empty: copy it from the API console")
            }
            Self::AccountsOrigin { given, error } => write!(f, "accounts origin {given:?}: {error}"),
            Self::TooLong(e) => e.fmt(f),
            Self::DataCenter(dc) => write!(
                f,
                "data centre {dc} is not one this client is set up for: add it to the allowed data centres"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyUser => f.write_str("the user name is empty: give the user's e-mail address"),
            Self::UserName => f.write_str(
                "the user name holds a control character or a line break: give the user's e-mail address",
            ),
            Self::Token(e) => e.fmt(f),
            Self::TooLong(e) => e.fmt(f),
            Self::ApiPath { given, api_domain } => write!(
                f,
                "{given:?} is not a path on the token's api_domain {api_domain}: give a path such as /crm/v8/users \
                 (no line breaks), or a URL on that origin; access tokens are never sent elsewhere"
            ),
        }
    }
}

impl std::error::Error for InputError {}

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

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Self {
        Self::Input(e)
    }
}

impl From<TokenTextError> for Error {
    fn from(e: TokenTextError) -> Self {
        Self::Input(InputError::Token(e))
    }
}

impl From<CapacityError> for Error {
    fn from(e: CapacityError) -> Self {
        Self::Input(InputError::TooLong(e))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use zoho_oauth_core::response::Fault;
    use zoho_oauth_core::Environment;

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
                Error::Transport(TransportError::Refused("plain http".into())),
                ErrorKind::Usage,
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
                Error::NeedsAuthorization {
                    key: key.clone(),
                    reason: ReAuthReason::NoRefreshToken,
                },
                ErrorKind::ReAuthorize,
            ),
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
            (Error::Input(InputError::EmptyUser), ErrorKind::Usage),
            (
                Error::Store(StoreError::Corrupt("x".into())),
                ErrorKind::Other,
            ),
            (
                Error::NotSaved {
                    key,
                    cause: Box::new(StoreError::ReadOnly("x".into())),
                },
                ErrorKind::Other,
            ),
        ];
        for (e, kind) in cases {
            assert_eq!(e.kind(), kind, "{e:?}");
            assert_eq!(e.duplicate().kind(), kind);
            assert!(!e.what().is_empty() && !e.todo().is_empty());
            assert!(!e.what().contains('\n') && !e.todo().contains('\n'), "{e}");
        }
    }

    #[test]
    fn each_re_authorization_reason_says_its_own_remedy() {
        let key = CredentialKey::new("u@x", "1000.X", DataCenter::Us, Environment::Production);
        let said = |reason| {
            let e = Error::NeedsAuthorization {
                key: key.clone(),
                reason,
            };
            (e.what(), e.todo())
        };
        let (what, todo) = said(ReAuthReason::NoRefreshToken);
        assert!(what.contains("access_type=online") && todo.contains("access_type=offline"));
        let (what, todo) = said(ReAuthReason::GrantUsedOrExpired);
        assert!(
            what.contains("already used or has expired")
                && todo.contains("generate a new grant code")
        );
        let (what, _) = said(ReAuthReason::RefreshTokenRevoked);
        assert!(what.contains("refresh token"), "{what}");
    }

    #[test]
    fn transport_refusals_by_policy_are_not_retried() {
        assert!(!Error::Transport(TransportError::Refused("x".into())).is_retryable());
        assert!(Error::Transport(TransportError::Io("reset".into())).is_retryable());
        assert!(Error::Zoho(Verdict::Retryable(Fault::Empty)).is_retryable());
        assert!(!Error::Zoho(Verdict::Throttled).is_retryable());
        assert!(Error::BackingOff {
            retry_at: SystemTime::now()
        }
        .is_retryable());
    }
}
