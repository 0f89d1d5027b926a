//! Exit codes for each class of failure, the stale-token fallback, single-flight refresh across
//! 16 processes, configuration precedence, and logs that never carry a secret.

mod common;

use common::{access, run_concurrently, World, USER};
use zoho_oauth::TokenStore;
use zoho_oauth_emulator::{
    ControlError, Fault, SelfClientCode, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
};

#[test]
fn sixteen_concurrent_token_processes_at_expiry_refresh_exactly_once() {
    let w = World::new();
    w.exchange();
    let old = access(&w.stored(USER));
    w.set_expiry(USER, -1_000);
    w.emu.reset_counters();
    // Every process starts before any is waited on.
    let outputs = run_concurrently((0..16).map(|_| {
        let mut c = w.cmd();
        c.arg("token");
        c
    }));
    for o in &outputs {
        assert!(o.status.success(), "{o:?}");
    }
    let printed: Vec<String> = outputs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .collect();
    let new = access(&w.stored(USER));
    assert_ne!(new, old);
    assert!(printed.iter().all(|t| *t == new), "{printed:#?}");
    assert_eq!(
        w.emu.counters().refresh_token_requests,
        1,
        "one refresh for all 16"
    );
}

#[test]
fn a_failed_refresh_serves_the_still_valid_token_with_a_warning() {
    let w = World::new();
    w.exchange();
    // Due for refresh (30 s left, margin 60 s) but still valid, and the server is down.
    w.set_expiry(USER, 30_000);
    let stored = access(&w.stored(USER));
    w.emu.queue_fault(Fault::ServerError, 10);
    let run = w.run(&["token"]).ok();
    assert_eq!(run.stdout.trim(), stored);
    assert!(run.stderr.contains("warning"), "{run:#?}");
    assert!(run.stderr.contains("still valid"), "{run:#?}");
    // What happened (the refresh's own error), then what to do.
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{run:#?}");
    assert!(lines[0].contains("500"), "{run:#?}");
    // The library's own advice for a server fault, as it words it.
    assert!(lines[1].contains("hint: retry after a backoff"), "{run:#?}");
    assert!(
        w.emu.counters().faults_injected >= 1,
        "a refresh was attempted"
    );
}

#[test]
fn usage_errors_exit_2_with_what_happened_and_what_to_do() {
    let w = World::new();
    let cases: &[&[&str]] = &[
        &["--store", "memcached://127.0.0.1/0", "status"],
        &["status", "--store", "file:"],
        &["--dc", "mars", "status"],
        &["--environment", "staging", "status"],
        &["api", "GET", "/crm/v8/org", "--data", "{not json"],
        &["api", "HEAD", "/crm/v8/org"],
        &["api", "DELETE", "/crm/v8/org", "--data", "{}"],
        &["no-such-command"],
    ];
    for args in cases {
        let run = w.run(args).code(2);
        assert!(!run.stderr.trim().is_empty(), "{args:?}");
    }
    let run = w
        .run(&["--store", "memcached://zoho:pw@127.0.0.1/0", "status"])
        .code(2);
    assert!(run.stderr.contains("not a store URL"), "{run:#?}");
    assert!(run.stderr.contains("sqlite:PATH"), "{run:#?}");
    assert!(!run.stderr.contains("pw@"), "no password echoed");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "one line what, one line what to do: {lines:#?}"
    );

    // No client configured at all.
    let run = common::run(w.bare().arg("status")).code(2);
    assert!(run.stderr.contains("ZOHO_CLIENT_ID"), "{run:#?}");
}

#[test]
fn a_used_grant_code_an_unknown_user_and_a_revoked_refresh_token_exit_3() {
    let w = World::new();
    let code = w.code();
    w.run(&["exchange", "--grant-token", &code]).ok();
    let run = w.run(&["exchange", "--grant-token", &code]).code(3);
    assert!(
        run.stderr.contains("already used or has expired"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("hint:"), "{run:#?}");
    let all = w.run(&["status", "--json"]).ok().json();
    assert_eq!(
        all.as_array().unwrap().len(),
        1,
        "the failed exchange left nothing behind"
    );

    w.run(&["token", "--user", "nobody@example.com"]).code(3);

    // Revoked behind the CLI's back: the next refresh learns it.
    let rt = common::refresh_of(&w.stored(USER));
    let resp = common::http()
        .post(format!("{}/oauth/v2/token/revoke", w.base()))
        .send_form([("token", rt.as_str())])
        .unwrap();
    assert_eq!(resp.status(), 200);
    w.set_expiry(USER, -1_000);
    let run = w.run(&["token"]).code(3);
    assert!(
        run.stderr.contains("exchange") || run.stderr.contains("login"),
        "{run:#?}"
    );
    assert!(
        w.store().load(&World::key(USER)).unwrap().is_some(),
        "the refresh token is kept"
    );
}

#[test]
fn throttling_by_zoho_or_by_the_local_budget_exits_4_saying_when_to_retry() {
    let w = World::new();
    w.exchange();
    w.set_expiry(USER, -1_000);
    w.emu.queue_fault(Fault::Throttle, 1);
    let run = w.run(&["token"]).code(4);
    assert!(run.stderr.contains("retry"), "{run:#?}");

    // The exchange and the throttled attempt… then spend the rest of the local budget.
    let w = World::new();
    w.exchange();
    for _ in 0..9 {
        w.run(&["refresh", "--force"]).ok();
    }
    w.emu.reset_counters();
    let run = w.run(&["refresh", "--force"]).code(4);
    // When the next slot opens, in the library's words.
    assert!(
        run.stderr.contains("the next slot opens in about"),
        "{run:#?}"
    );
    assert_eq!(
        w.emu.counters().token_requests,
        0,
        "refused locally, Zoho never asked"
    );
}

#[test]
fn exchanging_while_zoho_refuses_more_grant_codes_exits_4_saying_to_wait_for_a_new_code() {
    let w = World::new();
    let codes: Vec<String> = (0..10).map(|_| w.code()).collect();
    // The eleventh code in ten minutes is refused, and the client's codes with it.
    let eleventh = w.emu.mint_self_client_code(&SelfClientCode::default());
    assert!(
        matches!(eleventh, Err(ControlError::TooManyGrantCodes { .. })),
        "{eleventh:?}"
    );
    let run = w.run(&["exchange", "--grant-token", &codes[9]]).code(4);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "what happened, what to do: {run:#?}");
    assert!(
        lines[0].starts_with(
            "error: Zoho refuses more than 10 grant codes per 10 minutes for this client"
        ),
        "{run:#?}"
    );
    assert!(lines[1].trim_start().starts_with("hint:"), "{run:#?}");
    // The library's advice, unchanged (the CLI no longer rewords library errors).
    assert!(
        lines[1].contains("wait up to 10 minutes, then generate a new code"),
        "{run:#?}"
    );
    assert!(
        !run.stderr.contains(&codes[9]),
        "the grant code is a secret"
    );
    assert!(
        w.store().list().unwrap().is_empty(),
        "the refused exchange stored nothing"
    );
}

#[test]
fn network_and_server_failures_exit_5() {
    let w = World::new();
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let code = w.code();
    let run = w
        .run(&[
            "exchange",
            "--grant-token",
            &code,
            "--accounts-url",
            &format!("http://127.0.0.1:{port}"),
        ])
        .code(5);
    assert!(run.stderr.contains("hint:"), "{run:#?}");

    w.exchange();
    w.set_expiry(USER, -1_000);
    w.emu.queue_fault(Fault::ServerError, 10);
    w.run(&["token"]).code(5);
}

#[test]
fn with_a_custom_accounts_origin_only_loopback_or_zoho_api_domains_are_trusted() {
    let w = World::new();
    let evil = common::fake_zoho(
        &common::token_answer("https://api.evil.example"),
        Vec::new(),
    );
    let run = w
        .run(&[
            "exchange",
            "--grant-token",
            "1000.code",
            "--user",
            "a@example.com",
            "--accounts-url",
            &evil,
        ])
        .code(2);
    assert!(run.stderr.contains("api.evil.example"), "{run:#?}");

    let zoho = common::fake_zoho(
        &common::token_answer("https://www.zohoapis.com"),
        Vec::new(),
    );
    w.run(&[
        "exchange",
        "--grant-token",
        "1000.code",
        "--user",
        "b@example.com",
        "--accounts-url",
        &zoho,
    ])
    .ok();
    assert_eq!(
        w.stored("b@example.com").api_domain.as_str(),
        "https://www.zohoapis.com"
    );
}

#[test]
fn flags_win_over_environment_which_wins_over_the_config_file() {
    let w = World::new();
    let file_store = w.dir.path().join("file.sqlite3");
    let env_store = w.dir.path().join("env.sqlite3");
    // Where `dirs::config_dir()` points for the child (XDG_CONFIG_HOME, or HOME on macOS).
    let config_dir = if cfg!(target_os = "macos") {
        w.dir.path().join("home/Library/Application Support")
    } else {
        w.dir.path().join("config")
    };
    common::write(
        &config_dir.join("zoho-oauth/config.toml"),
        &format!(
            "client_id = \"{DEFAULT_CLIENT_ID}\"\nclient_secret = \"{DEFAULT_CLIENT_SECRET}\"\n\
             accounts_url = \"{}\"\nstore = \"sqlite:{}\"\ndc = \"us\"\n",
            w.base(),
            file_store.display()
        ),
    );
    // The file alone is enough (and a secret in a world-readable file is worth a warning).
    let config_file = config_dir.join("zoho-oauth/config.toml");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let code = w.code();
    let run = common::run(w.bare().args(["exchange", "--grant-token", &code])).ok();
    assert!(file_store.exists());
    #[cfg(unix)]
    {
        assert!(run.stderr.contains("chmod 600"), "{run:#?}");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let run = common::run(w.bare().args(["status"])).ok();
        assert!(!run.stderr.contains("chmod"), "{run:#?}");
    }
    let _ = run;

    // The environment wins over the file…
    let status = |extra: &[&str], env_store_set: bool| {
        let mut c = w.bare();
        if env_store_set {
            c.env(
                "ZOHO_OAUTH_STORE",
                format!("sqlite:{}", env_store.display()),
            );
        }
        common::run(c.args(["status", "--json"]).args(extra))
            .ok()
            .json()
    };
    assert_eq!(status(&[], true), serde_json::json!([]));
    // …and a flag wins over both.
    let flag = format!("sqlite:{}", file_store.display());
    assert_eq!(status(&["--store", &flag], true)[0]["user"], USER);
    assert_eq!(status(&[], false)[0]["user"], USER);

    // The data centre from the environment wins over the file's: no EU credential is stored.
    let eu = common::run(w.bare().env("ZOHO_DC", "eu").args(["status", "--json"]))
        .ok()
        .json();
    assert_eq!(eu, serde_json::json!([]));

    // An explicit --config file that is missing or has unknown keys is a usage error.
    common::run(
        w.bare()
            .args(["status", "--config", "/nonexistent/zoho.toml"]),
    )
    .code(2);
    let bad = w.dir.path().join("bad.toml");
    common::write(&bad, "client_idd = \"typo\"\n");
    let run = common::run(w.bare().args(["status", "--config", bad.to_str().unwrap()])).code(2);
    assert!(run.stderr.contains("client_idd"), "{run:#?}");
}

#[test]
fn verbose_logs_and_log_files_never_contain_a_secret() {
    let w = World::new();
    let log = w.dir.path().join("zoho.log");
    let log_arg = log.to_str().unwrap();
    let code = w.code();
    let mut logs = String::new();
    let mut outputs = Vec::new();
    let exchange = w.run(&["-vv", "exchange", "--grant-token", &code]).ok();
    logs.push_str(&exchange.stderr);
    let first = access(&w.stored(USER));
    w.set_expiry(USER, -1_000);
    let token = w.run(&["token", "-vv", "--log-file", log_arg]).ok();
    outputs.push(token.stdout.clone());
    logs.push_str(&token.stderr);
    let second = access(&w.stored(USER));
    logs.push_str(&w.run(&["-vvv", "api", "GET", "/crm/v8/org"]).ok().stderr);
    logs.push_str(&w.run(&["-vv", "refresh", "--force"]).ok().stderr);
    let third = access(&w.stored(USER));
    let refresh = common::refresh_of(&w.stored(USER));
    logs.push_str(&w.run(&["-vv", "revoke"]).ok().stderr);
    logs.push_str(&std::fs::read_to_string(&log).unwrap());

    assert!(logs.contains("DEBUG"), "-vv gives debug output:\n{logs}");
    assert!(
        std::fs::read_to_string(&log).unwrap().contains("DEBUG"),
        "the log file is written"
    );
    for secret in [
        &code,
        &first,
        &second,
        &third,
        &refresh,
        &DEFAULT_CLIENT_SECRET.to_owned(),
    ] {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret leaked into the logs:\n{logs}"
        );
    }
    assert_eq!(
        outputs[0].trim(),
        second,
        "stdout still carries the token itself"
    );
}
