//! One file per subcommand; this file holds what several share.

pub mod add_refresh_token;
pub mod api;
pub mod demo;
pub mod emulator;
pub mod exchange;
pub mod login;
pub mod refresh;
pub mod revoke;
pub mod status;
pub mod token;
pub mod transfer;
pub mod watch;

use std::io::Read;

use crate::exit::CliError;

/// A secret given as a flag value, or read from stdin when the value is `-` (keeps it out of `ps`
/// and shell history). Surrounding whitespace is dropped.
pub fn secret_arg(value: &str, what: &str) -> Result<String, CliError> {
    let text = if value == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| {
            CliError::usage(
                format!("cannot read the {what} from stdin: {e}"),
                format!("pipe the {what} in, or pass it as the flag's value"),
            )
        })?;
        s
    } else {
        value.to_owned()
    };
    let text = text.trim().to_owned();
    if text.is_empty() {
        return Err(CliError::usage(
            format!("the {what} is empty"),
            format!("pass the {what} as the flag's value, or `-` to read it from stdin"),
        ));
    }
    Ok(text)
}
