//! The semantics of every pure opcode: one small function each, on raw 128-bit register
//! values (i128 for int, bool and address; I64F64 bits for fx).
//!
//! Guarantees: each function is total and deterministic, never panics, and fails only with
//! the [`MathError`] its opcode's row lists. The opcode table names the function of each
//! pure opcode and of each branch's condition (`Effect::Pure` and `Effect::Branch`), and
//! every engine calls it from there: the interpreter (resolved at compile time, so the call
//! is direct and inlined), the JIT's helpers (for what it does not inline, and what it
//! inlines is checked against these functions by the differential tests), and the
//! compiler's constant folder ([`super::Opcode::evaluate`]). An opcode's semantics is
//! written here and nowhere else.

use crate::math::{self, Fx, MathError};

/// The result of a pure opcode.
pub type Outcome = Result<i128, MathError>;
/// A pure function of one register value.
pub type Unary = fn(i128) -> Outcome;
/// A pure function of two register values.
pub type Binary = fn(i128, i128) -> Outcome;
/// A pure function of three register values.
pub type Ternary = fn(i128, i128, i128) -> Outcome;

/// A pure opcode's function, by arity: its inputs are the instruction's read operands
/// (registers, an integer immediate or a pool constant) in word order.
#[derive(Clone, Copy, Debug)]
pub enum Pure {
    /// One input.
    Unary(Unary),
    /// Two inputs.
    Binary(Binary),
    /// Three inputs.
    Ternary(Ternary),
}

impl Pure {
    /// How many inputs the function takes.
    pub const fn arity(self) -> usize {
        match self {
            Pure::Unary(_) => 1,
            Pure::Binary(_) => 2,
            Pure::Ternary(_) => 3,
        }
    }

    /// Applies the function to `inputs`; None when their count is not its arity.
    pub fn apply(self, inputs: &[i128]) -> Option<Outcome> {
        Some(match (self, inputs) {
            (Pure::Unary(f), &[x]) => f(x),
            (Pure::Binary(f), &[x, y]) => f(x, y),
            (Pure::Ternary(f), &[x, y, z]) => f(x, y, z),
            _ => return None,
        })
    }
}

#[inline(always)]
fn fx(bits: i128) -> Fx {
    Fx::from_bits(bits)
}

#[inline(always)]
fn bits(r: Result<Fx, MathError>) -> Outcome {
    r.map(Fx::to_bits)
}

#[inline(always)]
fn overflow(v: Option<i128>) -> Outcome {
    v.ok_or(MathError::Overflow)
}

/// The value itself (MOV, LOADI, LOADK).
#[inline(always)]
pub fn identity(x: i128) -> Outcome {
    Ok(x)
}

/// `x + y`, int or fx (the same bits); overflow fails.
#[inline(always)]
pub fn add(x: i128, y: i128) -> Outcome {
    overflow(x.checked_add(y))
}

/// `x - y`; overflow fails.
#[inline(always)]
pub fn sub(x: i128, y: i128) -> Outcome {
    overflow(x.checked_sub(y))
}

/// `-x`; fails for the minimum value.
#[inline(always)]
pub fn neg(x: i128) -> Outcome {
    overflow(x.checked_neg())
}

/// `|x|`; fails for the minimum value.
#[inline(always)]
pub fn abs(x: i128) -> Outcome {
    overflow(x.checked_abs())
}

/// Integer `x * y`; overflow fails.
#[inline(always)]
pub fn int_mul(x: i128, y: i128) -> Outcome {
    overflow(x.checked_mul(y))
}

/// Integer `x / y`, truncating toward zero; a zero divisor, or `MIN / -1`, fails.
#[inline(always)]
pub fn int_div(x: i128, y: i128) -> Outcome {
    if y == 0 {
        return Err(MathError::DivisionByZero);
    }
    overflow(x.checked_div(y))
}

/// Integer remainder with the dividend's sign; a zero divisor, or `MIN % -1`, fails.
#[inline(always)]
pub fn int_rem(x: i128, y: i128) -> Outcome {
    if y == 0 {
        return Err(MathError::DivisionByZero);
    }
    overflow(x.checked_rem(y))
}

/// The signed minimum.
#[inline(always)]
pub fn min(x: i128, y: i128) -> Outcome {
    Ok(x.min(y))
}

/// The signed maximum.
#[inline(always)]
pub fn max(x: i128, y: i128) -> Outcome {
    Ok(x.max(y))
}

/// Fx `x * y`, rounded to nearest even.
#[inline(always)]
pub fn mul(x: i128, y: i128) -> Outcome {
    bits(math::mul(fx(x), fx(y)))
}

/// Fx `x * y`, rounded toward -inf.
#[inline(always)]
pub fn mul_down(x: i128, y: i128) -> Outcome {
    bits(math::mul_down(fx(x), fx(y)))
}

/// Fx `x * y`, rounded toward +inf.
#[inline(always)]
pub fn mul_up(x: i128, y: i128) -> Outcome {
    bits(math::mul_up(fx(x), fx(y)))
}

/// Fx `x / y`, rounded to nearest even.
#[inline(always)]
pub fn div(x: i128, y: i128) -> Outcome {
    bits(math::div(fx(x), fx(y)))
}

/// Fx `x / y`, rounded toward -inf.
#[inline(always)]
pub fn div_down(x: i128, y: i128) -> Outcome {
    bits(math::div_down(fx(x), fx(y)))
}

/// Fx `x / y`, rounded toward +inf.
#[inline(always)]
pub fn div_up(x: i128, y: i128) -> Outcome {
    bits(math::div_up(fx(x), fx(y)))
}

/// Fx `x * y / z` with one rounding, to nearest even.
#[inline(always)]
pub fn mul_div(x: i128, y: i128, z: i128) -> Outcome {
    bits(math::mul_div(fx(x), fx(y), fx(z)))
}

/// Fx `x * y / z` with one rounding, toward -inf.
#[inline(always)]
pub fn mul_div_down(x: i128, y: i128, z: i128) -> Outcome {
    bits(math::mul_div_down(fx(x), fx(y), fx(z)))
}

/// Fx `x * y / z` with one rounding, toward +inf.
#[inline(always)]
pub fn mul_div_up(x: i128, y: i128, z: i128) -> Outcome {
    bits(math::mul_div_up(fx(x), fx(y), fx(z)))
}

/// e^x.
#[inline(always)]
pub fn exp(x: i128) -> Outcome {
    bits(math::exp(fx(x)))
}

/// ln x.
#[inline(always)]
pub fn ln(x: i128) -> Outcome {
    bits(math::ln(fx(x)))
}

/// sqrt x, correctly rounded.
#[inline(always)]
pub fn sqrt(x: i128) -> Outcome {
    bits(math::sqrt(fx(x)))
}

/// x^y for x > 0.
#[inline(always)]
pub fn pow(x: i128, y: i128) -> Outcome {
    bits(math::pow(fx(x), fx(y)))
}

/// The standard normal CDF.
#[inline(always)]
pub fn ncdf(x: i128) -> Outcome {
    bits(math::ncdf(fx(x)))
}

/// The standard normal density.
#[inline(always)]
pub fn npdf(x: i128) -> Outcome {
    bits(math::npdf(fx(x)))
}

/// The inverse standard normal CDF.
#[inline(always)]
pub fn inv_ncdf(x: i128) -> Outcome {
    bits(math::inv_ncdf(fx(x)))
}

/// Int to fx: `x * 2^64`; overflow fails (ITOF, and LOADFX of its immediate).
#[inline(always)]
pub fn int_to_fx(x: i128) -> Outcome {
    overflow(x.checked_mul(1 << 64))
}

/// Fx to int, rounding toward -inf: `x >> 64`.
#[inline(always)]
pub fn fx_to_int(x: i128) -> Outcome {
    Ok(x >> 64)
}

/// `x == y` as 0 or 1.
#[inline(always)]
pub fn eq(x: i128, y: i128) -> Outcome {
    Ok((x == y) as i128)
}

/// `x != y` as 0 or 1.
#[inline(always)]
pub fn ne(x: i128, y: i128) -> Outcome {
    Ok((x != y) as i128)
}

/// Signed `x < y` as 0 or 1.
#[inline(always)]
pub fn lt(x: i128, y: i128) -> Outcome {
    Ok((x < y) as i128)
}

/// Signed `x <= y` as 0 or 1.
#[inline(always)]
pub fn le(x: i128, y: i128) -> Outcome {
    Ok((x <= y) as i128)
}

/// Bitwise and (logical and on booleans).
#[inline(always)]
pub fn and(x: i128, y: i128) -> Outcome {
    Ok(x & y)
}

/// Bitwise or (logical or on booleans).
#[inline(always)]
pub fn or(x: i128, y: i128) -> Outcome {
    Ok(x | y)
}

/// Bitwise exclusive or.
#[inline(always)]
pub fn xor(x: i128, y: i128) -> Outcome {
    Ok(x ^ y)
}

/// Logical not: 1 when x is 0, else 0 (also JZ's condition).
#[inline(always)]
pub fn not(x: i128) -> Outcome {
    Ok((x == 0) as i128)
}

/// Truth: 1 when x is not 0, else 0 (JNZ's condition).
#[inline(always)]
pub fn truth(x: i128) -> Outcome {
    Ok((x != 0) as i128)
}
