//! The device flow end to end: a device shows a user code, the person approves it elsewhere, the
//! device polls on the core's schedule — slowing down when told, following `other_dc` to the
//! person's data centre — and stores the credential under its owner. A denial and an expiry end
//! it with their reason.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{agent, HttpTransport, START_MS, TIMEOUT};
use zoho_oauth::core::response::ReAuthReason;
use zoho_oauth::core::{DataCenter as CoreDc, Instant};
use zoho_oauth::{
    Client, Clock, DeviceOptions, Error, HttpRequest, HttpResponse, ManualClock, Transport,
    TransportError,
};
use zoho_oauth_emulator::{
    ClientSpec, Config, DataCenter, Emulator, Limits, UserSpec, DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
};

const EU_USER: &str = "eu.user@example.com";
const SCOPES: [&str; 2] = ["ZohoCRM.modules.ALL", "aaaserver.profile.READ"];

/// The client's manual clock, moved together with the emulator's: a device's 30-second waits
/// take no real time.
#[derive(Clone)]
struct LinkedClock {
    manual: ManualClock,
    control: String,
}

impl Clock for LinkedClock {
    fn now(&self) -> Instant {
        self.manual.now()
    }

    fn sleep(&self, d: Duration) {
        self.manual.advance(d);
        agent(TIMEOUT)
            .post(format!("{}/clock/advance", self.control))
            .header("Content-Type", "application/json")
            .send(format!(r#"{{"ms":{}}}"#, d.as_millis()))
            .expect("the emulator's clock moves");
    }
}

fn emulator(interval: Duration) -> Emulator {
    Emulator::start(Config {
        frozen_clock_ms: Some(START_MS),
        data_centers: vec![DataCenter::Us, DataCenter::Eu],
        clients: vec![ClientSpec {
            multi_dc: vec![DataCenter::Eu],
            ..ClientSpec::default()
        }],
        users: vec![
            UserSpec::default(),
            UserSpec {
                email: EU_USER.into(),
                zuid: 20_000_000_001,
                home: Some(DataCenter::Eu),
                ..UserSpec::default()
            },
        ],
        limits: Limits {
            device_poll_interval: interval,
            ..Limits::default()
        },
        ..Config::default()
    })
    .unwrap()
}

/// A transport that runs `after_first_poll` once the first device poll was answered: the person
/// acting on the verification page while the device waits.
fn acting_after_first_poll(after_first_poll: impl Fn() + Send + Sync + 'static) -> impl Transport {
    let inner = HttpTransport::new(TIMEOUT);
    let done = Mutex::new(false);
    move |req: &HttpRequest<'_>| -> Result<HttpResponse, TransportError> {
        let resp = inner.send(req);
        if req.url.ends_with("/oauth/v3/device/token")
            && !std::mem::replace(&mut *done.lock().unwrap(), true)
        {
            after_first_poll();
        }
        resp
    }
}

fn client(emu: &Emulator, transport: impl Transport + 'static, floor: Duration) -> Client {
    let control = format!("{}/_emulator", emu.base_url(DataCenter::Us));
    Client::builder(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
        .accounts_origin(emu.base_url(DataCenter::Us))
        .allow_data_center_at(CoreDc::Eu, None, emu.base_url(DataCenter::Eu))
        .transport(transport)
        .clock(LinkedClock {
            manual: ManualClock::new(Instant::from_millis(START_MS)),
            control,
        })
        .device_poll_floor(floor)
        .build()
        .unwrap()
}

fn decide(control: &str, what: &str, user_code: &str, user: &str) {
    agent(TIMEOUT)
        .post(format!("{control}/device/{what}"))
        .header("Content-Type", "application/json")
        .send(format!(r#"{{"user_code":"{user_code}","user":"{user}"}}"#))
        .expect("the person's decision reaches the emulator");
}

#[test]
fn a_device_flow_slows_down_follows_other_dc_and_stores_the_persons_credential() {
    // Zoho tells the device to poll every 20 s but enforces 30: the device meets slow_down. (A
    // test may shorten the device's floor; the library's default never polls under 30 s.)
    let emu = emulator(Duration::from_secs(20));
    let control = format!("{}/_emulator", emu.base_url(DataCenter::Us));
    let code = Arc::new(Mutex::new(String::new()));
    let (c, ctl) = (Arc::clone(&code), control.clone());
    let transport =
        acting_after_first_poll(move || decide(&ctl, "approve", &c.lock().unwrap(), EU_USER));
    let client = client(&emu, transport, Duration::from_secs(10));

    let mut login = client
        .device_login(&SCOPES, DeviceOptions::default())
        .unwrap();
    assert!(!login.user_code.is_empty());
    assert!(
        login
            .verification_url
            .starts_with(emu.base_url(DataCenter::Us)),
        "{}",
        login.verification_url
    );
    *code.lock().unwrap() = login.user_code.clone();

    let done = client.device_wait(&mut login, None).unwrap();
    assert_eq!(done.key.user, EU_USER);
    assert_eq!(done.key.data_center, CoreDc::Eu);
    assert_eq!(done.token.api_domain(), emu.base_url(DataCenter::Eu));
    let c = emu.counters();
    let polls = |answer: &str| c.device_polls.get(answer).copied().unwrap_or(0);
    assert!(polls("slow_down") >= 1, "{:?}", c.device_polls);
    assert_eq!(polls("other_dc"), 1, "{:?}", c.device_polls);
    assert_eq!(c.device_approvals, 1);
    // The credential is the person's, kept and refreshed like any other.
    assert!(client.refresh(EU_USER, true).unwrap().minted);
    assert_eq!(
        client.status().unwrap()[0].grant,
        Some(zoho_oauth::core::token::GrantKind::Device)
    );
}

#[test]
fn a_denied_device_flow_ends_with_the_denial_and_stores_nothing() {
    let emu = emulator(Duration::from_secs(30));
    let control = format!("{}/_emulator", emu.base_url(DataCenter::Us));
    let code = Arc::new(Mutex::new(String::new()));
    let (c, ctl) = (Arc::clone(&code), control.clone());
    let transport =
        acting_after_first_poll(move || decide(&ctl, "deny", &c.lock().unwrap(), EU_USER));
    let client = client(&emu, transport, Duration::from_secs(30));
    let mut login = client
        .device_login(&SCOPES, DeviceOptions::default())
        .unwrap();
    *code.lock().unwrap() = login.user_code.clone();
    let err = client.device_wait(&mut login, None).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NeedsAuthorization {
                reason: ReAuthReason::DeviceAccessDenied,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.todo().contains("start the device flow again"),
        "{}",
        err.todo()
    );
    assert!(client.users().unwrap().is_empty());
}

#[test]
fn an_unapproved_device_flow_expires_without_polling_past_its_expiry() {
    let emu = emulator(Duration::from_secs(30));
    let client = client(&emu, HttpTransport::new(TIMEOUT), Duration::from_secs(30));
    let mut login = client
        .device_login(&SCOPES, DeviceOptions::default())
        .unwrap();
    let err = client.device_wait(&mut login, None).unwrap_err();
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
    // Five minutes at one poll per 30 s: at most 9 polls (the first goes 30 s in).
    assert!(
        emu.counters().device_token_requests <= 9,
        "{:?}",
        emu.counters().device_token_requests
    );
}
