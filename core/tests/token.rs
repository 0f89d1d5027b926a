//! `TokenSet` and `MintLog`: the stored value, its byte encoding, and the rolling mint budget.

use core::time::Duration;

use proptest::prelude::*;
use zoho_oauth_core::cap;
use zoho_oauth_core::response::{parse_token, Flow, ReAuthReason};
use zoho_oauth_core::token::{
    DecodeError, GrantKind, Hold, MintLog, PauseReason, SdkRowNote, TokenTextError,
};
use zoho_oauth_core::{BufferTooSmall, Config, Instant, Secret, TokenSet};

fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

/// Text of at most `max` bytes, mixing 1- to 4-byte characters (cheap to generate: a length and
/// a seed drive a small generator, so a thousand cases stay fast in debug builds).
fn text(max: usize) -> impl Strategy<Value = String> {
    (0..=max, any::<u64>()).prop_map(move |(len, mut seed)| {
        const CHARS: [char; 8] = ['a', 'Z', '0', '.', '%', 'é', '€', '😀'];
        let mut s = String::new();
        while s.len() < len {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let c = CHARS[(seed >> 61) as usize];
            if s.len() + c.len_utf8() > max {
                break;
            }
            s.push(c);
        }
        s
    })
}

/// Token text: visible ASCII only, as Zoho's tokens are (anything else is refused on decode).
fn token_text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[!-~]{{1,{max}}}")).unwrap()
}

fn grant_kind() -> impl Strategy<Value = GrantKind> {
    prop_oneof![
        Just(GrantKind::Unknown),
        Just(GrantKind::AuthorizationCode),
        Just(GrantKind::Device),
        Just(GrantKind::RefreshToken),
        Just(GrantKind::ClientCredentials),
    ]
}

fn hold() -> impl Strategy<Value = Hold> {
    (
        proptest::option::of((any::<u64>(), any::<bool>())),
        any::<u32>(),
        proptest::option::of(prop_oneof![
            Just(ReAuthReason::GrantUsedOrExpired),
            Just(ReAuthReason::RefreshTokenRevoked),
            Just(ReAuthReason::NoRefreshToken),
        ]),
    )
        .prop_map(|(pause, failures, reauthorize)| Hold {
            pause: pause.map(|(until, throttled)| {
                let reason = if throttled {
                    PauseReason::Throttled
                } else {
                    PauseReason::Backoff
                };
                (at(until), reason)
            }),
            failures,
            reauthorize,
        })
}

fn token_set() -> impl Strategy<Value = TokenSet> {
    (
        (grant_kind(), token_text(cap::REFRESH_TOKEN)),
        proptest::option::of(token_text(cap::ACCESS_TOKEN)),
        any::<u64>(),
        any::<u64>(),
        (text(cap::ORIGIN), text(cap::SCOPE), text(cap::SOID)),
        proptest::collection::vec(any::<u64>(), 0..15),
        hold(),
    )
        .prop_map(
            |((grant, refresh), access, issued, expires, (domain, scope, soid), mints, hold)| {
                let mut t = TokenSet::new(&refresh).unwrap();
                t.grant = grant;
                if !grant.refreshes() {
                    t.refresh_token = None;
                }
                t.access_token = access.map(|a| Secret::new("access_token", &a).unwrap());
                t.issued_at = at(issued);
                t.expires_at = at(expires);
                t.api_domain = domain.as_str().try_into().unwrap();
                t.scope = scope.as_str().try_into().unwrap();
                t.soid = soid.as_str().try_into().unwrap();
                for m in mints {
                    t.mints.record(at(m));
                }
                t.hold = hold;
                t
            },
        )
}

fn full_token_set() -> TokenSet {
    let mut t = TokenSet::new(&"r".repeat(cap::REFRESH_TOKEN)).unwrap();
    t.access_token = Some(Secret::new("access_token", &"a".repeat(cap::ACCESS_TOKEN)).unwrap());
    t.api_domain = "d".repeat(cap::ORIGIN).as_str().try_into().unwrap();
    t.scope = "s".repeat(cap::SCOPE).as_str().try_into().unwrap();
    t.soid = "o".repeat(cap::SOID).as_str().try_into().unwrap();
    for m in 0..cap::MINT_LOG as u64 {
        t.mints.record(at(m));
    }
    t.hold.pause = Some((at(u64::MAX), PauseReason::Throttled));
    t
}

fn encode(t: &TokenSet) -> Vec<u8> {
    let mut buf = [0u8; TokenSet::MAX_ENCODED_LEN];
    t.encode(&mut buf).unwrap().to_vec()
}

#[test]
fn a_stored_token_that_could_split_a_header_line_is_corrupt() {
    for bad in ["1000.abc\r\nX-Evil: 1", "1000.a b", "1000.é", "1000.abc…"] {
        let mut t = TokenSet::new("1000.refresh").unwrap();
        t.access_token = Some(Secret::new("access_token", bad).unwrap());
        assert_eq!(
            TokenSet::decode(&encode(&t)),
            Err(DecodeError::Corrupt),
            "{bad:?}"
        );
        t.access_token = None;
        t.refresh_token = Some(Secret::new("refresh_token", bad).unwrap());
        assert_eq!(
            TokenSet::decode(&encode(&t)),
            Err(DecodeError::Corrupt),
            "{bad:?}"
        );
    }
}

#[test]
fn tokens_entering_the_library_must_be_visible_ascii_and_not_empty() {
    for bad in [
        "1000.xyz…",
        "1000.a b",
        "1000.a\r\n",
        " 1000.a",
        "1000.\u{7f}",
    ] {
        assert!(
            matches!(TokenSet::new(bad), Err(TokenTextError::NotTokenText { .. })),
            "{bad:?}"
        );
    }
    assert!(matches!(
        TokenSet::new(""),
        Err(TokenTextError::Empty { .. })
    ));
    assert!(matches!(
        TokenSet::new(&"r".repeat(cap::REFRESH_TOKEN + 1)),
        Err(TokenTextError::TooLong(_))
    ));
    let shown = TokenSet::new("1000.secretsecret…").unwrap_err().to_string();
    assert!(!shown.contains("secretsecret"), "{shown}");
    assert!(shown.contains("paste the whole token"), "{shown}");
}

#[test]
fn version_one_bytes_written_by_the_previous_encoder_still_decode() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tokenset_v1/");
    let read = |name: &str| std::fs::read(format!("{dir}{name}")).unwrap();

    let t = TokenSet::decode(&read("refresh_only.bin")).unwrap();
    assert_eq!(t.grant, GrantKind::Unknown);
    assert!(t.grant.refreshes());
    assert_eq!(
        t.refresh_token.as_ref().unwrap().expose(),
        "1000.5d2f4c9e0b7a41c3a8e6f1d2b3c4d5e6.0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    );
    assert_eq!((t.access_token.as_ref(), t.mints.len()), (None, 0));
    assert_eq!(t.hold, Hold::default());

    let t = TokenSet::decode(&read("exchanged_with_mints.bin")).unwrap();
    assert_eq!(
        t.access_token.as_ref().unwrap().expose(),
        "1000.8f3e2d1c0b9a89786756453423120f0e.d4c3b2a1908f7e6d5c4b3a2918070605"
    );
    assert_eq!(t.issued_at, at(1_700_000_000_000));
    assert_eq!(t.expires_at, at(1_700_003_600_000));
    assert_eq!(t.api_domain, "https://www.zohoapis.eu");
    assert_eq!(t.scope, "ZohoCRM.modules.ALL aaaserver.profile.READ");
    assert_eq!(
        t.mints.iter().collect::<Vec<_>>(),
        [
            at(1_699_999_500_000),
            at(1_699_999_800_000),
            at(1_700_000_000_000)
        ]
    );
    assert_eq!((t.soid.as_str(), t.hold), ("", Hold::default()));

    let t = TokenSet::decode(&read("full_mint_log_loopback.bin")).unwrap();
    assert_eq!(t.mints.len(), cap::MINT_LOG);
    assert_eq!(t.api_domain, "http://127.0.0.1:40123");

    // Re-encoded, each is a version-2 token set that decodes to the same value.
    for name in [
        "refresh_only.bin",
        "exchanged_with_mints.bin",
        "full_mint_log_loopback.bin",
    ] {
        let t = TokenSet::decode(&read(name)).unwrap();
        let again = encode(&t);
        assert_eq!(again[3], 2, "{name}");
        assert_eq!(TokenSet::decode(&again).unwrap(), t, "{name}");
    }
}

#[test]
fn only_client_credentials_may_lack_a_refresh_token() {
    let cc = TokenSet::client_credentials("ZohoCRM.modules.ALL", "ZohoCRM.600001234").unwrap();
    assert_eq!(cc.grant, GrantKind::ClientCredentials);
    assert_eq!(TokenSet::decode(&encode(&cc)).unwrap(), cc);
    let mut not_cc = cc.clone();
    not_cc.grant = GrantKind::Device;
    assert_eq!(
        TokenSet::decode(&encode(&not_cc)),
        Err(DecodeError::Corrupt)
    );
}

#[test]
fn a_grant_answer_starts_a_credential_only_with_a_refresh_token() {
    let body = br#"{"access_token":"1000.a","refresh_token":"1000.r","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":3600}"#;
    let grant = parse_token(Flow::Exchange, 200, body).unwrap();
    let t = TokenSet::from_grant(grant, at(1_000), GrantKind::Device).unwrap();
    assert_eq!(t.grant, GrantKind::Device);
    assert_eq!(t.access_token(at(1_000)), Some("1000.a"));
    assert_eq!(t.expires_at, at(3_601_000));
    assert_eq!(t.mints.iter().collect::<Vec<_>>(), [at(1_000)]);
    let online = br#"{"access_token":"1000.a","expires_in":3600}"#;
    let grant = parse_token(Flow::Exchange, 200, online).unwrap();
    assert_eq!(
        TokenSet::from_grant(grant, at(0), GrantKind::AuthorizationCode),
        Err(ReAuthReason::NoRefreshToken)
    );
}

#[test]
fn an_sdk_row_keeps_an_access_token_only_with_a_reasonable_expiry() {
    let now = at(1_700_000_000_000);
    let (t, note) =
        TokenSet::from_sdk_row("1000.r", Some("1000.a"), Some(1_700_000_600_000), "", now).unwrap();
    assert_eq!((t.access_token(now), note), (Some("1000.a"), None));
    assert_eq!(t.issued_at, at(1_700_000_600_000 - 3_600_000));
    assert_eq!(t.grant, GrantKind::RefreshToken);

    let (t, note) = TokenSet::from_sdk_row("1000.r", Some("1000.a"), None, "", now).unwrap();
    assert_eq!(t.access_token, None);
    assert_eq!(note, Some(SdkRowNote::AccessTokenWithoutExpiry));

    for far in [u64::MAX, 1_700_000_000_000 + 24 * 3_600_000 + 1] {
        let (t, note) =
            TokenSet::from_sdk_row("1000.r", Some("1000.a"), Some(far), "", now).unwrap();
        assert_eq!(t.access_token, None, "{far}");
        assert_eq!(note, Some(SdkRowNote::ExpiryTooFar));
    }
    assert!(TokenSet::from_sdk_row("1000.xyz…", None, None, "", now).is_err());
    assert!(
        TokenSet::from_sdk_row("1000.r", Some("1000.a b"), Some(1_700_000_600_000), "", now)
            .is_err()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_of_encode_is_the_same_token_set(t in token_set()) {
        let mut buf = [0u8; TokenSet::MAX_ENCODED_LEN];
        let bytes = t.encode(&mut buf).unwrap();
        prop_assert!(bytes.len() <= TokenSet::MAX_ENCODED_LEN);
        prop_assert_eq!(TokenSet::decode(bytes).unwrap(), t);
    }

    #[test]
    fn random_bytes_never_panic_and_are_rarely_a_token_set(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = TokenSet::decode(&bytes);
    }

    #[test]
    fn random_bytes_after_the_header_never_panic(v2 in any::<bool>(), tail in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let mut bytes = if v2 { b"ZOT\x02".to_vec() } else { b"ZOT\x01".to_vec() };
        bytes.extend_from_slice(&tail);
        if let Ok(t) = TokenSet::decode(&bytes) {
            // Whatever decodes re-encodes to the same bytes: nothing was silently dropped.
            let mut buf = [0u8; TokenSet::MAX_ENCODED_LEN];
            let again = t.encode(&mut buf).unwrap();
            if v2 {
                prop_assert_eq!(again, &bytes[..]);
            } else {
                prop_assert_eq!(TokenSet::decode(again).unwrap(), t);
            }
        }
    }

    #[test]
    fn every_truncation_is_truncated(t in token_set(), cut in any::<prop::sample::Index>()) {
        let mut buf = [0u8; TokenSet::MAX_ENCODED_LEN];
        let bytes = t.encode(&mut buf).unwrap();
        let cut = 4 + cut.index(bytes.len() - 4);
        prop_assert_eq!(TokenSet::decode(&bytes[..cut]), Err(DecodeError::Truncated));
    }

    #[test]
    fn a_version_above_two_is_a_future_version(t in token_set(), version in 3u8..=255) {
        let mut buf = [0u8; TokenSet::MAX_ENCODED_LEN];
        let len = t.encode(&mut buf).unwrap().len();
        buf[3] = version;
        prop_assert_eq!(TokenSet::decode(&buf[..len]), Err(DecodeError::FutureVersion { found: version }));
    }

    #[test]
    fn a_buffer_too_small_is_left_untouched(t in token_set(), short in 0usize..64) {
        let mut big = [0u8; TokenSet::MAX_ENCODED_LEN];
        let needed = t.encode(&mut big).unwrap().len();
        let mut small = vec![0xAAu8; needed.saturating_sub(short + 1)];
        prop_assert_eq!(t.encode(&mut small), Err(BufferTooSmall { required: needed }));
        prop_assert!(small.iter().all(|b| *b == 0xAA));
    }

    #[test]
    fn the_mint_log_keeps_the_newest_times_in_order(times in proptest::collection::vec(0u64..10_000, 0..30)) {
        let mut log = MintLog::default();
        for t in &times {
            log.record(at(*t));
        }
        let mut sorted = times.clone();
        sorted.sort_unstable();
        let newest: Vec<_> = sorted.iter().rev().take(cap::MINT_LOG).rev().map(|t| at(*t)).collect();
        prop_assert_eq!(log.iter().collect::<Vec<_>>(), newest);
        prop_assert_eq!(log.len(), times.len().min(cap::MINT_LOG));
    }
}

#[test]
fn the_largest_token_set_fits_max_encoded_len_exactly() {
    let mut buf = [0u8; TokenSet::MAX_ENCODED_LEN];
    let t = full_token_set();
    assert_eq!(t.encode(&mut buf).unwrap().len(), TokenSet::MAX_ENCODED_LEN);
}

#[test]
fn garbage_is_not_a_token_set() {
    for bytes in [
        &b""[..],
        b"ZO",
        b"{\"access_token\":\"x\"}",
        b"ZOZ\x01",
        b"id,user_name,client_id",
    ] {
        assert_eq!(TokenSet::decode(bytes), Err(DecodeError::NotATokenSet));
    }
}

#[test]
fn version_zero_and_bad_fields_are_corrupt() {
    let t = TokenSet::new("1000.refresh").unwrap();
    let bytes = encode(&t);
    // Layout: "ZOT", version, grant, refresh presence, refresh length (2), refresh token, …
    let refresh_at = 3 + 1 + 1 + 1 + 2;
    let corrupt = |change: &dyn Fn(&mut Vec<u8>)| {
        let mut b = bytes.clone();
        change(&mut b);
        TokenSet::decode(&b)
    };
    assert_eq!(corrupt(&|b| b[3] = 0), Err(DecodeError::Corrupt));
    assert_eq!(corrupt(&|b| b[4] = 9), Err(DecodeError::Corrupt)); // unknown grant
    assert_eq!(corrupt(&|b| b[5] = 2), Err(DecodeError::Corrupt)); // presence byte
    assert_eq!(
        corrupt(&|b| b[refresh_at] = 0xFF),
        Err(DecodeError::Corrupt)
    );
    assert_eq!(corrupt(&|b| b.push(0)), Err(DecodeError::Corrupt));
    let hold_at = bytes.len() - 14;
    assert_eq!(corrupt(&|b| b[hold_at] = 3), Err(DecodeError::Corrupt)); // pause kind
    let reauth_at = bytes.len() - 1;
    assert_eq!(corrupt(&|b| b[reauth_at] = 9), Err(DecodeError::Corrupt));
}

#[test]
fn an_over_capacity_field_is_corrupt_not_truncated() {
    // Hand-built version 1: a refresh token one byte longer than its capacity.
    let len = cap::REFRESH_TOKEN + 1;
    let mut bytes = b"ZOT\x01".to_vec();
    bytes.extend_from_slice(&(len as u16).to_le_bytes());
    bytes.extend(std::iter::repeat_n(b'r', len));
    bytes.push(0);
    bytes.extend_from_slice(&[0; 16]);
    bytes.extend_from_slice(&[0, 0, 0, 0, 0]);
    assert_eq!(TokenSet::decode(&bytes), Err(DecodeError::Corrupt));

    // And a mint log claiming more entries than it can hold (the count byte precedes the hold).
    let mut encoded = encode(&TokenSet::new("r").unwrap());
    let count_at = encoded.len() - 15;
    encoded[count_at] = cap::MINT_LOG as u8 + 1;
    encoded.extend(std::iter::repeat_n(0, 8 * (cap::MINT_LOG + 1)));
    assert_eq!(TokenSet::decode(&encoded), Err(DecodeError::Corrupt));
}

#[test]
fn the_access_token_is_never_returned_at_or_after_expiry() {
    let mut t = TokenSet::new("1000.r").unwrap();
    assert_eq!(t.access_token(at(0)), None);
    t.access_token = Some(Secret::new("access_token", "1000.a").unwrap());
    t.issued_at = at(1_000);
    t.expires_at = at(3_601_000);
    assert_eq!(t.access_token(at(3_600_999)), Some("1000.a"));
    assert_eq!(t.access_token(at(3_601_000)), None);
    assert_eq!(t.access_token(at(u64::MAX)), None);
}

#[test]
fn mints_left_counts_the_rolling_window() {
    let config = Config::default();
    let window = config.budget_window.as_millis() as u64;
    let mut t = TokenSet::new("1000.r").unwrap();
    assert_eq!(t.mints_left(at(0), &config), 10);
    for i in 0..10 {
        t.mints.record(at(i * 1_000));
    }
    assert_eq!(t.mints_left(at(9_000), &config), 0);
    // The first mint leaves the window exactly `window` after it happened.
    assert_eq!(t.mints_left(at(window - 1), &config), 0);
    assert_eq!(t.mints_left(at(window), &config), 1);
    assert_eq!(t.mints_left(at(window + 9_000), &config), 10);
    assert_eq!(t.mints.count_since(at(4_500)), 5);
    // Mints at the epoch still count (no saturating `now - window`).
    let mut early = TokenSet::new("1000.r").unwrap();
    early.mints.record(at(0));
    assert_eq!(
        early.mints_left(
            at(1),
            &Config {
                budget_window: Duration::from_secs(600),
                ..config
            }
        ),
        9
    );
}

#[test]
fn a_mint_older_than_a_full_log_is_dropped() {
    let mut log = MintLog::default();
    for i in 1..=cap::MINT_LOG as u64 {
        log.record(at(i * 10));
    }
    log.record(at(5));
    assert_eq!(log.iter().next(), Some(at(10)));
    log.record(at(15));
    assert_eq!(log.iter().take(2).collect::<Vec<_>>(), [at(15), at(20)]);
    assert_eq!(log.len(), cap::MINT_LOG);
}
