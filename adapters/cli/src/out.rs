//! Printing data: human text, or JSON with `--json`. Secrets are printed only where a command's
//! whole purpose is to print them (`token`, `header`).

use std::io::Write;

/// Print `value` as pretty JSON on stdout.
pub fn json(value: &serde_json::Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned());
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = writeln!(stdout, "{text}");
}

/// A note for the human on stderr (never data, never a secret).
pub fn note(text: impl AsRef<str>) {
    eprintln!("{}", text.as_ref());
}

/// A warning on stderr.
pub fn warn(text: impl AsRef<str>) {
    eprintln!("warning: {}", text.as_ref());
}

/// The last four characters of a secret, as `…1a2b`, to tell secrets apart without showing them.
pub fn hint(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_shows_only_the_last_four_characters() {
        assert_eq!(hint("1000.abcdef.1a2b"), "…1a2b");
        assert_eq!(hint("ab"), "…ab");
    }
}
