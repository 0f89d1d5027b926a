//! Several data centres and environments at once: each its own port, none accepting another's tokens.

mod common;

use common::*;
use zoho_oauth_emulator::{
    ClientSpec, Config, DataCenter, Emulator, Environment, SelfClientCode, DEFAULT_CLIENT_ID,
};

fn us_and_eu() -> Emulator {
    Emulator::start(Config::with_data_centers([DataCenter::Us, DataCenter::Eu])).unwrap()
}

fn code_at(emu: &Emulator, data_center: DataCenter, environment: Environment) -> String {
    emu.mint_self_client_code(&SelfClientCode {
        data_center,
        environment,
        ..SelfClientCode::default()
    })
    .unwrap()
}

#[test]
fn each_data_centre_listens_on_its_own_loopback_port() {
    let emu = us_and_eu();
    let us = emu.base_url(DataCenter::Us);
    let eu = emu.base_url(DataCenter::Eu);
    assert_ne!(us, eu);
    assert!(us.starts_with("http://127.0.0.1:") && eu.starts_with("http://127.0.0.1:"));
    assert_eq!(emu.data_centers(), vec![DataCenter::Us, DataCenter::Eu]);
    assert!(emu.try_base_url(DataCenter::Jp).is_err());
}

#[test]
fn the_api_domain_of_a_token_is_its_data_centres_port() {
    let emu = us_and_eu();
    let code = code_at(&emu, DataCenter::Eu, Environment::Production);
    let json = exchange_at(emu.base_url(DataCenter::Eu), &code).json();
    assert_eq!(json["api_domain"], emu.base_url(DataCenter::Eu));
    let org = get_with_token(
        &format!("{}/crm/v8/org", text(&json, "api_domain")),
        &text(&json, "access_token"),
    );
    assert_eq!(org.status, 200, "the api_domain is callable as is");
}

#[test]
fn a_client_registered_at_one_data_centre_is_unknown_at_another() {
    let emu = Emulator::start(Config {
        data_centers: vec![DataCenter::Us, DataCenter::Eu],
        ..Config::default()
    })
    .unwrap();
    let code = code_at(&emu, DataCenter::Us, Environment::Production);
    assert_eq!(
        exchange_at(emu.base_url(DataCenter::Eu), &code).error(),
        "invalid_client"
    );
    assert!(
        emu.mint_self_client_code(&SelfClientCode {
            data_center: DataCenter::Eu,
            ..SelfClientCode::default()
        })
        .is_err(),
        "no code for a client the data centre does not know"
    );
}

#[test]
fn a_code_from_one_data_centre_is_invalid_at_another() {
    let emu = us_and_eu();
    let code = code_at(&emu, DataCenter::Us, Environment::Production);
    assert_eq!(
        exchange_at(emu.base_url(DataCenter::Eu), &code).error(),
        "invalid_code"
    );
}

#[test]
fn a_refresh_token_from_one_data_centre_is_invalid_at_another() {
    let emu = us_and_eu();
    let code = code_at(&emu, DataCenter::Us, Environment::Production);
    let rt = text(
        &exchange_at(emu.base_url(DataCenter::Us), &code).json(),
        "refresh_token",
    );
    let reply = post_form(
        &format!("{}/oauth/v2/token", emu.base_url(DataCenter::Eu)),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", zoho_oauth_emulator::DEFAULT_CLIENT_SECRET),
            ("refresh_token", &rt),
        ],
    );
    assert_eq!(reply.error(), "invalid_code");
}

#[test]
fn an_access_token_from_one_data_centre_is_refused_at_another() {
    let emu = us_and_eu();
    let code = code_at(&emu, DataCenter::Us, Environment::Production);
    let access = text(
        &exchange_at(emu.base_url(DataCenter::Us), &code).json(),
        "access_token",
    );
    let eu_org = format!("{}/crm/v8/org", emu.base_url(DataCenter::Eu));
    let reply = get_with_token(&eu_org, &access);
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["code"], "INVALID_TOKEN");
    let eu_info = format!("{}/oauth/user/info", emu.base_url(DataCenter::Eu));
    assert_eq!(get_with_token(&eu_info, &access).status, 401);
}

#[test]
fn an_access_token_from_one_environment_is_refused_in_another() {
    let emu = start();
    let base = emu.base_url(DataCenter::Us).to_owned();
    let code = code_at(&emu, DataCenter::Us, Environment::Sandbox);
    let json = exchange_at(&base, &code).json();
    let access = text(&json, "access_token");
    assert_eq!(
        json["api_domain"],
        emu.api_domain(DataCenter::Us, Environment::Sandbox)
    );
    assert_eq!(
        get_with_token(&format!("{base}/sandbox/crm/v8/org"), &access).status,
        200
    );
    for elsewhere in ["", "/developer"] {
        let reply = get_with_token(&format!("{base}{elsewhere}/crm/v8/org"), &access);
        assert_eq!(reply.status, 401);
        assert_eq!(reply.json()["code"], "INVALID_TOKEN");
    }
    let users = get_with_token(&format!("{base}/crm/v8/users?type=CurrentUser"), &access);
    assert_eq!(users.status, 401);
}

#[test]
fn the_authorization_redirect_names_its_own_data_centre() {
    let emu = us_and_eu();
    emu.register_client(ClientSpec {
        data_center: DataCenter::Eu,
        ..ClientSpec::default()
    })
    .unwrap();
    let url = format!(
        "{}/oauth/v2/auth?client_id={DEFAULT_CLIENT_ID}&response_type=code&redirect_uri={}&scope=ZohoCRM.modules.ALL",
        emu.base_url(DataCenter::Eu),
        zoho_oauth_emulator::DEFAULT_REDIRECT_URI
    );
    let reply = get(&url, None);
    assert_eq!(reply.status, 302);
    let location = reply.location.unwrap();
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(location.split_once('?').unwrap().1).unwrap();
    assert!(query.contains(&("location".into(), "eu".into())));
    assert!(query.contains(&(
        "accounts-server".into(),
        emu.base_url(DataCenter::Eu).into()
    )));
}

#[test]
fn a_given_port_is_used_for_the_first_data_centre_and_the_next_ones_follow() {
    // Find a free pair of ports by binding and releasing them; retry a few times if raced.
    for _ in 0..10 {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        if port == u16::MAX {
            continue;
        }
        let config = Config {
            port: Some(port),
            ..Config::with_data_centers([DataCenter::Us, DataCenter::Eu])
        };
        if let Ok(emu) = Emulator::start(config) {
            assert_eq!(
                emu.base_url(DataCenter::Us),
                format!("http://127.0.0.1:{port}")
            );
            assert_eq!(
                emu.base_url(DataCenter::Eu),
                format!("http://127.0.0.1:{}", port + 1)
            );
            return;
        }
    }
    panic!("could not find two free consecutive ports in ten tries");
}
