//! `watch`: keep every stored credential fresh until Ctrl-C, with a live status line on stderr.
//!
//! The refreshing is the client's background refresher; this loop only shows its effect. On a
//! terminal the status line is rewritten in place; otherwise a line is printed when it changes.
//! With `--json`, every change is also a JSON line on stdout.

use std::io::{IsTerminal, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, SystemTime};

use serde_json::json;
use zoho_oauth::CredentialStatus;

use crate::context::Ctx;
use crate::exit::{Class, CliError};
use crate::{human, out};

/// How often the status line is redrawn.
const TICK: Duration = Duration::from_secs(1);

/// Watch until Ctrl-C (or SIGTERM).
pub fn run(ctx: &Ctx) -> Result<(), CliError> {
    let client = ctx.client()?;
    if client.users()?.is_empty() {
        return Err(CliError::new(
            Class::ReAuthorize,
            "there is no stored credential to keep fresh",
            "run `zoho-oauth exchange --grant-token CODE` or `zoho-oauth login` first",
        ));
    }
    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .map_err(|e| CliError::other(format!("cannot handle Ctrl-C: {e}"), "run it in a terminal"))?;
    let refresher = client.start_background_refresh();
    let tty = std::io::stderr().is_terminal();
    out::note("keeping every credential fresh; Ctrl-C to stop");
    let mut last_line = String::new();
    let mut last_json = serde_json::Value::Null;
    loop {
        let now = SystemTime::now();
        let line = match client.status() {
            Ok(all) => {
                if ctx.json {
                    let v = json!(all
                        .iter()
                        .map(|s| crate::cmd::status::to_json(s, now))
                        .map(|mut v| {
                            // Only what changes with a refresh, so that a line means "something happened".
                            if let Some(o) = v.as_object_mut() {
                                o.remove("access_expires_in_secs");
                            }
                            v
                        })
                        .collect::<Vec<_>>());
                    if v != last_json {
                        println!("{v}");
                        let _ = std::io::stdout().flush();
                        last_json = v;
                    }
                }
                status_line(&all, now)
            }
            Err(e) => format!("status unavailable: {e}"),
        };
        if tty {
            eprint!("\r\x1b[2K{line}");
            let _ = std::io::stderr().flush();
        } else if line != last_line {
            eprintln!("{line}");
        }
        last_line = line;
        match rx.recv_timeout(TICK) {
            Err(RecvTimeoutError::Timeout) => continue,
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    refresher.stop();
    if tty {
        eprintln!();
    }
    out::note("stopped");
    Ok(())
}

/// `a@x.com: expires in 42 min, 9 mints left | b@y.com: …`.
fn status_line(all: &[CredentialStatus], now: SystemTime) -> String {
    if all.is_empty() {
        return "no stored credential".to_owned();
    }
    all.iter()
        .map(|s| {
            let access = match s.access_expires_at {
                Some(at) => human::expiry(at, now),
                None => "no access token".to_owned(),
            };
            let flag = if s.needs_authorization {
                ", NEEDS RE-AUTHORIZATION"
            } else {
                ""
            };
            format!("{}: {access}, {} mints left{flag}", s.user, s.mints_left)
        })
        .collect::<Vec<_>>()
        .join(" | ")
}
