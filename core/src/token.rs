//! `TokenSet`: what a store keeps for one credential, and its versioned byte encoding.

use core::fmt;
use core::time::Duration;

use crate::cap;
use crate::machine::Config;
use crate::request::BufferTooSmall;
use crate::secret::{CapacityError, Secret};
use crate::time::Instant;

/// The recent mint times of one refresh token (at most [`cap::MINT_LOG`]), oldest first.
/// Travels inside [`TokenSet`] so that every process sharing a store shares one budget.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MintLog {
    times: heapless::Vec<Instant, { cap::MINT_LOG }>,
}

/// Everything known about one credential: the refresh token, the current access token (if any)
/// with its expiry, where its APIs live, its scopes, and the mint budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSet {
    /// The long-lived refresh token. Never dropped by an error path.
    pub refresh_token: Secret<{ cap::REFRESH_TOKEN }>,
    /// The current access token, if one was minted.
    pub access_token: Option<Secret<{ cap::ACCESS_TOKEN }>>,
    /// When the access token was minted (meaningful only with `access_token`).
    pub issued_at: Instant,
    /// When the access token expires (meaningful only with `access_token`).
    pub expires_at: Instant,
    /// The `api_domain` of the last token response; empty when Zoho did not send one.
    pub api_domain: heapless::String<{ cap::ORIGIN }>,
    /// The granted scopes, space-separated as Zoho returns them; empty when unknown.
    pub scope: heapless::String<{ cap::SCOPE }>,
    /// Recent mint times: the rolling budget.
    pub mints: MintLog,
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
    pub(crate) fn in_window(&self, now: Instant, window: Duration) -> &[Instant] {
        let first = self
            .times
            .iter()
            .position(|t| t.saturating_add(window) > now)
            .unwrap_or(self.times.len());
        &self.times[first..]
    }
}

impl TokenSet {
    /// The longest encoding [`TokenSet::encode`] produces: every field at its capacity.
    pub const MAX_ENCODED_LEN: usize = MAGIC.len()
        + 1 // version
        + 2 + cap::REFRESH_TOKEN
        + 1 + 2 + cap::ACCESS_TOKEN
        + 8 + 8 // issued_at, expires_at
        + 2 + cap::ORIGIN
        + 2 + cap::SCOPE
        + 1 + 8 * cap::MINT_LOG;

    /// A token set holding only a refresh token (no access token yet, no mints recorded).
    ///
    /// ```
    /// use zoho_oauth_core::{Instant, TokenSet};
    ///
    /// let t = TokenSet::new("1000.3f2a…refresh").unwrap();
    /// assert_eq!(t.access_token(Instant::from_millis(0)), None);
    /// ```
    pub fn new(refresh_token: &str) -> Result<Self, CapacityError> {
        Ok(Self {
            refresh_token: Secret::new("refresh_token", refresh_token)?,
            access_token: None,
            issued_at: Instant::default(),
            expires_at: Instant::default(),
            api_domain: heapless::String::new(),
            scope: heapless::String::new(),
            mints: MintLog::default(),
        })
    }

    /// The access token, if there is one and `now` is before its expiry (never at or after it).
    pub fn access_token(&self, now: Instant) -> Option<&str> {
        match &self.access_token {
            Some(token) if now < self.expires_at && !token.is_empty() => Some(token.expose()),
            _ => None,
        }
    }

    /// How many more mints the rolling budget allows at `now`: `config.budget_mints` (at most
    /// [`cap::MINT_LOG`]) minus the mints within the last `config.budget_window`.
    pub fn mints_left(&self, now: Instant, config: &Config) -> usize {
        config
            .effective_budget()
            .saturating_sub(self.mints.in_window(now, config.budget_window).len())
    }

    /// Encode into `buf` (at most [`TokenSet::MAX_ENCODED_LEN`] bytes): `b"ZOT"`, version 1, then
    /// the fields in order, strings as a little-endian `u16` length and the bytes, the access
    /// token behind a presence byte, times as little-endian `u64` milliseconds, the mint log as a
    /// count byte and its times. On [`BufferTooSmall`] the buffer is untouched.
    ///
    /// The encoding holds the tokens in clear: store it where only the owner can read it.
    pub fn encode<'b>(&self, buf: &'b mut [u8]) -> Result<&'b [u8], BufferTooSmall> {
        let required = self.encoded_len();
        if buf.len() < required {
            return Err(BufferTooSmall { required });
        }
        let mut w = Writer { buf, at: 0 };
        w.put(MAGIC);
        w.put(&[VERSION]);
        w.string(self.refresh_token.expose());
        match &self.access_token {
            Some(t) => {
                w.put(&[1]);
                w.string(t.expose());
            }
            None => w.put(&[0]),
        }
        w.put(&self.issued_at.as_millis().to_le_bytes());
        w.put(&self.expires_at.as_millis().to_le_bytes());
        w.string(&self.api_domain);
        w.string(&self.scope);
        // At most cap::MINT_LOG (10) entries: fits a byte.
        w.put(&[self.mints.len() as u8]);
        for t in self.mints.iter() {
            w.put(&t.as_millis().to_le_bytes());
        }
        let Writer { buf, at } = w;
        Ok(&buf[..at])
    }

    /// Decode what [`TokenSet::encode`] wrote. Anything else is an error, never a panic: bad magic
    /// is [`DecodeError::NotATokenSet`], a version above 1 [`DecodeError::FutureVersion`], missing
    /// bytes [`DecodeError::Truncated`], and non-UTF-8, over-capacity or trailing bytes
    /// [`DecodeError::Corrupt`].
    pub fn decode(bytes: &[u8]) -> Result<TokenSet, DecodeError> {
        let mut r = Reader { bytes };
        if r.take(MAGIC.len()).map_err(|_| DecodeError::NotATokenSet)? != MAGIC {
            return Err(DecodeError::NotATokenSet);
        }
        match r.byte()? {
            VERSION => {}
            found if found > VERSION => return Err(DecodeError::FutureVersion { found }),
            _ => return Err(DecodeError::Corrupt),
        }
        // A token that is not visible ASCII would end up in a header line: not ours.
        let token_text = |s: &str| {
            if crate::secret::is_token_text(s.as_bytes()) {
                Ok(())
            } else {
                Err(DecodeError::Corrupt)
            }
        };
        let refresh = r.string()?;
        token_text(refresh)?;
        let refresh_token =
            Secret::new("refresh_token", refresh).map_err(|_| DecodeError::Corrupt)?;
        let access_token = match r.byte()? {
            0 => None,
            1 => {
                let access = r.string()?;
                token_text(access)?;
                Some(Secret::new("access_token", access).map_err(|_| DecodeError::Corrupt)?)
            }
            _ => return Err(DecodeError::Corrupt),
        };
        let issued_at = Instant::from_millis(r.u64()?);
        let expires_at = Instant::from_millis(r.u64()?);
        let api_domain =
            heapless::String::try_from(r.string()?).map_err(|_| DecodeError::Corrupt)?;
        let scope = heapless::String::try_from(r.string()?).map_err(|_| DecodeError::Corrupt)?;
        let count = usize::from(r.byte()?);
        if count > cap::MINT_LOG {
            return Err(DecodeError::Corrupt);
        }
        let mut mints = MintLog::default();
        for _ in 0..count {
            mints.record(Instant::from_millis(r.u64()?));
        }
        if !r.bytes.is_empty() {
            return Err(DecodeError::Corrupt);
        }
        Ok(TokenSet {
            refresh_token,
            access_token,
            issued_at,
            expires_at,
            api_domain,
            scope,
            mints,
        })
    }

    fn encoded_len(&self) -> usize {
        MAGIC.len()
            + 1
            + 2
            + self.refresh_token.len()
            + 1
            + self.access_token.as_ref().map_or(0, |t| 2 + t.len())
            + 16
            + 2
            + self.api_domain.len()
            + 2
            + self.scope.len()
            + 1
            + 8 * self.mints.len()
    }
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
const VERSION: u8 = 1;

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
}
