//! Runs every example against its own emulator and checks what Zoho saw, not only what it printed.

use std::sync::Arc;

use zoho_oauth::core::response::Verdict;
use zoho_oauth::core::token::GrantKind;
use zoho_oauth::store::conformance::{self, LockScope, Profile, UnreleasedSaves};
use zoho_oauth_emulator::{
    ClientSpec, Config, Counters, DataCenter, DEFAULT_SOID, DEFAULT_USER_EMAIL,
};
use zoho_oauth_examples::custom_store::MapStore;
use zoho_oauth_examples::{
    background_refresh, client_credentials, custom_store, custom_transport, device_login,
    many_threads, multi_dc_login, self_client, web_login, Backend, Outcome,
};

/// Runs `example` on a fresh emulator; returns its summary and the emulator's counters.
fn run(example: fn(&Backend) -> Outcome) -> (String, Counters) {
    let backend = Backend::start_emulator().expect("the emulator starts");
    let summary = example(&backend).unwrap_or_else(|e| panic!("the example failed: {e}"));
    let emu = backend.emulator().expect("an emulator backend");
    (summary, emu.counters())
}

#[test]
fn self_client_exchanges_one_grant_and_reads_the_current_user_from_the_crm() {
    let (summary, seen) = run(self_client::run_on);
    assert_eq!(seen.authorization_code_requests, 1);
    assert_eq!(seen.refresh_token_requests, 0);
    assert_eq!(seen.api_calls, 1);
    assert!(
        summary.contains(&format!("<{DEFAULT_USER_EMAIL}>")),
        "{summary}"
    );
}

#[test]
fn web_login_stores_two_users_learnt_from_user_info_and_logs_one_out() {
    let (summary, seen) = run(web_login::run_on);
    assert_eq!(seen.authorizations, 2);
    assert_eq!(seen.authorization_code_requests, 2);
    assert_eq!(seen.revocations, 1);
    assert!(
        summary.ends_with(r#"logged out: ["bo@example.com"]"#),
        "{summary}"
    );
    assert!(summary.contains(r#"["ana@example.com", "bo@example.com"]"#));
}

#[test]
fn many_threads_at_expiry_send_exactly_one_refresh_and_share_its_token() {
    let (summary, seen) = run(many_threads::run_on);
    assert_eq!(seen.refresh_token_requests, 1, "{summary}");
    assert!(
        summary.contains("all got the same new token: true"),
        "{summary}"
    );
}

#[test]
fn a_closure_transport_carries_the_exchange_and_the_api_call() {
    let (summary, seen) = run(custom_transport::run_on);
    assert_eq!(seen.token_requests, 1);
    assert_eq!(seen.api_calls, 1);
    assert!(summary.starts_with("the CRM answered 200"), "{summary}");
}

#[test]
fn a_second_client_on_the_custom_store_reuses_the_stored_token() {
    let (summary, seen) = run(custom_store::run_on);
    // The exchange and the forced refresh; the second client sent nothing.
    assert_eq!(seen.token_requests, 2);
    assert!(summary.contains("reused the token: true"), "{summary}");
}

#[test]
fn the_background_refresher_renews_the_token_once_before_it_expires() {
    let (summary, seen) = run(background_refresh::run_on);
    // Only the refresher's request: the caller found the new token without refreshing itself.
    assert_eq!(seen.refresh_token_requests, 1);
    assert!(summary.contains("HTTP 200; new token: true"), "{summary}");
}

#[test]
fn device_login_polls_until_the_person_approves_after_the_code_is_shown_and_stores_a_device_credential(
) {
    let (summary, seen) = run(device_login::run_on);
    assert_eq!(seen.device_code_requests, 1, "{summary}");
    assert_eq!(seen.device_approvals, 1, "{summary}");
    // The person approved only once the device was waiting: it heard "pending" first, then
    // got its tokens on a later poll, never polling faster than the (emulated) floor.
    let polls = |answer: &str| seen.device_polls.get(answer).copied().unwrap_or(0);
    assert!(
        polls("authorization_pending") >= 1,
        "{:?}",
        seen.device_polls
    );
    assert_eq!(polls("success"), 1, "{:?}", seen.device_polls);
    assert_eq!(polls("slow_down"), 0, "{:?}", seen.device_polls);
    assert_eq!(seen.refresh_token_requests, 0);
    assert!(
        summary.starts_with(&format!(
            "stored the credential of {DEFAULT_USER_EMAIL} (grant {:?})",
            GrantKind::Device
        )),
        "{summary}"
    );
    assert!(
        summary.ends_with(&format!("current user is <{DEFAULT_USER_EMAIL}>")),
        "{summary}"
    );
}

#[test]
fn client_credentials_asks_again_with_the_client_credentials_at_expiry_and_never_refreshes() {
    let (summary, seen) = run(client_credentials::run_on);
    assert_eq!(seen.client_credentials_requests, 2, "{summary}");
    assert_eq!(seen.refresh_token_requests, 0, "{summary}");
    assert_eq!(seen.token_requests, 2, "{summary}");
    assert_eq!(seen.api_calls, 2, "{summary}");
    assert!(
        summary.contains(&format!("(grant {:?})", GrantKind::ClientCredentials)),
        "{summary}"
    );
    assert!(summary.ends_with("client's credentials: true"), "{summary}");
}

#[test]
fn client_credentials_without_a_soid_for_a_client_of_several_orgs_is_missing_org_info_saying_to_pass_soid(
) {
    // The client reaches two organisations, so Zoho must be told which one.
    let config = Config {
        clients: vec![ClientSpec {
            orgs: vec![DEFAULT_SOID.to_owned(), "ZohoCRM.10000000002".to_owned()],
            ..ClientSpec::default()
        }],
        ..Config::default()
    };
    let backend = Backend::start_emulator_with(config).expect("the emulator starts");
    let err = client_credentials::run_with(&backend, None).unwrap_err();
    let err = err
        .downcast_ref::<zoho_oauth::Error>()
        .unwrap_or_else(|| panic!("not the library's error: {err}"));
    assert!(
        matches!(err, zoho_oauth::Error::Zoho(Verdict::MissingOrgInfo)),
        "{err:?}"
    );
    assert!(err.to_string().contains("pass soid"), "{err}");
    let seen = backend.emulator().expect("an emulator backend").counters();
    assert_eq!(seen.client_credentials_requests, 1);
    assert_eq!(seen.mints, 0);
    assert_eq!(seen.api_calls, 0);
}

#[test]
fn multi_dc_login_keys_an_eu_user_at_eu_and_refuses_a_user_of_a_centre_not_allowed_before_any_exchange(
) {
    let backend = Backend::start_emulator_with(multi_dc_login::emulator_config())
        .expect("the emulator starts");
    let summary = multi_dc_login::run_on(&backend).unwrap_or_else(|e| panic!("failed: {e}"));
    let emu = backend.emulator().expect("an emulator backend");
    let seen = emu.counters();
    assert_eq!(seen.authorizations, 2, "{summary}");
    // Only the EU person's code was exchanged; the IN person's never left the client.
    assert_eq!(seen.authorization_code_requests, 1, "{summary}");
    assert_eq!(seen.token_requests, 1, "{summary}");
    let eu_api = emu.base_url(DataCenter::Eu);
    assert_ne!(eu_api, emu.base_url(DataCenter::Us));
    assert!(
        summary.contains(&format!(
            "{} at eu: API calls to {eu_api} answered 200",
            multi_dc_login::EU_PERSON
        )),
        "{summary}"
    );
    assert!(
        summary.contains(&format!(
            "{}: refused before the exchange",
            multi_dc_login::IN_PERSON
        )),
        "{summary}"
    );
    assert!(
        summary.ends_with(&format!(
            r#"stored: ["{} at eu"]"#,
            multi_dc_login::EU_PERSON
        )),
        "{summary}"
    );
}

#[test]
fn the_map_store_passes_every_conformance_check_with_a_per_key_lock() {
    let store = Arc::new(MapStore::default());
    let damaged = store.clone();
    conformance::run_all(
        &*store,
        store.clone(),
        Profile {
            damage: Some(&mut |key| damaged.put_raw(key, b"not a token set")),
            ..Profile::new(UnreleasedSaves::Kept, LockScope::Key)
        },
    );
}
