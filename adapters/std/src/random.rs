//! Randomness: the login `state` from the OS CSPRNG (`getrandom`); backoff jitter from SipHash
//! keyed by the OS-seeded `RandomState` (unpredictable enough to spread retries, and infallible).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// 64 unpredictable bits: a keyed hash (random 128-bit key from the OS, per thread) of a counter
/// and the time, so two calls never hash the same input.
pub(crate) fn u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    h.finish()
}

/// Jitter for the core's backoff.
pub(crate) fn u32() -> u32 {
    (u64() >> 32) as u32
}

/// A 32-hex-character (128-bit) `state` for the authorization redirect, from the OS CSPRNG.
/// Should the OS refuse (it practically never does), the keyed-hash generator stands in.
pub(crate) fn state() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        bytes[..8].copy_from_slice(&u64().to_le_bytes());
        bytes[8..].copy_from_slice(&u64().to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A PKCE verifier from 32 bytes of the OS CSPRNG (`None` only if the OS refuses randomness, and
/// then the login goes without PKCE rather than with a guessable verifier).
pub(crate) fn pkce_verifier() -> Option<zoho_oauth_core::pkce::CodeVerifier> {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut *bytes).ok()?;
    zoho_oauth_core::pkce::CodeVerifier::from_random(&*bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_32_hex_characters_and_differ() {
        let (a, b) = (state(), state());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
