//! The text of a store file, one line at a time: the first line, `record` lines and the `end`
//! line (the format is described in the [module docs](super)).

use std::fmt::Write as _;

use zeroize::Zeroizing;
use zoho_oauth_core::{DataCenter, Environment, TokenSet};

use crate::key::CredentialKey;
use crate::store::{decode_token, encode_token, StoreError};

/// The first line of a store file, before the version number.
const MAGIC: &str = "zoho-oauth-store v";
/// The format version this code writes and the newest it reads.
const VERSION: u32 = 1;

/// The longest line a store file may hold, `\n` included. A record of the longest token set is
/// under 3 KiB; the rest is room for long user names. A longer line is not ours.
pub(super) const MAX_LINE: usize = 64 * 1024;

/// The first line this code writes.
pub(super) fn first_line() -> String {
    format!("{MAGIC}{VERSION}")
}

/// Check the first line (without its `\n`): `Err` says why the file is not a store this version
/// can read ([`StoreError::Corrupt`] or [`StoreError::FutureVersion`], without the path).
pub(super) fn check_first_line(line: &[u8]) -> Result<(), StoreError> {
    let corrupt = |why: String| Err(StoreError::Corrupt(why));
    let Some(version) = line.strip_prefix(MAGIC.as_bytes()) else {
        return corrupt("not a zoho-oauth token store (unexpected first line)".into());
    };
    let version = String::from_utf8_lossy(version);
    match version.parse::<u32>() {
        Ok(v) if v > VERSION => Err(StoreError::FutureVersion(format!(
            "format version {v}, this program reads up to {VERSION}"
        ))),
        Ok(0) => corrupt("format version 0 does not exist".into()),
        Ok(_) => Ok(()),
        Err(_) => corrupt(format!("unreadable format version {version:?}")),
    }
}

/// The record count of an `end` line, `None` for any other line.
pub(super) fn end_count(line: &[u8]) -> Option<Option<usize>> {
    let count = line.strip_prefix(b"end ")?;
    Some(std::str::from_utf8(count).ok().and_then(|c| c.parse().ok()))
}

/// The `end` line of a file with `count` records.
pub(super) fn end_line(count: usize) -> String {
    format!("end {count}")
}

/// The key of a `record` line and its token field (hex), or why the line has no readable key.
pub(super) fn record_key(line: &[u8]) -> Result<(CredentialKey, &[u8]), &'static str> {
    let mut fields = line.split(|&b| b == b' ');
    if fields.next() != Some(b"record") {
        return Err("not a record");
    }
    let mut next = |missing| fields.next().ok_or(missing);
    let user = unescape(next("the user is missing")?).ok_or("the user is badly encoded")?;
    let client_id =
        unescape(next("the client id is missing")?).ok_or("the client id is badly encoded")?;
    let dc = std::str::from_utf8(next("the data centre is missing")?)
        .ok()
        .and_then(|c| DataCenter::from_location(c).ok())
        .ok_or("unknown data centre")?;
    let env = std::str::from_utf8(next("the environment is missing")?)
        .ok()
        .and_then(|e| Environment::from_name(e).ok())
        .ok_or("unknown environment")?;
    let hex = next("the token is missing")?;
    if fields.next().is_some() {
        return Err("too many fields");
    }
    Ok((CredentialKey::new(user, client_id, dc, env), hex))
}

/// The token of the record of `key` whose token field is `hex`: [`StoreError::Corrupt`] or
/// [`StoreError::FutureVersion`] naming the key when it does not decode.
pub(super) fn record_token(key: &CredentialKey, hex: &[u8]) -> Result<TokenSet, StoreError> {
    let bytes = unhex(hex).ok_or_else(|| {
        StoreError::Corrupt(format!(
            "the token of {key} is not hex; delete it and authorize again"
        ))
    })?;
    decode_token(key, &bytes)
}

/// The `record` line (without `\n`) of `key` and `token`; [`StoreError::Other`] when it would be
/// longer than [`MAX_LINE`] (a user name of tens of kilobytes).
pub(super) fn record_line(
    key: &CredentialKey,
    token: &TokenSet,
) -> Result<Zeroizing<String>, StoreError> {
    let bytes = encode_token(key, token)?;
    let mut out = Zeroizing::new(String::with_capacity(64 + 2 * bytes.len()));
    out.push_str("record ");
    escape_into(&key.user, &mut out);
    out.push(' ');
    escape_into(&key.client_id, &mut out);
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        " {} {} ",
        key.data_center.location_code(),
        key.environment.name()
    );
    hex_into(&bytes, &mut out);
    if out.len() >= MAX_LINE {
        return Err(StoreError::Other(format!(
            "the user name or client id of {key} is too long for a file store (a record is limited to {MAX_LINE} bytes)"
        )));
    }
    Ok(out)
}

/// Percent-encode `%`, the space and every byte outside `!`..=`~`.
fn escape_into(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Undo [`escape_into`]; `None` for a bad escape, a raw byte that should have been escaped, or
/// non-UTF-8.
fn unescape(s: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.iter().copied();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                let hi = hex_value(bytes.next()?)?;
                let lo = hex_value(bytes.next()?)?;
                out.push(hi << 4 | lo);
            }
            b if b.is_ascii_graphic() => out.push(b),
            _ => return None,
        }
    }
    String::from_utf8(out).ok()
}

/// Append the lowercase hex of `bytes`.
fn hex_into(bytes: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
}

/// Decode lowercase or uppercase hex.
fn unhex(s: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if s.len() % 2 != 0 {
        return None;
    }
    let mut out = Zeroizing::new(Vec::with_capacity(s.len() / 2));
    for pair in s.chunks_exact(2) {
        out.push(hex_value(pair[0])? << 4 | hex_value(pair[1])?);
    }
    Some(out)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips_spaces_percent_signs_and_non_ascii() {
        for s in ["", "ana@example.com", "a b%c", "zoë\n\t", "%%", "1000.X Y"] {
            let mut e = String::new();
            escape_into(s, &mut e);
            assert!(!e.contains(' ') && !e.contains('\n'), "{e:?}");
            assert_eq!(unescape(e.as_bytes()).as_deref(), Some(s));
        }
    }

    #[test]
    fn unescape_rejects_bad_escapes_and_raw_spaces() {
        for bad in ["%", "%4", "%zz", "a b", "%FF"] {
            assert_eq!(unescape(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn hex_round_trips_and_rejects_odd_or_non_hex_input() {
        let bytes = [0u8, 1, 0x7f, 0x80, 0xff];
        let mut h = String::new();
        hex_into(&bytes, &mut h);
        assert_eq!(h, "00017f80ff");
        assert_eq!(
            unhex(h.as_bytes()).as_deref().map(Vec::as_slice),
            Some(&bytes[..])
        );
        assert!(unhex(b"abc").is_none());
        assert!(unhex(b"zz").is_none());
    }

    #[test]
    fn first_lines_that_are_not_ours_are_corrupt_and_newer_ones_are_future() {
        let cases: [(&[u8], &str); 6] = [
            (b"id,user_name,client_id", "corrupt"),
            (b"\xff\xfe", "corrupt"),
            (b"zoho-oauth-store vX", "corrupt"),
            (b"zoho-oauth-store v0", "corrupt"),
            (b"zoho-oauth-store v2", "future"),
            (b"zoho-oauth-store v1", "ok"),
        ];
        for (line, want) in cases {
            let got = match check_first_line(line) {
                Err(StoreError::Corrupt(_)) => "corrupt",
                Err(StoreError::FutureVersion(_)) => "future",
                Ok(()) => "ok",
                Err(e) => panic!("{e}"),
            };
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn a_record_line_gives_back_its_key_and_token() {
        let key = CredentialKey::new("zoë b%", "1000.X", DataCenter::Eu, Environment::Sandbox);
        let token = TokenSet::new("1000.refresh.aaaa").unwrap();
        let line = record_line(&key, &token).unwrap();
        let (back, hex) = record_key(line.as_bytes()).unwrap();
        assert_eq!(back, key);
        assert_eq!(record_token(&back, hex).unwrap(), token);
        assert_eq!(end_count(b"end 12"), Some(Some(12)));
        assert_eq!(end_count(b"end x"), Some(None));
        assert_eq!(end_count(line.as_bytes()), None);
    }

    #[test]
    fn a_record_longer_than_a_line_may_be_is_refused() {
        let key = CredentialKey::new(
            "u".repeat(MAX_LINE),
            "1000.X",
            DataCenter::Us,
            Environment::Production,
        );
        let token = TokenSet::new("1000.refresh.aaaa").unwrap();
        assert!(matches!(
            record_line(&key, &token),
            Err(StoreError::Other(_))
        ));
    }
}
