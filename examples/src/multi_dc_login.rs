//! The `multi_dc_login` example: "Login with Zoho" for users of several data centres with one
//! client id (Zoho's multi-DC). Each credential is exchanged, keyed and used at its user's data
//! centre. A user of a data centre the application does not allow is refused before their
//! code is sent anywhere.

use zoho_oauth::core::DataCenter;
use zoho_oauth::{Error, Method};
use zoho_oauth_emulator::{self as emulator, ClientSpec, Config, Consent, UserSpec};
use zoho_oauth_ureq::UreqTransport;

use crate::{Backend, Outcome};

/// What the application asks for; `aaaserver.profile.READ` lets it learn who logged in.
pub const SCOPES: &[&str] = &["ZohoCRM.users.READ", "aaaserver.profile.READ"];

/// An emulated person whose account lives in the EU data centre.
pub const EU_PERSON: &str = "eu.person@example.com";
/// An emulated person whose account lives in the IN data centre, which the application does
/// not allow.
pub const IN_PERSON: &str = "in.person@example.com";

/// The data centres the application allows besides its home (US) when it runs on the emulator.
const EMULATED_ALLOWED: &[DataCenter] = &[DataCenter::Eu];

/// The emulated Zoho: the US, EU and IN data centres; the client registered at US with
/// multi-DC on for EU and IN (as in the API console's "Multi-DC" settings); one person homed
/// in the EU, one in IN.
pub fn emulator_config() -> Config {
    let dcs = [
        emulator::DataCenter::Us,
        emulator::DataCenter::Eu,
        emulator::DataCenter::In,
    ];
    let person = |email: &str, zuid, home| UserSpec {
        email: email.to_owned(),
        zuid,
        home: Some(home),
        ..UserSpec::default()
    };
    Config {
        data_centers: dcs.to_vec(),
        clients: vec![ClientSpec {
            multi_dc: dcs[1..].to_vec(),
            ..ClientSpec::default()
        }],
        users: vec![
            person(EU_PERSON, 30_000_000_001, emulator::DataCenter::Eu),
            person(IN_PERSON, 30_000_000_002, emulator::DataCenter::In),
        ],
        consent: Consent {
            user: EU_PERSON.to_owned(),
            ..Consent::default()
        },
        ..Config::default()
    }
}

/// Runs the example against [`Backend::from_env_or`] with [`emulator_config`].
pub fn run() -> Outcome {
    run_on(&Backend::from_env_or(emulator_config())?)
}

/// Runs the example against `backend`, whose emulator (if any) was started with
/// [`emulator_config`].
pub fn run_on(backend: &Backend) -> Outcome {
    // One client id for every centre. In your application:
    //   .allow_data_center(DataCenter::Eu, Some(&eu_secret))  // or None: the same secret
    let mut builder = backend.builder(UreqTransport::new());
    for dc in backend.allowed_data_centers(EMULATED_ALLOWED)? {
        builder = backend.allow_data_center(builder, dc);
    }
    let client = builder.build()?;
    let redirect_uri = backend.redirect_uri()?;

    // Offline, two people log in in turn; with real Zoho, whoever uses the browser.
    let people: &[&str] = match backend.emulator() {
        Some(_) => &[EU_PERSON, IN_PERSON],
        None => &["you"],
    };
    let mut report = Vec::new();
    for person in people {
        if let Some(emu) = backend.emulator() {
            emu.set_consent(Consent {
                user: (*person).to_owned(),
                ..Consent::default()
            })?;
        }
        // The login starts at the home data centre; Zoho sends the person's browser back with
        // `location` and `accounts-server` naming the centre their account lives in.
        let login = client.begin_login(SCOPES, &redirect_uri);
        let callback = backend.browse(&login.url)?;
        match client.complete_login(&login, &callback, None) {
            Ok(done) => {
                // Exchanged at that centre's accounts server, keyed by it, refreshed there later.
                let (user, dc) = (done.key.user, done.key.data_center);
                let api_domain = done.token.api_domain().to_owned();
                // A token works only at its own centre's API domain, which `request` uses.
                let response =
                    client.request(&user, Method::Get, "/crm/v8/users?type=CurrentUser", None)?;
                println!(
                    "{user} logged in at {dc}; the CRM at {api_domain} answered {}",
                    response.status
                );
                report.push(format!(
                    "{user} at {dc}: API calls to {api_domain} answered {}",
                    response.status
                ));
            }
            // A centre the application does not allow: refused before the code is exchanged,
            // so neither the code nor the client secret reaches it. The error names the centre
            // (from the redirect's `location`), so the application can tell the person.
            Err(e @ Error::DataCenterNotAllowed { .. }) => {
                println!("{person}: refused: {e}");
                report.push(format!("{person}: refused before the exchange"));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let keyed: Vec<_> = client
        .status()?
        .into_iter()
        .map(|c| format!("{} at {}", c.user, c.data_center))
        .collect();
    Ok(format!("{}; stored: {keyed:?}", report.join("; ")))
}
