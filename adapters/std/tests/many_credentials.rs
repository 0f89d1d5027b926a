//! Keeping many credentials fresh: a few hundred credentials minted together, Zoho answering
//! slowly, one background refresher — every credential is refreshed before it expires, because due
//! credentials are refreshed side by side (bounded parallelism), not one after another.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant as Monotonic};

use common::{HttpTransport, TIMEOUT};
use zoho_oauth::{Client, MemoryStore, SystemClock, TokenStore};
use zoho_oauth_emulator::{
    Config, DataCenter, Emulator, Limits, SelfClientCode, UserSpec, DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
};

const CREDENTIALS: usize = 240;
const LIFETIME: Duration = Duration::from_secs(20);
const ROUND_TRIP: Duration = Duration::from_millis(250);

#[test]
fn a_watcher_keeps_hundreds_of_credentials_fresh_when_zoho_is_slow() {
    let emu = Emulator::start(Config {
        limits: Limits {
            access_token_lifetime: LIFETIME,
            grant_codes_per_window: 10_000,
            ..Limits::default()
        },
        ..Config::default()
    })
    .unwrap();
    let store = Arc::new(MemoryStore::new());
    let client = Client::builder(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
        .accounts_origin(emu.base_url(DataCenter::Us))
        .transport(HttpTransport::new(TIMEOUT))
        .clock(SystemClock)
        .store_arc(store.clone())
        .background_parallelism(16)
        .build()
        .unwrap();
    let started = Monotonic::now();
    for i in 0..CREDENTIALS {
        let user = format!("user{i:03}@example.com");
        emu.register_user(UserSpec {
            email: user.clone(),
            zuid: 30_000_000_000 + i as u64,
            ..UserSpec::default()
        })
        .unwrap();
        let code = emu
            .mint_self_client_code(&SelfClientCode {
                user: user.clone(),
                ..SelfClientCode::default()
            })
            .unwrap();
        client.exchange_grant(&user, &code).unwrap();
    }
    let seeded = started.elapsed();
    assert!(seeded < LIFETIME / 4, "seeding took {seeded:?}");
    // From now on every answer takes a quarter of a second.
    emu.set_latency(ROUND_TRIP);
    let first_expiry = started + LIFETIME;
    let refresher = client.start_background_refresh();

    // Wait (bounded by the first expiry) until every credential was refreshed at the emulator.
    while emu.counters().refresh_token_requests < CREDENTIALS as u64 {
        assert!(
            Monotonic::now() < first_expiry,
            "only {} of {CREDENTIALS} refreshed before the first token expired",
            emu.counters().refresh_token_requests
        );
        std::thread::sleep(Duration::from_millis(50)); // polling the emulator's counter
    }
    let refreshed_by = started.elapsed();
    drop(refresher);
    // Every stored token now outlives the first expiry: none was left to expire.
    let until = SystemClock.now_after(first_expiry);
    for key in store.list().unwrap() {
        let t = store.load(&key).unwrap().unwrap();
        assert!(t.expires_at > until, "{} expires too soon", key.user);
    }
    assert_eq!(
        emu.counters().refresh_token_requests,
        CREDENTIALS as u64,
        "one refresh each"
    );
    eprintln!("{CREDENTIALS} credentials refreshed within {refreshed_by:?} of being minted");
}

/// The wall clock at a monotonic instant in the future, as the core's `Instant`.
trait NowAfter {
    fn now_after(&self, at: Monotonic) -> zoho_oauth::core::Instant;
}

impl NowAfter for SystemClock {
    fn now_after(&self, at: Monotonic) -> zoho_oauth::core::Instant {
        use zoho_oauth::Clock;
        self.now()
            .saturating_add(at.saturating_duration_since(Monotonic::now()))
    }
}

#[test]
fn on_a_store_that_locks_as_a_whole_background_refreshes_run_one_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let built = |store: Arc<dyn TokenStore>| {
        Client::builder(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
            .transport(HttpTransport::new(TIMEOUT))
            .store_arc(store)
            .background_parallelism(16)
            .build()
            .unwrap()
    };
    // A file store's lock covers the whole file: 16 workers would only queue on it.
    let file = zoho_oauth::FileStore::open(dir.path().join("tokens.zot")).unwrap();
    assert!(!file.locks_per_key());
    assert_eq!(built(Arc::new(file)).engine().background_parallelism(), 1);
    // Per-key locks: the setting applies.
    assert_eq!(
        built(Arc::new(MemoryStore::new()))
            .engine()
            .background_parallelism(),
        16
    );
}
