//! x^y for x > 0, as e^(y ln x) with both kernels at full internal precision.
//!
//! L = y ln x is formed at 2^-120 with an absolute error below |L| 2^-107 + 2^-119, and
//! handed to `exp_core` without rounding in between:
//! - within 2^-8 of 1, ln x = t R(t) with t = x - 1 exact: y t is an exact 256-bit
//!   product, so a huge y times a tiny t loses nothing;
//! - elsewhere, ln x comes from `ln_core` (absolute error 2^-117, and |ln x| > 2^-9).
//!
//! The result's relative error is therefore about 2^-100 or better, far inside the bound
//! max(2 ulp, 2^-60 |x^y|). Overflow is decided exactly where it matters: for x an exact
//! power of two, ln x = e ln 2 is exact and x^y = 2^(e y) is decided (and, for whole e y,
//! returned) exactly; within 2^-8 of 1, a result near the threshold is settled by
//! `pow_threshold` at 2^-182. Elsewhere the computed value decides: landing within 2^-100 of
//! the threshold there takes a y whose 2^-64 grid spacing in y ln x (>= 2^-73) happens to fall
//! that close, about a 2^-26 chance per constructed attempt.

use super::exp::{exp_fast, exp_to_fx};
use super::ln::{ln_core, ln_fast, log1p_ratio, offset_from_one};
use super::pow_threshold::overflows_near_one;
use super::tables::EXP_N_MIN;
use super::tables::LN_OVERFLOW_190;
use super::wide::{mul_shr_i128, mul_u128, shr_u256};
use super::{Fx, MathError};

const ONE: i128 = 1 << 64;

/// x^y, within max(2 ulp, 2^-60 |x^y|). `x <= 0` is a domain error; results below 2^-65
/// round to 0; beyond the range, overflow. x^0 = 1 and x^1 = x exactly, and so is 2^k for a
/// power of two x with k = y log2 x whole.
#[inline]
pub fn pow(x: Fx, y: Fx) -> Result<Fx, MathError> {
    let (x, y) = (x.to_bits(), y.to_bits());
    if x <= 0 {
        return Err(MathError::Domain);
    }
    // The exact identities: x^0 = 1 and x^1 = x (e^(1 * ln x) would carry ln's error).
    if y == 0 {
        return Ok(Fx::ONE);
    }
    if y == ONE {
        return Ok(Fx::from_bits(x));
    }
    if x.count_ones() == 1 {
        if let Some(result) = power_of_two(x.trailing_zeros() as i128 - 64, y) {
            return result;
        }
    }
    let near_one = offset_from_one(x as u128, 64);
    if near_one.is_none() {
        if let Some(raw) = pow_fast(x as u128, y) {
            return Ok(Fx::from_bits(raw));
        }
    }
    let Some(l) = log_product(x as u128, y, near_one) else {
        // |y ln x| > 63: e^63 overflows, e^-63 rounds to 0.
        let negative = (y < 0) != (x < ONE);
        return if negative {
            Ok(Fx::ZERO)
        } else {
            Err(MathError::Overflow)
        };
    };
    // floor and fraction of L (at 2^-120): n = floor(L), frac at 2^-128.
    let n = l >> 120;
    let frac = ((l - (n << 120)) as u128) << 8;
    let result = exp_to_fx(n, frac).map(Fx::from_bits);
    // Within 2^-100 of the overflow threshold the computed L cannot decide; near 1 the
    // decision is made exactly (pow_threshold), and a representable result is capped at MAX.
    if let Some(t) = near_one {
        if (l - LN_OVERFLOW_120).unsigned_abs() <= 1 << 20 {
            match overflows_near_one(y, t) {
                Some(true) => return Err(MathError::Overflow),
                Some(false) => return Ok(result.unwrap_or(Fx::MAX)),
                None => {}
            }
        }
    }
    result
}

/// ln(2^63 - 2^-65) at 2^-120, from the 2^-190 constant (bits 70..198).
/// x^y by the fast path, when its rounding is certain to be the general path's: away
/// from 1 (where `ln_fast` answers), |y| < 2^16, and e^L with floor(L) in -46..=3. Then
/// L = y ln x is within |y| 2^-80.3 + 2^-120 of exact, e^L's value within a relative
/// 2^-78.8 more ([`exp_fast`]), and the general path's within a relative 2^-100 (its L to
/// |L| 2^-107 + 2^-119, exp_core to 2^-140) and 2^-13 ulp; the result is taken when the
/// discarded bits are farther than all of that from the half-way point. None otherwise.
#[inline]
fn pow_fast(x: u128, y: i128) -> Option<i128> {
    if y.unsigned_abs() >= 1 << 80 {
        return None;
    }
    let l = ln_fast(x, 64)?;
    let negative = (y < 0) != (l < 0);
    let (hi, lo) = mul_u128(y.unsigned_abs(), l.unsigned_abs()); // at 2^-184
    if hi >> 62 != 0 {
        return None;
    }
    let v = shr_u256(hi, lo, 64) as i128; // at 2^-120
    let big_l = if negative { -v } else { v };
    let n = big_l >> 120;
    if !(EXP_N_MIN as i128..=3).contains(&n) {
        return None;
    }
    let frac = ((big_l - (n << 120)) as u128) << 8;
    let (z, k) = exp_fast(n as i32, frac);
    let s = (60 - k) as u32; // >= 55 for n <= 3
    let fraction = z & ((1 << s) - 1);
    let y_whole = (y.unsigned_abs() >> 64) + 1; // >= |y|, below 2^16
    let margin = (z >> 78) + (z >> 80) * y_whole + (z >> 99) + (1 << (s - 13)) + 4;
    if fraction.abs_diff(1 << (s - 1)) <= margin {
        return None;
    }
    Some(((z >> s) + (fraction >> (s - 1))) as i128)
}

const LN_OVERFLOW_120: i128 = {
    let l = LN_OVERFLOW_190;
    let high = (l[3] as u128) << 58 | (l[2] as u128) >> 6; // bits 134..
    let low = (l[2] as u128) << 58 | (l[1] as u128) >> 6; // bits 70..134 (low 64 kept)
    ((high << 64) | (low as u64 as u128)) as i128
};

/// y ln x at 2^-120, or None when |y ln x| > 63 (beyond exp's range either way).
#[inline]
fn log_product(x: u128, y: i128, near_one: Option<i128>) -> Option<i128> {
    if let Some(t) = near_one {
        // y t exactly at 2^-191 (|t| <= 2^-8): then times R = log1p(t)/t in (0.99, 1.004).
        let negative = (y < 0) != (t < 0);
        let (hi, lo) = mul_u128(y.unsigned_abs(), t.unsigned_abs());
        if hi >> 69 != 0 {
            return None; // |y t| >= 2^(197 - 191) = 64, so |y ln x| > 63
        }
        let yt = shr_u256(hi, lo, 71) as i128; // at 2^-120, < 2^124
        let yt = if negative { -yt } else { yt };
        Some(mul_shr_i128(yt, log1p_ratio(t), 126))
    } else {
        let l = ln_core(x, 64); // at 2^-120, |l| > 2^-9
        let negative = (y < 0) != (l < 0);
        let (hi, lo) = mul_u128(y.unsigned_abs(), l.unsigned_abs()); // at 2^-184
        if hi >> 62 != 0 {
            return None; // |y ln x| >= 2^(190 - 184) = 64
        }
        let v = shr_u256(hi, lo, 64) as i128; // at 2^-120
        Some(if negative { -v } else { v })
    }
}

/// x^y for x = 2^e exactly: 2^(e y) with E = e y an exact multiple of 2^-64. It overflows
/// exactly when E >= 63 (2^(63 - 2^-64) is below the range's top by far more than any
/// rounding), and is the exact power 2^E when E is whole and representable. Other cases
/// (None) take the general path, which cannot overflow for E < 63.
#[inline]
fn power_of_two(e: i128, y: i128) -> Option<Result<Fx, MathError>> {
    let Some(big_e) = y.checked_mul(e) else {
        // |e y| >= 2^63: beyond either end.
        return Some(if (y < 0) != (e < 0) {
            Ok(Fx::ZERO)
        } else {
            Err(MathError::Overflow)
        });
    };
    if big_e >= 63 * ONE {
        return Some(Err(MathError::Overflow));
    }
    if big_e % ONE == 0 && big_e >= -64 * ONE {
        // 2^k with k in -64..=62 is raw 2^(k + 64).
        return Some(Ok(Fx::from_bits(1 << (big_e / ONE + 64))));
    }
    None
}

#[cfg(test)]
mod fast_tests {
    use super::*;
    use proptest::prelude::*;

    /// pow with the fast path switched off: the general path alone.
    fn pow_slow(x: i128, y: i128) -> Result<Fx, MathError> {
        let near_one = offset_from_one(x as u128, 64);
        let Some(l) = log_product(x as u128, y, near_one) else {
            return if (y < 0) != (x < ONE) {
                Ok(Fx::ZERO)
            } else {
                Err(MathError::Overflow)
            };
        };
        let n = l >> 120;
        let frac = ((l - (n << 120)) as u128) << 8;
        exp_to_fx(n, frac).map(Fx::from_bits)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300_000))]

        #[test]
        fn fast_pow_is_the_general_path(x in 1i128..(1i128 << 80), y in -(20i128 << 64)..(20i128 << 64)) {
            if let Some(fast) = pow_fast(x as u128, y) {
                prop_assert_eq!(Ok(Fx::from_bits(fast)), pow_slow(x, y), "{:#x} ^ {:#x}", x, y);
            }
        }

        #[test]
        fn fast_pow_with_small_exponents(x in (1i128 << 60)..(16i128 << 64), y in -(1i128 << 68)..(1i128 << 68)) {
            if let Some(fast) = pow_fast(x as u128, y) {
                prop_assert_eq!(Ok(Fx::from_bits(fast)), pow_slow(x, y), "{:#x} ^ {:#x}", x, y);
            }
        }
    }
}
