//! Replays the checked-in fuzz corpus of the std targets on stable: every file under
//! `fuzz/corpus/<target>/` runs through the same driver as the cargo-fuzz target (shared by path
//! from `fuzz/drivers_std.rs`), which panics only when an invariant fails.

#[path = "../../../fuzz/drivers_std.rs"]
mod drivers_std;

/// `fuzz/corpus`, for the shared replay.
const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus");

#[path = "../../../fuzz/replay.rs"]
mod shared;
use shared::replay;

#[test]
fn the_sdk_csv_seeds_hold_and_cover_raw_and_built_files() {
    let seeds = replay("sdk_csv", drivers_std::sdk_csv);
    let built = seeds
        .iter()
        .filter(|(_, d)| d.first().is_some_and(|b| b & 1 == 1))
        .count();
    assert!(
        built >= 1 && built < seeds.len(),
        "{built} of {} seeds are built",
        seeds.len()
    );
}

#[test]
fn the_file_store_seeds_hold_and_cover_raw_and_built_stores() {
    let seeds = replay("file_store", drivers_std::file_store);
    let built = seeds
        .iter()
        .filter(|(_, d)| d.first().is_some_and(|b| b & 1 == 1))
        .count();
    assert!(
        built >= 1 && built < seeds.len(),
        "{built} of {} seeds are built",
        seeds.len()
    );
}
