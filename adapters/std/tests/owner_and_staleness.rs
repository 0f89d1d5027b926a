//! What the client tells its caller beyond a token: whom an exchanged credential was stored
//! under (and why), and why a served token is stale.

mod common;

use std::time::Duration;

use common::{Harness, HttpTransport, TIMEOUT, USER};
use zoho_oauth::core::response::Verdict;
use zoho_oauth::{
    Error, ErrorKind, HttpRequest, HttpResponse, TokenStore, Transport, TransportError, UserSource,
};
use zoho_oauth_emulator::{Fault, SelfClientCode};

const HOUR: Duration = Duration::from_secs(3600);
const FALLBACK: &str = "default";

/// A Self Client code whose scope lacks `aaaserver.profile.READ`.
fn code_without_profile_scope(h: &Harness) -> String {
    h.emu
        .mint_self_client_code(&SelfClientCode {
            scope: "ZohoCRM.modules.ALL".to_owned(),
            ..SelfClientCode::default()
        })
        .expect("code minted")
}

fn stored_users(h: &Harness) -> Vec<String> {
    h.store
        .list()
        .expect("store readable")
        .into_iter()
        .map(|k| k.user)
        .collect()
}

#[test]
fn exchanging_as_owner_stores_under_the_email_user_info_reports() {
    let h = Harness::start();
    let client = h.client();
    let owner = "owner@example.com";
    let zoho_oauth::Exchanged {
        key, token, source, ..
    } = client
        .exchange_grant_as_owner(&h.code_for(owner), None, FALLBACK)
        .unwrap();
    let source = source.expect("the owner was to be learnt");
    assert!(matches!(source, UserSource::Learned), "{source:?}");
    assert_eq!(key, client.key(owner));
    assert_eq!(stored_users(&h), vec![owner.to_owned()]);
    assert_eq!(client.access_token(owner).unwrap(), token);
    assert_eq!(h.counters().authorization_code_requests, 1);
}

#[test]
fn without_the_profile_scope_the_credential_is_stored_once_under_the_fallback_user() {
    let h = Harness::start();
    let client = h.client();
    let zoho_oauth::Exchanged {
        key, token, source, ..
    } = client
        .exchange_grant_as_owner(&code_without_profile_scope(&h), None, FALLBACK)
        .unwrap();
    let source = source.expect("the owner was to be learnt");
    let UserSource::Fallback(why) = source else {
        panic!("{source:?}");
    };
    assert!(matches!(why, Error::Zoho(Verdict::MissingScope)), "{why:?}");
    assert_eq!(key, client.key(FALLBACK));
    assert_eq!(
        h.store.list().unwrap(),
        vec![client.key(FALLBACK)],
        "exactly one credential, no temporary one"
    );
    assert_eq!(client.access_token(FALLBACK).unwrap(), token);
}

#[test]
fn when_user_info_fails_otherwise_the_spent_grant_is_still_stored_under_the_fallback_user() {
    let h = Harness::start();
    let http = HttpTransport::new(TIMEOUT);
    let client = h
        .builder()
        .transport(
            move |req: &HttpRequest<'_>| -> Result<HttpResponse, TransportError> {
                if req.url.contains("/oauth/user/info") {
                    return Err(TransportError::Connect("user info unreachable".into()));
                }
                http.send(req)
            },
        )
        .build()
        .unwrap();
    let zoho_oauth::Exchanged {
        key,
        token: _,
        source,
        ..
    } = client
        .exchange_grant_as_owner(&h.code(), None, FALLBACK)
        .unwrap();
    let source = source.expect("the owner was to be learnt");
    let UserSource::Fallback(why) = source else {
        panic!("{source:?}");
    };
    assert_eq!(why.kind(), ErrorKind::Network, "{why:?}");
    assert_eq!(key.user, FALLBACK);
    assert_eq!(stored_users(&h), vec![FALLBACK.to_owned()]);
}

#[test]
fn a_failed_exchange_as_owner_stores_nothing() {
    let h = Harness::start();
    let client = h.client();
    let code = h.code();
    h.emu.queue_fault(Fault::ServerError, 1);
    let err = client
        .exchange_grant_as_owner(&code, None, FALLBACK)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err:?}");
    assert!(h.store.list().unwrap().is_empty());

    let used = h.code();
    client.exchange_grant(USER, &used).unwrap();
    let err = client
        .exchange_grant_as_owner(&used, None, FALLBACK)
        .unwrap_err();
    assert!(matches!(err, Error::NeedsAuthorization { .. }), "{err:?}");
    assert_eq!(stored_users(&h), vec![USER.to_owned()]);
}

#[test]
fn an_empty_fallback_user_is_refused_before_the_grant_is_spent() {
    let h = Harness::start();
    let client = h.client();
    let err = client
        .exchange_grant_as_owner(&h.code(), None, "")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage, "{err:?}");
    assert_eq!(h.counters().authorization_code_requests, 0);
}

#[test]
fn a_fresh_token_carries_no_refresh_error() {
    let h = Harness::start();
    let client = h.client();
    let first = client.exchange_grant(USER, &h.code()).unwrap();
    let (token, refresh_error) = client.access_token_with_refresh_error(USER).unwrap();
    assert_eq!(token, first);
    assert!(refresh_error.is_none(), "{refresh_error:?}");
}

#[test]
fn a_still_valid_token_served_after_a_failed_refresh_carries_the_refresh_error() {
    let h = Harness::start();
    let client = h.client();
    let first = client.exchange_grant(USER, &h.code()).unwrap();
    // Within the 60 s margin, still valid for 30 s; Zoho's front end fails.
    h.advance(HOUR - Duration::from_secs(30));
    h.emu.queue_fault(Fault::ServerError, 10);
    let (token, refresh_error) = client.access_token_with_refresh_error(USER).unwrap();
    assert_eq!(token, first, "the stored token is served");
    let e = refresh_error.expect("the refresh failure is reported");
    assert_eq!(e.kind(), ErrorKind::Network, "{e:?}");
    assert_eq!(h.counters().refresh_token_requests, 1);

    // During the backoff the token is still served, still stale, without a request.
    let (again, refresh_error) = client.access_token_with_refresh_error(USER).unwrap();
    assert_eq!(again, first);
    assert!(refresh_error.is_some());
    assert_eq!(h.counters().refresh_token_requests, 1);

    // Once Zoho answers again and the backoff (at most 2 s) is over, a fresh token, no error.
    h.emu.clear_faults();
    h.advance(Duration::from_secs(5));
    let (fresh, refresh_error) = client.access_token_with_refresh_error(USER).unwrap();
    assert_ne!(fresh, first);
    assert!(refresh_error.is_none(), "{refresh_error:?}");
}
