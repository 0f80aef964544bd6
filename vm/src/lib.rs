//! # strike-vm
//!
//! Everything needed to run Strike contracts; protocols embed only this crate.
//!
//! - [`math`]: the deterministic fixed-point kernels (exp, ln, sqrt, pow, the normal
//!   distribution, and multiplication and division with explicit rounding) that the
//!   interpreter, the JIT and native functions all call.
//! - [`isa`]: the instruction set (one table), the `.sbc` module format, limits, verifier.
//! - [`exec`]: the embedding API: `Engine`, `Transaction`, `Receipt`, `execute`.
//! - [`interp`]: the interpreter, the reference semantics of every opcode, with gas.
//! - [`native`]: the natives behind NATIVE: sha256, ed25519 verification, test helpers.
//! - [`state`]: the `Storage` trait, an in-memory backend, and the per-block `StateCache`.
#![deny(unsafe_code)]
// The panic audit (spec/security.md, "Panics"): outside tests, no `unwrap`, `expect`,
// `panic!` or `unreachable!`, and every indexing or slicing that could panic sits in a
// function marked `#[allow(clippy::indexing_slicing, reason = "...")]` whose reason says why
// no input reaches an out-of-range index. `cargo clippy` flags any new one.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::indexing_slicing
    )
)]
#![warn(missing_docs)]

pub mod exec;
pub mod interp;
pub mod isa;
pub mod jit;
pub mod math;
pub mod native;
pub mod state;

pub use math::{Fx, MathError, Rounding};

/// The README's Rust examples, compiled and run as doctests so they cannot go stale.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
