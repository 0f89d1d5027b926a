//! `emulator`: run the bundled Zoho accounts emulator in the foreground until Ctrl-C.

use std::sync::mpsc;

use serde_json::json;
use zoho_oauth_emulator::{
    Config, DataCenter, Emulator, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_USER_EMAIL,
};

use crate::args::EmulatorArgs;
use crate::exit::CliError;
use crate::out;

/// The redirect URI `zoho-oauth login` uses by default, registered so that it works out of the box.
pub const LOGIN_REDIRECT_URI: &str = "http://127.0.0.1:8765/callback";

/// An emulator configuration whose default client also accepts `login`'s default redirect URI.
pub fn config(port: Option<u16>) -> Config {
    let mut config = Config {
        port,
        ..Config::default()
    };
    for client in &mut config.clients {
        client.redirect_uris.push(LOGIN_REDIRECT_URI.to_owned());
    }
    config
}

/// Start the emulator, print where it listens and how to use it, and serve until Ctrl-C.
pub fn run(json: bool, args: &EmulatorArgs) -> Result<(), CliError> {
    let port = (args.port != 0).then_some(args.port);
    let emulator = Emulator::start(config(port)).map_err(|e| {
        CliError::usage(
            format!("the emulator could not start: {e}"),
            "pick another --port (0 lets the system choose)",
        )
    })?;
    let base = emulator.base_url(DataCenter::Us).to_owned();
    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .map_err(|e| CliError::other(format!("cannot handle Ctrl-C: {e}"), "run it in a terminal"))?;
    if json {
        out::json(&json!({
            "base_url": base,
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "user": DEFAULT_USER_EMAIL,
            "login_redirect_uri": LOGIN_REDIRECT_URI,
        }));
    } else {
        print!("{}", emulator.banner());
        println!(
            "\nUse it from another terminal (these are the emulator's own, public test credentials):\n\
             \n  export ZOHO_ACCOUNTS_URL={base}\
             \n  export ZOHO_CLIENT_ID={DEFAULT_CLIENT_ID}\
             \n  export ZOHO_CLIENT_SECRET={DEFAULT_CLIENT_SECRET}\
             \n  curl -s -X POST {base}/_emulator/codes   # a Self Client grant token: {{\"code\":\"…\"}}\
             \n  zoho-oauth exchange --grant-token CODE\
             \n  zoho-oauth login --no-browser\n\
             \nbase URL: {base}\nPress Ctrl-C to stop."
        );
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = rx.recv();
    emulator.stop();
    out::note("emulator stopped");
    Ok(())
}
