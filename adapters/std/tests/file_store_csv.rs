//! Import from and export to the official SDKs' CSV token file: every row is reported by its
//! line, either as a credential to install (with notes) or as why it is not one.

use proptest::prelude::*;
use zoho_oauth::core::token::{SdkRowNote, TokenTextError};
use zoho_oauth::core::{DataCenter, Environment, Instant, Origin, TokenSet};
use zoho_oauth::sdk::csv::{self, BadRow, CsvError, ImportedRow};
use zoho_oauth::sdk::rows::{ImportedCredential, RowContext, RowError, RowNote};
use zoho_oauth::store::conformance;
use zoho_oauth::CredentialKey;

const HEADER: &str = "id,user_name,client_id,client_secret,refresh_token,access_token,grant_token,expiry_time,redirect_url,api_domain";
const CLIENT: &str = "1000.JX2BTMQ9R4Y7ZNRPBHFNBRGZ9SUEUN";
const SECRET: &str = "8d6a4c3b2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b";
const REFRESH_1: &str = "1000.6c3a1e8f2b7d4c9a0e5f1b2c3d4e5f6a.7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e";
const ACCESS_1: &str = "1000.0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d.6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b";
const REFRESH_2: &str = "1000.f0e1d2c3b4a5968778695a4b3c2d1e0f.0f1e2d3c4b5a69788796a5b4c3d2e1f0";
/// 2023-11-14T22:13:20Z; the access tokens of the fixtures expire one hour later.
const NOW: u64 = 1_700_000_000_000;
const US: (DataCenter, Environment) = (DataCenter::Us, Environment::Production);

fn import_with(
    text: &str,
    origin: &Origin,
    configured: (DataCenter, Environment),
) -> Vec<ImportedRow> {
    let ctx = RowContext {
        origin,
        configured,
        now: Instant::from_millis(NOW),
    };
    csv::import(text.as_bytes(), ctx)
        .collect::<Result<_, _>>()
        .unwrap()
}

fn import_us(text: &str) -> Vec<ImportedRow> {
    import_with(text, &Origin::Zoho(DataCenter::Us), US)
}

fn good(row: &ImportedRow) -> &ImportedCredential {
    row.outcome
        .as_ref()
        .unwrap_or_else(|e| panic!("line {}: {e}", row.line))
}

fn bad(row: &ImportedRow) -> &BadRow {
    row.outcome
        .as_ref()
        .err()
        .unwrap_or_else(|| panic!("line {} imported", row.line))
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
    let rows = import_us(&python_file());
    assert_eq!(rows.len(), 2);

    let ana = good(&rows[0]);
    assert_eq!(
        ana.key,
        CredentialKey::new(
            "ana@example.com",
            CLIENT,
            DataCenter::Us,
            Environment::Production
        )
    );
    assert_eq!(ana.client_secret.as_ref().unwrap().expose(), SECRET);
    assert_eq!(
        ana.token.refresh_token.as_ref().unwrap().expose(),
        REFRESH_1
    );
    assert_eq!(
        ana.token.access_token.as_ref().map(|a| a.expose()),
        Some(ACCESS_1)
    );
    assert_eq!(ana.token.expires_at, Instant::from_millis(NOW + 3_600_000));
    assert_eq!(ana.token.issued_at, Instant::from_millis(NOW));
    assert_eq!(ana.token.api_domain.as_str(), "https://www.zohoapis.com");
    assert_eq!((ana.id.as_deref(), rows[0].line), (Some("1"), 2));
    assert!(ana.notes.is_empty(), "{:?}", ana.notes);

    let bo = good(&rows[1]);
    assert_eq!(bo.key.user, "bo@example.org");
    assert_eq!(bo.token.access_token, None);
    assert_eq!(
        bo.redirect_url.as_deref(),
        Some("https://example.com/oauth/callback")
    );
    assert_eq!(rows[1].line, 3);
}

#[test]
fn the_older_nine_column_file_without_a_header_imports_under_the_configured_data_centre() {
    let text = format!(
        "7,ana@example.com,{CLIENT},{SECRET},{REFRESH_1},{ACCESS_1},,1700003600000,\n\
         8,bo@example.org,{CLIENT},{SECRET},{REFRESH_2},,,,\n"
    );
    let eu = (DataCenter::Eu, Environment::Sandbox);
    let rows = import_with(&text, &Origin::Zoho(DataCenter::Eu), eu);
    assert_eq!(rows.len(), 2);
    let ana = good(&rows[0]);
    assert_eq!(ana.id.as_deref(), Some("7"));
    assert_eq!((ana.key.data_center, ana.key.environment), eu);
    assert_eq!(ana.token.api_domain.as_str(), "");
    assert_eq!(
        good(&rows[1])
            .token
            .refresh_token
            .as_ref()
            .unwrap()
            .expose(),
        REFRESH_2
    );
    assert_eq!(rows[1].line, 2);

    // And with the 9-column header the Node.js SDK migrates from.
    let header9 = HEADER.rsplit_once(',').unwrap().0;
    let with_header = import_us(&format!("{header9}\n{text}"));
    assert_eq!(with_header.len(), 2);
    assert_eq!(with_header[0].line, 2);
}

#[test]
fn empty_cells_are_nulls_and_what_the_mapping_assumed_is_noted() {
    // No user (the SDKs allow it), no id, no client secret, an access token without an expiry
    // (dropped: its lifetime is unknown), a blank line, an expiry without an access token.
    let text = format!(
        "{HEADER}\n\
         ,,{CLIENT},,{REFRESH_1},{ACCESS_1},,,,\n\
         \n\
         3,ana@example.com,{CLIENT},{SECRET},{REFRESH_2},,,1700003600000,,\n"
    );
    let rows = import_us(&text);
    assert_eq!(rows.len(), 2);
    let first = good(&rows[0]);
    assert_eq!(first.key.user, "default");
    assert_eq!(
        (first.id.as_ref(), first.client_secret.as_ref()),
        (None, None)
    );
    assert_eq!(first.token.access_token, None);
    assert_eq!(
        first.notes,
        vec![
            RowNote::AccessTokenDropped(SdkRowNote::AccessTokenWithoutExpiry),
            RowNote::NoUser
        ]
    );
    assert!(first.notes[0]
        .to_string()
        .starts_with("access token dropped: "));
    assert_eq!(good(&rows[1]).token.access_token, None);
    assert_eq!(rows[1].line, 4);
}

#[test]
fn an_access_token_whose_expiry_is_not_believable_is_dropped_with_a_note() {
    let text = format!(
        "1,ana@example.com,{CLIENT},{SECRET},{REFRESH_1},{ACCESS_1},,{},,\n",
        NOW + 30 * 24 * 3_600_000
    );
    let rows = import_us(&text);
    let ana = good(&rows[0]);
    assert_eq!(ana.token.access_token, None);
    assert_eq!(
        ana.notes,
        vec![RowNote::AccessTokenDropped(SdkRowNote::ExpiryTooFar)]
    );
}

#[test]
fn quoted_fields_and_a_byte_order_mark_are_read_per_rfc_4180() {
    let text = format!(
        "\u{feff}{HEADER}\n\
         1,\"ana@example.com\",{CLIENT},\"{SECRET}\",{REFRESH_1},,,,\"https://example.com/cb?a=1,b=2\",https://www.zohoapis.com\n"
    );
    let rows = import_us(&text);
    let ana = good(&rows[0]);
    assert_eq!(ana.key.user, "ana@example.com");
    assert_eq!(ana.client_secret.as_ref().unwrap().expose(), SECRET);
    assert_eq!(
        ana.redirect_url.as_deref(),
        Some("https://example.com/cb?a=1,b=2")
    );
}

#[test]
fn a_header_only_or_empty_file_imports_nothing() {
    assert!(import_us(&format!("{HEADER}\r\n")).is_empty());
    assert!(import_us("").is_empty());
}

#[test]
fn bad_rows_are_reported_by_line_and_the_rows_around_them_still_import() {
    let good_row = |id: u32| format!("{id},ana{id}@example.com,{CLIENT},{SECRET},{REFRESH_1},,,,,");
    type Expect = fn(&BadRow) -> bool;
    let cases: Vec<(String, Expect)> = vec![
        (
            format!("2,bo@example.org,{CLIENT},{SECRET},,,1000.8d1e0b6c2f4a.3c9e7a5b1d0f,,,"),
            |e| *e == BadRow::Row(RowError::GrantTokenOnly),
        ),
        (format!("2,bo@example.org,{CLIENT},{SECRET},,,,,,"), |e| {
            *e == BadRow::Row(RowError::MissingField {
                column: "refresh_token",
            })
        }),
        (
            format!("2,bo@example.org,,{SECRET},{REFRESH_2},,,,,"),
            |e| {
                *e == BadRow::Row(RowError::MissingField {
                    column: "client_id",
                })
            },
        ),
        (
            format!("2,bo@example.org,{CLIENT},{SECRET},{REFRESH_2}"),
            |e| *e == BadRow::ColumnCount { found: 5 },
        ),
        (
            format!("2,bo@example.org,{CLIENT},{SECRET},{REFRESH_2},{ACCESS_1},,tomorrow,,"),
            |e| matches!(e, BadRow::Row(RowError::BadExpiry { .. })),
        ),
        // Tokens Zoho never issues: an ellipsis copied from documentation, a blank inside,
        // one far too long; a client secret with a blank.
        (
            format!("2,bo@example.org,{CLIENT},{SECRET},1000.6c3a…,,,,,"),
            |e| {
                matches!(
                    e,
                    BadRow::Row(RowError::Token(TokenTextError::NotTokenText { .. }))
                )
            },
        ),
        (
            format!(
                "2,bo@example.org,{CLIENT},{SECRET},{REFRESH_2},1000.0a1b 2c3d,,1700003600000,,"
            ),
            |e| {
                matches!(
                    e,
                    BadRow::Row(RowError::Token(TokenTextError::NotTokenText { .. }))
                )
            },
        ),
        (
            format!(
                "2,bo@example.org,{CLIENT},{SECRET},{},,,,,",
                "r".repeat(300)
            ),
            |e| matches!(e, BadRow::Row(RowError::Token(TokenTextError::TooLong(_)))),
        ),
        (
            format!("2,bo@example.org,{CLIENT},se cret,{REFRESH_2},,,,,"),
            |e| {
                matches!(
                    e,
                    BadRow::Row(RowError::Token(TokenTextError::NotTokenText {
                        field: "client secret"
                    }))
                )
            },
        ),
        // An api_domain that names no data centre: the row cannot be keyed.
        (
            format!("2,bo@example.org,{CLIENT},{SECRET},{REFRESH_2},,,,,https://evil.example"),
            |e| matches!(e, BadRow::Row(RowError::Unkeyable { .. })),
        ),
        (
            format!("2,bo@example.org,{CLIENT},{SECRET},{REFRESH_2},,,,,http://127.0.0.1:8080"),
            |e| matches!(e, BadRow::Row(RowError::Unkeyable { .. })),
        ),
    ];
    for (row, want) in cases {
        let text = format!("{HEADER}\n{}\n{row}\n{}\n", good_row(1), good_row(3));
        let rows = import_us(&text);
        assert_eq!(rows.len(), 3, "{text}");
        good(&rows[0]);
        good(&rows[2]);
        assert_eq!(rows[1].line, 3);
        let e = bad(&rows[1]);
        assert!(want(e), "{row}\n=> {e:?}");
        // The message says what to do and never repeats a secret.
        let shown = e.to_string();
        for secret in [
            SECRET,
            REFRESH_1,
            REFRESH_2,
            ACCESS_1,
            "1000.6c3a…",
            "se cret",
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}

#[test]
fn a_row_that_is_not_utf8_is_reported_and_the_next_one_imports() {
    let mut bytes = format!("{HEADER}\n2,bo@example.org,{CLIENT},").into_bytes();
    bytes.extend_from_slice(b"\xff\xfe");
    bytes.extend_from_slice(
        format!(",{REFRESH_2},,,,,\n3,ana@example.com,{CLIENT},{SECRET},{REFRESH_1},,,,,\n")
            .as_bytes(),
    );
    let origin = Origin::Zoho(DataCenter::Us);
    let ctx = RowContext {
        origin: &origin,
        configured: US,
        now: Instant::from_millis(NOW),
    };
    let rows: Vec<_> = csv::import(&bytes[..], ctx)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!((rows[0].line, bad(&rows[0])), (2, &BadRow::NotUtf8));
    assert_eq!(good(&rows[1]).key.user, "ana@example.com");
}

#[test]
fn a_quote_never_closed_ends_the_import_after_the_rows_before_it() {
    let text = format!(
        "{HEADER}\n1,ana@example.com,{CLIENT},{SECRET},{REFRESH_1},,,,,\n2,\"unclosed,,,,,,,,,\n3,x\n"
    );
    let origin = Origin::Zoho(DataCenter::Us);
    let ctx = RowContext {
        origin: &origin,
        configured: US,
        now: Instant::from_millis(NOW),
    };
    let mut rows = csv::import(text.as_bytes(), ctx);
    assert!(rows.next().unwrap().unwrap().outcome.is_ok());
    let e = rows.next().unwrap().unwrap_err();
    assert!(matches!(e, CsvError::UnclosedQuote { line: 3 }), "{e:?}");
    assert!(rows.next().is_none());
    let text = format!("{HEADER}\n\"a\"b,,,,,,,,,\n");
    let ctx = RowContext {
        origin: &origin,
        configured: US,
        now: Instant::from_millis(NOW),
    };
    let e = csv::import(text.as_bytes(), ctx)
        .next()
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, CsvError::TextAfterQuote { line: 2 }), "{e:?}");
}

#[test]
fn a_row_of_another_data_centre_is_keyed_by_it_and_says_so() {
    let text = format!(
        "1,ana@example.com,{CLIENT},{SECRET},{REFRESH_1},,,,,https://www.zohoapis.eu\n\
         2,bo@example.org,{CLIENT},{SECRET},{REFRESH_2},,,,,https://sandbox.zohoapis.com/\n"
    );
    let rows = import_us(&text);
    let ana = good(&rows[0]);
    assert_eq!(
        (ana.key.data_center, ana.key.environment),
        (DataCenter::Eu, Environment::Production)
    );
    assert_eq!(
        ana.notes,
        vec![RowNote::OtherDataCenter {
            found: (DataCenter::Eu, Environment::Production),
            configured: US
        }]
    );
    assert!(
        ana.notes[0].to_string().contains("--data-center eu"),
        "{}",
        ana.notes[0]
    );
    let bo = good(&rows[1]);
    assert_eq!(
        (bo.key.data_center, bo.key.environment),
        (DataCenter::Us, Environment::Sandbox)
    );
}

#[test]
fn under_a_custom_origin_a_loopback_or_empty_api_domain_is_the_configured_data_centre() {
    let origin = Origin::custom("http://127.0.0.1:40123").unwrap();
    let configured = (DataCenter::In, Environment::Developer);
    let text = format!(
        "1,ana@example.com,{CLIENT},{SECRET},{REFRESH_1},,,,,http://127.0.0.1:40123/sandbox\n\
         2,bo@example.org,{CLIENT},{SECRET},{REFRESH_2},,,,,\n"
    );
    for row in import_with(&text, &origin, configured) {
        let c = good(&row);
        assert_eq!((c.key.data_center, c.key.environment), configured);
        assert!(c.notes.is_empty(), "{:?}", c.notes);
    }
}

#[test]
fn debug_of_an_imported_row_redacts_the_secrets() {
    let shown = format!("{:?}", import_us(&python_file()));
    for secret in [SECRET, REFRESH_1, REFRESH_2, ACCESS_1] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(shown.contains("ana@example.com"));
}

/// The fields that survive the SDK format.
fn portable(t: &TokenSet) -> (String, Option<String>, Option<(Instant, Instant)>, String) {
    (
        t.refresh_token.as_ref().unwrap().expose().to_string(),
        t.access_token.as_ref().map(|a| a.expose().to_string()),
        t.access_token.as_ref().map(|_| (t.issued_at, t.expires_at)),
        t.api_domain.to_string(),
    )
}

#[test]
fn export_then_import_round_trips_keys_secrets_and_tokens() {
    let keys: Vec<CredentialKey> = conformance::keys()
        .into_iter()
        .filter(|k| (k.data_center, k.environment) == US && !k.user.is_empty())
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
            // Believable expiries: an hour after NOW.
            if t.access_token.is_some() {
                t.expires_at = Instant::from_millis(NOW + 3_600_000);
                t.issued_at = Instant::from_millis(NOW);
            }
            t
        })
        .collect();
    let secrets: Vec<String> = (0..keys.len()).map(|i| format!("{SECRET}{i}")).collect();
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

    let back = import_us(&text);
    assert_eq!(back.len(), rows.len());
    for (i, (r, (k, t, s))) in back.iter().zip(&rows).enumerate() {
        let r = good(r);
        assert_eq!(&r.key, k);
        assert_eq!(r.client_secret.as_ref().unwrap().expose(), *s);
        assert_eq!(portable(&r.token), portable(t));
        assert_eq!(r.id, Some((i + 1).to_string()));
    }
}

proptest! {
    #[test]
    fn any_visible_tokens_and_printable_names_survive_export_and_import(
        rows in prop::collection::vec(
            ("[ -~\r\n]{1,40}", "[!-~]{1,40}", "[!-~]{1,100}", "[!-~]{1,200}", proptest::option::of(("[!-~]{1,200}", 1u64..=86_400_000))),
            0..6,
        )
    ) {
        let tokens: Vec<TokenSet> = rows
            .iter()
            .map(|(_, _, _, refresh, access)| {
                let mut t = TokenSet::new(refresh).unwrap();
                if let Some((a, lifetime)) = access {
                    t.access_token = Some(zoho_oauth::core::Secret::new("access_token", a).unwrap());
                    t.expires_at = Instant::from_millis(NOW + lifetime);
                    t.issued_at = t.expires_at.saturating_sub(std::time::Duration::from_secs(3600));
                }
                t
            })
            .collect();
        let dev = (DataCenter::Jp, Environment::Developer);
        let input: Vec<(CredentialKey, &TokenSet, &str)> = rows
            .iter()
            .zip(&tokens)
            .map(|((user, client, secret, _, _), t)| {
                (CredentialKey::new(user.as_str(), client.as_str(), dev.0, dev.1), t, secret.as_str())
            })
            .collect();
        let mut out = Vec::new();
        csv::export(&mut out, &input).unwrap();
        let back = import_with(std::str::from_utf8(&out).unwrap(), &Origin::Zoho(DataCenter::Jp), dev);
        prop_assert_eq!(back.len(), input.len());
        for (r, (k, t, s)) in back.iter().zip(&input) {
            let r = good(r);
            prop_assert_eq!(&r.key, k);
            prop_assert_eq!(r.client_secret.as_ref().unwrap().expose(), *s);
            prop_assert_eq!(portable(&r.token), portable(t));
        }
    }
}
