//! Client-credentials credentials: no refresh token; a new access token is asked for with the
//! client's own credentials when the current one is due — single flight, the mint budget and the
//! throttle window as for any credential.

mod common;

use std::sync::Barrier;
use std::time::Duration;

use common::Harness;
use zoho_oauth::core::token::GrantKind;
use zoho_oauth::{Error, Method};
use zoho_oauth_emulator::DEFAULT_SOID;

const JOB: &str = "nightly-export";
const HOUR: Duration = Duration::from_secs(3600);
const SCOPE: &str = "ZohoCRM.modules.ALL";

#[test]
fn a_client_credentials_credential_is_minted_on_first_use_and_asked_for_again_when_due() {
    let h = Harness::start();
    let client = h.client();
    let added = client
        .add_client_credentials(JOB, SCOPE, Some(DEFAULT_SOID))
        .unwrap();
    assert!(
        added.token.is_none(),
        "nothing is asked of Zoho until first use"
    );
    assert_eq!(h.counters().token_requests, 0);

    let first = client.access_token(JOB).unwrap();
    assert_eq!(h.counters().client_credentials_requests, 1);
    // Usable on the API like any token.
    let org = client
        .request(JOB, Method::Get, "/crm/v8/org", None)
        .unwrap();
    assert_eq!(org.status, 200);

    let status = &client.status().unwrap()[0];
    assert_eq!(status.grant, Some(GrantKind::ClientCredentials));
    // Due: asked for again (not refreshed: there is no refresh token).
    h.advance(HOUR - Duration::from_secs(30));
    let second = client.access_token(JOB).unwrap();
    assert_ne!(second, first);
    assert_eq!(h.counters().refresh_token_requests, 0);
    // The first mint has left the 10-minute window: one mint counts.
    assert_eq!(client.status().unwrap()[0].mints_left, 9);
}

#[test]
fn sixteen_threads_at_expiry_ask_once() {
    let h = Harness::start();
    let client = h.client();
    client
        .add_client_credentials(JOB, SCOPE, Some(DEFAULT_SOID))
        .unwrap();
    client.access_token(JOB).unwrap();
    h.advance(HOUR);
    let before = h.counters().token_requests;
    let barrier = Barrier::new(16);
    let tokens: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    client.access_token(JOB).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(h.counters().token_requests, before + 1);
    assert!(tokens.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn a_client_reaching_several_orgs_without_a_soid_gets_a_typed_error_that_says_to_pass_one() {
    let h = Harness::start();
    h.emu
        .register_client(zoho_oauth_emulator::ClientSpec {
            orgs: vec![DEFAULT_SOID.to_owned(), "ZohoCRM.10000000002".to_owned()],
            ..Default::default()
        })
        .unwrap();
    let client = h.client();
    client.add_client_credentials(JOB, SCOPE, None).unwrap();
    let err = client.access_token(JOB).unwrap_err();
    assert!(matches!(err, Error::Zoho(_)), "{err:?}");
    assert!(err.to_string().contains("soid"), "{err}");
}
