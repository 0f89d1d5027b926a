//! A revoke SIGKILLed after Zoho revoked the refresh token, before its delete was committed: the
//! credential stays stored (a revoke deletes only what Zoho let go of, under the lock), the next
//! process to refresh learns from Zoho that it is revoked and saves that, and every later process
//! says it needs a new authorization without asking Zoho again; a revoke then clears it. On every
//! store (the servers are required under `CI=true`).

use std::time::Duration;

use zoho_oauth::LockWait;
use zoho_oauth_e2e::scenario::OneCredential;
use zoho_oauth_e2e::{Checkpoint, Kind, Op};
use zoho_oauth_emulator::DEFAULT_USER_EMAIL;

const HOUR: Duration = Duration::from_secs(3600);

fn a_revoke_killed_before_its_delete_leaves_a_credential_that_needs_authorization(kind: Kind) {
    // Redis: a killed holder's lock lives on for the lease; a short one keeps the test short.
    let Some(fixture) = OneCredential::new(kind, Some(Duration::from_secs(1))) else {
        return;
    };
    let (emu, rt) = (&fixture.emu, fixture.refresh_token.clone());
    let exe = env!("CARGO_BIN_EXE_e2e-worker").as_ref();
    let revoke = || Op::Revoke(DEFAULT_USER_EMAIL.to_owned());
    let token = || Op::Token(DEFAULT_USER_EMAIL.to_owned());

    // Zoho revokes; the revoker dies before it deletes.
    let paused = fixture.command(revoke(), Duration::ZERO, Some(Checkpoint::Answer));
    let revoker = fixture.run_one(exe, paused);
    assert!(revoker.killed(), "{}", revoker.stderr);
    let answer = revoker
        .first(Checkpoint::Answer)
        .expect("the revoke's answer");
    assert_eq!((answer.kind(), answer.arg(1)), ("revoke", "200"));
    assert_eq!(emu.counters().revocations, 1);
    assert_eq!(fixture.probe().refresh(&rt), Ok(None), "still honoured");

    // The credential is still stored, and its lock is free (on Redis once the lease ran out).
    assert_eq!(
        fixture.stored_refresh_token().expect("load"),
        Some(rt.clone())
    );
    let store = fixture.spec().open().expect("open");
    let bound = fixture.spec().orphan_lock_bound() + Duration::from_secs(1);
    let lock = store.lock(&fixture.key, LockWait::AtMost(bound));
    assert!(lock.is_ok(), "the killed revoker's lock is still held");
    drop(lock);

    // An hour later: the first process to need a token asks Zoho, which refuses the refresh
    // token; it and every process after it say the credential needs authorization, and only
    // the first asked.
    emu.advance_clock(HOUR);
    emu.reset_counters();
    for n in 0..3 {
        let worker = fixture.run_one(exe, fixture.command(token(), HOUR, None));
        assert_eq!(
            worker.err(),
            Some("needs_authorization"),
            "worker {n}: {}",
            worker.stderr
        );
    }
    let counters = emu.counters();
    assert_eq!(counters.refresh_token_requests, 1, "{counters:?}");
    assert_eq!(counters.refreshes_per_token.get(&rt), Some(&1));
    assert_eq!(fixture.stored_refresh_token().expect("load"), Some(rt));
    let status = fixture.run_one(exe, fixture.command(Op::Status, HOUR, None));
    let creds = status.creds();
    assert_eq!(creds.len(), 1, "{}", status.stderr);
    assert!(creds[0].reauth && !creds[0].damaged, "{creds:?}");

    // A revoke clears it: Zoho no longer knows the token, and the credential is deleted.
    let revoker = fixture.run_one(exe, fixture.command(revoke(), HOUR, None));
    assert_eq!(
        revoker.ok(),
        Some(&["alreadygone".to_owned()][..]),
        "{}",
        revoker.stderr
    );
    assert_eq!(fixture.stored_refresh_token().expect("load"), None);
}

#[test]
fn a_revoke_killed_before_its_delete_leaves_a_file_store_credential_that_needs_authorization() {
    a_revoke_killed_before_its_delete_leaves_a_credential_that_needs_authorization(Kind::File);
}

#[test]
fn a_revoke_killed_before_its_delete_leaves_a_sqlite_store_credential_that_needs_authorization() {
    a_revoke_killed_before_its_delete_leaves_a_credential_that_needs_authorization(Kind::Sqlite);
}

#[test]
fn a_revoke_killed_before_its_delete_leaves_a_postgres_store_credential_that_needs_authorization() {
    a_revoke_killed_before_its_delete_leaves_a_credential_that_needs_authorization(Kind::Postgres);
}

#[test]
fn a_revoke_killed_before_its_delete_leaves_a_mysql_store_credential_that_needs_authorization() {
    a_revoke_killed_before_its_delete_leaves_a_credential_that_needs_authorization(Kind::Mysql);
}

#[test]
fn a_revoke_killed_before_its_delete_leaves_a_redis_store_credential_that_needs_authorization() {
    a_revoke_killed_before_its_delete_leaves_a_credential_that_needs_authorization(Kind::Redis);
}
