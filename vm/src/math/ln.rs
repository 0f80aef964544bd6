//! The natural logarithm, and `ln_core`, its 120-bit kernel shared by pow and inv_ncdf.
//!
//! For v > 0 normalised as v = m * 2^e with m in [1, 2):
//!
//! ```text
//!   ln v = e ln 2 + ln(m r_j) - ln r_j,   r_j ~ 1/m from a 256-entry table,
//!   t = m r_j - 1,  |t| <= 2^-9,          ln(1 + t) = t - t^2 G(t)
//! ```
//!
//! m * r_j is formed exactly (128 x 64 bits), so t carries no error beyond a final 2^-127
//! truncation. Near 1 (|v - 1| < 2^-8) the table step would cancel against e ln 2, so
//! t = v - 1 (exact) is used directly, as ln v = t * R(t) with R = log1p(t)/t: pow uses
//! the two factors separately so that y * t stays exact however small t is.

use super::tables::{LN2_127, LN_LOG_RECIP, LN_RECIP, LOG1P_G};
use super::wide::{mul_shr127_approx, mul_shr_i128, mul_shr_i64, mul_u128_u64_shr64};
use super::{Fx, MathError};

/// How many of G's leading coefficients take the full-precision t (see `log1p_ratio`).
const EXACT_STEPS: usize = 4;

/// log1p(t) / t = 1 - t G(t) for t at 2^-127 with |t| <= 2^-8, at 2^-126, with relative
/// error below 2^-110.
///
/// G(t) = 1/2 - t/3 + t^2/4 - ... is evaluated by Horner's rule. Each step multiplies by t,
/// so an error in the inner part is scaled down by |t| <= 2^-8 per step outward: the inner
/// steps use t truncated to 2^-70 (one 64-bit multiply each), the outer `EXACT_STEPS` use
/// all 127 bits, which leaves G accurate to about 2^-103 and t G to 2^-111.
#[inline]
pub(crate) fn log1p_ratio(t: i128) -> i128 {
    debug_assert!(t.unsigned_abs() <= 1 << 119);
    let t70 = (t >> 57) as i64; // t at 2^-70, |t70| <= 2^62
                                // Horner runs from the highest coefficient down: the trailing ones first, cheaply.
    let (leading, trailing) = LOG1P_G.split_at(EXACT_STEPS);
    let mut g = horner_t70(trailing, t70);
    for &a in leading.iter().rev() {
        g = a + mul_shr127_approx(g, t);
    }
    // g = G(t) at 2^-126, in (0.49, 0.51).
    (1 << 126) - mul_shr127_approx(g, t)
}

/// Horner's rule over `coeffs` (at 2^-126) in t at 2^-70.
#[inline(always)]
#[allow(
    clippy::indexing_slicing,
    reason = "`coeffs` is one of the constant, non-empty coefficient tables"
)]
fn horner_t70(coeffs: &[i128], t70: i64) -> i128 {
    let mut g = coeffs[coeffs.len() - 1];
    for &a in coeffs[..coeffs.len() - 1].iter().rev() {
        g = a + mul_shr_i64(g, t70, 70);
    }
    g
}

/// t = v / 2^frac_bits - 1 at 2^-127 when |t| <= 2^-8 (exact, but for a floor of the last
/// half bit below 1), else None.
#[inline]
pub(crate) fn offset_from_one(v: u128, frac_bits: u32) -> Option<i128> {
    let lz = v.leading_zeros();
    let m = v << lz; // m / 2^127 in [1, 2)
    let e = 127 - lz as i32 - frac_bits as i32; // v / 2^frac_bits = (m / 2^127) * 2^e
    const NEAR: u128 = 1 << 119; // 2^-8 at 2^-127
    if v != 0 && e == 0 && m - (1 << 127) < NEAR {
        // value in [1, 1 + 2^-8): t = m - 1 exactly.
        Some((m - (1 << 127)) as i128)
    } else if v != 0 && e == -1 && m.wrapping_neg() <= 2 * NEAR {
        // value = m / 2^128 in [1 - 2^-8, 1): t = (m - 2^128) / 2, floored.
        Some(-(m.wrapping_neg().div_ceil(2) as i128))
    } else {
        None
    }
}

/// ln(v / 2^frac_bits) for v > 0, at 2^-120, with absolute error below 2^-117.
///
/// Within 2^-8 of 1 it is t * log1p_ratio(t) (no cancellation against e ln 2); elsewhere the
/// table path of the module docs.
#[inline]
#[allow(
    clippy::indexing_slicing,
    reason = "`j` is an 8-bit field and `LN_RECIP` and `LN_LOG_RECIP` have 256 entries"
)]
pub(crate) fn ln_core(v: u128, frac_bits: u32) -> i128 {
    debug_assert!(v != 0);
    if let Some(t) = offset_from_one(v, frac_bits) {
        // t (2^-127) * R (2^-126) at 2^-253 -> 2^-120.
        return mul_shr_i128(t, log1p_ratio(t), 133);
    }
    let lz = v.leading_zeros();
    let m = v << lz;
    let e = 127 - lz as i32 - frac_bits as i32;
    let j = ((m >> 119) & 0xff) as usize;
    // m * r_j at 2^-191, kept at 2^-127: within 2^-9 of 1, so it fits a u128.
    let scaled = mul_u128_u64_shr64(m, LN_RECIP[j]);
    let t = scaled.wrapping_sub(1 << 127) as i128;
    let log1p = mul_shr_i128(t, log1p_ratio(t), 126); // at 2^-127
                                                      // floor((e ln2 + ln(1/r_j) + ln(1 + t)) / 2^7) with everything at 2^-127, splitting
                                                      // ln 2 = h 2^7 + l so that e * ln 2 never needs more than 128 bits.
    let (h, l) = (LN2_127 >> 7, LN2_127 & 0x7f);
    e as i128 * h + ((e as i128 * l + LN_LOG_RECIP[j] as i128 + log1p) >> 7)
}

/// G's coefficients (-1)^k / (k+2) at 2^-63 for the fast path: `LOG1P_G` floored.
const FAST_G: [i64; 7] = fast_g();

#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: k < 7 <= LOG1P_G.len(), and a bad index would fail the build"
)]
const fn fast_g() -> [i64; 7] {
    let mut out = [0i64; 7];
    let mut k = 0;
    while k < 7 {
        out[k] = (LOG1P_G[k] >> 63) as i64;
        k += 1;
    }
    out
}

/// ln(v / 2^frac_bits) at 2^-120 by the fast path, within 2^-80.3 (2^39.7 units) of exact
/// (v > 0), or None
/// within 2^-8 of 1 (where `ln_core` takes its own path and so does `ln`).
///
/// The table step of `ln_core` (the same j, r_j, t exact at 2^-127), then
/// ln(1 + t) = t - t^2 G(t) with G to degree 6 in 64-bit arithmetic: G(t) = 1/2 + t g1(t),
/// g1 by Horner in i64 at 2^-63 from t at 2^-71 (error 2^-61.9, the dropped t^7/9 included),
/// G at 2^-64 (error 2^-63.9), t^2 from |t| at 2^-72 (error 2^-80); so t^2 G within
/// 2^-80.4 and the sum below 2^-80.3.
#[inline]
#[allow(
    clippy::indexing_slicing,
    reason = "`j` is an 8-bit field and `LN_RECIP` and `LN_LOG_RECIP` have 256 entries; FAST_G has 7"
)]
pub(crate) fn ln_fast(v: u128, frac_bits: u32) -> Option<i128> {
    debug_assert!(v != 0);
    let lz = v.leading_zeros();
    let m = v << lz;
    let e = 127 - lz as i32 - frac_bits as i32;
    // Near 1: ln_core's offset path (its t may reach 2^-8, beyond this series' budget).
    if (e == 0 && m - (1 << 127) < 1 << 119) || (e == -1 && m.wrapping_neg() <= 1 << 120) {
        return None;
    }
    let j = ((m >> 119) & 0xff) as usize;
    let t = mul_u128_u64_shr64(m, LN_RECIP[j]).wrapping_sub(1 << 127) as i128; // 2^-127
    let t71 = (t >> 56) as i64; // |t| <= 2^-9: < 2^62 at 2^-71
    let mut g = FAST_G[6];
    for k in (1..6).rev() {
        g = FAST_G[k] + ((g as i128 * t71 as i128) >> 71) as i64;
    }
    // G = 1/2 + t g1 at 2^-64, in (0.499, 0.502) (g1 = -1/3 + t/4 - ..., the signs in the
    // coefficients).
    let big_g = (1i128 << 63) + ((g as i128 * t71 as i128) >> 70);
    let a = (t.unsigned_abs() >> 55) as u64; // |t| at 2^-72, <= 2^63
    let t2 = a as u128 * a as u128; // t^2 at 2^-144, < 2^126
    let t2g = (mul_u128_u64_shr64(t2, big_g as u64) >> 17) as i128; // at 2^-127
    let log1p = t - t2g;
    let (h, l) = (LN2_127 >> 7, LN2_127 & 0x7f);
    Some(e as i128 * h + ((e as i128 * l + LN_LOG_RECIP[j] as i128 + log1p) >> 7))
}

/// ln_fast's error bound plus ln_core's (2^-117, 8 units) and both floors, at 2^-120.
pub(crate) const LN_FAST_MARGIN: u128 = (1 << 40) + 16;

/// Natural logarithm of `x`, within 1 ulp. `x <= 0` is a domain error.
#[inline]
pub fn ln(x: Fx) -> Result<Fx, MathError> {
    let raw = x.to_bits();
    if raw <= 0 {
        return Err(MathError::Domain);
    }
    // The fast path when its rounding is certain to be ln_core's: the 56 bits below the
    // result farther than both errors from the half-way point.
    if let Some(l) = ln_fast(raw as u128, 64) {
        let below = (l & ((1 << 56) - 1)) as u128;
        if below.abs_diff(1 << 55) > LN_FAST_MARGIN {
            return Ok(Fx::from_bits((l + (1 << 55)) >> 56));
        }
    }
    let l = ln_core(raw as u128, 64);
    // 2^-120 -> 2^-64, rounded half up: |ln x| < 45, so this cannot overflow.
    Ok(Fx::from_bits((l + (1 << 55)) >> 56))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ln_slow(x: i128) -> i128 {
        (ln_core(x as u128, 64) + (1 << 55)) >> 56
    }

    fn argument() -> impl Strategy<Value = i128> {
        prop_oneof![
            1i128..i128::MAX,
            (0u32..127, any::<u64>())
                .prop_map(|(k, v)| ((v as i128) << 63 >> (127 - k).min(126)).max(1)),
            (1i128 << 64) - (1 << 58)..(1i128 << 64) + (1 << 58),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300_000))]

        #[test]
        fn fast_ln_is_the_table_path(x in argument()) {
            prop_assert_eq!(ln(Fx::from_bits(x)).map(Fx::to_bits), Ok(ln_slow(x)));
            if let Some(fast) = ln_fast(x as u128, 64) {
                let slow = ln_core(x as u128, 64);
                prop_assert!(fast.abs_diff(slow) <= LN_FAST_MARGIN, "{x:#x}: {fast} vs {slow}");
            }
        }
    }

    #[test]
    fn edges() {
        for x in [
            1i128,
            2,
            (1 << 64) - 1,
            1 << 64,
            (1 << 64) + 1,
            i128::MAX,
            3 << 63,
        ] {
            assert_eq!(
                ln(Fx::from_bits(x)).map(Fx::to_bits),
                Ok(ln_slow(x)),
                "{x:#x}"
            );
        }
    }
}
