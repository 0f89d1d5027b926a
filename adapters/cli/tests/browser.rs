//! `zoho-oauth login` in a real browser: headless Chromium opens the authorization URL, the
//! emulator shows its consent page, the test clicks Accept or Deny as a person would, Zoho's
//! redirect reaches the CLI's loopback listener, and the browser shows the listener's page.
//!
//! Needs `chromium` and `chromium-driver` (Debian packages, installed by `.ci/run`): skipped with
//! a message when they are missing, except under `CI=true`. A screenshot of every page is kept
//! in `<target dir>/test-artifacts/browser/` (`$ZOHO_TEST_ARTIFACTS/browser/` if set):
//! `consent.png`, `signed-in.png`, `consent-before-deny.png`, `login-failed.png`.

mod common;
#[path = "common/webdriver.rs"]
mod webdriver;

use std::time::Duration;

use common::{access, Spawned, World, USER};
use webdriver::{free_port, Browser};
use zoho_oauth_emulator::{ClientSpec, DEFAULT_CLIENT_SECRET};

/// A person's pace is not needed: every wait below is on what the page shows.
const PAGE: Duration = Duration::from_secs(30);

/// An emulator that shows its consent page, a client named as in the API console whose redirect
/// URI is a free loopback port, and `login` started on that port; the authorization URL it
/// printed.
fn start_login(w: &World) -> (Spawned, String) {
    w.emu.set_auto_consent(false);
    let port = free_port();
    w.emu
        .register_client(ClientSpec {
            name: "Sales dashboard".to_owned(),
            redirect_uris: vec![format!("http://127.0.0.1:{port}/callback")],
            ..ClientSpec::default()
        })
        .unwrap();
    let s = Spawned::start(w.cmd().args([
        "login",
        "--no-browser",
        "--port",
        &port.to_string(),
        "--scope",
        "ZohoCRM.modules.ALL,ZohoCRM.users.READ",
    ]));
    let (url, _) = s.stderr_line(PAGE, |l| {
        l.starts_with("http") && l.contains("/oauth/v2/auth?")
    });
    (s, url)
}

/// A browser showing the consent page of a `login` in progress (`None` when there is no browser
/// to run, after saying so).
fn at_the_consent_page() -> Option<(Browser, World, Spawned)> {
    let browser = Browser::start()?;
    let w = World::new();
    let (login, url) = start_login(&w);
    browser.open(&url);
    browser.wait_for_text("#app-name", "Sales dashboard", PAGE);
    Some((browser, w, login))
}

#[cfg(unix)]
#[test]
fn accepting_on_the_consent_page_signs_in_and_then_token_works() {
    let Some((browser, w, login)) = at_the_consent_page() else {
        return;
    };
    assert_eq!(
        browser.find("#user").map(|e| e.text()).as_deref(),
        Some(USER)
    );
    let scopes = browser.find("#scopes").unwrap().text();
    assert!(scopes.contains("ZohoCRM.modules.ALL"), "{scopes}");
    assert!(
        scopes.contains("aaaserver.profile.READ"),
        "login asks to learn who signs in: {scopes}"
    );
    browser.screenshot("consent");
    browser.find("#accept").expect("an Accept button").click();

    browser.wait_for_text("h1", "Signed in", PAGE);
    let page = browser.page_text();
    assert!(page.contains(USER), "the page says who signed in:\n{page}");
    assert!(
        page.contains("close this window"),
        "the page says what to do next:\n{page}"
    );
    assert!(
        browser.url().contains("/callback?"),
        "the listener's page, at {}",
        browser.url()
    );
    browser.screenshot("signed-in");

    let (code, stdout, stderr) = login.finish(PAGE);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(USER), "{stdout}");
    let counters = w.emu.counters();
    assert_eq!(
        (counters.consent_pages_shown, counters.consent_accepted),
        (1, 1)
    );
    let token = w.run(&["token"]).ok();
    assert_eq!(token.stdout.trim(), access(&w.stored(USER)));
    for secret in [access(&w.stored(USER)), DEFAULT_CLIENT_SECRET.to_owned()] {
        assert!(!page.contains(&secret), "a secret on the page:\n{page}");
    }
}

#[cfg(unix)]
#[test]
fn denying_on_the_consent_page_ends_the_login_with_exit_3_and_says_what_to_do() {
    let Some((browser, w, login)) = at_the_consent_page() else {
        return;
    };
    browser.screenshot("consent-before-deny");
    browser.find("#deny").expect("a Deny button").click();

    browser.wait_for_text("h1", "Login failed", PAGE);
    let page = browser.page_text();
    assert!(page.contains("not granted"), "what happened:\n{page}");
    assert!(page.contains("What to do"), "what to do:\n{page}");
    browser.screenshot("login-failed");

    let (code, _, stderr) = login.finish(PAGE);
    assert_eq!(code, 3, "a new authorization is needed:\n{stderr}");
    assert!(stderr.contains("not granted"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    assert_eq!(w.emu.counters().consent_denied, 1);
    assert!(w.run(&["status", "--json"]).ok().json() == serde_json::json!([]));
}
