//! What the engine records through the `metrics` facade: token requests by outcome, throttles,
//! lock waits, store latency, expiry and budget per credential — and never a secret in a label.

mod common;

use std::time::Duration;

use common::{Harness, USER};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::MetricKind;
use zoho_oauth_emulator::Fault;

/// One recorded metric: (name, labels, value).
type Recorded = (String, Vec<(String, String)>, DebugValue);

/// Every recorded metric.
fn recorded(snapshotter: &Snapshotter) -> Vec<Recorded> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let (kind, key) = key.into_parts();
            let _: MetricKind = kind;
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            (key.name().to_owned(), labels, value)
        })
        .collect()
}

fn counter(all: &[Recorded], name: &str, labels: &[(&str, &str)]) -> u64 {
    all.iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(_, _, v)| match v {
            DebugValue::Counter(c) => *c,
            other => panic!("{name} is not a counter: {other:?}"),
        })
        .sum()
}

#[test]
fn refreshes_throttles_and_credential_gauges_are_recorded_without_secrets() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let h = Harness::start();
    let client = h.client();
    let all = metrics::with_local_recorder(&recorder, || {
        let token = client.exchange_grant(USER, &h.code()).unwrap();
        client.refresh(USER, true).unwrap();
        h.emu.queue_fault(Fault::Throttle, 1);
        client.refresh(USER, true).unwrap_err();
        // Refused locally during the window: a budget/throttle wait, no request.
        client.refresh(USER, true).unwrap_err();
        h.advance(Duration::from_secs(1));
        let _ = token;
        recorded(&snapshotter)
    });
    let requests = "zoho_oauth_token_requests_total";
    assert_eq!(
        counter(&all, requests, &[("kind", "exchange"), ("outcome", "ok")]),
        1
    );
    assert_eq!(
        counter(&all, requests, &[("kind", "refresh"), ("outcome", "ok")]),
        1
    );
    assert_eq!(
        counter(
            &all,
            requests,
            &[("kind", "refresh"), ("outcome", "throttled")]
        ),
        1
    );
    assert_eq!(
        counter(&all, "zoho_oauth_throttled_total", &[("by", "zoho")]),
        1
    );
    let names: Vec<&str> = all.iter().map(|(n, _, _)| n.as_str()).collect();
    for expected in [
        "zoho_oauth_token_requests_in_flight",
        "zoho_oauth_lock_wait_seconds",
        "zoho_oauth_store_seconds",
        "zoho_oauth_access_token_expiry_seconds",
        "zoho_oauth_mint_budget_left",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    // The user is a label (it can be turned off); no token, code or secret ever is.
    let stored = h.store_token(&client, USER);
    for (name, labels, _) in &all {
        for (k, v) in labels {
            assert!(v.len() < 64 || k == "store", "{name}{{{k}={v}}}");
            assert!(!v.contains("1000."), "{name}{{{k}={v}}} looks like a token");
            assert!(
                !stored.iter().any(|s| v.contains(s.as_str())),
                "{name}{{{k}={v}}}"
            );
        }
    }
}

#[test]
fn the_user_label_can_be_turned_off() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let h = Harness::start();
    let client = h.builder().metrics_user_label(false).build().unwrap();
    let all = metrics::with_local_recorder(&recorder, || {
        client.exchange_grant(USER, &h.code()).unwrap();
        recorded(&snapshotter)
    });
    let users: Vec<&String> = all
        .iter()
        .flat_map(|(_, l, _)| l.iter().filter(|(k, _)| k == "user").map(|(_, v)| v))
        .collect();
    assert!(!users.is_empty());
    assert!(users.iter().all(|u| u.is_empty()), "{users:?}");
}

#[test]
fn without_the_user_label_a_centres_series_shows_its_credential_closest_to_expiry() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let h = Harness::start();
    let client = h.builder().metrics_user_label(false).build().unwrap();
    let all = metrics::with_local_recorder(&recorder, || {
        client
            .exchange_grant("first@example.com", &h.code())
            .unwrap();
        h.advance(Duration::from_secs(30 * 60));
        // Minted later, so it expires later: written last, it must not hide the first one.
        client
            .exchange_grant("second@example.com", &h.code())
            .unwrap();
        recorded(&snapshotter)
    });
    let expiry: Vec<f64> = all
        .iter()
        .filter(|(n, _, _)| n == "zoho_oauth_access_token_expiry_seconds")
        .map(|(_, _, v)| match v {
            DebugValue::Gauge(g) => g.into_inner(),
            other => panic!("not a gauge: {other:?}"),
        })
        .collect();
    // One series for the centre, showing the first credential's 30 minutes, not the second's hour.
    assert_eq!(expiry, vec![1800.0]);
}
