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
    fn the_same_seed_gives_the_same_tokens() {
        assert_eq!(IdGen::new(Some(1)).token(), IdGen::new(Some(1)).token());
    }
}
