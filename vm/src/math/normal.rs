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

use super::exp::exp_core;
use super::ln::ln_core;
use super::sqrt::sqrt_raw;
use super::tables::{EXP_N_MIN, INV_NCDF_GUESS, INV_SQRT_2PI_128, LN_SQRT_2PI_120, MILLS};
use super::wide::{mul_shr_i128, mul_u128, shr_u256, split3};
use super::{Fx, MathError};

/// |x| at or beyond this (10.0) has phi(x) < 2^-70 and Q(x) < 2^-70: both round to 0.
const CUTOFF: u128 = 10 << 64;

/// e^(-x^2/2) for |x| < 10 (raw bits) as (z, k) from `exp_core`, or None when it is
/// below e^-46 (so that phi and Q round to 0).
#[inline]
fn gaussian(ax: u128) -> Option<([u64; 3], i32)> {
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
    Some(exp_core(n as i32, frac))
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
    let ax = x.to_bits().unsigned_abs();
    if ax >= CUTOFF {
        return Ok(Fx::ZERO);
    }
    let Some((z, k)) = gaussian(ax) else {
        return Ok(Fx::ZERO);
    };
    // phi * 2^64 = z128 * 2^(k-124) * I * 2^-128 * 2^64 = z128 * I * 2^(k - 188).
    let (hi, lo) = mul_u128(top128(z), INV_SQRT_2PI_128);
    let half_up = shr_u256(hi, lo, (187 - k) as u32);
    Ok(Fx::from_bits(((half_up >> 1) + (half_up & 1)) as i128))
}

/// Standard normal CDF Phi(x), within 1 ulp, monotone, with ncdf(x) + ncdf(-x) = 1 exactly.
#[inline]
pub fn ncdf(x: Fx) -> Result<Fx, MathError> {
    let raw = x.to_bits();
    let q = upper_tail_128(raw.unsigned_abs());
    // Round Q once and derive both sides from it, so the two tails agree exactly.
    let q64 = ((q >> 64) + ((q >> 63) & 1)) as i128;
    Ok(Fx::from_bits(if raw < 0 { q64 } else { (1 << 64) - q64 }))
}

/// Quantile Phi^-1(p) for 0 < p < 1, within 1 ulp (see the module docs for the bound).
/// p outside (0, 1) is a domain error.
#[inline]
pub fn inv_ncdf(p: Fx) -> Result<Fx, MathError> {
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
    let ln_q = ln_core(q as u128, 64); // at 2^-120, in [-44.4, -0.69]
                                       // s = sqrt(-2 ln q) in [1.17, 9.42] (the guess table covers [1, 10)).
    let two_ln = ((-ln_q) as u128) * 2;
    let s = sqrt_raw((two_ln + (1 << 55)) >> 56) as i128;
    let guess = INV_NCDF_GUESS.eval(s);
    let x0 = ((guess + (1 << 55)) >> 56).clamp(0, CUTOFF as i128 - 1);

    // One Newton step on ln Q(x) = ln q, all at 2^-120.
    let m0 = MILLS.eval(x0); // M(x0) in (0.09, 1.26)
    let ln_m0 = ln_core(m0 as u128, 120);
    let (hi, lo) = mul_u128(x0 as u128, x0 as u128); // x0^2 at 2^-128
    let half_square = shr_u256(hi, lo, 9) as i128; // x0^2 / 2 at 2^-120
    let ln_q0 = ln_m0 - half_square - LN_SQRT_2PI_120;
    let step = mul_shr_i128(m0, ln_q0 - ln_q, 120);
    let x1 = (x0 << 56) + step;
    let x = (x1 + (1 << 55)) >> 56;
    Ok(Fx::from_bits(if lower { -x } else { x }))
}
