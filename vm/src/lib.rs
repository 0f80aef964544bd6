//! # strike-vm
//!
//! Everything needed to run Strike contracts; protocols embed only this crate.
//!
//! - [`math`]: the deterministic fixed-point kernels (exp, ln, sqrt, pow, the normal
//!   distribution, and multiplication and division with explicit rounding) that the
//!   interpreter, the JIT and native functions all call.
//! - [`isa`]: the instruction set (one table), the `.sbc` module format, limits, verifier.
//! - [`runtime`]: what both engines share: a run's context (gas, storage, events,
//!   natives, array memory, limits), the dynamic gas rules, and what a run produces.
//! - [`interp`]: the interpreter, the reference engine (dispatch and frames).
//! - [`jit`] (feature `jit`): the Cranelift compiler, the fast engine, equal to the
//!   interpreter in results, errors and gas.
//! - [`exec`]: the embedding API: `Engine`, `Transaction`, `Receipt`, `execute`, blocks.
//! - [`native`]: the natives behind NATIVE: sha256, ed25519 verification, test helpers.
//! - [`state`]: the `Storage` trait, an in-memory backend, the per-block `StateCache`, and
//!   (feature `redb`) a persistent backend.
//!
//! Dependencies run one way: `math` depends on nothing of the crate; `native` on `math`
//! (the Black-Scholes rows); `isa` on `math` and `native`; `state` on nothing; `runtime` on `isa`, `math`, `native` and
//! `state`; `interp` and `jit` on `runtime`; `exec` on everything below it.
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
#[cfg(feature = "jit")]
pub mod jit;
pub mod math;
pub mod native;
pub mod runtime;
pub mod state;

pub use math::{Fx, MathError, Rounding};

/// The README's Rust examples, compiled and run as doctests so they cannot go stale.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
