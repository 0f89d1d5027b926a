//! A headless Chromium driven through ChromeDriver's W3C WebDriver protocol, for the browser
//! tests.
//!
//! A small client over ureq rather than `fantoccini` or `thirtyfour`: the tests need eight
//! commands (new session, navigate, find, click, text, current URL, screenshot, end session), all
//! plain JSON over HTTP; both crates are async and would bring a tokio runtime, hyper and a TLS
//! stack into synchronous tests that already have ureq.
//!
//! [`Browser::start`] returns `None` after saying why when `chromedriver` or `chromium` is missing
//! (`apt-get install chromium chromium-driver`), except under `CI=true`, where it fails.
//! Screenshots go to [`artifact_dir`]: `<target dir>/test-artifacts/browser/` (or
//! `$ZOHO_TEST_ARTIFACTS/browser/`).
#![allow(dead_code)] // not every test binary uses every command

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};

/// Where Debian's packages install them.
const CHROMEDRIVER: &str = "chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// The W3C key of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A ChromeDriver process and one browser session in it; both end on drop.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    /// Chromium's profile, fresh for each browser.
    _profile: tempfile::TempDir,
}

/// An element of the current page.
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
}

impl Browser {
    /// Start ChromeDriver and a headless Chromium with a fresh profile. `None` (after saying so)
    /// when either is missing and `CI` is not `true`.
    pub fn start() -> Option<Self> {
        let missing = if !std::path::Path::new(CHROMIUM).exists() {
            Some(format!("{CHROMIUM} is missing"))
        } else {
            match Command::new(CHROMEDRIVER).arg("--version").output() {
                Ok(o) if o.status.success() => None,
                Ok(_) => Some("chromedriver does not run".to_owned()),
                Err(e) => Some(format!("chromedriver cannot run ({e})")),
            }
        };
        if let Some(why) = missing {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{why}; CI=true requires the browser tests (apt-get install chromium chromium-driver)");
            }
            eprintln!(
                "skipped: {why}; install them with `apt-get install chromium chromium-driver` (CI=true makes this a failure)"
            );
            return None;
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let mut browser = Self {
            driver,
            base,
            session: String::new(),
            _profile: tempfile::tempdir().expect("a profile directory"),
        };
        crate::common::wait_until(Duration::from_secs(30), "ChromeDriver to be ready", || {
            browser
                .call("GET", "/status", None)
                .is_ok_and(|v| v["ready"] == true)
        });
        let profile = browser._profile.path().display().to_string();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                // Headless, and quiet on a closed network: no background fetches, updates,
                // sync or QUIC probes that would flood refused connections.
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=900,700",
                    format!("--user-data-dir={profile}"),
                ],
            },
        }}});
        let session = browser
            .call("POST", "/session", Some(capabilities))
            .unwrap_or_else(|e| panic!("Chromium starts under ChromeDriver: {e}"));
        browser.session = session["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        Some(browser)
    }

    /// Open `url` and wait for the page to load.
    pub fn open(&self, url: &str) {
        self.session_call("POST", "/url", Some(json!({ "url": url })))
            .unwrap_or_else(|e| panic!("navigating to {url}: {e}"));
    }

    /// The address of the current page.
    pub fn url(&self) -> String {
        self.session_call("GET", "/url", None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// The element `css` selects, if the page has one.
    pub fn find(&self, css: &str) -> Option<Element<'_>> {
        let found = self
            .session_call(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .ok()?;
        Some(Element {
            browser: self,
            id: found[ELEMENT].as_str()?.to_owned(),
        })
    }

    /// Wait until the element `css` selects shows `text` (a navigation may still be on its way).
    pub fn wait_for_text(&self, css: &str, text: &str, timeout: Duration) -> Element<'_> {
        let what = format!("{css} to show {text:?} (at {})", self.url());
        crate::common::wait_until(timeout, &what, || {
            self.find(css).is_some_and(|e| e.text().contains(text))
        });
        self.find(css).expect("still there")
    }

    /// The text of the whole page.
    pub fn page_text(&self) -> String {
        self.find("body").map(|b| b.text()).unwrap_or_default()
    }

    /// Save a PNG of the viewport as `<artifact dir>/<name>.png`; its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let shot = self
            .session_call("GET", "/screenshot", None)
            .expect("a screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot.as_str().expect("base64 text"))
            .expect("valid base64");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let dir = artifact_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        eprintln!("screenshot: {}", path.display());
        path
    }

    fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    /// One WebDriver command: its `value`, or the error it reported.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let agent = crate::common::http();
        let response = match (method, body) {
            ("GET", _) => agent.get(&url).call(),
            ("DELETE", _) => agent.delete(&url).call(),
            (_, body) => agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or_else(|| json!({})).to_string()),
        };
        let mut response = response.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let answer: Value =
            serde_json::from_str(&text).map_err(|e| format!("{method} {path}: {e}: {text}"))?;
        let value = answer["value"].clone();
        if status >= 400 || value.get("error").is_some() {
            return Err(format!(
                "{method} {path}: {} ({})",
                value["error"], value["message"]
            ));
        }
        Ok(value)
    }
}

impl Element<'_> {
    /// Click it.
    pub fn click(&self) {
        self.browser
            .session_call(
                "POST",
                &format!("/element/{}/click", self.id),
                Some(json!({})),
            )
            .unwrap_or_else(|e| panic!("click: {e}"));
    }

    /// Its rendered text ("" once it is gone from the page).
    pub fn text(&self) -> String {
        self.browser
            .session_call("GET", &format!("/element/{}/text", self.id), None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `<target dir>/test-artifacts/browser`, or `$ZOHO_TEST_ARTIFACTS/browser`.
pub fn artifact_dir() -> PathBuf {
    let root = std::env::var_os("ZOHO_TEST_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // The test binary is <target dir>/<profile>/deps/<name>.
            let exe = std::env::current_exe().expect("the test binary's path");
            exe.ancestors()
                .nth(3)
                .expect("<target dir>/<profile>/deps/<test>")
                .join("test-artifacts")
        });
    root.join("browser")
}

/// A port free now on loopback (ChromeDriver takes it a moment later).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}
