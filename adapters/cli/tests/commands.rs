//! Every subcommand of the built `zoho-oauth` binary against the in-process emulator, in human
//! and `--json` form.

mod common;

use std::time::Duration;

use common::{access, http, Spawned, World, USER};
use zoho_oauth::TokenStore;
use zoho_oauth_emulator::{
    Config, Limits, SelfClientCode, UserSpec, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
};

#[test]
fn exchange_learns_the_user_and_status_shows_the_credential_without_its_secrets() {
    let w = World::new();
    let code = w.code();
    let run = w.run(&["exchange", "--grant-token", &code]).ok();
    assert!(run.stdout.contains(USER), "{run:#?}");
    let stored = w.stored(USER);
    let refresh = common::refresh_of(&stored);

    let status = w.run(&["status"]).ok();
    assert!(status.stdout.contains(USER), "{status:#?}");
    assert!(status
        .stdout
        .contains(&format!("…{}", &refresh[refresh.len() - 4..])));
    assert!(status.stdout.contains("expires in"), "{status:#?}");
    assert!(
        !status.stdout.contains(&refresh),
        "the refresh token leaked"
    );
    assert!(
        !status.stdout.contains(&access(&stored)),
        "the access token leaked"
    );

    let json = w.run(&["status", "--json"]).ok().json();
    let entry = &json.as_array().expect("an array")[0];
    assert_eq!(entry["user"], USER);
    assert_eq!(entry["data_center"], "us");
    assert_eq!(entry["environment"], "production");
    assert_eq!(entry["api_domain"], w.base());
    assert_eq!(entry["refresh_token_last4"], &refresh[refresh.len() - 4..]);
    assert_eq!(entry["mints_left"], 9, "the exchange was one mint of ten");
    assert_eq!(entry["access_valid"], true);
}

#[test]
fn exchange_without_the_profile_scope_stores_under_default_and_says_so() {
    let w = World::new();
    let code = w.code_for(&SelfClientCode {
        scope: "ZohoCRM.modules.ALL".to_owned(),
        ..SelfClientCode::default()
    });
    let run = w.run(&["exchange", "--grant-token", &code, "--json"]).ok();
    assert_eq!(run.json()["user"], "default");
    assert_eq!(run.json()["user_source"], "default");
    assert!(run.stderr.contains("`default`"), "{run:#?}");
    let status = w.run(&["status", "--json"]).ok().json();
    assert_eq!(status[0]["user"], "default");
    assert_eq!(
        status.as_array().unwrap().len(),
        1,
        "no temporary credential is left behind"
    );
}

#[test]
fn exchange_with_user_stores_under_that_name_and_reads_the_code_from_stdin() {
    let w = World::new();
    let code = w.code();
    let mut cmd = w.cmd();
    cmd.args([
        "exchange",
        "--grant-token",
        "-",
        "--user",
        "ops@example.com",
    ])
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{code}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(w
        .store()
        .load(&World::key("ops@example.com"))
        .unwrap()
        .is_some());
}

#[test]
fn exchange_of_a_web_flow_code_sends_its_redirect_uri() {
    let w = World::new();
    let code = w.web_code("offline");
    // Without the redirect URI the web-flow code is refused; with it, it is exchanged.
    w.run(&[
        "exchange",
        "--grant-token",
        &code,
        "--user",
        "web@example.com",
    ])
    .code(2);
    let code = w.web_code("offline");
    w.run(&[
        "exchange",
        "--grant-token",
        &code,
        "--redirect-uri",
        zoho_oauth_emulator::DEFAULT_REDIRECT_URI,
    ])
    .ok();
    assert!(w.stored(USER).access_token.is_some());
}

#[test]
fn the_file_store_is_chosen_by_a_file_url() {
    let w = World::new();
    let path = w.dir.path().join("tokens.zot");
    let url = format!("file:{}", path.display());
    let code = w.code();
    w.run(&["exchange", "--grant-token", &code, "--store", &url])
        .ok();
    assert!(path.exists());
    assert!(
        !w.store_path().exists(),
        "the SQLite default was not touched"
    );
    let run = w.run(&["token", "--store", &url]).ok();
    assert!(run.stdout.trim().starts_with("1000."), "{run:#?}");
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    let w = World::new();
    for sub in [
        "exchange",
        "add-refresh-token",
        "add-client-credentials",
        "login",
        "token",
        "header",
        "status",
        "refresh",
        "revoke",
        "delete",
        "api",
        "import",
        "export",
        "emulator",
        "watch",
        "demo",
        "completions",
        "man",
    ] {
        let run = common::run(w.bare().args([sub, "--help"])).ok();
        assert!(
            run.stdout.contains("Example"),
            "{sub} --help has no example:\n{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("--json"),
            "{sub} --help lacks the global flags"
        );
    }
}

#[test]
fn token_prints_the_stored_access_token_and_header_the_whole_header_line() {
    let w = World::new();
    w.exchange();
    let stored = access(&w.stored(USER));
    w.emu.reset_counters();

    let token = w.run(&["token"]).ok();
    assert_eq!(token.stdout, format!("{stored}\n"));
    let header = w.run(&["header"]).ok();
    assert_eq!(
        header.stdout,
        format!("Authorization: Zoho-oauthtoken {stored}\n")
    );
    let json = w.run(&["token", "--json"]).ok().json();
    assert_eq!(json["access_token"], stored.as_str());
    assert_eq!(json["user"], USER);
    assert!(json["expires_at"].as_u64().unwrap() > common::now_ms() / 1000);
    let json = w.run(&["header", "--json"]).ok().json();
    assert_eq!(
        json["header"],
        format!("Authorization: Zoho-oauthtoken {stored}")
    );
    assert_eq!(
        w.emu.counters().token_requests,
        0,
        "a fresh token needs no request"
    );
}

#[test]
fn token_refreshes_an_expired_token_and_stores_the_new_one() {
    let w = World::new();
    w.exchange();
    let old = access(&w.stored(USER));
    w.set_expiry(USER, -1_000);
    let run = w.run(&["token"]).ok();
    let new = access(&w.stored(USER));
    assert_ne!(new, old);
    assert_eq!(run.stdout.trim(), new);
    assert_eq!(w.emu.counters().refresh_token_requests, 1);
}

#[test]
fn refresh_does_nothing_while_fresh_and_force_mints_a_new_token() {
    let w = World::new();
    w.exchange();
    let first = access(&w.stored(USER));

    let run = w.run(&["refresh", "--json"]).ok();
    assert_eq!(run.json()["refreshed"], false);
    assert_eq!(w.emu.counters().refresh_token_requests, 0);

    let run = w.run(&["refresh", "--force"]).ok();
    assert!(run.stdout.contains("new access token"), "{run:#?}");
    assert_eq!(w.emu.counters().refresh_token_requests, 1);
    let second = access(&w.stored(USER));
    assert_ne!(first, second);
    assert!(
        !run.stdout.contains(&second),
        "refresh must not print the token"
    );
}

#[test]
fn revoke_kills_the_credential_at_zoho_and_deletes_it_locally() {
    let w = World::new();
    w.exchange();
    let run = w.run(&["revoke", "--json"]).ok();
    assert_eq!(run.json()["revoked"], true);
    assert_eq!(w.emu.counters().revocations, 1);
    assert!(w.store().load(&World::key(USER)).unwrap().is_none());
    assert_eq!(
        w.run(&["status", "--json"]).ok().json(),
        serde_json::json!([])
    );
}

#[test]
fn api_calls_the_api_domain_with_the_token() {
    let w = World::new();
    w.exchange();
    let run = w
        .run(&["api", "GET", "/crm/v8/users?type=CurrentUser"])
        .ok();
    let body: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(body["users"][0]["email"], USER);
    let run = w.run(&["api", "get", "/crm/v8/org", "--json"]).ok();
    assert_eq!(run.json()["status"], 200);
    assert!(run.json()["body"].is_object());
}

#[test]
fn api_refreshes_and_retries_once_when_the_token_was_killed_behind_its_back() {
    let w = World::new();
    w.exchange();
    w.emu.reset_counters();
    // The stored token still looks valid, but the server no longer accepts it.
    w.emu.expire_access_tokens();
    let run = w
        .run(&["api", "GET", "/crm/v8/users?type=CurrentUser"])
        .ok();
    assert!(run.stdout.contains(USER), "{run:#?}");
    let c = w.emu.counters();
    assert_eq!(c.api_unauthorized, 1);
    assert_eq!(c.refresh_token_requests, 1);
}

#[test]
fn add_refresh_token_stores_it_and_proves_it_works() {
    let w = World::new();
    // A refresh token obtained elsewhere: a plain exchange at the emulator.
    let code = w.code();
    let mut resp = http()
        .post(format!("{}/oauth/v2/token", w.base()))
        .send_form([
            ("grant_type", "authorization_code"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("code", code.as_str()),
        ])
        .unwrap();
    let tokens: serde_json::Value =
        serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    let rt = tokens["refresh_token"].as_str().unwrap().to_owned();

    w.run(&[
        "add-refresh-token",
        "--refresh-token",
        &rt,
        "--user",
        "ana@example.com",
    ])
    .ok();
    assert_eq!(common::refresh_of(&w.stored("ana@example.com")), rt);
    assert!(
        w.stored("ana@example.com").access_token.is_some(),
        "verified by a first refresh"
    );
    assert_eq!(w.emu.counters().refresh_token_requests, 1);

    // Without --user it is a usage error.
    w.run(&["add-refresh-token", "--refresh-token", &rt])
        .code(2);
}

#[test]
fn a_refresh_token_zoho_does_not_know_is_refused_and_not_kept() {
    let w = World::new();
    let run = w
        .run(&[
            "add-refresh-token",
            "--refresh-token",
            "1000.00000000000000000000000000000000.00000000000000000000000000000000",
            "--user",
            "ana@example.com",
        ])
        .code(3);
    assert!(run.stderr.contains("hint:"), "{run:#?}");
    assert!(w
        .store()
        .load(&World::key("ana@example.com"))
        .unwrap()
        .is_none());
}

#[test]
fn export_and_import_round_trip_the_sdk_token_file() {
    let w = World::new();
    w.exchange();
    let stored = w.stored(USER);
    let csv = w.dir.path().join("sdk_tokens.csv");
    let target = format!("csv:{}", csv.display());
    w.run(&["export", &target]).ok();
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,user_name,client_id,client_secret,refresh_token,access_token,grant_token,expiry_time,redirect_url,api_domain"
    );
    let row = lines.next().unwrap();
    assert!(row.starts_with(&format!(
        "1,{USER},{DEFAULT_CLIENT_ID},{DEFAULT_CLIENT_SECRET},{}",
        common::refresh_of(&stored)
    )));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&csv).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the file holds secrets");
    }

    // Import into another store: the credential works there without a new exchange.
    let other = w.dir.path().join("other.sqlite3");
    let other_url = format!("sqlite:{}", other.display());
    let run = w
        .run(&["--store", &other_url, "import", &target, "--json"])
        .ok();
    assert_eq!(run.json()["imported"], 1);
    assert_eq!(run.json()["users"][0], USER);
    let token = w.run(&["token", "--store", &other_url]).ok();
    assert_eq!(token.stdout.trim(), access(&stored));
}

#[test]
fn import_of_a_damaged_file_is_bad_input_naming_the_line() {
    let w = World::new();
    let csv = w.dir.path().join("bad.csv");
    common::write(&csv, "id,user_name,client_id\n1,a@b.c,1000.X\n");
    let run = w
        .run(&["import", &format!("csv:{}", csv.display())])
        .code(2);
    assert!(run.stderr.contains("line 1"), "{run:#?}");
    w.run(&["import", "json:whatever"]).code(2);
}

#[test]
fn several_stored_users_without_user_is_a_usage_error_listing_them() {
    let w = World::new();
    w.emu
        .register_user(UserSpec {
            email: "bob@example.com".to_owned(),
            zuid: 10_000_000_002,
            ..UserSpec::default()
        })
        .unwrap();
    w.exchange();
    let code = w.code_for(&SelfClientCode {
        user: "bob@example.com".to_owned(),
        ..SelfClientCode::default()
    });
    w.run(&["exchange", "--grant-token", &code]).ok();
    let run = w.run(&["token"]).code(2);
    assert!(
        run.stderr.contains(USER) && run.stderr.contains("bob@example.com"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("--user"), "{run:#?}");
    // Global flags work after the subcommand as well as before it.
    w.run(&["token", "--user", "bob@example.com"]).ok();
    w.run(&["--user", "bob@example.com", "token"]).ok();
    let all = w.run(&["status", "--json"]).ok().json();
    assert_eq!(all.as_array().unwrap().len(), 2);
}

#[test]
fn demo_walks_the_whole_lifecycle_in_a_temporary_directory() {
    let w = World::new();
    let run = common::run(w.bare().arg("demo")).ok();
    for step in [
        "1. ",
        "2. Self Client exchange",
        "3. ",
        "4. API call",
        "5. Forced refresh",
        "6. Revoke",
    ] {
        assert!(
            run.stdout.contains(step),
            "missing {step:?}:\n{}",
            run.stdout
        );
    }
    let json = common::run(w.bare().args(["demo", "--json"])).ok().json();
    assert_eq!(json["ok"], true);
    assert_eq!(json["steps"].as_array().unwrap().len(), 6);
    // It used no configuration and left nothing in the user's data directory.
    assert_eq!(
        std::fs::read_dir(w.dir.path().join("data"))
            .unwrap()
            .count(),
        0
    );
}

#[cfg(unix)]
#[test]
fn emulator_serves_until_ctrl_c_and_prints_its_base_url_and_credentials() {
    let w = World::new();
    let mut s = Spawned::start(w.bare().args(["emulator", "--port", "0", "--json"]));
    let info = s.pretty_json();
    assert_eq!(info["client_id"], DEFAULT_CLIENT_ID);
    assert_eq!(info["client_secret"], DEFAULT_CLIENT_SECRET);
    let base = info["base_url"].as_str().unwrap().to_owned();

    // It is a working accounts server: a code minted through its control API exchanges.
    let mut resp = http()
        .post(format!("{base}/_emulator/codes"))
        .send_empty()
        .unwrap();
    let code: serde_json::Value =
        serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    let code = code["code"].as_str().unwrap();
    let store = format!("sqlite:{}", w.store_path().display());
    common::run(
        w.bare()
            .args(["exchange", "--grant-token", code, "--accounts-url", &base])
            .args(["--client-id", DEFAULT_CLIENT_ID, "--store", &store])
            .env("ZOHO_CLIENT_SECRET", DEFAULT_CLIENT_SECRET),
    )
    .ok();

    s.interrupt();
    let (code, _, stderr) = s.finish(Duration::from_secs(20));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        http().get(format!("{base}/_emulator/info")).call().is_err(),
        "it stopped listening"
    );
}

#[cfg(unix)]
#[test]
fn watch_refreshes_before_expiry_and_exits_cleanly_on_ctrl_c() {
    // Access tokens that live 4 s: the refresher renews them 2 s before expiry.
    let w = World::with_config(Config {
        limits: Limits {
            access_token_lifetime: Duration::from_secs(4),
            ..Limits::default()
        },
        ..Config::default()
    });
    w.exchange();
    w.emu.reset_counters();
    let mut s = Spawned::start(w.cmd().args(["watch", "--json"]));
    s.stderr_line(Duration::from_secs(20), |l| l.contains(USER));
    // Every JSON line on stdout is a status snapshot printed when something changed: the
    // second one is the refresher's work.
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = s.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first: serde_json::Value =
        serde_json::from_str(&rx.recv_timeout(Duration::from_secs(20)).unwrap()).unwrap();
    let second: serde_json::Value =
        serde_json::from_str(&rx.recv_timeout(Duration::from_secs(30)).unwrap()).unwrap();
    assert!(
        second[0]["access_expires_at"].as_u64() > first[0]["access_expires_at"].as_u64(),
        "{first} {second}"
    );
    assert!(w.emu.counters().refresh_token_requests >= 1);
    s.interrupt();
    let (code, _, stderr) = s.finish(Duration::from_secs(20));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
    let stdout: String = rx.try_iter().collect::<Vec<_>>().join("\n");
    assert!(
        !stdout.contains(&access(&w.stored(USER))),
        "watch must not print tokens"
    );
}

#[test]
fn watch_without_any_credential_says_what_to_do() {
    let w = World::new();
    let run = w.run(&["watch"]).code(3);
    assert!(run.stderr.contains("exchange"), "{run:#?}");
}
