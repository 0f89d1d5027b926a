//! Fixed-capacity secret strings: redacted `Debug`, zeroized on drop, compared in constant time.

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// A value longer than the fixed capacity reserved for it. Never truncated silently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapacityError {
    /// Which field (`"access_token"`, `"scope"`, …).
    pub field: &'static str,
    /// Its capacity in bytes.
    pub capacity: usize,
    /// The length that was offered.
    pub actual: usize,
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is {} bytes, more than the {} reserved for it: check the value, or raise zoho_oauth_core::cap",
            self.field, self.actual, self.capacity
        )
    }
}

impl core::error::Error for CapacityError {}

/// A secret of at most `N` bytes of UTF-8 (a token, a client secret, a grant code).
///
/// `Debug` and `Display` show only the last four characters (`Secret(…1a2b)`); the bytes are
/// overwritten with zeros when the value is dropped; [`Secret::ct_eq`] compares in constant time.
#[derive(Clone)]
pub struct Secret<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Secret<N> {
    /// Copy `value` into a new secret; `field` names it in the error if it does not fit.
    pub fn new(field: &'static str, value: &str) -> Result<Self, CapacityError> {
        if value.len() > N {
            return Err(CapacityError {
                field,
                capacity: N,
                actual: value.len(),
            });
        }
        let mut bytes = [0u8; N];
        bytes[..value.len()].copy_from_slice(value.as_bytes());
        Ok(Self {
            bytes,
            len: value.len(),
        })
    }

    /// The secret itself. Call this only to put it on the wire or in a store.
    pub fn expose(&self) -> &str {
        // Only ever filled from a `&str`, so always UTF-8.
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Constant-time equality with `other` (the time depends only on the lengths).
    pub fn ct_eq(&self, other: &str) -> bool {
        ct_eq(self.expose().as_bytes(), other.as_bytes())
    }

    /// The last four characters, for display (`…1a2b`). Shorter secrets show nothing.
    pub fn hint(&self) -> &str {
        let s = self.expose();
        if s.chars().count() <= 8 {
            return "";
        }
        let start = s.char_indices().rev().nth(3).map(|(i, _)| i).unwrap_or(0);
        &s[start..]
    }
}

impl<const N: usize> PartialEq for Secret<N> {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other.expose())
    }
}

impl<const N: usize> Eq for Secret<N> {}

impl<const N: usize> Drop for Secret<N> {
    fn drop(&mut self) {
        // Only `new` writes the bytes, and it leaves every byte past `len` zero: wiping the used
        // prefix wipes the secret (and keeps dropping a 256-byte secret cheap).
        self.bytes[..self.len].zeroize();
        self.len = 0;
    }
}

impl<const N: usize> fmt::Debug for Secret<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(…{})", self.hint())
    }
}

impl<const N: usize> fmt::Display for Secret<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "…{}", self.hint())
    }
}

/// Constant-time byte comparison: the time depends on the lengths, never on where they differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Whether every byte is visible ASCII (`!` to `~`): the only characters a Zoho token, grant code
/// or client secret has, and the only ones safe to put in an HTTP header line. Checked 8 bytes at
/// a time.
pub fn is_token_text(bytes: &[u8]) -> bool {
    let mut invisible = 0u64;
    let mut rest = bytes;
    while let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
        invisible |= crate::scan::invisible_bytes(u64::from_le_bytes(*chunk));
        rest = tail;
    }
    invisible == 0 && rest.iter().all(|b| matches!(b, 0x21..=0x7E))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    extern crate std;
    use std::format;
    use std::string::String;

    const TOKEN: &str = "1000.8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d.2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b";

    #[test]
    fn debug_and_display_show_only_the_last_four_characters() {
        let s: Secret<128> = Secret::new("refresh_token", TOKEN).unwrap();
        assert_eq!(format!("{s:?}"), "Secret(…8a7b)");
        assert_eq!(format!("{s}"), "…8a7b");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret(…8a7b))");
    }

    #[test]
    fn short_secrets_show_nothing_at_all() {
        let s: Secret<16> = Secret::new("code", "12345678").unwrap();
        assert_eq!(format!("{s:?}"), "Secret(…)");
        let e: Secret<16> = Secret::new("code", "").unwrap();
        assert!(e.is_empty());
        assert_eq!(format!("{e:?}"), "Secret(…)");
    }

    #[test]
    fn the_hint_respects_character_boundaries() {
        let s: Secret<64> = Secret::new("x", "ééééééééé€€€€").unwrap();
        assert_eq!(s.hint(), "€€€€");
    }

    #[test]
    fn a_value_over_capacity_is_an_error_naming_the_field() {
        let err = Secret::<8>::new("client_secret", "123456789").unwrap_err();
        assert_eq!(
            err,
            CapacityError {
                field: "client_secret",
                capacity: 8,
                actual: 9
            }
        );
        let msg = format!("{err}");
        assert!(
            msg.contains("client_secret") && msg.contains('9') && msg.contains('8'),
            "{msg}"
        );
        assert!(!msg.contains("123456789"));
        assert_eq!(Secret::<8>::new("x", "12345678").unwrap().len(), 8);
    }

    #[test]
    fn ct_eq_compares_content_and_length() {
        assert!(ct_eq(b"state-1", b"state-1"));
        assert!(!ct_eq(b"state-1", b"state-2"));
        assert!(!ct_eq(b"state", b"state-1"));
        assert!(ct_eq(b"", b""));
        let s: Secret<128> = Secret::new("t", TOKEN).unwrap();
        assert!(s.ct_eq(TOKEN));
        assert!(!s.ct_eq(&TOKEN[1..]));
        assert_eq!(s, Secret::new("t", TOKEN).unwrap());
        assert_ne!(s, Secret::new("t", "other").unwrap());
    }

    proptest! {
        #[test]
        fn a_secret_exposes_exactly_what_went_in(v in any::<String>()) {
            match Secret::<64>::new("v", &v) {
                Ok(s) => {
                    prop_assert_eq!(s.expose(), v.as_str());
                    let shown = format!("{s:?}");
                    prop_assert!(shown.chars().count() <= "Secret(…)".chars().count() + 4);
                    if v.chars().count() > 8 {
                        prop_assert!(!shown.contains(v.as_str()));
                    }
                }
                Err(e) => prop_assert!(v.len() > 64 && e.actual == v.len()),
            }
        }

        #[test]
        fn ct_eq_agrees_with_equality(a in any::<std::vec::Vec<u8>>(), b in any::<std::vec::Vec<u8>>()) {
            prop_assert_eq!(ct_eq(&a, &b), a == b);
            prop_assert!(ct_eq(&a, &a));
        }
    }
}
