//! Fuzz target `store_url`: see `drivers_cli::store_url` for what it checks.
#![no_main]

#[path = "../drivers_cli.rs"]
mod drivers_cli;

libfuzzer_sys::fuzz_target!(|data: &[u8]| drivers_cli::store_url(data));
