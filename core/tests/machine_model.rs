//! Model-based property test of the state machine: random sequences of polls, Zoho answers,
//! faults, restores and time jumps, checked after every step against a small reference model and
//! against the rules of ARCHITECTURE.md ("The state machine, driven from outside").
//!
//! Runs 2,000 cases by default; `PROPTEST_CASES` raises (or lowers) that.

use core::time::Duration;

use proptest::prelude::*;
use zoho_oauth_core::machine::{State, WaitReason};
use zoho_oauth_core::response::{Fault, ReAuthReason, Verdict};
use zoho_oauth_core::{
    Config, Credentials, DataCenter, Event, Instant, Machine, Origin, Poll, RequestKind, Secret,
    TokenSet,
};

const WINDOW_MS: u64 = 600_000;
const BUDGET: usize = 10;
const MARGIN_MS: u64 = 60_000;
const THROTTLE_MS: u64 = 600_000;
const BACKOFF_INITIAL_MS: u64 = 1_000;
const BACKOFF_MAX_MS: u64 = 300_000;
const START_MS: u64 = 1_700_000_000_000;

/// One Zoho answer (or transport failure) to the request in flight.
#[derive(Clone, Debug)]
enum Answer {
    /// A success; on an exchange `with_refresh` decides whether a refresh token comes back.
    Success {
        expires_in_s: u64,
        with_refresh: bool,
    },
    InvalidCode,
    /// `{"error":"access_denied"}`: too many grant codes on an exchange, the throttle on a refresh.
    AccessDenied,
    Throttle {
        status: u16,
        chinese: bool,
    },
    Html500,
    Truncated,
    InvalidClient,
    Transport,
}

#[derive(Clone, Debug)]
enum Op {
    Poll,
    Answer(Answer, u32),
    Advance(u64),
    ForceRefresh,
    SetGrant,
    /// The store gives back exactly what the machine holds.
    RestoreSame,
    /// Another process refreshed: same refresh token, new access token, one more mint.
    RestoreRefreshedElsewhere,
    /// Another process re-authorized: a different refresh token with its own mint log.
    RestoreForeign {
        mints_ago_s: Vec<u64>,
    },
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        6 => (prop_oneof![Just(3600u64), Just(600), Just(90), Just(2)], prop::bool::weighted(0.85))
            .prop_map(|(expires_in_s, with_refresh)| Answer::Success { expires_in_s, with_refresh }),
        1 => Just(Answer::InvalidCode),
        1 => Just(Answer::AccessDenied),
        1 => (prop_oneof![Just(200u16), Just(400)], any::<bool>())
            .prop_map(|(status, chinese)| Answer::Throttle { status, chinese }),
        1 => Just(Answer::Html500),
        1 => Just(Answer::Truncated),
        1 => Just(Answer::InvalidClient),
        1 => Just(Answer::Transport),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => Just(Op::Poll),
        8 => (answer(), any::<u32>()).prop_map(|(a, j)| Op::Answer(a, j)),
        4 => (0u64..5_000).prop_map(Op::Advance),
        3 => (0u64..900_000).prop_map(Op::Advance),
        2 => (0u64..8_000_000).prop_map(Op::Advance),
        1 => Just(Op::ForceRefresh),
        1 => Just(Op::SetGrant),
        1 => Just(Op::RestoreSame),
        1 => Just(Op::RestoreRefreshedElsewhere),
        1 => proptest::collection::vec(0u64..900, 0..=BUDGET).prop_map(|mints_ago_s| Op::RestoreForeign { mints_ago_s }),
    ]
}

/// The reference model: what the machine should know, kept the simplest way.
#[derive(Debug)]
struct Model {
    now: u64,
    /// The request in flight and the grant generation it carried.
    in_flight: Option<(RequestKind, u32)>,
    /// The pending grant's generation.
    grant: Option<u32>,
    generation: u32,
    needs_auth: Option<ReAuthReason>,
    refresh: Option<String>,
    /// (access token, issued_at, expires_at)
    access: Option<(String, u64, u64)>,
    /// Every mint of the current refresh token, in time order.
    mints: Vec<u64>,
    force: bool,
    pause: Option<(u64, WaitReason)>,
    failures: u32,
    counter: u32,
}

impl Model {
    fn fresh_name(&mut self, what: &str) -> String {
        self.counter += 1;
        format!("1000.{what}.{:08x}", self.counter)
    }

    fn predict(&self) -> Poll {
        let now = self.now;
        if self.in_flight.is_some() {
            return Poll::Wait {
                until: None,
                reason: WaitReason::InFlight,
            };
        }
        let kind = if self.grant.is_some() {
            RequestKind::Exchange
        } else if let Some(reason) = self.needs_auth {
            return Poll::NeedsAuthorization { reason };
        } else if self.refresh.is_some() {
            match &self.access {
                Some((_, issued, expires)) => {
                    let margin = MARGIN_MS.min(expires.saturating_sub(*issued) / 2);
                    let due = expires - margin;
                    if self.force || now >= *expires || now >= due {
                        RequestKind::Refresh
                    } else {
                        return Poll::Wait {
                            until: Some(Instant::from_millis(due)),
                            reason: WaitReason::Fresh,
                        };
                    }
                }
                None => RequestKind::Refresh,
            }
        } else {
            return Poll::Empty;
        };
        if let Some((until, reason)) = self.pause {
            if now < until {
                return Poll::Wait {
                    until: Some(Instant::from_millis(until)),
                    reason,
                };
            }
        }
        if kind == RequestKind::Refresh {
            let recent: Vec<u64> = self
                .mints
                .iter()
                .copied()
                .filter(|m| m + WINDOW_MS > now)
                .collect();
            if recent.len() >= BUDGET {
                let until = recent[recent.len() - BUDGET] + WINDOW_MS;
                return Poll::Wait {
                    until: Some(Instant::from_millis(until)),
                    reason: WaitReason::BudgetSpent,
                };
            }
        }
        Poll::Send(kind)
    }

    fn backoff(&self, jitter: u32) -> u64 {
        let d = 1u64
            .checked_shl(self.failures)
            .and_then(|f| BACKOFF_INITIAL_MS.checked_mul(f))
            .map_or(BACKOFF_MAX_MS, |d| d.min(BACKOFF_MAX_MS));
        let half = d / 2;
        let delay = half + u64::from(jitter) % (half + 1);
        assert!(
            d / 2 <= delay && delay <= d,
            "backoff {delay} outside [{}, {d}]",
            d / 2
        );
        delay
    }
}

/// What a success answer carried: the access token, the refresh token if any, the lifetime.
struct Minted {
    access: String,
    refresh: Option<String>,
    lifetime_ms: u64,
}

/// The status and body Zoho would send for `answer`, and what a success carries.
fn body_for(
    answer: &Answer,
    kind: RequestKind,
    model: &mut Model,
) -> (u16, Vec<u8>, Option<Minted>) {
    match answer {
        Answer::Success { expires_in_s, with_refresh } => {
            let access = model.fresh_name("access");
            let refresh = (kind == RequestKind::Exchange && *with_refresh).then(|| model.fresh_name("refresh"));
            let body = match &refresh {
                Some(r) => format!(
                    r#"{{"access_token":"{access}","refresh_token":"{r}","scope":"ZohoCRM.modules.ALL","api_domain":"https:\/\/www.zohoapis.com","token_type":"Bearer","expires_in":{expires_in_s}}}"#
                ),
                None => format!(
                    r#"{{"access_token":"{access}","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":{expires_in_s}}}"#
                ),
            };
            (200, body.into_bytes(), Some(Minted { access, refresh, lifetime_ms: expires_in_s * 1000 }))
        }
        Answer::InvalidCode => (200, br#"{"error":"invalid_code"}"#.to_vec(), None),
        Answer::AccessDenied => (200, br#"{"error":"access_denied"}"#.to_vec(), None),
        Answer::Throttle { status, chinese: false } => (
            *status,
            br#"{"error":"Access Denied","error_description":"You have made too many requests continuously. Please try again after some time.","status":"failure"}"#.to_vec(),
            None,
        ),
        Answer::Throttle { status, chinese: true } => (
            *status,
            r#"{"error":"拒绝访问","error_description":"您连续发出了太多请求。","status":"failure"}"#.as_bytes().to_vec(),
            None,
        ),
        Answer::Html500 => (500, b"<html><body><h1>500 Internal Server Error</h1></body></html>".to_vec(), None),
        Answer::Truncated => (200, br#"{"access_token":"1000.cut","api_dom"#.to_vec(), None),
        Answer::InvalidClient => (200, br#"{"error":"invalid_client"}"#.to_vec(), None),
        Answer::Transport => (0, Vec::new(), None),
    }
}

fn new_machine() -> Machine {
    let credentials = Credentials::new(
        "1000.Q8WJ2V5ZK1L0",
        "5e3b9c0f2a",
        Origin::Zoho(DataCenter::Us),
    )
    .unwrap();
    let config = Config::default();
    assert_eq!(config.budget_mints, BUDGET);
    Machine::new(credentials, config)
}

/// Apply one step to both the machine and the model, checking the machine's answers.
fn step(machine: &mut Machine, model: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    let now = Instant::from_millis(model.now);
    match op {
        Op::Poll => {
            let expected = model.predict();
            prop_assert_eq!(
                machine.wake_at(now),
                match expected {
                    Poll::Send(_) => Some(now),
                    Poll::Wait { until, .. } => until,
                    _ => None,
                }
            );
            let got = machine.poll(now);
            prop_assert_eq!(got, expected);
            if let Poll::Send(kind) = got {
                // Never two in flight.
                prop_assert!(model.in_flight.is_none());
                model.in_flight = Some((kind, model.generation));
                let mut buf = [0u8; 2048];
                let request = machine.write_request(&mut buf).unwrap();
                let body = core::str::from_utf8(request.body).unwrap();
                match kind {
                    RequestKind::Exchange => {
                        prop_assert!(body.starts_with("grant_type=authorization_code&"))
                    }
                    RequestKind::Refresh => {
                        prop_assert!(body.starts_with("grant_type=refresh_token&"));
                        let refresh = model.refresh.as_deref().unwrap();
                        let suffix = format!("refresh_token={refresh}");
                        prop_assert!(
                            body.ends_with(&suffix),
                            "{} does not end with the refresh token",
                            body
                        );
                    }
                    RequestKind::ClientCredentials => {
                        prop_assert!(false, "this model holds no client-credentials credential")
                    }
                }
            }
        }
        Op::Answer(answer, jitter) => {
            let Some((kind, generation)) = model.in_flight else {
                // Misuse is refused and changes nothing.
                let before = machine.state();
                prop_assert_eq!(
                    machine.handle_response(now, 200, b"{}", *jitter),
                    Err(Verdict::NotInFlight)
                );
                prop_assert_eq!(
                    machine.handle_transport_error(now, *jitter),
                    Verdict::NotInFlight
                );
                prop_assert_eq!(machine.state(), before);
                return Ok(());
            };
            model.in_flight = None;
            let (status, body, success) = body_for(answer, kind, model);
            let result = match answer {
                Answer::Transport => Err(machine.handle_transport_error(now, *jitter)),
                _ => machine.handle_response(now, status, &body, *jitter),
            };
            let consume_grant = |model: &mut Model| {
                if kind == RequestKind::Exchange && model.grant == Some(generation) {
                    model.grant = None;
                }
            };
            match (answer, success) {
                (
                    Answer::Success { .. },
                    Some(Minted {
                        access,
                        refresh,
                        lifetime_ms: lifetime,
                    }),
                ) => {
                    consume_grant(model);
                    let expires = model.now + lifetime;
                    match (kind, refresh) {
                        (RequestKind::Exchange, Some(refresh)) => {
                            prop_assert_eq!(result, Ok(Event::Exchanged));
                            model.refresh = Some(refresh);
                            model.mints = vec![model.now];
                            model.access = Some((access, model.now, expires));
                            model.needs_auth = None;
                            model.force = false;
                        }
                        (RequestKind::Exchange, None) if model.refresh.is_some() => {
                            prop_assert_eq!(result, Ok(Event::Exchanged));
                            model.access = Some((access, model.now, expires));
                            model.force = false;
                        }
                        (RequestKind::Exchange, None) => {
                            prop_assert_eq!(
                                result,
                                Err(Verdict::ReAuthorize(ReAuthReason::NoRefreshToken))
                            );
                            model.needs_auth = Some(ReAuthReason::NoRefreshToken);
                            return Ok(());
                        }
                        (RequestKind::Refresh | RequestKind::ClientCredentials, _) => {
                            prop_assert_eq!(result, Ok(Event::Refreshed));
                            model.access = Some((access, model.now, expires));
                            model.mints.push(model.now);
                            model.force = false;
                        }
                    }
                    model.failures = 0;
                    model.pause = None;
                    prop_assert_eq!(machine.last_verdict(), None);
                }
                (Answer::InvalidCode, _) => {
                    let reason = match kind {
                        RequestKind::Exchange => ReAuthReason::GrantUsedOrExpired,
                        _ => ReAuthReason::RefreshTokenRevoked,
                    };
                    prop_assert_eq!(result, Err(Verdict::ReAuthorize(reason)));
                    match kind {
                        RequestKind::Exchange => {
                            consume_grant(model);
                            if model.refresh.is_none() {
                                model.needs_auth = Some(reason);
                            }
                        }
                        _ => model.needs_auth = Some(reason),
                    }
                }
                (Answer::Throttle { .. } | Answer::AccessDenied, _) => {
                    let expected = match (answer, kind) {
                        (Answer::AccessDenied, RequestKind::Exchange) => Verdict::TooManyGrantCodes,
                        _ => Verdict::Throttled,
                    };
                    prop_assert_eq!(result, Err(expected));
                    model.pause = Some((model.now + THROTTLE_MS, WaitReason::Throttled));
                    prop_assert_eq!(
                        machine.state(),
                        State::Waiting {
                            until: Instant::from_millis(model.now + THROTTLE_MS),
                            reason: WaitReason::Throttled
                        }
                    );
                }
                (fault, _) => {
                    let verdict = result.unwrap_err();
                    match fault {
                        Answer::Html500 => prop_assert_eq!(
                            &verdict,
                            &Verdict::Retryable(Fault::Html { status: 500 })
                        ),
                        Answer::Truncated => {
                            prop_assert_eq!(&verdict, &Verdict::Retryable(Fault::Truncated))
                        }
                        Answer::Transport => {
                            prop_assert_eq!(&verdict, &Verdict::Retryable(Fault::Transport))
                        }
                        _ => {
                            let bad_client = matches!(verdict, Verdict::BadClient { .. });
                            prop_assert!(bad_client, "{:?}", verdict);
                        }
                    }
                    let delay = model.backoff(*jitter);
                    model.pause = Some((model.now + delay, WaitReason::Backoff));
                    model.failures += 1;
                    prop_assert_eq!(
                        machine.state(),
                        State::Waiting {
                            until: Instant::from_millis(model.now + delay),
                            reason: WaitReason::Backoff
                        }
                    );
                    prop_assert_eq!(machine.last_verdict(), Some(&verdict));
                }
            }
        }
        Op::Advance(ms) => model.now += ms,
        Op::ForceRefresh => {
            machine.force_refresh();
            if model.refresh.is_some() {
                model.force = true;
            }
        }
        Op::SetGrant => {
            let code = model.fresh_name("grant");
            machine.set_grant(&code, None).unwrap();
            model.generation = model.generation.wrapping_add(1);
            model.grant = Some(model.generation);
            model.pause = None;
            model.failures = 0;
        }
        Op::RestoreSame => {
            if let Some(t) = machine.token().cloned() {
                machine.restore(t);
            }
        }
        // Another process changes the stored token only while it holds the store's refresh lock,
        // which this process holds from poll to save: never while our request is in flight.
        Op::RestoreRefreshedElsewhere | Op::RestoreForeign { .. } if model.in_flight.is_some() => {}
        Op::RestoreRefreshedElsewhere => {
            let Some(mut t) = machine.token().cloned() else {
                return Ok(());
            };
            // The other process honoured the same budget before minting.
            let recent = model
                .mints
                .iter()
                .filter(|m| *m + WINDOW_MS > model.now)
                .count();
            if recent >= BUDGET {
                return Ok(());
            }
            let access = model.fresh_name("elsewhere");
            t.access_token = Some(Secret::new("access_token", &access).unwrap());
            t.issued_at = now;
            t.expires_at = now.saturating_add(Duration::from_secs(3600));
            t.mints.record(now);
            machine.restore(t);
            model.access = Some((access, model.now, model.now + 3_600_000));
            model.mints.push(model.now);
            model.force = false;
        }
        Op::RestoreForeign { mints_ago_s } => {
            let refresh = model.fresh_name("foreign");
            let access = model.fresh_name("foreign-access");
            let mut t = TokenSet::new(&refresh).unwrap();
            t.access_token = Some(Secret::new("access_token", &access).unwrap());
            t.issued_at = now;
            t.expires_at = now.saturating_add(Duration::from_secs(3600));
            let mut mints: Vec<u64> = mints_ago_s
                .iter()
                .map(|s| model.now.saturating_sub(s * 1000))
                .collect();
            mints.sort_unstable();
            for m in &mints {
                t.mints.record(Instant::from_millis(*m));
            }
            machine.restore(t);
            model.refresh = Some(refresh);
            model.access = Some((access, model.now, model.now + 3_600_000));
            model.mints = mints;
            // The wait state travels with the token set: a newly stored one brings its own.
            model.needs_auth = None;
            model.pause = None;
            model.failures = 0;
            model.force = false;
        }
    }
    check_invariants(machine, model)
}

/// The rules that hold after every step, whatever happened.
fn check_invariants(machine: &Machine, model: &Model) -> Result<(), TestCaseError> {
    let now = Instant::from_millis(model.now);

    // The refresh token is never lost, nor replaced except by an exchange or a restore.
    prop_assert_eq!(
        machine
            .token()
            .map(|t| t.refresh_token.as_ref().unwrap().expose()),
        model.refresh.as_deref()
    );

    // Never an expired access token; the current one until it really expires (stale-while-revalidate).
    let expected = model
        .access
        .as_ref()
        .filter(|(_, _, exp)| model.now < *exp)
        .map(|(a, _, _)| a.as_str());
    prop_assert_eq!(machine.access_token(now), expected);
    if machine.access_token(now).is_some() {
        prop_assert!(now < machine.token().unwrap().expires_at);
    }

    // Never more than BUDGET mints in any rolling window, and the log carries the newest of them.
    for (i, m) in model.mints.iter().enumerate() {
        let in_window = model.mints[i..]
            .iter()
            .filter(|n| **n < m + WINDOW_MS)
            .count();
        prop_assert!(
            in_window <= BUDGET,
            "{} mints within the window starting at {}",
            in_window,
            m
        );
    }
    if let Some(t) = machine.token() {
        let newest: Vec<u64> = model.mints.iter().rev().take(10).rev().copied().collect();
        prop_assert_eq!(
            t.mints.iter().map(Instant::as_millis).collect::<Vec<_>>(),
            newest
        );
    }

    // One request in flight at most, and the state says so.
    match model.in_flight {
        Some((kind, _)) => prop_assert_eq!(machine.state(), State::InFlight(kind)),
        None => prop_assert!(!matches!(machine.state(), State::InFlight(_))),
    }
    if let (Some(reason), None, None) = (model.needs_auth, model.grant, model.in_flight) {
        prop_assert_eq!(machine.state(), State::NeedsAuthorization(reason));
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn every_rule_holds_after_every_step(start_with_grant in any::<bool>(), ops in proptest::collection::vec(op(), 1..120)) {
        let mut machine = new_machine();
        let mut model = Model {
            now: START_MS,
            in_flight: None,
            grant: None,
            generation: 0,
            needs_auth: None,
            refresh: None,
            access: None,
            mints: Vec::new(),
            force: false,
            pause: None,
            failures: 0,
            counter: 0,
        };
        if start_with_grant {
            step(&mut machine, &mut model, &Op::SetGrant)?;
        }
        for op in &ops {
            step(&mut machine, &mut model, op)?;
        }
    }
}
