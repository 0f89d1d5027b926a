//! Fuzz target `form_decode`: see `drivers::form_decode` for what it checks.
#![no_main]

#[path = "../drivers.rs"]
mod drivers;

libfuzzer_sys::fuzz_target!(|data: &[u8]| drivers::form_decode(data));
