//! `zoho-oauth add-client-credentials` against the emulator: a back-end job's credential (no
//! person, no refresh token) is stored and proven with a first token; `token`, `header`, `api`,
//! `status` and `watch` work on it like on any credential; one Zoho refuses is not kept; and at
//! its expiry 16 processes sharing the store send exactly one token request.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{keys, run_concurrently, Spawned, World};
use zoho_oauth_emulator::DEFAULT_SOID;

const SCOPE: &str = "ZohoCRM.modules.ALL";

/// Store the default client's credential for its one org under the default name (the soid).
fn add(w: &World, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "add-client-credentials",
        "--soid",
        DEFAULT_SOID,
        "--scope",
        SCOPE,
    ];
    args.extend_from_slice(extra);
    w.run(&args)
}

#[test]
fn a_stored_client_credentials_credential_serves_token_header_api_status_and_watch() {
    let w = World::new();
    let added = add(&w, &["--json"]).ok().json();
    let mut expected: BTreeSet<&str> = common::STORED.iter().copied().collect();
    expected.extend(["scope", "soid"]);
    assert_eq!(keys(&added), expected);
    assert_eq!(
        added["user"], DEFAULT_SOID,
        "named after the org by default"
    );
    assert_eq!(added["grant"], "client_credentials");
    assert_eq!(added["soid"], DEFAULT_SOID);
    assert_eq!(added["scope"], SCOPE);
    assert_eq!(added["data_center"], "us");
    assert_eq!(
        w.emu.counters().client_credentials_requests,
        1,
        "proven once"
    );

    let token = w.run(&["token"]).ok();
    let header = w.run(&["header"]).ok();
    assert_eq!(
        header.stdout.trim(),
        format!("Authorization: Zoho-oauthtoken {}", token.stdout.trim())
    );
    let api = w.run(&["api", "GET", "/crm/v8/org", "--json"]).ok().json();
    assert_eq!(api["status"], 200, "{api}");
    assert_eq!(
        w.emu.counters().client_credentials_requests,
        1,
        "a valid token is reused"
    );

    let status = w.run(&["status", "--json"]).ok().json();
    assert_eq!(status[0]["user"], DEFAULT_SOID);
    assert_eq!(status[0]["grant"], "client_credentials");
    assert_eq!(status[0]["refresh_token_last4"], "", "it has none");
    assert_eq!(status[0]["access_valid"], true);
    let human = w.run(&["status"]).ok();
    assert!(
        human
            .stdout
            .contains("refresh token: none (client credentials"),
        "{human:#?}"
    );

    // `watch` keeps it fresh like any other and reports it.
    let mut watch = Spawned::start(w.cmd().args(["watch", "--json"]));
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(watch.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let watched: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(watched[0]["user"], DEFAULT_SOID, "{line}");
    assert_eq!(watched[0]["grant"], "client_credentials", "{line}");
    watch.interrupt();
    let (code, _, stderr) = watch.finish(Duration::from_secs(30));
    assert_eq!(code, 0, "{stderr}");

    // Revoking one has nothing to revoke at Zoho; it is deleted here.
    let revoked = w.run(&["revoke", "--json"]).ok().json();
    assert_eq!(revoked["at_zoho"], "nothing_to_revoke");
    assert_eq!(
        w.run(&["status", "--json"]).ok().json(),
        serde_json::json!([])
    );
}

#[test]
fn a_client_credentials_credential_is_stored_under_the_user_given() {
    let w = World::new();
    let added = add(&w, &["--user", "nightly-export", "--json"]).ok().json();
    assert_eq!(added["user"], "nightly-export");
    assert_eq!(added["user_source"], "flag");
    let token = w.run(&["token", "--user", "nightly-export"]).ok();
    assert!(token.stdout.trim().starts_with("1000."), "{token:#?}");
}

#[test]
fn a_client_credentials_grant_zoho_refuses_is_not_kept() {
    let w = World::new();
    // The default client reaches one org; another is refused.
    let run = w.run(&[
        "add-client-credentials",
        "--soid",
        "ZohoCRM.999999",
        "--scope",
        SCOPE,
    ]);
    assert_ne!(run.code, 0, "{run:#?}");
    let lines = common::lines(&run.stderr);
    assert_eq!(lines.len(), 2, "{run:#?}");
    assert!(lines[0].contains("was not kept"), "{run:#?}");
    assert_eq!(w.emu.counters().client_credentials_requests, 1);
    assert_eq!(
        w.run(&["status", "--json"]).ok().json(),
        serde_json::json!([])
    );
}

#[test]
fn a_bad_soid_or_scope_or_no_name_is_a_usage_error_before_anything_is_sent() {
    let w = World::new();
    for args in [
        &[
            "add-client-credentials",
            "--soid",
            "600001234",
            "--scope",
            SCOPE,
        ][..],
        &[
            "add-client-credentials",
            "--soid",
            DEFAULT_SOID,
            "--scope",
            ", ",
        ][..],
        &["add-client-credentials", "--scope", SCOPE][..],
        &["add-client-credentials", "--soid", DEFAULT_SOID][..],
    ] {
        let run = w.run(args).code(2);
        assert!(!run.stderr.is_empty(), "{args:?}");
    }
    assert_eq!(w.emu.counters().token_requests, 0);
}

#[test]
fn sixteen_token_processes_at_the_expiry_of_a_client_credentials_token_send_one_token_request() {
    let w = World::new();
    add(&w, &[]).ok();
    let old = common::access(&w.stored(DEFAULT_SOID));
    w.set_expiry(DEFAULT_SOID, -1_000);
    w.emu.reset_counters();

    let outputs = run_concurrently((0..16).map(|_| {
        let mut c = w.cmd();
        c.arg("token");
        c
    }));
    let new = common::access(&w.stored(DEFAULT_SOID));
    assert_ne!(new, old);
    for o in &outputs {
        assert!(o.status.success(), "{o:?}");
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), new);
    }
    let c = w.emu.counters();
    assert_eq!(
        c.client_credentials_requests, 1,
        "one token request for all 16"
    );
    assert_eq!(c.token_requests, 1, "{c:?}");
}
