//! Diagnostic logs: `-v`/`-vv`/`-vvv` on stderr, or appended to `--log-file`.
//!
//! Only this project's crates log above `warn`: third-party HTTP crates may print headers at debug
//! level, and headers carry tokens. Our crates never log a secret.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

use crate::exit::CliError;

/// Log targets of this project (this binary's own target is `zoho_oauth` too: the crate name of
/// a binary comes from its file name).
const OUR_CRATES: [&str; 5] = [
    "zoho_oauth",
    "zoho_oauth_ureq",
    "zoho_oauth_sqlite",
    "zoho_oauth_emulator",
    "zoho_oauth_core",
];

/// Install the subscriber. Without `-v` and without a log file nothing is logged.
pub fn init(verbose: u8, log_file: Option<&Path>) -> Result<(), CliError> {
    let level = match (verbose, log_file.is_some()) {
        (0, false) => return Ok(()),
        (0, true) | (1, _) => "info",
        (2, _) => "debug",
        _ => "trace",
    };
    let mut directives = String::from("warn");
    for krate in OUR_CRATES {
        directives.push_str(&format!(",{krate}={level}"));
    }
    let filter = EnvFilter::try_new(&directives)
        .map_err(|e| CliError::other(format!("bad log filter: {e}"), "report this bug"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    let result = match log_file {
        Some(path) => {
            let mut options = std::fs::OpenOptions::new();
            options.create(true).append(true);
            // Logs carry no secret, but user names, hosts and paths are nobody else's business.
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let file = options.open(path).map_err(|e| {
                CliError::usage(
                    format!("cannot open the log file {}: {e}", path.display()),
                    "give --log-file a writable path",
                )
            })?;
            builder
                .with_ansi(false)
                .with_writer(Mutex::new(file))
                .try_init()
        }
        None => builder
            .with_ansi(std::io::stderr().is_terminal() && !crate::out::no_color())
            .with_writer(std::io::stderr)
            .try_init(),
    };
    result.map_err(|e| CliError::other(format!("cannot start logging: {e}"), "report this bug"))
}
