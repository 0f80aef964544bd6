//! Pass 5, control flow. Guarantees: every jump lands on an instruction of the same
//! function, and the last instruction does not fall through (it is JMP, RET or REVERT),
//! so execution never leaves the code. Builds the function's control-flow graph once: its
//! basic blocks (a block starts at the entry, at every jump target and after every
//! instruction that jumps or does not fall through) and their successors, which the gas
//! pass, the JIT and later analyses use as they are.

use super::error::VerifyErrorKind;
use crate::isa::Function;

/// A run of instructions entered only at its first and left only after its last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BasicBlock {
    /// Its first instruction.
    pub start: usize,
    /// One past its last instruction.
    pub end: usize,
    /// The blocks control may go to after it (by index into [`Cfg::blocks`]): none after
    /// RET and REVERT, the target after JMP, the next block and the target after a branch,
    /// the next block otherwise.
    pub successors: Vec<usize>,
}

/// A function's control-flow graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cfg {
    blocks: Vec<BasicBlock>,
    /// Per instruction: the index of the block starting there, or `u32::MAX`.
    starts: Vec<u32>,
}

impl Cfg {
    /// The basic blocks, in code order; the first starts at instruction 0.
    pub fn blocks(&self) -> &[BasicBlock] {
        &self.blocks
    }

    /// The block starting at instruction `pc`, if one does.
    pub fn block_at(&self, pc: usize) -> Option<usize> {
        self.starts
            .get(pc)
            .filter(|&&b| b != u32::MAX)
            .map(|&b| b as usize)
    }
}

/// Checks `f`'s jumps and its end, and builds its CFG (`f` has at least one instruction:
/// the frame pass checked it). The error comes with its instruction's index.
#[allow(
    clippy::indexing_slicing,
    reason = "`leader` has one entry per instruction; every index into it is a pc of the loop, a jump target checked to lie inside the function, or pc + 1 checked against the length"
)]
pub(super) fn build(f: &Function) -> Result<Cfg, (usize, VerifyErrorKind)> {
    let len = f.code.len();
    let last = len.saturating_sub(1);
    if f.code.last().is_none_or(|i| i.op.falls_through()) {
        return Err((last, VerifyErrorKind::FallsOffEnd));
    }
    let mut leader = vec![false; len];
    leader[0] = true;
    for (pc, instr) in f.code.iter().enumerate() {
        if let Some(target) = instr.jump_target(pc) {
            if target < 0 || target >= len as i64 {
                return Err((pc, VerifyErrorKind::JumpOutOfRange(target)));
            }
            leader[target as usize] = true;
        }
        let ends_block = instr.op.jumps() || !instr.op.falls_through();
        if ends_block && pc + 1 < len {
            leader[pc + 1] = true;
        }
    }
    let mut starts = vec![u32::MAX; len];
    let mut begin: Vec<usize> = Vec::new();
    for (pc, &is_leader) in leader.iter().enumerate() {
        if is_leader {
            starts[pc] = begin.len() as u32;
            begin.push(pc);
        }
    }
    let blocks = begin
        .iter()
        .enumerate()
        .map(|(k, &start)| {
            let end = begin.get(k + 1).copied().unwrap_or(len);
            let last = f.code[end - 1];
            let mut successors = Vec::with_capacity(2);
            if last.op.falls_through() && end < len {
                successors.push(starts[end] as usize);
            }
            if let Some(target) = last.jump_target(end - 1) {
                let t = starts[target as usize] as usize;
                if !successors.contains(&t) {
                    successors.push(t);
                }
            }
            BasicBlock {
                start,
                end,
                successors,
            }
        })
        .collect();
    Ok(Cfg { blocks, starts })
}
