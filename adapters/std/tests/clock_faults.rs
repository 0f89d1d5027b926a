//! Clock faults (issue 12, item 5): the wall clock jumping back an hour or forward a day between
//! calls. No token served past its real expiry, no refresh storm, no budget miscount.
//!
//! Real time is the emulator's clock: it only moves forward (with [`Harness::advance`], which moves
//! both clocks, real time passes), and it decides whether Zoho accepts a token. The client's
//! clock is a [`ManualClock`](zoho_oauth::ManualClock) that the tests make lie: moved alone, it
//! jumps (`advance`) or is set back (`set`) while no real time passes. "Past its real expiry" is
//! judged at the server: a token served is checked against the emulator's API.
//!
//! What the library can guarantee with a wall clock alone, whatever the clock does between calls:
//!
//! 1. a forward jump only makes tokens look older: it costs at most one refresh per credential
//!    (single flight), never a storm;
//! 2. a clock reading earlier than a token's issue time shows the clock went back since the token
//!    was minted, so the token's age is unknown: it is not served but refreshed (once);
//! 3. mint times and pauses (backoff, throttle) recorded while the clock ran ahead are not kept
//!    longer than their own length after the clock is corrected: a mint leaves the budget window
//!    at most `budget_window` after now, a pause ends at most its longest length after now.
//!
//! What no wall clock can give: a jump back of `J` smaller than the token's age at that moment
//! leaves the clock after the issue time, so nothing shows it; such a token is served up to `J`
//! past its real expiry. Only measuring a token's age on a monotonic clock within the process
//! closes that gap (the test of it is ignored until the engine does).

mod common;

use std::sync::Barrier;
use std::thread;
use std::time::Duration;

use common::{Harness, USER};
use zoho_oauth::core::Instant;
use zoho_oauth::{AccessToken, Client, Error};
use zoho_oauth_emulator::Fault;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

/// Whether Zoho (the emulator, on real time) accepts `token` now: the judge of "real expiry".
fn zoho_accepts(token: &AccessToken) -> bool {
    let response = common::agent(common::TIMEOUT)
        .get(format!("{}/crm/v8/org", token.api_domain()))
        .header("Authorization", token.header_value().as_str())
        .call()
        .expect("the emulator answers");
    response.status().as_u16() == 200
}

/// A harness whose client holds a fresh credential for [`USER`]; counters reset.
fn minted() -> (Harness, Client, AccessToken) {
    let h = Harness::start();
    let client = h.client();
    let token = client.exchange_grant(USER, &h.code()).unwrap();
    h.emu.reset_counters();
    (h, client, token)
}

/// The client's clock set to real time (an NTP correction after running ahead).
fn correct(h: &Harness) {
    h.clock.set(Instant::from_millis(h.emu.now_ms()));
}

/// The client's clock set `by` behind real time.
fn set_back(h: &Harness, by: Duration) {
    h.clock.set(Instant::from_millis(
        h.emu.now_ms() - u64::try_from(by.as_millis()).unwrap(),
    ));
}

/// `n` threads asking for a token at once.
fn at_once(client: &Client, n: usize) -> Vec<AccessToken> {
    let barrier = Barrier::new(n);
    thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    client.access_token(USER).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|t| t.join().unwrap()).collect()
    })
}

#[test]
fn a_clock_jumping_forward_a_day_costs_one_refresh_for_all_callers() {
    let (h, client, old) = minted();
    h.emu.set_latency(Duration::from_millis(100)); // the threads overlap for certain
    h.clock.advance(DAY); // no real time passed

    let mut tokens = at_once(&client, 8);
    tokens.extend((0..100).map(|_| client.access_token(USER).unwrap()));

    assert!(tokens.iter().all(|t| *t == tokens[0]), "one new token");
    assert_ne!(tokens[0], old);
    assert!(zoho_accepts(&tokens[0]));
    let c = h.counters();
    assert_eq!((c.refresh_token_requests, c.max_in_flight), (1, 1));
}

#[test]
fn after_a_real_day_the_day_old_token_is_never_served() {
    let (h, client, old) = minted();
    h.advance(DAY);
    let served = client.access_token(USER).unwrap();
    assert_ne!(served, old);
    assert!(!zoho_accepts(&old) && zoho_accepts(&served));
    assert_eq!(h.counters().refresh_token_requests, 1);
}

#[test]
fn jumping_back_and_forth_costs_at_most_one_refresh_per_jump_and_no_storm() {
    let (h, client, _) = minted();
    let jumps: [&dyn Fn(); 6] = [
        &|| h.clock.advance(DAY),
        &|| correct(&h),
        &|| set_back(&h, HOUR),
        &|| h.clock.advance(DAY),
        &|| set_back(&h, HOUR),
        &|| correct(&h),
    ];
    for (i, jump) in jumps.iter().enumerate() {
        jump();
        for _ in 0..50 {
            let token = client.access_token(USER).unwrap();
            assert!(zoho_accepts(&token), "jump {i}: a token Zoho refuses");
        }
        let sent = h.counters().refresh_token_requests;
        assert!(
            sent <= i as u64 + 1,
            "{sent} refreshes after {} jumps",
            i + 1
        );
    }
    assert_eq!(h.counters().throttled, 0);
}

#[test]
fn a_token_minted_while_the_clock_ran_a_day_ahead_is_not_served_past_its_real_expiry() {
    let (h, client, _) = minted();
    h.clock.advance(DAY);
    let ahead = client.access_token(USER).unwrap(); // issued "tomorrow", really now
    correct(&h);
    h.advance(HOUR + MINUTE); // really dead now; the client's clock says it has a day to live

    let served = client.access_token(USER).unwrap();
    assert!(!zoho_accepts(&ahead));
    assert!(zoho_accepts(&served), "a token served past its real expiry");
    assert_eq!(h.counters().refresh_token_requests, 2);
}

#[test]
fn a_clock_set_back_behind_the_tokens_issue_time_refreshes_once_at_the_next_call() {
    let (h, client, old) = minted();
    h.advance(30 * MINUTE);
    set_back(&h, HOUR); // now 30 minutes before the token was issued

    let after_jump = client.access_token(USER).unwrap();
    assert_ne!(after_jump, old, "a token of unknown age was served");
    assert_eq!(h.counters().refresh_token_requests, 1);
    // The new token's expiry is on the corrected clock: it is refreshed before it really dies.
    for _ in 0..4 {
        h.advance(20 * MINUTE);
        let served = client.access_token(USER).unwrap();
        assert!(zoho_accepts(&served), "a token served past its real expiry");
    }
}

#[test]
#[ignore = "limitation: a jump back smaller than the token's age is invisible to a wall clock; needs the engine to measure token age on a monotonic clock"]
fn a_jump_back_smaller_than_the_tokens_age_does_not_extend_its_life() {
    let (h, client, old) = minted();
    h.advance(40 * MINUTE);
    set_back(&h, 30 * MINUTE); // the clock now reads 10 minutes after the issue time
    assert_eq!(client.access_token(USER).unwrap(), old); // really 40 minutes old: fine
    h.advance(21 * MINUTE + MINUTE); // really 62 minutes old, 32 by the client's clock
    let served = client.access_token(USER).unwrap();
    assert!(zoho_accepts(&served), "a token served past its real expiry");
}

/// Uses up the mint budget (10 per 10 minutes; the exchange was the first): nine forced refreshes.
fn spend_the_budget(client: &Client) {
    for _ in 0..9 {
        assert!(client.refresh(USER, true).unwrap().minted);
    }
}

#[test]
fn mints_recorded_while_the_clock_ran_ahead_leave_the_budget_window_on_time() {
    let h = Harness::start();
    let client = h.client();
    h.clock.advance(DAY);
    client.exchange_grant(USER, &h.code()).unwrap();
    spend_the_budget(&client); // ten mints "tomorrow", really now
    correct(&h);
    h.advance(11 * MINUTE); // Zoho's window has rolled: it would mint again

    let obtained = client.refresh(USER, true);
    assert!(
        matches!(&obtained, Ok(o) if o.minted),
        "the budget miscounted: {:?}",
        obtained.map(|o| o.minted)
    );
    assert_eq!(h.counters().throttled, 0);
}

#[test]
fn mints_made_before_the_clock_went_back_an_hour_leave_the_budget_window_on_time() {
    let (h, client, _) = minted();
    spend_the_budget(&client);
    h.advance(11 * MINUTE); // Zoho's window has rolled
    set_back(&h, HOUR); // then the clock goes back an hour

    let obtained = client.refresh(USER, true);
    assert!(
        matches!(&obtained, Ok(o) if o.minted),
        "the budget miscounted: {:?}",
        obtained.map(|o| o.minted)
    );
}

#[test]
fn a_forward_jump_between_forced_refreshes_overspends_zohos_window_by_one_request_at_most() {
    // The other miscount a forward jump can cause: mints of the last ten real minutes look a day
    // old. What holds: Zoho's throttle answer is honoured, one request over its limit at most.
    let (h, client, _) = minted();
    spend_the_budget(&client);
    h.clock.advance(DAY); // no real time passed: Zoho's window still holds ten mints
    let results: Vec<_> = (0..5).map(|_| client.refresh(USER, true)).collect();

    let c = h.counters();
    assert!(
        c.refresh_token_requests <= 9 + 1,
        "{} refreshes",
        c.refresh_token_requests
    );
    assert!(c.throttled <= 1, "{} throttled requests", c.throttled);
    assert!(results
        .iter()
        .all(|r| matches!(r, Err(Error::Throttled { .. }))));
}

#[test]
fn a_pause_recorded_while_the_clock_ran_ahead_ends_within_its_length_after_correction() {
    for fault in [Fault::ServerError, Fault::Throttle] {
        let (h, client, old) = minted();
        h.clock.advance(DAY); // the token looks expired: a refresh is tried, and fails
        h.emu.queue_fault(fault, 3);
        assert!(client.access_token(USER).is_err(), "{fault:?}");
        h.emu.clear_faults();

        correct(&h);
        // Longer than any pause (backoff ≤ 5 min, throttle 10 min), and the old token is dead.
        h.advance(HOUR + MINUTE);
        let served = client
            .access_token(USER)
            .unwrap_or_else(|e| panic!("{fault:?}: still paused after correction: {e:?}"));
        assert_ne!(served, old, "{fault:?}");
        assert!(zoho_accepts(&served), "{fault:?}");
    }
}
