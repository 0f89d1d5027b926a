//! Fuzz target `config_file`: see `drivers_cli::config_file` for what it checks.
#![no_main]

#[path = "../drivers_cli.rs"]
mod drivers_cli;

libfuzzer_sys::fuzz_target!(|data: &[u8]| drivers_cli::config_file(data));
