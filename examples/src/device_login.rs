//! The `device_login` example: a gateway without a browser signs in with Zoho's device flow. It
//! shows a code, a person approves it on their phone, and the credential is stored under that
//! person's e-mail.

use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, SystemTime};

use zoho_oauth::{DeviceOptions, HttpRequest, Method, Transport};
use zoho_oauth_emulator::{Emulator, Limits};
use zoho_oauth_ureq::UreqTransport;

use crate::{Backend, Outcome};

/// What the gateway asks for; `aaaserver.profile.READ` lets it learn who approved.
pub const SCOPES: &[&str] = &["ZohoCRM.users.READ", "aaaserver.profile.READ"];

/// The shortest time between two polls against the emulator. Zoho's is 30 s.
pub const EMULATED_POLL_FLOOR: Duration = Duration::from_secs(1);

/// Runs the example against [`Backend::from_env`].
pub fn run() -> Outcome {
    run_on(&Backend::from_env()?)
}

/// Runs the example against `backend`.
pub fn run_on(backend: &Backend) -> Outcome {
    // Each poll is reported on a channel, so that the emulated person acts only once the device
    // is waiting for them. A real device needs no such thing.
    let (polled_tx, polled) = mpsc::channel();
    let http = UreqTransport::new();
    let reporting = move |req: &HttpRequest<'_>| {
        let response = http.send(req);
        if req.url.ends_with("/oauth/v3/device/token") {
            let _ = polled_tx.send(());
        }
        response
    };
    let mut builder = backend.builder(reporting);
    // A person whose account lives in another data centre is followed there (`other_dc`), if
    // the client is enabled there (`ZOHO_ALLOWED_DCS`; none offline).
    for dc in backend.allowed_data_centers(&[])? {
        builder = backend.allow_data_center(builder, dc);
    }
    if let Some(emu) = backend.emulator() {
        // Only because this is the emulator: polls 1 s apart, not 30 s, so that the example
        // finishes in seconds. Against Zoho the floor stays 30 s (the library's default). Zoho
        // answers `slow_down` to polls closer than that, and the library never sends them.
        emu.set_limits(Limits {
            device_poll_interval: EMULATED_POLL_FLOOR,
            device_poll_floor: EMULATED_POLL_FLOOR,
            ..emu.limits()
        });
        builder = builder.device_poll_floor(EMULATED_POLL_FLOOR);
    }
    let client = builder.build()?;

    // 1. Ask Zoho for a user code. Offline access and `prompt=consent` (the defaults) bring a
    //    refresh token, so the gateway keeps working after today's hour.
    let mut login = client.device_login(SCOPES, DeviceOptions::default())?;
    // 2. Show the code and where to enter it (on a gateway: its display, or a log line).
    let minutes = login
        .expires_at
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        .as_secs()
        .div_ceil(60);
    println!(
        "To connect this gateway to Zoho, open {} on any phone or computer and enter the code {} \
         (valid for {minutes} minutes).",
        login.verification_url, login.user_code
    );
    // 3. Wait for the person: polls on Zoho's schedule until they approve, refuse, or the code
    //    expires. The credential is stored under the e-mail Zoho reports for them.
    let (done, person) = thread::scope(|s| {
        let person = backend.emulator().map(|emu| {
            let code = login.user_code.clone();
            let until = login.expires_at;
            s.spawn(move || approve_once_polled(emu, &polled, &code, until))
        });
        let done = client.device_wait(&mut login, None);
        let person = person.map(|p| {
            p.join()
                .unwrap_or_else(|_| Err("the emulated person's thread panicked".into()))
        });
        (done, person)
    });
    if let Some(Err(e)) = person {
        return Err(format!("the emulated person could not approve the code: {e}").into());
    }
    let done = done?;
    let user = done.key.user;
    println!("approved by {user}: {}", done.token); // redacted

    // From here on the gateway is like any other client: a fresh token, refreshed when due.
    let token = client.access_token(&user)?;
    let response = client.request(&user, Method::Get, "/crm/v8/users?type=CurrentUser", None)?;
    let body: serde_json::Value = serde_json::from_slice(&response.body)?;
    if response.status != 200 {
        return Err(format!("the CRM answered {}: {body}", response.status).into());
    }
    println!("{user}'s access token for the CRM: {token}");
    let grant = crate::grant_of(&client, &user)?;
    Ok(format!(
        "stored the credential of {user} (grant {grant}); the CRM's current user is <{}>",
        body["users"][0]["email"].as_str().unwrap_or("?"),
    ))
}

/// The emulated person: once the device has polled (and heard `authorization_pending`), they
/// sign in on the verification page as the emulator's default user, enter `user_code` and
/// approve. With real Zoho a person does this in their browser.
fn approve_once_polled(
    emu: &Emulator,
    polled: &Receiver<()>,
    user_code: &str,
    until: SystemTime,
) -> Result<(), String> {
    let wait = until.duration_since(SystemTime::now()).unwrap_or_default();
    polled
        .recv_timeout(wait)
        .map_err(|_| "the device never polled before the code expired")?;
    emu.approve_device(user_code, zoho_oauth_emulator::DEFAULT_USER_EMAIL)
        .map_err(|e| e.to_string())
}
