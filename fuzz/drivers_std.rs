//! The bodies of the fuzz targets of the std crate (`zoho-oauth`), shared by the cargo-fuzz
//! binaries (`fuzz_targets/sdk_csv.rs`, `fuzz_targets/file_store.rs`) and the stable replay test
//! `adapters/std/tests/fuzz_corpus_replay.rs`, which include this file by path.
//!
//! Each driver calls what `zoho_oauth` exports for the purpose (`sdk::csv::import`, the hidden
//! `fuzz::file_store` entry points) and panics only when an invariant fails.
#![allow(dead_code)] // each fuzz binary uses one driver

use std::fmt::Write as _;

use zoho_oauth::core::secret::is_token_text;
use zoho_oauth::core::token::MAX_STORED_LIFETIME;
use zoho_oauth::core::{DataCenter, Environment, Instant, Origin, TokenSet};
use zoho_oauth::fuzz::file_store;
use zoho_oauth::sdk::csv::{self, BadRow};
use zoho_oauth::sdk::rows::{RowContext, COLUMNS};
use zoho_oauth::{CredentialKey, StoreError};

/// Reads the fuzzer's bytes as a stream of small decisions; past the end every read is zero.
struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// A length byte, then that many bytes.
    fn chunk(&mut self) -> &'a [u8] {
        let n = usize::from(self.byte());
        self.take(n)
    }

    fn rest(&mut self) -> &'a [u8] {
        self.take(self.data.len())
    }
}

/// "Now" for the CSV import: 2023-11-14.
const NOW_MS: u64 = 1_700_000_000_000;

/// The cells the structured CSV mode picks from, per column: what the SDKs write, and what goes
/// wrong in real files (an ellipsis or a blank copied with a token, a grant token only, an
/// expiry in seconds or as a date, a foreign `api_domain`, quotes, commas and line breaks).
fn palette(column: usize, pick: u8) -> String {
    let p = usize::from(pick);
    let choose = |options: &[&str]| options[p % options.len()].to_owned();
    match column {
        0 => choose(&["1", "", "42", "id", "\"quoted\""]),
        1 => choose(&[
            "ana@example.com",
            "",
            "bo, the second@example.com",
            "zoë@example.com",
            "line\nbreak@example.com",
        ]),
        2 => choose(&[
            "1000.9Y3A0SDKWXM2P7QH1LZ4TV8NBF6CJR",
            "",
            "1000.X\"Y",
            "1000.ABC",
        ]),
        3 => choose(&[
            "4b3c1f0e9d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d",
            "",
            "5e3b9c0f2a7d41e8b6c0a9f3d2e1b4c7a6f5e8d9c0",
            "secret with a blank 9d8e7f6a5b4c",
            "secret,with\"quote\nand-break-7f6a5b4c",
        ]),
        4 => choose(&[
            "1000.f9e8d7c6b5a4938271605f4e3d2c1b0a.9f8e7d6c5b4a3928170615f4e3d2c1b0",
            "",
            "1000.f9e8d7c6b5a4938271605f4e3d2c1b0a.9f8e7d6c5b4a39…",
            " 1000.a0b1c2d3e4f5061728394a5b6c7d8e9f.0a1b2c3d4e5f60718293a4b5c6d7e8f9",
            "1000.0a1b2c3d4e5f60718293a4b5c6d7e8f9.a0b1c2d3e4f5061728394a5b6c7d8e9f\r\n",
        ]),
        5 => choose(&[
            "1000.7c4e9a0b1c2d3e4f5a6b7c8d9e0f1a2b.3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f",
            "",
            "1000.7c4e9a0b1c2d3e4f5a6b7c8d9e0f1a2b.3c4d5e6f…",
        ]),
        6 => choose(&[
            "",
            "1000.6f3c2a1b9e8d7c6b5a4f3e2d1c0b9a8f.5e4d3c2b1a0f9e8d7c6b5a4f3e",
        ]),
        7 => {
            let options = [
                (NOW_MS + 3_000_000).to_string(),
                String::new(),
                (NOW_MS / 1000 + 3600).to_string(),
                (NOW_MS + 90_000_000).to_string(),
                "2023-11-14T22:13:20Z".to_owned(),
                "1700003600000.0".to_owned(),
                "+1700003600000".to_owned(),
                "18446744073709551616".to_owned(),
                (NOW_MS - 1).to_string(),
            ];
            options[p % options.len()].clone()
        }
        8 => choose(&[
            "",
            "http://127.0.0.1:8765/callback",
            "https://example.com/cb?a=1,b=2",
        ]),
        _ => choose(&[
            "https://www.zohoapis.com",
            "",
            "https://www.zohoapis.eu",
            "https://sandbox.zohoapis.com.au",
            "https://evil.example",
            "http://127.0.0.1:9000",
            "https://www.zohoapis.in/",
        ]),
    }
}

/// A CSV field as the SDKs (and spreadsheets) write it: quoted when it must be, or always.
fn push_field(out: &mut Vec<u8>, field: &[u8], always_quote: bool) {
    if always_quote
        || field
            .iter()
            .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        out.push(b'"');
        for &b in field {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(field);
    }
}

/// The SDKs' CSV token file, through `zoho_oauth::sdk::csv::import`.
///
/// Byte 0, bit 0 clear: the rest is the file itself (any bytes). Set: a file built from the
/// script (rows of 9 or 10 cells picked per column from real and broken values, or the input's
/// own bytes; a header, a byte-order mark, `\r\n`, quoting always or when needed).
///
/// Never panics, and the import ends. Every accepted row holds valid tokens: a non-empty refresh
/// token of visible ASCII, an access token only with an expiry at most
/// `MAX_STORED_LIFETIME` ahead, a client secret of visible ASCII; `Debug` shows neither token nor
/// the secret. Built files: one outcome per row, in order and on its line; an accepted row keeps
/// exactly its cells; and no error (its `Display` or `Debug`) ever shows a refresh token, access
/// token, grant token or client secret of its row.
pub fn sdk_csv(data: &[u8]) {
    let mut input = Input { data };
    let flags = input.byte();
    let origin = if flags & 2 == 0 {
        Origin::Zoho(DataCenter::Us)
    } else {
        Origin::custom("http://127.0.0.1:9000").expect("a valid origin")
    };
    let ctx = RowContext {
        origin: &origin,
        configured: (DataCenter::Us, Environment::Production),
        now: Instant::from_millis(NOW_MS),
    };
    if flags & 1 == 0 {
        let file = input.rest();
        let mut outcomes = 0usize;
        for item in csv::import(file, ctx) {
            outcomes += 1;
            assert!(
                outcomes <= file.len() + 1,
                "the import yields more rows than the file has bytes"
            );
            match item {
                Ok(row) => {
                    assert!(row.line >= 1);
                    match &row.outcome {
                        Ok(credential) => check_credential(credential, &[]),
                        Err(e) => assert!(!e.to_string().is_empty()),
                    }
                }
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
        return;
    }

    // A file built from the script.
    let header = flags & 4 != 0;
    let bom = flags & 8 != 0;
    let crlf = flags & 16 != 0;
    let always_quote = flags & 32 != 0;
    let nine = flags & 64 != 0;
    let columns = if nine { 9 } else { 10 };
    let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut file = Vec::new();
    if bom {
        file.extend_from_slice(b"\xEF\xBB\xBF");
    }
    let mut line = 1usize;
    if header {
        file.extend_from_slice(COLUMNS[..columns].join(",").as_bytes());
        file.extend_from_slice(eol);
        line += 1;
    }
    let mut rows: Vec<(usize, Vec<Vec<u8>>)> = Vec::new();
    while !input.is_empty() && rows.len() < 16 {
        let mut cells = Vec::with_capacity(columns);
        for column in 0..columns {
            let pick = input.byte();
            cells.push(if pick == 0xff {
                input.chunk().to_vec()
            } else {
                palette(column, pick).into_bytes()
            });
        }
        // A lone empty cell would be a blank line, which is skipped, not a row.
        let starts = line;
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                file.push(b',');
            }
            push_field(&mut file, cell, always_quote);
            line += cell.iter().filter(|b| **b == b'\n').count();
        }
        file.extend_from_slice(eol);
        line += 1;
        rows.push((starts, cells));
    }

    // Without a header row, a first row whose `id` cell reads `id` is taken for one.
    if !header
        && rows
            .first()
            .is_some_and(|(_, cells)| cells[0].trim_ascii().eq_ignore_ascii_case(b"id"))
    {
        rows.remove(0);
    }
    let mut results = csv::import(file.as_slice(), ctx);
    for (starts, cells) in &rows {
        let Some(item) = results.next() else {
            panic!("row on line {starts} was not reported");
        };
        // Every field is quoted as RFC 4180 says: nothing makes the file unreadable.
        let row = item.unwrap_or_else(|e| panic!("a well-formed file was refused: {e}"));
        assert_eq!(row.line, *starts, "a row reported on another line");
        let text = |i: usize| std::str::from_utf8(&cells[i]).ok();
        match &row.outcome {
            Ok(credential) => {
                check_credential(credential, cells);
                assert_eq!(
                    credential.token.refresh_token.as_ref().map(|r| r.expose()),
                    text(4),
                    "the refresh token changed"
                );
                assert_eq!(Some(credential.key.client_id.as_str()), text(2));
                match text(3) {
                    Some("") => assert!(credential.client_secret.is_none()),
                    secret => assert_eq!(
                        credential.client_secret.as_ref().map(|s| s.expose()),
                        secret
                    ),
                }
                let user = text(1).filter(|u| !u.is_empty()).unwrap_or("default");
                assert_eq!(credential.key.user, user);
            }
            Err(e) => {
                check_no_secret(&format!("{e} {e:?}"), cells);
                if let BadRow::ColumnCount { found } = e {
                    panic!("a built row of {columns} cells counted {found}");
                }
            }
        }
    }
    assert!(results.next().is_none(), "more rows than were written");
}

/// An accepted credential's tokens are valid, and its `Debug` shows no secret (nor any secret
/// cell of `cells`, when known).
fn check_credential(c: &zoho_oauth::sdk::rows::ImportedCredential, cells: &[Vec<u8>]) {
    let refresh = c
        .token
        .refresh_token
        .as_ref()
        .expect("an imported row has a refresh token");
    assert!(
        !refresh.is_empty() && is_token_text(refresh.expose().as_bytes()),
        "an imported refresh token unfit for a header"
    );
    if let Some(access) = &c.token.access_token {
        assert!(
            is_token_text(access.expose().as_bytes()),
            "an imported access token unfit for a header"
        );
        assert!(
            c.token.expires_at <= Instant::from_millis(NOW_MS).saturating_add(MAX_STORED_LIFETIME),
            "an access token kept with an expiry no Zoho token has"
        );
    }
    if let Some(secret) = &c.client_secret {
        assert!(
            is_token_text(secret.expose().as_bytes()),
            "an imported client secret unfit for a form"
        );
    }
    assert!(!c.key.client_id.is_empty());
    let debug = format!("{c:?}");
    let mut secrets: Vec<&str> = vec![refresh.expose()];
    secrets.extend(c.token.access_token.as_ref().map(|a| a.expose()));
    secrets.extend(c.client_secret.as_ref().map(|s| s.expose()));
    // What the credential shows on purpose: a secret that is also one of these shows by it.
    let public = format!(
        "{}\n{}\n{:?}\n{:?}\n{}\n{}",
        c.key.user, c.key.client_id, c.id, c.redirect_url, c.token.api_domain, c.token.scope
    );
    // The same credential with every secret changed (same length): a secret that spells part of
    // the Debug's own words (`refresh_token`) shows there as often.
    let twin = zoho_oauth::sdk::rows::ImportedCredential {
        key: c.key.clone(),
        token: {
            let mut t = c.token.clone();
            t.refresh_token = t.refresh_token.map(|r| twin_secret(r.expose()));
            t.access_token = t.access_token.map(|a| twin_secret(a.expose()));
            t
        },
        client_secret: c.client_secret.as_ref().map(|s| twin_secret(s.expose())),
        id: c.id.clone(),
        redirect_url: c.redirect_url.clone(),
        notes: c.notes.clone(),
    };
    let twin_debug = format!("{twin:?}");
    for secret in secrets {
        if secret.len() >= 12
            && !shown_elsewhere(secret.as_bytes(), cells)
            && !public.contains(secret)
        {
            assert!(
                debug.matches(secret).count() <= twin_debug.matches(secret).count(),
                "a secret in the Debug of an imported credential"
            );
        }
    }
}

/// `secret` with every letter and digit changed, as a secret of the same capacity.
fn twin_secret<const N: usize>(secret: &str) -> zoho_oauth::core::Secret<N> {
    let twin: String = secret
        .chars()
        .map(|c| match c {
            'a'..='y' | 'A'..='Y' | '0'..='8' => char::from(c as u8 + 1),
            'z' => 'a',
            'Z' => 'A',
            '9' => '0',
            other => other,
        })
        .collect();
    zoho_oauth::core::Secret::new("twin", &twin).expect("the same length fits")
}

/// Whether `secret` is also (part of) a cell that is no secret: then showing it is no leak.
fn shown_elsewhere(secret: &[u8], cells: &[Vec<u8>]) -> bool {
    [0, 1, 2, 7, 8, 9].iter().any(|&i| {
        cells
            .get(i)
            .is_some_and(|c| c.windows(secret.len()).any(|w| w == secret))
    })
}

/// No secret cell of the row (client secret, refresh, access and grant token) in `text`.
fn check_no_secret(text: &str, cells: &[Vec<u8>]) {
    for i in [3, 4, 5, 6] {
        let Some(secret) = cells.get(i) else { continue };
        let Ok(secret) = std::str::from_utf8(secret) else {
            continue;
        };
        let secret = secret.trim();
        if secret.len() >= 12 && !shown_elsewhere(secret.as_bytes(), cells) {
            assert!(
                !text.contains(secret),
                "the {} of a row shows in an error: {text}",
                COLUMNS[i]
            );
        }
    }
}

/// The FileStore format, through `zoho_oauth::fuzz::file_store` (the code `FileStore` reads and
/// writes its file with).
///
/// Byte 0, bit 0 clear: the rest is a store file (any bytes). Set: a store written from the
/// script's records (keys from the input, token sets decoded from it or made from a refresh
/// token), then damaged as the script says (a flipped byte, a cut, a duplicated or dropped line).
///
/// Never panics. Reading agrees with itself: the file is refused as a whole exactly when listing
/// it is; every listed key loads or is reported damaged by an error naming that key; a key with
/// no record loads as nothing. Whatever loads re-encodes (alone and with every other loadable
/// record) into a store that reads back the same token sets. A written store, undamaged, reads
/// back exactly what was written.
pub fn file_store(data: &[u8]) {
    let mut input = Input { data };
    let flags = input.byte();
    if flags & 1 == 0 {
        check_store_file(input.rest());
        return;
    }
    let mut records: Vec<(CredentialKey, TokenSet)> = Vec::new();
    while !input.is_empty() && records.len() < 8 {
        let user = String::from_utf8_lossy(input.chunk()).into_owned();
        let client_id =
            ["1000.9Y3A0SDKWXM2P7QH1LZ4TV8NBF6CJR", "1000.X Y%", ""][usize::from(input.byte()) % 3];
        let pick = input.byte();
        let dc = DataCenter::ALL[usize::from(pick) % DataCenter::ALL.len()];
        let env = Environment::ALL[usize::from(pick >> 4) % Environment::ALL.len()];
        let raw = input.chunk();
        let token = TokenSet::decode(raw).ok().or_else(|| {
            let text = String::from_utf8_lossy(raw);
            TokenSet::new(if text.is_empty() {
                "1000.refresh.aaaa"
            } else {
                &text
            })
            .ok()
        });
        let Some(token) = token else { continue };
        let key = CredentialKey::new(user, client_id, dc, env);
        records.retain(|(k, _)| *k != key);
        records.push((key, token));
    }
    records.sort_by(|a, b| a.0.cmp(&b.0));
    let refs: Vec<(CredentialKey, &TokenSet)> =
        records.iter().map(|(k, t)| (k.clone(), t)).collect();
    let mut file = file_store::write(&refs).expect("records of short keys are written");
    assert_eq!(
        file_store::list(&file).expect("a written store lists"),
        records.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>()
    );
    for (key, token) in &records {
        let loaded = file_store::load(&file, key).expect("a written record loads");
        assert_eq!(
            loaded.as_ref(),
            Some(token),
            "a written record read back otherwise"
        );
    }
    // Damage it as the script says, then check what any store file must do.
    let damage = input.byte();
    let at = usize::from(damage) * 7 % file.len().max(1);
    match flags >> 1 & 3 {
        0 => {}
        1 => file[at] ^= 1 << (damage % 8),
        2 => file.truncate(at),
        _ => {
            let lines: Vec<&[u8]> = file.split_inclusive(|b| *b == b'\n').collect();
            let i = usize::from(damage) % lines.len();
            let mut copy: Vec<u8> = Vec::new();
            for (n, l) in lines.iter().enumerate() {
                copy.extend_from_slice(l);
                if n == i && damage & 1 == 0 {
                    copy.extend_from_slice(l); // duplicated
                }
            }
            if damage & 1 == 1 && lines.len() > 2 {
                copy = lines
                    .iter()
                    .enumerate()
                    .filter(|(n, _)| *n != 1 + i % (lines.len() - 2))
                    .flat_map(|(_, l)| l.iter().copied())
                    .collect();
            }
            file = copy;
        }
    }
    check_store_file(&file);
}

/// What every store file, damaged or not, must do.
fn check_store_file(file: &[u8]) {
    let lines = file_store::lines(file);
    let list = file_store::list(file);
    match (&lines, &list) {
        (Ok(lines), Ok(keys)) => {
            let mut expected: Vec<CredentialKey> =
                lines.iter().filter_map(|l| l.key.clone()).collect();
            expected.sort();
            expected.dedup();
            assert_eq!(*keys, expected, "list disagrees with the lines");
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.to_string(), b.to_string());
            assert!(
                a.to_string().contains(file_store::PATH),
                "a refused file is not named: {a}"
            );
            return;
        }
        _ => panic!("reading the lines and listing disagree: {lines:?} / {list:?}"),
    }
    let keys = list.expect("checked");
    let mut good: Vec<(CredentialKey, TokenSet)> = Vec::new();
    for key in &keys {
        match file_store::load(file, key) {
            Ok(Some(token)) => good.push((key.clone(), token)),
            Ok(None) => panic!("a listed key loads as nothing: {key}"),
            Err(e @ (StoreError::Corrupt(_) | StoreError::FutureVersion(_))) => {
                let text = e.to_string();
                assert!(
                    text.contains(&key.to_string()),
                    "a damaged record is not reported by its key: {text}"
                );
            }
            Err(e) => panic!("a damaged record gave another error: {e:?}"),
        }
    }
    let absent = CredentialKey::new(
        "nobody@fuzz.invalid",
        "1000.NOBODY",
        DataCenter::Us,
        Environment::Production,
    );
    if !keys.contains(&absent) {
        assert!(
            matches!(file_store::load(file, &absent), Ok(None)),
            "a key without a record loaded"
        );
    }
    // Whatever loads re-encodes and reads back the same, alone and all together.
    for (key, token) in &good {
        let one =
            file_store::write(&[(key.clone(), token)]).expect("a loaded record is written again");
        assert_eq!(
            file_store::load(&one, key).expect("rewritten").as_ref(),
            Some(token),
            "a record changed through its encoding"
        );
    }
    let refs: Vec<(CredentialKey, &TokenSet)> = good.iter().map(|(k, t)| (k.clone(), t)).collect();
    let all = file_store::write(&refs).expect("loaded records are written again");
    for (key, token) in &good {
        assert_eq!(
            file_store::load(&all, key).expect("rewritten").as_ref(),
            Some(token)
        );
    }
    let mut names = String::new();
    for (key, _) in &good {
        let _ = write!(names, "{key};");
    }
    assert!(!names.is_empty() || good.is_empty());
}
