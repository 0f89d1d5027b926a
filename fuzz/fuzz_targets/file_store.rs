//! Fuzz target `file_store`: see `drivers_std::file_store` for what it checks.
#![no_main]

#[path = "../drivers_std.rs"]
mod drivers_std;

libfuzzer_sys::fuzz_target!(|data: &[u8]| drivers_std::file_store(data));
