//! One client holding the credentials of several data centres (Zoho's multi-DC) through the CLI,
//! against two emulated centres: a user homed in an allowed centre logs in and is stored there,
//! the code exchanged with that centre's own secret; a centre that is not allowed is refused
//! before the code is spent. And `zoho-oauth emulator` serving several centres, the consent page
//! and a short device interval.

mod common;

use std::time::Duration;

use common::dcs::{multi_dc_client, EU_USER};
use common::{authorize, http, start_login, Spawned, World};
use zoho_oauth_emulator::{Consent, Limits, DEFAULT_CLIENT_ID};

/// Two centres, with the EU user signed in at the browser.
fn world() -> World {
    let w = World::multi_dc(Limits::default());
    w.emu
        .set_consent(Consent {
            user: EU_USER.into(),
            ..Consent::default()
        })
        .unwrap();
    w
}

#[test]
fn a_browser_login_of_a_user_homed_in_an_allowed_centre_is_stored_there_with_its_own_secret() {
    let w = world();
    let (s, url, _) = start_login(&w, w.cmd_allowing_eu(), &["--json"], multi_dc_client);
    assert!(
        url.starts_with(&w.base()),
        "the login starts at home: {url}"
    );
    let location = authorize(&url);
    assert!(location.contains("location=eu"), "{location}");
    http().get(&location).call().unwrap();
    let (code, stdout, stderr) = s.finish(Duration::from_secs(30));
    assert_eq!(code, 0, "{stderr}");
    let stored: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(stored["user"], EU_USER);
    assert_eq!(stored["data_center"], "eu");
    assert_eq!(stored["api_domain"], w.eu_base());
    assert_eq!(w.emu.counters().authorization_code_requests, 1);

    // Found by its user across the allowed centres, refreshed at EU with EU's secret.
    let refreshed = common::run(
        w.cmd_allowing_eu()
            .args(["refresh", "--force", "--user", EU_USER, "--json"]),
    )
    .ok()
    .json();
    assert_eq!(refreshed["refreshed"], true);
    assert_eq!(w.emu.counters().refresh_token_requests, 1);
    let status = common::run(w.cmd_allowing_eu().args(["status", "--json"]))
        .ok()
        .json();
    assert_eq!(status[0]["data_center"], "eu");

    // Without EU allowed the credential is not served, and status says where it is.
    let hidden = w.run(&["status"]).ok();
    assert!(
        hidden.stderr.contains("data centre(s) eu are not shown"),
        "{hidden:#?}"
    );
    assert!(hidden.stderr.contains("--allowed-dcs eu"), "{hidden:#?}");
}

#[test]
fn an_allowed_centre_without_its_own_secret_is_sent_the_home_one_which_it_refuses() {
    let w = world();
    let mut cmd = w.cmd();
    cmd.env("ZOHO_ALLOWED_DCS", "eu")
        .env("ZOHO_ACCOUNTS_URL_EU", w.eu_base());
    let (s, url, _) = start_login(&w, cmd, &[], multi_dc_client);
    http().get(authorize(&url)).call().unwrap();
    let (code, stdout, stderr) = s.finish(Duration::from_secs(30));
    assert_ne!(code, 0, "{stdout}{stderr}");
    assert!(stderr.contains("refused the client secret"), "{stderr}");
    assert_eq!(
        w.emu.counters().authorization_code_requests,
        1,
        "sent to EU"
    );
    assert_eq!(
        w.run(&["status", "--json"]).ok().json(),
        serde_json::json!([])
    );
}

#[test]
fn a_browser_login_of_a_user_homed_in_a_centre_not_allowed_is_refused_before_the_code_is_spent() {
    let w = world();
    // EU's secret is configured, but EU is not allowed.
    let mut cmd = w.cmd();
    cmd.env("ZOHO_CLIENT_SECRET_EU", common::dcs::EU_SECRET)
        .env("ZOHO_ACCOUNTS_URL_EU", w.eu_base());
    let (s, url, _) = start_login(&w, cmd, &[], multi_dc_client);
    http().get(authorize(&url)).call().unwrap();
    let (code, _, stderr) = s.finish(Duration::from_secs(30));
    assert_ne!(code, 0, "{stderr}");
    // The redirect names EU (`location`), which is not allowed: the hint says how to allow it.
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--allowed-dcs eu"), "{stderr}");
    assert_eq!(
        w.emu.counters().token_requests,
        0,
        "no code was sent anywhere"
    );
    assert_eq!(
        w.run(&["status", "--json"]).ok().json(),
        serde_json::json!([])
    );
}

/// GET `url` as JSON.
fn get_json(url: &str) -> serde_json::Value {
    let mut resp = http().get(url).call().unwrap();
    serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap()
}

#[cfg(unix)]
#[test]
fn the_emulator_command_serves_several_centres_the_consent_page_and_a_short_device_interval() {
    let w = World::new();
    let mut s = Spawned::start(w.bare().args([
        "emulator",
        "--port",
        "0",
        "--emulate-dcs",
        "us,eu",
        "--consent-page",
        "--device-interval",
        "2s",
        "--json",
    ]));
    let info = s.pretty_json();
    assert_eq!(info["consent_page"], true);
    assert_eq!(info["device_interval_ms"], 2000);
    let us = info["base_urls"]["us"].as_str().unwrap().to_owned();
    let eu = info["base_urls"]["eu"].as_str().unwrap().to_owned();
    assert_eq!(info["base_url"], us.as_str());

    let limits = get_json(&format!("{us}/_emulator/limits"));
    assert_eq!(limits["device_poll_interval_ms"], 2000);
    assert_eq!(limits["device_poll_floor_ms"], 2000);
    assert_eq!(get_json(&format!("{us}/_emulator/consent"))["auto"], false);
    let mut page = http()
        .get(format!(
            "{us}/oauth/v2/auth?response_type=code&client_id={DEFAULT_CLIENT_ID}&scope=ZohoCRM.modules.ALL\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback&access_type=offline&state=s1"
        ))
        .call()
        .unwrap();
    assert_eq!(page.status(), 200, "a page, not a redirect");
    let page = page.body_mut().read_to_string().unwrap();
    assert!(
        page.contains("id=\"accept\"") && page.contains("id=\"deny\""),
        "{page}"
    );
    // The default client is known at the second centre too.
    let code = http()
        .post(format!("{eu}/_emulator/codes"))
        .header("Content-Type", "application/json")
        .send(r#"{"data_center":"eu"}"#.as_bytes())
        .unwrap();
    assert!(code.status().is_success(), "{}", code.status());

    s.interrupt();
    let (exit, _, stderr) = s.finish(Duration::from_secs(20));
    assert_eq!(exit, 0, "{stderr}");
}

#[test]
fn the_emulator_command_refuses_an_unknown_centre() {
    let w = World::new();
    let run = common::run(
        w.bare()
            .args(["emulator", "--port", "0", "--emulate-dcs", "us,mars"]),
    )
    .code(2);
    assert!(run.stderr.contains("--emulate-dcs"), "{run:#?}");
}
