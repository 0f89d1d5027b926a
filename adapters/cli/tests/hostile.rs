//! The hostile sweep: values that could never work refused where they enter (exit 2, two
//! lines), a damaged store entry that does not take the others down, secrets kept out of argv,
//! text from outside that cannot drive the terminal, private files, and messages and exit codes
//! that say what really happened.

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use common::{access, lines, World, USER};
use zoho_oauth::TokenStore;
use zoho_oauth_emulator::{UserSpec, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};

/// A real-looking refresh token the emulator issued, obtained outside the CLI.
fn refresh_token_from_zoho(w: &World) -> String {
    let code = w.code();
    let mut resp = common::http()
        .post(format!("{}/oauth/v2/token", w.base()))
        .send_form([
            ("grant_type", "authorization_code"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("code", code.as_str()),
        ])
        .unwrap();
    let body: serde_json::Value =
        serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    body["refresh_token"].as_str().unwrap().to_owned()
}

/// Run the configured binary with `input` on its standard input.
fn run_with_stdin(w: &World, args: &[&str], input: &str) -> common::Run {
    let mut cmd = w.cmd();
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// No terminal control character in `text` (line feeds between lines aside).
fn assert_no_control(text: &str) {
    assert!(
        !text.chars().any(|c| c != '\n' && c.is_control()),
        "raw control characters reached the terminal: {text:?}"
    );
}

#[test]
fn the_readme_placeholder_and_tokens_with_blanks_or_line_breaks_are_refused_and_nothing_breaks() {
    let w = World::new();
    w.exchange();
    w.emu.reset_counters();
    for bad in [
        "1000.xyz…",
        "1000.abc def",
        "1000.abc\r\ndef",
        "1000.\x1b[2Jabc",
    ] {
        let run = w
            .run(&[
                "add-refresh-token",
                "--refresh-token",
                bad,
                "--user",
                "ana@example.com",
            ])
            .code(2);
        let l = lines(&run.stderr);
        assert_eq!(l.len(), 2, "{bad:?}: {run:#?}");
        assert!(l[0].contains("refresh token holds a character"), "{run:#?}");
        assert_no_control(&run.stderr);
        // The same through standard input.
        let run = run_with_stdin(
            &w,
            &[
                "add-refresh-token",
                "--refresh-token",
                "-",
                "--user",
                "ana@example.com",
            ],
            bad,
        );
        assert_eq!(run.code, 2, "{bad:?} on stdin: {run:#?}");
    }
    let run = w
        .run(&[
            "exchange",
            "--grant-token",
            "1000.abc…",
            "--user",
            "ana@example.com",
        ])
        .code(2);
    assert!(
        lines(&run.stderr)[0].contains("grant token holds a character"),
        "{run:#?}"
    );
    assert_eq!(w.emu.counters().token_requests, 0, "nothing was sent");
    assert!(
        w.store()
            .load(&World::key("ana@example.com"))
            .unwrap()
            .is_none(),
        "nothing was stored"
    );
    // Every other command keeps working for the user already there.
    w.run(&["token"]).ok();
    assert_eq!(
        w.run(&["status", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_10_kb_grant_or_refresh_token_is_a_usage_error_naming_the_limit() {
    let w = World::new();
    let huge = format!("1000.{}", "a".repeat(10 * 1024));
    let exchange = w.run(&["exchange", "--grant-token", &huge]).code(2);
    let add = w
        .run(&[
            "add-refresh-token",
            "--refresh-token",
            &huge,
            "--user",
            "a@example.com",
        ])
        .code(2);
    for run in [exchange, add] {
        let l = lines(&run.stderr);
        assert_eq!(l.len(), 2, "{run:#?}");
        assert!(
            l[0].contains("10245 bytes") && l[0].contains("at most 256"),
            "{run:#?}"
        );
        assert!(!run.stderr.contains("internal error") && !run.stderr.contains("-vv"));
        assert!(!run.stderr.contains(&huge[..40]), "the value is not echoed");
    }
    assert_eq!(w.emu.counters().token_requests, 0);
}

#[test]
fn user_names_with_control_characters_are_refused_wherever_they_enter() {
    let w = World::new();
    for name in [
        "a\nb@example.com",
        "evil\x1b]0;pwned\x07@example.com",
        "\u{202e}moc.elpmaxe@a",
    ] {
        let run = w.run(&["status", "--user", name]).code(2);
        assert_eq!(lines(&run.stderr).len(), 2, "{run:#?}");
        assert_no_control(&run.stderr);
        let run = common::run(w.cmd().env("ZOHO_USER", name).arg("status")).code(2);
        assert_no_control(&run.stderr);
    }
    // A CSV whose second row has a hostile user name imports nothing at all.
    let w = World::new();
    w.exchange();
    let rt = common::refresh_of(&w.stored(USER));
    let csv = w.dir.path().join("tokens.csv");
    common::write(
        &csv,
        &format!(
            "1,ok@example.com,{DEFAULT_CLIENT_ID},{DEFAULT_CLIENT_SECRET},{rt},,,,,\n\
             2,\"evil\x1b[2J\r\nforged@example.com\",{DEFAULT_CLIENT_ID},{DEFAULT_CLIENT_SECRET},{rt},,,,,\n"
        ),
    );
    let run = w
        .run(&["import", &format!("csv:{}", csv.display())])
        .code(2);
    let l = lines(&run.stderr);
    // One warning per bad row, then the error's two lines.
    assert_eq!(l.len(), 3, "{run:#?}");
    assert!(l[0].contains("line 2"), "{run:#?}");
    assert!(
        l[1].starts_with("error:") && l[2].contains("hint:"),
        "{run:#?}"
    );
    assert_no_control(&run.stderr);
    assert!(w
        .store()
        .load(&World::key("ok@example.com"))
        .unwrap()
        .is_none());
}

/// Damage the stored entry of `user` in the SQLite store at `path`, as a disk or another program
/// might.
fn damage(path: &std::path::Path, user: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let n = conn
        .execute(
            "UPDATE credentials SET token = x'5a4f5401ff00' WHERE user = ?1",
            [user],
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn a_store_with_damaged_entries_still_serves_lists_exports_revokes_and_deletes() {
    let w = World::new();
    for (email, zuid) in [("bob@example.com", 2), ("carol@example.com", 3)] {
        w.emu
            .register_user(UserSpec {
                email: email.to_owned(),
                zuid: 10_000_000_000 + zuid,
                ..UserSpec::default()
            })
            .unwrap();
    }
    w.exchange();
    for user in ["bob@example.com", "carol@example.com"] {
        let code = w.code_for(&zoho_oauth_emulator::SelfClientCode {
            user: user.to_owned(),
            ..Default::default()
        });
        w.run(&["exchange", "--grant-token", &code]).ok();
    }
    damage(&w.store_path(), "bob@example.com");
    damage(&w.store_path(), "carol@example.com");

    // The sound credential is served and listed; the damaged ones are listed as such.
    let token = w.run(&["token", "--user", USER]).ok();
    assert_eq!(token.stdout.trim(), access(&w.stored(USER)));
    let status = w.run(&["status"]).ok();
    assert!(status.stdout.contains("DAMAGED"), "{status:#?}");
    assert!(
        status
            .stdout
            .contains("zoho-oauth delete --user bob@example.com"),
        "{status:#?}"
    );
    let json = w.run(&["status", "--json"]).ok().json();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for row in rows {
        let damaged = row["user"] != USER;
        assert_eq!(row["damaged"].is_string(), damaged, "{row}");
    }
    // A damaged entry asked for by name is an error about that entry, naming it.
    let run = w.run(&["token", "--user", "bob@example.com"]).code(1);
    assert!(
        lines(&run.stderr)[0].contains("bob@example.com"),
        "{run:#?}"
    );

    // Export writes the sound one and names the damaged ones.
    let csv = w.dir.path().join("out.csv");
    let run = w
        .run(&["export", &format!("csv:{}", csv.display()), "--json"])
        .ok();
    assert_eq!(run.json()["exported"], 1);
    assert_eq!(
        run.json()["skipped_damaged"],
        serde_json::json!(["bob@example.com", "carol@example.com"])
    );
    assert!(
        run.stderr
            .contains("skipped the damaged entry of bob@example.com"),
        "{run:#?}"
    );

    // Revoke of a damaged entry deletes it without asking Zoho; delete works too.
    w.emu.reset_counters();
    let run = w.run(&["revoke", "--user", "bob@example.com"]).ok();
    assert!(run.stdout.contains("damaged"), "{run:#?}");
    assert!(run.stderr.contains("Zoho was not asked"), "{run:#?}");
    let run = w
        .run(&["delete", "--user", "carol@example.com", "--json"])
        .ok();
    assert_eq!(run.json()["was_damaged"], true);
    assert_eq!(w.emu.counters().revocations, 0);
    // And the sound one is revoked as usual.
    w.run(&["revoke"]).ok();
    assert_eq!(w.emu.counters().revocations, 1);
    assert_eq!(
        w.run(&["status", "--json"]).ok().json(),
        serde_json::json!([])
    );
}

#[test]
fn delete_removes_the_credential_locally_and_leaves_zoho_alone() {
    let w = World::new();
    w.exchange();
    let rt = common::refresh_of(&w.stored(USER));
    let run = w.run(&["delete"]).ok();
    assert!(
        run.stdout.contains("stays valid there until revoked"),
        "{run:#?}"
    );
    assert!(w.store().list().unwrap().is_empty());
    assert_eq!(w.emu.counters().revocations, 0);
    // The refresh token still works at Zoho: it can be added back.
    w.run(&["add-refresh-token", "--refresh-token", &rt, "--user", USER])
        .ok();
    let run = w.run(&["delete", "--user", "nobody@example.com"]).code(3);
    assert!(
        lines(&run.stderr)[0].contains("nobody@example.com"),
        "{run:#?}"
    );
}

#[test]
fn secrets_come_from_standard_input_or_the_environment_instead_of_argv() {
    let w = World::new();
    // The grant token from its environment variable.
    let code = w.code();
    common::run(w.cmd().env("ZOHO_GRANT_TOKEN", &code).arg("exchange")).ok();
    assert!(w.stored(USER).access_token.is_some());
    // The refresh token from standard input.
    let rt = refresh_token_from_zoho(&w);
    let run = run_with_stdin(
        &w,
        &[
            "add-refresh-token",
            "--refresh-token",
            "-",
            "--user",
            "rt@example.com",
        ],
        &format!("{rt}\n"),
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(common::refresh_of(&w.stored("rt@example.com")), rt);
    // The client secret from standard input.
    let mut cmd = w.cmd();
    cmd.env_remove("ZOHO_CLIENT_SECRET");
    let run = {
        cmd.args(["--client-secret", "-", "status", "--json"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(DEFAULT_CLIENT_SECRET.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    assert!(run.status.success(), "{run:?}");

    // Two values cannot both come from standard input.
    let run = run_with_stdin(
        &w,
        &["--client-secret", "-", "exchange", "--grant-token", "-"],
        "x",
    );
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("already read"), "{run:#?}");

    // Without a value and without a terminal, the error names the safe ways.
    let run = w.run(&["exchange"]).code(2);
    let l = lines(&run.stderr);
    assert_eq!(l.len(), 2, "{run:#?}");
    assert!(l[0].contains("no grant token was given"), "{run:#?}");
    assert!(
        l[1].contains("--grant-token -") && l[1].contains("ZOHO_GRANT_TOKEN"),
        "{run:#?}"
    );
}

#[cfg(unix)]
#[test]
fn on_a_terminal_the_grant_token_is_asked_for_and_not_shown() {
    let w = World::new();
    let code = w.code();
    let mut cmd = w.cmd();
    cmd.arg("exchange");
    let Some(mut term) = common::Terminal::start(&cmd) else {
        return;
    };
    term.wait_for(
        "grant token (typing is not shown): ",
        Duration::from_secs(20),
    );
    common::wait_until(Duration::from_secs(10), "echo to be turned off", || {
        !term.echoes()
    });
    term.type_text(&format!("{code}\r"));
    let (exit, shown) = term.finish(Duration::from_secs(30));
    assert_eq!(exit, 0, "{shown}");
    assert!(
        !shown.contains(&code),
        "the grant token was echoed: {shown}"
    );
    assert!(shown.contains("stored the credential of"), "{shown}");
    assert!(w.stored(USER).access_token.is_some());
}

#[test]
fn zoho_error_text_cannot_break_lines_or_drive_the_terminal() {
    let w = World::new();
    let hostile = common::fake_zoho(
        r#"{"error":"bad\u001b]0;pwned\u0007\r\nerror: forged line\u009b2J\u202e"}"#,
        Vec::new(),
    );
    let run = w.run(&[
        "exchange",
        "--grant-token",
        "1000.code",
        "--user",
        "a@example.com",
        "--accounts-url",
        &hostile,
    ]);
    assert_ne!(run.code, 0, "{run:#?}");
    let l = lines(&run.stderr);
    assert_eq!(l.len(), 2, "{run:#?}");
    assert_no_control(&run.stderr);
    assert!(!run.stderr.contains('\u{202e}'), "{run:#?}");
    // Escaped where it entered (the library quotes Zoho's text) or where it is printed.
    assert!(
        l[0].contains("\\x1b]0;pwned\\x07") || l[0].contains("\\u{1b}]0;pwned\\u{7}"),
        "shown escaped: {run:#?}"
    );
}

#[test]
fn user_names_from_a_store_are_escaped_in_status_human_and_json() {
    let w = World::new();
    w.exchange();
    // Another program wrote an entry under a hostile name.
    let evil = "evil\x1b]0;pwned\x07\r\nforged\u{202e}@example.com";
    let conn = rusqlite::Connection::open(w.store_path()).unwrap();
    conn.execute(
        "INSERT INTO credentials (user, client_id, data_center, environment, token, updated_at)
         SELECT ?1, client_id, data_center, environment, token, updated_at FROM credentials WHERE user = ?2",
        [evil, USER],
    )
    .unwrap();
    let status = w.run(&["status"]).ok();
    assert_no_control(&status.stdout);
    assert!(!status.stdout.contains('\u{202e}'));
    assert!(
        status.stdout.contains("evil\\x1b]0;pwned\\x07\\r\\nforged"),
        "{status:#?}"
    );
    let json = w.run(&["status", "--json"]).ok();
    assert_no_control(&json.stdout);
    assert!(!json.stdout.contains('\u{202e}'));
    let users: Vec<String> = json
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["user"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        users.contains(&evil.to_owned()),
        "JSON carries the real name, escaped: {users:?}"
    );
    // Several users and none chosen: the usage error lists them, escaped.
    let run = w.run(&["token"]).code(2);
    assert_no_control(&run.stderr);
    assert_eq!(lines(&run.stderr).len(), 2, "{run:#?}");
}

#[cfg(unix)]
#[test]
fn export_is_private_whatever_the_existing_file_was_and_log_files_are_created_private() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new();
    w.exchange();
    let csv = w.dir.path().join("existing.csv");
    common::write(&csv, "old contents\n");
    std::fs::set_permissions(&csv, std::fs::Permissions::from_mode(0o644)).unwrap();
    w.run(&["export", &format!("csv:{}", csv.display())]).ok();
    let mode = std::fs::metadata(&csv).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o600,
        "the export holds the client secret and refresh tokens"
    );
    assert!(std::fs::read_to_string(&csv)
        .unwrap()
        .starts_with("id,user_name"));

    let log = w.dir.path().join("new.log");
    w.run(&["status", "--log-file", log.to_str().unwrap()]).ok();
    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn an_oversized_api_answer_is_named_as_such_and_a_larger_limit_reads_it() {
    let w = World::new();
    let big = format!("{{\"data\":\"{}\"}}", "x".repeat(2 << 20));
    let api = common::fake_zoho(&common::token_answer("{origin}"), big.clone().into_bytes());
    let with = |extra: &[&str]| {
        let mut args = vec!["--accounts-url", api.as_str(), "--user", "a@example.com"];
        args.extend_from_slice(extra);
        w.run(&args)
    };
    with(&["exchange", "--grant-token", "1000.code"]).ok();
    let run = with(&["api", "GET", "/crm/v8/Leads", "--max-body", "1M"]).code(1);
    let l = lines(&run.stderr);
    assert_eq!(l.len(), 2, "{run:#?}");
    assert!(l[0].contains("larger than 1048576 bytes"), "{run:#?}");
    assert!(l[1].contains("--max-body"), "{run:#?}");
    assert!(!run.stderr.contains("no valid token"), "{run:#?}");
    let run = with(&["api", "GET", "/crm/v8/Leads"]).ok();
    assert_eq!(run.stdout.trim_end().len(), big.len());
}

#[test]
fn an_api_path_with_a_line_break_is_a_usage_error_and_nothing_is_sent() {
    let w = World::new();
    w.exchange();
    w.emu.reset_counters();
    for path in [
        "/crm/v8/users\r\nX-Evil: 1",
        "/crm/v8/users\n",
        "/crm\x1b[2J",
    ] {
        let run = w.run(&["api", "GET", path]).code(2);
        assert_eq!(lines(&run.stderr).len(), 2, "{run:#?}");
        assert_no_control(&run.stderr);
    }
    assert_eq!(w.emu.counters().api_calls, 0);
}

#[test]
fn neighbours_redirect_uris_scopes_and_client_credentials_with_control_characters_exit_2() {
    let w = World::new();
    let code = w.code();
    let run = w
        .run(&[
            "exchange",
            "--grant-token",
            &code,
            "--redirect-uri",
            "http://127.0.0.1/cb\r\nX: y",
        ])
        .code(2);
    assert_no_control(&run.stderr);
    let run = w
        .run(&[
            "login",
            "--no-browser",
            "--port",
            "0",
            "--scope",
            "ZohoCRM.modules.ALL,\x1b[2J",
        ])
        .code(2);
    assert_no_control(&run.stderr);
    let run = common::run(w.cmd().env("ZOHO_CLIENT_SECRET", "abc\ndef").arg("status")).code(2);
    assert!(lines(&run.stderr)[0].contains("client secret"), "{run:#?}");
    let run = common::run(w.cmd().env("ZOHO_CLIENT_ID", "1000.A B").arg("status")).code(2);
    assert!(lines(&run.stderr)[0].contains("client id"), "{run:#?}");
    assert_eq!(w.emu.counters().token_requests, 0);
}

#[cfg(unix)]
#[test]
fn a_lock_file_that_cannot_be_opened_is_named() {
    let w = World::new();
    let path = w.dir.path().join("store").join("tokens.zot");
    let url = format!("file:{}", path.display());
    let code = w.code();
    w.run(&["--store", &url, "exchange", "--grant-token", &code])
        .ok();
    let lock = w.dir.path().join("store").join("tokens.zot.lock");
    assert!(
        lock.exists(),
        "the file store keeps its lock file beside it"
    );
    let run = {
        let _guard = common::Unwritable::new(&lock);
        w.run(&["--store", &url, "refresh", "--force"])
    };
    assert_ne!(run.code, 0, "{run:#?}");
    let l = lines(&run.stderr);
    assert_eq!(l.len(), 2, "{run:#?}");
    assert!(l[0].contains(&lock.display().to_string()), "{run:#?}");
}

#[test]
fn import_says_when_it_replaces_a_stored_refresh_token() {
    let w = World::new();
    w.exchange();
    let old = common::refresh_of(&w.stored(USER));
    let new = refresh_token_from_zoho(&w);
    let csv = w.dir.path().join("tokens.csv");
    common::write(
        &csv,
        &format!("1,{USER},{DEFAULT_CLIENT_ID},{DEFAULT_CLIENT_SECRET},{new},,,,,\n"),
    );
    let run = w
        .run(&["import", &format!("csv:{}", csv.display()), "--json"])
        .ok();
    assert_eq!(run.json()["replaced"], serde_json::json!([USER]));
    assert!(
        run.stderr.contains("replaced the stored credential of"),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains(&old[old.len() - 4..]),
        "names the old token: {run:#?}"
    );
    assert!(!run.stderr.contains(&old), "never the whole token");
    assert_eq!(common::refresh_of(&w.stored(USER)), new);
}

#[test]
fn warnings_and_errors_never_claim_no_valid_token_is_cached_when_one_is() {
    let w = World::new();
    w.exchange();
    w.set_expiry(USER, 30_000);
    w.emu
        .queue_fault(zoho_oauth_emulator::Fault::ServerError, 10);
    let token = w.run(&["token"]).ok();
    let refresh = w.run(&["refresh", "--force"]);
    assert_eq!(refresh.code, 5, "{refresh:#?}");
    w.emu
        .queue_fault(zoho_oauth_emulator::Fault::ServerError, 10);
    let code = w.code();
    let exchange = w.run(&[
        "exchange",
        "--grant-token",
        &code,
        "--user",
        "x@example.com",
    ]);
    assert_eq!(exchange.code, 5, "{exchange:#?}");
    for text in [&token.stderr, &refresh.stderr, &exchange.stderr] {
        assert!(!text.contains("no valid token"), "{text}");
    }
}

#[cfg(unix)]
#[test]
fn an_api_body_goes_byte_for_byte_into_a_pipe_and_escaped_onto_a_terminal() {
    let w = World::new();
    let body = "{\"note\":\"x\"}\u{1b}]0;pwned\u{7}\u{1b}[2J\n";
    let api = common::fake_zoho(&common::token_answer("{origin}"), body.as_bytes().to_vec());
    let base = ["--accounts-url", api.as_str(), "--user", "a@example.com"];
    w.run(&[&base[..], &["exchange", "--grant-token", "1000.code"]].concat())
        .ok();
    let piped = w
        .run(&[&base[..], &["api", "GET", "/crm/v8/org"]].concat())
        .ok();
    assert_eq!(piped.stdout, body, "a pipe gets the body as it came");
    let mut cmd = w.cmd();
    cmd.args(base).args(["api", "GET", "/crm/v8/org"]);
    let Some(term) = common::Terminal::start(&cmd) else {
        return;
    };
    let (code, shown) = term.finish(Duration::from_secs(30));
    assert_eq!(code, 0, "{shown:?}");
    assert!(
        !shown.contains('\x1b') && !shown.contains('\x07'),
        "{shown:?}"
    );
    assert!(
        shown.contains("{\"note\":\"x\"}\\x1b]0;pwned\\x07"),
        "{shown:?}"
    );
}
