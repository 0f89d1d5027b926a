//! Zoho's response dialect: every accounts-server answer becomes one typed [`Verdict`] or a value.
//!
//! One function per answer, each taking the HTTP status and the whole body and deciding by the
//! body (Zoho answers errors with HTTP 200, proxies with HTML): [`parse_token`] for the grant
//! exchange, a refresh and client credentials, [`parse_revoke`], [`parse_user_info`],
//! [`classify_api`] for resource APIs, and, in [`device`](crate::device), the device flow's two
//! answers. All of them read the body with one allocation-free, single-pass JSON scanner and copy
//! only the fields they return.

use core::fmt;
use core::time::Duration;

use crate::cap;
use crate::scan::{ScanError, Scanner, Str, Value};
use crate::secret::{CapacityError, Secret};

/// Bodies larger than this are refused as [`Fault::Oversized`] without being parsed.
pub const MAX_BODY: usize = 16 * 1024;

/// The access-token lifetime assumed when a token answer carries no `expires_in` (seen in the
/// wild), and Zoho's documented lifetime: one hour. The one figure every part of the project uses
/// (the std client, the import of the official SDKs' token file).
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The shortest access-token lifetime accepted: one second. Zoho's is an hour; test servers use a
/// few seconds. A lifetime of zero would make the token useless before it arrives, so it is
/// [`Verdict::LifetimeOutOfRange`].
pub const MIN_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(1);

/// The longest access-token lifetime accepted: one day, 24 times Zoho's. Anything longer is a unit
/// mistake (milliseconds read as seconds) or not Zoho, and would keep a dead token in use for
/// that long: [`Verdict::LifetimeOutOfRange`].
pub const MAX_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(86_400);

/// Which token call a response answers: the same `error` means different things in each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flow {
    /// A grant code was exchanged for tokens.
    Exchange,
    /// A refresh token was exchanged for an access token.
    Refresh,
    /// A client-credentials request ([`request::client_credentials`](crate::request::client_credentials)):
    /// an access token without a refresh token, which is normal for this grant.
    ClientCredentials,
}

/// What a successful revoke did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revocation {
    /// Zoho revoked the token (and every access token minted from it).
    Revoked,
    /// Zoho no longer knows the token (`invalid_token`): it was revoked before, evicted (the 21st
    /// refresh token of a user deletes the first), or never Zoho's. Either way it is as gone as a
    /// revoke makes it: delete it locally too.
    AlreadyGone,
}

/// A successful token response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenGrant {
    /// The new access token.
    pub access_token: Secret<{ cap::ACCESS_TOKEN }>,
    /// The refresh token: only on an exchange of an offline grant.
    pub refresh_token: Option<Secret<{ cap::REFRESH_TOKEN }>>,
    /// Where API calls with this token go, when Zoho said.
    pub api_domain: Option<heapless::String<{ cap::ORIGIN }>>,
    /// The granted scopes, space-separated, when Zoho said.
    pub scope: Option<heapless::String<{ cap::SCOPE }>>,
    /// Lifetime of the access token.
    pub expires_in: Duration,
}

/// The user-info answer (`GET /oauth/user/info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    /// `Email`.
    pub email: heapless::String<{ cap::EMAIL }>,
    /// `ZUID`, Zoho's user id.
    pub zuid: u64,
    /// `First_Name`.
    pub first_name: heapless::String<{ cap::NAME }>,
    /// `Last_Name`.
    pub last_name: heapless::String<{ cap::NAME }>,
    /// `Display_Name`.
    pub display_name: heapless::String<{ cap::NAME }>,
}

/// What a resource-API response says about the access token that was used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiVerdict {
    /// Not a token problem.
    Ok,
    /// 401 `INVALID_TOKEN` / `INVALID_OAUTHTOKEN`: refresh and retry once.
    InvalidToken,
    /// Some other failure that a new token would not fix.
    Other,
}

/// Why a response was not a usable answer, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// A transport or server fault: back off and retry. Never means "revoked".
    Retryable(Fault),
    /// Zoho's "Access Denied" throttle: wait for the window to pass without retrying.
    Throttled,
    /// `access_denied` on a grant exchange: the client was issued more than 10 grant codes in
    /// 10 minutes, and Zoho refuses its codes until the window rolls. Wait (the
    /// [`Machine`](crate::Machine) pauses for `throttle_wait`), then generate a new code. On a
    /// refresh, `access_denied` is [`Verdict::Throttled`] instead.
    TooManyGrantCodes,
    /// The grant or the refresh token is no longer valid: authorize again.
    ReAuthorize(ReAuthReason),
    /// The client id or secret is wrong.
    BadClient {
        /// Which one.
        error: BadClientKind,
        /// Whether the likely cause is the wrong data centre.
        wrong_data_center_hint: bool,
    },
    /// Zoho refused the request; the text is its `error` value.
    BadRequest(heapless::String<64>),
    /// User info needs the scope `aaaserver.profile.READ`.
    MissingScope,
    /// User info or an API refused the access token (`INVALID_OAUTHTOKEN`): refresh it and retry
    /// once (the [`Machine`](crate::Machine) does this on `force_refresh`).
    InvalidAccessToken,
    /// The access token's lifetime, after unit normalisation (`expires_in_sec`), is outside
    /// [`MIN_ACCESS_TOKEN_LIFETIME`]..=[`MAX_ACCESS_TOKEN_LIFETIME`]: the token is refused, since
    /// a zero lifetime is useless and a huge one would keep a dead token in use.
    LifetimeOutOfRange {
        /// The lifetime Zoho gave (saturated at `u64::MAX` of its unit when larger).
        found: Duration,
        /// [`MIN_ACCESS_TOKEN_LIFETIME`].
        min: Duration,
        /// [`MAX_ACCESS_TOKEN_LIFETIME`].
        max: Duration,
    },
    /// `missing_org_info` on a client-credentials request: the client reaches several
    /// organisations or portals, and Zoho needs to be told which one. Pass `soid` to
    /// [`request::client_credentials`](crate::request::client_credentials).
    MissingOrgInfo,
    /// A device-flow poll answered `other_dc` with a `user_location` that is not one of Zoho's
    /// data centres: refused, since the next poll (with the client secret) would go there.
    UnknownDataCenter {
        /// The `user_location` as sent (cut at 16 bytes; a location is not a secret).
        location: heapless::String<16>,
    },
    /// JSON that is not a Zoho answer.
    Malformed(Malformed),
    /// A field longer than its capacity.
    TooLong(CapacityError),
    /// Misuse: a response or transport error was handed to the [`Machine`](crate::Machine) while
    /// no request was in flight. The machine ignored it.
    NotInFlight,
}

/// A fault of the transport or the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The request was not answered (connection refused, reset, timeout).
    Transport,
    /// A 5xx status with a body that is not Zoho JSON.
    ServerError {
        /// The HTTP status.
        status: u16,
    },
    /// An HTML page (a proxy, a captive portal, an outage page).
    Html {
        /// The HTTP status.
        status: u16,
    },
    /// JSON cut short.
    Truncated,
    /// No body at all.
    Empty,
    /// A body larger than [`MAX_BODY`].
    Oversized,
}

/// Why authorization must be done again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReAuthReason {
    /// `invalid_code` on an exchange: the grant code was used or expired.
    GrantUsedOrExpired,
    /// `invalid_code` on a refresh: the refresh token was revoked or evicted.
    RefreshTokenRevoked,
    /// An exchange gave no refresh token (the grant was `access_type=online`).
    NoRefreshToken,
    /// A device-flow poll answered `expired` (or `invalid_code`): the person did not approve
    /// within `expires_in`; start the device flow again for a new user code.
    DeviceCodeExpired,
    /// A device-flow poll answered `access_denied`: the person refused the request on the
    /// verification page.
    DeviceAccessDenied,
}

/// Which client credential Zoho rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BadClientKind {
    /// `invalid_client`.
    InvalidClient,
    /// `invalid_client_secret`.
    InvalidClientSecret,
}

/// How a JSON body failed to be a Zoho answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// Not JSON at all.
    NotJson,
    /// A required field is missing.
    MissingField(&'static str),
    /// A field has the wrong JSON type.
    WrongType(&'static str),
    /// A token holds a character that is not visible ASCII, or `api_domain` a control character
    /// or a blank: Zoho never sends one, and put into an `Authorization` header line it would
    /// split the header (header injection). Whatever answered is not Zoho.
    ForbiddenCharacter {
        /// `access_token`, `refresh_token` or `api_domain`.
        field: &'static str,
        /// The first such character's kind (never the character: the field may be a secret).
        found: ForbiddenChar,
    },
}

/// The kind of character found where [`Malformed::ForbiddenCharacter`] says it cannot be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForbiddenChar {
    /// CR or LF, which ends a header line.
    LineBreak,
    /// Another control character (U+0000–U+001F, DEL, U+0080–U+009F).
    Control,
    /// A space or another blank (any Unicode white space).
    Blank,
    /// A character outside ASCII (in a token).
    NonAscii,
}

impl Verdict {
    /// Whether the same request can succeed later without anyone changing anything: transport and
    /// server faults (after a backoff) and the throttle (after its window).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable(_) | Self::Throttled)
    }

    /// Whether a person must authorize the client again (a new grant code) before tokens flow.
    pub fn needs_reauthorization(&self) -> bool {
        matches!(self, Self::ReAuthorize(_))
    }
}

impl Verdict {
    /// What happened, without the advice ([`Verdict::todo`]): one line, no secret. `Display`
    /// writes both, joined by `": "`.
    pub fn what(&self) -> What<'_> {
        What(self)
    }

    /// What to do about it, in one line.
    pub fn todo(&self) -> &'static str {
        match self {
            Self::Retryable(_) => "retry after a backoff; the tokens are unaffected",
            Self::Throttled => {
                "wait about ten minutes before the next token request, since every retry during \
                 the block prolongs it"
            }
            Self::TooManyGrantCodes => {
                "wait up to 10 minutes, then generate a new code and exchange it at once"
            }
            Self::ReAuthorize(reason) => reason.todo(),
            Self::BadClient {
                error: BadClientKind::InvalidClient,
                wrong_data_center_hint: true,
            } => {
                "check the data centre (accounts server) matches where the client was registered, \
                 or enable multi-DC in the API console"
            }
            Self::BadClient {
                error: BadClientKind::InvalidClient,
                ..
            } => "copy the client id from the API console",
            Self::BadClient { .. } => "copy the client secret of this client from the API console",
            Self::BadRequest(_) => {
                "check the client's configuration (redirect URI, grant type, scopes) in the API console"
            }
            Self::MissingScope => "authorize again with the scope aaaserver.profile.READ added",
            Self::InvalidAccessToken => {
                "refresh it and retry once; if it is refused again, authorize again"
            }
            Self::Malformed(Malformed::ForbiddenCharacter { .. }) => {
                "this is not a Zoho answer: check proxies and the accounts server"
            }
            Self::Malformed(_) => {
                "check that the accounts server is Zoho's; retrying later may help"
            }
            Self::LifetimeOutOfRange { .. } => {
                "check that the accounts server is Zoho's (its tokens live 3600 s) and that no \
                 proxy rewrites its answers"
            }
            Self::MissingOrgInfo => "pass soid as <service>.<org id>, e.g. ZohoCRM.600001234",
            Self::UnknownDataCenter { .. } => {
                "the client secret was not sent there; start the device flow again"
            }
            Self::TooLong(_) => "check that the accounts server is Zoho's",
            Self::NotInFlight => {
                "send a request only after poll returns Poll::Send, and hand over its answer once"
            }
        }
    }
}

/// The "what happened" half of a [`Verdict`], from [`Verdict::what`].
#[derive(Clone, Copy, Debug)]
pub struct What<'a>(&'a Verdict);

impl fmt::Display for What<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Verdict::Retryable(fault) => fault.fmt(f),
            Verdict::Throttled => f.write_str(
                "Zoho throttled this client (\"Access Denied\", too many requests)",
            ),
            Verdict::TooManyGrantCodes => f.write_str(
                "Zoho refuses more than 10 grant codes per 10 minutes for this client (access_denied)",
            ),
            Verdict::ReAuthorize(reason) => f.write_str(reason.what()),
            Verdict::BadClient { error: BadClientKind::InvalidClient, wrong_data_center_hint: true } => {
                f.write_str("Zoho does not know this client at this data centre")
            }
            Verdict::BadClient { error: BadClientKind::InvalidClient, .. } => {
                f.write_str("Zoho does not know this client id")
            }
            Verdict::BadClient { .. } => f.write_str("Zoho refused the client secret"),
            Verdict::BadRequest(error) => {
                write!(f, "Zoho refused the request with error \"{}\"", error.escape_debug())
            }
            Verdict::MissingScope => f.write_str(
                "the access token lacks the scope aaaserver.profile.READ needed for user info",
            ),
            Verdict::InvalidAccessToken => {
                f.write_str("Zoho refused the access token (INVALID_OAUTHTOKEN)")
            }
            Verdict::Malformed(m @ Malformed::ForbiddenCharacter { .. }) => m.fmt(f),
            Verdict::Malformed(m) => write!(f, "the answer is not one Zoho gives ({m})"),
            Verdict::LifetimeOutOfRange { found, min, max } => write!(
                f,
                "the access token's lifetime of {} is outside the accepted {} to {}, so it was refused",
                Secs(*found),
                Secs(*min),
                Secs(*max),
            ),
            Verdict::MissingOrgInfo => f.write_str(
                "Zoho needs to know which organisation the client-credentials token is for (missing_org_info)",
            ),
            Verdict::UnknownDataCenter { location } => write!(
                f,
                "the device flow was sent to the data centre \"{}\", which is not one of Zoho's",
                location.escape_debug()
            ),
            Verdict::TooLong(e) => write!(f, "a field of Zoho's answer does not fit: {e}"),
            Verdict::NotInFlight => f.write_str(
                "a response was handed to the machine while no request was in flight",
            ),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what(), self.todo())
    }
}

impl core::error::Error for Verdict {}

/// A duration shown in whole seconds, or in milliseconds below a second or when not whole.
struct Secs(Duration);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.subsec_nanos() == 0 {
            write!(f, "{} s", self.0.as_secs())
        } else {
            write!(f, "{} ms", self.0.as_millis())
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport => f.write_str("the request got no answer (connection failed, reset or timed out)"),
            Self::ServerError { status } => write!(f, "the accounts server failed with HTTP {status}"),
            Self::Html { status } => write!(
                f,
                "an HTML page came back (HTTP {status}) instead of Zoho's JSON: a proxy, portal or outage page"
            ),
            Self::Truncated => f.write_str("the answer was cut short"),
            Self::Empty => f.write_str("the answer was empty"),
            Self::Oversized => write!(f, "the answer was larger than {MAX_BODY} bytes"),
        }
    }
}

impl ReAuthReason {
    /// What Zoho refused, in one line (without the advice, [`ReAuthReason::todo`]).
    pub fn what(&self) -> &'static str {
        match self {
            Self::GrantUsedOrExpired => {
                "the grant code was already used or has expired (invalid_code)"
            }
            Self::RefreshTokenRevoked => "the refresh token was revoked or evicted (invalid_code)",
            Self::NoRefreshToken => {
                "the grant gave no refresh token (it was authorized with access_type=online)"
            }
            Self::DeviceCodeExpired => {
                "the device code expired before the person approved it (expired)"
            }
            Self::DeviceAccessDenied => {
                "the person refused the device's request on the verification page (access_denied)"
            }
        }
    }

    /// What to do about it, in one line.
    pub fn todo(&self) -> &'static str {
        match self {
            Self::GrantUsedOrExpired => {
                "generate a new grant code (API console, or log in again) and exchange it at once"
            }
            Self::RefreshTokenRevoked => {
                "authorize again (log in, or exchange a new grant code) to get a new one; the old \
                 one is kept until then"
            }
            Self::NoRefreshToken => {
                "authorize again with access_type=offline (and prompt=consent if this user \
                 authorized before)"
            }
            Self::DeviceCodeExpired => "start the device flow again and show the new user code",
            Self::DeviceAccessDenied => {
                "start the device flow again only if they want to approve it"
            }
        }
    }
}

impl fmt::Display for ReAuthReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what(), self.todo())
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotJson => f.write_str("not a JSON object"),
            Self::MissingField(name) => write!(f, "the field {name} is missing"),
            Self::WrongType(name) => write!(f, "the field {name} has the wrong type"),
            Self::ForbiddenCharacter { field, found } => write!(
                f,
                "Zoho answered a token with characters a token cannot have: {field} holds {found}"
            ),
        }
    }
}

impl fmt::Display for ForbiddenChar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LineBreak => "a line break (CR or LF)",
            Self::Control => "a control character",
            Self::Blank => "a space or another blank",
            Self::NonAscii => "a non-ASCII character",
        })
    }
}

/// Parse the answer to a token request: a grant exchange ([`Flow::Exchange`]), a refresh
/// ([`Flow::Refresh`]) or client credentials ([`Flow::ClientCredentials`]).
///
/// Decides by the body, never by the status alone: Zoho answers errors with HTTP 200, the
/// throttle with 200 or 400, and proxies answer with HTML. A success without `refresh_token` is
/// `Ok` with `refresh_token: None` even on an exchange (an `access_type=online` grant); the
/// [`Machine`](crate::Machine) decides whether that is enough. `expires_in` is seconds, unless
/// `expires_in_sec` is present (old servers), in which case `expires_in` is milliseconds; when
/// both are missing the token lives [`DEFAULT_ACCESS_TOKEN_LIFETIME`]. A lifetime outside
/// [`MIN_ACCESS_TOKEN_LIFETIME`]..=[`MAX_ACCESS_TOKEN_LIFETIME`] is
/// [`Verdict::LifetimeOutOfRange`].
///
/// `{"error":"access_denied"}` is [`Verdict::TooManyGrantCodes`] on an exchange (Zoho's "too many
/// grant codes") and [`Verdict::Throttled`] on a refresh or client credentials; `invalid_code` is
/// [`ReAuthReason::GrantUsedOrExpired`] on an exchange and
/// [`ReAuthReason::RefreshTokenRevoked`] on a refresh; `missing_org_info` is
/// [`Verdict::MissingOrgInfo`].
///
/// The tokens must be visible ASCII (`!` to `~`) and `api_domain` free of control characters and
/// blanks, since they go into header lines: anything else is [`Malformed::ForbiddenCharacter`].
///
/// ```
/// use core::time::Duration;
/// use zoho_oauth_core::response::{parse_token, Flow, ReAuthReason, Verdict};
///
/// let body = br#"{"access_token":"1000.a1b2","api_domain":"https:\/\/www.zohoapis.eu","token_type":"Bearer","expires_in":3600}"#;
/// let grant = parse_token(Flow::Refresh, 200, body).unwrap();
/// assert_eq!(grant.api_domain.as_deref(), Some("https://www.zohoapis.eu"));
///
/// let revoked = parse_token(Flow::Refresh, 200, br#"{"error":"invalid_code"}"#);
/// assert_eq!(revoked, Err(Verdict::ReAuthorize(ReAuthReason::RefreshTokenRevoked)));
///
/// // Old servers: with `expires_in_sec`, `expires_in` is milliseconds.
/// let old = br#"{"access_token":"1000.a1b2","expires_in_sec":3600,"expires_in":3600000}"#;
/// assert_eq!(parse_token(Flow::Refresh, 200, old).unwrap().expires_in, Duration::from_secs(3600));
///
/// // Milliseconds without `expires_in_sec`: 41 days, refused.
/// let wrong_unit = br#"{"access_token":"1000.a1b2","expires_in":3600000}"#;
/// assert!(matches!(
///     parse_token(Flow::Refresh, 200, wrong_unit),
///     Err(Verdict::LifetimeOutOfRange { .. })
/// ));
/// ```
pub fn parse_token(flow: Flow, status: u16, body: &[u8]) -> Result<TokenGrant, Verdict> {
    // A closure, not the function item: the item's `FnOnce` shim may stay out of line, and
    // then the scanned fields are copied through memory (callgrind, `codegen-units = 1`: 2% more
    // instructions per answer).
    let f = token_fields(status, body)?;
    token_answer(Call::Token(flow), status, &f)
}

/// The fields of a token answer (`parse_token`, `device::parse_poll`). On bare metal (no OS:
/// firmware) out of line, so that a device holding both flows carries one copy (4.5 KB at
/// opt-level "z"); elsewhere inlined: 3,810 instead of 3,858 instructions per exchange answer
/// (callgrind), the figure before the device flow shared it (3,798).
#[cfg_attr(target_os = "none", inline(never))]
#[cfg_attr(not(target_os = "none"), inline(always))]
#[allow(clippy::redundant_closure)]
pub(crate) fn token_fields(status: u16, body: &[u8]) -> Result<TokenFields<'_>, Verdict> {
    parse_object(status, body, |body| scan_token_fields(body))
}

/// Which call an answer belongs to: the same `error` means different things in each.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    /// A token call of the public [`Flow`]s.
    Token(Flow),
    /// A device-flow poll (`/oauth/v3/device/token`), whose own errors are read before.
    DevicePoll,
    /// A device-flow initiation (`/oauth/v3/device/code`).
    DeviceCode,
    /// Revoke, user info.
    Other,
}

/// The verdict or the grant of a scanned token answer (out of line on bare metal, to keep one
/// copy in flash; inlined elsewhere, for speed).
#[cfg_attr(target_os = "none", inline(never))]
#[cfg_attr(not(target_os = "none"), inline(always))]
pub(crate) fn token_answer(
    call: Call,
    status: u16,
    f: &TokenFields<'_>,
) -> Result<TokenGrant, Verdict> {
    if let Some(error) = f.error {
        return Err(error_verdict(status, call, error, f.status));
    }
    if f.status.is_some_and(is_failure) {
        return Err(Verdict::Throttled);
    }
    let access = match f.access_token {
        Some(raw) if !raw.raw.is_empty() => raw,
        _ if status >= 500 => return Err(Verdict::Retryable(Fault::ServerError { status })),
        _ => return Err(Verdict::Malformed(Malformed::MissingField("access_token"))),
    };
    let expires_in = match (f.expires_in, f.expires_in_sec) {
        (Some(ms), Some(_)) => Duration::from_millis(ms),
        (Some(secs), None) => Duration::from_secs(secs),
        (None, Some(secs)) => Duration::from_secs(secs),
        (None, None) => DEFAULT_ACCESS_TOKEN_LIFETIME,
    };
    // Whole milliseconds suffice: both bounds are whole seconds.
    let ms = expires_in.as_millis();
    if ms < MIN_ACCESS_TOKEN_LIFETIME.as_millis() || ms > MAX_ACCESS_TOKEN_LIFETIME.as_millis() {
        return Err(Verdict::LifetimeOutOfRange {
            found: expires_in,
            min: MIN_ACCESS_TOKEN_LIFETIME,
            max: MAX_ACCESS_TOKEN_LIFETIME,
        });
    }
    // Filled in place: the strings are inline arrays, so every move of a finished one copies
    // its whole capacity.
    let mut grant = TokenGrant {
        access_token: secret("access_token", access)?,
        refresh_token: None,
        api_domain: None,
        scope: None,
        expires_in,
    };
    if let Some(raw) = f.refresh_token.filter(|raw| !raw.raw.is_empty()) {
        grant.refresh_token = Some(secret("refresh_token", raw)?);
    }
    fill_optional(&mut grant.api_domain, "api_domain", f.api_domain)?;
    if let Some(domain) = &grant.api_domain {
        check_domain_chars("api_domain", domain)?;
    }
    fill_optional(&mut grant.scope, "scope", f.scope)?;
    Ok(grant)
}

/// Parse the answer to a revoke (`POST /oauth/v2/token/revoke`).
///
/// `{"status":"success"}` is [`Revocation::Revoked`]. A token Zoho no longer knows is answered
/// with `{"error":"invalid_token"}` (HTTP 400, sometimes beside `"status":"failure"`): that is
/// [`Revocation::AlreadyGone`], a success too, never a refusal; so is `invalid_code`, the token
/// endpoint's word for a dead refresh token. The throttle is [`Verdict::Throttled`]; any other
/// `error` is a verdict as for token calls.
///
/// ```
/// use zoho_oauth_core::response::{parse_revoke, Revocation};
///
/// assert_eq!(parse_revoke(200, br#"{"status":"success"}"#), Ok(Revocation::Revoked));
/// assert_eq!(parse_revoke(400, br#"{"error":"invalid_token"}"#), Ok(Revocation::AlreadyGone));
/// ```
pub fn parse_revoke(status: u16, body: &[u8]) -> Result<Revocation, Verdict> {
    let f = parse_object(status, body, scan_fields)?;
    if let Some(error) = f.error {
        return match error.raw {
            "invalid_token" | "invalid_code" => Ok(Revocation::AlreadyGone),
            raw => Err(error_verdict(
                status,
                Call::Other,
                raw,
                f.status.map(|s| s.raw),
            )),
        };
    }
    match f.status.map(|s| s.raw) {
        Some(s) if s.eq_ignore_ascii_case("success") => Ok(Revocation::Revoked),
        Some(s) if is_failure(s) => Err(Verdict::Throttled),
        _ if status >= 500 => Err(Verdict::Retryable(Fault::ServerError { status })),
        Some(_) => Err(Verdict::Malformed(Malformed::WrongType("status"))),
        None => Err(Verdict::Malformed(Malformed::MissingField("status"))),
    }
}

/// Parse the answer to user info (`GET /oauth/user/info`).
///
/// `ZUID` is required (a JSON number); names and e-mail are empty when absent. HTTP 401 with
/// `cause` `INVALID_OAUTHSCOPE` is [`Verdict::MissingScope`]; with `INVALID_OAUTHTOKEN` it is
/// [`Verdict::InvalidAccessToken`] (refresh and retry once).
///
/// ```
/// use zoho_oauth_core::response::{parse_user_info, Verdict};
///
/// let body = br#"{"First_Name":"Ada","Email":"ada@example.com","Last_Name":"Lovelace","Display_Name":"Ada","ZUID":748291045}"#;
/// assert_eq!(parse_user_info(200, body).unwrap().zuid, 748291045);
/// let no_scope = br#"{"response":"error","cause":"INVALID_OAUTHSCOPE"}"#;
/// assert_eq!(parse_user_info(401, no_scope), Err(Verdict::MissingScope));
/// ```
pub fn parse_user_info(status: u16, body: &[u8]) -> Result<UserInfo, Verdict> {
    let f = parse_object(status, body, scan_fields)?;
    let raw_status = f.status.map(|s| s.raw);
    if let Some(cause) = f.cause.or(f.code).map(|c| c.raw) {
        if cause.eq_ignore_ascii_case("INVALID_OAUTHSCOPE") {
            return Err(Verdict::MissingScope);
        }
        if is_invalid_token_code(cause) {
            return Err(Verdict::InvalidAccessToken);
        }
        if f.zuid.is_none() {
            return Err(error_verdict(status, Call::Other, cause, raw_status));
        }
    }
    if let Some(error) = f.error {
        return Err(error_verdict(status, Call::Other, error.raw, raw_status));
    }
    if raw_status.is_some_and(is_failure) {
        return Err(Verdict::Throttled);
    }
    let Some(zuid) = f.zuid else {
        if status >= 500 {
            return Err(Verdict::Retryable(Fault::ServerError { status }));
        }
        return Err(Verdict::Malformed(Malformed::MissingField("ZUID")));
    };
    let mut info = UserInfo {
        email: heapless::String::new(),
        zuid,
        first_name: heapless::String::new(),
        last_name: heapless::String::new(),
        display_name: heapless::String::new(),
    };
    fill_present(&mut info.email, "Email", f.email)?;
    fill_present(&mut info.first_name, "First_Name", f.first_name)?;
    fill_present(&mut info.last_name, "Last_Name", f.last_name)?;
    fill_present(&mut info.display_name, "Display_Name", f.display_name)?;
    Ok(info)
}

/// Classify a resource-API response (CRM, Books, Desk…) by what it says about the access token.
///
/// 2xx and 3xx are [`ApiVerdict::Ok`]; HTTP 401 whose `code` (CRM), `cause` or `errorCode` is
/// `INVALID_TOKEN` or `INVALID_OAUTHTOKEN` is [`ApiVerdict::InvalidToken`]: refresh and retry once;
/// everything else is [`ApiVerdict::Other`]. Only 401 bodies are parsed.
///
/// ```
/// use zoho_oauth_core::response::{classify_api, ApiVerdict};
///
/// let body = br#"{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}"#;
/// assert_eq!(classify_api(401, body), ApiVerdict::InvalidToken);
/// ```
pub fn classify_api(status: u16, body: &[u8]) -> ApiVerdict {
    if (200..400).contains(&status) {
        return ApiVerdict::Ok;
    }
    if status != 401 || body.len() > MAX_BODY {
        return ApiVerdict::Other;
    }
    match scan_fields(trim_start(body)) {
        Ok(f)
            if [f.code, f.cause, f.error_code]
                .into_iter()
                .flatten()
                .any(|c| is_invalid_token_code(c.raw)) =>
        {
            ApiVerdict::InvalidToken
        }
        _ => ApiVerdict::Other,
    }
}

pub(crate) fn is_failure(status: &str) -> bool {
    status.eq_ignore_ascii_case("failure")
}

/// `snake_case` ASCII, the shape of every OAuth error code (RFC 6749 §5.2 and Zoho's own).
fn is_oauth_code(error: &str) -> bool {
    !error.is_empty() && error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

fn is_invalid_token_code(code: &str) -> bool {
    code.eq_ignore_ascii_case("INVALID_TOKEN") || code.eq_ignore_ascii_case("INVALID_OAUTHTOKEN")
}

/// The verdict for an `error` value (still JSON-escaped) of an answer to `call`.
pub(crate) fn error_verdict(
    status: u16,
    call: Call,
    raw_error: &str,
    raw_status: Option<&str>,
) -> Verdict {
    match raw_error {
        // Decided by the body whatever the status: Zoho has answered it with a 500.
        "invalid_code" => match call {
            Call::Token(Flow::Exchange) => Verdict::ReAuthorize(ReAuthReason::GrantUsedOrExpired),
            Call::Token(Flow::Refresh) => Verdict::ReAuthorize(ReAuthReason::RefreshTokenRevoked),
            // The device code itself is unknown: only a new device flow helps.
            Call::DevicePoll => Verdict::ReAuthorize(ReAuthReason::DeviceCodeExpired),
            // No code or refresh token was sent: re-authorizing fixes nothing.
            _ if status >= 500 => Verdict::Retryable(Fault::ServerError { status }),
            _ => Verdict::BadRequest(diagnostic_text(raw_error)),
        },
        "invalid_client" => Verdict::BadClient {
            error: BadClientKind::InvalidClient,
            wrong_data_center_hint: true,
        },
        "invalid_client_secret" => Verdict::BadClient {
            error: BadClientKind::InvalidClientSecret,
            wrong_data_center_hint: false,
        },
        "missing_org_info" if status < 500 => Verdict::MissingOrgInfo,
        // Zoho's "too many grant codes" on an exchange. On a refresh or client credentials no
        // grant code is involved: the closest reading is the throttle, whose own `error` is
        // "Access Denied"; waiting its window is gentler than backing off from one second, which
        // could prolong a block. (A device poll reads its own `access_denied` before this.)
        "access_denied" if status < 500 => match call {
            Call::Token(Flow::Exchange) => Verdict::TooManyGrantCodes,
            Call::Token(_) => Verdict::Throttled,
            _ => Verdict::BadRequest(diagnostic_text(raw_error)),
        },
        // An OAuth error code (`invalid_token`, `unsupported_grant_type`…) is a verdict on the
        // request, whatever `status` says.
        code if is_oauth_code(code) && status < 500 => Verdict::BadRequest(diagnostic_text(code)),
        // The throttle: `status:"failure"` with a human text instead of a code: "Access Denied"
        // in English, localized elsewhere ("拒绝访问"), so the text itself is not compared.
        _ if raw_status.is_some_and(is_failure) => Verdict::Throttled,
        // A gateway's own JSON error on a 5xx is a server fault, not a verdict on our request.
        _ if status >= 500 => Verdict::Retryable(Fault::ServerError { status }),
        _ => Verdict::BadRequest(diagnostic_text(raw_error)),
    }
}

/// Zoho's `error` text for [`Verdict::BadRequest`]: unescaped, and cut at a character boundary
/// to `N` bytes. It is diagnostic text, never stored or sent back, so cutting it loses nothing.
pub(crate) fn diagnostic_text<const N: usize>(raw: &str) -> heapless::String<N> {
    let mut out = heapless::String::new();
    let _ = unescape(raw, |piece| {
        for c in piece.chars() {
            if out.push(c).is_err() {
                return Err(());
            }
        }
        Ok(())
    });
    out
}

/// Check size and shape, then parse a JSON object with `parse`; a fault is classified before
/// any parsing.
#[inline(always)]
pub(crate) fn parse_object<'a, T>(
    status: u16,
    body: &'a [u8],
    parse: impl FnOnce(&'a [u8]) -> Result<T, Verdict>,
) -> Result<T, Verdict> {
    if body.len() > MAX_BODY {
        return Err(Verdict::Retryable(Fault::Oversized));
    }
    let server_error = Verdict::Retryable(Fault::ServerError { status });
    let body = trim_start(body);
    match body.first() {
        None if status >= 500 => Err(server_error),
        None => Err(Verdict::Retryable(Fault::Empty)),
        Some(b'<') => Err(Verdict::Retryable(Fault::Html { status })),
        // `map_err` leaves the `Ok` value in place: a `match` rebuilding it cost a copy of the
        // fields per answer.
        Some(b'{') => parse(body).map_err(|e| if status >= 500 { server_error } else { e }),
        Some(_) if status >= 500 => Err(server_error),
        // A rate limiter in front of Zoho answering in its own words.
        Some(_) if status == 429 => Err(Verdict::Throttled),
        Some(_) => Err(Verdict::Malformed(Malformed::NotJson)),
    }
}

/// Skip leading JSON whitespace and a UTF-8 byte-order mark.
pub(crate) fn trim_start(body: &[u8]) -> &[u8] {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(body.len());
    &body[start..]
}

/// Walk the entries of the JSON object `body`, handing each key (raw) and value to `entry`:
/// the one JSON reading loop of every parser. A cut body is [`Fault::Truncated`], anything that
/// is not one object [`Malformed::NotJson`].
#[inline(always)]
pub(crate) fn scan_object<'a>(
    body: &'a [u8],
    mut entry: impl FnMut(&'a [u8], Value<'a>) -> Result<(), Verdict>,
) -> Result<(), Verdict> {
    let mut scanner = Scanner::new(body).map_err(scan_verdict)?;
    while let Some((key, value)) = scanner.next_entry().map_err(scan_verdict)? {
        entry(key, value)?;
    }
    Ok(())
}

/// A cut body is [`Fault::Truncated`], anything that is not one object [`Malformed::NotJson`].
fn scan_verdict(e: ScanError) -> Verdict {
    match e {
        ScanError::Eof => Verdict::Retryable(Fault::Truncated),
        ScanError::Syntax => Verdict::Malformed(Malformed::NotJson),
    }
}

/// The fields of a token answer, still JSON-escaped and borrowed from the body.
#[derive(Default)]
pub(crate) struct TokenFields<'a> {
    pub(crate) access_token: Option<Str<'a>>,
    pub(crate) refresh_token: Option<Str<'a>>,
    pub(crate) api_domain: Option<Str<'a>>,
    pub(crate) scope: Option<Str<'a>>,
    pub(crate) expires_in: Option<u64>,
    pub(crate) expires_in_sec: Option<u64>,
    pub(crate) error: Option<&'a str>,
    pub(crate) status: Option<&'a str>,
}

/// Scan a token answer into [`TokenFields`] in one pass; other keys' values are skipped. Last
/// value wins for a repeated key. The hot path of every refresh, so its loop is written out
/// rather than shared through [`scan_object`]: with `codegen-units = 1` the shared loop measured
/// about 3% more instructions per answer (callgrind).
#[inline(always)]
pub(crate) fn scan_token_fields(body: &[u8]) -> Result<TokenFields<'_>, Verdict> {
    let mut f = TokenFields::default();
    let mut scanner = Scanner::new(body).map_err(scan_verdict)?;
    while let Some((key, value)) = scanner.next_entry().map_err(scan_verdict)? {
        match key {
            b"access_token" => f.access_token = text_value("access_token", value)?,
            b"refresh_token" => f.refresh_token = text_value("refresh_token", value)?,
            b"api_domain" => f.api_domain = text_value("api_domain", value)?,
            b"scope" => f.scope = text_value("scope", value)?,
            b"expires_in" => f.expires_in = bounded_value("expires_in", value)?,
            b"expires_in_sec" => f.expires_in_sec = bounded_value("expires_in_sec", value)?,
            b"error" => f.error = text_value("error", value)?.map(|s| s.raw),
            // Loose: some gateways answer a number.
            b"status" => f.status = loose_value(value).map(|s| s.raw),
            _ => {}
        }
    }
    Ok(f)
}

/// A string field's value: a string, or `null` for absent; any other type is wrong.
pub(crate) fn text_value<'a>(
    field: &'static str,
    value: Value<'a>,
) -> Result<Option<Str<'a>>, Verdict> {
    match value {
        Value::Str(s) => Ok(Some(s)),
        Value::Null => Ok(None),
        _ => Err(Verdict::Malformed(Malformed::WrongType(field))),
    }
}

/// A loosely typed field's value: a string if it is one; other types count as absent (`code` is
/// a number in some products, `status` in some gateways).
pub(crate) fn loose_value(value: Value<'_>) -> Option<Str<'_>> {
    match value {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

/// A number field's value: an unsigned integer, or `null` for absent; anything else is wrong.
pub(crate) fn number_value(field: &'static str, value: Value<'_>) -> Result<Option<u64>, Verdict> {
    match value {
        Value::Int(n) => Ok(Some(n)),
        Value::Null => Ok(None),
        _ => Err(Verdict::Malformed(Malformed::WrongType(field))),
    }
}

/// [`number_value`] for a quantity that is checked against bounds afterwards: an integer beyond
/// `u64` saturates to `u64::MAX`, so that it is refused as out of range, not as the wrong type.
pub(crate) fn bounded_value(field: &'static str, value: Value<'_>) -> Result<Option<u64>, Verdict> {
    match value {
        Value::Int(n) => Ok(Some(n)),
        Value::BigInt => Ok(Some(u64::MAX)),
        Value::Null => Ok(None),
        _ => Err(Verdict::Malformed(Malformed::WrongType(field))),
    }
}

/// Every field of the other Zoho accounts answers (revoke, user info, API errors), still
/// JSON-escaped and borrowed from the body.
#[derive(Default)]
struct Fields<'a> {
    error: Option<Str<'a>>,
    status: Option<Str<'a>>,
    code: Option<Str<'a>>,
    cause: Option<Str<'a>>,
    error_code: Option<Str<'a>>,
    email: Option<Str<'a>>,
    first_name: Option<Str<'a>>,
    last_name: Option<Str<'a>>,
    display_name: Option<Str<'a>>,
    zuid: Option<u64>,
}

/// Scan a flat JSON object into [`Fields`]; nested and unknown values are skipped.
fn scan_fields(body: &[u8]) -> Result<Fields<'_>, Verdict> {
    let mut f = Fields::default();
    scan_object(body, |key, value| {
        match key {
            b"error" => f.error = text_value("error", value)?,
            b"status" => f.status = loose_value(value),
            b"code" => f.code = loose_value(value),
            b"cause" => f.cause = loose_value(value),
            b"errorCode" => f.error_code = loose_value(value),
            b"Email" => f.email = text_value("Email", value)?,
            b"First_Name" => f.first_name = text_value("First_Name", value)?,
            b"Last_Name" => f.last_name = text_value("Last_Name", value)?,
            b"Display_Name" => f.display_name = text_value("Display_Name", value)?,
            b"ZUID" => f.zuid = number_value("ZUID", value)?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(f)
}

/// Unescape the JSON string content `raw`, handing each unescaped piece to `emit` in order.
/// Handles every JSON escape including UTF-16 surrogate pairs; a bad escape is `Err(None)`,
/// an `Err(())` from `emit` is returned as `Err(Some(()))`.
pub(crate) fn unescape(
    raw: &str,
    mut emit: impl FnMut(&str) -> Result<(), ()>,
) -> Result<(), Option<()>> {
    let mut rest = raw;
    while let Some(at) = rest.find('\\') {
        emit(&rest[..at]).map_err(Some)?;
        let esc = &rest[at + 1..];
        let (c, used) = match esc.as_bytes().first().ok_or(None)? {
            b'"' => ('"', 1),
            b'\\' => ('\\', 1),
            b'/' => ('/', 1),
            b'b' => ('\u{8}', 1),
            b'f' => ('\u{c}', 1),
            b'n' => ('\n', 1),
            b'r' => ('\r', 1),
            b't' => ('\t', 1),
            b'u' => {
                let high = hex4(esc.get(1..5).ok_or(None)?).ok_or(None)?;
                if (0xD800..0xDC00).contains(&high) {
                    let low = esc
                        .get(5..7)
                        .filter(|p| *p == "\\u")
                        .and_then(|_| esc.get(7..11))
                        .and_then(hex4)
                        .filter(|low| (0xDC00..0xE000).contains(low))
                        .ok_or(None)?;
                    let c = char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
                        .ok_or(None)?;
                    (c, 11)
                } else {
                    (char::from_u32(high).ok_or(None)?, 5)
                }
            }
            _ => return Err(None),
        };
        emit(c.encode_utf8(&mut [0; 4])).map_err(Some)?;
        rest = &esc[used..];
    }
    emit(rest).map_err(Some)
}

fn hex4(s: &str) -> Option<u32> {
    if s.len() == 4 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        u32::from_str_radix(s, 16).ok()
    } else {
        None
    }
}

/// Unescape `raw` into the empty `out`; longer than `N` is [`Verdict::TooLong`], never truncated.
pub(crate) fn fill_text<const N: usize>(
    out: &mut heapless::String<N>,
    field: &'static str,
    raw: Str<'_>,
) -> Result<(), Verdict> {
    let too_long = |actual| {
        Verdict::TooLong(CapacityError {
            field,
            capacity: N,
            actual,
        })
    };
    if !raw.escaped {
        return out.push_str(raw.raw).map_err(|_| too_long(raw.raw.len()));
    }
    let mut needed = 0usize;
    let result = unescape(raw.raw, |piece| {
        needed += piece.len();
        // Keep counting after an overflow so that the error says how long the value is.
        let _ = out.push_str(piece);
        Ok(())
    });
    if result.is_err() {
        return Err(Verdict::Malformed(Malformed::NotJson));
    }
    if needed > N {
        return Err(too_long(needed));
    }
    Ok(())
}

/// [`fill_text`] for an optional field, in place; an empty string counts as absent.
pub(crate) fn fill_optional<const N: usize>(
    out: &mut Option<heapless::String<N>>,
    field: &'static str,
    raw: Option<Str<'_>>,
) -> Result<(), Verdict> {
    match raw {
        Some(raw) if !raw.raw.is_empty() => {
            fill_text(out.insert(heapless::String::new()), field, raw)
        }
        _ => Ok(()),
    }
}

/// [`fill_text`] into the empty `out` when `raw` is present; absent leaves it empty.
fn fill_present<const N: usize>(
    out: &mut heapless::String<N>,
    field: &'static str,
    raw: Option<Str<'_>>,
) -> Result<(), Verdict> {
    match raw {
        Some(raw) => fill_text(out, field, raw),
        None => Ok(()),
    }
}

/// Unescape `raw` into a [`Secret`]; the common case (no escapes) copies once. A token goes into
/// a header line: anything but visible ASCII is [`Malformed::ForbiddenCharacter`].
#[inline(always)]
pub(crate) fn secret<const N: usize>(
    field: &'static str,
    raw: Str<'_>,
) -> Result<Secret<N>, Verdict> {
    if !raw.escaped {
        check_token_chars(field, raw.raw.as_bytes())?;
        return Secret::new(field, raw.raw).map_err(Verdict::TooLong);
    }
    unescaped_secret(field, raw.raw)
}

/// [`secret`] of a token written with escapes (rare: Zoho's tokens are plain ASCII).
#[inline(never)]
fn unescaped_secret<const N: usize>(field: &'static str, raw: &str) -> Result<Secret<N>, Verdict> {
    let mut buf = [0u8; N];
    let (mut len, mut needed) = (0usize, 0usize);
    let result = unescape(raw, |piece| {
        needed += piece.len();
        if needed <= N {
            buf[len..needed].copy_from_slice(piece.as_bytes());
            len = needed;
        }
        Ok(())
    });
    let made = match result {
        Err(_) => Err(Verdict::Malformed(Malformed::NotJson)),
        Ok(()) if needed > N => Err(Verdict::TooLong(CapacityError {
            field,
            capacity: N,
            actual: needed,
        })),
        // Whole UTF-8 pieces were copied, so this cannot fail; stay total anyway.
        Ok(()) => check_token_chars(field, &buf[..len]).and_then(|()| {
            core::str::from_utf8(&buf[..len])
                .map_err(|_| Verdict::Malformed(Malformed::NotJson))
                .and_then(|s| Secret::new(field, s).map_err(Verdict::TooLong))
        }),
    };
    // The intermediate copy held the secret too.
    zeroize::Zeroize::zeroize(&mut buf);
    made
}

/// Refuse a token that is not all visible ASCII (`!` to `~`), naming the first other character.
/// The check is inlined on the hot path; naming the character is not.
#[inline(always)]
fn check_token_chars(field: &'static str, token: &[u8]) -> Result<(), Verdict> {
    if crate::secret::is_token_text(token) {
        return Ok(());
    }
    Err(forbidden_in_token(field, token))
}

#[cold]
#[inline(never)]
fn forbidden_in_token(field: &'static str, token: &[u8]) -> Verdict {
    let found = token.iter().find_map(|&b| match b {
        0x21..=0x7E => None,
        b'\r' | b'\n' => Some(ForbiddenChar::LineBreak),
        b' ' => Some(ForbiddenChar::Blank),
        0x80.. => Some(ForbiddenChar::NonAscii),
        _ => Some(ForbiddenChar::Control),
    });
    Verdict::Malformed(Malformed::ForbiddenCharacter {
        field,
        found: found.unwrap_or(ForbiddenChar::Control),
    })
}

/// Refuse a value that holds a control character or a blank; other non-ASCII may stay.
#[inline(always)]
pub(crate) fn check_domain_chars(field: &'static str, value: &str) -> Result<(), Verdict> {
    if crate::secret::is_token_text(value.as_bytes()) {
        return Ok(());
    }
    forbidden_in_text(field, value)
}

#[cold]
#[inline(never)]
fn forbidden_in_text(field: &'static str, value: &str) -> Result<(), Verdict> {
    let found = value.chars().find_map(|c| match c {
        '\r' | '\n' => Some(ForbiddenChar::LineBreak),
        c if c.is_control() => Some(ForbiddenChar::Control),
        c if c.is_whitespace() => Some(ForbiddenChar::Blank),
        _ => None,
    });
    match found {
        Some(found) => Err(Verdict::Malformed(Malformed::ForbiddenCharacter {
            field,
            found,
        })),
        None => Ok(()),
    }
}
