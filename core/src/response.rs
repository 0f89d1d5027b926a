//! Zoho's response dialect: every accounts-server answer becomes one typed [`Verdict`] or a value.

use core::fmt;
use core::time::Duration;

use crate::cap;
use crate::scan::{ScanError, Scanner, Str, Value};
use crate::secret::{CapacityError, Secret};

/// Bodies larger than this are refused as [`Fault::Oversized`] without being parsed.
pub const MAX_BODY: usize = 16 * 1024;

/// Which token call a response answers: the same `error` means different things in each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// A grant code was exchanged for tokens.
    Exchange,
    /// A refresh token was exchanged for an access token.
    Refresh,
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

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Retryable(fault) => write!(f, "{fault}: retry after a backoff; the tokens are unaffected"),
            Self::Throttled => f.write_str(
                "Zoho throttled this client (\"Access Denied\", too many requests): wait about ten minutes \
                 before the next token request, since every retry during the block prolongs it",
            ),
            Self::TooManyGrantCodes => f.write_str(
                "Zoho refuses more than 10 grant codes per 10 minutes for this client (access_denied): \
                 wait up to 10 minutes, then generate a new code and exchange it at once",
            ),
            Self::ReAuthorize(reason) => reason.fmt(f),
            Self::BadClient { error: BadClientKind::InvalidClient, wrong_data_center_hint: true } => f.write_str(
                "Zoho does not know this client at this data centre: check the data centre (accounts server) \
                 matches where the client was registered, or enable multi-DC in the API console",
            ),
            Self::BadClient { error: BadClientKind::InvalidClient, wrong_data_center_hint: false } => f.write_str(
                "Zoho does not know this client id: copy the client id from the API console",
            ),
            Self::BadClient { error: BadClientKind::InvalidClientSecret, .. } => f.write_str(
                "Zoho refused the client secret: copy the client secret of this client from the API console",
            ),
            Self::BadRequest(error) => write!(
                f,
                "Zoho refused the request with error \"{error}\": check the client's configuration \
                 (redirect URI, grant type, scopes) in the API console"
            ),
            Self::MissingScope => f.write_str(
                "the access token lacks the scope aaaserver.profile.READ needed for user info: \
                 authorize again with that scope added",
            ),
            Self::InvalidAccessToken => f.write_str(
                "Zoho refused the access token (INVALID_OAUTHTOKEN): refresh it and retry once; \
                 if it is refused again, authorize again",
            ),
            // Says what to do itself.
            Self::Malformed(m @ Malformed::ForbiddenCharacter { .. }) => m.fmt(f),
            Self::Malformed(m) => write!(
                f,
                "the answer is not one Zoho gives ({m}): check that the accounts server is Zoho's; \
                 retrying later may help"
            ),
            Self::TooLong(e) => write!(f, "a field of Zoho's answer does not fit: {e}"),
            Self::NotInFlight => f.write_str(
                "a response was handed to the machine while no request was in flight: \
                 send a request only after poll returns Poll::Send, and hand over its answer once",
            ),
        }
    }
}

impl core::error::Error for Verdict {}

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

impl fmt::Display for ReAuthReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::GrantUsedOrExpired => {
                "the grant code was already used or has expired (invalid_code): \
                 generate a new one (API console or authorization redirect) and exchange it at once"
            }
            Self::RefreshTokenRevoked => {
                "the refresh token was revoked or evicted (invalid_code): authorize again to get a new one; \
                 the old one is kept until then"
            }
            Self::NoRefreshToken => {
                "the grant gave no refresh token: authorize again with access_type=offline \
                 (and prompt=consent if this user authorized before)"
            }
        })
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
                "Zoho answered a token with characters a token cannot have: {field} holds {found}; \
                 this is not a Zoho answer, check proxies"
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

/// Parse the answer to a grant exchange ([`Flow::Exchange`]) or a refresh ([`Flow::Refresh`]).
///
/// Decides by the body, never by the status alone: Zoho answers errors with HTTP 200, the
/// throttle with 200 or 400, and proxies answer with HTML. A success without `refresh_token` is
/// `Ok` with `refresh_token: None` even on an exchange (an `access_type=online` grant); the
/// [`Machine`](crate::Machine) decides whether that is enough. `expires_in` is seconds, unless
/// `expires_in_sec` is present (old servers), in which case `expires_in` is milliseconds; when
/// both are missing the token lives 3600 s.
///
/// `{"error":"access_denied"}` is [`Verdict::TooManyGrantCodes`] on an exchange (Zoho's "too many
/// grant codes") and [`Verdict::Throttled`] on a refresh.
///
/// The tokens must be visible ASCII (`!` to `~`) and `api_domain` free of control characters and
/// blanks, since they go into header lines: anything else is [`Malformed::ForbiddenCharacter`].
///
/// ```
/// use zoho_oauth_core::response::{parse_token, Flow, ReAuthReason, Verdict};
///
/// let body = br#"{"access_token":"1000.a1b2","api_domain":"https:\/\/www.zohoapis.eu","token_type":"Bearer","expires_in":3600}"#;
/// let grant = parse_token(Flow::Refresh, 200, body).unwrap();
/// assert_eq!(grant.api_domain.as_deref(), Some("https://www.zohoapis.eu"));
///
/// let revoked = parse_token(Flow::Refresh, 200, br#"{"error":"invalid_code"}"#);
/// assert_eq!(revoked, Err(Verdict::ReAuthorize(ReAuthReason::RefreshTokenRevoked)));
/// ```
pub fn parse_token(flow: Flow, status: u16, body: &[u8]) -> Result<TokenGrant, Verdict> {
    let f = parse_object(status, body, scan_token_fields)?;
    if let Some(error) = f.error {
        return Err(error_verdict(status, Some(flow), error, f.status));
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
        (None, None) => DEFAULT_LIFETIME,
    };
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

/// Parse the answer to a revoke (`POST /oauth/v2/token/revoke`): `{"status":"success"}` is `Ok`.
///
/// An unknown or already revoked token is answered with HTTP 400 and an `error`, which becomes
/// [`Verdict::BadRequest`] with Zoho's text; the throttle is [`Verdict::Throttled`].
pub fn parse_revoke(status: u16, body: &[u8]) -> Result<(), Verdict> {
    let f = parse_object(status, body, parse_fields)?;
    if let Some(error) = f.error {
        return Err(error_verdict(status, None, error, f.status));
    }
    match f.status {
        Some(s) if s.eq_ignore_ascii_case("success") => Ok(()),
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
pub fn parse_user_info(status: u16, body: &[u8]) -> Result<UserInfo, Verdict> {
    let f = parse_object(status, body, parse_fields)?;
    if let Some(cause) = f.cause.or(f.code) {
        if cause.eq_ignore_ascii_case("INVALID_OAUTHSCOPE") {
            return Err(Verdict::MissingScope);
        }
        if is_invalid_token_code(cause) {
            return Err(Verdict::InvalidAccessToken);
        }
        if f.zuid.is_none() {
            return Err(error_verdict(status, None, cause, f.status));
        }
    }
    if let Some(error) = f.error {
        return Err(error_verdict(status, None, error, f.status));
    }
    if f.status.is_some_and(is_failure) {
        return Err(Verdict::Throttled);
    }
    let Some(zuid) = f.zuid else {
        if status >= 500 {
            return Err(Verdict::Retryable(Fault::ServerError { status }));
        }
        return Err(Verdict::Malformed(Malformed::MissingField("ZUID")));
    };
    Ok(UserInfo {
        email: optional_text("Email", f.email)?.unwrap_or_default(),
        zuid,
        first_name: optional_text("First_Name", f.first_name)?.unwrap_or_default(),
        last_name: optional_text("Last_Name", f.last_name)?.unwrap_or_default(),
        display_name: optional_text("Display_Name", f.display_name)?.unwrap_or_default(),
    })
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
    match parse_fields(body) {
        Ok(f)
            if [f.code, f.cause, f.error_code]
                .into_iter()
                .flatten()
                .any(is_invalid_token_code) =>
        {
            ApiVerdict::InvalidToken
        }
        _ => ApiVerdict::Other,
    }
}

/// The lifetime assumed when a token response carries no `expires_in` (seen in the wild).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

fn is_failure(status: &str) -> bool {
    status.eq_ignore_ascii_case("failure")
}

/// `snake_case` ASCII, the shape of every OAuth error code (RFC 6749 §5.2 and Zoho's own).
fn is_oauth_code(error: &str) -> bool {
    !error.is_empty() && error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

fn is_invalid_token_code(code: &str) -> bool {
    code.eq_ignore_ascii_case("INVALID_TOKEN") || code.eq_ignore_ascii_case("INVALID_OAUTHTOKEN")
}

/// The verdict for an `error` value (still JSON-escaped). `flow` is `None` outside token calls.
fn error_verdict(
    status: u16,
    flow: Option<Flow>,
    raw_error: &str,
    raw_status: Option<&str>,
) -> Verdict {
    match raw_error {
        "invalid_code" => Verdict::ReAuthorize(match flow {
            Some(Flow::Refresh) => ReAuthReason::RefreshTokenRevoked,
            _ => ReAuthReason::GrantUsedOrExpired,
        }),
        "invalid_client" => Verdict::BadClient {
            error: BadClientKind::InvalidClient,
            wrong_data_center_hint: true,
        },
        "invalid_client_secret" => Verdict::BadClient {
            error: BadClientKind::InvalidClientSecret,
            wrong_data_center_hint: false,
        },
        // Zoho's "too many grant codes" on an exchange. On a refresh no grant code is involved:
        // the closest reading is the throttle, whose own `error` is "Access Denied"; waiting its
        // window is gentler than backing off from one second, which could prolong a block.
        "access_denied" if status < 500 => match flow {
            Some(Flow::Exchange) => Verdict::TooManyGrantCodes,
            Some(Flow::Refresh) => Verdict::Throttled,
            None => Verdict::BadRequest(diagnostic_text(raw_error)),
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
/// to 64 bytes. It is diagnostic text, never stored or sent back, so cutting it loses nothing.
fn diagnostic_text(raw: &str) -> heapless::String<64> {
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
fn parse_object<'a, T>(
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
        Some(b'{') => match parse(body) {
            Ok(fields) => Ok(fields),
            Err(_) if status >= 500 => Err(server_error),
            Err(e) => Err(e),
        },
        Some(_) if status >= 500 => Err(server_error),
        // A rate limiter in front of Zoho answering in its own words.
        Some(_) if status == 429 => Err(Verdict::Throttled),
        Some(_) => Err(Verdict::Malformed(Malformed::NotJson)),
    }
}

/// Skip leading JSON whitespace and a UTF-8 byte-order mark.
fn trim_start(body: &[u8]) -> &[u8] {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(body.len());
    &body[start..]
}

/// The fields of a token answer, still JSON-escaped and borrowed from the body.
#[derive(Default)]
struct TokenFields<'a> {
    access_token: Option<Str<'a>>,
    refresh_token: Option<Str<'a>>,
    api_domain: Option<Str<'a>>,
    scope: Option<Str<'a>>,
    expires_in: Option<u64>,
    expires_in_sec: Option<u64>,
    error: Option<&'a str>,
    status: Option<&'a str>,
}

/// Scan a token answer into [`TokenFields`] in one pass; other keys' values are skipped.
///
/// Not serde-json-core: its `Deserializer` validates the UTF-8 of each string separately, counts
/// backslashes back from each quote, walks strings byte by byte, and reaches every value through
/// three layers of serde visitors (`Option`, then `deserialize_ignored_any`, then the string), so
/// that it made up most of the cost of a refresh. [`Scanner`] validates the body once and searches
/// strings eight bytes at a time. Last value wins for a repeated key, as before.
fn scan_token_fields(body: &[u8]) -> Result<TokenFields<'_>, Verdict> {
    let scan_verdict = |e| match e {
        ScanError::Eof => Verdict::Retryable(Fault::Truncated),
        ScanError::Syntax => Verdict::Malformed(Malformed::NotJson),
    };
    let mut f = TokenFields::default();
    let mut scanner = Scanner::new(body).map_err(scan_verdict)?;
    while let Some((key, value)) = scanner.next_entry().map_err(scan_verdict)? {
        match key {
            b"access_token" => f.access_token = text_value("access_token", value)?,
            b"refresh_token" => f.refresh_token = text_value("refresh_token", value)?,
            b"api_domain" => f.api_domain = text_value("api_domain", value)?,
            b"scope" => f.scope = text_value("scope", value)?,
            b"expires_in" => f.expires_in = number_value("expires_in", value)?,
            b"expires_in_sec" => f.expires_in_sec = number_value("expires_in_sec", value)?,
            b"error" => f.error = text_value("error", value)?.map(|s| s.raw),
            // Loose: some gateways answer a number.
            b"status" => {
                f.status = match value {
                    Value::Str(s) => Some(s.raw),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    Ok(f)
}

/// A string field's value: a string, or `null` for absent; any other type is wrong.
fn text_value<'a>(field: &'static str, value: Value<'a>) -> Result<Option<Str<'a>>, Verdict> {
    match value {
        Value::Str(s) => Ok(Some(s)),
        Value::Null => Ok(None),
        _ => Err(Verdict::Malformed(Malformed::WrongType(field))),
    }
}

/// A number field's value: an unsigned integer, or `null` for absent; anything else is wrong.
fn number_value(field: &'static str, value: Value<'_>) -> Result<Option<u64>, Verdict> {
    match value {
        Value::Int(n) => Ok(Some(n)),
        Value::Null => Ok(None),
        _ => Err(Verdict::Malformed(Malformed::WrongType(field))),
    }
}

/// Every field of the other Zoho accounts answers (revoke, user info, API errors), still
/// JSON-escaped and borrowed from the body.
#[derive(Default)]
struct Fields<'a> {
    error: Option<&'a str>,
    status: Option<&'a str>,
    code: Option<&'a str>,
    cause: Option<&'a str>,
    error_code: Option<&'a str>,
    email: Option<&'a str>,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    display_name: Option<&'a str>,
    zuid: Option<u64>,
}

/// Parse a flat JSON object into [`Fields`]; nested and unknown values are skipped.
fn parse_fields(body: &[u8]) -> Result<Fields<'_>, Verdict> {
    use serde::de::DeserializeSeed;
    use serde_json_core::de::{Deserializer, Error};

    let mut fields = Fields::default();
    let mut failed_at = None;
    let mut de = Deserializer::new(body, None);
    let parsed = FieldsSeed {
        fields: &mut fields,
        failed_at: &mut failed_at,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    match parsed {
        Ok(_) => Ok(fields),
        Err(
            Error::EofWhileParsingList
            | Error::EofWhileParsingObject
            | Error::EofWhileParsingString
            | Error::EofWhileParsingNumber
            | Error::EofWhileParsingValue,
        ) => Err(Verdict::Retryable(Fault::Truncated)),
        Err(_) => Err(Verdict::Malformed(match failed_at {
            Some(name) => Malformed::WrongType(name),
            None => Malformed::NotJson,
        })),
    }
}

/// Fills [`Fields`]; remembers which known field's value failed to parse.
struct FieldsSeed<'f, 'a> {
    fields: &'f mut Fields<'a>,
    failed_at: &'f mut Option<&'static str>,
}

impl<'de> serde::de::DeserializeSeed<'de> for FieldsSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for FieldsSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Zoho JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        use serde::de::IgnoredAny;

        let f = self.fields;
        while let Some(key) = map.next_key::<&'de str>()? {
            let (name, slot): (&'static str, Slot<'_, 'de>) = match key {
                "error" => ("error", Slot::Text(&mut f.error)),
                "status" => ("status", Slot::Loose(&mut f.status)),
                "code" => ("code", Slot::Loose(&mut f.code)),
                "cause" => ("cause", Slot::Loose(&mut f.cause)),
                "errorCode" => ("errorCode", Slot::Loose(&mut f.error_code)),
                "Email" => ("Email", Slot::Text(&mut f.email)),
                "First_Name" => ("First_Name", Slot::Text(&mut f.first_name)),
                "Last_Name" => ("Last_Name", Slot::Text(&mut f.last_name)),
                "Display_Name" => ("Display_Name", Slot::Text(&mut f.display_name)),
                "ZUID" => ("ZUID", Slot::Number(&mut f.zuid)),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *self.failed_at = Some(name);
            match slot {
                Slot::Text(out) => {
                    *out = match map.next_value::<Option<Loose<'de>>>()? {
                        Some(Loose::Text(s)) => Some(s),
                        None => None,
                        Some(Loose::Other) => return Err(serde::de::Error::custom("wrong type")),
                    }
                }
                Slot::Loose(out) => {
                    *out = match map.next_value::<Option<Loose<'de>>>()? {
                        Some(Loose::Text(s)) => Some(s),
                        _ => None,
                    }
                }
                Slot::Number(out) => *out = map.next_value::<Option<u64>>()?,
            }
            *self.failed_at = None;
        }
        Ok(())
    }
}

/// Where a known field's value goes.
enum Slot<'f, 'a> {
    /// A string (or null); any other type is an error.
    Text(&'f mut Option<&'a str>),
    /// A string if it is one; other types are ignored (`code` is a number in some products).
    Loose(&'f mut Option<&'a str>),
    /// An unsigned integer (or null).
    Number(&'f mut Option<u64>),
}

/// A JSON value that is either a string (kept, still escaped) or anything else (skipped).
enum Loose<'a> {
    Text(&'a str),
    Other,
}

impl<'de> serde::Deserialize<'de> for Loose<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // serde-json-core cannot `deserialize_any`; `ignored_any` hands strings to
        // `visit_borrowed_str` (raw, since no unescape buffer is given) and skips the rest.
        deserializer.deserialize_ignored_any(LooseVisitor)
    }
}

struct LooseVisitor;

impl<'de> serde::de::Visitor<'de> for LooseVisitor {
    type Value = Loose<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Loose<'de>, E> {
        Ok(Loose::Text(s))
    }
    fn visit_unit<E>(self) -> Result<Loose<'de>, E> {
        Ok(Loose::Other)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Loose<'de>, A::Error> {
        use serde::de::IgnoredAny;
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Loose<'de>, A::Error> {
        use serde::de::IgnoredAny;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
}

/// Unescape the JSON string content `raw`, handing each unescaped piece to `emit` in order.
/// Handles every JSON escape including UTF-16 surrogate pairs; a bad escape is `Err(None)`,
/// an `Err(())` from `emit` is returned as `Err(Some(()))`.
fn unescape(raw: &str, mut emit: impl FnMut(&str) -> Result<(), ()>) -> Result<(), Option<()>> {
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

/// Unescape `raw` into a string of capacity `N`; longer is [`Verdict::TooLong`], never truncated.
fn text<const N: usize>(field: &'static str, raw: Str<'_>) -> Result<heapless::String<N>, Verdict> {
    let mut out = heapless::String::new();
    fill_text(&mut out, field, raw)?;
    Ok(out)
}

/// Unescape `raw` into the empty `out`; longer than `N` is [`Verdict::TooLong`], never truncated.
fn fill_text<const N: usize>(
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
fn fill_optional<const N: usize>(
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

/// [`text`] for an optional field found by serde-json-core (which does not say whether the
/// string is escaped); an empty string counts as absent.
fn optional_text<const N: usize>(
    field: &'static str,
    raw: Option<&str>,
) -> Result<Option<heapless::String<N>>, Verdict> {
    match raw {
        Some(raw) if !raw.is_empty() => text(
            field,
            Str {
                raw,
                escaped: raw.contains('\\'),
            },
        )
        .map(Some),
        _ => Ok(None),
    }
}

/// Unescape `raw` into a [`Secret`]; the common case (no escapes) copies once. A token goes into
/// a header line: anything but visible ASCII is [`Malformed::ForbiddenCharacter`].
#[inline(always)]
fn secret<const N: usize>(field: &'static str, raw: Str<'_>) -> Result<Secret<N>, Verdict> {
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
fn check_token_chars(field: &'static str, token: &[u8]) -> Result<(), Verdict> {
    if crate::secret::is_token_text(token) {
        return Ok(());
    }
    let found = token.iter().find_map(|&b| match b {
        0x21..=0x7E => None,
        b'\r' | b'\n' => Some(ForbiddenChar::LineBreak),
        b' ' => Some(ForbiddenChar::Blank),
        0x80.. => Some(ForbiddenChar::NonAscii),
        _ => Some(ForbiddenChar::Control),
    });
    Err(Verdict::Malformed(Malformed::ForbiddenCharacter {
        field,
        found: found.unwrap_or(ForbiddenChar::Control),
    }))
}

/// Refuse a value that holds a control character or a blank; other non-ASCII may stay.
fn check_domain_chars(field: &'static str, value: &str) -> Result<(), Verdict> {
    if crate::secret::is_token_text(value.as_bytes()) {
        return Ok(());
    }
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
