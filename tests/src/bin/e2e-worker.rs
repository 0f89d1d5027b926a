//! One process of a fleet sharing a token store: build a client on the store, say `ready`, wait
//! for the start signal, run one operation, report it, exit.
//!
//! Usage: `e2e-worker [--clock-offset-ms N] [--pause-at CHECKPOINT] STORE ACCOUNTS_ORIGIN CLIENT_ID OP`
//! with OP one of `token USER`, `refresh [--force] USER`, `exchange USER`, `revoke USER`, `status`;
//! STORE `file:PATH`, `sqlite:PATH`, `postgres://…`, `mysql://…` or `redis://…[?lease_ms=N]`. The
//! client secret comes in `ZOHO_E2E_CLIENT_SECRET`, an exchange's code in `ZOHO_E2E_CODE`.
//!
//! Prints the lines of [`zoho_oauth_e2e::protocol`]: `ready`, an `ev` line at each checkpoint of
//! the store lock and of each request (through instrumented store and transport, which pass
//! every call to the real ones), then `ok <op> …` and exit 0, or `err <op> <label>` with the error
//! on stderr and exit 1 (2 for bad usage). With `--pause-at`, it stops at that checkpoint the first
//! time it is reached, for the harness to SIGKILL it there.
//!
//! It prints tokens on purpose: it exists only for the end-to-end tests, against the emulator.
//! Set `ZOHO_E2E_LOG` (an env-filter such as `zoho_oauth=trace`) to log to stderr when a test fails.

use std::io::{self, BufRead};
use std::process::ExitCode;
use std::sync::Arc;

use zoho_oauth::{Client, Error, StoreError};
use zoho_oauth_e2e::instrument::{print_line, Events, OffsetClock, TracedStore, TracedTransport};
use zoho_oauth_e2e::protocol::{Op, ParsedArgs, CODE_ENV, LEASE_LOST, READY, SECRET_ENV, USAGE};
use zoho_oauth_ureq::UreqTransport;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match ParsedArgs::parse(&args) {
        Ok(p) => p,
        Err(why) => {
            eprintln!("e2e-worker: {why}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Ok(filter) = std::env::var("ZOHO_E2E_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(io::stderr)
            .init();
    }
    let Ok(secret) = std::env::var(SECRET_ENV) else {
        eprintln!("e2e-worker: set {SECRET_ENV} to the client secret");
        return ExitCode::from(2);
    };
    let code = std::env::var(CODE_ENV).ok();
    if matches!(parsed.op, Op::Exchange(_)) && code.is_none() {
        eprintln!("e2e-worker: exchange needs the grant code in {CODE_ENV}");
        return ExitCode::from(2);
    }
    let op = parsed.op.name();
    match run(&parsed, &secret, code.as_deref()) {
        Ok(values) => {
            print_line(&format!("ok {op} {}", values.join(" ")));
            ExitCode::SUCCESS
        }
        Err(Failure::Setup(e)) => {
            eprintln!("e2e-worker: {e}");
            ExitCode::FAILURE
        }
        Err(Failure::Op(e)) => {
            let cause = if lease_lost(&e) { LEASE_LOST } else { "" };
            print_line(&format!("err {op} {} {cause}", e.label()));
            eprintln!("e2e-worker: {op}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Whether a store refused a write of `e`'s operation because the lock's lease had expired.
fn lease_lost(e: &Error) -> bool {
    match e {
        Error::NotSaved { cause, .. } => matches!(**cause, StoreError::LeaseLost(_)),
        Error::Store(cause) => matches!(cause, StoreError::LeaseLost(_)),
        _ => false,
    }
}

enum Failure {
    /// Before the start signal: the store or the client could not be made.
    Setup(String),
    /// The operation failed.
    Op(Error),
}

/// Builds the client, waits for the start signal, runs the operation; `Ok` holds what `ok` prints.
fn run(args: &ParsedArgs, secret: &str, code: Option<&str>) -> Result<Vec<String>, Failure> {
    let events = Arc::new(Events::new(args.pause_at));
    let store = args
        .store
        .open()
        .map_err(|e| Failure::Setup(e.to_string()))?;
    let client = Client::builder(&args.client_id, secret)
        .accounts_origin(&args.accounts)
        .store(TracedStore::new(store, Arc::clone(&events)))
        .transport(TracedTransport::new(UreqTransport::new(), events))
        .clock(OffsetClock(args.clock_offset))
        .build()
        .map_err(|e| Failure::Setup(e.to_string()))?;

    print_line(READY);
    let mut go = String::new();
    io::stdin()
        .lock()
        .read_line(&mut go)
        .map_err(|e| Failure::Setup(e.to_string()))?;

    let done = match &args.op {
        Op::Token(user) => client
            .access_token(user)
            .map(|t| vec![t.secret().to_owned()]),
        Op::Refresh { user, force } => client
            .refresh(user, *force)
            .map(|o| vec![format!("minted={}", o.minted), o.token.secret().to_owned()]),
        Op::Exchange(user) => client
            .exchange_grant(user, code.unwrap_or_default())
            .map(|t| vec![t.secret().to_owned()]),
        Op::Revoke(user) => client
            .revoke(user)
            .map(|r| vec![format!("{:?}", r.at_zoho).to_lowercase()]),
        Op::Status => client.status().map(|rows| {
            for row in &rows {
                let grant = row.grant.map_or("-", |g| g.name());
                let hint = if row.hint.is_empty() { "-" } else { &row.hint };
                print_line(&format!(
                    "cred {} {hint} {grant} reauth={} damaged={}",
                    row.user,
                    u8::from(row.needs_authorization.is_some()),
                    u8::from(row.damaged.is_some())
                ));
            }
            vec![rows.len().to_string()]
        }),
    };
    done.map_err(Failure::Op)
}
