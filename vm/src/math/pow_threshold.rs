//! The exact overflow decision for pow with x within 2^-8 of 1.
//!
//! pow's fast path gets y ln x to about 2^-120, so a result within that of the overflow
//! threshold could be decided either way. Near 1, where such inputs are easy to construct
//! (y ~ ln 2^63 / (x - 1) with x a few ulps from 1), the decision is made exactly instead:
//!
//! ```text
//!   x^y rounds beyond the range  <=>  x^y >= T = 2^63 - 2^-65  <=>  y ln x >= ln T,
//!   y ln x = (y t) R(t),  t = x - 1 (exact),  R(t) = log1p(t)/t = sum_k (-t)^k / (k+1)
//! ```
//!
//! y t is an exact integer product; R is summed to 24 terms in 256-bit fixed point (series
//! remainder below 2^-188 for |t| <= 2^-8, roundings below 2^-250); the product is compared
//! with ln T to 2^-190. The answer is certain when the two differ by more than 2^-182; a
//! closer call (no input is known to produce one) falls back to the computed value.

use super::tables::LN_OVERFLOW_190;
use super::wide::mul_u128;

type U256 = [u64; 4];

/// 2^255 / d, floored (d > 0): the series coefficients 1/(k+1) at 2^-255.
#[allow(
    clippy::indexing_slicing,
    reason = "fixed-size 4-limb arrays indexed by loop counters in 0..4"
)]
fn reciprocal(d: u64) -> U256 {
    let mut out = [0u64; 4];
    let mut rem: u128 = 0;
    for i in (0..4).rev() {
        let top = if i == 3 { 1u128 << 63 } else { 0 };
        let cur = (rem << 64) | top;
        out[i] = (cur / d as u128) as u64;
        rem = cur % d as u128;
    }
    out
}

#[allow(
    clippy::indexing_slicing,
    reason = "fixed-size 4-limb arrays indexed by loop counters in 0..4"
)]
fn add(a: U256, b: U256) -> U256 {
    let mut out = [0u64; 4];
    let mut carry = 0u128;
    for i in 0..4 {
        let s = a[i] as u128 + b[i] as u128 + carry;
        out[i] = s as u64;
        carry = s >> 64;
    }
    out
}

#[allow(
    clippy::indexing_slicing,
    reason = "fixed-size 4-limb arrays indexed by loop counters in 0..4"
)]
fn sub(a: U256, b: U256) -> U256 {
    let mut out = [0u64; 4];
    let mut borrow = 0i128;
    for i in 0..4 {
        let d = a[i] as i128 - b[i] as i128 - borrow;
        out[i] = d as u64;
        borrow = (d < 0) as i128;
    }
    out
}

/// floor(p * t / 2^127) for t < 2^120 (the result is below 2^249).
#[allow(
    clippy::indexing_slicing,
    reason = "fixed-size 4- and 8-limb arrays indexed by loop counters below their lengths"
)]
fn mul_shr127(p: U256, t: u128) -> U256 {
    // p * t as 6 limbs, then drop 127 bits.
    let mut prod = [0u64; 6];
    for (i, &limb) in p.iter().enumerate() {
        let (hi, lo) = mul_u128(limb as u128, t);
        let mut carry = 0u128;
        for (j, part) in [lo as u64, (lo >> 64) as u64, hi as u64]
            .into_iter()
            .enumerate()
        {
            let s = prod[i + j] as u128 + part as u128 + carry;
            prod[i + j] = s as u64;
            carry = s >> 64;
        }
        let mut k = i + 3;
        while carry != 0 && k < 6 {
            let s = prod[k] as u128 + carry;
            prod[k] = s as u64;
            carry = s >> 64;
            k += 1;
        }
    }
    let mut out = [0u64; 4];
    for (i, o) in out.iter_mut().enumerate() {
        // bits 127 + 64 i ..: limb 1 from bit 63, and so on
        let lo = prod[i + 1] >> 63;
        let hi = prod.get(i + 2).map_or(0, |v| v << 1);
        *o = hi | lo;
    }
    out
}

/// Top 256 bits of a 512-bit product a * b.
#[allow(
    clippy::indexing_slicing,
    reason = "fixed-size 4- and 8-limb arrays indexed by loop counters below their lengths"
)]
fn mul_high(a: U256, b: U256) -> U256 {
    let mut prod = [0u128; 9];
    for i in 0..4 {
        for j in 0..4 {
            let p = a[i] as u128 * b[j] as u128;
            prod[i + j] += p & u64::MAX as u128;
            prod[i + j + 1] += p >> 64;
        }
    }
    let mut limbs = [0u64; 8];
    let mut carry = 0u128;
    for k in 0..8 {
        let v = prod[k] + carry;
        limbs[k] = v as u64;
        carry = v >> 64;
    }
    [limbs[4], limbs[5], limbs[6], limbs[7]]
}

/// R(t) = log1p(t)/t at 2^-255 for t at 2^-127 with |t| <= 2^-8: in (0.996, 1.004).
fn log1p_ratio_wide(t: i128) -> U256 {
    const TERMS: u64 = 24;
    let mag = t.unsigned_abs();
    // Horner: p = 1/(k+1) - t p, from the last term down; p stays in (0, 1].
    let mut p = reciprocal(TERMS);
    for k in (0..TERMS - 1).rev() {
        let tp = mul_shr127(p, mag);
        let c = reciprocal(k + 1);
        p = if t > 0 { sub(c, tp) } else { add(c, tp) };
    }
    p
}

/// For x = 1 + t (t at 2^-127, exact, |t| <= 2^-8) and y (raw bits): Some(true) when x^y
/// rounds beyond the I64F64 range, Some(false) when it does not, None when y ln x is within
/// 2^-182 of the threshold (too close to certify).
pub(crate) fn overflows_near_one(y: i128, t: i128) -> Option<bool> {
    if (y < 0) != (t < 0) || t == 0 {
        return Some(false); // y ln x <= 0
    }
    // |y t| at 2^-191 (exact), times R at 2^-255, keep the top: at 2^-190.
    let (hi, lo) = mul_u128(y.unsigned_abs(), t.unsigned_abs());
    let yt = [lo as u64, (lo >> 64) as u64, hi as u64, (hi >> 64) as u64];
    let l = mul_high(yt, log1p_ratio_wide(t)); // at 2^-(191 + 255 - 256) = 2^-190
    const MARGIN: u64 = 1 << 8; // 2^-182 at 2^-190
    let above = sub(l, LN_OVERFLOW_190);
    let below = sub(LN_OVERFLOW_190, l);
    let ge = l.iter().rev().cmp(LN_OVERFLOW_190.iter().rev()) != core::cmp::Ordering::Less;
    let distance = if ge { above } else { below };
    if distance[1..].iter().all(|&v| v == 0) && distance[0] <= MARGIN {
        None
    } else {
        Some(ge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_matches_the_fast_ratio() {
        use super::super::ln::log1p_ratio;
        for t in [
            1i128,
            -1,
            1 << 100,
            -(1 << 100),
            1 << 119,
            -(1 << 119),
            12345678901234567,
        ] {
            let wide = log1p_ratio_wide(t);
            // top 128 bits at 2^-127 vs the fast ratio at 2^-126 (shifted): agree to ~2^-110.
            let wide_126 = ((wide[3] as u128) << 64 | wide[2] as u128) >> 1;
            let fast = log1p_ratio(t) as u128;
            assert!(wide_126.abs_diff(fast) < 1 << 20, "t = {t}");
        }
    }

    #[test]
    fn reciprocals_are_floors() {
        let one = reciprocal(1);
        assert_eq!(one, [0, 0, 0, 1 << 63]);
        let third = reciprocal(3);
        assert_eq!(third[3], 0x2aaa_aaaa_aaaa_aaaa);
    }
}
