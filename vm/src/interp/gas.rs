//! Dynamic gas charges: the costs that depend on what an instruction touches. Static
//! per-opcode costs live in the opcode table; both are documented in `spec/gas.md`.
//!
//! Warm/cold is decided per transaction by `StateCache` (first touch of a slot in the
//! transaction is cold), never by what happens to be cached, so gas is the same on every
//! engine and thread schedule.

/// Charged once per transaction, before the first instruction.
pub const TX_BASE: u64 = 50;
/// SLOAD of a slot the transaction has not touched yet (on top of the static gas).
pub const SLOAD_COLD: u64 = 100;
/// SLOAD of a slot the transaction touched before.
pub const SLOAD_WARM: u64 = 3;
/// Any SSTORE or SADD.
pub const STORE_BASE: u64 = 4;
/// Extra for an SSTORE or SADD to a slot the transaction has not touched yet.
pub const STORE_COLD: u64 = 100;
/// Any EMIT.
pub const EMIT_BASE: u64 = 16;
/// Per value of an EMIT.
pub const EMIT_PER_VALUE: u64 = 2;
/// A CALL costs one more gas per this many registers (rounded up) of the callee's frame:
/// entering it zeroes them and copies the arguments, and its RET copies the results, work
/// that grows with the frame (measured: a CALL and RET of a 256-register frame take about
/// 40 ns, 255 arguments or results about 60 ns). Known from the callee alone, so the
/// verifier folds it into the CALL's static gas (see [`crate::isa::static_gas`]).
pub const CALL_REGISTERS_PER_GAS: u32 = 16;

/// Per array element of a frame, charged when the frame is entered (the elements are
/// zeroed then), before the first block's static gas.
pub const ARRAY_WORD: u64 = 1;
