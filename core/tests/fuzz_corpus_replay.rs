//! Replays the checked-in fuzz seed corpus on stable: every file under `fuzz/corpus/<target>/`
//! runs through the same driver as the cargo-fuzz target (shared by path from `fuzz/drivers.rs`),
//! which panics only when an invariant fails.

#[path = "../../fuzz/drivers.rs"]
mod drivers;

use std::fs;
use std::path::PathBuf;

use zoho_oauth_core::response::{self, Flow};
use zoho_oauth_core::TokenSet;

/// The seed files of one target, with their names.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("directory entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&path).expect("seed file"))
        })
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{target}: only {} seeds", files.len());
    files
}

fn replay(target: &str, driver: fn(&[u8])) -> Vec<(String, Vec<u8>)> {
    let seeds = corpus(target);
    for (name, data) in &seeds {
        let outcome = std::panic::catch_unwind(|| driver(data));
        assert!(outcome.is_ok(), "{target}/{name} broke an invariant");
    }
    seeds
}

#[test]
fn the_parse_token_seeds_hold_and_cover_success_and_failure() {
    let seeds = replay("parse_token", drivers::parse_token);
    let verdicts: Vec<bool> = seeds
        .iter()
        .map(|(_, d)| {
            let status = u16::from_be_bytes([d[0], d[1]]);
            response::parse_token(Flow::Refresh, status, &d[2..]).is_ok()
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
fn the_machine_seeds_hold() {
    replay("machine", drivers::machine);
}
