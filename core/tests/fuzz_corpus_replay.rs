//! Replays the checked-in fuzz seed corpus on stable: every file under `fuzz/corpus/<target>/`
//! runs through the same driver as the cargo-fuzz target (shared by path from `fuzz/drivers.rs`),
//! which panics only when an invariant fails.
//!
//! The `http1_read` corpus needs the `embedded-io` feature (`--all-features` in CI).

#[path = "../../fuzz/drivers.rs"]
mod drivers;

use zoho_oauth_core::response::{self, ApiVerdict, Flow};
use zoho_oauth_core::TokenSet;

/// `fuzz/corpus`, for the shared replay.
const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus");

#[path = "../../fuzz/replay.rs"]
mod shared;
use shared::{corpus, replay};

#[test]
fn the_parse_token_seeds_hold_and_cover_success_and_failure() {
    let seeds = replay("parse_token", drivers::parse_token);
    let verdicts: Vec<bool> = seeds
        .iter()
        .map(|(_, d)| {
            let (status, body) = drivers::status_and_body(d);
            response::parse_token(Flow::Refresh, status, body).is_ok()
        })
        .collect();
    assert!(verdicts.iter().any(|ok| *ok), "no seed parses as a grant");
    assert!(verdicts.iter().any(|ok| !*ok), "no seed is refused");
}

#[test]
fn the_parse_redirect_seeds_hold() {
    replay("parse_redirect", drivers::parse_redirect);
}

#[test]
fn the_form_decode_seeds_hold() {
    replay("form_decode", drivers::form_decode);
}

#[test]
fn the_token_decode_seeds_hold_and_some_decode() {
    let seeds = replay("token_decode", drivers::token_decode);
    let decoded = seeds
        .iter()
        .filter(|(_, d)| TokenSet::decode(d).is_ok())
        .count();
    assert!(
        decoded >= 3,
        "only {decoded} seeds decode: the corpus is stale"
    );
    assert!(decoded < seeds.len(), "no seed exercises an error path");
}

#[test]
fn the_machine_seeds_hold_and_reach_every_path() {
    let seeds = replay("machine", drivers::machine);
    let tallies: Vec<(&str, drivers::Tally)> = seeds
        .iter()
        .map(|(name, d)| (name.as_str(), drivers::machine_tally(d)))
        .collect();
    let reached = |what: &str, f: fn(&drivers::Tally) -> usize| {
        assert!(
            tallies.iter().any(|(_, t)| f(t) > 0),
            "no machine seed reaches {what}: {tallies:#?}"
        );
    };
    reached("an exchange", |t| t.exchanged);
    reached("a refresh", |t| t.refreshed);
    reached("a client-credentials mint", |t| t.minted);
    reached("a refused refresh token", |t| t.refresh_refused);
    reached("a throttle", |t| t.throttled);
    reached("a backoff", |t| t.backed_off);
    reached("a spent budget", |t| t.budget_waits);
    reached("a request for authorization", |t| t.needs_authorization);
    reached("a restore", |t| t.restores);
}

/// Some seeds but not all are accepted by `accepts` (status and body as the driver splits them).
fn some_but_not_all(target: &str, seeds: &[(String, Vec<u8>)], accepts: fn(u16, &[u8]) -> bool) {
    let ok = seeds
        .iter()
        .filter(|(_, d)| {
            let (status, body) = drivers::status_and_body(d);
            accepts(status, body)
        })
        .count();
    assert!(
        ok >= 1 && ok < seeds.len(),
        "{target}: {ok} of {} seeds are accepted",
        seeds.len()
    );
}

#[test]
fn the_parse_revoke_seeds_hold_and_cover_success_and_failure() {
    let seeds = replay("parse_revoke", drivers::parse_revoke);
    some_but_not_all("parse_revoke", &seeds, |s, b| {
        response::parse_revoke(s, b).is_ok()
    });
}

#[test]
fn the_parse_user_info_seeds_hold_and_cover_success_and_failure() {
    let seeds = replay("parse_user_info", drivers::parse_user_info);
    some_but_not_all("parse_user_info", &seeds, |s, b| {
        response::parse_user_info(s, b).is_ok()
    });
}

#[test]
fn the_classify_api_seeds_hold_and_cover_every_verdict() {
    let seeds = replay("classify_api", drivers::classify_api);
    let verdicts: Vec<ApiVerdict> = seeds
        .iter()
        .map(|(_, d)| {
            let (status, body) = drivers::status_and_body(d);
            response::classify_api(status, body)
        })
        .collect();
    for v in [ApiVerdict::Ok, ApiVerdict::InvalidToken, ApiVerdict::Other] {
        assert!(verdicts.contains(&v), "no seed is classified {v:?}");
    }
}

#[test]
fn the_authorization_url_seeds_hold() {
    replay("authorization_url", drivers::authorization_url);
}

#[cfg(feature = "embedded-io")]
#[test]
fn the_http1_read_seeds_hold_and_cover_raw_and_built_responses() {
    let seeds = replay("http1_read", drivers::http1_read);
    let built = seeds
        .iter()
        .filter(|(_, d)| d.first().is_some_and(|flags| flags & 2 != 0))
        .count();
    assert!(
        built >= 1 && built < seeds.len(),
        "{built} of {} seeds are built",
        seeds.len()
    );
}

#[test]
#[ignore = "prints what each machine seed reaches"]
fn print_machine_tallies() {
    for (name, d) in corpus("machine") {
        println!("{name}: {:?}", drivers::machine_tally(&d));
    }
}

#[test]
fn the_pkce_seeds_hold_and_some_make_a_verifier() {
    let seeds = replay("pkce", drivers::pkce);
    let made = seeds
        .iter()
        .filter(|(_, d)| zoho_oauth_core::pkce::CodeVerifier::from_random(d).is_ok())
        .count();
    let taken_back = seeds
        .iter()
        .filter(|(_, d)| {
            std::str::from_utf8(d)
                .is_ok_and(|t| zoho_oauth_core::pkce::CodeVerifier::new(t).is_ok())
        })
        .count();
    assert!(
        made >= 1 && made < seeds.len(),
        "{made} of {} seeds make a verifier",
        seeds.len()
    );
    assert!(taken_back >= 1, "no seed is a saved verifier");
}

#[test]
fn the_device_seeds_hold_and_cover_every_mode() {
    let seeds = replay("device", drivers::device);
    for mode in 0..4u8 {
        assert!(
            seeds
                .iter()
                .any(|(_, d)| d.first().is_some_and(|b| b % 4 == mode)),
            "no device seed of mode {mode}"
        );
    }
}
