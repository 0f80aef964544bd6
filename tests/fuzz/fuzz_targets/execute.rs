#![no_main]
//! See `strike_tests::fuzz::execute` (tests/src/fuzz.rs) for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = strike_tests::fuzz::execute(data);
});
