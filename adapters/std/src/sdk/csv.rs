//! The official SDKs' CSV token file: an RFC 4180 reader and writer for its fixed format, read
//! one row at a time, and the import and export built on it. What a row means is
//! [`rows`](super::rows)'s business.
//!
//! The Python, Java, Node.js and C# SDKs keep tokens in a CSV file with the 10 columns of
//! [`COLUMNS`], in that order:
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
//! [`import`] streams: it reads one row at a time (a row is at most [`MAX_ROW`] bytes) and yields
//! for each, with the line it starts on, either a credential to install or why it is not one —
//! a bad row never stops the others, and none is skipped silently. Only what leaves the rest of
//! the file unreadable ends the import with a [`CsvError`]: a read error, a quote never closed,
//! text after a closing quote, a row longer than [`MAX_ROW`]. Rows are yielded in file order;
//! several may share a key (install them in order and the last one wins, as in the SDKs).
//!
//! ```
//! use zoho_oauth::sdk::csv;
//! use zoho_oauth::sdk::rows::RowContext;
//! use zoho_oauth::core::{DataCenter, Environment, Instant, Origin};
//!
//! let file = "id,user_name,client_id,client_secret,refresh_token,access_token,grant_token,expiry_time,redirect_url,api_domain\n\
//!             1,ana@example.com,1000.ABC,s3cr3t,1000.aaaa.bbbb,,,,,https://www.zohoapis.eu\n\
//!             2,bo@example.com,1000.ABC,s3cr3t,1000.aaaa…,,,,,https://www.zohoapis.eu\n";
//! let origin = Origin::Zoho(DataCenter::Eu);
//! let ctx = RowContext { origin: &origin, configured: (DataCenter::Eu, Environment::Production), now: Instant::from_millis(0) };
//! let rows: Vec<_> = csv::import(file.as_bytes(), ctx).collect::<Result<_, _>>()?;
//! let ana = rows[0].outcome.as_ref().unwrap();
//! assert_eq!(ana.key.user, "ana@example.com");
//! assert_eq!(ana.token.refresh_token.as_ref().unwrap().expose(), "1000.aaaa.bbbb");
//! assert_eq!(rows[1].line, 3);
//! assert!(rows[1].outcome.is_err()); // an ellipsis is never part of a Zoho token
//! # Ok::<(), csv::CsvError>(())
//! ```

use std::fmt;
use std::io::{self, Read, Write};

use zeroize::Zeroizing;
use zoho_oauth_core::TokenSet;

pub use super::rows::COLUMNS;
use super::rows::{map_row, ImportedCredential, RowContext, RowError, SdkRow};
use crate::key::CredentialKey;

/// The longest row [`import`] reads, in bytes (line breaks inside quotes included): a row of
/// the SDKs is a few hundred bytes; a longer one is not a token row, and is refused rather than
/// held in memory.
pub const MAX_ROW: usize = 64 * 1024;

/// What ends an [`import`]: the rest of the file cannot be read. Lines are 1-based, where the
/// row starts.
#[derive(Debug)]
#[non_exhaustive]
pub enum CsvError {
    /// Reading or writing failed.
    Io(io::Error),
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
    /// A row is longer than [`MAX_ROW`] bytes.
    RowTooLong {
        /// Where the row starts.
        line: usize,
    },
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "token file I/O failed: {e}; check the path and its permissions"),
            Self::UnclosedQuote { line } => write!(f, "line {line}: a quoted field is never closed; fix the quote or delete the row"),
            Self::TextAfterQuote { line } => write!(f, "line {line}: text follows a closing quote; quote the whole field and double the quotes inside it"),
            Self::RowTooLong { line } => write!(f, "line {line}: the row is longer than {MAX_ROW} bytes, which no token row is; is it the SDK's CSV token file?"),
        }
    }
}

impl std::error::Error for CsvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for CsvError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// One row of an imported file: where it starts, and the credential it maps to or why not.
#[derive(Debug)]
pub struct ImportedRow {
    /// The line the row starts on (1-based).
    pub line: usize,
    /// The credential to install, or why the row is not one.
    pub outcome: Result<ImportedCredential, BadRow>,
}

/// Why a row of the file is not a credential (the import goes on with the next row).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BadRow {
    /// The row has neither 10 nor 9 columns.
    ColumnCount {
        /// How many it has.
        found: usize,
    },
    /// The row is not UTF-8 text.
    NotUtf8,
    /// The row does not map to a credential.
    Row(RowError),
}

impl fmt::Display for BadRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ColumnCount { found } => write!(
                f,
                "{found} columns, expected 10 ({}) or the older 9 without api_domain",
                COLUMNS.join(",")
            ),
            Self::NotUtf8 => {
                f.write_str("the row is not UTF-8 text; is it the SDK's CSV token file?")
            }
            Self::Row(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for BadRow {}

/// Read an SDK token file one row at a time: each row is mapped with `ctx` (see
/// [`rows`](super::rows)) and yielded with its line (see the [module docs](self)).
pub fn import<R: Read>(reader: R, ctx: RowContext<'_>) -> Import<'_, R> {
    Import {
        rows: Reader::new(reader),
        ctx,
        first: true,
    }
}

/// The rows of an SDK token file, from [`import`].
pub struct Import<'c, R> {
    rows: Reader<R>,
    ctx: RowContext<'c>,
    first: bool,
}

impl<R: Read> Iterator for Import<'_, R> {
    type Item = Result<ImportedRow, CsvError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (line, cells) = match self.rows.next()? {
                Ok(row) => row,
                Err(e) => return Some(Err(e)),
            };
            if cells.len() == 1 && cells[0].is_empty() {
                continue; // a blank line
            }
            let first = std::mem::replace(&mut self.first, false);
            let is_header = first
                && cells[0]
                    .trim_ascii()
                    .eq_ignore_ascii_case(COLUMNS[0].as_bytes());
            if is_header && matches!(cells.len(), 9 | 10) {
                continue;
            }
            return Some(Ok(ImportedRow {
                line,
                outcome: self.credential(&cells),
            }));
        }
    }
}

impl<R> Import<'_, R> {
    fn credential(&self, cells: &[Zeroizing<Vec<u8>>]) -> Result<ImportedCredential, BadRow> {
        let text = cells
            .iter()
            .map(|c| std::str::from_utf8(c))
            .collect::<Result<Vec<&str>, _>>()
            .map_err(|_| BadRow::NotUtf8)?;
        let row = SdkRow::from_cells(&text).ok_or(BadRow::ColumnCount { found: text.len() })?;
        map_row(&row, &self.ctx).map_err(BadRow::Row)
    }
}

/// Write an SDK token file (10 columns, header row, `\n` line ends) holding `records`:
/// `(key, token, client_secret)`. Ids are `1`, `2`, … in order; `grant_token` and
/// `redirect_url` are empty; `expiry_time` is set when the token has an access token. The file
/// has no data-centre column beyond `api_domain`: export one data centre and environment per
/// file. Written one row at a time.
pub fn export(
    mut writer: impl Write,
    records: &[(CredentialKey, &TokenSet, &str)],
) -> Result<(), CsvError> {
    writeln!(writer, "{}", COLUMNS.join(","))?;
    let mut row = Zeroizing::new(String::new());
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
            token.refresh_token.as_ref().map_or("", |r| r.expose()),
            token.access_token.as_ref().map_or("", |a| a.expose()),
            "",
            &expiry,
            "",
            &token.api_domain,
        ];
        row.clear();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                row.push(',');
            }
            push_field(c, &mut row);
        }
        row.push('\n');
        writer.write_all(row.as_bytes())?;
    }
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

/// The rows of a CSV byte stream (RFC 4180), each with the line it starts on, read through a
/// buffer that is wiped on drop (the cells hold secrets).
struct Reader<R> {
    source: R,
    chunk: Zeroizing<Vec<u8>>,
    start: usize,
    end: usize,
    /// The line the next byte is on (1-based).
    line: usize,
    /// Nothing more to read: the end, or an error that leaves the rest unreadable.
    done: bool,
    /// Whether the start of the stream was checked for a byte-order mark.
    began: bool,
}

/// One field's content, and whether the row ends after it.
type Field = (Zeroizing<Vec<u8>>, bool);

/// A row: the line it starts on, and its cells.
type Row = (usize, Vec<Zeroizing<Vec<u8>>>);

impl<R: Read> Reader<R> {
    fn new(source: R) -> Self {
        Self {
            source,
            chunk: Zeroizing::new(vec![0; 16 * 1024]),
            start: 0,
            end: 0,
            line: 1,
            done: false,
            began: false,
        }
    }

    /// The next byte, without taking it; `None` at the end.
    fn peek(&mut self) -> io::Result<Option<u8>> {
        if self.start == self.end {
            let read = loop {
                match self.source.read(&mut self.chunk) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            (self.start, self.end) = (0, read);
            if read == 0 {
                return Ok(None);
            }
        }
        Ok(Some(self.chunk[self.start]))
    }

    /// Take the byte [`Reader::peek`] saw.
    fn take(&mut self) {
        if self.chunk[self.start] == b'\n' {
            self.line += 1;
        }
        self.start += 1;
    }

    /// The next row: its line and cells.
    fn next(&mut self) -> Option<Result<Row, CsvError>> {
        if self.done {
            return None;
        }
        let row = self.row();
        if !matches!(row, Ok(Some(_))) {
            self.done = true;
        }
        row.transpose()
    }

    fn row(&mut self) -> Result<Option<Row>, CsvError> {
        if !self.began {
            self.began = true;
            self.skip_byte_order_mark()?;
        }
        if self.peek()?.is_none() {
            return Ok(None);
        }
        let line = self.line;
        let mut cells = Vec::new();
        let mut size = 0;
        loop {
            let (cell, ends) = self.field(line, MAX_ROW - size)?;
            size += cell.len() + 1;
            cells.push(cell);
            if ends {
                return Ok(Some((line, cells)));
            }
        }
    }

    fn skip_byte_order_mark(&mut self) -> io::Result<()> {
        const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];
        for b in BOM {
            if self.peek()? != Some(b) {
                // Fewer than three bytes of a mark are data: only a whole mark is skipped, and
                // a partial one cannot start a token file anyway.
                return Ok(());
            }
            self.take();
        }
        Ok(())
    }

    /// One field of the row starting at `line`, at most `room` bytes.
    fn field(&mut self, line: usize, room: usize) -> Result<Field, CsvError> {
        let mut value = Zeroizing::new(Vec::new());
        let push = |value: &mut Zeroizing<Vec<u8>>, b: u8| {
            if value.len() >= room {
                return Err(CsvError::RowTooLong { line });
            }
            value.push(b);
            Ok(())
        };
        if self.peek()? == Some(b'"') {
            self.take();
            loop {
                match self.peek()? {
                    None => return Err(CsvError::UnclosedQuote { line }),
                    Some(b'"') => {
                        self.take();
                        if self.peek()? != Some(b'"') {
                            break;
                        }
                        self.take();
                        push(&mut value, b'"')?;
                    }
                    Some(b) => {
                        self.take();
                        push(&mut value, b)?;
                    }
                }
            }
            return match self.separator()? {
                Separator::FieldEnd => Ok((value, false)),
                Separator::RowEnd => Ok((value, true)),
                Separator::CarriageReturn | Separator::No => Err(CsvError::TextAfterQuote { line }),
            };
        }
        loop {
            match self.separator()? {
                Separator::FieldEnd => return Ok((value, false)),
                Separator::RowEnd => return Ok((value, true)),
                Separator::CarriageReturn => push(&mut value, b'\r')?,
                Separator::No => {
                    let b = self.peek()?.unwrap_or_default();
                    self.take();
                    push(&mut value, b)?;
                }
            }
        }
    }

    /// At a separator (a comma, a line end, the end of the stream): take it and say what it
    /// was; [`Separator::No`] (nothing taken) if not at one. A `\r` not followed by `\n` is
    /// taken and is data ([`Separator::CarriageReturn`]).
    fn separator(&mut self) -> io::Result<Separator> {
        let found = match self.peek()? {
            None => return Ok(Separator::RowEnd),
            Some(b',') => Separator::FieldEnd,
            Some(b'\n') => Separator::RowEnd,
            Some(b'\r') => {
                self.take();
                if self.peek()? != Some(b'\n') {
                    return Ok(Separator::CarriageReturn);
                }
                Separator::RowEnd
            }
            Some(_) => return Ok(Separator::No),
        };
        self.take();
        Ok(found)
    }
}

/// What [`Reader::separator`] found.
enum Separator {
    /// A comma: another field follows.
    FieldEnd,
    /// A line end or the end of the stream: the row ends.
    RowEnd,
    /// A `\r` that does not end the line (taken: it is data).
    CarriageReturn,
    /// No separator.
    No,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(bytes: &[u8]) -> Vec<Result<(usize, Vec<String>), String>> {
        // A one-byte reader: every refill boundary is exercised.
        struct Trickle<'b>(&'b [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let Some((&b, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                buf[0] = b;
                self.0 = rest;
                Ok(1)
            }
        }
        let mut reader = Reader::new(Trickle(bytes));
        std::iter::from_fn(|| reader.next())
            .map(|r| {
                r.map(|(line, cells)| {
                    let cells = cells
                        .iter()
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect();
                    (line, cells)
                })
                .map_err(|e| e.to_string())
            })
            .collect()
    }

    fn ok(line: usize, cells: &[&str]) -> Result<(usize, Vec<String>), String> {
        Ok((line, cells.iter().map(|c| (*c).to_owned()).collect()))
    }

    #[test]
    fn the_reader_splits_quoted_fields_per_rfc_4180() {
        assert_eq!(
            rows_of(b"a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",,\n\nlast"),
            vec![
                ok(1, &["a", "b,c", "say \"hi\""]),
                ok(2, &["multi\nline", "", ""]),
                ok(4, &[""]),
                ok(5, &["last"]),
            ]
        );
    }

    #[test]
    fn a_lone_carriage_return_is_data_and_a_byte_order_mark_is_skipped() {
        assert_eq!(
            rows_of(b"\xEF\xBB\xBFid,a\rb\r\nx"),
            vec![ok(1, &["id", "a\rb"]), ok(2, &["x"])]
        );
    }

    #[test]
    fn the_reader_reports_unclosed_quotes_and_text_after_a_quote_with_their_line_and_stops() {
        let got = rows_of(b"ok\n\"open,\nmore\n");
        assert_eq!(got.len(), 2);
        assert!(got[1]
            .as_ref()
            .unwrap_err()
            .starts_with("line 2: a quoted field is never closed"));
        let got = rows_of(b"a\nb\n\"x\"y,z\nnext\n");
        assert_eq!(got.len(), 3);
        assert!(got[2]
            .as_ref()
            .unwrap_err()
            .starts_with("line 3: text follows"));
    }

    #[test]
    fn a_row_longer_than_the_limit_is_refused_without_being_held() {
        let mut bytes = b"short\n".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', MAX_ROW + 1));
        bytes.extend_from_slice(b"\nafter\n");
        let got = rows_of(&bytes);
        assert_eq!(got.len(), 2);
        assert!(got[1]
            .as_ref()
            .unwrap_err()
            .starts_with("line 2: the row is longer"));
    }

    #[test]
    fn fields_that_need_quotes_round_trip_through_the_reader() {
        for f in ["plain", "a,b", "q\"q", "l1\nl2", "cr\r\nlf", "lone\rcr", ""] {
            let mut out = String::new();
            push_field(f, &mut out);
            out.push_str(",end\n");
            assert_eq!(rows_of(out.as_bytes()), vec![ok(1, &[f, "end"])]);
        }
    }
}
