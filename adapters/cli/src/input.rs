//! Validation of what enters the tool: tokens, codes, client credentials and user names are
//! checked where they come in (flag, environment, config file, standard input, prompt, CSV row),
//! with the core's rules (visible ASCII within the capacity the core keeps), so that a value that
//! could never work is refused with exit 2 before anything is sent or stored.
//!
//! Secrets can come from a flag (visible in `ps` and shell history), from standard input (`-`),
//! from an environment variable, or from a prompt without echo when standard input is a terminal.

use std::io::{IsTerminal, Read};
use std::sync::atomic::{AtomicBool, Ordering};

use zoho_oauth::core::cap;
use zoho_oauth::core::token::{token_secret, TokenTextError};

use crate::exit::CliError;

/// A kind of secret the tool takes in, with where else it can come from.
#[derive(Clone, Copy, Debug)]
pub struct SecretKind {
    /// How messages name it (`grant token`).
    pub name: &'static str,
    /// The flag that takes it (`--grant-token`).
    pub flag: &'static str,
    /// The environment variable that takes it (`ZOHO_GRANT_TOKEN`).
    pub env: &'static str,
    /// The core's rule for it ([`token_secret`] at its capacity).
    check: fn(&'static str, &str) -> Result<(), TokenTextError>,
}

/// The core's one rule for token text, at capacity `N`.
fn core_rule<const N: usize>(field: &'static str, text: &str) -> Result<(), TokenTextError> {
    token_secret::<N>(field, text).map(drop)
}

/// A Self Client or browser-flow grant code.
pub const GRANT_TOKEN: SecretKind = SecretKind {
    name: "grant token",
    flag: "--grant-token",
    env: "ZOHO_GRANT_TOKEN",
    check: core_rule::<{ cap::GRANT_CODE }>,
};

/// A refresh token.
pub const REFRESH_TOKEN: SecretKind = SecretKind {
    name: "refresh token",
    flag: "--refresh-token",
    env: "ZOHO_REFRESH_TOKEN",
    check: core_rule::<{ cap::REFRESH_TOKEN }>,
};

/// The OAuth client secret.
pub const CLIENT_SECRET: SecretKind = SecretKind {
    name: "client secret",
    flag: "--client-secret",
    env: "ZOHO_CLIENT_SECRET",
    check: core_rule::<{ cap::CLIENT_SECRET }>,
};

/// The OAuth client id (not a secret, but token text all the same).
pub const CLIENT_ID: SecretKind = SecretKind {
    name: "client id",
    flag: "--client-id",
    env: "ZOHO_CLIENT_ID",
    check: core_rule::<{ cap::CLIENT_ID }>,
};

/// Standard input can be read once per run.
static STDIN_TAKEN: AtomicBool = AtomicBool::new(false);

/// The whole of standard input, for the one value given as `-`.
pub fn read_stdin(what: &str) -> Result<String, CliError> {
    if STDIN_TAKEN.swap(true, Ordering::SeqCst) {
        return Err(CliError::usage(
            format!(
                "the {what} is given as `-`, but standard input was already read for another value"
            ),
            "give only one value as `-`; pass the others through their environment variables",
        ));
    }
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| {
        CliError::usage(
            format!("cannot read the {what} from standard input: {e}"),
            format!("pipe the {what} in as text"),
        )
    })?;
    Ok(text)
}

/// The value of a secret: `given` (the flag's or environment variable's value; `-` reads
/// standard input), else a prompt without echo when standard input is a terminal. Checked as
/// token text (surrounding blanks and line breaks dropped).
pub fn secret(kind: SecretKind, given: Option<&str>) -> Result<String, CliError> {
    let text = match given {
        Some("-") => read_stdin(kind.name)?,
        Some(v) => v.to_owned(),
        None if std::io::stdin().is_terminal() => prompt(kind)?,
        None => {
            return Err(CliError::usage(
                format!("no {} was given", kind.name),
                format!(
                    "pipe it in with `{} -`, set {}, or run in a terminal to be asked for it (typing is not shown)",
                    kind.flag, kind.env
                ),
            ))
        }
    };
    token_text(kind, &text)
}

/// Ask for a secret on the terminal without echoing it.
fn prompt(kind: SecretKind) -> Result<String, CliError> {
    rpassword::prompt_password(format!("{} (typing is not shown): ", kind.name)).map_err(|e| {
        CliError::usage(
            format!("cannot ask for the {} on the terminal: {e}", kind.name),
            format!("pipe it in with `{} -`, or set {}", kind.flag, kind.env),
        )
    })
}

/// `text` (surrounding blanks and line breaks dropped) if it is token text for `kind`, else a
/// usage error saying what is wrong and naming the limit.
pub fn token_text(kind: SecretKind, text: &str) -> Result<String, CliError> {
    let text = text.trim();
    match (kind.check)(kind.name, text) {
        Ok(()) => Ok(text.to_owned()),
        Err(e) => Err(refused(kind, &e)),
    }
}

/// The two lines for a refused value of `kind`.
fn refused(kind: SecretKind, e: &TokenTextError) -> CliError {
    let (what, todo) = match e {
        TokenTextError::Empty { .. } => (
            format!("the {} is empty", kind.name),
            format!(
                "paste the whole {}, or give it as `{} -` on standard input or in {}",
                kind.name, kind.flag, kind.env
            ),
        ),
        TokenTextError::TooLong(c) => (
            format!(
                "the {} is {} bytes long; a {} can be at most {} bytes (Zoho's are about 70)",
                kind.name, c.actual, kind.name, c.capacity
            ),
            format!(
                "give only the {} itself (e.g. 1000.1a2b…), without anything around it",
                kind.name
            ),
        ),
        TokenTextError::NotTokenText { .. } => (
            format!(
                "the {} holds a character Zoho never puts in one (a blank, a line break, a control or a non-ASCII character such as `…`)",
                kind.name
            ),
            format!(
                "paste the whole {} exactly as Zoho shows it; `1000.xyz…` in examples is a placeholder",
                kind.name
            ),
        ),
        other => (
            format!("the {} cannot be used: {other}", kind.name),
            format!("paste the whole {} exactly as Zoho shows it", kind.name),
        ),
    };
    CliError::usage(what, todo)
}

/// A user name (the e-mail a credential is stored under): not empty, at most `cap::EMAIL` bytes,
/// and no control character, line break or bidirectional control (it is printed in listings and
/// messages, and stored as a key).
pub fn user_name(name: &str, source: &str) -> Result<(), CliError> {
    let bad =
        |what: String| CliError::usage(what, format!("give the user's e-mail address ({source})"));
    if name.is_empty() {
        return Err(bad("the user name is empty".to_owned()));
    }
    if name.len() > cap::EMAIL {
        return Err(bad(format!(
            "the user name is {} bytes long; at most {} are allowed (an e-mail address)",
            name.len(),
            cap::EMAIL
        )));
    }
    if name.chars().any(crate::out::is_unsafe) {
        return Err(bad(format!(
            "the user name \"{name}\" holds a control character or a line break"
        )));
    }
    if name.trim() != name {
        return Err(bad(format!(
            "the user name \"{name}\" starts or ends with a blank"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Class;

    #[test]
    fn a_real_looking_token_passes_with_its_surrounding_blanks_dropped() {
        let t = "1000.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef";
        assert_eq!(token_text(REFRESH_TOKEN, &format!(" {t}\r\n")).unwrap(), t);
    }

    #[test]
    fn placeholders_blanks_line_breaks_and_oversized_tokens_are_usage_errors() {
        for bad in ["1000.xyz…", "1000.a b", "1000.a\r\nb", "1000.\x1b[2Jx", ""] {
            let e = token_text(REFRESH_TOKEN, bad).unwrap_err();
            assert_eq!(e.class, Class::Usage, "{bad:?}");
            assert!(!e.what.contains('\n') && !e.todo.contains('\n'));
        }
        let huge = "a".repeat(10 * 1024);
        let e = token_text(GRANT_TOKEN, &huge).unwrap_err();
        assert_eq!(e.class, Class::Usage);
        assert!(
            e.what.contains("10240 bytes") && e.what.contains("256"),
            "{}",
            e.what
        );
        assert!(!e.what.contains(&huge[..100]));
    }

    #[test]
    fn every_capacity_the_tool_checks_is_one_the_core_keeps() {
        for (kind, capacity) in [
            (GRANT_TOKEN, cap::GRANT_CODE),
            (REFRESH_TOKEN, cap::REFRESH_TOKEN),
            (CLIENT_SECRET, cap::CLIENT_SECRET),
            (CLIENT_ID, cap::CLIENT_ID),
        ] {
            let fits = "a".repeat(capacity);
            assert!(token_text(kind, &fits).is_ok(), "{}", kind.name);
            let over = "a".repeat(capacity + 1);
            assert!(token_text(kind, &over).is_err(), "{}", kind.name);
        }
    }

    #[test]
    fn user_names_with_control_characters_or_too_long_are_refused() {
        assert!(user_name("alice@example.com", "--user").is_ok());
        assert!(user_name("default", "--user").is_ok());
        for bad in [
            "",
            "a\nb@x",
            "evil\x1b]0;pwn\x07@x",
            " a@x",
            &"a".repeat(255),
        ] {
            assert_eq!(
                user_name(bad, "--user").unwrap_err().class,
                Class::Usage,
                "{bad:?}"
            );
        }
    }
}
