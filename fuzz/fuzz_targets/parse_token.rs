//! Fuzz target `parse_token`: see `drivers::parse_token` for what it checks.
#![no_main]

#[path = "../drivers.rs"]
mod drivers;

libfuzzer_sys::fuzz_target!(|data: &[u8]| drivers::parse_token(data));
