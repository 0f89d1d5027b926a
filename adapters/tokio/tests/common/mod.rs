//! Test harness: the emulator with a frozen clock, a manual clock for the client that moves with
//! it, a shared store, and the reqwest transport over loopback.
#![allow(dead_code)] // each test binary uses a different part

use std::sync::Arc;
use std::time::Duration;

use zoho_oauth::core::Instant;
use zoho_oauth::{ClientBuilder, ManualClock, MemoryStore, TokenStore};
use zoho_oauth_emulator::{
    Config, Counters, DataCenter, Emulator, SelfClientCode, DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET, DEFAULT_USER_EMAIL,
};
use zoho_oauth_tokio::{Client, ReqwestTransport};

/// The emulator's default user.
pub const USER: &str = DEFAULT_USER_EMAIL;
/// Where both clocks start: 2023-11-14T22:13:20Z.
pub const START_MS: u64 = 1_700_000_000_000;
/// The transport's overall timeout: a hung request fails after this.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// An access token's lifetime at the emulator.
pub const HOUR: Duration = Duration::from_secs(3600);

/// One emulator, with a frozen clock that moves together with the client's manual clock.
pub struct Harness {
    pub emu: Emulator,
    pub clock: ManualClock,
    pub store: Arc<MemoryStore>,
}

impl Harness {
    pub fn start() -> Self {
        Self::with_config(Config::default())
    }

    pub fn with_config(config: Config) -> Self {
        let emu = Emulator::start(Config {
            frozen_clock_ms: Some(START_MS),
            ..config
        })
        .expect("emulator starts");
        Self {
            emu,
            clock: ManualClock::new(Instant::from_millis(START_MS)),
            store: Arc::new(MemoryStore::new()),
        }
    }

    /// A builder aimed at the US emulator, with this harness's store and clock.
    pub fn builder(&self) -> ClientBuilder {
        Client::builder(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
            .accounts_origin(self.emu.base_url(DataCenter::Us))
            .clock(self.clock.clone())
            .store_arc(self.store.clone())
    }

    pub fn transport() -> ReqwestTransport {
        ReqwestTransport::builder()
            .timeout(TIMEOUT)
            .build()
            .expect("transport builds")
    }

    pub fn client(&self) -> Client {
        Client::build(self.builder(), Self::transport()).expect("client builds")
    }

    /// A fresh Self Client code for the default user.
    pub fn code(&self) -> String {
        self.emu
            .mint_self_client_code(&SelfClientCode::default())
            .expect("code minted")
    }

    /// Move both clocks.
    pub fn advance(&self, d: Duration) {
        self.clock.advance(d);
        self.emu.advance_clock(d);
    }

    pub fn counters(&self) -> Counters {
        self.emu.counters()
    }

    /// The refresh token stored for `user` (to check it survives every error path).
    pub fn stored_refresh_token(&self, client: &Client, user: &str) -> Option<String> {
        self.store
            .load(&client.key(user))
            .expect("store readable")
            .and_then(|t| t.refresh_token.map(|r| r.expose().to_owned()))
    }

    /// The CRM endpoint of the emulator (production API domain).
    pub fn crm_url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.base_url(DataCenter::Us))
    }
}

/// Wait until `condition` holds (checked every few milliseconds), failing after 10 s.
pub async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
