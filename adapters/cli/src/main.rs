//! `zoho-oauth`: the command-line tool for Zoho OAuth tokens.
//!
//! It gets credentials (Self Client `exchange`, browser `login`, `add-refresh-token`, `import` of
//! the official SDKs' token file), keeps them in a store (SQLite by default), and hands out valid
//! access tokens to scripts (`token`, `header`, `api`), refreshing once per credential even when
//! many processes ask at once. `demo` walks the whole lifecycle against the bundled emulator.
//!
//! Exit codes: 0 ok, 2 usage or bad input, 3 needs re-authorization, 4 throttled, 5 network or
//! server failure, 1 anything else. Errors are two lines on stderr: what happened, what to do.

mod args;
mod cmd;
mod config;
mod context;
mod exit;
mod human;
mod listener;
mod logging;
mod out;
mod store_url;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::context::Ctx;
use crate::exit::CliError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::debug!(class = ?e.class, "command failed");
            eprintln!("{e}");
            ExitCode::from(e.class.code())
        }
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    logging::init(cli.global.verbose, cli.global.log_file.as_deref())?;
    tracing::debug!(command = command_name(&cli.command), "starting");
    let json = cli.global.json;
    // Everything but `demo` and `emulator` reads the configuration (and may fail on it).
    let configured = || -> Result<Ctx, CliError> {
        Ok(Ctx {
            settings: config::resolve(&cli.global)?,
            json,
        })
    };
    match &cli.command {
        Command::Demo => cmd::demo::run(json),
        Command::Emulator(a) => cmd::emulator::run(json, a),
        Command::Exchange(a) => cmd::exchange::run(&configured()?, a),
        Command::AddRefreshToken(a) => cmd::add_refresh_token::run(&configured()?, a),
        Command::Login(a) => cmd::login::run(&configured()?, a),
        Command::Token => cmd::token::run(&configured()?, false),
        Command::Header => cmd::token::run(&configured()?, true),
        Command::Status => cmd::status::run(&configured()?),
        Command::Refresh(a) => cmd::refresh::run(&configured()?, a),
        Command::Revoke => cmd::revoke::run(&configured()?),
        Command::Api(a) => cmd::api::run(&configured()?, a),
        Command::Import(a) => cmd::transfer::import(&configured()?, &a.target),
        Command::Export(a) => cmd::transfer::export(&configured()?, &a.target),
        Command::Watch => cmd::watch::run(&configured()?),
    }
}

/// The subcommand's name, for logs.
fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Exchange(_) => "exchange",
        Command::AddRefreshToken(_) => "add-refresh-token",
        Command::Login(_) => "login",
        Command::Token => "token",
        Command::Header => "header",
        Command::Status => "status",
        Command::Refresh(_) => "refresh",
        Command::Revoke => "revoke",
        Command::Api(_) => "api",
        Command::Import(_) => "import",
        Command::Export(_) => "export",
        Command::Emulator(_) => "emulator",
        Command::Watch => "watch",
        Command::Demo => "demo",
    }
}
