//! Faults of the network and of Zoho: a still-valid token keeps being served, errors are typed,
//! retries are bounded, and nothing stored is ever lost.

mod common;

use std::time::{Duration, SystemTime};

use common::{Harness, USER};
use zoho_oauth::core::response::{Fault as CoreFault, Verdict};
use zoho_oauth::{Client, Error, ErrorKind};
use zoho_oauth_emulator::Fault;

const HOUR: Duration = Duration::from_secs(3600);

/// Faults that make a token request fail without an answer Zoho would give.
const OUTAGES: [Fault; 6] = [
    Fault::ServerError,
    Fault::HtmlOk,
    Fault::TruncatedBody,
    Fault::ConnectionReset,
    Fault::CloseWithoutResponse,
    Fault::Hang,
];

fn setup() -> (Harness, Client, zoho_oauth::AccessToken, String) {
    let h = Harness::start();
    let client = h.client();
    let token = client.exchange_grant(USER, &h.code()).unwrap();
    let refresh = h.stored_refresh_token(&client, USER).unwrap();
    h.emu.reset_counters();
    (h, client, token, refresh)
}

#[test]
fn during_an_outage_a_still_valid_token_keeps_being_served() {
    for fault in OUTAGES {
        let (h, client, old, refresh) = setup();
        h.advance(HOUR - Duration::from_secs(30)); // due, still valid for 30 s
        h.emu.queue_fault(fault, 10);
        for _ in 0..3 {
            let served = client
                .access_token(USER)
                .unwrap_or_else(|e| panic!("{fault:?}: {e:?}"));
            assert_eq!(served, old, "{fault:?}");
        }
        // One attempt, then the backoff keeps the hot path quiet: no hammering.
        assert_eq!(h.counters().refresh_token_requests, 1, "{fault:?}");
        assert_eq!(
            h.stored_refresh_token(&client, USER),
            Some(refresh),
            "{fault:?}"
        );

        // When the outage ends and the backoff has passed, the next call refreshes.
        h.emu.clear_faults();
        h.advance(Duration::from_secs(2));
        let new = client.access_token(USER).unwrap();
        assert_ne!(new, old, "{fault:?}");
    }
}

#[test]
fn with_no_valid_token_outages_give_a_typed_network_error_after_bounded_retries() {
    for fault in OUTAGES {
        let (h, client, _, refresh) = setup();
        h.advance(HOUR);
        let attempts = if fault == Fault::Hang { 1 } else { 10 };
        h.emu.queue_fault(fault, attempts);
        let result = client.access_token(USER);
        if fault == Fault::Hang {
            // One hung attempt times out; the retry (after a backoff the manual clock skips) succeeds.
            assert!(result.is_ok(), "{result:?}");
            assert_eq!(h.counters().refresh_token_requests, 2);
            continue;
        }
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Network, "{fault:?}: {err:?}");
        match (fault, &err) {
            (
                Fault::ServerError,
                Error::Zoho(Verdict::Retryable(
                    CoreFault::Html { status: 500 } | CoreFault::ServerError { status: 500 },
                )),
            ) => {}
            (Fault::HtmlOk, Error::Zoho(Verdict::Retryable(CoreFault::Html { status: 200 }))) => {}
            (
                Fault::TruncatedBody | Fault::ConnectionReset | Fault::CloseWithoutResponse,
                Error::Transport(_),
            ) => {}
            (Fault::TruncatedBody, Error::Zoho(Verdict::Retryable(CoreFault::Truncated))) => {}
            _ => panic!("{fault:?} gave {err:?}"),
        }
        // Three attempts (the default), then the error.
        assert_eq!(h.counters().refresh_token_requests, 3, "{fault:?}");
        assert_eq!(
            h.stored_refresh_token(&client, USER),
            Some(refresh),
            "{fault:?}"
        );
        assert!(client.status().unwrap()[0].needs_authorization.is_none());
    }
}

#[test]
fn a_backoff_longer_than_the_wait_limit_returns_the_error_instead_of_sleeping() {
    let h = Harness::start();
    let client = h
        .builder()
        .max_wait_in_call(Duration::ZERO)
        .build()
        .unwrap();
    client.exchange_grant(USER, &h.code()).unwrap();
    h.advance(HOUR);
    h.emu.queue_fault(Fault::ServerError, 10);
    let before = h.clock_now();
    let err = client.access_token(USER).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert_eq!(h.counters().refresh_token_requests, 1);
    assert_eq!(h.clock_now(), before, "did not sleep");
}

#[test]
fn a_throttle_is_a_typed_error_and_no_request_is_sent_until_the_window_passes() {
    let (h, client, _, refresh) = setup();
    h.advance(HOUR);
    h.emu.queue_fault(Fault::Throttle, 1);
    let now = SystemTime::UNIX_EPOCH + Duration::from_millis(h.clock_now());
    let err = client.access_token(USER).unwrap_err();
    let Error::Throttled { retry_at, local } = err else {
        panic!("{err:?}");
    };
    assert!(!local);
    assert!(
        retry_at >= now + Duration::from_secs(60),
        "waits for the window"
    );
    assert_eq!(
        client.access_token(USER).unwrap_err().kind(),
        ErrorKind::Throttled
    );
    let c = h.counters();
    assert_eq!(
        (c.refresh_token_requests, c.throttled),
        (1, 1),
        "no retry during the block"
    );
    assert_eq!(h.stored_refresh_token(&client, USER), Some(refresh));

    h.advance(Duration::from_secs(601));
    assert!(client.access_token(USER).is_ok());
}

#[test]
fn the_local_mint_budget_refuses_before_zoho_would_throttle() {
    let (h, client, _, _) = setup();
    // The exchange was mint 1 of 10; nine forced refreshes use the rest.
    for _ in 0..9 {
        client.refresh(USER, true).unwrap();
    }
    let err = client.refresh(USER, true).unwrap_err();
    assert!(
        matches!(err, Error::Throttled { local: true, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("budget"), "{err}");
    let c = h.counters();
    assert_eq!((c.refresh_token_requests, c.throttled), (9, 0));
    // The current token is still served meanwhile.
    assert!(client.access_token(USER).is_ok());
}

#[test]
fn a_revoked_refresh_token_needs_authorization_and_stays_stored() {
    let (h, client, _, refresh) = setup();
    let resp = common::agent(common::TIMEOUT)
        .post(format!(
            "{}/oauth/v2/token/revoke",
            h.emu.base_url(zoho_oauth_emulator::DataCenter::Us)
        ))
        .send_form([("token", refresh.as_str())])
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    h.advance(HOUR);
    let err = client.access_token(USER).unwrap_err();
    assert!(matches!(err, Error::NeedsAuthorization { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::ReAuthorize);
    // Asking again does not hammer Zoho with a dead token.
    assert!(client.access_token(USER).is_err());
    assert_eq!(h.counters().refresh_token_requests, 1);
    assert_eq!(h.stored_refresh_token(&client, USER), Some(refresh));
    assert!(client.status().unwrap()[0].needs_authorization.is_some());

    // A new grant replaces it and clears the state.
    client.exchange_grant(USER, &h.code()).unwrap();
    assert!(client.access_token(USER).is_ok());
    assert!(client.status().unwrap()[0].needs_authorization.is_none());
}

#[test]
fn a_failing_exchange_stores_nothing_and_keeps_an_existing_credential() {
    let (h, client, old, refresh) = setup();
    h.emu.queue_fault(Fault::ServerError, 1);
    let err = client.exchange_grant(USER, &h.code()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err:?}");
    assert_eq!(h.stored_refresh_token(&client, USER), Some(refresh));
    assert_eq!(client.access_token(USER).unwrap(), old);
}
