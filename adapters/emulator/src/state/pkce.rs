//! PKCE (RFC 7636): the challenge an authorization request carries and the verifier that meets it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// How the challenge was derived from the verifier (`code_challenge_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// The challenge is the verifier itself: Zoho's default when the method is omitted.
    Plain,
    /// The challenge is BASE64URL-no-pad(SHA-256(verifier)).
    S256,
}

impl Method {
    /// The method named by `code_challenge_method`; an absent one is `plain`, as at Zoho.
    /// `None` for a name RFC 7636 does not define.
    pub(crate) fn parse(name: Option<&str>) -> Option<Self> {
        match name {
            None | Some("") | Some("plain") => Some(Method::Plain),
            Some("S256") => Some(Method::S256),
            Some(_) => None,
        }
    }
}

/// The challenge a grant code remembers until its exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub(crate) method: Method,
    pub(crate) value: String,
}

impl Challenge {
    /// Whether `verifier` is the one the challenge was made from.
    pub(crate) fn is_met_by(&self, verifier: &str) -> bool {
        match self.method {
            Method::Plain => verifier == self.value,
            Method::S256 => {
                URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == self.value
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_the_example_of_rfc_7636_appendix_b() {
        let challenge = Challenge {
            method: Method::S256,
            value: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned(),
        };
        assert!(challenge.is_met_by("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!challenge.is_met_by("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl"));
    }

    #[test]
    fn plain_compares_the_verifier_itself_and_is_the_default() {
        let challenge = Challenge {
            method: Method::parse(None).unwrap(),
            value: "verifier".to_owned(),
        };
        assert!(challenge.is_met_by("verifier"));
        assert!(!challenge.is_met_by("Verifier"));
        assert_eq!(Method::parse(Some("S256")), Some(Method::S256));
        assert_eq!(
            Method::parse(Some("s256")),
            None,
            "method names are case-sensitive"
        );
    }
}
