//! `zoho-oauth`: the command-line tool for Zoho OAuth tokens, as a library the binary's thin
//! `main` calls ([`main`]). The library exists so that fuzz targets can reach the tool's
//! parsers of untrusted text: see [`fuzz`]. Everything else is private: the tool's interface is
//! its command line, not this crate's API.
//!
//! It gets credentials (Self Client `exchange`, browser `login`, `add-refresh-token`, `import` of
//! the official SDKs' token file), keeps them in a store (SQLite by default), and hands out valid
//! access tokens to scripts (`token`, `header`, `api`), refreshing once per credential even when
//! many processes ask at once. `demo` walks the whole lifecycle against the bundled emulator.
//!
//! Exit codes: 0 ok, 2 usage or bad input, 3 needs re-authorization, 4 throttled, 5 network or
//! server failure (or a lock held too long), 1 anything else. Errors are two lines on stderr:
//! what happened, what to do — with every control character from outside escaped.

mod args;
mod cmd;
mod config;
mod context;
mod exit;
mod exporter;
mod human;
mod input;
mod listener;
mod logging;
mod out;
mod qr;
mod spinner;
mod store_url;

pub mod fuzz;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::context::Ctx;
use crate::exit::CliError;

/// The whole tool: parse the process's arguments, run the subcommand, print an error as its two
/// lines on stderr, and return the exit code (see the crate's documentation for their meaning).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::debug!(class = ?e.class, "command failed");
            out::error(&e.what, &e.todo);
            ExitCode::from(e.class.code())
        }
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    logging::init(cli.global.verbose, cli.global.log_file.as_deref())?;
    tracing::debug!(command = command_name(&cli.command), "starting");
    let json = cli.global.json;
    // These need no configuration.
    match &cli.command {
        Command::Demo => return cmd::demo::run(json),
        Command::Emulator(a) => return cmd::emulator::run(json, a),
        Command::Completions(a) => return cmd::docs::completions(a),
        Command::Man(a) => return cmd::docs::man(a),
        _ => {}
    }
    let ctx = Ctx {
        settings: config::resolve(&cli.global)?,
        json,
    };
    let result = match &cli.command {
        Command::Exchange(a) => cmd::exchange::run(&ctx, a),
        Command::AddRefreshToken(a) => cmd::add_refresh_token::run(&ctx, a),
        Command::Login(a) => cmd::login::run(&ctx, a),
        Command::AddClientCredentials(a) => cmd::client_credentials::run(&ctx, a),
        Command::Token => cmd::token::run(&ctx, false),
        Command::Header => cmd::token::run(&ctx, true),
        Command::Status => cmd::status::run(&ctx),
        Command::Refresh(a) => cmd::refresh::run(&ctx, a),
        Command::Revoke => cmd::revoke::run(&ctx),
        Command::Delete => cmd::revoke::delete(&ctx),
        Command::Api(a) => cmd::api::run(&ctx, a),
        Command::Import(a) => cmd::transfer::import(&ctx, &a.target),
        Command::Export(a) => cmd::transfer::export(&ctx, &a.target),
        Command::Watch(a) => cmd::watch::run(&ctx, a),
        Command::Demo | Command::Emulator(_) | Command::Completions(_) | Command::Man(_) => {
            unreachable!("handled above")
        }
    };
    result.map_err(|e| e.naming_store(&ctx.store_label()))
}

/// The subcommand's name, for logs.
fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Exchange(_) => "exchange",
        Command::AddRefreshToken(_) => "add-refresh-token",
        Command::Login(_) => "login",
        Command::AddClientCredentials(_) => "add-client-credentials",
        Command::Token => "token",
        Command::Header => "header",
        Command::Status => "status",
        Command::Refresh(_) => "refresh",
        Command::Revoke => "revoke",
        Command::Delete => "delete",
        Command::Api(_) => "api",
        Command::Import(_) => "import",
        Command::Export(_) => "export",
        Command::Emulator(_) => "emulator",
        Command::Watch(_) => "watch",
        Command::Demo => "demo",
        Command::Completions(_) => "completions",
        Command::Man(_) => "man",
    }
}
