//! Fuzz target `classify_api`: see `drivers::classify_api` for what it checks.
#![no_main]

#[path = "../drivers.rs"]
mod drivers;

libfuzzer_sys::fuzz_target!(|data: &[u8]| drivers::classify_api(data));
