//! Zoho-looking token and code strings from a small per-emulator generator (not cryptographic).

use std::collections::hash_map::RandomState;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};

/// SplitMix64: tiny, fast, good enough to make unique-looking test tokens. Never use it for secrets.
#[derive(Debug, Clone)]
pub(crate) struct IdGen {
    state: u64,
}

impl IdGen {
    /// A generator from `seed`, or from a fresh per-instance seed when `None`.
    pub(crate) fn new(seed: Option<u64>) -> Self {
        let state = seed.unwrap_or_else(|| RandomState::new().build_hasher().finish());
        IdGen { state }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A device-flow user code for a person to type: `XXXX-XXXX` from 20 consonants (no vowels,
    /// so no words; no look-alike digits), as RFC 8628 suggests.
    pub(crate) fn user_code(&mut self) -> String {
        const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
        let mut bits = self.next_u64();
        let mut out = String::with_capacity(9);
        for i in 0..8 {
            if i == 4 {
                out.push('-');
            }
            let index = usize::try_from(bits % 20).unwrap_or(0);
            out.push(char::from(ALPHABET[index]));
            bits /= 20;
        }
        out
    }

    /// A token shaped like Zoho's: `1000.` + 32 hex digits + `.` + 32 hex digits.
    pub(crate) fn token(&mut self) -> String {
        let mut out = String::with_capacity(70);
        out.push_str("1000.");
        for part in 0..2 {
            if part == 1 {
                out.push('.');
            }
            for _ in 0..2 {
                let _ = write!(out, "{:016x}", self.next_u64());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_look_like_zohos_and_differ() {
        let mut ids = IdGen::new(Some(7));
        let a = ids.token();
        let b = ids.token();
        assert_ne!(a, b);
        let parts: Vec<&str> = a.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], "1000");
        for hex in &parts[1..] {
            assert_eq!(hex.len(), 32);
            assert!(hex
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        }
    }

    #[test]
    fn user_codes_are_two_groups_of_four_consonants() {
        let mut ids = IdGen::new(Some(3));
        let code = ids.user_code();
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        assert!(code
            .chars()
            .filter(|c| *c != '-')
            .all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)));
        assert_ne!(code, ids.user_code());
    }

    #[test]
    fn the_same_seed_gives_the_same_tokens() {
        assert_eq!(IdGen::new(Some(1)).token(), IdGen::new(Some(1)).token());
    }
}
