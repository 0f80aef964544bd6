//! Dynamic gas charges: the costs that depend on what an instruction touches, and the one
//! rule for charging them. Static per-opcode costs live in the opcode table, a CALL's
//! frame cost in `isa::static_gas`; all are documented in `spec/gas.md`.
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
/// Per array element of a frame, charged when the frame is entered (the elements are
/// zeroed then), before the first block's static gas.
pub const ARRAY_WORD: u64 = 1;

/// An XCALL, on top of its static gas: finding the contract and its export, checking the
/// signature and setting up the callee's run (measured: `benches/gas.rs`, `xcall`).
pub const CALL_CONTRACT: u64 = 80;

/// Charges `gas` from `left`: all of it, or out of gas with nothing left (so `gas_used`
/// equals the limit). The one rule for every engine and every charge.
#[inline]
pub fn charge(left: &mut u64, gas: u64) -> Result<(), super::VmError> {
    match left.checked_sub(gas) {
        Some(rest) => {
            *left = rest;
            Ok(())
        }
        None => {
            *left = 0;
            Err(super::VmError::OutOfGas)
        }
    }
}
