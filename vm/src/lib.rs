//! # strike-vm
//!
//! Everything needed to run Strike contracts; protocols embed only this crate.
//!
//! - [`math`]: the deterministic fixed-point kernels (exp, ln, sqrt, pow, the normal
//!   distribution, and multiplication and division with explicit rounding) that the
//!   interpreter, the JIT and native functions all call.
//! - [`isa`]: the instruction set (one table), the `.sbc` module format and its limits.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod isa;
pub mod math;

pub use math::{Fx, MathError, Rounding};

/// The README's Rust examples, compiled and run as doctests so they cannot go stale.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
