//! `completions SHELL` and `man`: shell completions (clap_complete) and manual pages
//! (clap_mangen), generated from the same definitions as the parser, so they cannot drift.

use std::io::Write;

use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs, ManArgs};
use crate::exit::CliError;

/// The binary's name, as completions and pages call it.
const BIN: &str = "zoho-oauth";

/// Print the completion script for the shell asked for.
pub fn completions(args: &CompletionsArgs) -> Result<(), CliError> {
    let mut command = Cli::command();
    let mut stdout = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut command, BIN, &mut stdout);
    let _ = stdout.flush();
    Ok(())
}

/// Print the main page, or write every page into `--dir`.
pub fn man(args: &ManArgs) -> Result<(), CliError> {
    let command = Cli::command();
    let Some(dir) = &args.dir else {
        let mut page = Vec::new();
        render(&command, &mut page)?;
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(&page);
        return Ok(());
    };
    let fail = |path: &std::path::Path, e: std::io::Error| {
        CliError::usage(
            format!("cannot write {}: {e}", path.display()),
            "give --dir a writable directory",
        )
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
    let mut written = Vec::new();
    let mut pages = vec![(BIN.to_owned(), command.clone())];
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("{BIN}-{}", sub.get_name());
        pages.push((name.clone(), sub.clone().name(name)));
    }
    for (name, page_command) in pages {
        let path = dir.join(format!("{name}.1"));
        let mut page = Vec::new();
        render(&page_command, &mut page)?;
        std::fs::write(&path, page).map_err(|e| fail(&path, e))?;
        written.push(path);
    }
    crate::out::note(format!(
        "wrote {} manual pages to {}",
        written.len(),
        dir.display()
    ));
    Ok(())
}

fn render(command: &clap::Command, out: &mut Vec<u8>) -> Result<(), CliError> {
    clap_mangen::Man::new(command.clone())
        .render(out)
        .map_err(|e| {
            CliError::other(
                format!("cannot render the manual page: {e}"),
                "please report this bug",
            )
        })
}
