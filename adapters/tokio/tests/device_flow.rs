//! The device flow from the async face: the same engine operation as the blocking client's, its
//! 30-second waits on the client's clock (moved with the emulator's, so they take no real time).
//! An approval stores the person's credential; an unapproved flow ends at its expiry without
//! polling past it.

use std::sync::Arc;
use std::time::Duration;

use zoho_oauth::core::response::ReAuthReason;
use zoho_oauth::core::token::GrantKind;
use zoho_oauth::core::Instant;
use zoho_oauth::{Clock, DeviceOptions, Error, ManualClock};
use zoho_oauth_emulator::{
    Config, DataCenter, Emulator, Limits, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
    DEFAULT_USER_EMAIL,
};
use zoho_oauth_tokio::{Client, ReqwestTransport};

const START_MS: u64 = 1_700_000_000_000;
const SCOPES: [&str; 2] = ["ZohoCRM.modules.ALL", "aaaserver.profile.READ"];

/// The client's manual clock, moved together with the emulator's.
#[derive(Clone)]
struct LinkedClock {
    manual: ManualClock,
    emu: Arc<Emulator>,
}

impl Clock for LinkedClock {
    fn now(&self) -> Instant {
        self.manual.now()
    }

    fn sleep(&self, d: Duration) {
        self.manual.advance(d);
        self.emu.advance_clock(d);
    }

    fn sleep_is_virtual(&self) -> bool {
        true
    }
}

fn setup() -> (Arc<Emulator>, Client) {
    let emu = Arc::new(
        Emulator::start(Config {
            frozen_clock_ms: Some(START_MS),
            limits: Limits {
                device_poll_interval: Duration::from_secs(30),
                device_code_lifetime: Duration::from_secs(300),
                ..Limits::default()
            },
            ..Config::default()
        })
        .unwrap(),
    );
    let builder = Client::builder(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
        .accounts_origin(emu.base_url(DataCenter::Us))
        .clock(LinkedClock {
            manual: ManualClock::new(Instant::from_millis(START_MS)),
            emu: Arc::clone(&emu),
        });
    let transport = ReqwestTransport::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    (emu, Client::build(builder, transport).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_device_flow_stores_the_persons_credential() {
    let (emu, client) = setup();
    let mut login = client
        .device_login(&SCOPES, DeviceOptions::default())
        .await
        .unwrap();
    emu.approve_device(&login.user_code, DEFAULT_USER_EMAIL)
        .unwrap();

    let done = client.device_wait(&mut login, None).await.unwrap();
    assert_eq!(done.key.user, DEFAULT_USER_EMAIL);
    let c = emu.counters();
    assert_eq!(c.device_code_requests, 1);
    // The first poll waits one interval and finds the approval: one poll, not a busy loop.
    assert_eq!(c.device_token_requests, 1, "{:?}", c.device_polls);
    let status = client.status().await.unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].grant, Some(GrantKind::Device));
    // Kept and refreshed like any other credential.
    assert!(
        client
            .refresh(DEFAULT_USER_EMAIL, true)
            .await
            .unwrap()
            .minted
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unapproved_device_flow_expires_without_polling_past_its_expiry() {
    let (emu, client) = setup();
    let mut login = client
        .device_login(&SCOPES, DeviceOptions::default())
        .await
        .unwrap();
    let err = client.device_wait(&mut login, None).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::NeedsAuthorization {
                reason: ReAuthReason::DeviceCodeExpired,
                ..
            }
        ),
        "{err:?}"
    );
    // 300 s of codes at one poll per 30 s at most: never more than ten polls, none after expiry.
    let c = emu.counters();
    assert!(c.device_token_requests <= 10, "{:?}", c.device_polls);
    assert_eq!(c.device_polls.get("expired").copied().unwrap_or(0), 0);
    assert!(client.users().await.unwrap().is_empty());
}
