//! Shared helpers for Strike's integration tests: reading the committed reference vectors
//! and exact wide arithmetic for checking results without floating point.

use std::path::PathBuf;

pub mod cells;
pub mod fuzz;
pub mod modules;
pub mod rng;
pub mod stkgen;

/// Directory of the committed math reference vectors.
pub fn math_data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("math")
}

/// One math vector file: its non-comment lines split on tabs, with 1-based line numbers.
pub fn read_vectors(name: &str) -> Vec<(usize, Vec<String>)> {
    read_data("math", name)
}

/// tests/data/`dir`/`name`.tsv: its non-comment lines split on tabs, with 1-based line
/// numbers.
pub fn read_data(dir: &str, name: &str) -> Vec<(usize, Vec<String>)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(dir)
        .join(format!("{name}.tsv"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l.split('\t').map(str::to_owned).collect()))
        .collect()
}

/// Parses an i128 field: decimal, or (optionally negated) 0x hex of the raw bits. Panics
/// on malformed test data.
pub fn int(field: &str) -> i128 {
    let (negative, body) = match field.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, field),
    };
    // Decimal parses with its sign (so i128::MIN works); hex is raw bits, negated after.
    let parsed = match body.strip_prefix("0x") {
        Some(hex) => u128::from_str_radix(hex, 16).ok().map(|v| {
            if negative {
                (v as i128).wrapping_neg()
            } else {
                v as i128
            }
        }),
        None => field.parse::<i128>().ok(),
    };
    parsed.unwrap_or_else(|| panic!("bad integer field {field:?}"))
}

/// An fx from decimal text (rounded to nearest, as the VM parses it). Panics on
/// malformed test data.
pub fn fx_text(text: &str) -> strike_vm::math::Fx {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Full 256-bit product of two u128, as (high, low).
pub fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    const LOW: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & LOW);
    let (b1, b0) = (b >> 64, b & LOW);
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let mid = (p00 >> 64) + (p01 & LOW) + (p10 & LOW);
    (
        (p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64)),
        (mid << 64) | (p00 & LOW),
    )
}

pub mod chain;
