//! Everything the tool prints goes through here: human lines (every control character escaped),
//! JSON (`--json`), warnings and errors on stderr (labels coloured on a terminal unless
//! `NO_COLOR` is set). Secrets are printed only where a command's whole purpose is to print them
//! (`token`, `header`).
//!
//! Text from outside — Zoho's error strings, user names from a CSV file or a store, paths — can
//! hold CR, LF, ESC or BEL: printed raw, they would break the "two lines" rule of errors and let
//! whoever controls that text move the cursor, retitle the terminal or forge lines. So every line
//! printed here is passed through [`clean`], which writes each such character as a visible escape.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

/// Whether `c` must not reach a terminal raw: C0 controls (line breaks, ESC, BEL…), DEL, C1
/// controls (U+0080–U+009F; some terminals read U+009B as CSI), the Unicode line and paragraph
/// separators, and the bidirectional controls that reorder what is displayed.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}'
            | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every [unsafe](is_unsafe) character written as an escape (`\n`, `\r`, `\t`,
/// `\x1b`, `\u{202e}`), so that it prints as one harmless line.
pub fn clean(text: &str) -> Cow<'_, str> {
    escape_unless(text, |_| false)
}

/// `text` with every [unsafe](is_unsafe) character that `keep` does not allow escaped.
fn escape_unless(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    let escape = |c: char| is_unsafe(c) && !keep(c);
    if !text.chars().any(escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !escape(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// Print one line of human output on stdout (escaped).
pub fn line(text: impl AsRef<str>) {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = writeln!(stdout, "{}", clean(text.as_ref()));
}

/// Write a command's data (an API body, a CSV file) to stdout: byte for byte into a pipe or a
/// file; on a terminal, with control characters other than line feeds and tabs escaped, so that
/// a hostile body cannot drive the terminal.
pub fn data(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    if !std::io::stdout().is_terminal() {
        let _ = stdout.write_all(bytes);
        return;
    }
    let text = String::from_utf8_lossy(bytes);
    let shown = escape_unless(&text, |c| c == '\n' || c == '\t');
    let _ = stdout.write_all(shown.as_bytes());
    let _ = stdout.flush();
}

/// Print `value` as pretty JSON on stdout. `serde_json` escapes C0 controls inside strings; the
/// other [unsafe](is_unsafe) characters are escaped here too (they can only occur inside strings,
/// where `\uXXXX` is valid JSON).
pub fn json(value: &serde_json::Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned());
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", json_safe(&text));
}

/// One JSON value on one line (for streams such as `watch --json`).
pub fn json_line(value: &serde_json::Value) {
    let text = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", json_safe(&text));
    let _ = stdout.flush();
}

/// Serialised JSON with the unsafe characters `serde_json` leaves raw written as `\uXXXX`. A raw
/// line feed is the pretty printer's own (inside strings `serde_json` always escapes it).
fn json_safe(text: &str) -> Cow<'_, str> {
    let escape = |c: char| c != '\n' && is_unsafe(c);
    if !text.chars().any(escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escape(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A note for the human on stderr (never data, never a secret), one escaped line.
pub fn note(text: impl AsRef<str>) {
    eprintln!("{}", clean(text.as_ref()));
}

/// A warning on stderr: `warning: what`, and `  hint: todo` when there is something to do.
pub fn warn(what: impl AsRef<str>, todo: Option<&str>) {
    let style = Style::stderr();
    eprintln!("{}: {}", style.yellow("warning"), clean(what.as_ref()));
    if let Some(todo) = todo {
        eprintln!("  {}: {}", style.bold("hint"), clean(todo));
    }
}

/// An error on stderr: `error: what` and `  hint: todo`, exactly two lines.
pub fn error(what: &str, todo: &str) {
    let style = Style::stderr();
    eprintln!("{}: {}", style.red("error"), clean(what));
    eprintln!("  {}: {}", style.bold("hint"), clean(todo));
}

/// The last four characters of a secret, as `…1a2b`, to tell secrets apart without showing them.
pub fn hint(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("…{tail}")
}

/// Whether stderr is a terminal that can show a progress line (not `TERM=dumb`).
pub fn stderr_is_live_terminal() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// Colours of stderr labels: on a terminal, unless `NO_COLOR` is set to anything non-empty
/// (<https://no-color.org>).
#[derive(Clone, Copy, Debug)]
pub struct Style {
    color: bool,
}

impl Style {
    /// The style for stderr now.
    pub fn stderr() -> Self {
        Self {
            color: stderr_is_live_terminal() && !no_color(),
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Bold red.
    pub fn red(self, text: &str) -> String {
        self.paint("1;31", text)
    }

    /// Bold yellow.
    pub fn yellow(self, text: &str) -> String {
        self.paint("1;33", text)
    }

    /// Bold.
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
}

/// `NO_COLOR` is set to a non-empty value.
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_shows_only_the_last_four_characters() {
        assert_eq!(hint("1000.abcdef.1a2b"), "…1a2b");
        assert_eq!(hint("ab"), "…ab");
    }

    #[test]
    fn control_characters_are_escaped_and_plain_text_is_untouched() {
        assert!(matches!(clean("alice@example.com"), Cow::Borrowed(_)));
        assert_eq!(clean("évité — ok"), "évité — ok");
        assert_eq!(
            clean("a\r\nb\x1b[31mred\x07\t"),
            "a\\r\\nb\\x1b[31mred\\x07\\t"
        );
        assert_eq!(clean("x\u{9b}2J\u{7f}"), "x\\x9b2J\\x7f");
        assert_eq!(clean("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(clean("line\u{2028}sep"), "line\\u{2028}sep");
        assert_eq!(
            escape_unless("a\tb\nc\x1b", |c| c == '\n' || c == '\t'),
            "a\tb\nc\\x1b"
        );
    }

    #[test]
    fn json_keeps_no_raw_control_character_and_stays_valid() {
        let v = serde_json::json!({ "user": "e\u{1b}]0;x\u{7}\u{9b}\u{202e}\u{85}" });
        for text in [
            serde_json::to_string(&v).unwrap(),
            serde_json::to_string_pretty(&v).unwrap(),
        ] {
            let safe = json_safe(&text);
            assert!(!safe.chars().any(|c| c != '\n' && is_unsafe(c)), "{safe}");
            let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
            assert_eq!(back, v);
        }
    }
}
