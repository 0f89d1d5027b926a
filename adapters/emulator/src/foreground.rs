//! Running the emulator in the foreground, as the `zoho-oauth-emulator` binary and `zoho-oauth emulator` do.

use std::io::{self, Write as _};

use crate::config::Config;
use crate::emulator::Emulator;
use crate::error::StartError;

/// How [`serve_forever`] behaves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServeOptions {
    /// Keep serving when standard input closes. By default a closed stdin stops the server, so that
    /// a parent process that spawned it with a pipe stops it by dropping the pipe; set this when
    /// running it in the background with stdin at `/dev/null`.
    pub ignore_stdin: bool,
    /// Do not print the banner (base URLs and credentials) on standard output.
    pub quiet: bool,
}

/// Starts an emulator, prints its [banner](Emulator::banner) on standard output, and serves until
/// Ctrl-C or (unless told otherwise) until standard input closes.
///
/// It takes over the process's Ctrl-C handling: call it from a binary's `main`, not from a library.
///
/// # Errors
///
/// Whatever [`Emulator::start`] refuses.
pub fn serve_forever(config: Config, options: &ServeOptions) -> Result<(), StartError> {
    let emulator = Emulator::launch(config, true)?;
    if !options.quiet {
        let mut stdout = io::stdout().lock();
        let _ = write!(stdout, "{}", emulator.banner());
        let _ = stdout.flush();
    }
    if !options.ignore_stdin {
        let stopper = emulator.stopper();
        // Blocks in a read until EOF; the process exits right after the server stops anyway.
        std::thread::Builder::new()
            .name("zoho-oauth-emulator-stdin".to_owned())
            .spawn(move || {
                let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
                stopper.stop();
            })
            .map_err(StartError::Runtime)?;
    }
    emulator.wait();
    Ok(())
}
