//! `emulator`: run the bundled Zoho accounts emulator in the foreground until Ctrl-C.

use std::sync::mpsc;

use serde_json::json;
use zoho_oauth_emulator::{
    Config, DataCenter, Emulator, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_SOID,
    DEFAULT_USER_EMAIL,
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

/// The configuration `zoho-oauth emulator` starts: [`config`], over the data centres of
/// `--emulate-dcs` (the default client enabled in each), with the consent page and the device
/// interval asked for.
fn configured(args: &EmulatorArgs) -> Result<Config, CliError> {
    let port = (args.port != 0).then_some(args.port);
    let mut data_centers = Vec::new();
    for part in args
        .data_centers
        .split([',', ' '])
        .filter(|p| !p.is_empty())
    {
        let dc = part.parse::<DataCenter>().map_err(|e| {
            CliError::usage(
                format!("bad --emulate-dcs: {}", out::clean(&e.to_string())),
                "list location codes, e.g. --emulate-dcs us,eu (us eu in au jp ca sa uk cn)",
            )
        })?;
        if !data_centers.contains(&dc) {
            data_centers.push(dc);
        }
    }
    if data_centers.is_empty() {
        return Err(CliError::usage(
            "--emulate-dcs is empty",
            "list location codes, e.g. --emulate-dcs us,eu",
        ));
    }
    let mut config = Config {
        clients: Config::with_data_centers(data_centers.iter().copied()).clients,
        data_centers,
        ..config(port)
    };
    for client in &mut config.clients {
        client.redirect_uris.push(LOGIN_REDIRECT_URI.to_owned());
    }
    config.consent.auto = !args.consent_page;
    if let Some(text) = &args.device_interval {
        let interval = crate::human::parse_duration(text).map_err(|e| {
            CliError::usage(
                format!("bad --device-interval: {e}"),
                "e.g. --device-interval 5s",
            )
        })?;
        config.limits.device_poll_interval = interval;
        config.limits.device_poll_floor = interval;
    }
    Ok(config)
}

/// Start the emulator, print where it listens and how to use it, and serve until Ctrl-C.
pub fn run(json: bool, args: &EmulatorArgs) -> Result<(), CliError> {
    let config = configured(args)?;
    let consent_page = !config.consent.auto;
    let device_interval = config.limits.device_poll_interval;
    let emulator = Emulator::start(config).map_err(|e| {
        CliError::usage(
            format!("the emulator could not start: {e}"),
            "pick another --port (0 lets the system choose)",
        )
    })?;
    let home = emulator.data_centers()[0];
    let base = emulator.base_url(home).to_owned();
    let others: Vec<(DataCenter, String)> = emulator
        .data_centers()
        .into_iter()
        .skip(1)
        .map(|dc| (dc, emulator.base_url(dc).to_owned()))
        .collect();
    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .map_err(|e| CliError::other(format!("cannot handle Ctrl-C: {e}"), "run it in a terminal"))?;
    if json {
        let mut base_urls = serde_json::Map::new();
        base_urls.insert(home.location().to_owned(), json!(base));
        for (dc, url) in &others {
            base_urls.insert(dc.location().to_owned(), json!(url));
        }
        out::json(&json!({
            "base_url": base,
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "user": DEFAULT_USER_EMAIL,
            "login_redirect_uri": LOGIN_REDIRECT_URI,
            "base_urls": base_urls,
            "consent_page": consent_page,
            "device_interval_ms": u64::try_from(device_interval.as_millis()).unwrap_or(u64::MAX),
        }));
    } else {
        print!("{}", emulator.banner());
        let mut setup = format!(
            "\n  export ZOHO_ACCOUNTS_URL={base}\
             \n  export ZOHO_CLIENT_ID={DEFAULT_CLIENT_ID}\
             \n  export ZOHO_CLIENT_SECRET={DEFAULT_CLIENT_SECRET}"
        );
        if home != DataCenter::Us {
            setup.push_str(&format!("\n  export ZOHO_DC={}", home.location()));
        }
        if !others.is_empty() {
            let list: Vec<&str> = others.iter().map(|(dc, _)| dc.location()).collect();
            setup.push_str(&format!("\n  export ZOHO_ALLOWED_DCS={}", list.join(",")));
            for (dc, url) in &others {
                setup.push_str(&format!(
                    "\n  export ZOHO_ACCOUNTS_URL_{}={url}",
                    dc.location().to_ascii_uppercase()
                ));
            }
        }
        let device = if device_interval < std::time::Duration::from_secs(30) {
            // The CLI's own floor follows the emulator's interval (100 ms at least).
            let floor = device_interval.max(crate::config::MIN_DEVICE_POLL_FLOOR);
            let floor = match floor.as_millis() {
                ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
                ms => format!("{ms}ms"),
            };
            format!("\n  ZOHO_OAUTH_DEVICE_POLL_FLOOR={floor} zoho-oauth login --device")
        } else {
            "\n  zoho-oauth login --device".to_owned()
        };
        println!(
            "\nUse it from another terminal (these are the emulator's own, public test credentials):\n\
             {setup}\
             \n  curl -s -X POST {base}/_emulator/codes   # a Self Client grant token: {{\"code\":\"…\"}}\
             \n  zoho-oauth exchange --grant-token CODE\
             \n  zoho-oauth login --no-browser{device}\
             \n  zoho-oauth add-client-credentials --soid {DEFAULT_SOID} --scope ZohoCRM.modules.ALL\n\
             \nbase URL: {base}{}\nPress Ctrl-C to stop.",
            if consent_page {
                "\nThe consent page is on: /oauth/v2/auth shows Accept and Deny."
            } else {
                ""
            }
        );
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = rx.recv();
    emulator.stop();
    out::note("emulator stopped");
    Ok(())
}
