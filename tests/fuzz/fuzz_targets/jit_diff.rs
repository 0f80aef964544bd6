#![no_main]
//! See `strike_tests::fuzz::jit_diff` (tests/src/fuzz.rs) for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = strike_tests::fuzz::jit_diff(data);
});
