//! Fuzz target `parse_user_info`: see `drivers::parse_user_info` for what it checks.
#![no_main]

#[path = "../drivers.rs"]
mod drivers;

libfuzzer_sys::fuzz_target!(|data: &[u8]| drivers::parse_user_info(data));
