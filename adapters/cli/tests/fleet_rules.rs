//! The library's fleet rules, proven end to end through real `zoho-oauth` processes sharing one
//! store, counting requests at the emulator: errors keep their meaning (why a re-authorization
//! is needed), a throttle seen by one process is honoured by every later one, a mint that could
//! not be saved is an error, and a hung Zoho never strands a valid token.

mod common;

use std::time::Duration;

use common::{access, lines, wait_until, Spawned, World, USER};
use zoho_oauth::TokenStore;
use zoho_oauth_emulator::{Fault, SelfClientCode, DEFAULT_REDIRECT_URI};

#[test]
fn a_grant_issued_with_access_type_online_says_to_authorize_again_with_access_type_offline() {
    let w = World::new();
    let code = w.web_code("online");
    let run = w
        .run(&[
            "exchange",
            "--grant-token",
            &code,
            "--redirect-uri",
            DEFAULT_REDIRECT_URI,
            "--user",
            USER,
        ])
        .code(3);
    let l = lines(&run.stderr);
    assert_eq!(l.len(), 2, "{run:#?}");
    assert!(
        l[0].starts_with("error: ") && l[0].contains("access_type=online"),
        "{run:#?}"
    );
    assert!(l[1].starts_with("  hint: "), "{run:#?}");
    assert!(
        l[1].contains("access_type=offline") && l[1].contains("prompt=consent"),
        "{run:#?}"
    );
    assert!(
        w.store().list().unwrap().is_empty(),
        "an access token without a refresh token is not kept as a credential"
    );
}

#[test]
fn a_used_or_an_expired_grant_code_says_so_and_to_generate_a_new_one() {
    let w = World::new();
    let code = w.code();
    w.run(&["exchange", "--grant-token", &code]).ok();
    let used = w.run(&["exchange", "--grant-token", &code]).code(3);

    let expired = w.code_for(&SelfClientCode {
        lifetime: Some(Duration::from_secs(60)),
        ..SelfClientCode::default()
    });
    w.emu.advance_clock(Duration::from_secs(120));
    let late = w
        .run(&[
            "exchange",
            "--grant-token",
            &expired,
            "--user",
            "late@example.com",
        ])
        .code(3);
    for run in [used, late] {
        let l = lines(&run.stderr);
        assert_eq!(l.len(), 2, "{run:#?}");
        assert!(l[0].contains("already used or has expired"), "{run:#?}");
        assert!(l[1].contains("new grant code"), "{run:#?}");
    }
}

#[test]
fn a_revoked_refresh_token_says_to_authorize_again_and_no_process_asks_zoho_again() {
    let w = World::new();
    w.exchange();
    let rt = common::refresh_of(&w.stored(USER));
    let resp = common::http()
        .post(format!("{}/oauth/v2/token/revoke", w.base()))
        .send_form([("token", rt.as_str())])
        .unwrap();
    assert_eq!(resp.status(), 200);
    w.set_expiry(USER, -1_000);
    w.emu.reset_counters();

    let run = w.run(&["token"]).code(3);
    let l = lines(&run.stderr);
    assert_eq!(l.len(), 2, "{run:#?}");
    assert!(
        l[0].contains("refresh token") && l[0].contains("revoked"),
        "{run:#?}"
    );
    assert!(l[1].contains("authorize again"), "{run:#?}");

    // The refusal is kept in the store: the next processes do not ask Zoho again.
    for _ in 0..3 {
        let again = w.run(&["token"]).code(3);
        assert_eq!(lines(&again.stderr)[0], l[0]);
    }
    assert_eq!(w.emu.counters().refresh_token_requests, 1);
    let status = w.run(&["status"]).ok();
    assert!(
        status.stdout.contains("NEEDS RE-AUTHORIZATION"),
        "{status:#?}"
    );
    let json = w.run(&["status", "--json"]).ok().json();
    assert_eq!(json[0]["needs_authorization"], true);
    assert!(
        json[0]["needs_authorization_reason"]
            .as_str()
            .is_some_and(|r| r.contains("revoked")),
        "{json}"
    );
}

#[test]
fn after_zoho_throttles_a_credential_no_process_sharing_the_store_asks_again_during_the_window() {
    let w = World::new();
    w.exchange();
    // Due for a refresh (30 s left, margin 60 s) but still valid.
    w.set_expiry(USER, 30_000);
    let valid = access(&w.stored(USER));
    w.emu.reset_counters();
    w.emu.queue_fault(Fault::Throttle, 1);

    let first = w.run(&["token"]).ok();
    assert_eq!(
        first.stdout.trim(),
        valid,
        "the still-valid token is served"
    );
    let warning = lines(&first.stderr);
    assert_eq!(warning.len(), 2, "{first:#?}");
    assert!(
        warning[0].contains("Zoho is throttling this credential"),
        "{first:#?}"
    );
    assert_eq!(w.emu.counters().throttled, 1);

    // Five processes in a row, each a new process: none sends a token request.
    for _ in 0..5 {
        let run = w.run(&["token"]).ok();
        assert_eq!(run.stdout.trim(), valid);
    }
    assert_eq!(w.emu.counters().token_requests, 1, "only the throttled one");

    // `status` shows the window, shared through the store.
    let status = w.run(&["status"]).ok();
    assert!(
        status
            .stdout
            .contains("token requests paused (throttled by Zoho) until"),
        "{status:#?}"
    );
    let json = w.run(&["status", "--json"]).ok().json();
    assert_eq!(json[0]["paused_because"], "throttled");
    let until = json[0]["paused_until"].as_u64().expect("a window end");
    assert!(until > common::now_ms() / 1000, "{json}");

    // A forced refresh is refused locally, with the throttle's own words.
    let forced = w.run(&["refresh", "--force"]).code(4);
    let l = lines(&forced.stderr);
    assert_eq!(l.len(), 2, "{forced:#?}");
    assert!(
        l[0].contains("Zoho is throttling this credential"),
        "{forced:#?}"
    );
    assert_eq!(
        l[1], warning[1],
        "the same advice as the served token's warning"
    );

    // Once the token has expired too, a process exits 4 saying when to retry, still without asking.
    w.set_expiry(USER, -1_000);
    let expired = w.run(&["token"]).code(4);
    assert!(
        lines(&expired.stderr)[0].contains("do not retry for about"),
        "{expired:#?}"
    );
    assert_eq!(w.emu.counters().token_requests, 1);
}

#[cfg(unix)]
#[test]
fn a_read_only_store_is_an_error_saying_so_and_the_stored_token_stays() {
    let w = World::new();
    let path = w.dir.path().join("store").join("tokens.zot");
    let url = format!("file:{}", path.display());
    let code = w.code();
    w.run(&["--store", &url, "exchange", "--grant-token", &code])
        .ok();
    let before = std::fs::read(&path).unwrap();
    let run = {
        let _guard = common::Unwritable::new(&path);
        w.run(&["--store", &url, "refresh", "--force"])
    };
    assert_ne!(run.code, 0, "{run:#?}");
    assert!(!run.stdout.contains("new access token"), "{run:#?}");
    let l = lines(&run.stderr);
    assert_eq!(l.len(), 2, "{run:#?}");
    assert!(l[0].contains("cannot be written"), "{run:#?}");
    assert!(l[0].contains("nothing was asked of Zoho"), "{run:#?}");
    assert!(
        l[0].contains(&path.display().to_string()),
        "names the store: {run:#?}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the store is unchanged"
    );
    // The stored token is still the one served.
    let token = w.run(&["--store", &url, "token"]).ok();
    assert!(token.stdout.starts_with("1000."), "{token:#?}");
}

#[cfg(unix)]
#[test]
fn a_store_known_to_be_unwritable_sends_nothing_to_zoho() {
    let w = World::new();
    let path = w.dir.path().join("store").join("tokens.zot");
    let url = format!("file:{}", path.display());
    let code = w.code();
    w.run(&["--store", &url, "exchange", "--grant-token", &code])
        .ok();
    w.emu.reset_counters();
    let run = {
        let _guard = common::Unwritable::new(&path);
        w.run(&["--store", &url, "refresh", "--force"])
    };
    assert_ne!(run.code, 0, "{run:#?}");
    assert_eq!(
        w.emu.counters().token_requests,
        0,
        "nothing is minted that could not be kept"
    );
}

#[cfg(unix)]
#[test]
fn a_hung_zoho_never_strands_a_valid_token_and_lock_waits_are_bounded() {
    let w = World::new();
    w.exchange();
    // Valid for 30 s more, so due for a refresh.
    w.set_expiry(USER, 30_000);
    let valid = access(&w.stored(USER));
    w.emu.reset_counters();
    w.emu.queue_fault(Fault::Hang, 1);

    // A: a forced refresh whose request hangs at Zoho while it holds the credential's lock.
    let mut a = Spawned::start(
        w.cmd()
            .args(["refresh", "--force", "--request-timeout", "120s"]),
    );
    wait_until(Duration::from_secs(30), "A's request to reach Zoho", || {
        w.emu.counters().faults_injected == 1
    });

    // B only needs a token and has a valid one: it serves it at once instead of queueing.
    let b = w.run(&["token"]).ok();
    assert_eq!(b.stdout.trim(), valid);
    assert!(
        a.child.try_wait().unwrap().is_none(),
        "B finished while A still held the lock"
    );

    // C needs the lock: it waits at most --lock-wait, then says which store is busy.
    let c = w.run(&["refresh", "--force", "--lock-wait", "1s"]).code(5);
    let l = lines(&c.stderr);
    assert_eq!(
        l.len(),
        2,
        "two lines, no progress line off a terminal: {c:#?}"
    );
    assert!(
        l[0].contains(&w.store_path().display().to_string()),
        "{c:#?}"
    );
    assert!(l[0].contains("stayed held"), "{c:#?}");
    assert!(
        a.child.try_wait().unwrap().is_none(),
        "C gave up while A still held the lock"
    );
    assert_eq!(
        w.emu.counters().token_requests,
        1,
        "only A's request reached Zoho"
    );

    // A's death releases the lock: the next refresh goes through.
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    w.run(&["refresh", "--force"]).ok();
    assert_ne!(access(&w.stored(USER)), valid);
}
