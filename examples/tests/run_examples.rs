//! Runs every example against its own emulator and checks what Zoho saw, not only what it printed.

use std::sync::Arc;

use zoho_oauth::conformance::{self, LockScope, Profile, UnreleasedSaves};
use zoho_oauth_emulator::{Counters, DEFAULT_USER_EMAIL};
use zoho_oauth_examples::custom_store::MapStore;
use zoho_oauth_examples::{
    background_refresh, custom_store, custom_transport, many_threads, self_client, web_login,
    Backend, Outcome,
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
fn the_map_store_passes_every_conformance_check_with_a_per_key_lock() {
    let store = Arc::new(MapStore::default());
    conformance::run_all(
        &*store,
        store.clone(),
        Profile::new(UnreleasedSaves::Kept, LockScope::Key),
    );
}
