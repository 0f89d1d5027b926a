//! Starting, stopping and running many emulators in one process.

mod common;

use std::net::TcpStream;

use common::*;
use zoho_oauth_emulator::{ClientSpec, Config, DataCenter, Emulator, StartError, UserSpec};

fn address(emu: &Emulator) -> String {
    emu.base_url(DataCenter::Us)
        .trim_start_matches("http://")
        .to_owned()
}

#[test]
fn the_defaults_make_a_user_test_three_lines_long() {
    let emu = Emulator::start(Config::default()).unwrap();
    let json = tokens(&emu);
    assert!(json["refresh_token"].is_string());
}

#[test]
fn many_emulators_run_side_by_side_without_sharing_state() {
    let emulators: Vec<Emulator> = (0..6).map(|_| start()).collect();
    let mut urls: Vec<&str> = emulators
        .iter()
        .map(|e| e.base_url(DataCenter::Us))
        .collect();
    urls.sort_unstable();
    urls.dedup();
    assert_eq!(urls.len(), 6, "each has its own port");
    let rt = text(&tokens(&emulators[0]), "refresh_token");
    assert_eq!(refresh(&emulators[1], &rt).error(), "invalid_code");
    assert_eq!(emulators[1].counters().mints, 0);
}

#[test]
fn stop_releases_the_port() {
    let emu = start();
    let address = address(&emu);
    assert!(TcpStream::connect(&address).is_ok());
    emu.stop();
    assert!(TcpStream::connect(&address).is_err());
}

#[test]
fn dropping_the_emulator_stops_it() {
    let address = {
        let emu = start();
        address(&emu)
    };
    assert!(TcpStream::connect(&address).is_err());
}

#[test]
fn a_stopper_from_another_thread_ends_wait() {
    let emu = start();
    let stopper = emu.stopper();
    let address = address(&emu);
    let waiter = std::thread::spawn(move || emu.wait());
    stopper.stop();
    waiter.join().unwrap();
    assert!(TcpStream::connect(&address).is_err());
}

#[test]
fn a_configuration_without_data_centres_is_refused() {
    let error = Emulator::start(Config {
        data_centers: vec![],
        ..Config::default()
    })
    .unwrap_err();
    assert!(matches!(error, StartError::NoDataCenter));
    assert!(error.to_string().contains("Config::data_centers"));
}

#[test]
fn a_repeated_data_centre_is_refused() {
    let error = Emulator::start(Config {
        data_centers: vec![DataCenter::Us, DataCenter::Us],
        ..Config::default()
    })
    .unwrap_err();
    assert!(matches!(
        error,
        StartError::DuplicateDataCenter(DataCenter::Us)
    ));
}

#[test]
fn a_client_at_a_data_centre_not_emulated_is_refused() {
    let error = Emulator::start(Config {
        clients: vec![ClientSpec {
            data_center: DataCenter::Jp,
            ..ClientSpec::default()
        }],
        ..Config::default()
    })
    .unwrap_err();
    assert!(matches!(error, StartError::Config(_)), "{error}");
}

#[test]
fn a_consent_user_who_is_not_registered_is_refused() {
    let error = Emulator::start(Config {
        users: vec![UserSpec {
            email: "someone@example.com".into(),
            ..UserSpec::default()
        }],
        ..Config::default()
    })
    .unwrap_err();
    assert!(error.to_string().contains("user@example.com"), "{error}");
}

#[test]
fn a_busy_port_is_a_bind_error_that_says_what_to_do() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let error = Emulator::start(Config {
        port: Some(port),
        ..Config::default()
    })
    .unwrap_err();
    assert!(matches!(error, StartError::Bind { .. }));
    assert!(error.to_string().contains("choose another port"), "{error}");
}

#[test]
fn the_banner_names_every_origin_and_the_default_credentials() {
    let emu = Emulator::start(Config::with_data_centers([DataCenter::Us, DataCenter::Eu])).unwrap();
    let banner = emu.banner();
    assert!(banner.contains(emu.base_url(DataCenter::Us)));
    assert!(banner.contains(emu.base_url(DataCenter::Eu)));
    assert!(banner.contains(zoho_oauth_emulator::DEFAULT_CLIENT_ID));
    assert!(banner.contains(zoho_oauth_emulator::DEFAULT_CLIENT_SECRET));
}

#[tokio::test]
async fn an_emulator_starts_and_stops_inside_an_async_test() {
    let emu = start();
    let base = emu.base_url(DataCenter::Us).to_owned();
    let json = tokio::task::spawn_blocking(move || {
        let code = text(
            &post_empty(&format!("{base}/_emulator/codes")).json(),
            "code",
        );
        exchange_at(&base, &code).json()
    })
    .await
    .unwrap();
    assert!(json["access_token"].is_string());
    emu.stop();
}
