//! Replays the checked-in fuzz corpus of the CLI targets on stable: every file under
//! `fuzz/corpus/<target>/` runs through the same driver as the cargo-fuzz target (shared by path
//! from `fuzz/drivers_cli.rs`), which panics only when an invariant fails.

#[path = "../../../fuzz/drivers_cli.rs"]
mod drivers_cli;

/// `fuzz/corpus`, for the shared replay.
const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus");

#[path = "../../../fuzz/replay.rs"]
mod shared;
use shared::replay;

/// Some seeds are raw text (byte 0 below 128), some built from the script.
fn raw_and_built(target: &str, seeds: &[(String, Vec<u8>)]) {
    let built = seeds
        .iter()
        .filter(|(_, d)| d.first().is_some_and(|b| *b >= 128))
        .count();
    assert!(
        built >= 1 && built < seeds.len(),
        "{target}: {built} of {} seeds are built",
        seeds.len()
    );
}

#[test]
fn the_store_url_seeds_hold_and_cover_raw_and_built_urls() {
    let seeds = replay("store_url", drivers_cli::store_url);
    raw_and_built("store_url", &seeds);
}

#[test]
fn the_config_file_seeds_hold_and_cover_raw_and_built_files() {
    let seeds = replay("config_file", drivers_cli::config_file);
    raw_and_built("config_file", &seeds);
}
