//! `zoho-oauth login` completed by a plain HTTP client playing the browser: it follows the
//! emulator's redirect to the CLI's loopback listener.

mod common;

use std::time::Duration;

use common::{access, http, Spawned, World, USER};
use zoho_oauth_emulator::{ClientSpec, Consent};

/// Start `login`, read the authorization URL and the redirect URI it printed, and register that
/// redirect URI for the default client (as a developer does in the API console).
fn start_login(w: &World, extra: &[&str]) -> (Spawned, String, String) {
    let s = Spawned::start(
        w.cmd()
            .args(["login", "--no-browser", "--port", "0"])
            .args(extra),
    );
    let (url, _) = s.stderr_line(Duration::from_secs(20), |l| {
        l.starts_with("http") && l.contains("/oauth/v2/auth?")
    });
    let (waiting, _) = s.stderr_line(Duration::from_secs(5), |l| {
        l.starts_with("Waiting for the redirect to ")
    });
    let redirect_uri = waiting
        .trim_start_matches("Waiting for the redirect to ")
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    assert!(redirect_uri.starts_with("http://127.0.0.1:") && redirect_uri.ends_with("/callback"));
    w.emu
        .register_client(ClientSpec {
            redirect_uris: vec![redirect_uri.clone()],
            ..ClientSpec::default()
        })
        .unwrap();
    (s, url, redirect_uri)
}

/// The browser's part: GET the authorization URL without following, return the Location.
fn authorize(url: &str) -> String {
    let resp = http().get(url).call().unwrap();
    assert_eq!(resp.status(), 302, "the emulator consents at once");
    resp.headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn login_ignores_a_wrong_state_then_completes_through_the_emulator_redirect() {
    let w = World::new();
    let (s, url, redirect_uri) = start_login(&w, &[]);
    assert!(url.contains("access_type=offline"), "{url}");
    assert!(url.contains("aaaserver.profile.READ"), "{url}");

    // A forged or stale redirect: error page, and the listener keeps waiting.
    let mut forged = http()
        .get(format!(
            "{redirect_uri}?code=1000.forged&state=not-the-state"
        ))
        .call()
        .unwrap();
    assert_eq!(forged.status(), 400);
    assert!(forged
        .body_mut()
        .read_to_string()
        .unwrap()
        .contains("ignored"));
    let mut denied = http()
        .get(format!("{redirect_uri}?error=access_denied"))
        .call()
        .unwrap();
    assert_eq!(
        denied.status(),
        400,
        "a stateless error must not end the login"
    );
    let _ = denied.body_mut().read_to_string();

    let location = authorize(&url);
    assert!(location.starts_with(&redirect_uri), "{location}");
    let mut done = http().get(&location).call().unwrap();
    assert_eq!(done.status(), 200);
    assert!(done
        .body_mut()
        .read_to_string()
        .unwrap()
        .contains("close this window"));

    let (code, stdout, stderr) = s.finish(Duration::from_secs(30));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(USER),
        "the user was learned from user info: {stdout}"
    );
    let stored = w.stored(USER);
    assert!(!stdout.contains(&access(&stored)) && !stderr.contains(&access(&stored)));
    assert_eq!(
        w.emu.counters().authorization_code_requests,
        1,
        "the forged code was never sent"
    );
}

#[test]
fn login_with_json_prints_the_stored_credential_as_json() {
    let w = World::new();
    let (s, url, _) = start_login(&w, &["--json", "--scope", "ZohoCRM.modules.ALL"]);
    let location = authorize(&url);
    http().get(&location).call().unwrap();
    let (code, stdout, stderr) = s.finish(Duration::from_secs(30));
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["user"], USER);
    assert_eq!(json["user_source"], "user_info");
}

#[test]
fn a_denied_consent_with_the_right_state_ends_the_login_with_an_error() {
    let w = World::new();
    w.emu
        .set_consent(Consent {
            deny: true,
            ..Consent::default()
        })
        .unwrap();
    let (s, url, _) = start_login(&w, &[]);
    let location = authorize(&url);
    assert!(location.contains("error="), "{location}");
    let resp = http().get(&location).call().unwrap();
    assert_eq!(resp.status(), 400);
    let (code, _, stderr) = s.finish(Duration::from_secs(30));
    assert_ne!(code, 0);
    assert!(stderr.contains("not granted"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
}

#[test]
fn login_gives_up_after_its_timeout_with_a_clear_message() {
    let w = World::new();
    let run = w
        .run(&["login", "--no-browser", "--port", "0", "--timeout", "1s"])
        .code(1);
    assert!(
        run.stderr.contains("no authorization came back"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("--timeout"), "{run:#?}");
}

#[test]
fn login_refuses_a_redirect_uri_it_cannot_serve() {
    let w = World::new();
    let run = w
        .run(&[
            "login",
            "--no-browser",
            "--redirect-uri",
            "https://example.com/callback",
        ])
        .code(2);
    assert!(run.stderr.contains("loopback"), "{run:#?}");
}
