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
