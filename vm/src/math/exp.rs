//! The exponential, and `exp_core`, the 190-bit kernel that pow, npdf and ncdf share.
//!
//! exp(x) for x = n + j/256 + c (n integer, j in 0..256, 0 <= c < 2^-8):
//!
//! ```text
//!   e^x = e^n * e^(j/256) * e^c
//!   e^c = 1 + c + c^2 * U(c),   U(c) = sum_{k=0}^{11} c^k / (k+2)!
//! ```
//!
//! e^n and e^(j/256) come from tables correctly rounded to 192 bits; c carries at most 56
//! significant bits (64 plus a 64-bit tail when the caller supplies a wider argument), so
//! the polynomial is cheap and exact where it matters. The product is formed in 192-bit
//! arithmetic with a relative error below 2^-140 (see spec/numerics.md for the budget),
//! which keeps exp within 1 ulp even where its result is near 2^63 and 1 ulp is a relative
//! 2^-127.

use super::tables::{EXP_FRAC, EXP_INT, EXP_N_MAX, EXP_N_MIN, EXP_POLY};
use super::wide::{add3, join3, mul3_hi, mul_u128, mul_u128_u64_shr64, shr_u256, split3};
use super::{Fx, MathError};

/// e^(n + frac * 2^-128) for n in EXP_N_MIN..=EXP_N_MAX, as (z, k) with
/// e^x = z * 2^(k - 188) and z in [2^188, 2^190.45), relative error below 2^-140.
#[inline]
#[allow(
    clippy::indexing_slicing,
    reason = "`EXP_POLY` is a non-empty constant table; `j` is the top 8 bits of `frac` and `EXP_FRAC` has 256 entries; callers pass `n` within EXP_N_MIN..=EXP_N_MAX (they return overflow or zero outside it), the index range of `EXP_INT`"
)]
pub(crate) fn exp_core(n: i32, frac: u128) -> ([u64; 3], i32) {
    debug_assert!((EXP_N_MIN..=EXP_N_MAX).contains(&n));
    let j = (frac >> 120) as usize;
    let c = ((frac >> 64) as u64) & ((1 << 56) - 1); // c at 2^-64, < 2^56
    let tail = frac as u64; // further argument bits at 2^-128

    // U(c) at 2^-128 by Horner's rule; every product is floored.
    let mut u = EXP_POLY[EXP_POLY.len() - 1];
    for &a in EXP_POLY[..EXP_POLY.len() - 1].iter().rev() {
        u = a + mul_u128_u64_shr64(u, c);
    }
    // P = 1 + c + c^2 U(c) at 2^-191, in [1, 1.004).
    let c2 = c as u128 * c as u128; // exact, at 2^-128
    let (hi, lo) = mul_u128(c2, u); // c^2 U at 2^-256
    let c2u = join3(hi >> 65, shr_u256(hi, lo, 65)); // at 2^-191
    let lin = join3((c >> 1) as u128, (c as u128) << 127); // c at 2^-191
    let mut p = add3(add3(lin, c2u), [0, 0, 1 << 63]);
    if tail != 0 {
        // e^tail = 1 + tail + O(2^-128): P += P * tail / 2^128, and with P = ph*2^128 + pl,
        // floor(P * tail / 2^128) = ph * tail + floor(pl * tail / 2^128) (< 2^128).
        let (ph, pl) = split3(p);
        let (h, _) = mul_u128(pl, tail as u128);
        p = add3(p, join3(0, ph * tail as u128 + h));
    }
    // Y = e^(j/256) * P: 2^-190 x 2^-191 -> 2^-381 -> (>> 192) at 2^-189, in [2^189, 2^190.45).
    let y = mul3_hi(EXP_FRAC[j], p);
    let (m, k) = EXP_INT[(n - EXP_N_MIN) as usize];
    // z = e^n mantissa (2^(k-191)) x Y (2^-189) >> 192: e^x = z * 2^(k - 188).
    (mul3_hi(m, y), k)
}

/// Relative error bound of [`exp_fast`], as a power of two: |z - e^x 2^(124-k)| <=
/// z * 2^-EXP_FAST_BITS (spec/numerics.md, section 5, "Fast path", has the budget).
pub(crate) const EXP_FAST_BITS: u32 = 78;

/// e^(n + frac * 2^-128) for n in EXP_N_MIN..=EXP_N_MAX to 128 bits, as (z, k) with
/// e^x ~ z * 2^(k - 124), z in [2^124, 2^126.45), relative error below 2^-78.8: the fast
/// path whose rounding the callers accept only when it cannot differ from `exp_core`'s.
///
/// The same split as `exp_core` (table cell j, c < 2^-8), but c is taken at 2^-72 (the bits
/// below go into one first-order step), U(c) stops at c^5/7! (the first term dropped,
/// c^8/8!, is below 2^-79.3), c^2 is kept to 2^-80, and the two table products use the
/// tables' top 128 bits. Budget (relative): Taylor 2^-79.3, c^2 2^-81, every truncation and
/// floor together below 2^-122: total below 2^-78.8.
#[inline]
#[allow(
    clippy::indexing_slicing,
    reason = "`EXP_POLY` has 12 entries (indices 0..=5 are read); `j` is the top 8 bits of `frac` and `EXP_FRAC` has 256 entries; callers pass `n` within EXP_N_MIN..=EXP_N_MAX, the index range of `EXP_INT`"
)]
pub(crate) fn exp_fast(n: i32, frac: u128) -> (u128, i32) {
    debug_assert!((EXP_N_MIN..=EXP_N_MAX).contains(&n));
    let j = (frac >> 120) as usize;
    let rest = frac & ((1 << 120) - 1); // at 2^-128, below 2^-8
    let c = (rest >> 56) as u64; // at 2^-72
    let low = (rest as u64) & ((1 << 56) - 1); // at 2^-128, below 2^-72
                                               // U(c) = sum_{k=0}^{5} c^k / (k+2)! at 2^-128.
    let mut u = EXP_POLY[5];
    for k in (0..5).rev() {
        u = EXP_POLY[k] + (mul_u128_u64_shr64(u, c) >> 8);
    }
    let c2 = ((c as u128 * c as u128) >> 64) as u64; // c^2 at 2^-80 (below 2^-16)
    let c2u = mul_u128_u64_shr64(u, c2) >> 17; // c^2 U at 2^-127
    let mut p = (1u128 << 127) + ((c as u128) << 55) + c2u; // e^c at 2^-127, < 2^127.006
    p += mul_u128_u64_shr64(p, low) >> 64; // times e^low = 1 + low + O(2^-144)
    let f = EXP_FRAC[j];
    let (y, _) = mul_u128(((f[2] as u128) << 64) | f[1] as u128, p); // at 2^-125
    let (m, k) = EXP_INT[(n - EXP_N_MIN) as usize];
    let (z, _) = mul_u128(((m[2] as u128) << 64) | m[1] as u128, y); // at 2^(k-124)
    (z, k)
}

/// Above this integer part, exp's result is large enough that the fast path's relative
/// 2^-78 is a sizeable part of an ulp, and exp goes straight to `exp_core`.
const EXP_FAST_N_MAX: i32 = 2;

/// Rounds e^(n + frac * 2^-128) to I64F64 raw bits: 0 below the table, overflow above.
#[inline]
pub(crate) fn exp_to_fx(n: i128, frac: u128) -> Result<i128, MathError> {
    if n < EXP_N_MIN as i128 {
        // e^x < e^-46 < 2^-66: rounds to 0.
        return Ok(0);
    }
    if n > EXP_N_MAX as i128 {
        return Err(MathError::Overflow);
    }
    if n <= EXP_FAST_N_MAX as i128 {
        // The fast path: raw = z128 / 2^s rounded half up, s = 60 - k. Its value is within
        // z128 2^-78 of exact; exp_core's within 2^(s - 13) units (2^-13 ulp). When the
        // discarded bits are farther than both from the half-way point, both round alike.
        let (z, k) = exp_fast(n as i32, frac);
        let s = (60 - k) as u32; // >= 58 for n <= EXP_FAST_N_MAX
        let fraction = z & ((1 << s) - 1);
        let margin = (z >> EXP_FAST_BITS) + (1 << (s - 13)) + 2;
        if fraction.abs_diff(1 << (s - 1)) > margin {
            let q = z >> s;
            return Ok((q + (fraction >> (s - 1))) as i128);
        }
    }
    let (z, k) = exp_core(n as i32, frac);
    // raw = z * 2^(k - 124), rounded half up (a tie is impossible for a transcendental value,
    // and the computed z is never exact to the last bit anyway).
    let shift = (124 - k) as u32; // in [62, 191]
    let (hi, lo) = split3(z);
    if shift - 1 < 128 && hi >> (shift - 1) != 0 {
        return Err(MathError::Overflow); // the result needs more than 128 bits
    }
    let half_up = shr_u256(hi, lo, shift - 1);
    let raw = (half_up >> 1) + (half_up & 1);
    i128::try_from(raw).map_err(|_| MathError::Overflow)
}

/// e^x, within 1 ulp. Results below 2^-65 round to 0; above the I64F64 range, overflow.
#[inline]
pub fn exp(x: Fx) -> Result<Fx, MathError> {
    let raw = x.to_bits();
    exp_to_fx(raw >> 64, (raw as u64 as u128) << 64).map(Fx::from_bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// exp_to_fx's result through exp_core alone (the reference the fast path must match).
    fn slow(n: i128, frac: u128) -> Result<i128, MathError> {
        if n < EXP_N_MIN as i128 {
            return Ok(0);
        }
        if n > EXP_N_MAX as i128 {
            return Err(MathError::Overflow);
        }
        let (z, k) = exp_core(n as i32, frac);
        let shift = (124 - k) as u32;
        let (hi, lo) = split3(z);
        if shift - 1 < 128 && hi >> (shift - 1) != 0 {
            return Err(MathError::Overflow);
        }
        let half_up = shr_u256(hi, lo, shift - 1);
        let raw = (half_up >> 1) + (half_up & 1);
        i128::try_from(raw).map_err(|_| MathError::Overflow)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200_000))]

        #[test]
        fn fast_exp_rounds_as_the_192_bit_kernel(x in -47i128 << 64..44i128 << 64) {
            prop_assert_eq!(exp_to_fx(x >> 64, (x as u64 as u128) << 64), slow(x >> 64, (x as u64 as u128) << 64));
        }

        #[test]
        fn fast_exp_is_within_its_bound(n in EXP_N_MIN..=EXP_N_MAX, frac in any::<u128>()) {
            let (z, k) = exp_fast(n, frac);
            let (exact, k2) = exp_core(n, frac);
            prop_assert_eq!(k, k2);
            let (hi, lo) = split3(exact);
            let reference = (hi << 64) | (lo >> 64); // within 2^-124 relative of e^x
            prop_assert!(z.abs_diff(reference) <= (reference >> EXP_FAST_BITS) + 2, "{} vs {}", z, reference);
        }
    }
}
