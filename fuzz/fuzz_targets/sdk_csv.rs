//! Fuzz target `sdk_csv`: see `drivers_std::sdk_csv` for what it checks.
#![no_main]

#[path = "../drivers_std.rs"]
mod drivers_std;

libfuzzer_sys::fuzz_target!(|data: &[u8]| drivers_std::sdk_csv(data));
