#![no_main]
//! See `strike_tests::fuzz::compile` (tests/src/fuzz.rs) for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| strike_tests::fuzz::compile(data));
