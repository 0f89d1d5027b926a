//! The bodies of the fuzz targets of the command-line tool (`zoho-oauth-cli`), shared by the
//! cargo-fuzz binaries (`fuzz_targets/store_url.rs`, `fuzz_targets/config_file.rs`) and the stable
//! replay test `adapters/cli/tests/fuzz_corpus_replay.rs`, which include this file by path.
//!
//! Each driver calls `zoho_oauth_cli::fuzz` and panics only when an invariant fails: never a
//! panic, and no password (store URL) or client secret (config file) from the input in anything
//! the tool would show.
//!
//! Whether a secret "shows" is decided by difference, so that a secret that happens to spell a
//! word of a message is no false alarm: the same input is parsed again with the secret's letters
//! and digits changed (same length, same punctuation), and a text that holds the secret for the
//! input but not for its twin leaks it.
#![allow(dead_code)] // each fuzz binary uses one driver

use zoho_oauth_cli::fuzz::{self, CliError};

/// Everything the tool may show of an outcome: `display()`/`Debug` of what parsed, or the
/// error's `what`, `todo`, `Display` and `Debug`.
fn shown<T: std::fmt::Debug>(
    outcome: &Result<T, CliError>,
    display: impl Fn(&T) -> String,
) -> String {
    match outcome {
        Ok(v) => format!("{}\n{v:?}", display(v)),
        Err(e) => format!("{}\n{}\n{e}\n{e:?}", e.what, e.todo),
    }
}

/// `secret` with every letter and digit changed (`a`→`b`, `z`→`a`, `9`→`0`).
fn twin_of(secret: &str) -> String {
    secret
        .chars()
        .map(|c| match c {
            'a'..='y' | 'A'..='Y' | '0'..='8' => char::from(c as u8 + 1),
            'z' => 'a',
            'Z' => 'A',
            '9' => '0',
            other => other,
        })
        .collect()
}

/// Check that `secret`, which sits in `input` at `at`, does not show in what parsing `input`
/// shows (`show`), by difference with the twin input.
fn check_secret(input: &str, at: usize, secret: &str, what: &str, show: impl Fn(&str) -> String) {
    // Short secrets spell parts of messages too easily; one without letters or digits has no twin.
    if secret.len() < 8 || twin_of(secret) == secret {
        return;
    }
    let shown_here = show(input);
    if !shown_here.contains(secret) {
        return;
    }
    let mut twin = String::with_capacity(input.len());
    twin.push_str(&input[..at]);
    twin.push_str(&twin_of(secret));
    twin.push_str(&input[at + secret.len()..]);
    let shown_there = show(&twin);
    assert!(
        shown_there.contains(secret),
        "a {what} from the input shows: {secret:?} in\n{shown_here}"
    );
}

/// The passwords a store URL holds, with where they start: the part between the first `:` and
/// the last `@` of the authority of a `scheme://` URL, and the value of every query parameter
/// whose name holds `pass`. Not for `sqlite:`/`file:` paths, which hold none.
fn passwords(url: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    if url.starts_with("sqlite:") || url.starts_with("sqlite3:") || url.starts_with("file:") {
        return out;
    }
    // The user part: after `scheme://`, or from the start of a URL whose scheme was forgotten
    // (`user:password@host`). It ends at the last `@`, which hides it all.
    let body = url.find("://").map_or(0, |s| s + 3);
    let user_end = url.rfind('@').unwrap_or(0);
    for body in [0, body] {
        if let Some(at) = url[body..].rfind('@') {
            let user_part = &url[body..body + at];
            if let Some(colon) = user_part.find(':') {
                out.push((body + colon + 1, &user_part[colon + 1..]));
            }
        }
    }
    // Every `name=value` after a `?` or a `&` whose name (free of `?`, `&`) holds `pass`: its
    // value runs to the next `&`.
    for (i, _) in url.match_indices(['?', '&']) {
        // Inside the user part: hidden with it (its value would run on past the `@`).
        if i < user_end {
            continue;
        }
        let start = i + 1;
        let Some(eq) = url[start..].find(['=', '?', '&']) else {
            continue;
        };
        if url.as_bytes()[start + eq] != b'=' {
            continue;
        }
        if url[start..start + eq].to_ascii_lowercase().contains("pass") {
            let value = &url[start + eq + 1..];
            let end = value.find('&').unwrap_or(value.len());
            out.push((start + eq + 1, &value[..end]));
        }
    }
    out
}

fn show_store_url(text: &str) -> String {
    shown(&fuzz::store_url(text), |u| u.display())
}

/// A store URL (`--store`, `ZOHO_OAUTH_STORE`, the config file's `store`).
///
/// Byte 0 below 128: the rest is the URL (any UTF-8). Otherwise a URL built from the script: a
/// scheme from the tool's and others, a user, a password (in the user part or a `pass`/`password`
/// query parameter), a host and a tail, separated in the input by `0xff`.
///
/// Never panics; no password of the URL in `display()`, `Debug`, or an error's texts.
pub fn store_url(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let url = if mode < 128 {
        match std::str::from_utf8(rest) {
            Ok(t) => t.to_owned(),
            Err(_) => return,
        }
    } else {
        let mut parts = rest.split(|b| *b == 0xff).map(String::from_utf8_lossy);
        let mut next = || parts.next().unwrap_or_default().into_owned();
        let scheme = [
            "postgres",
            "postgresql",
            "mysql",
            "mariadb",
            "redis",
            "rediss",
            "redis+unix",
            "REDIS",
            "memcached",
            "sqlite",
            "file",
            "",
        ][usize::from(mode) % 12];
        let (user, password, host, tail) = (next(), next(), next(), next());
        if mode & 16 == 0 {
            format!("{scheme}://{user}:{password}@{host}{tail}")
        } else {
            let name = ["pass", "password", "PassWord", "db_pass"][usize::from(mode >> 5) % 4];
            let sep = if tail.contains('?') { '&' } else { '?' };
            format!("{scheme}://{user}@{host}{tail}{sep}{name}={password}")
        }
    };
    // Never panics, whatever it is.
    let outcome = fuzz::store_url(&url);
    if let Ok(parsed) = &outcome {
        let _ = (parsed.display(), format!("{parsed:?}"));
    }
    for (at, password) in passwords(&url) {
        check_secret(&url, at, password, "password", show_store_url);
    }
}

fn show_config(text: &str) -> String {
    shown(&fuzz::config_file(text), |_| String::new())
}

/// A TOML basic string holding `s`.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The config file (TOML) resolved into a run's settings.
///
/// Byte 0 below 128: the rest is the file (any UTF-8). Otherwise a file built from the script:
/// lines picked from valid and broken settings, with client secrets and a store URL password
/// from the input placed where they belong (`client_secret`, `[client_secrets]`, `store`) and
/// where they do not (a table where a string goes, a list, a duplicate key).
///
/// Never panics; no client secret of the file (nor a store password) in the `Debug` of the
/// settings or an error's texts.
pub fn config_file(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = if mode < 128 {
        match std::str::from_utf8(rest) {
            Ok(t) => t.to_owned(),
            Err(_) => return,
        }
    } else {
        let mut parts = rest.split(|b| *b == 0xff);
        let picks = parts.next().unwrap_or_default().to_vec();
        let secrets: Vec<String> = parts
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        let secret = |i: usize| {
            secrets
                .get(i)
                .cloned()
                .unwrap_or_else(|| "4b3c1f0e9d8a7b6c5d4e".to_owned())
        };
        let mut top = String::new();
        let mut tables = String::new();
        for (n, pick) in picks.iter().enumerate() {
            let s = toml_string(&secret(n % secrets.len().max(1)));
            let line = match pick % 24 {
                0 => format!("client_secret = {s}\n"),
                1 => "client_id = \"1000.9Y3A0SDKWXM2P7QH1LZ4TV8NBF6CJR\"\n".to_owned(),
                2 => "dc = \"eu\"\n".to_owned(),
                3 => "dc = \"https://accounts.zoho.com.au\"\n".to_owned(),
                4 => "dc = \"mars\"\n".to_owned(),
                5 => "environment = \"sandbox\"\n".to_owned(),
                6 => "allowed_dcs = [\"in\", \"au\"]\n".to_owned(),
                7 => "allowed_dcs = [\"all\"]\n".to_owned(),
                8 => format!(
                    "store = \"postgres://zoho:{}@db.internal/tokens\"\n",
                    &s[1..s.len() - 1]
                ),
                9 => format!(
                    "store = \"redis://:{}@cache:6379/0?prefix=app\"\n",
                    &s[1..s.len() - 1]
                ),
                10 => "lock_wait = \"30s\"\n".to_owned(),
                11 => "request_timeout = \"forever\"\n".to_owned(),
                12 => "device_poll_floor = \"1s\"\n".to_owned(),
                13 => "accounts_url = \"http://127.0.0.1:8080\"\n".to_owned(),
                14 => "user = \"ana@example.com\"\n".to_owned(),
                15 => format!("client_secret = [{s}]\n"),
                16 => format!("client_secrets = {s}\n"),
                17 => format!("lock_wait = {s}\n"),
                18 => {
                    tables.push_str(&format!("[client_secrets]\nin = {s}\n"));
                    continue;
                }
                19 => {
                    tables.push_str(&format!("[client_secrets]\nmars = {s}\n"));
                    continue;
                }
                20 => {
                    tables.push_str("[accounts_urls]\nin = \"http://127.0.0.1:8081\"\n");
                    continue;
                }
                21 => {
                    tables.push_str("[watch]\nparallel = 8\nmetrics_addr = \"127.0.0.1:9464\"\n");
                    continue;
                }
                22 => format!("client_secret = {s}\nclient_secret = {s}\n"),
                _ => format!("unknown_key = {s}\n"),
            };
            top.push_str(&line);
        }
        top + &tables
    };
    let outcome = fuzz::config_file(&text);
    if let Ok(settings) = &outcome {
        let _ = format!("{settings:?}");
    }
    // The secrets this file holds, as a TOML reader sees them (a file TOML refuses holds none
    // that can be found).
    let Ok(table) = text.parse::<toml::Table>() else {
        return;
    };
    let mut secrets: Vec<String> = Vec::new();
    if let Some(toml::Value::String(s)) = table.get("client_secret") {
        secrets.push(s.clone());
    }
    if let Some(toml::Value::Table(t)) = table.get("client_secrets") {
        secrets.extend(t.values().filter_map(|v| v.as_str().map(str::to_owned)));
    }
    if let Some(toml::Value::String(url)) = table.get("store") {
        secrets.extend(passwords(url).into_iter().map(|(_, p)| p.to_owned()));
    }
    for secret in secrets {
        // Checked by difference where it stands in the text as written (unescaped).
        let mut found = text.match_indices(secret.as_str());
        if let (Some((at, _)), None) = (found.next(), found.next()) {
            check_secret(&text, at, &secret, "client secret", show_config);
        }
    }
}
