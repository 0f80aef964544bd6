//! Pass 6, static gas. Guarantees: the static gas of every basic block is known and fits a
//! u32, so the interpreter charges one constant when it enters a block and the JIT charges
//! the same constant at the same place. Defined on the canonical bytecode alone: the same
//! on every engine, thread and machine.

use super::cfg::Cfg;
use super::error::VerifyErrorKind;
use crate::isa::{Function, Instr, Module, Opcode};

/// A CALL costs one more gas per this many registers (rounded up) of the callee's frame:
/// entering it zeroes them and copies the arguments, and its RET copies the results, work
/// that grows with the frame (measured: a CALL and RET of a 256-register frame take about
/// 40 ns, 255 arguments or results about 60 ns). Known from the callee alone, so it is part
/// of the CALL's static gas ([`static_gas`]).
pub const CALL_REGISTERS_PER_GAS: u32 = 16;

/// The static gas of `instr` in `module`: its opcode's cost, and for a CALL one more per
/// [`CALL_REGISTERS_PER_GAS`] registers of the callee (see spec/gas.md). What the verifier
/// sums into each block's charge, and what traces show per instruction.
pub fn static_gas(module: &Module, instr: Instr) -> u32 {
    let frame = match instr.op {
        Opcode::Call => module.functions.get(instr.imm as usize).map_or(0, |f| {
            u32::from(f.registers).div_ceil(CALL_REGISTERS_PER_GAS)
        }),
        _ => 0,
    };
    instr.op.info().gas + frame
}

/// Per instruction of `f`: the static gas of the block starting there, or 0 where none
/// starts. The error comes with the instruction where a block's sum leaves the u32 range.
#[allow(
    clippy::indexing_slicing,
    reason = "`gas` has one entry per instruction and each block lies inside the function (the CFG pass built them from its instructions)"
)]
pub(super) fn per_block(
    module: &Module,
    f: &Function,
    cfg: &Cfg,
) -> Result<Vec<u32>, (usize, VerifyErrorKind)> {
    let mut gas = vec![0u32; f.code.len()];
    for block in cfg.blocks() {
        let mut sum = 0u64;
        for pc in block.start..block.end {
            // Within u32 under the default limits (65,536 instructions of at most 148
            // gas); an embedder that loosens `max_code_len` far enough gets an error, not
            // a wrap.
            sum += u64::from(static_gas(module, f.code[pc]));
            if sum > u64::from(u32::MAX) {
                return Err((
                    pc,
                    VerifyErrorKind::OverLimit {
                        what: "gas in one basic block",
                        count: sum as usize,
                        limit: u32::MAX as usize,
                    },
                ));
            }
        }
        gas[block.start] = sum as u32;
    }
    Ok(gas)
}
