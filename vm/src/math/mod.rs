//! Deterministic fixed-point math: the one implementation of every numeric operation.
//!
//! Every function takes and returns [`Fx`] (`I64F64`: a 128-bit two's complement integer
//! n standing for n * 2^-64) and is pure, deterministic, allocation-free and float-free.
//! None panics: a result outside the I64F64 range is [`MathError::Overflow`], an argument
//! outside a function's domain is [`MathError::Domain`], a zero divisor is
//! [`MathError::DivisionByZero`]. A result that underflows rounds to the nearest
//! representable value, possibly 0.
//!
//! Error bounds, in ulps (1 ulp = 2^-64), absolute, against the exact value at the exact
//! input. They are checked against committed mpmath reference vectors by
//! `tests/math_reference.rs`; `spec/numerics.md` gives each algorithm bit for bit.
//!
//! | function | domain | bound |
//! |---|---|---|
//! | [`sqrt`] | x >= 0 | correctly rounded (<= 0.5 ulp) |
//! | [`exp`], [`ln`], [`npdf`], [`ncdf`] | all x / x > 0 | <= 1 ulp |
//! | [`inv_ncdf`] | 0 < p < 1 | <= 1 ulp (the spec asks 2 in the centre, 256 in the tails) |
//! | [`pow`] | x > 0 | <= max(2 ulp, 2^-60 \|result\|) |
//! | [`mul`], [`div`], [`mul_div`] and their `_down`/`_up` forms | | exactly the stated rounding |
//!
//! ```
//! use strike_vm::math::{self, Fx};
//! let s = Fx::from_num(100);
//! let k = Fx::from_num(105);
//! let m = math::ln(math::div(s, k)?)?;             // ln(S/K)
//! assert_eq!(math::exp(m)?, math::div(s, k)?);      // e^ln(S/K) lands on the same bits here
//! assert_eq!(math::ncdf(Fx::ZERO)?, Fx::from_num(0.5));
//! assert_eq!(math::sqrt(Fx::from_num(2))?, math::consts::SQRT_2);
//! # Ok::<(), math::MathError>(())
//! ```

mod arith;
mod exp;
mod ln;
mod normal;
mod poly;
mod pow;
mod sqrt;
mod tables;
mod wide;

pub use arith::{
    div, div_down, div_rounded, div_up, mul, mul_div, mul_div_down, mul_div_rounded, mul_div_up,
    mul_down, mul_rounded, mul_up,
};
pub use exp::exp;
pub use ln::ln;
pub use normal::{inv_ncdf, ncdf, npdf};
pub use pow::pow;
pub use sqrt::sqrt;

/// The fixed-point number type: 64 integer bits (with sign) and 64 fraction bits.
pub type Fx = fixed::types::I64F64;

/// Why a math operation has no representable result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MathError {
    /// The exact result lies outside the I64F64 range [-2^63, 2^63 - 2^-64].
    Overflow,
    /// A division or mul_div by zero.
    DivisionByZero,
    /// The argument lies outside the function's domain (ln of x <= 0, sqrt of x < 0, ...).
    Domain,
}

impl MathError {
    /// A stable numeric code, for receipts and the CLI's JSON output.
    pub const fn code(self) -> u16 {
        match self {
            MathError::Overflow => 1,
            MathError::DivisionByZero => 2,
            MathError::Domain => 3,
        }
    }
}

impl core::fmt::Display for MathError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            MathError::Overflow => "result outside the I64F64 range",
            MathError::DivisionByZero => "division by zero",
            MathError::Domain => "argument outside the function's domain",
        })
    }
}

impl std::error::Error for MathError {}

/// Direction of the single rounding in [`mul_rounded`], [`div_rounded`], [`mul_div_rounded`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Rounding {
    /// To the nearest multiple of 2^-64, ties to even.
    #[default]
    NearestEven,
    /// Toward negative infinity (floor).
    Down,
    /// Toward positive infinity (ceiling).
    Up,
}

/// Mathematical constants, correctly rounded to I64F64 (the `fixed` crate's are truncated).
pub mod consts {
    use super::{tables, Fx};
    /// Euler's number e.
    pub const E: Fx = Fx::from_bits(tables::E_BITS);
    /// ln 2.
    pub const LN_2: Fx = Fx::from_bits(tables::LN_2_BITS);
    /// ln 10.
    pub const LN_10: Fx = Fx::from_bits(tables::LN_10_BITS);
    /// log2 e = 1 / ln 2.
    pub const LOG2_E: Fx = Fx::from_bits(tables::LOG2_E_BITS);
    /// pi.
    pub const PI: Fx = Fx::from_bits(tables::PI_BITS);
    /// sqrt 2.
    pub const SQRT_2: Fx = Fx::from_bits(tables::SQRT_2_BITS);
    /// sqrt(2 pi).
    pub const SQRT_2PI: Fx = Fx::from_bits(tables::SQRT_2PI_BITS);
    /// 1 / sqrt(2 pi), the normal density at 0.
    pub const INV_SQRT_2PI: Fx = Fx::from_bits(tables::INV_SQRT_2PI_BITS);
}
