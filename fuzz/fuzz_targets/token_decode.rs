//! Fuzz target `token_decode`: see `drivers::token_decode` for what it checks.
#![no_main]

#[path = "../drivers.rs"]
mod drivers;

libfuzzer_sys::fuzz_target!(|data: &[u8]| drivers::token_decode(data));
