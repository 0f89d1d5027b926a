//! Every flow of the client against the emulator: exchange, refresh, user info, API calls, login, revoke.

mod common;

use std::time::Duration;

use common::{follow_authorization, Harness, HttpTransport, TIMEOUT, USER};
use zoho_oauth::core::authorize::RedirectError;
use zoho_oauth::core::region::TrustError;
use zoho_oauth::core::response::ReAuthReason;
use zoho_oauth::core::DataCenter as CoreDc;
use zoho_oauth::{Client, Error, ErrorKind, InputError, Method, TokenStore};
use zoho_oauth_emulator::{
    Config, Consent, DataCenter, Environment, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI, DEFAULT_USER_ZUID,
};

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn a_self_client_grant_is_exchanged_stored_and_served_from_the_cache() {
    let h = Harness::start();
    let client = h.client();
    let token = client.exchange_grant(USER, &h.code()).unwrap();
    assert_eq!(token.api_domain(), h.emu.base_url(DataCenter::Us));
    assert!(token.secret().starts_with("1000."));
    assert_eq!(client.users().unwrap(), vec![USER.to_owned()]);
    assert!(h.stored_refresh_token(&client, USER).is_some());

    let again = client.access_token(USER).unwrap();
    assert_eq!(again, token);
    let c = h.counters();
    assert_eq!(
        (c.authorization_code_requests, c.refresh_token_requests),
        (1, 0)
    );
}

#[test]
fn a_used_grant_token_asks_for_a_new_authorization() {
    let h = Harness::start();
    let client = h.client();
    let code = h.code();
    client.exchange_grant(USER, &code).unwrap();
    let err = client
        .exchange_grant("other@example.com", &code)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NeedsAuthorization {
                reason: ReAuthReason::GrantUsedOrExpired,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::ReAuthorize);
    assert!(err.what().contains("already used or has expired"), "{err}");
    assert!(err.todo().contains("generate a new grant code"), "{err}");
    // The failed exchange stored nothing and did not touch the first credential.
    assert_eq!(client.users().unwrap(), vec![USER.to_owned()]);
}

#[test]
fn a_token_is_refreshed_once_it_is_within_the_margin_of_its_expiry() {
    let h = Harness::start();
    // The margin alone (no per-credential spread), to see its edge to the second.
    let client = h.builder().refresh_spread(Duration::ZERO).build().unwrap();
    let first = client.exchange_grant(USER, &h.code()).unwrap();

    h.advance(HOUR - Duration::from_secs(61));
    assert_eq!(
        client.access_token(USER).unwrap(),
        first,
        "still fresh: no refresh"
    );
    assert_eq!(h.counters().refresh_token_requests, 0);

    h.advance(Duration::from_secs(2));
    let second = client.access_token(USER).unwrap();
    assert_ne!(second, first);
    assert!(second.expires_at() > first.expires_at());
    assert_eq!(h.counters().refresh_token_requests, 1);
    assert_eq!(client.access_token(USER).unwrap(), second);
    assert_eq!(h.counters().refresh_token_requests, 1);
}

#[test]
fn an_added_refresh_token_is_used_on_first_access() {
    let h = Harness::start();
    let minting = h.client();
    minting.exchange_grant(USER, &h.code()).unwrap();
    let refresh = h.stored_refresh_token(&minting, USER).unwrap();

    let other = common::Harness::start_sharing(&h);
    let client = other.client();
    client.add_refresh_token(USER, &refresh).unwrap();
    assert_eq!(
        other.stored_refresh_token(&client, USER).as_deref(),
        Some(refresh.as_str())
    );
    let token = client.access_token(USER).unwrap();
    assert!(token.secret().starts_with("1000."));
    assert_eq!(h.counters().refresh_token_requests, 1);
}

#[test]
fn forcing_a_refresh_mints_a_new_token_even_when_fresh() {
    let h = Harness::start();
    let client = h.client();
    let first = client.exchange_grant(USER, &h.code()).unwrap();
    assert_eq!(client.refresh(USER, false).unwrap().token, first);
    let forced = client.refresh(USER, true).unwrap().token;
    assert_ne!(forced, first);
    assert_eq!(h.counters().refresh_token_requests, 1);
}

#[test]
fn several_users_are_kept_apart_under_their_own_keys() {
    let h = Harness::start();
    let client = h.client();
    let a = client.exchange_grant(USER, &h.code()).unwrap();
    let b = client
        .exchange_grant("bob@example.com", &h.code_for("bob@example.com"))
        .unwrap();
    assert_ne!(a, b);
    assert_eq!(client.access_token(USER).unwrap(), a);
    assert_eq!(client.access_token("bob@example.com").unwrap(), b);
    assert_eq!(
        client.users().unwrap(),
        vec!["bob@example.com".to_owned(), USER.to_owned()]
    );
    let status = client.status().unwrap();
    assert_eq!(status.len(), 2);
    let bob = status.iter().find(|s| s.user == "bob@example.com").unwrap();
    let bob_refresh = h.stored_refresh_token(&client, "bob@example.com").unwrap();
    assert!(bob_refresh.ends_with(&bob.hint));
    assert_eq!(bob.hint.len(), 4);
    assert_eq!(bob.access_expires_at, Some(b.expires_at()));
    assert_eq!(bob.mints_left, 9, "the exchange was the first mint of ten");
    assert!(bob.needs_authorization.is_none());
    assert_eq!(client.key("bob@example.com").user, "bob@example.com");
    assert_eq!(client.key("bob@example.com").client_id, DEFAULT_CLIENT_ID);
}

#[test]
fn an_unknown_user_is_reported_with_the_known_ones() {
    let h = Harness::start();
    let client = h.client();
    let err = client.access_token("nobody@example.com").unwrap_err();
    assert!(
        matches!(&err, Error::UnknownUser { known, .. } if known.is_empty()),
        "{err:?}"
    );
    client.exchange_grant(USER, &h.code()).unwrap();
    match client.access_token("nobody@example.com").unwrap_err() {
        Error::UnknownUser { user, known } => {
            assert_eq!(user, "nobody@example.com");
            assert_eq!(known, vec![USER.to_owned()]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        client.access_token("x").unwrap_err().kind(),
        ErrorKind::Usage
    );
}

#[test]
fn user_info_describes_the_owner_of_the_credential() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).unwrap();
    let info = client.user_info(USER).unwrap();
    assert_eq!(info.email, USER);
    assert_eq!(info.zuid, DEFAULT_USER_ZUID);
    assert!(!info.display_name.is_empty());
}

#[test]
fn the_request_helper_calls_the_api_domain_with_the_zoho_oauthtoken_header() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).unwrap();
    let resp = client
        .request(USER, Method::Get, "/crm/v8/org", None)
        .unwrap();
    assert_eq!(resp.status, 200);
    assert!(String::from_utf8_lossy(&resp.body).contains("company_name"));

    let absolute = format!(
        "{}/crm/v8/users?type=CurrentUser",
        h.emu.base_url(DataCenter::Us)
    );
    let resp = client.request(USER, Method::Get, &absolute, None).unwrap();
    assert_eq!(resp.status, 200);
    assert!(String::from_utf8_lossy(&resp.body).contains(USER));

    let err = client
        .request(USER, Method::Get, "https://evil.example/crm/v8/org", None)
        .unwrap_err();
    assert!(
        matches!(err, Error::Input(InputError::ApiPath { .. })),
        "{err:?}"
    );
    assert_eq!(
        h.counters().api_calls,
        2,
        "nothing was sent to another origin"
    );
}

#[test]
fn an_invalid_token_answer_refreshes_once_and_retries_once() {
    let h = Harness::start();
    let client = h.client();
    let before = client.exchange_grant(USER, &h.code()).unwrap();
    h.emu.expire_access_tokens();
    let resp = client
        .request(USER, Method::Get, "/crm/v8/org", None)
        .unwrap();
    assert_eq!(resp.status, 200);
    let c = h.counters();
    assert_eq!(
        (c.api_unauthorized, c.refresh_token_requests, c.api_calls),
        (1, 1, 2)
    );
    assert_ne!(client.access_token(USER).unwrap(), before);
}

#[test]
fn an_api_call_whose_refresh_token_was_revoked_asks_for_authorization_and_keeps_the_stored_token() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).unwrap();
    // The token is revoked at Zoho behind the client's back: the refresh itself fails.
    let refresh = h.stored_refresh_token(&client, USER).unwrap();
    let resp = common::agent(TIMEOUT)
        .post(format!(
            "{}/oauth/v2/token/revoke",
            h.emu.base_url(DataCenter::Us)
        ))
        .send_form([("token", refresh.as_str())])
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let err = client
        .request(USER, Method::Get, "/crm/v8/org", None)
        .unwrap_err();
    assert!(matches!(err, Error::NeedsAuthorization { .. }), "{err:?}");
    assert_eq!(
        h.counters().api_calls,
        1,
        "no second call without a new token"
    );
    // The stored refresh token is kept: only revoke() deletes.
    assert_eq!(h.stored_refresh_token(&client, USER), Some(refresh));
    assert!(client.status().unwrap()[0].needs_authorization.is_some());
}

#[test]
fn revoke_revokes_at_zoho_then_deletes_locally() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).unwrap();
    let refresh = h.stored_refresh_token(&client, USER).unwrap();
    client.revoke(USER).unwrap();
    assert_eq!(h.counters().revocations, 1);
    assert!(client.users().unwrap().is_empty());
    assert!(matches!(
        client.access_token(USER),
        Err(Error::UnknownUser { .. })
    ));

    // Zoho no longer honours it either.
    let other = common::Harness::start_sharing(&h).client();
    other.add_refresh_token(USER, &refresh).unwrap();
    assert!(matches!(
        other.access_token(USER),
        Err(Error::NeedsAuthorization { .. })
    ));
}

#[test]
fn revoking_an_unknown_user_names_the_known_ones_and_sends_nothing() {
    let h = Harness::start();
    let client = h.client();
    client.exchange_grant(USER, &h.code()).unwrap();
    match client.revoke("ghost@example.com").unwrap_err() {
        Error::UnknownUser { user, known } => {
            assert_eq!(user, "ghost@example.com");
            assert_eq!(known, vec![USER.to_owned()]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.counters().revocations, 0);
    assert_eq!(client.users().unwrap(), vec![USER.to_owned()]);
}

#[test]
fn a_browser_login_learns_the_user_from_user_info() {
    let h = Harness::start();
    let client = h.client();
    let login = client.begin_login(
        &["ZohoCRM.modules.ALL", "aaaserver.profile.READ"],
        DEFAULT_REDIRECT_URI,
    );
    assert_eq!(login.state.len(), 32);
    assert!(login.state.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(login.url.starts_with(&format!(
        "{}/oauth/v2/auth?",
        h.emu.base_url(DataCenter::Us)
    )));
    assert!(login.url.contains("access_type=offline"));
    assert_ne!(
        client.begin_login(&["x"], DEFAULT_REDIRECT_URI).state,
        login.state
    );

    let callback = follow_authorization(&login.url);
    assert!(callback.starts_with(DEFAULT_REDIRECT_URI));
    let zoho_oauth::Exchanged { key, token, .. } =
        client.complete_login(&login, &callback, None).unwrap();
    assert_eq!(key.user, USER);
    assert_eq!(client.access_token(USER).unwrap(), token);
    assert_eq!(client.user_info(USER).unwrap().email, USER);
}

#[test]
fn a_browser_login_can_be_stored_under_a_given_user() {
    let h = Harness::start();
    let client = h.client();
    let login = client.begin_login(&["ZohoCRM.modules.ALL"], DEFAULT_REDIRECT_URI);
    let callback = follow_authorization(&login.url);
    let query = callback.split_once('?').unwrap().1;
    let key = client
        .complete_login(&login, query, Some("crm@example.com"))
        .unwrap()
        .key;
    assert_eq!(key, client.key("crm@example.com"));
    assert_eq!(client.users().unwrap(), vec!["crm@example.com".to_owned()]);
}

#[test]
fn a_redirect_with_another_state_is_refused_before_any_exchange() {
    let h = Harness::start();
    let client = h.client();
    let mine = client.begin_login(&["ZohoCRM.modules.ALL"], DEFAULT_REDIRECT_URI);
    let theirs = client.begin_login(&["ZohoCRM.modules.ALL"], DEFAULT_REDIRECT_URI);
    let callback = follow_authorization(&theirs.url);
    let err = client.complete_login(&mine, &callback, None).unwrap_err();
    assert!(
        matches!(err, Error::Redirect(RedirectError::StateMismatch)),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert_eq!(h.counters().token_requests, 0);
    assert!(client.users().unwrap().is_empty());
}

#[test]
fn a_denied_login_is_reported_as_denied() {
    let h = Harness::start();
    h.emu
        .set_consent(Consent {
            deny: true,
            ..Consent::default()
        })
        .unwrap();
    let client = h.client();
    let login = client.begin_login(&["ZohoCRM.modules.ALL"], DEFAULT_REDIRECT_URI);
    let callback = follow_authorization(&login.url);
    let err = client.complete_login(&login, &callback, None).unwrap_err();
    assert!(
        matches!(err, Error::Redirect(RedirectError::Denied { .. })),
        "{err:?}"
    );
    assert_eq!(h.counters().token_requests, 0);
}

#[test]
fn a_redirect_naming_another_accounts_server_is_refused_with_a_custom_origin() {
    let h = Harness::start();
    let client = h.client();
    let login = client.begin_login(&["ZohoCRM.modules.ALL"], DEFAULT_REDIRECT_URI);
    let forged = format!(
        "{DEFAULT_REDIRECT_URI}?code=1000.abc&location=us&accounts-server=https%3A%2F%2Faccounts.zoho.com&state={}",
        login.state
    );
    let err = client.complete_login(&login, &forged, None).unwrap_err();
    assert!(
        matches!(err, Error::Redirect(RedirectError::UntrustedAccountsServer)),
        "{err:?}"
    );
    assert_eq!(h.counters().token_requests, 0);
}

/// A client configured exactly as for Zoho's US data centre, its hosts routed to the emulator.
fn zoho_us_client(h: &Harness) -> Client {
    Client::builder(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
        .data_center(CoreDc::Us)
        .transport(HttpTransport::new(TIMEOUT).via_zoho_dns(&h.emu))
        .clock(h.clock.clone())
        .store_arc(h.store.clone())
        .build()
        .unwrap()
}

#[test]
fn with_zoho_hosts_the_api_domain_of_the_configured_data_centre_is_trusted() {
    let h = Harness::start();
    let client = zoho_us_client(&h);
    let token = client.exchange_grant(USER, &h.code()).unwrap();
    assert_eq!(token.api_domain(), "https://www.zohoapis.com");
    let resp = client
        .request(USER, Method::Get, "/crm/v8/org", None)
        .unwrap();
    assert_eq!(resp.status, 200);
}

#[test]
fn a_token_of_another_environment_is_a_clear_mismatch_and_is_not_stored() {
    let h = Harness::start();
    let client = zoho_us_client(&h);
    let code = h
        .emu
        .mint_self_client_code(&zoho_oauth_emulator::SelfClientCode {
            environment: Environment::Sandbox,
            ..Default::default()
        })
        .unwrap();
    let err = client.exchange_grant(USER, &code).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ApiDomain {
                error: TrustError::Mismatch { .. },
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("belongs to us sandbox, not us production"),
        "{text}"
    );
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert!(client.users().unwrap().is_empty());
}

#[test]
fn a_login_redirected_to_another_data_centre_is_a_clear_mismatch_before_any_exchange() {
    let h = Harness::with_config(Config::with_data_centers([DataCenter::Us, DataCenter::Eu]));
    let client = zoho_us_client(&h);
    let login = client.begin_login(&["ZohoCRM.modules.ALL"], DEFAULT_REDIRECT_URI);
    assert!(login
        .url
        .starts_with("https://accounts.zoho.com/oauth/v2/auth?"));
    let from_eu = format!(
        "{DEFAULT_REDIRECT_URI}?code=1000.abc&location=eu&accounts-server=https%3A%2F%2Faccounts.zoho.eu&state={}",
        login.state
    );
    let err = client.complete_login(&login, &from_eu, None).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DataCenterNotAllowed {
                found: zoho_oauth::core::DataCenter::Eu
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("data centre eu"), "{err}");
    assert_eq!(h.counters().token_requests, 0);
}

#[test]
fn a_stored_credential_of_another_data_centre_is_refused_not_sent_elsewhere() {
    let h = Harness::start();
    let client = zoho_us_client(&h);
    client.exchange_grant(USER, &h.code()).unwrap();
    // Someone edits the stored api_domain to another centre (a bad import, a shared store).
    let key = client.key(USER);
    let mut token = h.store.load(&key).unwrap().unwrap();
    token.api_domain = "https://www.zohoapis.eu".try_into().unwrap();
    zoho_oauth::store::conformance::save(&*h.store, &key, &token).unwrap();
    let fresh = zoho_us_client(&h);
    let err = fresh.access_token(USER).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ApiDomain {
                error: TrustError::Mismatch { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(h.counters().api_calls, 0);
}

#[test]
fn building_without_a_transport_says_how_to_get_one() {
    let err = Client::builder("1000.X", "secret").build().unwrap_err();
    assert!(matches!(err, Error::Config(_)));
    assert!(err.to_string().contains("transport"), "{err}");
    let err = Client::builder("1000.X", "s")
        .accounts_origin("ftp://nowhere")
        .transport(HttpTransport::new(TIMEOUT))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

#[test]
fn a_browser_login_sends_a_pkce_challenge_and_the_exchange_its_verifier() {
    let h = Harness::start();
    let client = h.client();
    let login = client.begin_login(&["ZohoCRM.modules.ALL"], DEFAULT_REDIRECT_URI);
    assert!(login.url.contains("&code_challenge="), "{}", login.url);
    assert!(
        login.url.contains("&code_challenge_method=S256"),
        "{}",
        login.url
    );
    let callback = follow_authorization(&login.url);
    // The emulator checks the verifier against the challenge; a missing or wrong one is invalid_code.
    client
        .complete_login(&login, &callback, Some("pkce@example.com"))
        .unwrap();
    assert_eq!(h.counters().authorization_code_requests, 1);

    // Turned off, the URL carries no challenge and the exchange no verifier.
    let plain = client.begin_login_with(
        &["ZohoCRM.modules.ALL"],
        DEFAULT_REDIRECT_URI,
        zoho_oauth::LoginOptions::default().pkce(false),
    );
    assert!(!plain.url.contains("code_challenge"), "{}", plain.url);
    let callback = follow_authorization(&plain.url);
    client
        .complete_login(&plain, &callback, Some("plain@example.com"))
        .unwrap();
}
