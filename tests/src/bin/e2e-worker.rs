//! One process of a fleet sharing a token store: build a client, wait for the start signal, get a
//! user's access token once, print it.
//!
//! Usage: `e2e-worker file:PATH|sqlite:PATH ACCOUNTS_ORIGIN CLIENT_ID USER`, with the client secret
//! in `ZOHO_E2E_CLIENT_SECRET`. Prints `ready` when its client is built, then reads one line from
//! stdin (the start barrier), then prints `token <access token>` and exits 0, or prints the error on
//! stderr and exits 1 (2 for bad usage).
//!
//! It prints a token on purpose: it exists only for the end-to-end tests, against the emulator.
//! Set `ZOHO_E2E_LOG` (an env-filter such as `zoho_oauth=trace`) to log to stderr when a test fails.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use zoho_oauth::Client;
use zoho_oauth_e2e::{StoreSpec, READY, SECRET_ENV, TOKEN_PREFIX};
use zoho_oauth_ureq::UreqTransport;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [store, accounts, client_id, user] = args.as_slice() else {
        eprintln!("usage: e2e-worker file:PATH|sqlite:PATH ACCOUNTS_ORIGIN CLIENT_ID USER (secret in {SECRET_ENV})");
        return ExitCode::from(2);
    };
    if let Ok(filter) = std::env::var("ZOHO_E2E_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(io::stderr)
            .init();
    }
    let Ok(secret) = std::env::var(SECRET_ENV) else {
        eprintln!("set {SECRET_ENV} to the client secret");
        return ExitCode::from(2);
    };
    match run(store, accounts, client_id, &secret, user) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("e2e-worker: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    store: &str,
    accounts: &str,
    client_id: &str,
    secret: &str,
    user: &str,
) -> Result<(), String> {
    let store = StoreSpec::parse(store)?.open().map_err(|e| e.to_string())?;
    let client = Client::builder(client_id, secret)
        .accounts_origin(accounts)
        .store_arc(store.into())
        .transport(UreqTransport::new())
        .build()
        .map_err(|e| e.to_string())?;

    let mut out = io::stdout().lock();
    writeln!(out, "{READY}")
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())?;
    let mut go = String::new();
    io::stdin()
        .lock()
        .read_line(&mut go)
        .map_err(|e| e.to_string())?;

    let token = client.access_token(user).map_err(|e| e.to_string())?;
    writeln!(out, "{TOKEN_PREFIX}{}", token.secret())
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())
}
