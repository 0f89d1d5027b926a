//! `zoho-oauth-emulator`: a local Zoho accounts server (and a few CRM endpoints) for offline tests.

use std::process::ExitCode;

use zoho_oauth_emulator::{serve_forever, Config, DataCenter, ServeOptions};

const USAGE: &str = "\
zoho-oauth-emulator: a local Zoho OAuth accounts server for offline tests (loopback only)

USAGE:
    zoho-oauth-emulator [--port P] [--dc us,eu] [--config FILE] [--consent-page] [--ignore-stdin] [--quiet]

OPTIONS:
    --port P         port of the first data centre (the next ones take P+1, P+2...); default: any free port
    --dc LIST        data centres to emulate, comma separated (us eu in au jp ca sa uk cn); default: us
    --config FILE    a JSON configuration (the library's Config: clients, users, limits...); flags override it
    --consent-page   /oauth/v2/auth shows Zoho's consent page (Accept/Deny) instead of consenting at once
    --ignore-stdin   keep serving when standard input closes (for background use with stdin at /dev/null)
    --quiet          do not print the base URLs and credentials
    -h, --help       this help

Serves until Ctrl-C or until standard input closes. The control API is under /_emulator/ on every port.";

fn main() -> ExitCode {
    match parse(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Serve(config, options)) => match serve_forever(*config, &options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

enum Command {
    Help,
    Serve(Box<Config>, ServeOptions),
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut config_file = None;
    let mut port = None;
    let mut data_centers = None;
    let mut options = ServeOptions::default();
    let mut consent_page = false;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--port" => {
                let text = value("--port")?;
                port = Some(
                    text.parse::<u16>()
                        .map_err(|_| format!("--port `{text}` is not a port number (1-65535)"))?,
                );
            }
            "--dc" => {
                let list = value("--dc")?;
                let parsed = list
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(str::parse::<DataCenter>)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.to_string())?;
                data_centers = Some(parsed);
            }
            "--config" => config_file = Some(value("--config")?),
            "--consent-page" => consent_page = true,
            "--ignore-stdin" => options.ignore_stdin = true,
            "--quiet" => options.quiet = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let mut config = match config_file {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read the configuration `{path}`: {e}"))?;
            serde_json::from_str::<Config>(&text).map_err(|e| {
                format!("the configuration `{path}` is not valid JSON for Config: {e}")
            })?
        }
        None => Config::default(),
    };
    if let Some(dcs) = data_centers {
        let default_clients = Config::with_data_centers(dcs.iter().copied()).clients;
        config.data_centers = dcs;
        // Keep the file's clients that still fit; give every data centre the default client.
        config
            .clients
            .retain(|c| config.data_centers.contains(&c.data_center));
        for client in default_clients {
            if !config
                .clients
                .iter()
                .any(|c| c.id == client.id && c.data_center == client.data_center)
            {
                config.clients.push(client);
            }
        }
    }
    if port.is_some() {
        config.port = port;
    }
    if consent_page {
        config.consent.auto = false;
    }
    Ok(Command::Serve(Box::new(config), options))
}
