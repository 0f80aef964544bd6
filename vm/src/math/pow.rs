//! x^y for x > 0, as e^(y ln x) with both kernels at full internal precision.
//!
//! ln x comes from `ln_scaled` (at 2^-127 within 2^-8 of 1, where ln x may be as small as
//! 2^-64 and y as large as 2^63; at 2^-120 elsewhere); y * ln x is formed exactly as a
//! 256-bit product and handed to `exp_core` with 128 fractional bits, so nothing is rounded
//! between the two kernels. The result's relative error is about the absolute error of
//! y ln x: at most |y| 2^-127 + |y ln x| 2^-109 near 1, |y ln x| 2^-110 elsewhere, well
//! inside the bound max(2 ulp, 2^-60 |result|).

use super::exp::exp_to_fx;
use super::ln::ln_scaled;
use super::wide::{mul_u128, shr_u256};
use super::{Fx, MathError};

/// x^y, within max(2 ulp, 2^-60 |x^y|). `x <= 0` is a domain error; results below 2^-65
/// round to 0; beyond the range, overflow. x^0 = 1 and x^1 = x exactly.
#[inline]
pub fn pow(x: Fx, y: Fx) -> Result<Fx, MathError> {
    let (x, y) = (x.to_bits(), y.to_bits());
    if x <= 0 {
        return Err(MathError::Domain);
    }
    // The two exact identities: x^0 = 1 and x^1 = x (e^(1 * ln x) would carry ln's error,
    // which at x near the top of the range is enough to step over it).
    if y == 0 {
        return Ok(Fx::ONE);
    }
    if y == 1 << 64 {
        return Ok(Fx::from_bits(x));
    }
    // ln x = l * 2^-scale (scale 127 near 1, where ln x can be as small as 2^-64).
    let (l, scale) = ln_scaled(x as u128, 64);
    if l == 0 {
        return Ok(Fx::ONE);
    }
    let negative = (y < 0) != (l < 0);
    // |y ln x| at 2^-(64 + scale).
    let (hi, lo) = mul_u128(y.unsigned_abs(), l.unsigned_abs());
    if hi >> (scale - 58) != 0 {
        // |y ln x| >= 64: e^64 overflows, e^-64 rounds to 0.
        return if negative {
            Ok(Fx::ZERO)
        } else {
            Err(MathError::Overflow)
        };
    }
    // Integer part and 128 fractional bits of |y ln x| (truncated: error < 2^-128).
    let int = (hi >> (scale - 64)) as i128;
    let frac = shr_u256(hi, lo, scale - 64);
    let (n, frac) = if !negative {
        (int, frac)
    } else if frac == 0 {
        (-int, 0)
    } else {
        (-int - 1, frac.wrapping_neg())
    };
    exp_to_fx(n, frac).map(Fx::from_bits)
}
