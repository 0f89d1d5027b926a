//! `zoho-oauth watch`: its Prometheus metrics (`--metrics-addr`, `--no-user-label`), scraped as
//! Prometheus would, and its settings (`--parallel`, `ZOHO_OAUTH_PARALLEL`, the config file's
//! `[watch]` table).

mod common;

use std::time::Duration;

use common::{access, http, refresh_of, wait_until, Spawned, World, USER};
use zoho_oauth_emulator::DEFAULT_CLIENT_SECRET;

/// A running `watch` with its metrics address.
struct Watcher {
    s: Spawned,
    metrics: String,
}

impl Watcher {
    /// Start `watch` with `args` and read the metrics URL it prints (when it serves them).
    fn start(w: &World, args: &[&str]) -> Self {
        let s = Spawned::start(w.cmd().arg("watch").args(args));
        let (line, _) = s.stderr_line(Duration::from_secs(30), |l| {
            l.starts_with("serving metrics at ") || l.starts_with("keeping ")
        });
        let metrics = line
            .strip_prefix("serving metrics at ")
            .unwrap_or_default()
            .to_owned();
        Self { s, metrics }
    }

    /// One scrape: the status, the content type and the page.
    fn scrape(&self) -> (u16, String, String) {
        let mut resp = http().get(&self.metrics).call().expect("metrics answer");
        let kind = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (
            resp.status().as_u16(),
            kind,
            resp.body_mut().read_to_string().unwrap(),
        )
    }

    /// Ctrl-C, and the exit code.
    fn stop(self) -> i32 {
        self.s.interrupt();
        let (code, _, stderr) = self.s.finish(Duration::from_secs(30));
        assert!(stderr.contains("stopped"), "{stderr}");
        code
    }
}

/// The value of the series whose line starts with `series` (name and labels).
fn value(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[cfg(unix)]
#[test]
fn watch_serves_prometheus_metrics_about_its_refreshes_and_never_a_secret() {
    let w = World::new();
    w.exchange();
    let before = w.stored(USER);
    // Due now: the watcher refreshes at once.
    w.set_expiry(USER, 30_000);
    let watcher = Watcher::start(&w, &["--metrics-addr", "127.0.0.1:0"]);
    assert!(
        watcher.metrics.starts_with("http://127.0.0.1:") && watcher.metrics.ends_with("/metrics"),
        "the real port is printed: {}",
        watcher.metrics
    );
    let refreshed = r#"zoho_oauth_token_requests_total{kind="refresh",outcome="ok"}"#;
    let credential = format!(r#"{{user="{USER}",dc="us",env="production"}}"#);
    let expiry = format!("zoho_oauth_access_token_expiry_seconds{credential}");
    // The gauge follows the store within a read of it (each second): a read that began before
    // the refresh may show the old token's expiry for that long.
    let mut page = String::new();
    wait_until(
        Duration::from_secs(30),
        "a scrape showing the refresh, the new token's expiry and 8 mints left of 10 (the exchange and the refresh)",
        || {
            page = watcher.scrape().2;
            value(&page, refreshed) == Some(1.0)
                && value(&page, &expiry).is_some_and(|e| e > 3000.0)
                && value(&page, &format!("zoho_oauth_mint_budget_left{credential}")) == Some(8.0)
        },
    );
    let (status, kind, _) = watcher.scrape();
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    assert!(
        value(&page, &expiry).is_some_and(|e| e <= 3600.0),
        "the new token's expiry:\n{page}"
    );
    assert_eq!(
        value(&page, "zoho_oauth_token_requests_in_flight"),
        Some(0.0)
    );
    for series in [
        "# TYPE zoho_oauth_token_requests_total counter",
        "# HELP zoho_oauth_access_token_expiry_seconds ",
        "# TYPE zoho_oauth_lock_wait_seconds histogram",
        "zoho_oauth_lock_wait_seconds_bucket{store=\"sqlite:",
        "zoho_oauth_store_seconds_count{store=\"sqlite:",
    ] {
        assert!(page.contains(series), "{series} is missing:\n{page}");
    }
    let after = w.stored(USER);
    assert_ne!(access(&after), access(&before));
    for secret in [
        DEFAULT_CLIENT_SECRET.to_owned(),
        refresh_of(&before),
        access(&before),
        access(&after),
    ] {
        assert!(!page.contains(&secret), "a secret in the metrics:\n{page}");
    }
    // Only /metrics is served.
    let other = http()
        .get(watcher.metrics.replace("/metrics", "/"))
        .call()
        .unwrap();
    assert_eq!(other.status(), 404);
    assert_eq!(watcher.stop(), 0);
}

#[cfg(unix)]
#[test]
fn without_the_user_label_no_email_reaches_the_metrics_and_the_soonest_expiry_shows() {
    let w = World::new();
    w.exchange();
    let code = w.code();
    w.run(&[
        "exchange",
        "--user",
        "bob@example.com",
        "--grant-token",
        &code,
    ])
    .ok();
    // Bob's token expires first (in 20 minutes): the one series shows it.
    w.set_expiry("bob@example.com", 20 * 60 * 1000);
    let watcher = Watcher::start(&w, &["--metrics-addr", "127.0.0.1:0", "--no-user-label"]);
    let series = r#"zoho_oauth_access_token_expiry_seconds{user="",dc="us",env="production"}"#;
    let mut page = String::new();
    wait_until(Duration::from_secs(30), "the expiry gauge", || {
        page = watcher.scrape().2;
        value(&page, series).is_some()
    });
    let soonest = value(&page, series).unwrap();
    assert!(
        (1100.0..=1200.0).contains(&soonest),
        "bob's expiry, not the other's: {soonest}\n{page}"
    );
    assert!(!page.contains('@'), "an e-mail in the metrics:\n{page}");
    assert_eq!(
        page.matches("zoho_oauth_access_token_expiry_seconds{")
            .count(),
        1,
        "one series for both credentials:\n{page}"
    );
    assert_eq!(watcher.stop(), 0);
}

#[cfg(unix)]
#[test]
fn the_parallelism_comes_from_the_flag_then_the_environment_then_the_config_file() {
    let w = World::new();
    w.exchange();
    let config = w.dir.path().join("config/zoho-oauth/config.toml");
    common::write(&config, "[watch]\nparallel = 3\n");
    let said = |env: Option<&str>, flag: &[&str]| {
        let mut cmd = w.cmd();
        cmd.env("ZOHO_OAUTH_CONFIG", &config)
            .arg("watch")
            .args(flag);
        if let Some(n) = env {
            cmd.env("ZOHO_OAUTH_PARALLEL", n);
        }
        let s = Spawned::start(&mut cmd);
        let (line, _) = s.stderr_line(Duration::from_secs(30), |l| l.starts_with("keeping "));
        s.interrupt();
        let (code, _, stderr) = s.finish(Duration::from_secs(30));
        assert_eq!(code, 0, "{stderr}");
        line
    };
    // The default store (SQLite) locks as a whole: one refresh at a time, and the line says
    // where the setting applies.
    assert!(said(None, &[]).contains("one refresh at a time"));
    assert!(said(None, &[]).contains("--parallel 3 applies"));
    assert!(said(Some("5"), &[]).contains("--parallel 5 applies"));
    assert!(said(Some("5"), &["--parallel", "7"]).contains("--parallel 7 applies"));
    // Without any setting, the library's default.
    std::fs::remove_file(&config).unwrap();
    let s = Spawned::start(w.cmd().arg("watch"));
    let (line, _) = s.stderr_line(Duration::from_secs(30), |l| l.starts_with("keeping "));
    assert!(
        line.contains("keeping 1 credential fresh, one refresh at a time")
            && line.contains("--parallel 8 applies"),
        "{line}"
    );
    s.interrupt();
    assert_eq!(s.finish(Duration::from_secs(30)).0, 0);
}

#[test]
fn a_parallelism_out_of_range_is_a_usage_error_saying_the_range() {
    let w = World::new();
    w.exchange();
    for n in ["0", "100000"] {
        let run = w.run(&["watch", "--parallel", n]).code(2);
        assert!(run.stderr.contains("between 1 and 256"), "{run:#?}");
    }
}

#[test]
fn a_metrics_address_already_in_use_is_a_usage_error() {
    let w = World::new();
    w.exchange();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let run = w.run(&["watch", "--metrics-addr", &addr]).code(2);
    assert!(
        run.stderr
            .contains(&format!("cannot serve metrics on {addr}")),
        "{run:#?}"
    );
    assert!(run.stderr.contains("--metrics-addr"), "{run:#?}");
}

#[test]
fn an_unknown_key_in_the_watch_table_is_refused() {
    let w = World::new();
    let config = w.dir.path().join("config/zoho-oauth/config.toml");
    common::write(&config, "[watch]\nparalel = 3\n");
    let run = w.run(&["watch"]).code(2);
    assert!(run.stderr.contains("unknown field `paralel`"), "{run:#?}");
    assert!(
        run.stderr
            .contains("[watch] (parallel, metrics_addr, metrics_user_label)"),
        "{run:#?}"
    );
}
