//! `TokenSet`: what a store keeps for one credential, and its versioned byte encoding.

use core::fmt;
use core::time::Duration;

use crate::cap;
use crate::machine::Config;
use crate::request::BufferTooSmall;
use crate::response::{ReAuthReason, TokenGrant, DEFAULT_ACCESS_TOKEN_LIFETIME};
use crate::secret::{CapacityError, Secret};
use crate::time::Instant;

/// The recent mint times of one refresh token (at most [`cap::MINT_LOG`]), oldest first.
/// Travels inside [`TokenSet`] so that every process sharing a store shares one budget.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MintLog {
    times: heapless::Vec<Instant, { cap::MINT_LOG }>,
}

/// Which grant a credential came from: how it was first obtained, and so how a new access token
/// is minted (a refresh, or asking again with the client's own credentials).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GrantKind {
    /// Not recorded: the token set was written by encoding version 1, which did not say. It holds
    /// a refresh token, so it behaves as [`GrantKind::RefreshToken`].
    #[default]
    Unknown,
    /// A grant code was exchanged: a Self Client code or a browser login ("Login with Zoho").
    AuthorizationCode,
    /// The device flow (a person approved a user code on another device).
    Device,
    /// A refresh token obtained elsewhere was added (by hand, or imported from an SDK's store).
    RefreshToken,
    /// Client credentials: no refresh token; a new access token is asked for with the client id,
    /// secret, scope and `soid` when the current one is due.
    ClientCredentials,
}

impl GrantKind {
    /// A short stable name: `unknown`, `authorization_code`, `device`, `refresh_token`,
    /// `client_credentials`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::AuthorizationCode => "authorization_code",
            Self::Device => "device",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }

    /// Whether tokens of this grant are minted again from a refresh token (everything but
    /// [`GrantKind::ClientCredentials`]).
    pub const fn refreshes(self) -> bool {
        !matches!(self, Self::ClientCredentials)
    }

    const fn code(self) -> u8 {
        match self {
            Self::Unknown => 0,
            Self::AuthorizationCode => 1,
            Self::Device => 2,
            Self::RefreshToken => 3,
            Self::ClientCredentials => 4,
        }
    }

    const fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::Unknown,
            1 => Self::AuthorizationCode,
            2 => Self::Device,
            3 => Self::RefreshToken,
            4 => Self::ClientCredentials,
            _ => return None,
        })
    }
}

/// Why token requests of a credential are paused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PauseReason {
    /// Backing off after faults (exponentially, with jitter).
    Backoff,
    /// Zoho throttled this credential ("Access Denied", or too many grant codes): asking during
    /// the window prolongs it.
    Throttled,
}

/// The [`Machine`](crate::Machine)'s wait state of one credential. It travels inside the
/// [`TokenSet`], so that every process and machine sharing a store honours what Zoho said to
/// any one of them: during a throttle window nobody asks Zoho, a backoff is shared, and a refresh
/// token Zoho refused is not tried again by the next process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hold {
    /// No token request before this instant, and why.
    pub pause: Option<(Instant, PauseReason)>,
    /// Consecutive failed token requests: the exponent of the backoff.
    pub failures: u32,
    /// Zoho refused the grant (the refresh token was revoked, …): a person must authorize again.
    pub reauthorize: Option<ReAuthReason>,
}

impl Hold {
    /// The pause, if it is still running at `now`.
    pub fn paused_at(&self, now: Instant) -> Option<(Instant, PauseReason)> {
        self.pause.filter(|(until, _)| now < *until)
    }
}

/// Everything known about one credential: how it was obtained, the refresh token (none for
/// client credentials), the current access token (if any) with its expiry, where its APIs live,
/// its scopes, the mint budget, and the machine's wait state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSet {
    /// Which grant the credential came from.
    pub grant: GrantKind,
    /// The long-lived refresh token; `None` only for [`GrantKind::ClientCredentials`]. Never
    /// dropped by an error path.
    pub refresh_token: Option<Secret<{ cap::REFRESH_TOKEN }>>,
    /// The current access token, if one was minted.
    pub access_token: Option<Secret<{ cap::ACCESS_TOKEN }>>,
    /// When the access token was minted (meaningful only with `access_token`).
    pub issued_at: Instant,
    /// When the access token expires (meaningful only with `access_token`).
    pub expires_at: Instant,
    /// The `api_domain` of the last token response; empty when Zoho did not send one.
    pub api_domain: heapless::String<{ cap::ORIGIN }>,
    /// The granted scopes, space-separated as Zoho returns them; empty when unknown. For client
    /// credentials, the scopes asked for (comma-separated, as sent).
    pub scope: heapless::String<{ cap::SCOPE }>,
    /// For client credentials, the `soid` sent (`ZohoCRM.<org id>`); empty otherwise.
    pub soid: heapless::String<{ cap::SOID }>,
    /// Recent mint times: the rolling budget.
    pub mints: MintLog,
    /// The machine's wait state (throttle window, backoff, needs authorization).
    pub hold: Hold,
}

/// A refresh token or an access token given to [`TokenSet`]'s constructors that a store could not
/// keep: longer than its capacity, or with characters a token never has (a header line would
/// split on them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenTextError {
    /// Longer than the field's capacity.
    TooLong(CapacityError),
    /// Empty.
    Empty {
        /// Which field.
        field: &'static str,
    },
    /// A character outside visible ASCII (`!` to `~`): a blank, a line break, a control or a
    /// non-ASCII character, e.g. an ellipsis copied from documentation.
    NotTokenText {
        /// Which field.
        field: &'static str,
    },
}

impl fmt::Display for TokenTextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong(e) => write!(f, "{e}"),
            Self::Empty { field } => write!(f, "the {field} is empty: paste the whole value"),
            Self::NotTokenText { field } => write!(
                f,
                "the {field} holds a character a Zoho token never has (a blank, a line break, a control or \
                 non-ASCII character such as an ellipsis): paste the whole token exactly as Zoho shows it"
            ),
        }
    }
}

impl core::error::Error for TokenTextError {}

/// Check `value` as token text for `field` and wrap it: visible ASCII only, not empty, within
/// capacity. The rule every token, code and secret entering the library goes through.
pub fn token_secret<const N: usize>(
    field: &'static str,
    value: &str,
) -> Result<Secret<N>, TokenTextError> {
    if value.is_empty() {
        return Err(TokenTextError::Empty { field });
    }
    let secret = Secret::new(field, value).map_err(TokenTextError::TooLong)?;
    if !crate::secret::is_token_text(value.as_bytes()) {
        return Err(TokenTextError::NotTokenText { field });
    }
    Ok(secret)
}

/// The stored bytes are not a `TokenSet` this version can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not our format (bad magic).
    NotATokenSet,
    /// Written by a newer version of this crate.
    FutureVersion {
        /// The version found.
        found: u8,
    },
    /// Cut short, or a length that points past the end.
    Truncated,
    /// A field is not valid UTF-8 or is longer than its capacity.
    Corrupt,
}

impl MintLog {
    /// Remember a mint at `at`, keeping the log ordered (a clock may step back) and only the
    /// newest [`cap::MINT_LOG`] entries: older ones can no longer decide the budget.
    pub fn record(&mut self, at: Instant) {
        // A mint recorded further ahead than any skew between clocks was recorded by a clock
        // running ahead: its real time is unknown, and kept it would push this real mint out of a
        // full log (see `in_window`).
        self.times
            .retain(|t| *t <= at.saturating_add(CLOCK_SKEW_TOLERANCE));
        let pos = self
            .times
            .iter()
            .rposition(|t| *t <= at)
            .map_or(0, |i| i + 1);
        if self.times.is_full() {
            if pos == 0 {
                // Older than everything kept: it cannot matter to the budget.
                return;
            }
            self.times.remove(0);
            let _ = self.times.insert(pos - 1, at);
        } else {
            let _ = self.times.insert(pos, at);
        }
    }

    /// How many mints happened strictly after `since`.
    pub fn count_since(&self, since: Instant) -> usize {
        self.times.iter().filter(|t| **t > since).count()
    }

    /// The remembered mint times, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = Instant> + '_ {
        self.times.iter().copied()
    }

    /// How many mint times are remembered.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether no mint is remembered.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The mints still inside the rolling `window` at `now` (`t + window > now`), oldest first.
    /// Computed without `now - window`, which would saturate near the epoch.
    ///
    /// Mints recorded further ahead of `now` than [`CLOCK_SKEW_TOLERANCE`] are left out: a clock
    /// ran ahead when they were recorded (or went back since), their real time is unknown, and
    /// counting them would block the credential until the clock catches up — a day, after a day's
    /// jump. Left out, they can cost at most one request over Zoho's own limit, whose throttle
    /// answer the machine then honours.
    ///
    /// The log keeps ten mints and forgets the oldest, judged by the clock of the moment. Mints
    /// recorded while a clock ran ahead may thus have pushed out older ones that, once the clock
    /// has stepped back, fall inside its window again: by that stepped-back clock a window can
    /// then seem to hold more than the budget (the fuzz seed
    /// `machine/clock_back_full_log_evicted_mints_now_in_window`). By real time — Zoho's clock,
    /// which did not step — the forgotten mints were outside the window when they were forgotten,
    /// so the budget held; only a clock that jumps while mints are being recorded breaks that,
    /// and Zoho's throttle answer, which the machine honours, is the backstop.
    pub(crate) fn in_window(&self, now: Instant, window: Duration) -> &[Instant] {
        let first = self
            .times
            .iter()
            .position(|t| t.saturating_add(window) > now)
            .unwrap_or(self.times.len());
        let last = self
            .times
            .iter()
            .rposition(|t| *t <= now.saturating_add(CLOCK_SKEW_TOLERANCE))
            .map_or(0, |i| i + 1);
        &self.times[first..last.max(first)]
    }
}

/// How far in the future a token's `issued_at` may be and its age still be trusted: clocks of a
/// fleet sharing a store differ a little. Beyond it (a clock set back by an hour, a token minted
/// while a clock ran a day ahead) the token's real expiry is unknown and it is not served.
pub const CLOCK_SKEW_TOLERANCE: Duration = Duration::from_secs(300);

/// Whether a token issued at `issued_at` has a known age at `now` (see [`CLOCK_SKEW_TOLERANCE`]).
pub fn age_known(issued_at: Instant, now: Instant) -> bool {
    issued_at <= now.saturating_add(CLOCK_SKEW_TOLERANCE)
}

/// The longest access-token lifetime accepted from a stored row (an SDK file or table): an
/// expiry further away than this is not one Zoho gave, and the access token is dropped (the
/// refresh token is kept, so the next call mints a new one).
pub const MAX_STORED_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// What [`TokenSet::from_sdk_row`] did not keep from a row, besides what it stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdkRowNote {
    /// The row had an access token but no `expiry_time`: its lifetime is unknown, so it was
    /// dropped (the next call refreshes).
    AccessTokenWithoutExpiry,
    /// The row's `expiry_time` is more than [`MAX_STORED_LIFETIME`] away: not one Zoho gave. The
    /// access token was dropped.
    ExpiryTooFar,
}

impl fmt::Display for SdkRowNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AccessTokenWithoutExpiry => {
                "its access token has no expiry_time, so it was dropped (a new one is minted on first use)"
            }
            Self::ExpiryTooFar => {
                "its expiry_time is more than a day away, which Zoho never gives, so the access token \
                 was dropped (a new one is minted on first use)"
            }
        })
    }
}

impl TokenSet {
    /// The longest encoding [`TokenSet::encode`] produces: every field at its capacity.
    pub const MAX_ENCODED_LEN: usize = MAGIC.len()
        + 1 // version
        + 1 // grant
        + 1 + 2 + cap::REFRESH_TOKEN
        + 1 + 2 + cap::ACCESS_TOKEN
        + 8 + 8 // issued_at, expires_at
        + 2 + cap::ORIGIN
        + 2 + cap::SCOPE
        + 2 + cap::SOID
        + 1 + 8 * cap::MINT_LOG
        + HOLD_LEN;

    /// A token set holding only a refresh token obtained elsewhere ([`GrantKind::RefreshToken`]:
    /// no access token yet, no mints recorded). The token must be visible ASCII.
    ///
    /// ```
    /// use zoho_oauth_core::{Instant, TokenSet};
    ///
    /// let t = TokenSet::new("1000.3f2a.refresh").unwrap();
    /// assert_eq!(t.access_token(Instant::from_millis(0)), None);
    /// assert!(TokenSet::new("1000.3f2a…").is_err()); // an ellipsis copied from documentation
    /// ```
    pub fn new(refresh_token: &str) -> Result<Self, TokenTextError> {
        let mut t = Self::empty(GrantKind::RefreshToken);
        t.refresh_token = Some(token_secret("refresh token", refresh_token)?);
        Ok(t)
    }

    /// A client-credentials credential: no token yet; the [`Machine`](crate::Machine) asks for one
    /// with `scope` (comma-separated) and `soid` (`ZohoCRM.<org id>`, empty when the client
    /// reaches one org only).
    pub fn client_credentials(scope: &str, soid: &str) -> Result<Self, CapacityError> {
        let mut t = Self::empty(GrantKind::ClientCredentials);
        t.scope = heapless::String::try_from(scope).map_err(|_| CapacityError {
            field: "scope",
            capacity: cap::SCOPE,
            actual: scope.len(),
        })?;
        t.soid = heapless::String::try_from(soid).map_err(|_| CapacityError {
            field: "soid",
            capacity: cap::SOID,
            actual: soid.len(),
        })?;
        Ok(t)
    }

    /// The credential a successful grant answer (`grant`, received at `now`) starts: an exchange
    /// ([`GrantKind::AuthorizationCode`]) or a device flow ([`GrantKind::Device`]). The first
    /// mint is recorded. Without a refresh token (an `access_type=online` grant) there is nothing
    /// to keep: [`ReAuthReason::NoRefreshToken`].
    pub fn from_grant(
        grant: TokenGrant,
        now: Instant,
        kind: GrantKind,
    ) -> Result<Self, ReAuthReason> {
        let refresh = grant.refresh_token.ok_or(ReAuthReason::NoRefreshToken)?;
        let mut t = Self::empty(kind);
        t.refresh_token = Some(refresh);
        t.access_token = Some(grant.access_token);
        t.issued_at = now;
        t.expires_at = now.saturating_add(grant.expires_in);
        t.api_domain = grant.api_domain.unwrap_or_default();
        t.scope = grant.scope.unwrap_or_default();
        t.mints.record(now);
        Ok(t)
    }

    /// A row of the official SDKs' token store (their CSV file or `oauthtoken` table):
    /// `expiry_ms` is their `expiry_time` (epoch milliseconds). An access token is kept only with
    /// an expiry at most [`MAX_STORED_LIFETIME`] after `now`, its issue time assumed
    /// [`DEFAULT_ACCESS_TOKEN_LIFETIME`] before the expiry; otherwise it is dropped and the note says
    /// why. Which data centre the row belongs to is [`Origin::region_of_api_domain`]'s rule.
    ///
    /// [`Origin::region_of_api_domain`]: crate::Origin::region_of_api_domain
    pub fn from_sdk_row(
        refresh_token: &str,
        access_token: Option<&str>,
        expiry_ms: Option<u64>,
        api_domain: &str,
        now: Instant,
    ) -> Result<(Self, Option<SdkRowNote>), TokenTextError> {
        let mut t = Self::new(refresh_token)?;
        t.api_domain = heapless::String::try_from(api_domain).map_err(|_| {
            TokenTextError::TooLong(CapacityError {
                field: "api_domain",
                capacity: cap::ORIGIN,
                actual: api_domain.len(),
            })
        })?;
        let note = match (access_token.filter(|a| !a.is_empty()), expiry_ms) {
            (None, _) => None,
            (Some(_), None) => Some(SdkRowNote::AccessTokenWithoutExpiry),
            (Some(_), Some(ms))
                if Instant::from_millis(ms).saturating_duration_since(now)
                    > MAX_STORED_LIFETIME =>
            {
                Some(SdkRowNote::ExpiryTooFar)
            }
            (Some(access), Some(ms)) => {
                t.access_token = Some(token_secret("access token", access)?);
                t.expires_at = Instant::from_millis(ms);
                t.issued_at = t.expires_at.saturating_sub(DEFAULT_ACCESS_TOKEN_LIFETIME);
                None
            }
        };
        Ok((t, note))
    }

    fn empty(grant: GrantKind) -> Self {
        Self {
            grant,
            refresh_token: None,
            access_token: None,
            issued_at: Instant::default(),
            expires_at: Instant::default(),
            api_domain: heapless::String::new(),
            scope: heapless::String::new(),
            soid: heapless::String::new(),
            mints: MintLog::default(),
            hold: Hold::default(),
        }
    }

    /// The access token, if there is one and `now` is before its expiry (never at or after it).
    ///
    /// A token minted "in the future" (its `issued_at` later than `now` by more than
    /// [`CLOCK_SKEW_TOLERANCE`]: the clock went back, or ran ahead when it was minted) has an
    /// unknown age, so it is not served either: the next poll mints a new one.
    pub fn access_token(&self, now: Instant) -> Option<&str> {
        match &self.access_token {
            Some(token)
                if now < self.expires_at && age_known(self.issued_at, now) && !token.is_empty() =>
            {
                Some(token.expose())
            }
            _ => None,
        }
    }

    /// The last four characters of the refresh token (or, for client credentials, of the access
    /// token), to tell credentials apart in listings without showing a secret.
    pub fn hint(&self) -> &str {
        match (&self.refresh_token, &self.access_token) {
            (Some(r), _) => r.hint(),
            (None, Some(a)) => a.hint(),
            (None, None) => "",
        }
    }

    /// How many more mints the rolling budget allows at `now`: `config.budget_mints` (at most
    /// [`cap::MINT_LOG`]) minus the mints within the last `config.budget_window`.
    pub fn mints_left(&self, now: Instant, config: &Config) -> usize {
        config
            .effective_budget()
            .saturating_sub(self.mints.in_window(now, config.budget_window).len())
    }

    /// Encode into `buf` (at most [`TokenSet::MAX_ENCODED_LEN`] bytes): `b"ZOT"`, version 2, the
    /// grant byte, then the fields in order — strings as a little-endian `u16` length and the
    /// bytes, the refresh and access tokens each behind a presence byte, times as little-endian
    /// `u64` milliseconds, the mint log as a count byte and its times, and the hold (pause kind
    /// byte, until, failures as `u32`, re-authorization reason byte). On [`BufferTooSmall`] the
    /// buffer is untouched.
    ///
    /// The encoding holds the tokens in clear: store it where only the owner can read it.
    pub fn encode<'b>(&self, buf: &'b mut [u8]) -> Result<&'b [u8], BufferTooSmall> {
        let required = self.encoded_len();
        if buf.len() < required {
            return Err(BufferTooSmall { required });
        }
        let mut w = Writer { buf, at: 0 };
        w.put(MAGIC);
        w.put(&[VERSION, self.grant.code()]);
        w.optional(self.refresh_token.as_ref().map(|t| t.expose()));
        w.optional(self.access_token.as_ref().map(|t| t.expose()));
        w.put(&self.issued_at.as_millis().to_le_bytes());
        w.put(&self.expires_at.as_millis().to_le_bytes());
        w.string(&self.api_domain);
        w.string(&self.scope);
        w.string(&self.soid);
        // At most cap::MINT_LOG (10) entries: fits a byte.
        w.put(&[self.mints.len() as u8]);
        for t in self.mints.iter() {
            w.put(&t.as_millis().to_le_bytes());
        }
        let (kind, until) = match self.hold.pause {
            None => (0, 0),
            Some((until, PauseReason::Backoff)) => (1, until.as_millis()),
            Some((until, PauseReason::Throttled)) => (2, until.as_millis()),
        };
        w.put(&[kind]);
        w.put(&until.to_le_bytes());
        w.put(&self.hold.failures.to_le_bytes());
        w.put(&[reauth_code(self.hold.reauthorize)]);
        let Writer { buf, at } = w;
        Ok(&buf[..at])
    }

    /// Decode what [`TokenSet::encode`] wrote, this version (2) or the previous one (1, which
    /// becomes [`GrantKind::Unknown`] with no hold). Anything else is an error, never a panic:
    /// bad magic is [`DecodeError::NotATokenSet`], a version above 2
    /// [`DecodeError::FutureVersion`], missing bytes [`DecodeError::Truncated`], and non-UTF-8,
    /// over-capacity, unknown codes, trailing bytes, a token that is not visible ASCII or a
    /// refresh token missing where the grant needs one [`DecodeError::Corrupt`].
    pub fn decode(bytes: &[u8]) -> Result<TokenSet, DecodeError> {
        let mut r = Reader { bytes };
        if r.take(MAGIC.len()).map_err(|_| DecodeError::NotATokenSet)? != MAGIC {
            return Err(DecodeError::NotATokenSet);
        }
        let version = r.byte()?;
        match version {
            1 | VERSION => {}
            found if found > VERSION => return Err(DecodeError::FutureVersion { found }),
            _ => return Err(DecodeError::Corrupt),
        }
        let mut t = Self::empty(GrantKind::Unknown);
        if version >= 2 {
            t.grant = GrantKind::from_code(r.byte()?).ok_or(DecodeError::Corrupt)?;
            t.refresh_token = r.optional_token("refresh token")?;
        } else {
            t.refresh_token = Some(r.token("refresh token")?);
        }
        t.access_token = r.optional_token("access token")?;
        t.issued_at = Instant::from_millis(r.u64()?);
        t.expires_at = Instant::from_millis(r.u64()?);
        t.api_domain = heapless::String::try_from(r.string()?).map_err(|_| DecodeError::Corrupt)?;
        t.scope = heapless::String::try_from(r.string()?).map_err(|_| DecodeError::Corrupt)?;
        if version >= 2 {
            t.soid = heapless::String::try_from(r.string()?).map_err(|_| DecodeError::Corrupt)?;
        }
        let count = usize::from(r.byte()?);
        if count > cap::MINT_LOG {
            return Err(DecodeError::Corrupt);
        }
        for _ in 0..count {
            t.mints.record(Instant::from_millis(r.u64()?));
        }
        if version >= 2 {
            let kind = r.byte()?;
            let until = Instant::from_millis(r.u64()?);
            t.hold.pause = match kind {
                0 => None,
                1 => Some((until, PauseReason::Backoff)),
                2 => Some((until, PauseReason::Throttled)),
                _ => return Err(DecodeError::Corrupt),
            };
            let mut failures = [0u8; 4];
            failures.copy_from_slice(r.take(4)?);
            t.hold.failures = u32::from_le_bytes(failures);
            t.hold.reauthorize = reauth_from_code(r.byte()?).ok_or(DecodeError::Corrupt)?;
        }
        if !r.bytes.is_empty() || (t.refresh_token.is_none() && t.grant.refreshes()) {
            return Err(DecodeError::Corrupt);
        }
        Ok(t)
    }

    fn encoded_len(&self) -> usize {
        let optional = |len: Option<usize>| 1 + len.map_or(0, |l| 2 + l);
        MAGIC.len()
            + 2
            + optional(self.refresh_token.as_ref().map(|t| t.len()))
            + optional(self.access_token.as_ref().map(|t| t.len()))
            + 16
            + 2
            + self.api_domain.len()
            + 2
            + self.scope.len()
            + 2
            + self.soid.len()
            + 1
            + 8 * self.mints.len()
            + HOLD_LEN
    }
}

/// The hold's encoding: pause kind, until, failures, re-authorization reason.
const HOLD_LEN: usize = 1 + 8 + 4 + 1;

fn reauth_code(reason: Option<ReAuthReason>) -> u8 {
    match reason {
        None => 0,
        Some(ReAuthReason::GrantUsedOrExpired) => 1,
        Some(ReAuthReason::RefreshTokenRevoked) => 2,
        Some(ReAuthReason::NoRefreshToken) => 3,
        Some(ReAuthReason::DeviceCodeExpired) => 4,
        Some(ReAuthReason::DeviceAccessDenied) => 5,
    }
}

fn reauth_from_code(code: u8) -> Option<Option<ReAuthReason>> {
    Some(match code {
        0 => None,
        1 => Some(ReAuthReason::GrantUsedOrExpired),
        2 => Some(ReAuthReason::RefreshTokenRevoked),
        3 => Some(ReAuthReason::NoRefreshToken),
        4 => Some(ReAuthReason::DeviceCodeExpired),
        5 => Some(ReAuthReason::DeviceAccessDenied),
        _ => return None,
    })
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotATokenSet => f.write_str(
                "the stored bytes are not a token set: check the store holds what this library saved; \
                 delete the entry and authorize again if it was overwritten",
            ),
            Self::FutureVersion { found } => write!(
                f,
                "the token set was saved by a newer version of zoho-oauth (format {found}, this one reads {VERSION}): \
                 upgrade this program"
            ),
            Self::Truncated => f.write_str(
                "the stored token set is cut short: the store lost part of it; authorize again if no copy is left",
            ),
            Self::Corrupt => f.write_str(
                "the stored token set is corrupt (bad text or an over-long field): authorize again if no copy is left",
            ),
        }
    }
}

impl core::error::Error for DecodeError {}

/// First bytes of every encoding.
const MAGIC: &[u8] = b"ZOT";
/// The encoding version this crate writes; it reads this one and refuses newer ones.
const VERSION: u8 = 2;

/// Appends to a buffer already checked to be large enough.
struct Writer<'b> {
    buf: &'b mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.buf[self.at..self.at + bytes.len()].copy_from_slice(bytes);
        self.at += bytes.len();
    }

    /// Every string field has a capacity below 64 KiB, so the length fits a `u16`.
    fn string(&mut self, s: &str) {
        self.put(&(s.len() as u16).to_le_bytes());
        self.put(s.as_bytes());
    }

    /// A presence byte, then the string if present.
    fn optional(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.put(&[1]);
                self.string(s);
            }
            None => self.put(&[0]),
        }
    }
}

/// Consumes a byte slice from the front; running out is [`DecodeError::Truncated`].
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.bytes.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }

    fn string(&mut self) -> Result<&'a str, DecodeError> {
        let mut len = [0u8; 2];
        len.copy_from_slice(self.take(2)?);
        let bytes = self.take(usize::from(u16::from_le_bytes(len)))?;
        core::str::from_utf8(bytes).map_err(|_| DecodeError::Corrupt)
    }

    /// A token: visible ASCII within capacity (anything else would end up in a header line).
    fn token<const N: usize>(&mut self, field: &'static str) -> Result<Secret<N>, DecodeError> {
        token_secret(field, self.string()?).map_err(|_| DecodeError::Corrupt)
    }

    fn optional_token<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<Option<Secret<N>>, DecodeError> {
        match self.byte()? {
            0 => Ok(None),
            1 => self.token(field).map(Some),
            _ => Err(DecodeError::Corrupt),
        }
    }
}
