//! Runnable examples of `zoho-oauth`, one module per example under `examples/`.
//!
//! Each example is a thin `main` around a `run()` function here, so that the integration tests
//! run exactly what `cargo run -p zoho-oauth-examples --example NAME` runs. With no `ZOHO_*`
//! variable set, [`Backend`] starts the bundled emulator in-process and everything runs offline;
//! with `ZOHO_CLIENT_ID` and friends set, the same code talks to real Zoho (see the README).

use std::error::Error;
use std::process::ExitCode;

mod backend;

pub mod background_refresh;
pub mod client_credentials;
pub mod custom_store;
pub mod custom_transport;
pub mod device_login;
pub mod many_threads;
pub mod multi_dc_login;
pub mod self_client;
pub mod web_login;

pub use backend::Backend;

/// What every example returns: a one-paragraph summary of what happened, or why it failed.
pub type Outcome = Result<String, Box<dyn Error>>;

/// How `user`'s stored credential was obtained, as [`Client::status`](zoho_oauth::Client::status)
/// reports it (`Device`, `ClientCredentials`, …).
fn grant_of(client: &zoho_oauth::Client, user: &str) -> Result<String, zoho_oauth::Error> {
    let grant = client
        .status()?
        .into_iter()
        .find(|c| c.user == user)
        .and_then(|c| c.grant);
    Ok(grant.map_or_else(|| "unknown".to_owned(), |g| format!("{g:?}")))
}

/// The shared `main` of the examples: logs to stderr as `RUST_LOG` says, runs `example`, and
/// prints its summary, or its error (whose message says what to do).
pub fn main(example: fn() -> Outcome) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match example() {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
