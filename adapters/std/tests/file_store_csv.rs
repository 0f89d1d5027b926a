//! Import from and export to the official SDKs' CSV token file.

use proptest::prelude::*;
use zoho_oauth::conformance;
use zoho_oauth::core::{DataCenter, Environment, Instant, TokenSet};
use zoho_oauth::csv::{self, CsvError, CsvRecord};
use zoho_oauth::CredentialKey;

const HEADER: &str = "id,user_name,client_id,client_secret,refresh_token,access_token,grant_token,expiry_time,redirect_url,api_domain";
const CLIENT: &str = "1000.JX2BTMQ9R4Y7ZNRPBHFNBRGZ9SUEUN";
const SECRET: &str = "8d6a4c3b2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b";
const REFRESH_1: &str = "1000.6c3a1e8f2b7d4c9a0e5f1b2c3d4e5f6a.7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e";
const ACCESS_1: &str = "1000.0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d.6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b";
const REFRESH_2: &str = "1000.f0e1d2c3b4a5968778695a4b3c2d1e0f.0f1e2d3c4b5a69788796a5b4c3d2e1f0";

fn import_us(text: &str) -> Result<Vec<CsvRecord>, CsvError> {
    csv::import(text.as_bytes(), DataCenter::Us, Environment::Production)
}

/// What the Python SDK writes: a header row, `\r\n` line ends (csv.writer's default), 10 columns.
fn python_file() -> String {
    format!(
        "{HEADER}\r\n\
         1,ana@example.com,{CLIENT},{SECRET},{REFRESH_1},{ACCESS_1},,1700003600000,,https://www.zohoapis.com\r\n\
         2,bo@example.org,{CLIENT},{SECRET},{REFRESH_2},,,,https://example.com/oauth/callback,https://www.zohoapis.com\r\n"
    )
}

#[test]
fn a_ten_column_file_with_a_header_imports_every_row() {
    let records = import_us(&python_file()).unwrap();
    assert_eq!(records.len(), 2);

    let ana = &records[0];
    assert_eq!(
        ana.key,
        CredentialKey::new(
            "ana@example.com",
            CLIENT,
            DataCenter::Us,
            Environment::Production
        )
    );
    assert_eq!(ana.client_secret.as_str(), SECRET);
    assert_eq!(ana.token.refresh_token.expose(), REFRESH_1);
    assert_eq!(
        ana.token.access_token.as_ref().map(|a| a.expose()),
        Some(ACCESS_1)
    );
    assert_eq!(
        ana.token.expires_at,
        Instant::from_millis(1_700_003_600_000)
    );
    assert_eq!(ana.token.issued_at, Instant::from_millis(1_700_000_000_000));
    assert_eq!(ana.token.api_domain.as_str(), "https://www.zohoapis.com");
    assert_eq!((ana.id.as_deref(), ana.line), (Some("1"), 2));

    let bo = &records[1];
    assert_eq!(bo.key.user, "bo@example.org");
    assert_eq!(bo.token.access_token, None);
    assert_eq!(
        bo.redirect_url.as_deref(),
        Some("https://example.com/oauth/callback")
    );
    assert_eq!(bo.line, 3);
}

#[test]
fn the_older_nine_column_file_without_a_header_imports_too() {
    let text = format!(
        "7,ana@example.com,{CLIENT},{SECRET},{REFRESH_1},{ACCESS_1},,1700003600000,\n\
         8,bo@example.org,{CLIENT},{SECRET},{REFRESH_2},,,,\n"
    );
    let records = import_us(&text).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].id.as_deref(), Some("7"));
    assert_eq!(records[0].token.refresh_token.expose(), REFRESH_1);
    assert_eq!(records[0].token.api_domain.as_str(), "");
    assert_eq!(records[1].token.refresh_token.expose(), REFRESH_2);
    assert_eq!(records[1].line, 2);

    // And with the 9-column header the Node.js SDK migrates from.
    let header9 = HEADER.rsplit_once(',').unwrap().0;
    let with_header = import_us(&format!("{header9}\n{text}")).unwrap();
    assert_eq!(with_header.len(), 2);
    assert_eq!(with_header[0].line, 2);
}

#[test]
fn empty_cells_are_nulls() {
    // No user (the SDKs allow it), no id, an access token without an expiry (dropped: its
    // lifetime is unknown), a blank line, an expiry without an access token (ignored).
    let text = format!(
        "{HEADER}\n\
         ,,{CLIENT},{SECRET},{REFRESH_1},{ACCESS_1},,,,\n\
         \n\
         3,ana@example.com,{CLIENT},{SECRET},{REFRESH_2},,,1700003600000,,\n"
    );
    let records = import_us(&text).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].key.user, "default");
    assert_eq!(records[0].id, None);
    assert_eq!(records[0].token.access_token, None);
    assert_eq!(records[0].redirect_url, None);
    assert_eq!(records[1].token.access_token, None);
    assert_eq!(records[1].line, 4);
}

#[test]
fn quoted_fields_and_a_byte_order_mark_are_read_per_rfc_4180() {
    let text = format!(
        "\u{feff}{HEADER}\n\
         1,\"ana@example.com\",{CLIENT},\"se,cr\"\"et\",{REFRESH_1},,,,\"https://example.com/cb?a=1,b=2\",https://www.zohoapis.com\n"
    );
    let records = import_us(&text).unwrap();
    assert_eq!(records[0].key.user, "ana@example.com");
    assert_eq!(records[0].client_secret.as_str(), "se,cr\"et");
    assert_eq!(
        records[0].redirect_url.as_deref(),
        Some("https://example.com/cb?a=1,b=2")
    );
}

#[test]
fn a_header_only_or_empty_file_imports_nothing() {
    assert!(import_us(&format!("{HEADER}\r\n")).unwrap().is_empty());
    assert!(import_us("").unwrap().is_empty());
}

#[test]
fn bad_rows_are_errors_naming_their_line() {
    let row = |cells: &str| {
        format!("{HEADER}\n1,ana@example.com,{CLIENT},{SECRET},{REFRESH_1},,,,,\n{cells}\n")
    };
    type Expect = fn(&CsvError) -> bool;
    let cases: Vec<(String, Expect)> = vec![
        // A grant token that was never exchanged.
        (
            row(&format!(
                "2,bo@example.org,{CLIENT},{SECRET},,,1000.8d1e0b6c2f4a.3c9e7a5b1d0f,,,"
            )),
            |e| matches!(e, CsvError::GrantTokenOnly { line: 3 }),
        ),
        (
            row(&format!("2,bo@example.org,{CLIENT},{SECRET},,,,,,")),
            |e| {
                matches!(
                    e,
                    CsvError::MissingField {
                        line: 3,
                        column: "refresh_token"
                    }
                )
            },
        ),
        (
            row(&format!("2,bo@example.org,,{SECRET},{REFRESH_2},,,,,")),
            |e| {
                matches!(
                    e,
                    CsvError::MissingField {
                        line: 3,
                        column: "client_id"
                    }
                )
            },
        ),
        (
            row(&format!("2,bo@example.org,{CLIENT},,{REFRESH_2},,,,,")),
            |e| {
                matches!(
                    e,
                    CsvError::MissingField {
                        line: 3,
                        column: "client_secret"
                    }
                )
            },
        ),
        (
            row(&format!("2,bo@example.org,{CLIENT},{SECRET},{REFRESH_2}")),
            |e| matches!(e, CsvError::ColumnCount { line: 3, found: 5 }),
        ),
        (
            row(&format!(
                "2,bo@example.org,{CLIENT},{SECRET},{REFRESH_2},{ACCESS_1},,tomorrow,,"
            )),
            |e| matches!(e, CsvError::BadExpiry { line: 3, .. }),
        ),
        (
            row(&format!(
                "2,bo@example.org,{CLIENT},{SECRET},{REFRESH_2},,,,,https://www.zohoapis.eu"
            )),
            |e| {
                matches!(
                    e,
                    CsvError::DataCenterMismatch {
                        line: 3,
                        found: (DataCenter::Eu, Environment::Production),
                        ..
                    }
                )
            },
        ),
        (
            row(&format!(
                "2,bo@example.org,{CLIENT},{SECRET},{REFRESH_2},,,,,https://sandbox.zohoapis.com"
            )),
            |e| {
                matches!(
                    e,
                    CsvError::DataCenterMismatch {
                        line: 3,
                        found: (DataCenter::Us, Environment::Sandbox),
                        ..
                    }
                )
            },
        ),
        (
            row(&format!(
                "2,bo@example.org,{CLIENT},{SECRET},{},,,,,",
                "r".repeat(300)
            )),
            |e| matches!(e, CsvError::TooLong { line: 3, .. }),
        ),
        (row("2,\"unclosed,,,,,,,,,\n"), |e| {
            matches!(e, CsvError::UnclosedQuote { line: 3 })
        }),
        (row("\"a\"b,,,,,,,,,"), |e| {
            matches!(e, CsvError::TextAfterQuote { line: 3 })
        }),
    ];
    for (text, want) in cases {
        let e = import_us(&text).expect_err(&text);
        assert!(want(&e), "{text}\n=> {e:?}");
        // The message says what to do and never repeats a secret.
        let shown = e.to_string();
        assert!(shown.starts_with("line 3: "), "{shown}");
        for secret in [SECRET, REFRESH_1, REFRESH_2, ACCESS_1] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
    assert!(matches!(
        csv::import(&b"id\n\xff\n"[..], DataCenter::Us, Environment::Production),
        Err(CsvError::NotUtf8 { line: 2 })
    ));
}

#[test]
fn debug_of_a_record_redacts_the_secrets() {
    let records = import_us(&python_file()).unwrap();
    let shown = format!("{records:?}");
    for secret in [SECRET, REFRESH_1, REFRESH_2, ACCESS_1] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(shown.contains("ana@example.com"));
}

/// The fields that survive the SDK format.
fn portable(t: &TokenSet) -> (String, Option<String>, Option<(Instant, Instant)>, String) {
    (
        t.refresh_token.expose().to_string(),
        t.access_token.as_ref().map(|a| a.expose().to_string()),
        t.access_token.as_ref().map(|_| (t.issued_at, t.expires_at)),
        t.api_domain.to_string(),
    )
}

#[test]
fn export_then_import_round_trips_keys_secrets_and_tokens() {
    let keys: Vec<CredentialKey> = conformance::keys()
        .into_iter()
        .filter(|k| {
            k.data_center == DataCenter::Us
                && k.environment == Environment::Production
                && !k.user.is_empty()
        })
        .collect();
    assert!(
        keys.iter().any(|k| k.user.contains(['\n', ',', '"'])),
        "quoting is exercised"
    );
    let tokens: Vec<TokenSet> = (0..keys.len() as u64)
        .map(|seed| {
            let mut t = conformance::token(seed);
            t.api_domain.clear();
            t.api_domain.push_str("https://www.zohoapis.com").unwrap();
            t
        })
        .collect();
    let secrets: Vec<String> = (0..keys.len())
        .map(|i| format!("{SECRET}{i},\"x\""))
        .collect();
    let rows: Vec<(CredentialKey, &TokenSet, &str)> = keys
        .iter()
        .zip(&tokens)
        .zip(&secrets)
        .map(|((k, t), s)| (k.clone(), t, s.as_str()))
        .collect();

    let mut out = Vec::new();
    csv::export(&mut out, &rows).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with(&format!("{HEADER}\n1,")), "{text}");

    let back = import_us(&text).unwrap();
    assert_eq!(back.len(), rows.len());
    for (i, (r, (k, t, s))) in back.iter().zip(&rows).enumerate() {
        assert_eq!(&r.key, k);
        assert_eq!(r.client_secret.as_str(), *s);
        assert_eq!(portable(&r.token), portable(t));
        assert_eq!(r.id, Some((i + 1).to_string()));
    }
}

proptest! {
    #[test]
    fn any_printable_values_survive_export_and_import(
        rows in prop::collection::vec(
            ("[ -~\r\n]{1,40}", "[ -~]{1,40}", "[ -~\r\n]{1,40}", "[!-~]{1,200}", proptest::option::of(("[!-~]{1,200}", 0u64..=u64::MAX / 2))),
            0..6,
        )
    ) {
        let tokens: Vec<TokenSet> = rows
            .iter()
            .map(|(_, _, _, refresh, access)| {
                let mut t = TokenSet::new(refresh).unwrap();
                if let Some((a, expiry)) = access {
                    t.access_token = Some(zoho_oauth::core::Secret::new("access_token", a).unwrap());
                    t.expires_at = Instant::from_millis(*expiry);
                    t.issued_at = t.expires_at.saturating_sub(std::time::Duration::from_secs(3600));
                }
                t
            })
            .collect();
        let input: Vec<(CredentialKey, &TokenSet, &str)> = rows
            .iter()
            .zip(&tokens)
            .map(|((user, client, secret, _, _), t)| {
                (CredentialKey::new(user.as_str(), client.as_str(), DataCenter::Jp, Environment::Developer), t, secret.as_str())
            })
            .collect();
        let mut out = Vec::new();
        csv::export(&mut out, &input).unwrap();
        let back = csv::import(&out[..], DataCenter::Jp, Environment::Developer).unwrap();
        prop_assert_eq!(back.len(), input.len());
        for (r, (k, t, s)) in back.iter().zip(&input) {
            prop_assert_eq!(&r.key, k);
            prop_assert_eq!(r.client_secret.as_str(), *s);
            prop_assert_eq!(portable(&r.token), portable(t));
        }
    }
}
