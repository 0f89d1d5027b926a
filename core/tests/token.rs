//! `TokenSet` and `MintLog`: the stored value, its byte encoding, and the rolling mint budget.

use core::time::Duration;

use proptest::prelude::*;
use zoho_oauth_core::cap;
use zoho_oauth_core::token::{DecodeError, MintLog};
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
    proptest::string::string_regex(&format!("[!-~]{{0,{max}}}")).unwrap()
}

fn token_set() -> impl Strategy<Value = TokenSet> {
    (
        token_text(cap::REFRESH_TOKEN),
        proptest::option::of(token_text(cap::ACCESS_TOKEN)),
        any::<u64>(),
        any::<u64>(),
        text(cap::ORIGIN),
        text(cap::SCOPE),
        proptest::collection::vec(any::<u64>(), 0..15),
    )
        .prop_map(|(refresh, access, issued, expires, domain, scope, mints)| {
            let mut t = TokenSet::new(&refresh).unwrap();
            t.access_token = access.map(|a| Secret::new("access_token", &a).unwrap());
            t.issued_at = at(issued);
            t.expires_at = at(expires);
            t.api_domain = domain.as_str().try_into().unwrap();
            t.scope = scope.as_str().try_into().unwrap();
            for m in mints {
                t.mints.record(at(m));
            }
            t
        })
}

fn full_token_set() -> TokenSet {
    let mut t = TokenSet::new(&"r".repeat(cap::REFRESH_TOKEN)).unwrap();
    t.access_token = Some(Secret::new("access_token", &"a".repeat(cap::ACCESS_TOKEN)).unwrap());
    t.api_domain = "d".repeat(cap::ORIGIN).as_str().try_into().unwrap();
    t.scope = "s".repeat(cap::SCOPE).as_str().try_into().unwrap();
    for m in 0..cap::MINT_LOG as u64 {
        t.mints.record(at(m));
    }
    t
}

#[test]
fn a_stored_token_that_could_split_a_header_line_is_corrupt() {
    for bad in ["1000.abc\r\nX-Evil: 1", "1000.a b", "1000.é"] {
        let mut t = TokenSet::new("1000.refresh").unwrap();
        t.access_token = Some(Secret::new("access_token", bad).unwrap());
        let mut buf = [0u8; TokenSet::MAX_ENCODED_LEN];
        let bytes = t.encode(&mut buf).unwrap();
        assert_eq!(
            TokenSet::decode(bytes),
            Err(DecodeError::Corrupt),
            "{bad:?}"
        );
        let t = TokenSet::new(bad).unwrap();
        let bytes = t.encode(&mut buf).unwrap();
        assert_eq!(
            TokenSet::decode(bytes),
            Err(DecodeError::Corrupt),
            "{bad:?}"
        );
    }
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
    fn random_bytes_after_the_header_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let mut bytes = b"ZOT\x01".to_vec();
        bytes.extend_from_slice(&tail);
        if let Ok(t) = TokenSet::decode(&bytes) {
            // Whatever decodes re-encodes to the same bytes: nothing was silently dropped.
            let mut buf = [0u8; TokenSet::MAX_ENCODED_LEN];
            prop_assert_eq!(t.encode(&mut buf).unwrap(), &bytes[..]);
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
    fn a_version_above_one_is_a_future_version(t in token_set(), version in 2u8..=255) {
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
    let mut buf = [0u8; TokenSet::MAX_ENCODED_LEN];
    let t = TokenSet::new("1000.refresh").unwrap();
    let bytes = t.encode(&mut buf).unwrap().to_vec();

    let mut v0 = bytes.clone();
    v0[3] = 0;
    assert_eq!(TokenSet::decode(&v0), Err(DecodeError::Corrupt));

    let mut not_utf8 = bytes.clone();
    not_utf8[6] = 0xFF; // first byte of the refresh token
    assert_eq!(TokenSet::decode(&not_utf8), Err(DecodeError::Corrupt));

    let mut trailing = bytes.clone();
    trailing.push(0);
    assert_eq!(TokenSet::decode(&trailing), Err(DecodeError::Corrupt));

    let mut bad_flag = bytes.clone();
    bad_flag[4 + 2 + "1000.refresh".len()] = 2; // the access-token presence byte
    assert_eq!(TokenSet::decode(&bad_flag), Err(DecodeError::Corrupt));
}

#[test]
fn an_over_capacity_field_is_corrupt_not_truncated() {
    // Hand-built: a refresh token one byte longer than its capacity.
    let len = cap::REFRESH_TOKEN + 1;
    let mut bytes = b"ZOT\x01".to_vec();
    bytes.extend_from_slice(&(len as u16).to_le_bytes());
    bytes.extend(std::iter::repeat_n(b'r', len));
    bytes.push(0);
    bytes.extend_from_slice(&[0; 16]);
    bytes.extend_from_slice(&[0, 0, 0, 0, 0]);
    assert_eq!(TokenSet::decode(&bytes), Err(DecodeError::Corrupt));

    // And a mint log claiming more entries than it can hold.
    let mut buf = [0u8; TokenSet::MAX_ENCODED_LEN];
    let mut encoded = TokenSet::new("r")
        .unwrap()
        .encode(&mut buf)
        .unwrap()
        .to_vec();
    *encoded.last_mut().unwrap() = cap::MINT_LOG as u8 + 1;
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
