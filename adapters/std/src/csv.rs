//! The official SDKs' CSV token file: import and export, to migrate in both directions.
//!
//! The Python, Java, Node.js and C# SDKs keep tokens in a CSV file with these 10 columns, in this
//! order:
//!
//! ```text
//! id,user_name,client_id,client_secret,refresh_token,access_token,grant_token,expiry_time,redirect_url,api_domain
//! ```
//!
//! Older files have the first 9 (no `api_domain`). `expiry_time` is the access token's expiry in
//! epoch **milliseconds**, as text; an empty cell means "none". The SDKs write a header row (and
//! skip the first row when reading), so [`export`] writes one; [`import`] accepts files with or
//! without it (a first row whose first cell is `id` is the header), with `\n` or `\r\n` line ends
//! and an optional UTF-8 byte-order mark.
//!
//! Quoting follows RFC 4180 (a hand-written reader for this fixed format, no extra dependency):
//! a field may be enclosed in `"`, inside which `""` is a quote and commas and line breaks are
//! text. [`export`] quotes only fields that need it and ends lines with `\n`, because the Node.js
//! SDK splits lines on `\n` alone.
//!
//! Import rules:
//! - the file does not say which data centre and environment its tokens belong to: the caller
//!   does; a row whose `api_domain` names a different Zoho data centre or environment is an error
//!   ([`CsvError::DataCenterMismatch`]) rather than a credential that would fail at the first call;
//! - an empty `user_name` becomes `default` (the SDKs allow a token without a user);
//! - `client_id`, `client_secret` and `refresh_token` are required. A row holding only a grant
//!   token (never exchanged) is an error, [`CsvError::GrantTokenOnly`], not silently skipped:
//!   exchange it or delete the row, then import again;
//! - an access token without an `expiry_time` is dropped (its lifetime is unknown, so it is
//!   treated as expired); with one, it is kept, with its issue time set one hour (Zoho's access
//!   token lifetime) before the expiry;
//! - rows are returned in file order; several rows may share a key (save them in order and the
//!   last one wins, as in the SDKs).
//!
//! ```
//! use zoho_oauth::csv;
//! use zoho_oauth::core::{DataCenter, Environment};
//!
//! let file = "id,user_name,client_id,client_secret,refresh_token,access_token,grant_token,expiry_time,redirect_url,api_domain\n\
//!             1,ana@example.com,1000.ABC,s3cr3t,1000.aaaa.bbbb,,,,,https://www.zohoapis.eu\n";
//! let records = csv::import(file.as_bytes(), DataCenter::Eu, Environment::Production)?;
//! assert_eq!(records[0].key.user, "ana@example.com");
//! assert_eq!(records[0].token.refresh_token.expose(), "1000.aaaa.bbbb");
//! # Ok::<(), csv::CsvError>(())
//! ```

use std::fmt;
use std::io::{self, Read, Write};
use std::time::Duration;

use zeroize::Zeroizing;
use zoho_oauth_core::secret::{CapacityError, Secret};
use zoho_oauth_core::{DataCenter, Environment, Instant, TokenSet};

use crate::key::CredentialKey;

/// The columns of the current format, in order (the header row [`export`] writes).
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

/// How long a Zoho access token lives; used to guess the issue time of an imported one.
const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// One credential read from an SDK token file.
pub struct CsvRecord {
    /// Who and which client the credential belongs to (data centre and environment as given to
    /// [`import`]).
    pub key: CredentialKey,
    /// The OAuth client secret of the row. Redacted in `Debug`, zeroized on drop.
    pub client_secret: Zeroizing<String>,
    /// The refresh token, and the access token with its expiry if the row had both.
    pub token: TokenSet,
    /// The SDK's row id (`id` column), if any.
    pub id: Option<String>,
    /// The `redirect_url` column, if any.
    pub redirect_url: Option<String>,
    /// The line of the file where the row starts (1-based).
    pub line: usize,
}

impl fmt::Debug for CsvRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsvRecord")
            .field("key", &self.key)
            .field("client_secret", &"<redacted>")
            .field("token", &self.token)
            .field("id", &self.id)
            .field("redirect_url", &self.redirect_url)
            .field("line", &self.line)
            .finish()
    }
}

/// A token file could not be read or written. Lines are 1-based, where the row starts.
#[derive(Debug)]
#[non_exhaustive]
pub enum CsvError {
    /// Reading or writing failed.
    Io(io::Error),
    /// The file is not UTF-8 text.
    NotUtf8 {
        /// Where the first bad byte is.
        line: usize,
    },
    /// A quoted field is never closed.
    UnclosedQuote {
        /// Where the row starts.
        line: usize,
    },
    /// Text follows the closing quote of a field.
    TextAfterQuote {
        /// Where the row starts.
        line: usize,
    },
    /// A row has neither 10 nor 9 columns.
    ColumnCount {
        /// Where the row starts.
        line: usize,
        /// How many columns it has.
        found: usize,
    },
    /// A required cell is empty.
    MissingField {
        /// Where the row starts.
        line: usize,
        /// The column name.
        column: &'static str,
    },
    /// The row has a grant token but no refresh token: it was never exchanged.
    GrantTokenOnly {
        /// Where the row starts.
        line: usize,
    },
    /// `expiry_time` is not epoch milliseconds.
    BadExpiry {
        /// Where the row starts.
        line: usize,
        /// The cell (not a secret).
        value: String,
    },
    /// A value is longer than this library stores.
    TooLong {
        /// Where the row starts.
        line: usize,
        /// Which field and how long.
        error: CapacityError,
    },
    /// The row's `api_domain` belongs to another data centre or environment than the one given.
    DataCenterMismatch {
        /// Where the row starts.
        line: usize,
        /// The row's `api_domain`.
        api_domain: String,
        /// The data centre given to [`import`].
        expected: (DataCenter, Environment),
        /// The data centre and environment of the `api_domain`.
        found: (DataCenter, Environment),
    },
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "token file I/O failed: {e}; check the path and its permissions"),
            Self::NotUtf8 { line } => write!(f, "line {line}: the token file is not UTF-8 text; is it the SDK's CSV token file?"),
            Self::UnclosedQuote { line } => write!(f, "line {line}: a quoted field is never closed; fix the quote or delete the row"),
            Self::TextAfterQuote { line } => write!(f, "line {line}: text follows a closing quote; quote the whole field and double the quotes inside it"),
            Self::ColumnCount { line, found } => write!(f, "line {line}: {found} columns, expected 10 ({}) or the older 9 without api_domain", COLUMNS.join(",")),
            Self::MissingField { line, column } => write!(f, "line {line}: {column} is empty; fill it in or delete the row"),
            Self::GrantTokenOnly { line } => write!(f, "line {line}: the row holds only a grant token that was never exchanged; exchange a new grant token instead, and delete the row"),
            Self::BadExpiry { line, value } => write!(f, "line {line}: expiry_time {value:?} is not epoch milliseconds; empty the cell (the token will be refreshed)"),
            Self::TooLong { line, error } => write!(f, "line {line}: {error}"),
            Self::DataCenterMismatch { line, api_domain, expected, found } => write!(
                f,
                "line {line}: api_domain {api_domain} belongs to data centre {} ({}), not {} ({}) as requested; import with the matching data centre and environment",
                found.0, found.1, expected.0, expected.1
            ),
        }
    }
}

impl std::error::Error for CsvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::TooLong { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl From<io::Error> for CsvError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// Read an SDK token file; every row becomes a [`CsvRecord`] keyed with `dc` and `env`.
/// The first bad row stops the import with an error naming its line (see the module docs for
/// the rules).
pub fn import(
    mut reader: impl Read,
    dc: DataCenter,
    env: Environment,
) -> Result<Vec<CsvRecord>, CsvError> {
    let mut bytes = Zeroizing::new(Vec::new());
    reader.read_to_end(&mut bytes)?;
    let text = std::str::from_utf8(&bytes).map_err(|e| CsvError::NotUtf8 {
        line: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut first = true;
    for row in Rows::new(text) {
        let (line, cells) = row?;
        if cells.len() == 1 && cells[0].is_empty() {
            continue; // a blank line
        }
        let is_header = first && cells[0].trim().eq_ignore_ascii_case(COLUMNS[0]);
        first = false;
        if !matches!(cells.len(), 9 | 10) {
            return Err(CsvError::ColumnCount {
                line,
                found: cells.len(),
            });
        }
        if !is_header {
            records.push(record(line, &cells, dc, env)?);
        }
    }
    Ok(records)
}

/// Turn one row (9 or 10 cells) into a record.
fn record(
    line: usize,
    cells: &[Zeroizing<String>],
    dc: DataCenter,
    env: Environment,
) -> Result<CsvRecord, CsvError> {
    let cell = |i: usize| cells.get(i).map(|c| c.as_str()).filter(|c| !c.is_empty());
    let required = |i: usize| {
        cell(i).ok_or(CsvError::MissingField {
            line,
            column: COLUMNS[i],
        })
    };
    let too_long = |error| CsvError::TooLong { line, error };

    let client_id = required(2)?;
    let client_secret = required(3)?;
    let refresh = match cell(4) {
        Some(r) => r,
        None if cell(6).is_some() => return Err(CsvError::GrantTokenOnly { line }),
        None => {
            return Err(CsvError::MissingField {
                line,
                column: COLUMNS[4],
            })
        }
    };
    let mut token = TokenSet::new(refresh).map_err(too_long)?;
    let expiry = cell(7).map(|v| {
        parse_millis(v).ok_or_else(|| CsvError::BadExpiry {
            line,
            value: v.to_string(),
        })
    });
    if let (Some(access), Some(expiry)) = (cell(5), expiry.transpose()?) {
        token.access_token = Some(Secret::new("access_token", access).map_err(too_long)?);
        token.expires_at = Instant::from_millis(expiry);
        token.issued_at = token.expires_at.saturating_sub(ACCESS_TOKEN_LIFETIME);
    }
    if let Some(domain) = cell(9) {
        if let Ok(found) = DataCenter::from_api_domain(domain) {
            if found != (dc, env) {
                return Err(CsvError::DataCenterMismatch {
                    line,
                    api_domain: domain.to_string(),
                    expected: (dc, env),
                    found,
                });
            }
        }
        token.api_domain.clear();
        token.api_domain.push_str(domain).map_err(|_| {
            too_long(CapacityError {
                field: "api_domain",
                capacity: token.api_domain.capacity(),
                actual: domain.len(),
            })
        })?;
    }
    Ok(CsvRecord {
        key: CredentialKey::new(cell(1).unwrap_or("default"), client_id, dc, env),
        client_secret: Zeroizing::new(client_secret.to_string()),
        token,
        id: cell(0).map(str::to_string),
        redirect_url: cell(8).map(str::to_string),
        line,
    })
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

/// Write an SDK token file (10 columns, header row, `\n` line ends) holding `records`:
/// `(key, token, client_secret)`. Ids are `1`, `2`, … in order; `grant_token` and
/// `redirect_url` are empty; `expiry_time` is set when the token has an access token. The file
/// has no data-centre column: export one data centre and environment per file.
pub fn export(
    mut writer: impl Write,
    records: &[(CredentialKey, &TokenSet, &str)],
) -> Result<(), CsvError> {
    let mut out = Zeroizing::new(String::new());
    out.push_str(&COLUMNS.join(","));
    out.push('\n');
    for (n, (key, token, client_secret)) in records.iter().enumerate() {
        let id = (n + 1).to_string();
        let expiry = token
            .access_token
            .as_ref()
            .map(|_| token.expires_at.as_millis().to_string())
            .unwrap_or_default();
        let cells: [&str; 10] = [
            &id,
            &key.user,
            &key.client_id,
            client_secret,
            token.refresh_token.expose(),
            token
                .access_token
                .as_ref()
                .map(|a| a.expose())
                .unwrap_or(""),
            "",
            &expiry,
            "",
            &token.api_domain,
        ];
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_field(c, &mut out);
        }
        out.push('\n');
    }
    writer.write_all(out.as_bytes())?;
    writer.flush()?;
    Ok(())
}

/// Append `field`, quoted if it holds a comma, a quote or a line break.
fn push_field(field: &str, out: &mut String) {
    if field.contains([',', '"', '\r', '\n']) {
        out.push('"');
        for c in field.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// The rows of a CSV text, each with the line it starts on.
struct Rows<'t> {
    text: &'t str,
    pos: usize,
    line: usize,
}

impl<'t> Rows<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            pos: 0,
            line: 1,
        }
    }

    /// One field starting at `self.pos`; returns it and whether the row ends after it.
    fn field(&mut self, row_line: usize) -> Result<(Zeroizing<String>, bool), CsvError> {
        let bytes = self.text.as_bytes();
        let mut value = Zeroizing::new(Vec::new());
        if bytes.get(self.pos) == Some(&b'"') {
            self.pos += 1;
            loop {
                match bytes.get(self.pos) {
                    None => return Err(CsvError::UnclosedQuote { line: row_line }),
                    Some(b'"') if bytes.get(self.pos + 1) == Some(&b'"') => {
                        value.push(b'"');
                        self.pos += 2;
                    }
                    Some(b'"') => {
                        self.pos += 1;
                        break;
                    }
                    Some(&b) => {
                        if b == b'\n' {
                            self.line += 1;
                        }
                        value.push(b);
                        self.pos += 1;
                    }
                }
            }
            let ends = self
                .separator()
                .ok_or(CsvError::TextAfterQuote { line: row_line })?;
            return Ok((to_string(value), ends));
        }
        loop {
            if let Some(ends) = self.separator() {
                return Ok((to_string(value), ends));
            }
            value.push(bytes[self.pos]);
            self.pos += 1;
        }
    }

    /// At a separator: consume it and say whether the row ends. `None` if not at one.
    fn separator(&mut self) -> Option<bool> {
        let rest = &self.text.as_bytes()[self.pos..];
        let (len, ends) = match rest {
            [] => (0, true),
            [b',', ..] => (1, false),
            [b'\n', ..] => (1, true),
            [b'\r', b'\n', ..] => (2, true),
            _ => return None,
        };
        self.pos += len;
        if len > 0 && ends {
            self.line += 1;
        }
        Some(ends)
    }
}

/// Bytes split at ASCII separators out of a `&str` are still UTF-8.
fn to_string(mut bytes: Zeroizing<Vec<u8>>) -> Zeroizing<String> {
    Zeroizing::new(String::from_utf8(std::mem::take(&mut *bytes)).unwrap_or_default())
}

impl Iterator for Rows<'_> {
    type Item = Result<(usize, Vec<Zeroizing<String>>), CsvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.text.len() {
            return None;
        }
        let line = self.line;
        let mut cells = Vec::new();
        loop {
            match self.field(line) {
                Ok((cell, ends)) => {
                    cells.push(cell);
                    if ends {
                        return Some(Ok((line, cells)));
                    }
                }
                Err(e) => {
                    self.pos = self.text.len();
                    return Some(Err(e));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<(usize, Vec<String>)> {
        Rows::new(text)
            .map(|r| {
                let (line, cells) = r.unwrap();
                (line, cells.iter().map(|c| c.to_string()).collect())
            })
            .collect()
    }

    #[test]
    fn the_reader_splits_quoted_fields_per_rfc_4180() {
        let got = rows("a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",,\n\nlast");
        assert_eq!(
            got,
            vec![
                (1, vec!["a".into(), "b,c".into(), "say \"hi\"".into()]),
                (2, vec!["multi\nline".into(), "".into(), "".into()]),
                (4, vec!["".into()]),
                (5, vec!["last".into()]),
            ]
        );
    }

    #[test]
    fn the_reader_reports_unclosed_quotes_and_text_after_a_quote_with_their_line() {
        assert!(matches!(
            Rows::new("ok\n\"open,\n").nth(1),
            Some(Err(CsvError::UnclosedQuote { line: 2 }))
        ));
        assert!(matches!(
            Rows::new("a\nb\n\"x\"y,z\n").nth(2),
            Some(Err(CsvError::TextAfterQuote { line: 3 }))
        ));
    }

    #[test]
    fn fields_that_need_quotes_round_trip_through_the_reader() {
        for f in ["plain", "a,b", "q\"q", "l1\nl2", "cr\r\nlf", ""] {
            let mut out = String::new();
            push_field(f, &mut out);
            out.push_str(",end\n");
            assert_eq!(
                rows(&out),
                vec![(1, vec![f.to_string(), "end".to_string()])]
            );
        }
    }

    #[test]
    fn expiry_accepts_integer_milliseconds_and_drops_a_fraction() {
        assert_eq!(parse_millis("1700000000000"), Some(1_700_000_000_000));
        assert_eq!(parse_millis("1700000000000.0"), Some(1_700_000_000_000));
        for bad in ["", "+1", "-1", "1e12", "abc", ".5", "12.x"] {
            assert_eq!(parse_millis(bad), None, "{bad:?}");
        }
    }
}
