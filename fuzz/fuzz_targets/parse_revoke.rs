//! Fuzz target `parse_revoke`: see `drivers::parse_revoke` for what it checks.
#![no_main]

#[path = "../drivers.rs"]
mod drivers;

libfuzzer_sys::fuzz_target!(|data: &[u8]| drivers::parse_revoke(data));
