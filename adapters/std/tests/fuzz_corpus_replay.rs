//! Replays the checked-in fuzz corpus of the std targets on stable: every file under
//! `fuzz/corpus/<target>/` runs through the same driver as the cargo-fuzz target (shared by path
//! from `fuzz/drivers_std.rs`), which panics only when an invariant fails.

#[path = "../../../fuzz/drivers_std.rs"]
mod drivers_std;

use std::fs;
use std::path::PathBuf;

/// The corpus files of one target, with their names.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("directory entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&path).expect("corpus file"))
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
