//! A row of the official SDKs' token store — their CSV file or their `oauthtoken` table, read
//! as the SDKs' 10 columns of text — mapped to a credential to install, or to the reason it
//! cannot be. Independent of how the row was read: [`csv`](super::csv) reads the file, a
//! database store reads the table.
//!
//! The mapping (the core decides the protocol parts):
//! - the key's data centre and environment come from the row's `api_domain` by
//!   [`Origin::region_of_api_domain`]: a Zoho API domain names them (another data centre than
//!   the configured one is kept, with [`RowNote::OtherDataCenter`]); an empty one (the older
//!   SDKs wrote none, a NULL in a table) or, under a custom accounts origin, a loopback one
//!   means the configured data centre and environment; anything else cannot be keyed
//!   ([`RowError::Unkeyable`]);
//! - the token set is [`TokenSet::from_sdk_row`]'s: every token is validated (visible ASCII,
//!   within capacity: an ellipsis or a blank copied with it is [`RowError::Token`]), an access
//!   token is kept only with a believable expiry (otherwise dropped, with a note);
//! - `client_id` and `refresh_token` are required; a row holding only a grant token (never
//!   exchanged) is [`RowError::GrantTokenOnly`]; an empty `user_name` becomes `default` (the
//!   SDKs allow a token without a user); `client_secret` is optional, validated when present.

use std::fmt;

use zoho_oauth_core::region::TrustError;
use zoho_oauth_core::token::{token_secret, SdkRowNote, TokenTextError};
use zoho_oauth_core::{cap, DataCenter, Environment, Instant, Origin, Secret, TokenSet};

use crate::key::CredentialKey;

/// The SDKs' columns, in their order (the CSV header; the `oauthtoken` table's columns).
pub const COLUMNS: [&str; 10] = [
    "id",
    "user_name",
    "client_id",
    "client_secret",
    "refresh_token",
    "access_token",
    "grant_token",
    "expiry_time",
    "redirect_url",
    "api_domain",
];

/// The user of a row whose `user_name` is empty.
pub const DEFAULT_USER: &str = "default";

/// One row of the SDKs' token store as text, in [`COLUMNS`] order. An empty cell (or a NULL)
/// is `""`; the older 9-column rows have an empty `api_domain`. The cells hold secrets: this
/// type only borrows them.
#[derive(Clone, Copy, Default)]
pub struct SdkRow<'a> {
    /// `id`: the SDK's row id.
    pub id: &'a str,
    /// `user_name`: the user's e-mail.
    pub user_name: &'a str,
    /// `client_id`.
    pub client_id: &'a str,
    /// `client_secret`.
    pub client_secret: &'a str,
    /// `refresh_token`.
    pub refresh_token: &'a str,
    /// `access_token`.
    pub access_token: &'a str,
    /// `grant_token`: a grant code the SDK had not exchanged yet.
    pub grant_token: &'a str,
    /// `expiry_time`: the access token's expiry, epoch milliseconds as text.
    pub expiry_time: &'a str,
    /// `redirect_url`.
    pub redirect_url: &'a str,
    /// `api_domain`.
    pub api_domain: &'a str,
}

impl<'a> SdkRow<'a> {
    /// The row of 10 cells in [`COLUMNS`] order, or of the older 9 (no `api_domain`); `None`
    /// for any other count.
    pub fn from_cells<S: AsRef<str>>(cells: &'a [S]) -> Option<Self> {
        let cell = |i: usize| cells.get(i).map_or("", AsRef::as_ref);
        matches!(cells.len(), 9 | 10).then(|| Self {
            id: cell(0),
            user_name: cell(1),
            client_id: cell(2),
            client_secret: cell(3),
            refresh_token: cell(4),
            access_token: cell(5),
            grant_token: cell(6),
            expiry_time: cell(7),
            redirect_url: cell(8),
            api_domain: cell(9),
        })
    }
}

impl fmt::Debug for SdkRow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SdkRow")
            .field("id", &self.id)
            .field("user_name", &self.user_name)
            .field("client_id", &self.client_id)
            .field("api_domain", &self.api_domain)
            .finish_non_exhaustive()
    }
}

/// What keys a row besides its own cells: the accounts origin configured, the data centre and
/// environment it serves, and the time now (to judge an access token's expiry).
#[derive(Clone, Copy, Debug)]
pub struct RowContext<'a> {
    /// The accounts origin the credentials will be used with.
    pub origin: &'a Origin,
    /// The data centre and environment configured: the key of a row that does not say.
    pub configured: (DataCenter, Environment),
    /// Now.
    pub now: Instant,
}

/// A credential a row maps to: install it through the client's locked cycle
/// ([`Client::install`](crate::Client::install)).
pub struct ImportedCredential {
    /// Whose credential, of which client, data centre and environment.
    pub key: CredentialKey,
    /// The refresh token, and the access token with its expiry when it was kept.
    pub token: TokenSet,
    /// The row's client secret, if it had one. Redacted in `Debug`, wiped on drop.
    pub client_secret: Option<Secret<{ cap::CLIENT_SECRET }>>,
    /// The SDK's row id, if any.
    pub id: Option<String>,
    /// The row's `redirect_url`, if any.
    pub redirect_url: Option<String>,
    /// What the mapping changed or assumed, to report.
    pub notes: Vec<RowNote>,
}

impl fmt::Debug for ImportedCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportedCredential")
            .field("key", &self.key)
            .field("token", &self.token)
            .field("client_secret", &self.client_secret)
            .field("id", &self.id)
            .field("redirect_url", &self.redirect_url)
            .field("notes", &self.notes)
            .finish()
    }
}

/// Something the mapping of a row changed or assumed (the credential is still installed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RowNote {
    /// The access token was dropped: [`SdkRowNote`] says why. The next call mints a new one.
    AccessTokenDropped(SdkRowNote),
    /// The row's `api_domain` belongs to another data centre or environment than the
    /// configured one: the credential is keyed by the row's.
    OtherDataCenter {
        /// The row's data centre and environment (the key's).
        found: (DataCenter, Environment),
        /// The configured ones.
        configured: (DataCenter, Environment),
    },
    /// The row had no `user_name`: the credential's user is [`DEFAULT_USER`].
    NoUser,
}

impl fmt::Display for RowNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AccessTokenDropped(why) => write!(f, "access token dropped: {why}"),
            Self::OtherDataCenter { found, configured } => write!(
                f,
                "its api_domain belongs to {} {}, not the configured {} {}: kept under {} {} \
                 (use it with --data-center {} --environment {})",
                found.0,
                found.1,
                configured.0,
                configured.1,
                found.0,
                found.1,
                found.0.location_code(),
                found.1.name()
            ),
            Self::NoUser => write!(f, "it has no user_name: stored as user {DEFAULT_USER:?}"),
        }
    }
}

/// Why a row is not a credential. Never holds a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RowError {
    /// A required cell is empty.
    MissingField {
        /// The column.
        column: &'static str,
    },
    /// The row has a grant token but no refresh token: it was never exchanged.
    GrantTokenOnly,
    /// `expiry_time` is not epoch milliseconds.
    BadExpiry {
        /// The cell (not a secret).
        value: String,
    },
    /// A token or the client secret is not one Zoho issues (a blank, a line break, a non-ASCII
    /// character such as an ellipsis copied from documentation, or too long), or the
    /// `api_domain` is too long.
    Token(TokenTextError),
    /// The `api_domain` is neither a Zoho API domain nor empty (nor, under a custom accounts
    /// origin, loopback): the row's data centre is unknown, and tokens are never sent there.
    Unkeyable {
        /// The row's `api_domain` (not a secret).
        api_domain: String,
    },
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingField { column } => write!(f, "{column} is empty; fill it in or delete the row"),
            Self::GrantTokenOnly => f.write_str("the row holds only a grant token that was never exchanged; exchange a new grant token instead, and delete the row"),
            Self::BadExpiry { value } => write!(f, "expiry_time {value:?} is not epoch milliseconds; empty the cell (the token will be refreshed)"),
            Self::Token(e) => write!(f, "{e}"),
            Self::Unkeyable { api_domain } => write!(
                f,
                "api_domain {api_domain:?} is not a Zoho API domain, so the row's data centre is unknown and no token is sent there; \
                 empty the cell to import it under the configured data centre"
            ),
        }
    }
}

impl std::error::Error for RowError {}

/// Map one row to a credential (see the [module docs](self) for the rules).
pub fn map_row(row: &SdkRow<'_>, ctx: &RowContext<'_>) -> Result<ImportedCredential, RowError> {
    let client_id =
        non_empty(row.client_id).ok_or(RowError::MissingField { column: COLUMNS[2] })?;
    let refresh = match (non_empty(row.refresh_token), non_empty(row.grant_token)) {
        (Some(r), _) => r,
        (None, Some(_)) => return Err(RowError::GrantTokenOnly),
        (None, None) => return Err(RowError::MissingField { column: COLUMNS[4] }),
    };
    let expiry = non_empty(row.expiry_time)
        .map(|v| {
            parse_millis(v).ok_or_else(|| RowError::BadExpiry {
                value: v.to_string(),
            })
        })
        .transpose()?;
    let api_domain = row.api_domain.trim();
    let (token, dropped) = TokenSet::from_sdk_row(
        refresh,
        non_empty(row.access_token),
        expiry,
        api_domain,
        ctx.now,
    )
    .map_err(RowError::Token)?;
    let client_secret = non_empty(row.client_secret)
        .map(|s| token_secret("client secret", s))
        .transpose()
        .map_err(RowError::Token)?;
    let region = ctx
        .origin
        .region_of_api_domain(api_domain, ctx.configured)
        // The one failure of this rule: neither a Zoho API domain, empty nor allowed loopback.
        .map_err(|_: TrustError| RowError::Unkeyable {
            api_domain: api_domain.to_string(),
        })?;

    let mut notes = Vec::new();
    if let Some(why) = dropped {
        notes.push(RowNote::AccessTokenDropped(why));
    }
    if region != ctx.configured {
        notes.push(RowNote::OtherDataCenter {
            found: region,
            configured: ctx.configured,
        });
    }
    let user = match non_empty(row.user_name) {
        Some(u) => u,
        None => {
            notes.push(RowNote::NoUser);
            DEFAULT_USER
        }
    };
    Ok(ImportedCredential {
        key: CredentialKey::new(user, client_id, region.0, region.1),
        token,
        client_secret,
        id: non_empty(row.id).map(str::to_string),
        redirect_url: non_empty(row.redirect_url).map(str::to_string),
        notes,
    })
}

/// `s`, unless it is empty.
fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// Epoch milliseconds: digits, optionally followed by a fraction (dropped).
fn parse_millis(v: &str) -> Option<u64> {
    let v = v.trim();
    let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
    if whole.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // `parse` alone would accept a leading `+`.
    whole
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| whole.parse().ok())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_accepts_integer_milliseconds_and_drops_a_fraction() {
        assert_eq!(parse_millis("1700000000000"), Some(1_700_000_000_000));
        assert_eq!(parse_millis("1700000000000.0"), Some(1_700_000_000_000));
        for bad in ["", "+1", "-1", "1e12", "abc", ".5", "12.x"] {
            assert_eq!(parse_millis(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_nine_or_ten_cells_make_a_row() {
        let ten = [
            "1",
            "u",
            "c",
            "s",
            "r",
            "",
            "",
            "",
            "",
            "https://www.zohoapis.eu",
        ];
        assert_eq!(
            SdkRow::from_cells(&ten).unwrap().api_domain,
            "https://www.zohoapis.eu"
        );
        assert_eq!(SdkRow::from_cells(&ten[..9]).unwrap().api_domain, "");
        assert!(SdkRow::from_cells(&ten[..8]).is_none());
    }
}
