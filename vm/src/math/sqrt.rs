//! Square root, correctly rounded.
//!
//! For x = n * 2^-64 the result's raw bits are round(sqrt(n * 2^64)). Since a square root
//! of an integer is never an odd multiple of 1/2, round(sqrt(N)) = (floor(sqrt(4N)) + 1) / 2
//! exactly, and floor(sqrt(4N)) is an exact integer square root of a 193-bit number.

use super::wide::isqrt_u256;
use super::{Fx, MathError};

/// Correctly rounded square root of raw bits `n >= 0` (I64F64 in and out).
#[inline]
pub(crate) fn sqrt_raw(n: u128) -> u128 {
    // 4N = n * 2^66 as a 256-bit number.
    let root = isqrt_u256(n >> 62, n << 66);
    (root + 1) >> 1
}

/// Square root of `x`, correctly rounded to nearest. `x < 0` is a domain error.
#[inline]
pub fn sqrt(x: Fx) -> Result<Fx, MathError> {
    let n = x.to_bits();
    if n < 0 {
        return Err(MathError::Domain);
    }
    // sqrt(2^127 * 2^64) < 2^96: always representable.
    Ok(Fx::from_bits(sqrt_raw(n as u128) as i128))
}
