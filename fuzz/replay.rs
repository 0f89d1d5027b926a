//! The stable replay of the checked-in corpus, shared by path by the three replay tests
//! (`core/tests`, `adapters/std/tests`, `adapters/cli/tests`). Each defines `CORPUS`, the path of
//! `fuzz/corpus` from its own crate, before it includes this file.

use std::fs;
use std::path::Path;

/// The corpus files of one target, with their names, sorted; at least ten.
pub fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(super::CORPUS).join(target);
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

/// Run every corpus file of `target` through `driver` (which panics only when an invariant
/// fails), naming the file that broke one; the files, for the caller's coverage checks.
pub fn replay(target: &str, driver: fn(&[u8])) -> Vec<(String, Vec<u8>)> {
    let seeds = corpus(target);
    for (name, data) in &seeds {
        let outcome = std::panic::catch_unwind(|| driver(data));
        assert!(outcome.is_ok(), "{target}/{name} broke an invariant");
    }
    seeds
}
