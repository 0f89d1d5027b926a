//! Sixteen processes sharing one token store, all asking at the instant the access token expired:
//! exactly one refresh reaches Zoho, every process gets the new token, and the store stays whole.
//! Once with the `FileStore`, once with the `SqliteStore`, a few trials each to shake out races; and
//! with the first refresh failing (500, truncated, reset), which costs exactly one more refresh.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use zoho_oauth_core::{Instant, TokenSet};
use zoho_oauth_e2e::{seed, Fleet, Op, StoreSpec, WorkerCommand};
use zoho_oauth_emulator::{
    Config, DataCenter, Emulator, Fault, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
    DEFAULT_USER_EMAIL,
};

const WORKERS: usize = 16;
const TRIALS: usize = 3;
/// Generous: 16 processes on two shared cores, in a debug build.
const FLEET_LIMIT: Duration = Duration::from_secs(120);

fn now() -> Instant {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis();
    Instant::from_millis(u64::try_from(ms).expect("ms fit in u64"))
}

/// Seeds `store` with a Self Client exchange, then backdates the stored access token so that it
/// expired a second ago (the refresh token kept). Returns the stored set as left for the workers.
fn seed_expired(emu: &Emulator, accounts: &str, store: &StoreSpec) -> TokenSet {
    let client = seed::client(
        accounts,
        store.open().expect("open the store").into(),
        Duration::ZERO,
    );
    let key = seed::exchange(emu, &client, DEFAULT_USER_EMAIL);
    drop(client);

    let store = store.open().expect("reopen the store");
    let mut token = store
        .load(&key)
        .expect("load")
        .expect("the exchange was stored");
    assert!(token.access_token.is_some());
    let lifetime = token.expires_at.saturating_duration_since(token.issued_at);
    token.expires_at = now().saturating_sub(Duration::from_secs(1));
    token.issued_at = token.expires_at.saturating_sub(lifetime);
    let mut locked = store
        .lock(&key, zoho_oauth::LockWait::NoWait)
        .expect("nobody else holds it");
    locked.save(&token).expect("save the expired set");
    locked.release().expect("commit");
    token
}

/// One trial: seed, expire, queue `fault` for the first refresh, release the fleet, check counters,
/// outputs and the store.
fn trial(store: &StoreSpec, n: usize, fault: Option<Fault>) {
    let emu = Emulator::start(Config::default()).expect("start the emulator");
    let accounts = emu.base_url(DataCenter::Us).to_owned();
    let seeded = seed_expired(&emu, &accounts, store);
    let expired_access = seeded.access_token.as_ref().map(|s| s.expose().to_owned());
    emu.reset_counters();
    if let Some(fault) = fault {
        emu.queue_fault(fault, 1);
    }

    let command = WorkerCommand {
        store: store.clone(),
        accounts: accounts.clone(),
        client_id: DEFAULT_CLIENT_ID.to_owned(),
        client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
        op: Op::Token(DEFAULT_USER_EMAIL.to_owned()),
        code: None,
        clock_offset: Duration::ZERO,
        pause_at: None,
    };
    let fleet = Fleet::spawn(
        env!("CARGO_BIN_EXE_e2e-worker").as_ref(),
        &vec![command; WORKERS],
        FLEET_LIMIT,
    );
    let outcomes = fleet.release_and_wait();

    // Every process succeeded.
    for (i, o) in outcomes.iter().enumerate() {
        assert!(
            o.status.success(),
            "trial {n}, worker {i} failed ({}): {}",
            o.status,
            o.stderr
        );
    }
    // Exactly one refresh reached the accounts server (one more after a fault), and nothing else did.
    let counters = emu.counters();
    let faults = u64::from(fault.is_some());
    assert_eq!(counters.faults_injected, faults, "trial {n}: {counters:?}");
    assert_eq!(
        counters.refresh_token_requests,
        1 + faults,
        "trial {n}, {fault:?}: {counters:?}"
    );
    assert_eq!(
        counters.token_requests,
        1 + faults,
        "trial {n}, {fault:?}: {counters:?}"
    );
    // All printed the same, new token.
    let printed: BTreeSet<&str> = outcomes.iter().filter_map(|o| o.token()).collect();
    assert_eq!(
        outcomes.iter().filter(|o| o.token().is_some()).count(),
        WORKERS,
        "trial {n}"
    );
    assert_eq!(
        printed.len(),
        1,
        "trial {n}: {} different tokens",
        printed.len()
    );
    let token = *printed.first().expect("one token");
    assert_ne!(
        Some(token),
        expired_access.as_deref(),
        "trial {n}: the expired token was served"
    );

    // The store is intact: it loads, keeps the refresh token, and holds the printed access token.
    let key = seed::key(&accounts, DEFAULT_USER_EMAIL);
    let stored = store
        .open()
        .expect("reopen")
        .load(&key)
        .expect("load")
        .expect("still stored");
    assert_eq!(
        stored.refresh_token.as_ref().unwrap().expose(),
        seeded.refresh_token.as_ref().unwrap().expose(),
        "trial {n}"
    );
    assert_eq!(
        stored.access_token.as_ref().map(|s| s.expose()),
        Some(token),
        "trial {n}"
    );
    assert!(
        stored.access_token(now()).is_some(),
        "trial {n}: the stored token is not fresh"
    );
    emu.stop();
}

#[test]
fn sixteen_processes_sharing_a_file_store_refresh_once_at_expiry() {
    for n in 0..TRIALS {
        let dir = tempfile::tempdir().unwrap();
        trial(&StoreSpec::File(dir.path().join("tokens.store")), n, None);
    }
}

#[test]
fn sixteen_processes_sharing_a_sqlite_store_refresh_once_at_expiry() {
    for n in 0..TRIALS {
        let dir = tempfile::tempdir().unwrap();
        trial(&StoreSpec::Sqlite(dir.path().join("tokens.db")), n, None);
    }
}

const FAULTS: [Fault; 3] = [
    Fault::ServerError,
    Fault::TruncatedBody,
    Fault::ConnectionReset,
];

#[test]
fn a_failed_first_refresh_costs_one_more_refresh_and_no_process_fails_with_a_file_store() {
    for (n, fault) in FAULTS.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        trial(
            &StoreSpec::File(dir.path().join("tokens.store")),
            n,
            Some(fault),
        );
    }
}

#[test]
fn a_failed_first_refresh_costs_one_more_refresh_and_no_process_fails_with_a_sqlite_store() {
    for (n, fault) in FAULTS.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        trial(
            &StoreSpec::Sqlite(dir.path().join("tokens.db")),
            n,
            Some(fault),
        );
    }
}
