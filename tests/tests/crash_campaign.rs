//! Issue 12, item 2: the crash campaign on every store. Rounds of eight `e2e-worker` processes
//! refresh, force-refresh, exchange, revoke and list three users' credentials against the emulator
//! (80 ms on the wire per token request), each SIGKILLed at a random moment; after every round the
//! store opens, no credential is lost or corrupted, no lock is left held, and at most one refresh
//! per expiry reached the emulator (the checks are listed in `zoho_oauth_e2e::campaign`).
//!
//! `ZOHO_CAMPAIGN_KILLS` sets the kills per store (default 100, CI's figure); `ZOHO_CAMPAIGN_SEED`
//! replays a plan (every failure prints its seed). The long run of the README:
//!
//! ```text
//! CI=true ZOHO_CAMPAIGN_KILLS=1000 cargo test -p zoho-oauth-e2e --release --test crash_campaign \
//!     -- --nocapture --test-threads=1
//! ```

use std::time::Duration;

use zoho_oauth_e2e::campaign::{self, Config};
use zoho_oauth_e2e::{Kind, Scratch};

/// The Redis lock lease of the campaign: a SIGKILLed holder blocks its credential this long at
/// most (the store's default is 10 s; shorter keeps rounds short, and 1 s still leaves a live
/// holder two renewals, 333 ms apart, to spare).
const REDIS_LEASE: Duration = Duration::from_secs(1);

fn campaign(kind: Kind) {
    let lease = (kind == Kind::Redis).then_some(REDIS_LEASE);
    let Some(scratch) = Scratch::new(kind, lease) else {
        return;
    };
    let config = Config::from_env();
    let report = campaign::run(
        env!("CARGO_BIN_EXE_e2e-worker").as_ref(),
        scratch.spec(),
        &config,
    );
    eprintln!("{report}");
    assert!(report.kills >= config.kills);
    assert!(
        report.checks > report.rounds,
        "every round checks something"
    );
}

#[test]
fn sigkilled_processes_lose_no_credential_hold_no_lock_and_refresh_once_per_expiry_with_a_file_store(
) {
    campaign(Kind::File);
}

#[test]
fn sigkilled_processes_lose_no_credential_hold_no_lock_and_refresh_once_per_expiry_with_a_sqlite_store(
) {
    campaign(Kind::Sqlite);
}

#[test]
fn sigkilled_processes_lose_no_credential_hold_no_lock_and_refresh_once_per_expiry_with_a_postgres_store(
) {
    campaign(Kind::Postgres);
}

#[test]
fn sigkilled_processes_lose_no_credential_hold_no_lock_and_refresh_once_per_expiry_with_a_mysql_store(
) {
    campaign(Kind::Mysql);
}

#[test]
fn sigkilled_processes_lose_no_credential_hold_no_lock_and_refresh_once_per_expiry_with_a_redis_store(
) {
    campaign(Kind::Redis);
}
