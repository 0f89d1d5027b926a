//! `watch`: keep every stored credential fresh until Ctrl-C, with a live status line on stderr
//! and, with `--metrics-addr`, Prometheus metrics.
//!
//! The refreshing is the client's background refresher: it refreshes due credentials side by
//! side (`--parallel`, default the library's 8), each credential's due time spread by the
//! library, and skips a credential whose store lock another process holds — so several watchers
//! on one fleet store split the work. This loop only shows the effect: it reads the store's
//! status, redraws the status line (rewritten in place on a terminal, printed when it changes
//! otherwise; a summary when there are more than a few credentials), prints a JSON line on
//! stdout on every change with `--json`, and sets the per-credential metric gauges.
//!
//! Reading the status loads every credential: with thousands of them on a database that is
//! work, so it is read at most every [`TICK`] and otherwise no more often than 20 times the last
//! read took (never less than once a minute). Between reads the line's "expires in" still counts
//! down, from the expiry times read.

use std::io::{IsTerminal, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use zoho_oauth::CredentialStatus;

use crate::args::WatchArgs;
use crate::config::WatchSettings;
use crate::context::Ctx;
use crate::exit::{Class, CliError};
use crate::exporter::Exporter;
use crate::{human, out};

/// How often the status line is redrawn (and the status read, when that is cheap).
const TICK: Duration = Duration::from_secs(1);
/// The longest between two reads of the status, however slow a read is.
const MAX_RELOAD: Duration = Duration::from_secs(60);
/// Up to this many credentials, the status line names each one; above, it summarises.
const LISTED: usize = 3;
/// The library's default of `--parallel` (`ClientBuilder::background_parallelism`).
const DEFAULT_PARALLEL: usize = 8;

/// The most refreshes side by side `--parallel` accepts (each is a thread and a store connection).
const MAX_PARALLEL: usize = 256;

/// Watch until Ctrl-C (or SIGTERM).
pub fn run(ctx: &Ctx, args: &WatchArgs) -> Result<(), CliError> {
    let watch = settings(&ctx.settings.watch, args)?;
    let user_label = watch.metrics_user_label != Some(false);
    let exporter = match &watch.metrics_addr {
        Some(addr) => Some(Exporter::start(addr, user_label)?),
        None => None,
    };
    let mut settings = ctx.settings.clone();
    settings.watch = watch;
    let ctx = Ctx {
        settings,
        json: ctx.json,
    };
    let client = ctx.client()?;
    let count = client.users()?.len();
    if count == 0 {
        return Err(CliError::new(
            Class::ReAuthorize,
            "there is no stored credential to keep fresh",
            "run `zoho-oauth exchange` or `zoho-oauth login` first",
        ));
    }
    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .map_err(|e| CliError::other(format!("cannot handle Ctrl-C: {e}"), "run it in a terminal"))?;
    let refresher = client.start_background_refresh();
    let tty = std::io::stderr().is_terminal();
    if let Some(e) = &exporter {
        out::note(format!("serving metrics at {}", e.url));
    }
    let plural = if count == 1 { "" } else { "s" };
    if client.engine().store().locks_per_key() {
        out::note(format!(
            "keeping {count} credential{plural} fresh, up to {} refreshes side by side; Ctrl-C to stop",
            client.engine().background_parallelism()
        ));
    } else {
        // A file or SQLite store locks as a whole: refreshes side by side would only wait.
        out::note(format!(
            "keeping {count} credential{plural} fresh, one refresh at a time (this store locks as \
             a whole; --parallel {} applies on PostgreSQL, MySQL and Redis stores); Ctrl-C to stop",
            ctx.settings.watch.parallel.unwrap_or(DEFAULT_PARALLEL)
        ));
    }
    let mut last_line = String::new();
    let mut last_json = serde_json::Value::Null;
    let mut status: Result<Vec<CredentialStatus>, String> = Ok(Vec::new());
    let mut next_read = Instant::now();
    loop {
        if Instant::now() >= next_read {
            let started = Instant::now();
            status = client.status().map_err(|e| e.what());
            let took = started.elapsed();
            next_read = started + (took * 20).clamp(TICK, MAX_RELOAD);
            if let (Ok(all), Some(e)) = (&status, &exporter) {
                e.update(all, SystemTime::now());
            }
            if let (Ok(all), true) = (&status, ctx.json) {
                let v = snapshot(all, SystemTime::now());
                if v != last_json {
                    out::json_line(&v);
                    last_json = v;
                }
            }
        }
        if let Some(e) = &exporter {
            e.tick();
        }
        let line = match &status {
            Ok(all) => status_line(all, SystemTime::now()),
            Err(what) => format!("status unavailable: {what}"),
        };
        // User names come from the store: escaped like everything printed.
        let line = out::clean(&line).into_owned();
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
    drop(exporter);
    if tty {
        eprintln!();
    }
    out::note("stopped");
    Ok(())
}

/// `watch`'s settings: its flags (and their environment variables) over the config file's
/// `[watch]`.
fn settings(file: &WatchSettings, args: &WatchArgs) -> Result<WatchSettings, CliError> {
    let parallel = args.parallel.or(file.parallel);
    if let Some(n) = parallel.filter(|n| !(1..=MAX_PARALLEL).contains(n)) {
        return Err(CliError::usage(
            format!("--parallel {n} is out of range"),
            format!("refresh between 1 and {MAX_PARALLEL} credentials side by side, e.g. --parallel 16 (the default is 8)"),
        ));
    }
    Ok(WatchSettings {
        parallel,
        metrics_addr: args
            .metrics_addr
            .clone()
            .filter(|a| !a.is_empty())
            .or_else(|| file.metrics_addr.clone()),
        metrics_user_label: if args.no_user_label {
            Some(false)
        } else {
            file.metrics_user_label
        },
    })
}

/// The `--json` line: every credential's status, without what changes every second (so that a
/// new line means something happened).
fn snapshot(all: &[CredentialStatus], now: SystemTime) -> serde_json::Value {
    json!(all
        .iter()
        .map(|s| crate::cmd::status::to_json(s, now))
        .map(|mut v| {
            if let Some(o) = v.as_object_mut() {
                o.remove("access_expires_in_secs");
            }
            v
        })
        .collect::<Vec<_>>())
}

/// A few credentials: `a@x.com: expires in 42 min, 9 mints left | b@y.com: …`; more: a summary.
fn status_line(all: &[CredentialStatus], now: SystemTime) -> String {
    if all.is_empty() {
        return "no stored credential".to_owned();
    }
    if all.len() > LISTED {
        return summary(all, now);
    }
    all.iter()
        .map(|s| {
            let access = match s.access_expires_at {
                Some(at) => human::expiry(at, now),
                None => "no access token".to_owned(),
            };
            let flag = if s.damaged.is_some() {
                ", DAMAGED"
            } else if s.needs_authorization.is_some() {
                ", NEEDS RE-AUTHORIZATION"
            } else if let Some((until, why)) = s.paused_until {
                return format!(
                    "{}: {access}, paused ({why}) {}",
                    s.user,
                    human::relative(until, now)
                );
            } else {
                ""
            };
            format!("{}: {access}, {} mints left{flag}", s.user, s.mints_left)
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// `300 credentials: 298 with a valid access token, 1 without one, 1 needing re-authorization,
/// 1 damaged; next expiry: a@x.com expires in 9 min`.
fn summary(all: &[CredentialStatus], now: SystemTime) -> String {
    let (mut fresh, mut expired, mut paused, mut reauth, mut damaged) = (0, 0, 0, 0, 0);
    let mut soonest: Option<(&CredentialStatus, SystemTime)> = None;
    for s in all {
        if s.damaged.is_some() {
            damaged += 1;
            continue;
        }
        if s.needs_authorization.is_some() {
            reauth += 1;
        } else if s.paused_until.is_some_and(|(until, _)| until > now) {
            paused += 1;
        }
        match s.access_expires_at {
            Some(at) if at > now => {
                fresh += 1;
                if soonest.is_none_or(|(_, t)| at < t) {
                    soonest = Some((s, at));
                }
            }
            _ => expired += 1,
        }
    }
    let mut parts = vec![format!("{fresh} with a valid access token")];
    for (n, what) in [
        (expired, "without one"),
        (paused, "paused"),
        (reauth, "needing re-authorization"),
        (damaged, "damaged"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    let mut line = format!("{} credentials: {}", all.len(), parts.join(", "));
    if let Some((s, at)) = soonest {
        line.push_str(&format!(
            "; next expiry: {} {}",
            s.user,
            human::expiry(at, now)
        ));
    }
    line
}
