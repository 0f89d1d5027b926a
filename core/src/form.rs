//! `application/x-www-form-urlencoded` and query-string encoding and decoding into caller buffers.
//!
//! Encoding is strict and the same for every context (form body, query string): the unreserved
//! bytes `A-Z a-z 0-9 - . _ ~` pass through, every other byte (space, `& + = %`, every byte of a
//! non-ASCII character) becomes `%XX` with upper-case hex. Decoding is lenient where browsers and
//! servers differ: `+` and `%20` both mean a space, hex digits may be either case.
//!
//! ```
//! use zoho_oauth_core::form;
//!
//! let mut enc = [0u8; 64];
//! let n = form::encode_into("a b&c=ü", &mut enc).unwrap();
//! assert_eq!(&enc[..n], b"a%20b%26c%3D%C3%BC");
//!
//! let mut dec = [0u8; 64];
//! let text = core::str::from_utf8(&enc[..n]).unwrap();
//! assert_eq!(form::decode_into(text, &mut dec).unwrap(), "a b&c=ü");
//! ```

use core::fmt;

use crate::request::BufferTooSmall;

/// A form or query component could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormError {
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// The decoded bytes are not UTF-8.
    NotUtf8,
    /// The output buffer is too small; nothing was written.
    BufferTooSmall {
        /// The size in bytes that would have been enough.
        required: usize,
    },
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadEscape => f.write_str(
                "bad percent escape (a '%' not followed by two hex digits): the URL was cut or mangled, copy it again in full",
            ),
            Self::NotUtf8 => f.write_str(
                "percent-decoded value is not UTF-8: the URL was mangled, copy it again in full",
            ),
            Self::BufferTooSmall { required } => write!(
                f,
                "decode buffer too small: {required} bytes are needed, give a buffer at least that large and call again"
            ),
        }
    }
}

impl core::error::Error for FormError {}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Whether `b` passes through encoding unchanged (RFC 3986 unreserved).
const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// The length of `value` once percent-encoded with [`encode_into`].
pub fn encoded_len(value: &str) -> usize {
    value
        .bytes()
        .map(|b| if is_unreserved(b) { 1 } else { 3 })
        .sum()
}

/// Percent-encode one component (a key or a value) into `out`; returns the number of bytes written.
///
/// On [`BufferTooSmall`] (`out` shorter than [`encoded_len`]) nothing is written.
pub fn encode_into(value: &str, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
    let required = encoded_len(value);
    if out.len() < required {
        return Err(BufferTooSmall { required });
    }
    let mut n = 0;
    for b in value.bytes() {
        if is_unreserved(b) {
            out[n] = b;
            n += 1;
        } else {
            out[n] = b'%';
            out[n + 1] = HEX[usize::from(b >> 4)];
            out[n + 2] = HEX[usize::from(b & 0x0f)];
            n += 3;
        }
    }
    Ok(n)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decode the escape starting at `bytes[i]` (`%XX`), if well formed.
fn escape_at(bytes: &[u8], i: usize) -> Option<u8> {
    let hi = hex_value(*bytes.get(i + 1)?)?;
    let lo = hex_value(*bytes.get(i + 2)?)?;
    Some(hi << 4 | lo)
}

/// The decoded length of `value`, or [`FormError::BadEscape`].
fn decoded_len(value: &str) -> Result<usize, FormError> {
    let bytes = value.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < bytes.len() {
        if bytes[i] == b'%' {
            escape_at(bytes, i).ok_or(FormError::BadEscape)?;
            i += 3;
        } else {
            i += 1;
        }
        n += 1;
    }
    Ok(n)
}

/// Percent-decode one component into `out` (`+` and `%20` become a space) and return it as text.
///
/// A malformed escape gives [`FormError::BadEscape`], bytes that are not UTF-8 give
/// [`FormError::NotUtf8`]; a short `out` gives [`FormError::BufferTooSmall`] and is left untouched.
pub fn decode_into<'b>(value: &str, out: &'b mut [u8]) -> Result<&'b str, FormError> {
    let required = decoded_len(value)?;
    if out.len() < required {
        return Err(FormError::BufferTooSmall { required });
    }
    let bytes = value.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < bytes.len() {
        out[n] = match bytes[i] {
            b'%' => {
                i += 3;
                // Validated by `decoded_len`.
                escape_at(bytes, i - 3).ok_or(FormError::BadEscape)?
            }
            b'+' => {
                i += 1;
                b' '
            }
            b => {
                i += 1;
                b
            }
        };
        n += 1;
    }
    core::str::from_utf8(&out[..n]).map_err(|_| FormError::NotUtf8)
}

/// The raw (still encoded) `key=value` pairs of a form body or query string.
///
/// Pairs are split on `&`, then on the first `=`; a pair without `=` has an empty value, empty
/// pairs (`a=1&&b=2`) are skipped. Decode keys and values with [`decode_into`].
pub fn pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    extern crate std;
    use std::string::String;
    use std::vec;

    fn encode(s: &str) -> String {
        let mut out = vec![0u8; encoded_len(s)];
        let n = encode_into(s, &mut out).unwrap();
        assert_eq!(n, out.len());
        String::from_utf8(out).unwrap()
    }

    fn decode(s: &str) -> Result<String, FormError> {
        let mut out = vec![0u8; s.len()];
        decode_into(s, &mut out).map(String::from)
    }

    #[test]
    fn reserved_bytes_are_escaped_with_upper_case_hex() {
        assert_eq!(encode("& + = % ~-._"), "%26%20%2B%20%3D%20%25%20~-._");
        assert_eq!(encode("/:?#"), "%2F%3A%3F%23");
        assert_eq!(encode("é€"), "%C3%A9%E2%82%AC");
        assert_eq!(encode("AZaz09"), "AZaz09");
    }

    #[test]
    fn plus_and_percent_twenty_both_decode_to_space() {
        assert_eq!(decode("a+b%20c").unwrap(), "a b c");
        assert_eq!(decode("%2b%2B").unwrap(), "++");
    }

    #[test]
    fn a_broken_escape_is_an_error() {
        for bad in ["%", "%2", "a%zz", "%g0", "100%"] {
            assert_eq!(decode(bad), Err(FormError::BadEscape), "{bad}");
        }
    }

    #[test]
    fn escapes_that_are_not_utf8_are_an_error() {
        assert_eq!(decode("%FF"), Err(FormError::NotUtf8));
        assert_eq!(decode("%C3"), Err(FormError::NotUtf8));
    }

    #[test]
    fn a_short_output_buffer_reports_the_size_and_is_left_untouched() {
        let mut out = [0xAAu8; 3];
        assert_eq!(
            decode_into("ab%20cd", &mut out),
            Err(FormError::BufferTooSmall { required: 5 })
        );
        assert_eq!(out, [0xAA; 3]);
        let mut enc = [0xAAu8; 5];
        assert_eq!(encode_into("a b", &mut enc), Ok(5));
        assert_eq!(&enc, b"a%20b");
        let mut small = [0xAAu8; 4];
        assert_eq!(
            encode_into("a b", &mut small),
            Err(BufferTooSmall { required: 5 })
        );
        assert_eq!(small, [0xAA; 4]);
    }

    #[test]
    fn pairs_split_on_ampersand_and_first_equals() {
        let got: vec::Vec<_> = pairs("a=1&&b=x=y&flag&=v&c=").collect();
        assert_eq!(
            got,
            [("a", "1"), ("b", "x=y"), ("flag", ""), ("", "v"), ("c", "")]
        );
        assert_eq!(pairs("").count(), 0);
    }

    #[test]
    fn form_error_display_says_what_to_do() {
        let s = std::format!("{}", FormError::BufferTooSmall { required: 9 });
        assert!(s.contains('9') && s.contains("call again"), "{s}");
    }

    proptest! {
        #[test]
        fn decoding_an_encoding_gives_back_the_original(s in any::<String>()) {
            let e = encode(&s);
            prop_assert_eq!(decode(&e).unwrap(), s);
        }

        #[test]
        fn encoded_output_has_only_unreserved_bytes_and_escapes(s in any::<String>()) {
            let e = encode(&s);
            let b = e.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%' {
                    prop_assert!(i + 2 < b.len());
                    prop_assert!(matches!(b[i + 1], b'0'..=b'9' | b'A'..=b'F'));
                    prop_assert!(matches!(b[i + 2], b'0'..=b'9' | b'A'..=b'F'));
                    i += 3;
                } else {
                    prop_assert!(is_unreserved(b[i]), "byte {:?}", b[i] as char);
                    i += 1;
                }
            }
        }

        #[test]
        fn decoding_never_panics_and_never_grows(s in any::<String>()) {
            if let Ok(d) = decode(&s) {
                prop_assert!(d.len() <= s.len());
            }
        }
    }
}
