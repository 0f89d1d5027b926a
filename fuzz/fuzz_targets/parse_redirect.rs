//! Fuzz target `parse_redirect`: see `drivers::parse_redirect` for what it checks.
#![no_main]

#[path = "../drivers.rs"]
mod drivers;

libfuzzer_sys::fuzz_target!(|data: &[u8]| drivers::parse_redirect(data));
