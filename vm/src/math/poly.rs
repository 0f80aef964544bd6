//! Piecewise polynomials: the evaluator behind the Mills ratio and the inverse-CDF start.
//!
//! A table covers [start, start + intervals * 2^-log2_width) with equal intervals. On
//! interval i with centre c the polynomial is in the local variable u = (x - c) / (w/2),
//! which for an I64F64 input is exact as an i64 at 2^-63 and lies in [-1, 1). Coefficients
//! are i128 at 2^-120; evaluation is Horner's rule with each product floored:
//! `p = a_k + floor(p * u / 2^63)`. The generator replays exactly this arithmetic when it
//! checks each table's error bound, so the bound it prints is the bound of this code.

use super::wide::mul_shr63;

/// One piecewise polynomial table (see the module docs).
pub(crate) struct Piecewise {
    /// Left end of the first interval, I64F64 raw bits.
    pub start: i128,
    /// Each interval is 2^-log2_width wide.
    pub log2_width: u32,
    /// Number of intervals.
    pub intervals: usize,
    /// Polynomial degree; each interval has degree + 1 coefficients, constant term first.
    pub degree: usize,
    /// Interval-major coefficients at 2^-120.
    pub coeffs: &'static [i128],
}

impl Piecewise {
    /// One past the last covered input, I64F64 raw bits.
    pub const fn end(&self) -> i128 {
        self.start + ((self.intervals as i128) << (64 - self.log2_width))
    }

    /// The coefficients of the interval holding `x` (clamped into the covered range) and
    /// the local variable u = (x - centre) / (width / 2) in [-1, 1), exact as an i64 at
    /// 2^-63.
    #[inline]
    #[allow(
        clippy::indexing_slicing,
        reason = "`x` is clamped into the covered range first, so `index` is below the interval count, and each interval has `degree + 1` coefficients"
    )]
    fn locate(&self, x: i128) -> (&'static [i128], i64) {
        let x = x.clamp(self.start, self.end() - 1);
        let shift = 64 - self.log2_width;
        let offset = x - self.start;
        let index = (offset >> shift) as usize;
        let centre = ((index as i128) << shift) + (1i128 << (shift - 1));
        // |offset - centre| <= 2^(shift-1), so u fits an i64 at 2^-63 exactly.
        let u = ((offset - centre) << self.log2_width) as i64;
        let n = self.degree + 1;
        (&self.coeffs[index * n..index * n + n], u)
    }

    /// The polynomial at `x` (I64F64 raw bits), at 2^-120. Inputs outside the covered
    /// range are clamped to it, so the result is always defined.
    #[inline]
    #[allow(
        clippy::indexing_slicing,
        reason = "`x` is clamped into the covered range first, so `index` is below the interval count, and each interval has `degree + 1` coefficients"
    )]
    pub fn eval(&self, x: i128) -> i128 {
        let (coeffs, u) = self.locate(x);
        let mut p = coeffs[self.degree];
        for &a in coeffs[..self.degree].iter().rev() {
            p = a + mul_shr63(p, u);
        }
        p
    }
}

/// The degree from which [`Piecewise::eval_fast`] evaluates in 64-bit arithmetic.
pub(crate) const FAST_SPLIT: usize = 9;
/// Scale of that 64-bit part: 2^-90.
const FAST_SCALE: u32 = 90;

impl Piecewise {
    /// The polynomial at `x` at 2^-120, within 2^-85.5 of [`Piecewise::eval`] for a table
    /// whose every interval has sum_{k >= 9} |a_k| below 2^-28 (MILLS: 2^-28.9; a test
    /// checks it), in two independent chains the processor overlaps:
    /// L = sum_{k < 9} a_k u^k by the exact Horner steps, and H = sum_{k >= 9} a_k u^(k-9)
    /// in i64 at 2^-90 (coefficients floored to it), then L + H u^9. Errors: H's 10
    /// coefficient floors and 9 step floors (19 units of 2^-90), u^9's 8 units of 2^-63
    /// times |H| < 2^-28, and the final floor: below 2^-85.5 in all.
    #[inline]
    #[allow(
        clippy::indexing_slicing,
        reason = "`x` is clamped into the covered range first, so `index` is below the interval count, and each interval has `degree + 1` coefficients; callers use it only for tables of degree above FAST_SPLIT (checked by a test)"
    )]
    pub fn eval_fast(&self, x: i128) -> i128 {
        debug_assert!(self.degree > FAST_SPLIT);
        let (coeffs, u) = self.locate(x);
        // H: |partial sums| < 2^-28, so < 2^62 at 2^-90.
        let scale_down = 120 - FAST_SCALE;
        let mut h = (coeffs[self.degree] >> scale_down) as i64;
        for &a in coeffs[FAST_SPLIT..self.degree].iter().rev() {
            h = (a >> scale_down) as i64 + ((h as i128 * u as i128) >> 63) as i64;
        }
        // L, exactly as `eval` would from degree 8 down.
        let mut l = coeffs[FAST_SPLIT - 1];
        for &a in coeffs[..FAST_SPLIT - 1].iter().rev() {
            l = a + mul_shr63(l, u);
        }
        // u^9 at 2^-63 (every power in [-1, 1], kept in i128: (-1)^2 = 2^63 leaves i64).
        let u1 = u as i128;
        let u2 = (u1 * u1) >> 63;
        let u4 = (u2 * u2) >> 63;
        let u8 = (u4 * u4) >> 63;
        let u9 = (u8 * u1) >> 63;
        // H (2^-90) u^9 (2^-63) at 2^-153 -> 2^-120.
        l + ((h as i128 * u9) >> (FAST_SCALE + 63 - 120))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tables::{INV_NCDF_GUESS, MILLS};

    #[test]
    fn tables_are_well_formed() {
        for t in [&MILLS, &INV_NCDF_GUESS] {
            assert_eq!(t.coeffs.len(), t.intervals * (t.degree + 1));
            assert!(t.log2_width >= 1 && t.log2_width < 63);
            // Horner's intermediate values must stay far inside i128 (mul_shr63's bound).
            assert!(t.coeffs.iter().all(|c| c.unsigned_abs() < 1 << 125));
        }
    }

    #[test]
    fn the_fast_mills_evaluation_is_within_its_bound() {
        let t = &MILLS;
        assert!(t.degree > super::FAST_SPLIT);
        // Its precondition: every interval's tail sum_{k >= 9} |a_k| below 2^-28.
        for c in t.coeffs.chunks(t.degree + 1) {
            let tail: u128 = c[super::FAST_SPLIT..]
                .iter()
                .map(|a| a.unsigned_abs())
                .sum();
            assert!(
                tail < 1 << (120 - 28),
                "tail 2^{}",
                (tail as f64).log2() - 120.0
            );
        }
        // And the bound itself, 2^-85.5 (2^34.5 units of 2^-120), at the interval edges and
        // centres and at 200,000 points spread over the table.
        let bound = (1i128 << 34) + (1i128 << 33);
        let step = 1i128 << (64 - t.log2_width);
        let mut worst = 0i128;
        let mut check = |x: i128| {
            let e = (t.eval_fast(x) - t.eval(x)).abs();
            worst = worst.max(e);
            assert!(e <= bound, "x = {x:#x}: {e} units");
        };
        for i in 0..=t.intervals as i128 {
            for d in [-1, 0, 1, step / 2] {
                check(t.start + i * step + d);
            }
        }
        let mut seed = 0x9e3779b97f4a7c15u64;
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let span = ((t.end() - t.start) as u128) >> 32;
            check(t.start + ((seed as u128 * span) >> 32) as i128);
        }
        assert!(worst < bound);
    }

    #[test]
    fn evaluation_is_clamped_and_continuous_at_interval_edges() {
        let t = &MILLS;
        let step = 1i128 << (64 - t.log2_width);
        for i in 1..t.intervals as i128 {
            let edge = t.start + i * step;
            let left = t.eval(edge - 1);
            let right = t.eval(edge);
            // Both sides approximate the same function to 2^-80, and one ulp apart it moves
            // by at most |M'| <= 1 ulp (2^56 at 2^-120).
            assert!(
                (left - right).abs() < (1 << 56) + (1 << 41),
                "jump at interval {i}"
            );
        }
        assert_eq!(t.eval(i128::MIN), t.eval(t.start));
        assert_eq!(t.eval(i128::MAX), t.eval(t.end() - 1));
    }
}
