//! Calls between contracts: what the runs of one transaction share ([`Shared`]), the stack
//! of contracts it is in ([`CallSite`]) and how a run reaches the other deployed contracts
//! ([`Host`], which the engine implements).
//!
//! The rules (spec/security.md, Calls between contracts), enforced by
//! `Runtime::call_contract` alone, for both engines:
//! - one gas meter: a callee runs on the gas its caller has left (no 63/64 reserve), so a
//!   caller cannot be starved of gas by a callee in a way the transaction's sender did not
//!   pay for;
//! - one limit on frames (`Limits::max_call_depth`) over every contract's frames, and at
//!   most `Limits::max_contract_depth` contracts on the stack;
//! - no re-entry: a contract already on the stack cannot be called again until it returns
//!   (its own internal calls are frames, not contract calls, and are unaffected);
//! - a view import runs its callee, and everything the callee calls, unable to write storage
//!   or emit;
//! - a failure anywhere fails the whole transaction: nothing is written, no event stays.

use super::{Runtime, Stop};
use crate::isa::VerifiedModule;
use crate::state::{Address, TxState};

/// One contract on the transaction's stack: its address and the export it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallSite {
    /// The contract.
    pub contract: Address,
    /// The index of its export (in its module's exports) the call entered; `u32::MAX` for
    /// an entry that is a function, not an export (a run started by hand).
    pub export: u32,
}

/// What every run of one transaction shares.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// The events of every run, in order.
    pub events: Vec<super::Event>,
    /// Storage writes so far (see `Limits::max_storage_writes_per_tx`).
    pub writes: u32,
    /// The transaction's own contract and export (the bottom of the stack).
    pub entry: Option<CallSite>,
    /// The contracts called above it, the running one last (empty without XCALL, so a
    /// transaction that calls no other contract allocates nothing here). A call that fails
    /// is not popped, nor are its callers: after a failed transaction, the entry and this
    /// stack are the path to where it failed.
    pub calls: Vec<CallSite>,
    /// Frames held by the runs below the running one.
    pub outer_frames: usize,
    /// Array elements held by the runs below the running one.
    pub outer_words: u64,
}

impl Shared {
    /// Contracts on the stack, the entry included.
    pub fn depth(&self) -> usize {
        usize::from(self.entry.is_some()) + self.calls.len()
    }

    /// Whether `contract` is on the stack.
    pub fn on_stack(&self, contract: crate::state::Address) -> bool {
        self.entry.is_some_and(|e| e.contract == contract)
            || self.calls.iter().any(|s| s.contract == contract)
    }

    /// The stack, the entry first.
    pub fn sites(&self) -> Vec<CallSite> {
        self.entry.iter().chain(&self.calls).copied().collect()
    }
}

/// The deployed contracts, as a run reaches them for XCALL.
pub(crate) trait Host {
    /// The verified module deployed at `address`.
    fn module(&self, address: Address) -> Option<&VerifiedModule>;

    /// Runs `function` of the contract at `address` with `args` in `rt` (the callee's
    /// context, built by the caller's runtime), on whichever engine runs that contract
    /// (the interpreter, calling `tracer`'s hooks, when the caller is traced); returns how
    /// it ended and the gas left.
    fn run<'r>(
        &self,
        address: Address,
        function: usize,
        rt: Runtime<'r, dyn TxState + 'r>,
        args: &[i128],
        tracer: Option<&mut dyn super::hooks::DynTracer>,
    ) -> (Result<Vec<i128>, Stop>, u64);
}
