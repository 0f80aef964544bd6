//! The standard normal distribution: density `npdf`, CDF `ncdf`, quantile `inv_ncdf`.
//!
//! All three rest on two facts. The density is phi(x) = e^(-x^2/2) / sqrt(2 pi), computed by
//! `exp_core` with a relative error below 2^-120. The upper tail Q(x) = 1 - Phi(x) is
//! phi(x) M(x), where the Mills ratio M is smooth and bounded on [0, 10) and comes from a
//! piecewise polynomial accurate to 2^-86. So Q keeps a relative error below 2^-76 even
//! deep in the tail, which is what makes `ncdf` monotone and lets `inv_ncdf` invert it.
//!
//! inv_ncdf(p) takes q = min(p, 1 - p), guesses x0 = X(sqrt(-2 ln q)) from a piecewise
//! polynomial (error below 2^-46), and takes one Newton step on g(x) = ln Q(x) - ln q:
//!
//! ```text
//!   ln Q(x) = -x^2/2 - ln sqrt(2 pi) + ln M(x),   g'(x) = -1/M(x)
//!   x1 = x0 + M(x0) * (ln Q(x0) - ln q)
//! ```
//!
//! Newton's error is below 0.4 * (2^-46)^2, and the step's own rounding errors are a few
//! 2^-80, so the result is within 0.51 ulp of the exact quantile for every p.

use super::exp::{exp_core, exp_fast};
use super::ln::{ln_core, ln_fast};
use super::sqrt::sqrt_raw;
use super::tables::{EXP_N_MIN, INV_NCDF_GUESS, INV_SQRT_2PI_128, LN_SQRT_2PI_120, MILLS};
use super::wide::{mul_shr_i128, mul_u128, shr_u256, split3};
use super::{Fx, MathError};

/// |x| at or beyond this (10.0) has phi(x) < 2^-70 and Q(x) < 2^-70: both round to 0.
const CUTOFF: u128 = 10 << 64;

/// -x^2/2 for |x| < 10 (raw bits) as exp_core's argument (n, frac), or None when it is
/// below -46 (so that phi and Q round to 0).
#[inline]
fn minus_half_square(ax: u128) -> Option<(i32, u128)> {
    debug_assert!(ax < CUTOFF);
    let (hi, lo) = mul_u128(ax, ax); // x^2 at 2^-128, < 2^137
                                     // y = x^2/2 = int + frac * 2^-128 (the halving drops one bit: error 2^-129).
    let int = (hi >> 1) as i128;
    let frac = shr_u256(hi, lo, 1);
    let (n, frac) = if frac == 0 {
        (-int, 0)
    } else {
        (-int - 1, frac.wrapping_neg())
    };
    if n < EXP_N_MIN as i128 {
        return None;
    }
    Some((n as i32, frac))
}

/// e^(-x^2/2) for |x| < 10 (raw bits) as (z, k) from `exp_core`, or None when it is
/// below e^-46 (so that phi and Q round to 0).
#[inline]
fn gaussian(ax: u128) -> Option<([u64; 3], i32)> {
    minus_half_square(ax).map(|(n, frac)| exp_core(n, frac))
}

/// e^(-x^2/2) for |x| < 10 (raw magnitude) by the fast path, with exp_core's argument:
/// (n, frac, z, k), e^(-x^2/2) ~ z 2^(k-124) within a relative 2^-78.8. None where phi and
/// Q round to 0 (|x| >= 10, or the exponent below -46).
#[inline]
fn gaussian_fast(ax: u128) -> Option<(i32, u128, u128, i32)> {
    if ax >= CUTOFF {
        return None;
    }
    let (n, frac) = minus_half_square(ax)?;
    let (z, k) = exp_fast(n, frac);
    Some((n, frac, z, k))
}

/// Q(|x|) at 2^-128 by the fast path from e^(-x^2/2) ~ z 2^(k-124) (`gaussian_fast`) and
/// the Mills ratio from `Piecewise::eval_fast` (absolute 2^-84.8 with the table's own
/// error), so relative 2^-78.5 (M >= 0.099): within 2^-79.5 absolute, or 2^48.5 units.
#[inline]
fn upper_tail_fast(ax: u128, z: u128, k: i32) -> u128 {
    let m = MILLS.eval_fast(ax as i128) as u128;
    let (c, _) = mul_u128(m, INV_SQRT_2PI_128);
    let (hi, lo) = mul_u128(z, c);
    shr_u256(hi, lo, (116 - k) as u32)
}

/// |Q128 - exact Q * 2^128| bounds: the fast path's (2^48.5, with slack) plus the slow
/// path's (relative 2^-78 of Q <= 1/2: 2^49), in units of 2^-128.
const Q_FAST_MARGIN: u128 = (1 << 49) + (1 << 49);

/// Q(|x|) at 2^-128, from the fast path when its rounding to 2^-64 is certain to be
/// `upper_tail_128`'s (farther than both paths' errors from a half-way point), else from
/// `upper_tail_128` itself: the result rounds to the same bits either way.
#[inline]
fn upper_tail_rounding_safe(ax: u128, gaussian: Option<(i32, u128, u128, i32)>) -> u128 {
    let Some((_, _, z, k)) = gaussian else {
        return 0; // where upper_tail_128 is 0 too
    };
    let q = upper_tail_fast(ax, z, k);
    if (q as u64 as u128).abs_diff(1 << 63) > Q_FAST_MARGIN {
        return q;
    }
    upper_tail_128(ax)
}

/// phi's raw bits from `gaussian_fast`'s result: the fast value when its rounding is
/// certain (phi at 2^-97, within phi 2^-78.8, i.e. 2^16.9 units, of exact; exp_core's path
/// within 2^-123 relative; accepted when the 33 bits below the result are farther than
/// 2^18 from the half-way point 2^32), else exp_core's.
#[inline]
fn density(gaussian: Option<(i32, u128, u128, i32)>) -> i128 {
    let Some((n, frac, zf, kf)) = gaussian else {
        return 0;
    };
    let (hi, lo) = mul_u128(zf, INV_SQRT_2PI_128);
    let fine = shr_u256(hi, lo, (155 - kf) as u32); // phi at 2^-97
    let below = fine & ((1 << 33) - 1);
    if below.abs_diff(1 << 32) > 1 << 18 {
        return ((fine >> 33) + (below >> 32)) as i128;
    }
    let (z, k) = exp_core(n, frac);
    // phi * 2^64 = z128 * 2^(k-124) * I * 2^-128 * 2^64 = z128 * I * 2^(k - 188).
    let (hi, lo) = mul_u128(top128(z), INV_SQRT_2PI_128);
    let half_up = shr_u256(hi, lo, (187 - k) as u32);
    ((half_up >> 1) + (half_up & 1)) as i128
}

/// ncdf's raw bits from Q(|x|) at 2^-128: Q rounded once, both tails derived from it.
#[inline]
fn cdf_from_tail(raw: i128, q: u128) -> i128 {
    let q64 = ((q >> 64) + ((q >> 63) & 1)) as i128;
    if raw < 0 {
        q64
    } else {
        (1 << 64) - q64
    }
}

/// The top 128 bits of exp_core's mantissa: e^x = z128 * 2^(k - 124), z128 >= 2^124.
#[inline]
fn top128(z: [u64; 3]) -> u128 {
    let (hi, lo) = split3(z);
    (hi << 64) | (lo >> 64)
}

/// Q(|x|) = 1 - Phi(|x|) at 2^-128, for |x| given as raw magnitude bits.
#[inline]
fn upper_tail_128(ax: u128) -> u128 {
    if ax >= CUTOFF {
        return 0;
    }
    let Some((z, k)) = gaussian(ax) else { return 0 };
    let m = MILLS.eval(ax as i128) as u128; // M(x) at 2^-120, in (0.09, 1.26)
    let (c, _) = mul_u128(m, INV_SQRT_2PI_128); // M / sqrt(2 pi) at 2^-120
                                                // Q * 2^128 = z128 * 2^(k-124) * c * 2^-120 * 2^128 = z128 * c * 2^(k - 116), k <= 0.
    let (hi, lo) = mul_u128(top128(z), c);
    shr_u256(hi, lo, (116 - k) as u32)
}

/// Standard normal density phi(x), within 1 ulp.
#[inline]
pub fn npdf(x: Fx) -> Result<Fx, MathError> {
    Ok(Fx::from_bits(density(gaussian_fast(
        x.to_bits().unsigned_abs(),
    ))))
}

/// Standard normal CDF Phi(x), within 1 ulp, monotone, with ncdf(x) + ncdf(-x) = 1 exactly.
#[inline]
pub fn ncdf(x: Fx) -> Result<Fx, MathError> {
    let raw = x.to_bits();
    let ax = raw.unsigned_abs();
    let q = upper_tail_rounding_safe(ax, gaussian_fast(ax));
    Ok(Fx::from_bits(cdf_from_tail(raw, q)))
}

/// (ncdf(x), npdf(x)), the same bits as the two calls, with e^(-x^2/2) computed once: for
/// the Black-Scholes row, which needs both at d1.
#[inline]
pub(crate) fn ncdf_npdf(x: Fx) -> (Fx, Fx) {
    let raw = x.to_bits();
    let ax = raw.unsigned_abs();
    let gaussian = gaussian_fast(ax);
    let q = upper_tail_rounding_safe(ax, gaussian);
    (
        Fx::from_bits(cdf_from_tail(raw, q)),
        Fx::from_bits(density(gaussian)),
    )
}

/// x0 = GUESS(sqrt(-2 ln q)) rounded to I64F64 and clamped to [0, 10): inv_ncdf's start
/// (s = sqrt(-2 ln q) lies in [1.17, 9.42]; the guess table covers [1, 10)).
#[inline]
fn first_guess(ln_q: i128) -> i128 {
    let two_ln = ((-ln_q) as u128) * 2;
    let s = sqrt_raw((two_ln + (1 << 55)) >> 56) as i128;
    let guess = INV_NCDF_GUESS.eval(s);
    ((guess + (1 << 55)) >> 56).clamp(0, CUTOFF as i128 - 1)
}

/// One Newton step on ln Q(x) = ln q from x0 (I64F64 raw), with m0 = M(x0) and its
/// logarithm, all at 2^-120: x1 = x0 + M(x0) (ln Q(x0) - ln q), at 2^-120.
#[inline]
fn newton_step(x0: i128, m0: i128, ln_m0: i128, ln_q: i128) -> i128 {
    let (hi, lo) = mul_u128(x0 as u128, x0 as u128); // x0^2 at 2^-128
    let half_square = shr_u256(hi, lo, 9) as i128; // x0^2 / 2 at 2^-120
    let ln_q0 = ln_m0 - half_square - LN_SQRT_2PI_120;
    (x0 << 56) + mul_shr_i128(m0, ln_q0 - ln_q, 120)
}

/// |x1 - exact x| bounds at 2^-120: the fast path's (ln q and ln M(x0) each within 2^-80.3
/// and multiplied by M <= 1.26, M(x0) within 2^-85, Newton's remainder 2^-93: 2^-78.9 in
/// all) plus the slow path's (2^-17 ulp, 2^-81), with slack.
const INV_NCDF_FAST_MARGIN: i128 = 1 << 42;

/// inv_ncdf's x >= 0 for q = min(p, 1 - p) in (0, 1/2) by the fast path: the slow path's
/// steps with `ln_fast` for both logarithms and `eval_fast` for M(x0), taken when the
/// rounding of x1 is certain to be the slow path's (see INV_NCDF_FAST_MARGIN); else None.
#[inline]
fn inv_ncdf_fast(q: i128) -> Option<i128> {
    let ln_q = ln_fast(q as u128, 64)?;
    let x0 = first_guess(ln_q);
    let m0 = MILLS.eval_fast(x0);
    let ln_m0 = ln_fast(m0 as u128, 120)?;
    let x1 = newton_step(x0, m0, ln_m0, ln_q);
    let below = x1 & ((1 << 56) - 1);
    if (below - (1 << 55)).abs() <= INV_NCDF_FAST_MARGIN {
        return None;
    }
    Some((x1 + (1 << 55)) >> 56)
}

/// Quantile Phi^-1(p) for 0 < p < 1, within 1 ulp (see the module docs for the bound).
/// p outside (0, 1) is a domain error.
#[inline]
pub fn inv_ncdf(p: Fx) -> Result<Fx, MathError> {
    quantile(p, |q| {
        inv_ncdf_fast(q).unwrap_or_else(|| quantile_magnitude(q))
    })
}

/// inv_ncdf's domain and symmetry around `magnitude`, the x >= 0 that solves Q(x) = q
/// for q = min(p, 1 - p) in (0, 1/2).
#[inline(always)]
fn quantile(p: Fx, magnitude: impl Fn(i128) -> i128) -> Result<Fx, MathError> {
    const ONE: i128 = 1 << 64;
    const HALF: i128 = 1 << 63;
    let raw = p.to_bits();
    if raw <= 0 || raw >= ONE {
        return Err(MathError::Domain);
    }
    if raw == HALF {
        return Ok(Fx::ZERO);
    }
    // x = Phi^-1(1 - q) = -Phi^-1(q) >= 0 solves Q(x) = q.
    let (q, lower) = if raw < HALF {
        (raw, true)
    } else {
        (ONE - raw, false)
    };
    let x = magnitude(q);
    Ok(Fx::from_bits(if lower { -x } else { x }))
}

/// The x >= 0 with Q(x) = q by the algorithm of spec/numerics.md, section 9.
#[inline]
fn quantile_magnitude(q: i128) -> i128 {
    let ln_q = ln_core(q as u128, 64); // at 2^-120, in [-44.4, -0.69]
    let x0 = first_guess(ln_q);
    // One Newton step on ln Q(x) = ln q, all at 2^-120.
    let m0 = MILLS.eval(x0); // M(x0) in (0.09, 1.26)
    let ln_m0 = ln_core(m0 as u128, 120);
    let x1 = newton_step(x0, m0, ln_m0, ln_q);
    (x1 + (1 << 55)) >> 56
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// ncdf and npdf through the 192-bit path alone: what the fast paths must reproduce.
    fn ncdf_slow(x: Fx) -> Fx {
        let raw = x.to_bits();
        let q = upper_tail_128(raw.unsigned_abs());
        let q64 = ((q >> 64) + ((q >> 63) & 1)) as i128;
        Fx::from_bits(if raw < 0 { q64 } else { (1 << 64) - q64 })
    }

    fn npdf_slow(x: Fx) -> Fx {
        let ax = x.to_bits().unsigned_abs();
        if ax >= CUTOFF {
            return Fx::ZERO;
        }
        let Some((z, k)) = gaussian(ax) else {
            return Fx::ZERO;
        };
        let (hi, lo) = mul_u128(top128(z), INV_SQRT_2PI_128);
        let half_up = shr_u256(hi, lo, (187 - k) as u32);
        Fx::from_bits(((half_up >> 1) + (half_up & 1)) as i128)
    }

    /// inv_ncdf by the slow path alone.
    fn inv_ncdf_slow(raw: i128) -> Result<Fx, MathError> {
        quantile(Fx::from_bits(raw), quantile_magnitude)
    }

    /// Inputs over the whole domain, the tails and the cut-offs.
    fn argument() -> impl Strategy<Value = i128> {
        prop_oneof![
            -(11i128 << 64)..(11i128 << 64),
            -(1i128 << 64)..(1i128 << 64),
            (9i128 << 64)..(10i128 << 64) + 5,
            any::<i128>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300_000))]

        #[test]
        fn fast_normal_functions_are_the_192_bit_ones(x in argument()) {
            let x = Fx::from_bits(x);
            prop_assert_eq!(ncdf(x), Ok(ncdf_slow(x)));
            prop_assert_eq!(npdf(x), Ok(npdf_slow(x)));
            prop_assert_eq!(ncdf_npdf(x), (ncdf_slow(x), npdf_slow(x)));
        }

        #[test]
        fn fast_inv_ncdf_is_the_slow_one(p in prop_oneof![
            1i128..(1i128 << 64),
            (0u32..64, any::<u64>()).prop_map(|(k, v)| ((v >> k) as i128).max(1)),
            (0u32..64, any::<u64>()).prop_map(|(k, v)| (1i128 << 64) - ((v >> k) as i128).max(1)),
        ]) {
            prop_assert_eq!(inv_ncdf(Fx::from_bits(p)), inv_ncdf_slow(p));
        }

        #[test]
        fn the_fast_tail_is_within_its_bound(x in 0i128..(10i128 << 64)) {
            let ax = x as u128;
            if let Some((_, _, z, k)) = gaussian_fast(ax) {
                let fast = upper_tail_fast(ax, z, k);
                let slow = upper_tail_128(ax);
                // Both within their bounds of the exact value: within the sum of each other.
                prop_assert!(fast.abs_diff(slow) <= Q_FAST_MARGIN, "{x:#x}: {fast} vs {slow}");
            }
        }
    }
}
