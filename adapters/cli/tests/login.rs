//! `zoho-oauth login` completed by a plain HTTP client playing the browser: it follows the
//! emulator's redirect to the CLI's loopback listener.

mod common;

use std::time::Duration;

use common::{access, authorize, http, Spawned, World, USER};
use zoho_oauth_emulator::{ClientSpec, Consent};

/// Start `login`, read the authorization URL and the redirect URI it printed, and register that
/// redirect URI for the default client (as a developer does in the API console).
fn start_login(w: &World, extra: &[&str]) -> (Spawned, String, String) {
    common::start_login(w, w.cmd(), extra, |redirect_uris| ClientSpec {
        redirect_uris,
        ..ClientSpec::default()
    })
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
    let page = done.body_mut().read_to_string().unwrap();
    assert!(page.contains("<h1>Signed in</h1>"), "{page}");
    assert!(page.contains("close this window"), "{page}");
    assert!(page.contains(USER), "the page says who signed in: {page}");

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
    let mut resp = http().get(&location).call().unwrap();
    assert_eq!(resp.status(), 400);
    let page = resp.body_mut().read_to_string().unwrap();
    let (code, _, stderr) = s.finish(Duration::from_secs(30));
    assert_ne!(code, 0);
    assert!(stderr.contains("not granted"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    // The browser page says the same as the terminal: what happened and what to do.
    assert!(page.contains("<h1>Login failed</h1>"), "{page}");
    assert!(page.contains("not granted"), "{page}");
    assert!(page.contains("What to do: "), "{page}");
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

/// Complete a login started with `extra` flags; returns its authorization URL.
fn complete_login(w: &World, extra: &[&str]) -> String {
    let (s, url, _) = start_login(w, extra);
    http().get(&authorize(&url)).call().unwrap();
    let (code, _, stderr) = s.finish(Duration::from_secs(30));
    assert_eq!(code, 0, "{stderr}");
    url
}

#[test]
fn login_sends_a_pkce_s256_challenge_by_default_and_proves_it_with_the_verifier() {
    for extra in [&[][..], &["--pkce"][..]] {
        let w = World::new();
        let url = complete_login(&w, extra);
        assert!(url.contains("code_challenge="), "{extra:?}: {url}");
        assert!(
            url.contains("code_challenge_method=S256"),
            "{extra:?}: {url}"
        );
        // The emulator refuses an exchange without the verifier (or with a wrong one).
        let c = w.emu.counters();
        assert_eq!(c.pkce_failures, 0, "{c:?}");
        assert_eq!(c.authorization_code_requests, 1);
    }
}

#[test]
fn login_with_no_pkce_sends_no_challenge_and_still_completes() {
    let w = World::new();
    let url = complete_login(&w, &["--no-pkce"]);
    assert!(!url.contains("code_challenge"), "{url}");
    assert_eq!(w.emu.counters().authorization_code_requests, 1);
    // The last of --pkce/--no-pkce wins; --device takes neither.
    let run = w.run(&["login", "--device", "--no-pkce"]).code(2);
    assert!(run.stderr.contains("--no-pkce"), "{run:#?}");
}
