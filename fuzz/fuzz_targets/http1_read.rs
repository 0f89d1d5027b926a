//! Fuzz target `http1_read`: see `drivers::http1_read` for what it checks.
#![no_main]

#[path = "../drivers.rs"]
mod drivers;

libfuzzer_sys::fuzz_target!(|data: &[u8]| drivers::http1_read(data));
