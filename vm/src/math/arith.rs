//! Multiplication and division of I64F64 with one explicit rounding.
//!
//! Each result is the exact rational value a*b, a/b or a*b/c rounded once, in the chosen
//! direction, to a multiple of 2^-64. The intermediate is a full 256-bit integer, so there
//! is no double rounding and no intermediate overflow: only a final result outside the
//! I64F64 range is an error.

use super::wide::{div_rem_u256, mul_u128};
use super::{Fx, MathError, Rounding};

/// Where a discarded remainder lies relative to half of the divisor.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Remainder {
    Zero,
    BelowHalf,
    Half,
    AboveHalf,
}

/// Applies `mode` to the magnitude quotient `q` with remainder class `rem` and the sign of
/// the exact result, then checks the signed result fits.
#[inline]
fn round_signed(
    q: u128,
    rem: Remainder,
    negative: bool,
    mode: Rounding,
) -> Result<i128, MathError> {
    let up = match mode {
        Rounding::NearestEven => {
            rem == Remainder::AboveHalf || (rem == Remainder::Half && q & 1 == 1)
        }
        // Toward -inf: a negative value's magnitude grows, a positive one's shrinks.
        Rounding::Down => negative && rem != Remainder::Zero,
        Rounding::Up => !negative && rem != Remainder::Zero,
    };
    let magnitude = q.checked_add(up as u128).ok_or(MathError::Overflow)?;
    if negative {
        if magnitude <= 1 << 127 {
            Ok(0i128.wrapping_sub_unsigned(magnitude))
        } else {
            Err(MathError::Overflow)
        }
    } else {
        i128::try_from(magnitude).map_err(|_| MathError::Overflow)
    }
}

/// Remainder class of `r` against a divisor `d` (r < d).
#[inline]
fn classify(r: u128, d: u128) -> Remainder {
    if r == 0 {
        return Remainder::Zero;
    }
    // Compare r with d - r instead of 2r with d: no overflow.
    match r.cmp(&(d - r)) {
        core::cmp::Ordering::Less => Remainder::BelowHalf,
        core::cmp::Ordering::Equal => Remainder::Half,
        core::cmp::Ordering::Greater => Remainder::AboveHalf,
    }
}

/// (hi * 2^128 + lo) / d rounded: the shared tail of div and mul_div.
#[inline]
fn divide(hi: u128, lo: u128, d: u128, negative: bool, mode: Rounding) -> Result<i128, MathError> {
    if hi >= d {
        // The magnitude quotient is at least 2^128.
        return Err(MathError::Overflow);
    }
    let (q, r) = div_rem_u256(hi, lo, d);
    round_signed(q, classify(r, d), negative, mode)
}

/// a * b rounded once in direction `mode`.
#[inline]
pub fn mul_rounded(a: Fx, b: Fx, mode: Rounding) -> Result<Fx, MathError> {
    let (a, b) = (a.to_bits(), b.to_bits());
    match mul_floor_fast(a, b) {
        Some((floor, fraction)) => {
            // The exact raw product is floor + fraction / 2^64, fraction in [0, 2^64).
            const HALF: u64 = 1 << 63;
            let up = match mode {
                // Up iff fraction > half, or = half with an odd floor: the carry out of
                // fraction + (half - 1) + (floor & 1), without a branch.
                Rounding::NearestEven => fraction.overflowing_add(HALF - 1 + (floor & 1) as u64).1,
                Rounding::Down => false,
                Rounding::Up => fraction != 0,
            };
            floor
                .checked_add(up as i128)
                .map(Fx::from_bits)
                .ok_or(MathError::Overflow)
        }
        None => mul_rounded_wide(a, b, mode),
    }
}

/// floor(a * b / 2^64) and the discarded 64 bits (a * b mod 2^64, the fraction of the raw
/// product), in signed 128-bit arithmetic, or None when an intermediate sum leaves i128
/// (then the 256-bit path decides, overflow included). With a = ah 2^64 + al and
/// b = bh 2^64 + bl (ah, bh signed, al, bl unsigned):
/// a b / 2^64 = ah bh 2^64 + ah bl + al bh + al bl / 2^64, every term but the last an
/// integer and al bl >= 0, so the floor is exact for either sign. Four multiplies, no
/// branches but the range checks: the common case of `math::mul`.
#[inline(always)]
pub(crate) fn mul_floor_fast(a: i128, b: i128) -> Option<(i128, u64)> {
    let (ah, al) = ((a >> 64) as i64, a as u64);
    let (bh, bl) = ((b >> 64) as i64, b as u64);
    let low = al as u128 * bl as u128;
    let high = i64::try_from(ah as i128 * bh as i128).ok()?; // so high * 2^64 fits i128
    let cross1 = ah as i128 * bl as i128; // |.| < 2^127
    let cross2 = al as i128 * bh as i128;
    let floor = ((high as i128) << 64)
        .checked_add(cross1)?
        .checked_add(cross2)?
        .checked_add((low >> 64) as i128)?;
    Some((floor, low as u64))
}

/// a * b rounded once in direction `mode`, through the exact 256-bit product of the
/// magnitudes: the general path, and the one that decides overflow.
fn mul_rounded_wide(a: i128, b: i128, mode: Rounding) -> Result<Fx, MathError> {
    let negative = (a < 0) != (b < 0);
    let (hi, lo) = mul_u128(a.unsigned_abs(), b.unsigned_abs());
    // Raw result = product / 2^64: quotient bits 64..256, remainder the low 64 bits.
    if hi >> 64 != 0 {
        return Err(MathError::Overflow);
    }
    let q = (hi << 64) | (lo >> 64);
    let r = lo as u64;
    const HALF: u64 = 1 << 63;
    let rem = match r {
        0 => Remainder::Zero,
        HALF => Remainder::Half,
        r if r < HALF => Remainder::BelowHalf,
        _ => Remainder::AboveHalf,
    };
    round_signed(q, rem, negative, mode).map(Fx::from_bits)
}

/// a / b rounded once in direction `mode`.
#[inline]
pub fn div_rounded(a: Fx, b: Fx, mode: Rounding) -> Result<Fx, MathError> {
    let (a, b) = (a.to_bits(), b.to_bits());
    if b == 0 {
        return Err(MathError::DivisionByZero);
    }
    let negative = (a < 0) != (b < 0);
    let n = a.unsigned_abs();
    // Raw result = a * 2^64 / b.
    divide(n >> 64, n << 64, b.unsigned_abs(), negative, mode).map(Fx::from_bits)
}

/// a * b / c rounded once in direction `mode`, through a 256-bit intermediate.
#[inline]
pub fn mul_div_rounded(a: Fx, b: Fx, c: Fx, mode: Rounding) -> Result<Fx, MathError> {
    let (a, b, c) = (a.to_bits(), b.to_bits(), c.to_bits());
    if c == 0 {
        return Err(MathError::DivisionByZero);
    }
    let negative = ((a < 0) != (b < 0)) != (c < 0) && a != 0 && b != 0;
    let (hi, lo) = mul_u128(a.unsigned_abs(), b.unsigned_abs());
    // Raw result = (a * 2^-64)(b * 2^-64) / (c * 2^-64) * 2^64 = a * b / c.
    divide(hi, lo, c.unsigned_abs(), negative, mode).map(Fx::from_bits)
}

macro_rules! rounded_forms {
    ($( $(#[$doc:meta])* $name:ident => $general:ident($($arg:ident),*), $mode:expr; )*) => {$(
        $(#[$doc])*
        #[inline]
        pub fn $name($($arg: Fx),*) -> Result<Fx, MathError> {
            $general($($arg),*, $mode)
        }
    )*};
}

rounded_forms! {
    /// a * b, rounded to nearest, ties to even.
    mul => mul_rounded(a, b), Rounding::NearestEven;
    /// a * b, rounded toward negative infinity.
    mul_down => mul_rounded(a, b), Rounding::Down;
    /// a * b, rounded toward positive infinity.
    mul_up => mul_rounded(a, b), Rounding::Up;
    /// a / b, rounded to nearest, ties to even.
    div => div_rounded(a, b), Rounding::NearestEven;
    /// a / b, rounded toward negative infinity.
    div_down => div_rounded(a, b), Rounding::Down;
    /// a / b, rounded toward positive infinity.
    div_up => div_rounded(a, b), Rounding::Up;
    /// a * b / c with a single rounding, to nearest, ties to even.
    mul_div => mul_div_rounded(a, b, c), Rounding::NearestEven;
    /// a * b / c with a single rounding, toward negative infinity.
    mul_div_down => mul_div_rounded(a, b, c), Rounding::Down;
    /// a * b / c with a single rounding, toward positive infinity.
    mul_div_up => mul_div_rounded(a, b, c), Rounding::Up;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MODES: [Rounding; 3] = [Rounding::NearestEven, Rounding::Down, Rounding::Up];

    /// The fast path (where it answers) against the 256-bit path, in every mode.
    fn agree(a: i128, b: i128) {
        for mode in MODES {
            let fast = mul_rounded(Fx::from_bits(a), Fx::from_bits(b), mode);
            assert_eq!(
                fast,
                mul_rounded_wide(a, b, mode),
                "{a:#x} * {b:#x} {mode:?}"
            );
        }
    }

    /// Values near the edges: 0, ±1, powers of two and their neighbours, the extremes,
    /// half-ulp fractions (ties) and magnitudes near the overflow boundary.
    fn edge() -> impl Strategy<Value = i128> {
        prop_oneof![
            (0u32..128, -2i128..=2, any::<bool>()).prop_map(|(k, d, neg)| {
                let v = (1i128 << k.min(126)).wrapping_add(d);
                if neg {
                    v.wrapping_neg()
                } else {
                    v
                }
            }),
            Just(i128::MIN),
            Just(i128::MAX),
            Just(i128::MIN + 1),
            // x.5 ulp after multiplying by 0.5: odd raws times 2^63 are exact ties.
            any::<i64>().prop_map(|v| (v as i128) | 1),
            Just(1i128 << 63),
            Just(-(1i128 << 63)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn fast_multiply_is_the_wide_one(a in any::<i128>(), b in any::<i128>(), sa in 0u32..127, sb in 0u32..127) {
            agree(a >> sa, b >> sb);
            agree(a, b >> sb);
        }

        #[test]
        fn fast_multiply_at_ties_and_edges(a in edge(), b in edge()) {
            agree(a, b);
        }
    }

    #[test]
    fn the_overflow_boundary() {
        // The raw bits of sqrt(2^63) (floor): its square and its neighbours' straddle the
        // top of the range.
        let root = 56_022_770_974_786_139_918_731_938_227i128;
        for d in -4..=4 {
            for s in [1, -1] {
                agree(s * (root + d), root + d);
                agree(i128::MAX, (1i128 << 64) + d); // MAX * (1 + d ulp)
                agree(i128::MIN, (1i128 << 64) + d);
                agree(i128::MIN, -(1i128 << 64) + d); // -MIN overflows
            }
        }
        assert_eq!(
            mul_rounded(
                Fx::from_bits(i128::MIN),
                Fx::from_bits(-(1 << 64)),
                Rounding::Down
            ),
            Err(MathError::Overflow)
        );
        assert_eq!(
            mul_rounded(
                Fx::from_bits(i128::MIN),
                Fx::from_bits(1 << 64),
                Rounding::Up
            ),
            Ok(Fx::from_bits(i128::MIN))
        );
    }
}
