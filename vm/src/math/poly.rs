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

    /// The polynomial at `x` (I64F64 raw bits), at 2^-120. Inputs outside the covered
    /// range are clamped to it, so the result is always defined.
    #[inline]
    #[allow(
        clippy::indexing_slicing,
        reason = "`x` is clamped into the covered range first, so `index` is below the interval count, and each interval has `degree + 1` coefficients"
    )]
    pub fn eval(&self, x: i128) -> i128 {
        let x = x.clamp(self.start, self.end() - 1);
        let shift = 64 - self.log2_width;
        let offset = x - self.start;
        let index = (offset >> shift) as usize;
        let centre = ((index as i128) << shift) + (1i128 << (shift - 1));
        // |offset - centre| <= 2^(shift-1), so u fits an i64 at 2^-63 exactly.
        let u = ((offset - centre) << self.log2_width) as i64;
        let n = self.degree + 1;
        let coeffs = &self.coeffs[index * n..index * n + n];
        let mut p = coeffs[self.degree];
        for &a in coeffs[..self.degree].iter().rev() {
            p = a + mul_shr63(p, u);
        }
        p
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
