//! The tool's interface around the commands: the documented `--json` shape of every command that
//! prints data, shell completions and manual pages generated from the parser, the progress line
//! on long waits (a terminal only), and `NO_COLOR`.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{keys, lines, World, USER};
use zoho_oauth_emulator::Fault;

/// The set of `names`.
fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

/// What `exchange`, `add-refresh-token` and `login` print with `--json`.
const STORED: &[&str] = common::STORED;

/// One row of `status --json`.
const STATUS_ROW: &[&str] = &[
    "user",
    "data_center",
    "environment",
    "api_domain",
    "access_expires_at",
    "access_expires_at_rfc3339",
    "access_expires_in_secs",
    "access_valid",
    "refresh_token_last4",
    "grant",
    "mints_left",
    "mint_budget",
    "paused_until",
    "paused_until_rfc3339",
    "paused_because",
    "needs_authorization",
    "needs_authorization_reason",
    "damaged",
    "unusable_row",
];

#[test]
fn every_command_that_prints_data_has_the_documented_json_shape() {
    let w = World::new();
    let code = w.code();
    let exchange = w
        .run(&["exchange", "--grant-token", &code, "--json"])
        .ok()
        .json();
    assert_eq!(keys(&exchange), set(STORED));
    assert_eq!(exchange["user_source"], "user_info");
    assert_eq!(exchange["grant"], "authorization_code");
    assert!(exchange["expires_at"].is_u64());

    let token = w.run(&["token", "--json"]).ok().json();
    assert_eq!(
        keys(&token),
        set(&[
            "user",
            "access_token",
            "api_domain",
            "expires_at",
            "expires_at_rfc3339"
        ])
    );
    let header = w.run(&["header", "--json"]).ok().json();
    assert_eq!(
        keys(&header),
        set(&[
            "user",
            "access_token",
            "api_domain",
            "expires_at",
            "expires_at_rfc3339",
            "header"
        ])
    );

    let status = w.run(&["status", "--json"]).ok().json();
    assert_eq!(keys(&status[0]), set(STATUS_ROW));
    assert_eq!(status[0]["grant"], "authorization_code");
    assert_eq!(status[0]["mint_budget"], 10);
    assert!(status[0]["paused_until"].is_null() && status[0]["damaged"].is_null());

    let refresh = w.run(&["refresh", "--force", "--json"]).ok().json();
    assert_eq!(
        keys(&refresh),
        set(&[
            "user",
            "refreshed",
            "api_domain",
            "expires_at",
            "expires_at_rfc3339"
        ])
    );
    assert_eq!(refresh["refreshed"], true);

    let api = w.run(&["api", "GET", "/crm/v8/org", "--json"]).ok().json();
    assert_eq!(keys(&api), set(&["status", "body"]));

    let csv = w.dir.path().join("t.csv");
    let target = format!("csv:{}", csv.display());
    let export = w.run(&["export", &target, "--json"]).ok().json();
    assert_eq!(
        keys(&export),
        set(&["exported", "users", "path", "skipped_damaged"])
    );
    let import = w.run(&["import", &target, "--json"]).ok().json();
    assert_eq!(
        keys(&import),
        set(&["imported", "users", "replaced", "other_client_ids"])
    );

    let rt = common::refresh_of(&w.stored(USER));
    let delete = w.run(&["delete", "--json"]).ok().json();
    assert_eq!(
        keys(&delete),
        set(&[
            "user",
            "deleted",
            "was_damaged",
            "refresh_token_last4",
            "store"
        ])
    );
    let add = w
        .run(&[
            "add-refresh-token",
            "--refresh-token",
            &rt,
            "--user",
            USER,
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(keys(&add), set(STORED));
    assert_eq!(add["user_source"], "flag");
    assert_eq!(add["grant"], "refresh_token");
    let revoke = w.run(&["revoke", "--json"]).ok().json();
    assert_eq!(
        keys(&revoke),
        set(&[
            "user",
            "revoked",
            "at_zoho",
            "deleted",
            "refresh_token_last4"
        ])
    );
    assert_eq!(revoke["at_zoho"], "revoked");

    let demo = common::run(w.bare().args(["demo", "--json"])).ok().json();
    assert_eq!(keys(&demo), set(&["ok", "steps"]));
    for step in demo["steps"].as_array().unwrap() {
        assert_eq!(keys(step), set(&["step", "title", "detail", "data"]));
    }
}

#[test]
fn completions_are_generated_for_every_shell_from_the_parser() {
    let w = World::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = common::run(w.bare().args(["completions", shell])).ok();
        assert!(run.stdout.contains("zoho-oauth"), "{shell}: {run:#?}");
        for sub in ["exchange", "add-refresh-token", "delete", "completions"] {
            assert!(run.stdout.contains(sub), "{shell} completes {sub}");
        }
    }
    common::run(w.bare().args(["completions", "tcsh"])).code(2);
}

#[test]
fn the_manual_page_is_generated_from_the_parser_and_one_per_subcommand_with_dir() {
    let w = World::new();
    let page = common::run(w.bare().arg("man")).ok();
    assert!(
        page.stdout.starts_with(".ie") || page.stdout.contains(".TH"),
        "{page:#?}"
    );
    assert!(page.stdout.contains("zoho\\-oauth"), "{page:#?}");
    assert!(
        page.stdout.contains("add\\-refresh\\-token"),
        "lists the subcommands"
    );
    let dir = w.dir.path().join("man1");
    common::run(w.bare().args(["man", "--dir", dir.to_str().unwrap()])).ok();
    for name in [
        "zoho-oauth.1",
        "zoho-oauth-exchange.1",
        "zoho-oauth-delete.1",
    ] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(text.contains(".TH"), "{name}");
    }
    let exchange = std::fs::read_to_string(dir.join("zoho-oauth-exchange.1")).unwrap();
    assert!(exchange.contains("grant\\-token"), "{exchange}");
}

#[cfg(unix)]
#[test]
fn errors_are_coloured_on_a_terminal_unless_no_color_is_set_and_never_in_a_pipe() {
    let w = World::new();
    let mut cmd = w.cmd();
    cmd.args(["token", "--user", "nobody@example.com"]);
    let Some(term) = common::Terminal::start(&cmd) else {
        return;
    };
    let (code, shown) = term.finish(Duration::from_secs(30));
    assert_eq!(code, 3, "{shown}");
    assert!(shown.contains("\x1b[1;31merror\x1b[0m: "), "{shown:?}");

    cmd.env("NO_COLOR", "1");
    let term = common::Terminal::start(&cmd).unwrap();
    let (code, shown) = term.finish(Duration::from_secs(30));
    assert_eq!(code, 3, "{shown}");
    assert!(!shown.contains('\x1b'), "{shown:?}");
    assert!(shown.contains("error: "), "{shown:?}");

    let piped = common::run(w.cmd().args(["token", "--user", "nobody@example.com"])).code(3);
    assert!(!piped.stderr.contains('\x1b'), "{piped:#?}");
}

#[cfg(unix)]
#[test]
fn a_wait_longer_than_a_second_shows_a_progress_line_on_a_terminal_that_is_erased_after() {
    let w = World::new();
    w.exchange();
    w.emu.reset_counters();
    w.emu.queue_fault(Fault::Hang, 1);
    // A holds the credential's lock while its request hangs at Zoho.
    let mut a = common::Spawned::start(w.cmd().args(["refresh", "--force"]));
    common::wait_until(Duration::from_secs(30), "A's request to reach Zoho", || {
        w.emu.counters().faults_injected == 1
    });
    let mut cmd = w.cmd();
    cmd.args(["refresh", "--force", "--lock-wait", "3s"]);
    let Some(term) = common::Terminal::start(&cmd) else {
        a.child.kill().unwrap();
        return;
    };
    let (code, shown) = term.finish(Duration::from_secs(60));
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    assert_eq!(code, 5, "{shown:?}");
    assert!(
        shown.contains("refreshing (waiting for Zoho or for the credential's lock)"),
        "{shown:?}"
    );
    // The progress line is erased before the error is printed.
    let erased = shown.rfind("\r\x1b[2K").expect("the line is erased");
    let error = shown.find("error").expect("an error");
    assert!(erased < error, "{shown:?}");

    // The same wait off a terminal prints no progress line at all.
    w.emu.queue_fault(Fault::Hang, 1);
    let mut a = common::Spawned::start(w.cmd().args(["refresh", "--force"]));
    common::wait_until(Duration::from_secs(30), "A's request to reach Zoho", || {
        w.emu.counters().faults_injected == 2
    });
    let run = w.run(&["refresh", "--force", "--lock-wait", "3s"]).code(5);
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    assert_eq!(lines(&run.stderr).len(), 2, "{run:#?}");
    assert!(
        !run.stderr.contains('\x1b') && !run.stderr.contains('\r'),
        "{run:#?}"
    );
}
