//! Scenarios of the state machine, one rule each, driven with canned Zoho answers on a virtual clock.

use core::time::Duration;

use zoho_oauth_core::machine::{MachineError, State, WaitReason};
use zoho_oauth_core::response::{ReAuthReason, Verdict};
use zoho_oauth_core::{
    BufferTooSmall, Config, Credentials, DataCenter, Event, Instant, Machine, Origin, Poll,
    RequestKind, TokenSet,
};

const T0: u64 = 1_700_000_000_000;
const EXCHANGE_OK: &[u8] = br#"{"access_token":"1000.access.one","refresh_token":"1000.refresh.one","scope":"ZohoCRM.modules.ALL","api_domain":"https:\/\/www.zohoapis.com","token_type":"Bearer","expires_in":3600}"#;
const EXCHANGE_ONLINE: &[u8] = br#"{"access_token":"1000.access.online","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":3600}"#;
const INVALID_CODE: &[u8] = br#"{"error":"invalid_code"}"#;
const THROTTLE: &[u8] = br#"{"error":"Access Denied","error_description":"You have made too many requests continuously. Please try again after some time.","status":"failure"}"#;
const ACCESS_DENIED: &[u8] = br#"{"error":"access_denied"}"#;
const HTML: &[u8] = b"<html><head><title>502 Bad Gateway</title></head></html>";

fn at(ms_after_t0: u64) -> Instant {
    Instant::from_millis(T0 + ms_after_t0)
}

fn secs(s: u64) -> u64 {
    s * 1000
}

fn refresh_ok(access: &str, expires_in: u64) -> Vec<u8> {
    format!(r#"{{"access_token":"{access}","token_type":"Bearer","expires_in":{expires_in}}}"#)
        .into_bytes()
}

fn machine() -> Machine {
    let credentials =
        Credentials::new("1000.CLIENT", "s3cret", Origin::Zoho(DataCenter::Eu)).unwrap();
    Machine::new(credentials, Config::default())
}

/// A machine that exchanged a grant at `T0`: access token valid for an hour.
fn exchanged() -> Machine {
    let mut m = machine();
    m.set_grant("1000.grant", None).unwrap();
    assert_eq!(m.poll(at(0)), Poll::Send(RequestKind::Exchange));
    assert_eq!(
        m.handle_response(at(0), 200, EXCHANGE_OK, 0),
        Ok(Event::Exchanged)
    );
    m
}

/// Poll at `now`, expect a refresh, answer it with a new token.
fn refresh(m: &mut Machine, now: Instant, access: &str) {
    assert_eq!(m.poll(now), Poll::Send(RequestKind::Refresh));
    assert_eq!(
        m.handle_response(now, 200, &refresh_ok(access, 3600), 0),
        Ok(Event::Refreshed)
    );
}

#[test]
fn an_empty_machine_has_nothing_to_do() {
    let mut m = machine();
    assert_eq!(m.poll(at(0)), Poll::Empty);
    assert_eq!(m.state(), State::Empty);
    assert_eq!(m.wake_at(at(0)), None);
    assert_eq!(m.access_token(at(0)), None);
}

#[test]
fn a_grant_is_exchanged_at_the_configured_accounts_server() {
    let mut m = machine();
    m.set_grant("1000.grant", Some("https://app.example/cb"))
        .unwrap();
    assert_eq!(m.poll(at(0)), Poll::Send(RequestKind::Exchange));
    let mut buf = [0u8; 2048];
    let req = m.write_request(&mut buf).unwrap();
    assert_eq!(req.url, "https://accounts.zoho.eu/oauth/v2/token");
    let body = core::str::from_utf8(req.body).unwrap();
    assert_eq!(
        body,
        "grant_type=authorization_code&client_id=1000.CLIENT&client_secret=s3cret&code=1000.grant\
         &redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
    );
}

#[test]
fn the_credentials_redirect_uri_is_the_default_for_a_grant() {
    let credentials = Credentials::new("1000.CLIENT", "s3cret", Origin::Zoho(DataCenter::Us))
        .unwrap()
        .with_redirect_uri("https://app.example/cb")
        .unwrap();
    let mut m = Machine::new(credentials, Config::default());
    m.set_grant("1000.grant", None).unwrap();
    let _ = m.poll(at(0));
    let mut buf = [0u8; 2048];
    let req = m.write_request(&mut buf).unwrap();
    assert!(req
        .body
        .ends_with(b"&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"));
}

#[test]
fn an_exchange_stores_every_field_and_records_a_mint() {
    let m = exchanged();
    let t = m.token().unwrap();
    assert_eq!(
        t.refresh_token.as_ref().unwrap().expose(),
        "1000.refresh.one"
    );
    assert_eq!(m.access_token(at(0)), Some("1000.access.one"));
    assert_eq!(t.api_domain, "https://www.zohoapis.com");
    assert_eq!(t.scope, "ZohoCRM.modules.ALL");
    assert_eq!((t.issued_at, t.expires_at), (at(0), at(secs(3600))));
    assert_eq!(t.mints.iter().collect::<Vec<_>>(), [at(0)]);
    assert_eq!(m.state(), State::Idle);
}

#[test]
fn a_second_poll_while_in_flight_waits() {
    let mut m = exchanged();
    assert_eq!(m.poll(at(secs(3540))), Poll::Send(RequestKind::Refresh));
    for later in [secs(3540), secs(3600), secs(99_999)] {
        assert_eq!(
            m.poll(at(later)),
            Poll::Wait {
                until: None,
                reason: WaitReason::InFlight
            }
        );
    }
    assert_eq!(m.state(), State::InFlight(RequestKind::Refresh));
}

#[test]
fn writing_or_answering_without_a_send_is_refused_and_changes_nothing() {
    let mut m = exchanged();
    let mut buf = [0u8; 2048];
    assert_eq!(m.write_request(&mut buf), Err(MachineError::NotInFlight));
    assert_eq!(
        m.handle_response(at(1), 200, EXCHANGE_OK, 0),
        Err(Verdict::NotInFlight)
    );
    assert_eq!(m.handle_transport_error(at(1), 0), Verdict::NotInFlight);
    assert_eq!(m.access_token(at(1)), Some("1000.access.one"));
    assert_eq!(m.state(), State::Idle);
    assert!(Verdict::NotInFlight.to_string().contains("Poll::Send"));
}

#[test]
fn a_small_buffer_reports_the_size_needed_and_a_retry_succeeds() {
    let mut m = exchanged();
    let _ = m.poll(at(secs(3600)));
    let mut small = [0u8; 16];
    let Err(MachineError::Buffer(BufferTooSmall { required })) = m.write_request(&mut small) else {
        panic!("expected BufferTooSmall");
    };
    assert_eq!(small, [0u8; 16]);
    let mut exact = vec![0u8; required];
    assert!(m.write_request(&mut exact).is_ok());
}

#[test]
fn the_refresh_is_due_a_margin_before_expiry_and_the_token_serves_until_then() {
    let mut m = exchanged();
    let due = at(secs(3600 - 60));
    assert_eq!(
        m.poll(at(0)),
        Poll::Wait {
            until: Some(due),
            reason: WaitReason::Fresh
        }
    );
    assert_eq!(m.wake_at(at(0)), Some(due));
    assert_eq!(
        m.poll(at(secs(3539))),
        Poll::Wait {
            until: Some(due),
            reason: WaitReason::Fresh
        }
    );
    assert_eq!(m.poll(due), Poll::Send(RequestKind::Refresh));
}

#[test]
fn the_margin_is_never_more_than_half_the_lifetime() {
    let mut m = machine();
    m.set_grant("1000.grant", None).unwrap();
    let _ = m.poll(at(0));
    let short = br#"{"access_token":"1000.a","refresh_token":"1000.r","expires_in":60}"#;
    assert_eq!(
        m.handle_response(at(0), 200, short, 0),
        Ok(Event::Exchanged)
    );
    assert_eq!(
        m.poll(at(0)),
        Poll::Wait {
            until: Some(at(secs(30))),
            reason: WaitReason::Fresh
        }
    );
}

#[test]
fn a_refresh_keeps_the_refresh_token_and_updates_only_what_zoho_sent() {
    let mut m = exchanged();
    refresh(&mut m, at(secs(3540)), "1000.access.two");
    let t = m.token().unwrap();
    assert_eq!(
        t.refresh_token.as_ref().unwrap().expose(),
        "1000.refresh.one"
    );
    assert_eq!(m.access_token(at(secs(3540))), Some("1000.access.two"));
    assert_eq!(t.api_domain, "https://www.zohoapis.com");
    assert_eq!(t.scope, "ZohoCRM.modules.ALL");
    assert_eq!(t.expires_at, at(secs(3540 + 3600)));

    let _ = m.poll(at(secs(7080)));
    let moved = br#"{"access_token":"1000.access.three","api_domain":"https://www.zohoapis.eu","scope":"ZohoCRM.users.READ","expires_in":3600}"#;
    assert_eq!(
        m.handle_response(at(secs(7080)), 200, moved, 0),
        Ok(Event::Refreshed)
    );
    let t = m.token().unwrap();
    assert_eq!(t.api_domain, "https://www.zohoapis.eu");
    assert_eq!(t.scope, "ZohoCRM.users.READ");
    assert_eq!(t.mints.len(), 3);
}

#[test]
fn the_current_token_is_served_while_a_refresh_fails_until_it_really_expires() {
    let mut m = exchanged();
    let _ = m.poll(at(secs(3540)));
    assert!(m.handle_response(at(secs(3545)), 502, HTML, 0).is_err());
    assert_eq!(m.access_token(at(secs(3599))), Some("1000.access.one"));
    assert_eq!(
        m.access_token(at(secs(3600)).saturating_sub(Duration::from_millis(1))),
        Some("1000.access.one")
    );
    assert_eq!(m.access_token(at(secs(3600))), None);
}

#[test]
fn faults_back_off_exponentially_within_the_jitter_bounds_up_to_the_cap() {
    let mut m = exchanged();
    let mut now = secs(3540);
    let mut expected_d = 1_000u64;
    for attempt in 0..12 {
        assert_eq!(
            m.poll(at(now)),
            Poll::Send(RequestKind::Refresh),
            "attempt {attempt}"
        );
        let jitter = if attempt % 2 == 0 { 0 } else { u32::MAX };
        let verdict = if attempt % 3 == 0 {
            m.handle_transport_error(at(now), jitter)
        } else {
            m.handle_response(at(now), 503, b"Service Unavailable", jitter)
                .unwrap_err()
        };
        assert!(verdict.is_retryable());
        let State::Waiting {
            until,
            reason: WaitReason::Backoff,
        } = m.state()
        else {
            panic!("expected a backoff, got {:?}", m.state());
        };
        let delay = until.as_millis() - at(now).as_millis();
        assert!(
            expected_d / 2 <= delay && delay <= expected_d,
            "attempt {attempt}: {delay} vs {expected_d}"
        );
        assert_eq!(
            delay,
            expected_d / 2 + u64::from(jitter) % (expected_d / 2 + 1)
        );
        // Nothing is sent before the backoff ends.
        assert_eq!(
            m.poll(until.saturating_sub(Duration::from_millis(1))),
            Poll::Wait {
                until: Some(until),
                reason: WaitReason::Backoff
            }
        );
        now = until.as_millis() - T0;
        expected_d = (expected_d * 2).min(300_000);
    }
    assert_eq!(expected_d, 300_000);
    // A success resets the backoff.
    refresh(&mut m, at(now), "1000.access.two");
    let _ = m.poll(at(now + secs(3540)));
    let _ = m.handle_transport_error(at(now + secs(3540)), 0);
    assert_eq!(
        m.state(),
        State::Waiting {
            until: at(now + secs(3540) + 500),
            reason: WaitReason::Backoff
        }
    );
}

#[test]
fn the_throttle_waits_ten_minutes_with_status_200_or_400() {
    for status in [200, 400] {
        let mut m = exchanged();
        let now = secs(3540);
        let _ = m.poll(at(now));
        assert_eq!(
            m.handle_response(at(now), status, THROTTLE, 7),
            Err(Verdict::Throttled)
        );
        let until = at(now + secs(600));
        assert_eq!(
            m.poll(at(now + secs(599))),
            Poll::Wait {
                until: Some(until),
                reason: WaitReason::Throttled
            }
        );
        assert_eq!(m.access_token(at(now + secs(59))), Some("1000.access.one"));
        assert_eq!(m.poll(until), Poll::Send(RequestKind::Refresh));
    }
}

#[test]
fn invalid_code_on_refresh_asks_for_authorization_and_keeps_the_refresh_token() {
    let mut m = exchanged();
    let _ = m.poll(at(secs(3540)));
    let verdict = m
        .handle_response(at(secs(3540)), 200, INVALID_CODE, 0)
        .unwrap_err();
    assert_eq!(
        verdict,
        Verdict::ReAuthorize(ReAuthReason::RefreshTokenRevoked)
    );
    assert_eq!(m.last_verdict(), Some(&verdict));
    for later in [secs(3541), secs(99_999)] {
        assert_eq!(
            m.poll(at(later)),
            Poll::NeedsAuthorization {
                reason: ReAuthReason::RefreshTokenRevoked
            }
        );
    }
    assert_eq!(
        m.state(),
        State::NeedsAuthorization(ReAuthReason::RefreshTokenRevoked)
    );
    assert_eq!(
        m.token().unwrap().refresh_token.as_ref().unwrap().expose(),
        "1000.refresh.one"
    );
    // Restoring the refused token again changes nothing.
    m.restore(m.token().unwrap().clone());
    assert!(matches!(
        m.poll(at(secs(99_999))),
        Poll::NeedsAuthorization { .. }
    ));
    // A new grant starts over.
    m.set_grant("1000.grant.two", None).unwrap();
    assert_eq!(m.poll(at(secs(99_999))), Poll::Send(RequestKind::Exchange));
}

#[test]
fn restoring_a_different_refresh_token_clears_needs_authorization() {
    let mut m = exchanged();
    let _ = m.poll(at(secs(3540)));
    let _ = m.handle_response(at(secs(3540)), 200, INVALID_CODE, 0);
    m.restore(TokenSet::new("1000.refresh.from.elsewhere").unwrap());
    assert_eq!(m.poll(at(secs(3541))), Poll::Send(RequestKind::Refresh));
}

#[test]
fn an_exchange_without_refresh_token_and_none_kept_asks_for_offline_access() {
    let mut m = machine();
    m.set_grant("1000.grant", None).unwrap();
    let _ = m.poll(at(0));
    let verdict = m
        .handle_response(at(0), 200, EXCHANGE_ONLINE, 0)
        .unwrap_err();
    assert_eq!(verdict, Verdict::ReAuthorize(ReAuthReason::NoRefreshToken));
    assert!(verdict.to_string().contains("access_type=offline"));
    assert_eq!(
        m.poll(at(1)),
        Poll::NeedsAuthorization {
            reason: ReAuthReason::NoRefreshToken
        }
    );
    assert!(m.token().is_none());
}

#[test]
fn an_online_exchange_beside_a_kept_refresh_token_updates_only_the_access_token() {
    let mut m = exchanged();
    m.set_grant("1000.grant.online", None).unwrap();
    let _ = m.poll(at(secs(10)));
    assert_eq!(
        m.handle_response(at(secs(10)), 200, EXCHANGE_ONLINE, 0),
        Ok(Event::Exchanged)
    );
    assert_eq!(m.access_token(at(secs(10))), Some("1000.access.online"));
    assert_eq!(
        m.token().unwrap().refresh_token.as_ref().unwrap().expose(),
        "1000.refresh.one"
    );
}

#[test]
fn a_refused_grant_falls_back_to_the_kept_refresh_token() {
    let mut m = exchanged();
    m.set_grant("1000.grant.stale", None).unwrap();
    let _ = m.poll(at(secs(10)));
    assert_eq!(
        m.handle_response(at(secs(10)), 200, INVALID_CODE, 0),
        Err(Verdict::ReAuthorize(ReAuthReason::GrantUsedOrExpired))
    );
    assert!(matches!(
        m.poll(at(secs(10))),
        Poll::Wait {
            reason: WaitReason::Fresh,
            ..
        }
    ));
    assert_eq!(m.access_token(at(secs(10))), Some("1000.access.one"));
}

#[test]
fn too_many_grant_codes_waits_like_a_throttle_then_tries_the_code_once_more() {
    let mut m = machine();
    m.set_grant("1000.grant", None).unwrap();
    assert_eq!(m.poll(at(0)), Poll::Send(RequestKind::Exchange));
    assert_eq!(
        m.handle_response(at(0), 200, ACCESS_DENIED, 0),
        Err(Verdict::TooManyGrantCodes)
    );
    let until = at(secs(600));
    let waiting = Poll::Wait {
        until: Some(until),
        reason: WaitReason::Throttled,
    };
    assert_eq!(
        m.state(),
        State::Waiting {
            until,
            reason: WaitReason::Throttled
        }
    );
    assert_eq!(m.last_verdict(), Some(&Verdict::TooManyGrantCodes));
    // No retry of the refused code before the window has passed, however often polled.
    for now in [0, secs(1), secs(60), secs(599)] {
        assert_eq!(m.poll(at(now)), waiting);
        assert_eq!(m.wake_at(at(now)), Some(until));
    }
    // Then once: by now the code has usually expired, which ends the attempt.
    assert_eq!(m.poll(until), Poll::Send(RequestKind::Exchange));
    let mut buf = [0u8; 2048];
    let body = m.write_request(&mut buf).unwrap().body.to_vec();
    assert!(body.ends_with(b"&code=1000.grant"));
    assert_eq!(
        m.handle_response(until, 200, INVALID_CODE, 0),
        Err(Verdict::ReAuthorize(ReAuthReason::GrantUsedOrExpired))
    );
    assert_eq!(
        m.poll(until),
        Poll::NeedsAuthorization {
            reason: ReAuthReason::GrantUsedOrExpired
        }
    );
}

#[test]
fn a_new_grant_ends_the_wait_after_too_many_grant_codes() {
    let mut m = machine();
    m.set_grant("1000.grant.one", None).unwrap();
    let _ = m.poll(at(0));
    let _ = m.handle_response(at(0), 200, ACCESS_DENIED, 0);
    m.set_grant("1000.grant.two", None).unwrap();
    assert_eq!(m.poll(at(secs(1))), Poll::Send(RequestKind::Exchange));
    let mut buf = [0u8; 2048];
    let body = m.write_request(&mut buf).unwrap().body.to_vec();
    assert!(body.ends_with(b"&code=1000.grant.two"));
    assert_eq!(
        m.handle_response(at(secs(1)), 200, EXCHANGE_OK, 0),
        Ok(Event::Exchanged)
    );
}

#[test]
fn too_many_grant_codes_keeps_the_current_token_and_refresh_token() {
    let mut m = exchanged();
    m.set_grant("1000.grant.two", None).unwrap();
    let _ = m.poll(at(secs(10)));
    assert_eq!(
        m.handle_response(at(secs(10)), 200, ACCESS_DENIED, 0),
        Err(Verdict::TooManyGrantCodes)
    );
    assert_eq!(m.access_token(at(secs(500))), Some("1000.access.one"));
    assert_eq!(
        m.token().unwrap().refresh_token.as_ref().unwrap().expose(),
        "1000.refresh.one"
    );
}

#[test]
fn access_denied_on_a_refresh_waits_like_the_throttle() {
    let mut m = exchanged();
    let now = secs(3540);
    assert_eq!(m.poll(at(now)), Poll::Send(RequestKind::Refresh));
    assert_eq!(
        m.handle_response(at(now), 200, ACCESS_DENIED, 0),
        Err(Verdict::Throttled)
    );
    assert_eq!(
        m.poll(at(now + 1)),
        Poll::Wait {
            until: Some(at(now + secs(600))),
            reason: WaitReason::Throttled
        }
    );
}

#[test]
fn a_grant_set_during_an_exchange_in_flight_is_exchanged_next() {
    let mut m = machine();
    m.set_grant("1000.grant.one", None).unwrap();
    let _ = m.poll(at(0));
    m.set_grant("1000.grant.two", None).unwrap();
    assert_eq!(
        m.handle_response(at(0), 200, EXCHANGE_OK, 0),
        Ok(Event::Exchanged)
    );
    assert_eq!(m.poll(at(1)), Poll::Send(RequestKind::Exchange));
    let mut buf = [0u8; 2048];
    assert!(m
        .write_request(&mut buf)
        .unwrap()
        .body
        .ends_with(b"code=1000.grant.two"));
}

#[test]
fn ten_mints_spend_the_budget_until_the_oldest_leaves_the_window() {
    let mut m = exchanged(); // mint 1 at 0
    for i in 1..10u64 {
        m.force_refresh();
        refresh(&mut m, at(secs(i)), "1000.access.more");
    }
    assert_eq!(m.token().unwrap().mints_left(at(secs(10)), m.config()), 0);
    m.force_refresh();
    let spent = Poll::Wait {
        until: Some(at(secs(600))),
        reason: WaitReason::BudgetSpent,
    };
    assert_eq!(m.poll(at(secs(10))), spent);
    assert_eq!(m.poll(at(secs(599))), spent);
    // Even an expired token waits for the budget; the slot opens exactly at oldest + window.
    assert_eq!(m.access_token(at(secs(3609))), None);
    assert_eq!(m.poll(at(secs(600))), Poll::Send(RequestKind::Refresh));
}

#[test]
fn the_budget_travels_with_the_token_set_to_another_process() {
    let mut a = exchanged();
    for i in 1..10u64 {
        a.force_refresh();
        refresh(&mut a, at(secs(i)), "1000.access.a");
    }
    // Process B loads what A saved, and is asked to refresh.
    let mut buf = [0u8; TokenSet::MAX_ENCODED_LEN];
    let saved = a.token().unwrap().encode(&mut buf).unwrap();
    let mut b = machine();
    b.restore(TokenSet::decode(saved).unwrap());
    b.force_refresh();
    assert_eq!(
        b.poll(at(secs(20))),
        Poll::Wait {
            until: Some(at(secs(600))),
            reason: WaitReason::BudgetSpent
        }
    );
}

#[test]
fn force_refresh_refreshes_a_fresh_token_unless_a_restore_brings_a_newer_one() {
    let mut m = exchanged();
    m.force_refresh();
    assert_eq!(m.poll(at(secs(5))), Poll::Send(RequestKind::Refresh));
    assert_eq!(
        m.handle_response(at(secs(5)), 200, &refresh_ok("1000.access.two", 3600), 0),
        Ok(Event::Refreshed)
    );
    assert!(matches!(
        m.poll(at(secs(6))),
        Poll::Wait {
            reason: WaitReason::Fresh,
            ..
        }
    ));

    // Another process already minted a newer token: forcing again would waste a mint.
    m.force_refresh();
    let mut newer = m.token().unwrap().clone();
    newer.access_token =
        Some(zoho_oauth_core::Secret::new("access_token", "1000.access.elsewhere").unwrap());
    m.restore(newer);
    assert!(matches!(
        m.poll(at(secs(7))),
        Poll::Wait {
            reason: WaitReason::Fresh,
            ..
        }
    ));
    assert_eq!(m.access_token(at(secs(7))), Some("1000.access.elsewhere"));
}

#[test]
fn a_new_grant_clears_a_throttle_pause() {
    let mut m = exchanged();
    let _ = m.poll(at(secs(3540)));
    let _ = m.handle_response(at(secs(3540)), 400, THROTTLE, 0);
    m.set_grant("1000.grant.two", None).unwrap();
    assert_eq!(m.poll(at(secs(3541))), Poll::Send(RequestKind::Exchange));
}

#[test]
fn a_restore_keeps_a_backoff_pause() {
    let mut m = exchanged();
    let _ = m.poll(at(secs(3540)));
    let _ = m.handle_transport_error(at(secs(3540)), 0);
    m.restore(m.token().unwrap().clone());
    assert_eq!(
        m.poll(at(secs(3540))),
        Poll::Wait {
            until: Some(at(secs(3540) + 500)),
            reason: WaitReason::Backoff
        }
    );
}

#[test]
fn a_restored_token_without_access_token_is_refreshed_at_once() {
    let mut m = machine();
    m.restore(TokenSet::new("1000.refresh.imported").unwrap());
    assert_eq!(m.wake_at(at(0)), Some(at(0)));
    assert_eq!(m.poll(at(0)), Poll::Send(RequestKind::Refresh));
    let mut buf = [0u8; 2048];
    let req = m.write_request(&mut buf).unwrap();
    assert_eq!(
        req.body,
        b"grant_type=refresh_token&client_id=1000.CLIENT&client_secret=s3cret&refresh_token=1000.refresh.imported"
    );
}

#[test]
fn a_whole_day_on_the_virtual_clock_mints_one_token_an_hour() {
    let mut m = exchanged();
    let mut now = at(0);
    let mut refreshes = 0;
    while now < at(secs(24 * 3600)) {
        match m.poll(now) {
            Poll::Send(RequestKind::Refresh) => {
                refreshes += 1;
                let body = refresh_ok(&format!("1000.access.{refreshes}"), 3600);
                assert_eq!(m.handle_response(now, 200, &body, 0), Ok(Event::Refreshed));
            }
            Poll::Wait {
                until: Some(until), ..
            } => now = until,
            other => panic!("{other:?}"),
        }
        assert!(m.access_token(now).is_some());
    }
    // One every 59 minutes (expiry minus the 60 s margin): floor(1440 / 59).
    assert_eq!(refreshes, 1440 / 59);
}

#[test]
fn credentials_longer_than_their_capacity_are_refused() {
    let long = "x".repeat(1000);
    let e = Credentials::new(&long, "s", Origin::Zoho(DataCenter::Us)).unwrap_err();
    assert_eq!((e.field, e.actual), ("client_id", 1000));
    let e = Credentials::new("id", &long, Origin::Zoho(DataCenter::Us)).unwrap_err();
    assert_eq!(e.field, "client_secret");
    let c = Credentials::new("id", "s", Origin::Zoho(DataCenter::Us)).unwrap();
    assert_eq!(
        c.with_redirect_uri(&long).unwrap_err().field,
        "redirect_uri"
    );
    assert_eq!(
        machine().set_grant(&long, None).unwrap_err().field,
        "grant code"
    );
}

#[test]
fn debug_output_never_shows_a_secret() {
    let mut m = exchanged();
    m.set_grant("1000.grant.secretcode", None).unwrap();
    let shown = format!("{m:?}");
    for secret in [
        "s3cret",
        "1000.access.one",
        "1000.refresh.one",
        "1000.grant.secretcode",
    ] {
        assert!(!shown.contains(secret), "{secret} leaked in {shown}");
    }
}

#[test]
fn a_restored_access_token_that_could_split_a_header_line_is_dropped_and_replaced() {
    let mut m = machine();
    let mut t = TokenSet::new("1000.refresh.one").unwrap();
    t.access_token =
        Some(zoho_oauth_core::Secret::new("access_token", "1000.a\r\nX-Evil: 1").unwrap());
    t.issued_at = at(0);
    t.expires_at = at(secs(3600));
    m.restore(t);
    assert_eq!(m.access_token(at(1)), None, "never handed out");
    assert_eq!(
        m.token().unwrap().refresh_token.as_ref().unwrap().expose(),
        "1000.refresh.one"
    );
    refresh(&mut m, at(1), "1000.access.clean");
    assert_eq!(m.access_token(at(2)), Some("1000.access.clean"));
}

/// What a second process sees when it restores the token set the first one saved.
fn second_process(saved: &TokenSet) -> Machine {
    let mut m = machine();
    m.restore(saved.clone());
    m
}

#[test]
fn a_throttle_travels_with_the_token_set_so_every_process_honours_it() {
    let mut m = exchanged();
    let due = at(secs(3540));
    assert_eq!(m.poll(due), Poll::Send(RequestKind::Refresh));
    assert_eq!(
        m.handle_response(due, 200, THROTTLE, 0),
        Err(Verdict::Throttled)
    );
    let saved = m.token().unwrap().clone();
    let until = due.saturating_add(Config::default().throttle_wait);
    // Five more processes in a row: none sends, each is told until when.
    for later in [secs(3541), secs(3560), secs(3599), secs(3600), secs(4000)] {
        let mut other = second_process(&saved);
        assert_eq!(
            other.poll(at(later)),
            Poll::Wait {
                until: Some(until),
                reason: WaitReason::Throttled
            }
        );
        // Even a forced refresh waits for the window.
        other.force_refresh();
        assert!(matches!(other.poll(at(later)), Poll::Wait { .. }));
    }
    assert_eq!(
        second_process(&saved).poll(until),
        Poll::Send(RequestKind::Refresh)
    );
}

#[test]
fn a_backoff_and_its_growing_exponent_are_shared_through_the_store() {
    let mut m = exchanged();
    let due = at(secs(3540));
    let _ = m.poll(due);
    let _ = m.handle_response(due, 502, HTML, u32::MAX);
    let first = m.token().unwrap().hold;
    assert_eq!(first.failures, 1);
    let (until, _) = first.pause.unwrap();
    // Another process, after the pause, fails again: its backoff is the second step.
    let mut other = second_process(m.token().unwrap());
    assert!(matches!(
        other.poll(due),
        Poll::Wait {
            reason: WaitReason::Backoff,
            ..
        }
    ));
    assert_eq!(other.poll(until), Poll::Send(RequestKind::Refresh));
    let _ = other.handle_transport_error(until, u32::MAX);
    let second = other.token().unwrap().hold;
    assert_eq!(second.failures, 2);
    let (until2, _) = second.pause.unwrap();
    assert_eq!(
        until2.saturating_duration_since(until),
        Config::default().backoff(1, u32::MAX)
    );
    // A success anywhere clears it for everyone.
    let _ = other.poll(until2);
    let _ = other.handle_response(until2, 200, &refresh_ok("1000.access.two", 3600), 0);
    assert_eq!(other.token().unwrap().hold, Default::default());
}

#[test]
fn a_refused_refresh_token_is_not_tried_again_by_the_next_process() {
    let mut m = exchanged();
    let _ = m.poll(at(secs(3540)));
    let _ = m.handle_response(at(secs(3540)), 200, INVALID_CODE, 0);
    let mut other = second_process(m.token().unwrap());
    assert_eq!(
        other.poll(at(secs(3541))),
        Poll::NeedsAuthorization {
            reason: ReAuthReason::RefreshTokenRevoked
        }
    );
    // The still-valid access token is served meanwhile.
    assert_eq!(other.access_token(at(secs(3541))), Some("1000.access.one"));
}

#[test]
fn a_client_credentials_credential_asks_again_when_due_within_the_budget() {
    let mut m = machine();
    m.restore(TokenSet::client_credentials("ZohoCRM.modules.ALL", "ZohoCRM.600001234").unwrap());
    assert_eq!(m.poll(at(0)), Poll::Send(RequestKind::ClientCredentials));
    let mut buf = [0u8; 2048];
    let req = m.write_request(&mut buf).unwrap();
    assert_eq!(req.url, "https://accounts.zoho.eu/oauth/v2/token");
    assert_eq!(
        core::str::from_utf8(req.body).unwrap(),
        "grant_type=client_credentials&client_id=1000.CLIENT&client_secret=s3cret\
         &scope=ZohoCRM.modules.ALL&soid=ZohoCRM.600001234"
    );
    let answer = br#"{"access_token":"1000.cc.one","scope":"ZohoCRM.modules.ALL","api_domain":"https://www.zohoapis.eu","token_type":"Bearer","expires_in":3600}"#;
    assert_eq!(m.handle_response(at(0), 200, answer, 0), Ok(Event::Minted));
    assert_eq!(m.access_token(at(1)), Some("1000.cc.one"));
    assert!(m.token().unwrap().refresh_token.is_none());
    assert_eq!(m.token().unwrap().soid, "ZohoCRM.600001234");
    // Fresh until the margin, then asked for again (not refreshed).
    assert!(matches!(
        m.poll(at(secs(3539))),
        Poll::Wait {
            reason: WaitReason::Fresh,
            ..
        }
    ));
    assert_eq!(
        m.poll(at(secs(3540))),
        Poll::Send(RequestKind::ClientCredentials)
    );
    let _ = m.handle_response(at(secs(3540)), 200, answer, 0);
    // The budget counts these mints like refreshes.
    assert_eq!(m.token().unwrap().mints.len(), 2);
}

#[test]
fn credentials_minted_together_come_due_spread_over_the_configured_window() {
    let config = Config {
        refresh_spread: Duration::from_secs(120),
        ..Config::default()
    };
    let mut dues = Vec::new();
    for i in 0..200 {
        let mut t = TokenSet::new(&format!("1000.refresh.{i:04}")).unwrap();
        t.access_token = Some(zoho_oauth_core::Secret::new("access_token", "1000.a").unwrap());
        t.issued_at = at(0);
        t.expires_at = at(secs(3600));
        let due = config.refresh_due(&t);
        // Never later than the margin alone, never more than margin + spread early.
        assert!(due <= at(secs(3540)) && due >= at(secs(3420)), "{due:?}");
        // The same credential comes due at the same time in every process.
        assert_eq!(config.refresh_due(&t.clone()), due);
        dues.push(due.as_millis());
    }
    dues.sort_unstable();
    dues.dedup();
    assert!(dues.len() > 150, "only {} distinct due times", dues.len());
    let spread = dues.last().unwrap() - dues.first().unwrap();
    assert!(spread > 100_000, "due times span only {spread} ms");
    // Zoho's rule alone by default.
    let mut t = TokenSet::new("1000.refresh.x").unwrap();
    t.issued_at = at(0);
    t.expires_at = at(secs(3600));
    assert_eq!(Config::default().refresh_due(&t), at(secs(3540)));
}

#[test]
fn a_restore_with_another_refresh_token_forgets_the_request_in_flight() {
    let mut m = exchanged();
    assert_eq!(m.poll(at(secs(3540))), Poll::Send(RequestKind::Refresh));
    m.restore(TokenSet::new("1000.refresh.from.elsewhere").unwrap());
    // The answer belongs to the old refresh token: neither its mint nor its refusal is this one's.
    assert_eq!(
        m.handle_response(at(secs(3541)), 200, INVALID_CODE, 0),
        Err(Verdict::NotInFlight)
    );
    assert_eq!(m.poll(at(secs(3541))), Poll::Send(RequestKind::Refresh));
}

#[test]
fn a_restore_with_the_same_refresh_token_keeps_the_request_in_flight() {
    let mut m = exchanged();
    assert_eq!(m.poll(at(secs(3540))), Poll::Send(RequestKind::Refresh));
    let saved = m.token().unwrap().clone();
    m.restore(saved);
    assert_eq!(
        m.handle_response(at(secs(3541)), 200, &refresh_ok("1000.access.two", 3600), 0),
        Ok(Event::Refreshed)
    );
}

#[test]
fn a_rendered_request_debug_shows_no_secret() {
    let mut m = exchanged();
    assert_eq!(m.poll(at(secs(3540))), Poll::Send(RequestKind::Refresh));
    let mut buf = [0u8; 1024];
    let shown = format!("{:?}", m.write_request(&mut buf).unwrap());
    assert!(shown.contains("/oauth/v2/token"), "{shown}");
    for secret in ["s3cret", "1000.refresh.one", "1000.CLIENT"] {
        assert!(!shown.contains(secret), "{secret} leaked in {shown}");
    }
}
