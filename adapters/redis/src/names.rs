//! The key layout: which Redis keys (and which channel) hold one credential, under a prefix.
//!
//! ```text
//! <prefix>:cred:<user>:<client id>:<data centre>:<environment>      the TokenSet bytes
//! <prefix>:lock:<user>:<client id>:<data centre>:<environment>      the lease: "<token> <pid>@<host>"
//! <prefix>:unlocked:<user>:<client id>:<data centre>:<environment>  channel: a lease was released
//! ```
//!
//! Each part is percent-encoded (every byte but `A-Z a-z 0-9 - . _ ~ @ +`), so `:` only ever
//! separates parts and the mapping is one-to-one: `list` reads the credential back from the name.
//! The names stay readable in `redis-cli` (`zoho-oauth:cred:ana@example.com:1000.ABC:us:production`).

use std::fmt::Write as _;

use zoho_oauth::core::{DataCenter, Environment};
use zoho_oauth::CredentialKey;

/// The prefix when none is chosen.
pub const DEFAULT_PREFIX: &str = "zoho-oauth";

const CRED: &str = "cred";
const LOCK: &str = "lock";
const UNLOCKED: &str = "unlocked";

/// The Redis names of one store's credentials: `<prefix>:<kind>:<encoded key>`.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    prefix: String,
}

/// The three names of one credential.
#[derive(Clone, Debug)]
pub(crate) struct Names {
    /// The key holding the encoded token set.
    pub(crate) cred: String,
    /// The key holding the lease of the refresh lock.
    pub(crate) lock: String,
    /// The channel a release is announced on, so that waiters wake at once.
    pub(crate) unlocked: String,
}

impl Layout {
    /// The layout under `prefix`: not empty, no control characters or spaces (it is part of every
    /// key name an operator types).
    pub(crate) fn new(prefix: &str) -> Result<Self, String> {
        if prefix.is_empty() || prefix.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(format!(
                "the Redis key prefix {prefix:?} is empty or has spaces or control characters: choose a name such as `myapp:zoho`"
            ));
        }
        Ok(Self {
            prefix: prefix.to_owned(),
        })
    }

    /// The prefix.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The names of `key`.
    pub(crate) fn names(&self, key: &CredentialKey) -> Names {
        let encoded = encode_key(key);
        Names {
            cred: format!("{}:{CRED}:{encoded}", self.prefix),
            lock: format!("{}:{LOCK}:{encoded}", self.prefix),
            unlocked: format!("{}:{UNLOCKED}:{encoded}", self.prefix),
        }
    }

    /// A `SCAN … MATCH` pattern for every credential key (`lock == false`) or every lease key.
    pub(crate) fn pattern(&self, lock: bool) -> String {
        let mut out = String::with_capacity(self.prefix.len() + 8);
        for c in self.prefix.chars() {
            // The prefix is matched literally, whatever glob characters it holds.
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        let kind = if lock { LOCK } else { CRED };
        let _ = write!(out, ":{kind}:*");
        out
    }

    /// The credential a credential key (`lock == false`) or lease key names; `None` for a name
    /// of another shape (not written by this crate).
    pub(crate) fn parse(&self, name: &[u8], lock: bool) -> Option<CredentialKey> {
        let name = std::str::from_utf8(name).ok()?;
        let kind = if lock { LOCK } else { CRED };
        let rest = name
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix(':')?
            .strip_prefix(kind)?
            .strip_prefix(':')?;
        let mut parts = rest.split(':');
        let user = decode(parts.next()?)?;
        let client_id = decode(parts.next()?)?;
        let dc = decode(parts.next()?)?;
        let env = decode(parts.next()?)?;
        if parts.next().is_some() {
            return None;
        }
        let data_center = DataCenter::from_location(&dc).ok()?;
        let environment = Environment::from_name(&env).ok()?;
        // Only the canonical spelling: two names never stand for one credential.
        if dc != data_center.location_code() || env != environment.name() {
            return None;
        }
        Some(CredentialKey::new(
            user,
            client_id,
            data_center,
            environment,
        ))
    }
}

fn encode_key(key: &CredentialKey) -> String {
    let mut out = String::new();
    for (i, part) in [
        key.user.as_str(),
        key.client_id.as_str(),
        key.data_center.location_code(),
        key.environment.name(),
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            out.push(':');
        }
        encode(part, &mut out);
    }
    out
}

fn kept(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@' | b'+')
}

fn encode(part: &str, out: &mut String) {
    for &b in part.as_bytes() {
        if kept(b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// The inverse of [`encode`], accepting only what `encode` writes.
fn decode(part: &str) -> Option<String> {
    let bytes = part.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex
                .iter()
                .all(|h| h.is_ascii_digit() || (b'A'..=b'F').contains(h))
            {
                return None;
            }
            let v = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            if kept(v) {
                return None;
            }
            out.push(v);
            i += 3;
        } else if kept(b) {
            out.push(b);
            i += 1;
        } else {
            return None;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoho_oauth::store::conformance;

    #[test]
    fn every_conformance_key_round_trips_through_its_redis_name() {
        let layout = Layout::new("app:zoho").unwrap();
        for key in conformance::keys() {
            let names = layout.names(&key);
            assert_eq!(
                layout.parse(names.cred.as_bytes(), false),
                Some(key.clone())
            );
            assert_eq!(layout.parse(names.lock.as_bytes(), true), Some(key));
        }
    }

    #[test]
    fn names_are_readable_and_colons_only_separate_parts() {
        let layout = Layout::new(DEFAULT_PREFIX).unwrap();
        let key = CredentialKey::new(
            "ana:x@example.com",
            "1000.ABC",
            DataCenter::Eu,
            Environment::Sandbox,
        );
        assert_eq!(
            layout.names(&key).cred,
            "zoho-oauth:cred:ana%3Ax@example.com:1000.ABC:eu:sandbox"
        );
    }

    #[test]
    fn names_of_another_shape_or_spelling_are_not_credentials() {
        let layout = Layout::new("p").unwrap();
        for name in [
            "p:cred:a:b:us",               // a part missing
            "p:cred:a:b:us:production:x",  // a part too many
            "p:cred:a%3a:b:us:production", // lower-case escape
            "p:cred:a%41:b:us:production", // an escaped byte that needs none
            "p:cred:a b:b:us:production",  // an unescaped space
            "p:cred:a:b:US:production",    // not the canonical data centre
            "p:cred:a:b:us:prod",          // not the canonical environment
            "p:cred:a:b:mars:production",  // no such data centre
            "q:cred:a:b:us:production",    // another prefix
            "p:lock:a:b:us:production",    // a lease, not a credential
        ] {
            assert_eq!(layout.parse(name.as_bytes(), false), None, "{name}");
        }
    }

    #[test]
    fn glob_characters_in_the_prefix_are_matched_literally() {
        assert_eq!(
            Layout::new("a*b[1]").unwrap().pattern(false),
            "a\\*b\\[1\\]:cred:*"
        );
        assert_eq!(Layout::new("app").unwrap().pattern(true), "app:lock:*");
    }

    #[test]
    fn an_empty_prefix_or_one_with_spaces_is_refused() {
        assert!(Layout::new("").is_err());
        assert!(Layout::new("my app").is_err());
        assert!(Layout::new("a\nb").is_err());
    }
}
