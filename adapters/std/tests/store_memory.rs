//! Memory bounds, counted by a global allocator wrapper that tracks the peak of live heap bytes:
//! a FileStore loads, saves and deletes a credential of a large store holding one record at a
//! time, and the SDK CSV import reads a large file one row at a time. One test binary, with its
//! tests run one after the other (they share the counter).
//!
//! The store size is `ZOHO_OAUTH_STORE_MB` megabytes (20 by default); the figures are printed
//! with `--nocapture`:
//! `ZOHO_OAUTH_STORE_MB=100 cargo test -p zoho-oauth --all-features --release --test store_memory -- --nocapture --test-threads=1`
#![allow(unsafe_code)] // a counting `GlobalAlloc` needs `unsafe impl`; it only forwards to `System`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use zoho_oauth::core::{DataCenter, Environment, Instant, Origin};
use zoho_oauth::sdk::csv;
use zoho_oauth::sdk::rows::RowContext;
use zoho_oauth::store::conformance::{self, delete, save};
use zoho_oauth::{CredentialKey, FileStore, TokenStore};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call forwards unchanged to `System`; the counters have no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            grew(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The tests share the counters: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// How many heap bytes above what was live before `f` ran were live at once while it ran.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst) - before)
}

fn megabytes() -> usize {
    std::env::var("ZOHO_OAUTH_STORE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// The key of record `i` of the generated store: users of equal length.
fn user_key(i: usize) -> CredentialKey {
    CredentialKey::new(
        format!("user{i:08}@example.com"),
        "1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG",
        DataCenter::Us,
        Environment::Production,
    )
}

/// A store file of about `bytes`, written directly (a save per record would take hours of
/// fsyncs): the record line of one saved credential, repeated with the user changed. Returns
/// the number of records.
fn big_store(dir: &tempfile::TempDir, bytes: usize) -> (std::path::PathBuf, usize) {
    let path = dir.path().join("tokens");
    let one = FileStore::open(&path).unwrap();
    save(&one, &user_key(0), &conformance::token(1)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let template = text.lines().nth(1).unwrap().to_owned();
    let first_user = "user00000000@example.com";
    let records = bytes / (template.len() + 1);
    let mut out = BufWriter::new(File::create(&path).unwrap());
    writeln!(out, "zoho-oauth-store v1").unwrap();
    for i in 0..records {
        let line = template.replacen(first_user, &user_key(i).user, 1);
        writeln!(out, "{line}").unwrap();
    }
    writeln!(out, "end {records}").unwrap();
    out.into_inner().unwrap().sync_all().unwrap();
    (path, records)
}

#[test]
fn a_file_store_changes_one_credential_in_memory_that_does_not_grow_with_the_file() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let size = megabytes() * MIB;
    let (path, records) = big_store(&dir, size);
    let store = FileStore::open(&path).unwrap();
    let last = user_key(records - 1);

    let (loaded, load_peak) = peak_of(|| store.load(&last).unwrap());
    assert_eq!(loaded, Some(conformance::token(1)));
    let ((), save_peak) =
        peak_of(|| save(&store, &user_key(records), &conformance::token(2)).unwrap());
    let (found, delete_peak) = peak_of(|| delete(&store, &user_key(0)).unwrap());
    assert!(found);
    let (keys, list_peak) = peak_of(|| store.list().unwrap());
    assert_eq!(keys.len(), records);
    drop(keys);
    println!(
        "file store of {} MB ({records} records): peak heap load {} KiB, save {} KiB, delete {} KiB, list {} KiB",
        megabytes(),
        load_peak / KIB,
        save_peak / KIB,
        delete_peak / KIB,
        list_peak / KIB,
    );
    // A line buffer, a read chunk, a write block and one record: well under 1 MiB, whatever the
    // size of the file.
    for (what, peak) in [
        ("load", load_peak),
        ("save", save_peak),
        ("delete", delete_peak),
    ] {
        assert!(peak < 512 * KIB, "{what} held {peak} bytes at once");
    }
    // `list` holds the keys, not the tokens: a few hundred bytes a key (these keys hold 58
    // bytes of text), whatever the tokens weigh.
    assert!(
        list_peak < records * 256,
        "list held {list_peak} bytes at once for {records} keys"
    );
}

#[test]
fn the_csv_import_reads_a_large_file_one_row_at_a_time() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.csv");
    let rows = 100_000;
    {
        let mut out = BufWriter::new(File::create(&path).unwrap());
        writeln!(out, "{}", csv::COLUMNS.join(",")).unwrap();
        for i in 0..rows {
            writeln!(
                out,
                "{i},user{i:08}@example.com,1000.7QJ2X8MZ0K5T4RBVN1HCW9EYDLUAPG,8d6a4c3b2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b,\
                 1000.6c3a1e8f2b7d4c9a0e5f1b2c3d4e5f6a.7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e,,,,,https://www.zohoapis.com"
            )
            .unwrap();
        }
    }
    let file_size = std::fs::metadata(&path).unwrap().len();
    let origin = Origin::Zoho(DataCenter::Us);
    let (count, peak) = peak_of(|| {
        let mut count = 0usize;
        let ctx = RowContext {
            origin: &origin,
            configured: (DataCenter::Us, Environment::Production),
            now: Instant::from_millis(1_700_000_000_000),
        };
        for row in csv::import(File::open(&path).unwrap(), ctx) {
            let row = row.unwrap();
            assert!(row.outcome.is_ok(), "line {}", row.line);
            count += 1;
        }
        count
    });
    assert_eq!(count, rows);
    println!(
        "CSV import of {rows} rows ({} MB): peak heap {} KiB",
        file_size / MIB as u64,
        peak / KIB
    );
    assert!(peak < 512 * KIB, "the import held {peak} bytes at once");
}
