//! PKCE (RFC 7636) for public clients (desktop and mobile apps): a secret verifier, and its S256
//! challenge.
//!
//! The core has no randomness: bring 32 random bytes (or up to 96) from your platform's
//! cryptographic generator. Then, in order:
//!
//! 1. [`CodeVerifier::from_random`] makes the verifier; keep it, secret, until the code comes back
//!    (store it with the login's `state` if another process completes the login:
//!    [`CodeVerifier::new`] takes it back).
//! 2. [`CodeVerifier::challenge`] gives the [`CodeChallenge`] to put in the authorization URL
//!    ([`AuthorizeParams::code_challenge`](crate::authorize::AuthorizeParams::code_challenge)),
//!    which then carries `code_challenge=…&code_challenge_method=S256`.
//! 3. The exchange of the returned code sends the verifier
//!    ([`request::exchange`](crate::request::exchange)'s `code_verifier`): Zoho checks that its
//!    SHA-256 is the challenge, so a code intercepted on the way back is useless without it.
//!
//! Only `S256` exists here: Zoho's default method, `plain`, sends the verifier itself in the URL
//! and protects nothing.
//!
//! ```
//! use zoho_oauth_core::authorize::{self, AccessType, AuthorizeParams};
//! use zoho_oauth_core::pkce::CodeVerifier;
//! use zoho_oauth_core::{request, DataCenter, Origin};
//!
//! let random = [7u8; 32]; // from your cryptographic random source
//! let verifier = CodeVerifier::from_random(&random)?;
//! let challenge = verifier.challenge();
//! let us = Origin::Zoho(DataCenter::Us);
//! let params = AuthorizeParams {
//!     client_id: "1000.ABC",
//!     redirect_uri: "http://127.0.0.1:8765/callback",
//!     scopes: &["ZohoCRM.modules.ALL"],
//!     access_type: AccessType::Offline,
//!     prompt: None,
//!     state: "k3y",
//!     code_challenge: Some(&challenge),
//! };
//! let mut buf = [0u8; 512];
//! let url = authorize::authorization_url(&mut buf, &us, &params).unwrap();
//! assert!(url.contains(&format!("&code_challenge={}&code_challenge_method=S256&", challenge.as_str())));
//!
//! // The code came back: exchange it with the verifier.
//! let mut buf = [0u8; 512];
//! let req = request::exchange(&mut buf, &us, "1000.ABC", "s3cret", "1000.code",
//!     Some("http://127.0.0.1:8765/callback"), Some(verifier.expose())).unwrap();
//! assert!(req.body.ends_with(format!("&code_verifier={}", verifier.expose()).as_bytes()));
//! # Ok::<(), zoho_oauth_core::pkce::PkceError>(())
//! ```

use core::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// The fewest random bytes [`CodeVerifier::from_random`] takes: 32 bytes (256 bits) make the
/// shortest verifier RFC 7636 allows, 43 characters.
pub const MIN_RANDOM_BYTES: usize = 32;
/// The most random bytes [`CodeVerifier::from_random`] takes: 96 bytes make the longest
/// verifier RFC 7636 allows, 128 characters.
pub const MAX_RANDOM_BYTES: usize = 96;

/// The shortest verifier (RFC 7636 §4.1).
const MIN_VERIFIER_LEN: usize = 43;
/// The longest verifier (RFC 7636 §4.1).
const MAX_VERIFIER_LEN: usize = 128;
/// The length of an S256 challenge: base64url of a 32-byte digest, without padding.
const CHALLENGE_LEN: usize = 43;

/// A PKCE code verifier: 43 to 128 characters of `A-Z a-z 0-9 - . _ ~`. A secret until the
/// exchange: `Debug` shows only its last four characters, and it is zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeVerifier(Secret<MAX_VERIFIER_LEN>);

/// The S256 challenge of a [`CodeVerifier`]: `BASE64URL(SHA-256(verifier))`, 43 characters. Not
/// a secret: it travels in the authorization URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CodeChallenge(heapless::String<CHALLENGE_LEN>);

/// A verifier could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PkceError {
    /// [`CodeVerifier::from_random`] was given fewer than [`MIN_RANDOM_BYTES`] or more than
    /// [`MAX_RANDOM_BYTES`].
    RandomLength {
        /// How many bytes were given.
        given: usize,
    },
    /// [`CodeVerifier::new`] was given text that is not 43 to 128 characters of
    /// `A-Z a-z 0-9 - . _ ~`.
    BadVerifier,
}

impl fmt::Display for PkceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RandomLength { given } => write!(
                f,
                "a PKCE verifier needs {MIN_RANDOM_BYTES} to {MAX_RANDOM_BYTES} random bytes, \
                 {given} were given: pass 32 bytes from a cryptographic random source"
            ),
            Self::BadVerifier => f.write_str(
                "not a PKCE verifier (43 to 128 characters of A-Z a-z 0-9 - . _ ~): \
                 pass the verifier saved when the login started, or start the login again",
            ),
        }
    }
}

impl core::error::Error for PkceError {}

impl CodeVerifier {
    /// The verifier of `random` ([`MIN_RANDOM_BYTES`] to [`MAX_RANDOM_BYTES`] bytes from a
    /// cryptographic random source): its base64url encoding without padding, 43 characters for
    /// 32 bytes.
    pub fn from_random(random: &[u8]) -> Result<Self, PkceError> {
        if !(MIN_RANDOM_BYTES..=MAX_RANDOM_BYTES).contains(&random.len()) {
            return Err(PkceError::RandomLength {
                given: random.len(),
            });
        }
        let mut text = [0u8; MAX_VERIFIER_LEN];
        let made = URL_SAFE_NO_PAD
            .encode_slice(random, &mut text)
            .ok()
            .and_then(|n| core::str::from_utf8(&text[..n]).ok())
            .and_then(|s| Secret::new("code_verifier", s).ok());
        zeroize::Zeroize::zeroize(&mut text);
        // 96 bytes encode to exactly 128 ASCII characters: the buffer always suffices.
        made.map(Self).ok_or(PkceError::BadVerifier)
    }

    /// A verifier saved earlier (as [`CodeVerifier::expose`] gave it), checked against RFC 7636:
    /// 43 to 128 characters of `A-Z a-z 0-9 - . _ ~`.
    pub fn new(verifier: &str) -> Result<Self, PkceError> {
        let valid = (MIN_VERIFIER_LEN..=MAX_VERIFIER_LEN).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if !valid {
            return Err(PkceError::BadVerifier);
        }
        Secret::new("code_verifier", verifier)
            .map(Self)
            .map_err(|_| PkceError::BadVerifier)
    }

    /// The verifier itself: for the exchange request and for saving with the login in progress.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// Its S256 challenge, for the authorization URL.
    pub fn challenge(&self) -> CodeChallenge {
        let digest = Sha256::digest(self.0.expose().as_bytes());
        let mut text = [0u8; CHALLENGE_LEN];
        // A 32-byte digest encodes to exactly 43 ASCII characters.
        let n = URL_SAFE_NO_PAD
            .encode_slice(digest, &mut text)
            .unwrap_or_default();
        let mut out = heapless::String::new();
        let _ = out.push_str(core::str::from_utf8(&text[..n]).unwrap_or_default());
        CodeChallenge(out)
    }
}

impl fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodeVerifier(…{})", self.0.hint())
    }
}

impl CodeChallenge {
    /// The only method this crate sends: `S256`.
    pub const METHOD: &'static str = "S256";

    /// The challenge, 43 characters of base64url.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CodeChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    extern crate std;
    use std::format;

    /// RFC 7636, appendix B.
    const RFC_RANDOM: [u8; 32] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
        77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_7636_appendix_b_example_gives_its_verifier_and_challenge() {
        let verifier = CodeVerifier::from_random(&RFC_RANDOM).unwrap();
        assert_eq!(verifier.expose(), RFC_VERIFIER);
        assert_eq!(verifier.challenge().as_str(), RFC_CHALLENGE);
        let restored = CodeVerifier::new(RFC_VERIFIER).unwrap();
        assert_eq!(restored.challenge().as_str(), RFC_CHALLENGE);
    }

    #[test]
    fn fewer_than_32_or_more_than_96_random_bytes_are_refused() {
        for n in [0, 1, 31, 97, 200] {
            assert_eq!(
                CodeVerifier::from_random(&[0u8; 200][..n]),
                Err(PkceError::RandomLength { given: n })
            );
        }
        assert_eq!(
            CodeVerifier::from_random(&[0xffu8; 96])
                .unwrap()
                .expose()
                .len(),
            128
        );
    }

    #[test]
    fn a_saved_verifier_outside_the_rfc_alphabet_or_length_is_refused() {
        for bad in [
            "",
            &RFC_VERIFIER[..42],
            &format!("{RFC_VERIFIER}+"),
            &format!("{RFC_VERIFIER}="),
            &format!("{RFC_VERIFIER} "),
            &"a".repeat(129),
        ] {
            assert_eq!(CodeVerifier::new(bad), Err(PkceError::BadVerifier), "{bad}");
        }
        assert!(CodeVerifier::new(&"a-._~".repeat(26)[..128]).is_ok());
    }

    #[test]
    fn the_verifier_is_redacted_in_debug() {
        let verifier = CodeVerifier::from_random(&RFC_RANDOM).unwrap();
        let shown = format!("{verifier:?}");
        assert_eq!(shown, "CodeVerifier(…EjXk)");
    }

    proptest! {
        #[test]
        fn any_random_bytes_make_a_verifier_of_the_rfc_alphabet_and_length(
            random in proptest::collection::vec(any::<u8>(), MIN_RANDOM_BYTES..=MAX_RANDOM_BYTES)
        ) {
            let verifier = CodeVerifier::from_random(&random).unwrap();
            let text = verifier.expose();
            prop_assert_eq!(text.len(), (random.len() * 4).div_ceil(3));
            prop_assert_eq!(CodeVerifier::new(text), Ok(verifier.clone()));
            let challenge = verifier.challenge();
            prop_assert_eq!(challenge.as_str().len(), CHALLENGE_LEN);
            prop_assert!(challenge.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
    }
}
