//! Zoho's multi-DC clients: one client id enabled at several data centres, one secret or one per
//! data centre, and logins of users whose accounts live elsewhere.

mod common;

use std::collections::BTreeMap;

use common::*;
use zoho_oauth_emulator::{
    ClientSpec, Config, Consent, ControlError, DataCenter, Emulator, SelfClientCode, UserSpec,
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI,
};

const EU_SECRET: &str = "eu-secret-000000000000000000000000000000";

fn start_with(client: ClientSpec) -> Emulator {
    Emulator::start(Config {
        data_centers: vec![DataCenter::Us, DataCenter::Eu, DataCenter::In],
        clients: vec![client],
        users: users_with_one_in_eu(),
        ..frozen()
    })
    .unwrap()
}

fn multi_dc(secrets: BTreeMap<DataCenter, String>) -> Emulator {
    start_with(ClientSpec {
        multi_dc: vec![DataCenter::Eu],
        secrets,
        ..ClientSpec::default()
    })
}

fn code_at(emu: &Emulator, data_center: DataCenter) -> String {
    emu.mint_self_client_code(&SelfClientCode {
        data_center,
        ..SelfClientCode::default()
    })
    .unwrap()
}

fn exchange_with_secret(base: &str, code: &str, secret: &str) -> Reply {
    post_form(
        &format!("{base}/oauth/v2/token"),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", secret),
            ("code", code),
        ],
    )
}

#[test]
fn a_multi_dc_client_uses_one_secret_at_every_data_centre_it_is_enabled_at() {
    let emu = multi_dc(BTreeMap::new());
    for dc in [DataCenter::Us, DataCenter::Eu] {
        let base = emu.base_url(dc);
        let tokens = exchange_at(base, &code_at(&emu, dc)).json();
        assert_eq!(tokens["api_domain"], base, "{tokens}");
        assert!(client_credentials(base, &[]).json()["access_token"].is_string());
    }
    let india = emu.base_url(DataCenter::In);
    assert_eq!(client_credentials(india, &[]).error(), "invalid_client");
    assert_eq!(device_code(india, &[]).error(), "invalid_client");
}

#[test]
fn a_multi_dc_client_may_have_a_secret_of_its_own_at_a_data_centre() {
    let emu = multi_dc(BTreeMap::from([(DataCenter::Eu, EU_SECRET.to_owned())]));
    let eu = emu.base_url(DataCenter::Eu);
    let us = emu.base_url(DataCenter::Us);
    let code = code_at(&emu, DataCenter::Eu);
    assert_eq!(
        exchange_with_secret(eu, &code, DEFAULT_CLIENT_SECRET).error(),
        "invalid_client_secret"
    );
    assert!(exchange_with_secret(eu, &code, EU_SECRET).json()["access_token"].is_string());
    let code = code_at(&emu, DataCenter::Us);
    assert_eq!(
        exchange_with_secret(us, &code, EU_SECRET).error(),
        "invalid_client_secret"
    );
    assert!(
        exchange_with_secret(us, &code, DEFAULT_CLIENT_SECRET).json()["access_token"].is_string()
    );
}

#[test]
fn each_data_centre_lists_its_own_entry_of_a_multi_dc_client() {
    let emu = multi_dc(BTreeMap::from([(DataCenter::Eu, EU_SECRET.to_owned())]));
    let info = get(
        &format!("{}/_emulator/info", emu.base_url(DataCenter::Us)),
        None,
    )
    .json();
    let entries: Vec<(String, String)> = info["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (text(c, "data_center"), text(c, "secret")))
        .collect();
    assert_eq!(
        entries,
        [
            ("us".to_owned(), DEFAULT_CLIENT_SECRET.to_owned()),
            ("eu".to_owned(), EU_SECRET.to_owned())
        ]
    );
}

#[test]
fn a_secret_for_a_data_centre_the_client_is_not_enabled_at_is_refused() {
    let emu = multi_dc(BTreeMap::new());
    let error = emu
        .register_client(ClientSpec {
            id: "1000.OTHER".into(),
            secrets: BTreeMap::from([(DataCenter::In, "s".to_owned())]),
            ..ClientSpec::default()
        })
        .unwrap_err();
    assert!(error.to_string().contains("multi_dc"), "{error}");
}

#[test]
fn a_user_home_must_be_an_emulated_data_centre() {
    let emu = multi_dc(BTreeMap::new());
    let error = emu
        .register_user(UserSpec {
            email: "jp@example.com".into(),
            home: Some(DataCenter::Jp),
            ..UserSpec::default()
        })
        .unwrap_err();
    assert!(matches!(
        error,
        ControlError::DataCenterNotEmulated {
            data_center: DataCenter::Jp
        }
    ));
}

fn login(emu: &Emulator, at: DataCenter) -> Reply {
    let mut query = login_query("offline");
    query.push(("prompt", "consent"));
    authorize_at(emu.base_url(at), &query)
}

#[test]
fn a_login_of_a_user_homed_elsewhere_redirects_with_that_data_centres_location() {
    let emu = multi_dc(BTreeMap::new());
    emu.set_consent(Consent {
        user: EU_USER.into(),
        ..Consent::default()
    })
    .unwrap();
    let reply = login(&emu, DataCenter::Us);
    let params = redirect_params(&reply, DEFAULT_REDIRECT_URI);
    let eu = emu.base_url(DataCenter::Eu);
    assert_eq!(param(&params, "location"), Some("eu"));
    assert_eq!(param(&params, "accounts-server"), Some(eu));
    let code = param(&params, "code").unwrap();
    let exchange = |base: &str| exchange_web_at(base, code, DEFAULT_REDIRECT_URI, None);
    assert_eq!(
        exchange(emu.base_url(DataCenter::Us)).error(),
        "invalid_code",
        "the code belongs to the user's data centre"
    );
    let tokens = exchange(eu).json();
    assert_eq!(tokens["api_domain"], eu);
}

#[test]
fn a_login_of_a_user_homed_where_the_client_is_not_enabled_gets_an_error_page() {
    let emu = start_with(ClientSpec::default());
    emu.set_consent(Consent {
        user: EU_USER.into(),
        ..Consent::default()
    })
    .unwrap();
    let reply = login(&emu, DataCenter::Us);
    assert_eq!(reply.status, 400);
    assert!(reply.location.is_none());
    assert!(reply.body.contains("multi-DC"), "{}", reply.body);
}

#[test]
fn a_user_without_a_home_is_at_home_wherever_they_sign_in() {
    let emu = multi_dc(BTreeMap::new());
    let params = redirect_params(&login(&emu, DataCenter::Eu), DEFAULT_REDIRECT_URI);
    assert_eq!(param(&params, "location"), Some("eu"));
}
