//! Zoho's multi-DC: one client holds credentials of users homed in several data centres, each
//! exchanged and refreshed at its own data centre; a data centre not allowed is refused before any
//! secret is sent there.

mod common;

use common::{follow_authorization, HttpTransport, TIMEOUT};
use zoho_oauth::core::DataCenter as CoreDc;
use zoho_oauth::{Client, Error};
use zoho_oauth_emulator::{
    ClientSpec, Config, Consent, DataCenter, Emulator, UserSpec, DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI,
};

const EU_USER: &str = "eu.user@example.com";

fn emulator() -> Emulator {
    let emu = Emulator::start(Config {
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
        ..Config::default()
    })
    .unwrap();
    emu.set_consent(Consent {
        user: EU_USER.into(),
        ..Consent::default()
    })
    .unwrap();
    emu
}

fn client(emu: &Emulator, allow_eu: bool) -> Client {
    let mut b = Client::builder(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
        .accounts_origin(emu.base_url(DataCenter::Us))
        .transport(HttpTransport::new(TIMEOUT));
    if allow_eu {
        b = b.allow_data_center_at(CoreDc::Eu, None, emu.base_url(DataCenter::Eu));
    }
    b.build().unwrap()
}

#[test]
fn a_login_of_a_user_homed_elsewhere_is_exchanged_and_refreshed_at_their_data_centre() {
    let emu = emulator();
    let client = client(&emu, true);
    let login = client.begin_login(
        &["ZohoCRM.modules.ALL", "aaaserver.profile.READ"],
        DEFAULT_REDIRECT_URI,
    );
    let callback = follow_authorization(&login.url);
    assert!(callback.contains("location=eu"), "{callback}");
    let done = client.complete_login(&login, &callback, None).unwrap();
    assert_eq!(done.key.user, EU_USER);
    assert_eq!(done.key.data_center, CoreDc::Eu);
    assert_eq!(done.token.api_domain(), emu.base_url(DataCenter::Eu));

    // The credential is found by its user alone, and refreshed at the EU accounts server.
    let refreshed = client.refresh(EU_USER, true).unwrap();
    assert!(refreshed.minted);
    assert_eq!(refreshed.token.api_domain(), emu.base_url(DataCenter::Eu));
    assert_eq!(client.status().unwrap()[0].data_center, CoreDc::Eu);
    assert_eq!(emu.counters().refresh_token_requests, 1);
    client.revoke(EU_USER).unwrap();
    assert!(client.users().unwrap().is_empty());
}

#[test]
fn a_login_redirected_to_a_data_centre_not_allowed_is_refused_before_any_exchange() {
    let emu = emulator();
    let client = client(&emu, false);
    let login = client.begin_login(&["ZohoCRM.modules.ALL"], DEFAULT_REDIRECT_URI);
    let callback = follow_authorization(&login.url);
    let err = client.complete_login(&login, &callback, None).unwrap_err();
    // The emulated EU origin is unknown to this client, but the redirect's `location` names the
    // centre: the refusal says which one to allow, as it does against Zoho's own origins.
    assert!(
        matches!(err, Error::DataCenterNotAllowed { found: CoreDc::Eu }),
        "{err:?}"
    );
    assert_eq!(emu.counters().token_requests, 0);
}
