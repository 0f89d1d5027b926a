//! Fuzz target `authorization_url`: see `drivers::authorization_url` for what it checks.
#![no_main]

#[path = "../drivers.rs"]
mod drivers;

libfuzzer_sys::fuzz_target!(|data: &[u8]| drivers::authorization_url(data));
