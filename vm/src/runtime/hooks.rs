//! The hooks a traced run calls ([`Tracer`]): what the interpreter tells an observer before
//! and after each instruction, and around a call of another contract. They live with the
//! runtime because a call between contracts hands the caller's tracer to the callee's run
//! (`Host::run`); the interpreter calls them, and `interp::trace` builds traces on them.

use super::Halt;
use crate::isa::Instr;
use crate::state::Slot;

/// Where the interpreter is, before an instruction: passed to [`Tracer::before`].
#[derive(Clone, Copy, Debug)]
pub struct At {
    /// The contract running.
    pub contract: crate::state::Address,
    /// Call depth, 1 for the entry function, counting every contract's frames.
    pub depth: usize,
    /// Function index.
    pub function: usize,
    /// The instruction's index in its function.
    pub pc: usize,
    /// The instruction.
    pub instr: Instr,
    /// Gas left before this instruction (and before its block's charge, if it starts one).
    pub gas_left: u64,
    /// The static gas of the block this instruction starts, or 0 inside a block.
    pub block_gas: u64,
    /// The instruction's own static gas ([`crate::isa::static_gas`]).
    pub static_gas: u64,
}

/// The hooks the interpreter calls. Implementations must not affect execution.
pub trait Tracer {
    /// False for [`NoTrace`]: the interpreter then skips the hooks and what feeds them.
    const ENABLED: bool;
    /// Before the instruction (and its block's charge): the frame's registers and, for a
    /// storage instruction, the slot with its value.
    fn before(&mut self, at: &At, regs: &[i128], storage: Option<(Slot, i128)>);
    /// After an instruction that did not end the run: the registers of the frame it ran in
    /// (for CALL and RET, of the frame execution moved to), the gas left and, for a storage
    /// instruction, the slot's value now.
    fn after(&mut self, regs: &[i128], gas_left: u64, storage: Option<i128>);
    /// After the run: how it ended and the gas it left.
    fn finish(&mut self, halt: &Halt, gas_left: u64);
    /// An XCALL is about to run its callee, with `gas_left` after the call's charges: the
    /// callee's steps follow.
    fn call_start(&mut self, _gas_left: u64) {}
    /// The callee of an XCALL returned, leaving `gas_left`: the caller's steps follow.
    fn call_end(&mut self, _gas_left: u64) {}
}

/// A [`Tracer`] as a trait object, so that a run can hand its tracer to the run of a
/// contract it calls (`runtime::Host::run`). Every tracer is one.
pub trait DynTracer {
    /// [`Tracer::before`].
    fn dyn_before(&mut self, at: &At, regs: &[i128], storage: Option<(Slot, i128)>);
    /// [`Tracer::after`].
    fn dyn_after(&mut self, regs: &[i128], gas_left: u64, storage: Option<i128>);
    /// [`Tracer::finish`].
    fn dyn_finish(&mut self, halt: &Halt, gas_left: u64);
    /// [`Tracer::call_start`].
    fn dyn_call_start(&mut self, gas_left: u64);
    /// [`Tracer::call_end`].
    fn dyn_call_end(&mut self, gas_left: u64);
}

impl<T: Tracer> DynTracer for T {
    fn dyn_before(&mut self, at: &At, regs: &[i128], storage: Option<(Slot, i128)>) {
        self.before(at, regs, storage);
    }
    fn dyn_after(&mut self, regs: &[i128], gas_left: u64, storage: Option<i128>) {
        self.after(regs, gas_left, storage);
    }
    fn dyn_finish(&mut self, halt: &Halt, gas_left: u64) {
        self.finish(halt, gas_left);
    }
    fn dyn_call_start(&mut self, gas_left: u64) {
        self.call_start(gas_left);
    }
    fn dyn_call_end(&mut self, gas_left: u64) {
        self.call_end(gas_left);
    }
}

/// The tracer of the run that called this one, for the callee's interpreter.
pub(crate) struct Nested<'t>(pub &'t mut dyn DynTracer);

impl Tracer for Nested<'_> {
    const ENABLED: bool = true;
    fn before(&mut self, at: &At, regs: &[i128], storage: Option<(Slot, i128)>) {
        self.0.dyn_before(at, regs, storage);
    }
    fn after(&mut self, regs: &[i128], gas_left: u64, storage: Option<i128>) {
        self.0.dyn_after(regs, gas_left, storage);
    }
    fn finish(&mut self, halt: &Halt, gas_left: u64) {
        self.0.dyn_finish(halt, gas_left);
    }
    fn call_start(&mut self, gas_left: u64) {
        self.0.dyn_call_start(gas_left);
    }
    fn call_end(&mut self, gas_left: u64) {
        self.0.dyn_call_end(gas_left);
    }
}

/// No tracing.
pub struct NoTrace;

impl Tracer for NoTrace {
    const ENABLED: bool = false;
    #[inline(always)]
    fn before(&mut self, _: &At, _: &[i128], _: Option<(Slot, i128)>) {}
    #[inline(always)]
    fn after(&mut self, _: &[i128], _: u64, _: Option<i128>) {}
    #[inline(always)]
    fn finish(&mut self, _: &Halt, _: u64) {}
}
