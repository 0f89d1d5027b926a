//! The `background_refresh` example: a background thread refreshes tokens before they expire,
//! so that callers never wait for a refresh.

use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use zoho_oauth::{HttpRequest, Transport};
use zoho_oauth_emulator::Limits;
use zoho_oauth_ureq::UreqTransport;

use crate::{Backend, Outcome};

/// How long emulated access tokens live here (real ones live an hour).
pub const EMULATED_LIFETIME: Duration = Duration::from_secs(4);

/// Runs the example against [`Backend::from_env`].
pub fn run() -> Outcome {
    run_on(&Backend::from_env()?)
}

/// Runs the example against `backend`.
pub fn run_on(backend: &Backend) -> Outcome {
    if let Some(emu) = backend.emulator() {
        // Short-lived tokens: the refresh is due after half their life (the margin never exceeds it).
        emu.set_limits(Limits {
            access_token_lifetime: EMULATED_LIFETIME,
            ..emu.limits()
        });
    }
    // To see the refresh happen, the transport reports each refresh answer on a channel.
    let (refreshed_tx, refreshed) = mpsc::channel();
    let http = UreqTransport::new();
    let reporting = move |req: &HttpRequest<'_>| {
        let response = http.send(req);
        if req.body.starts_with(b"grant_type=refresh_token") {
            let _ = refreshed_tx.send(response.as_ref().map_or(0, |r| r.status));
        }
        response
    };
    let client = backend.builder(reporting).build()?;
    let user = backend.user();
    backend.sign_in(&client, &user)?;
    let old = client.access_token(&user)?;
    refreshed.try_iter().for_each(drop); // a refresh token given to sign in was used just now

    let refresher = client.start_background_refresh();
    // Wait for the refresh, at most until the old token's expiry plus some slack.
    let deadline = old.expires_at() + Duration::from_secs(30);
    let wait = deadline
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    println!(
        "waiting up to {}s for the background refresh…",
        wait.as_secs()
    );
    let status = refreshed
        .recv_timeout(wait)
        .map_err(|_| "no background refresh before the token expired")?;
    // Returns once the refresher has stored and published the new token.
    let new = client.refresh(&user, false)?.token;
    refresher.stop(); // or drop it: both stop the thread and wait for it
    Ok(format!(
        "the background refresher got HTTP {status}; new token: {}, valid {}s longer",
        new != old,
        new.expires_at()
            .duration_since(old.expires_at())
            .unwrap_or_default()
            .as_secs()
    ))
}
