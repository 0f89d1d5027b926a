//! Issue 8: one process refreshes an expired token and the emulator sits on the answer; meanwhile
//! another process revokes the credential. The revoke waits for the refresh's lock, revokes the
//! refresh token at Zoho and deletes the credential: afterwards it is gone — from the store, for a
//! new process, and at the emulator — and the late refresh did not write it back. On every store:
//! file, SQLite, PostgreSQL, MariaDB/MySQL and Redis (the servers are required under `CI=true`).

use std::time::Duration;

use zoho_oauth::LockWait;
use zoho_oauth_e2e::protocol::Line;
use zoho_oauth_e2e::scenario::{OneCredential, LIMIT};
use zoho_oauth_e2e::{Checkpoint, Fleet, Kind, Op};
use zoho_oauth_emulator::DEFAULT_USER_EMAIL;

/// How long the emulator holds every token answer: the refresh stays on the wire this long.
const LATENCY: Duration = Duration::from_millis(1500);
const HOUR: Duration = Duration::from_secs(3600);

fn a_revoke_during_a_delayed_refresh_leaves_the_credential_gone(kind: Kind) {
    let Some(fixture) = OneCredential::new(kind, None) else {
        return;
    };
    let (emu, key) = (&fixture.emu, &fixture.key);
    let exe = env!("CARGO_BIN_EXE_e2e-worker").as_ref();

    // An hour later the access token has expired (for the workers' clock and the emulator's),
    // and every token answer takes LATENCY.
    emu.advance_clock(HOUR);
    emu.reset_counters();
    emu.set_latency(LATENCY);
    let mut fleet = Fleet::spawn(
        exe,
        &[
            fixture.command(Op::Token(DEFAULT_USER_EMAIL.to_owned()), HOUR, None),
            fixture.command(Op::Revoke(DEFAULT_USER_EMAIL.to_owned()), HOUR, None),
        ],
        LIMIT,
    );
    // The refresher goes first; the revoker as soon as the refresh is on the wire.
    fleet.release(0);
    let outcomes = fleet.run(|control, i, line| {
        if let (0, Line::Event(e)) = (i, line) {
            if e.checkpoint == Checkpoint::Send && e.kind() == "refresh" {
                control.release(1);
            }
        }
    });
    let (refresher, revoker) = (&outcomes[0], &outcomes[1]);
    assert!(
        refresher.status.success(),
        "the refresher failed: {}",
        refresher.stderr
    );
    assert!(
        revoker.status.success(),
        "the revoker failed: {}",
        revoker.stderr
    );
    assert_eq!(revoker.ok(), Some(&["revoked".to_owned()][..]));
    let new_access = refresher.token().expect("the refresher printed its token");

    // The revoke started while the refresh was on the wire, and took the lock only after the
    // refresher began to let it go (after its save).
    let answered = refresher.first(Checkpoint::Answer).expect("an answer");
    let revoke_started = revoker.released_us.expect("released");
    assert!(
        revoke_started < answered.at_us,
        "the revoker started {} µs after the refresh's answer came",
        revoke_started.saturating_sub(answered.at_us)
    );
    let refresher_saved = refresher
        .first(Checkpoint::Saved)
        .expect("the refresh saved");
    let refresher_let_go = refresher
        .first(Checkpoint::Releasing)
        .expect("the refresher released");
    let revoker_locked = revoker
        .first(Checkpoint::Locked)
        .expect("the revoker locked");
    assert!(refresher_saved.at_us <= refresher_let_go.at_us);
    assert!(
        revoker_locked.at_us >= refresher_let_go.at_us,
        "the revoker held the lock {} µs before the refresher let it go",
        refresher_let_go.at_us - revoker_locked.at_us
    );
    assert!(revoker.first(Checkpoint::Deleted).is_some());

    // Gone from the store, for a new handle and a new process; its lock is free.
    let store = fixture.spec().open().expect("the store opens");
    assert!(
        store.load(key).expect("load").is_none(),
        "the credential came back"
    );
    assert!(store.list().expect("list").is_empty());
    let lock = store.lock(key, LockWait::AtMost(Duration::from_secs(1)));
    assert!(lock.is_ok(), "the lock is still held");
    drop(lock);
    let status = fixture.run_one(exe, fixture.command(Op::Status, HOUR, None));
    assert!(status.status.success(), "{}", status.stderr);
    assert!(
        status.creds().is_empty(),
        "a new process lists {:?}",
        status.creds()
    );

    // At the emulator: one refresh, with the stored refresh token; one revocation of it; the
    // refresh token and the access token the refresh got are both dead.
    let counters = emu.counters();
    assert_eq!(counters.refresh_token_requests, 1, "{counters:?}");
    assert_eq!(
        counters.refreshes_per_token.get(&fixture.refresh_token),
        Some(&1)
    );
    assert_eq!(counters.revocations, 1, "{counters:?}");
    emu.set_latency(Duration::ZERO);
    let probe = fixture.probe();
    assert_eq!(
        probe.refresh(&fixture.refresh_token),
        Ok(None),
        "the refresh token lives on"
    );
    assert_eq!(
        probe.owner(new_access),
        Ok(None),
        "the refreshed access token lives on"
    );
}

#[test]
fn a_revoke_during_a_delayed_refresh_leaves_no_credential_in_a_file_store() {
    a_revoke_during_a_delayed_refresh_leaves_the_credential_gone(Kind::File);
}

#[test]
fn a_revoke_during_a_delayed_refresh_leaves_no_credential_in_a_sqlite_store() {
    a_revoke_during_a_delayed_refresh_leaves_the_credential_gone(Kind::Sqlite);
}

#[test]
fn a_revoke_during_a_delayed_refresh_leaves_no_credential_in_a_postgres_store() {
    a_revoke_during_a_delayed_refresh_leaves_the_credential_gone(Kind::Postgres);
}

#[test]
fn a_revoke_during_a_delayed_refresh_leaves_no_credential_in_a_mysql_store() {
    a_revoke_during_a_delayed_refresh_leaves_the_credential_gone(Kind::Mysql);
}

#[test]
fn a_revoke_during_a_delayed_refresh_leaves_no_credential_in_a_redis_store() {
    a_revoke_during_a_delayed_refresh_leaves_the_credential_gone(Kind::Redis);
}
