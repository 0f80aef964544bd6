//! Control: jumps and compare-and-branch (to the CFG's blocks), calls between compiled
//! functions (native calls, with the runtime's depth rule checked inline), returns and
//! reverts.

use super::pure::condition;
use super::{is_zero128, Translator};
use crate::isa::{Instr, Opcode};
use crate::jit::context::{OFF_DEPTH, OFF_MAX_DEPTH, OFF_MEM_TOP};
use crate::jit::CompileError;
use cranelift_codegen::ir::{condcodes::IntCC, types, Block, InstBuilder, MemFlagsData, Value};

impl Translator<'_, '_, '_> {
    /// The block starting at instruction `at` (verified jumps land inside the function and
    /// a branch is never last, so it exists; a missing one is a compile error).
    fn label(&self, at: i64) -> Result<Block, CompileError> {
        usize::try_from(at)
            .ok()
            .and_then(|k| self.starts.get(k).copied().flatten())
            .ok_or_else(|| CompileError(format!("no block at instruction {at}")))
    }

    /// JMP, JZ, JNZ and the compare-and-branch opcodes.
    pub(super) fn jump(&mut self, pc: usize, i: Instr) -> Result<(), CompileError> {
        let target = self.label(i.jump_target(pc).unwrap_or(-1))?;
        if i.op == Opcode::Jump {
            self.b.ins().jump(target, &[]);
            return Ok(());
        }
        let next = self.label(pc as i64 + 1)?;
        let x = self.read(i.a);
        let taken = match i.op {
            Opcode::JumpIfZero => is_zero128(self.b, x),
            Opcode::JumpIfNonZero => {
                let z = is_zero128(self.b, x);
                self.b.ins().bxor_imm_s(z, 1)
            }
            _ => {
                let y = self.read(i.b);
                self.b.ins().icmp(condition(i.op), x, y)
            }
        };
        self.b.ins().brif(taken, target, &[], next, &[]);
        Ok(())
    }

    /// CALL: the arguments out to the stack buffer, the depth rule, a native call, the
    /// results back.
    pub(super) fn call(&mut self, i: Instr) {
        let callee = i.imm as usize;
        let returns = self
            .module
            .module()
            .functions
            .get(callee)
            .map_or(0, |f| f.returns as usize);
        let area = self.b.ins().stack_addr(self.ptr, self.slot, 0);
        self.store_window(area, i.a, i.b as usize);
        // The runtime's depth rule, inline: frames (entry included) < the limit.
        let depth = self.load(types::I32, OFF_DEPTH);
        let max = self.load(types::I32, OFF_MAX_DEPTH);
        let too_deep = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, depth, max);
        let deep = self.b.create_block();
        let ok = self.b.create_block();
        self.b.ins().brif(too_deep, deep, &[], ok, &[]);
        self.b.set_cold_block(deep);
        self.b.switch_to_block(deep);
        self.call_helper(self.helpers.call_depth, &[]);
        self.b.ins().jump(self.exits.stop, &[]);
        self.b.switch_to_block(ok);
        let deeper = self.b.ins().iadd_imm_s(depth, 1);
        self.b
            .ins()
            .store(MemFlagsData::trusted(), deeper, self.ctx, OFF_DEPTH);
        self.flush_gas();
        let target = self.callees.get(callee).copied();
        let status = match target {
            Some(f) => {
                let call = self.b.ins().call(f, &[self.ctx, area]);
                self.b.inst_results(call).first().copied().unwrap_or(depth)
            }
            None => self.b.ins().iconst(types::I32, 1),
        };
        self.b
            .ins()
            .store(MemFlagsData::trusted(), depth, self.ctx, OFF_DEPTH);
        self.guard(status, self.exits.stop_raw);
        self.reload_gas();
        self.load_window(area, i.a, returns);
        if self.has_arrays {
            self.reload_mem();
        }
    }

    /// RET: the frame's arrays freed, the values out to the caller's buffer, status 0.
    pub(super) fn ret(&mut self, i: Instr) {
        if self.has_arrays {
            self.b.ins().store(
                MemFlagsData::trusted(),
                self.frame_mem,
                self.ctx,
                OFF_MEM_TOP,
            );
        }
        self.store_window(self.buf, i.a, i.b as usize);
        self.flush_gas();
        let z = self.b.ins().iconst(types::I32, 0);
        self.b.ins().return_(&[z]);
    }

    /// REVERT with the immediate's code.
    pub(super) fn revert(&mut self, i: Instr) {
        let code = self.b.ins().iconst(types::I32, i.imm as u32 as i64);
        self.call_helper(self.helpers.revert, &[code]);
        self.b.ins().jump(self.exits.stop, &[]);
    }

    /// Stores registers `r[first..first + n]` to `n` values at `area`.
    pub(super) fn store_window(&mut self, area: Value, first: u8, n: usize) {
        for k in 0..n {
            let v = self.read(first.wrapping_add(k as u8));
            self.b
                .ins()
                .store(MemFlagsData::trusted(), v, area, (k * 16) as i32);
        }
    }

    /// Loads `n` values at `area` into registers `r[first..first + n]`.
    pub(super) fn load_window(&mut self, area: Value, first: u8, n: usize) {
        for k in 0..n {
            let v = self
                .b
                .ins()
                .load(types::I128, MemFlagsData::trusted(), area, (k * 16) as i32);
            self.write(first.wrapping_add(k as u8), v);
        }
    }
}
