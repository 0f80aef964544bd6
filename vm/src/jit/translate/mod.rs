//! One verified function to Cranelift IR: the per-function translation state and a short
//! driver; the lowering of each opcode family lives beside it (`pure.rs`, `control.rs`,
//! `effects.rs`).
//!
//! The function's blocks are the verifier's CFG (one Cranelift block per basic block), and
//! each block's static gas is charged on entry, where the verifier's table says, exactly
//! as the interpreter charges it. Registers are Cranelift variables (i128), zero on entry
//! as in a fresh frame. Gas left lives in a variable (a machine register in loops),
//! written back to the context before anything that reads or charges it there (helpers
//! that charge, calls, returns, stops) and read again after those that change it.

mod control;
mod effects;
mod pure;

use super::context::{OFF_GAS, OFF_MEM, OFF_TMP};
use super::helpers::Refs;
use super::CompileError;
use crate::isa::{Effect, Instr, VerifiedModule};
use cranelift_codegen::ir::{
    condcodes::IntCC, types, Block, FuncRef, InstBuilder, MemFlagsData, SigRef, Signature,
    StackSlot, StackSlotData, StackSlotKind, Value,
};
use cranelift_frontend::{FunctionBuilder, Variable};

/// The functions compiled code calls: the helpers' references, and the signatures (by
/// arity) of the entries to pure functions, which it calls by address.
pub(in crate::jit) struct Helpers<'h> {
    pub refs: &'h Refs,
    pub pure_signatures: &'h [Signature; 3],
}

/// What translating one function needs and keeps: the module, the helpers, and the IR
/// values and blocks every instruction's lowering uses.
pub(super) struct Translator<'m, 'b, 'f> {
    pub(super) b: &'b mut FunctionBuilder<'f>,
    module: &'m VerifiedModule,
    function: usize,
    ptr: types::Type,
    callees: &'m [FuncRef],
    helpers: &'m Refs,
    /// The signatures of the entries to pure functions, by arity 1, 2, 3.
    pure_signatures: [SigRef; 3],
    /// One variable per register.
    regs: Vec<Variable>,
    /// Gas left (see the module docs).
    gas: Variable,
    /// The context and the argument/result buffer, the function's two parameters.
    ctx: Value,
    buf: Value,
    /// A stack buffer for call arguments and results, event values and native windows.
    slot: StackSlot,
    /// Per instruction: the Cranelift block of the basic block starting there.
    starts: Vec<Option<Block>>,
    /// Whether the frame has arrays; its first element; the memory's address (reloaded
    /// after every call, which may move it).
    has_arrays: bool,
    frame_mem: Value,
    mem_base: Variable,
    exits: Exits,
}

/// Where execution leaves the function with status 1 after a stop was recorded.
#[derive(Clone, Copy)]
struct Exits {
    /// Writes the gas variable back to the context, then leaves.
    stop: Block,
    /// Leaves as is: after helpers that charge gas themselves, whose count is the current.
    stop_raw: Block,
    /// An inlined operation overflowed.
    overflow: Block,
}

impl<'m, 'b, 'f> Translator<'m, 'b, 'f> {
    /// Translates `function` of `module` into `b` (whose signature is `(ctx, buf) -> i32`).
    pub(super) fn translate(
        b: &'b mut FunctionBuilder<'f>,
        module: &'m VerifiedModule,
        function: usize,
        ptr: types::Type,
        callees: &'m [FuncRef],
        helpers: Helpers<'m>,
    ) -> Result<(), CompileError> {
        let pure_signatures = helpers
            .pure_signatures
            .clone()
            .map(|sig| b.import_signature(sig));
        let helpers = helpers.refs;
        let f = module
            .module()
            .functions
            .get(function)
            .ok_or_else(|| CompileError(format!("no function {function}")))?;
        let cfg = module
            .cfg(function)
            .ok_or_else(|| CompileError(format!("no CFG for function {function}")))?;
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        let mut starts = vec![None; f.code.len()];
        for block in cfg.blocks() {
            if let Some(s) = starts.get_mut(block.start) {
                *s = Some(b.create_block());
            }
        }
        let exits = Exits {
            stop: b.create_block(),
            stop_raw: b.create_block(),
            overflow: b.create_block(),
        };
        // The exits are rare: laid out after the hot code.
        for exit in [exits.stop, exits.stop_raw, exits.overflow] {
            b.set_cold_block(exit);
        }
        b.switch_to_block(entry);
        let (ctx, buf) = match b.block_params(entry) {
            &[ctx, buf] => (ctx, buf),
            _ => return Err(CompileError("entry block parameters".into())),
        };
        let regs: Vec<Variable> = (0..f.registers)
            .map(|_| b.declare_var(types::I128))
            .collect();
        let gas = b.declare_var(types::I64);
        let mem_base = b.declare_var(ptr);
        let slot = b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (slot_values(module, &f.code) * 16) as u32,
            4,
        ));
        let zero = b.ins().iconst(types::I64, 0);
        let mut t = Translator {
            b,
            module,
            function,
            ptr,
            callees,
            helpers,
            pure_signatures,
            regs,
            gas,
            ctx,
            buf,
            slot,
            starts,
            has_arrays: !f.arrays.is_empty(),
            frame_mem: zero,
            mem_base,
            exits,
        };
        t.prologue(f.params);
        t.body(&f.code)?;
        t.epilogue();
        Ok(())
    }

    /// Gas, parameters, zeroed registers and the frame's arrays.
    fn prologue(&mut self, params: u8) {
        let g0 = self.load(types::I64, OFF_GAS);
        self.b.def_var(self.gas, g0);
        for (r, &v) in self.regs.iter().enumerate() {
            let x = if r < params as usize {
                self.b.ins().load(
                    types::I128,
                    MemFlagsData::trusted(),
                    self.buf,
                    (r * 16) as i32,
                )
            } else {
                const128(self.b, 0)
            };
            self.b.def_var(v, x);
        }
        // The frame's arrays: entered (charged, limit-checked, zeroed) before the first
        // block's gas, as in the interpreter.
        if self.has_arrays {
            let id = self.b.ins().iconst(types::I32, self.function as i64);
            self.call_charging(self.helpers.enter_arrays, &[id]);
            self.frame_mem = self.load(types::I64, OFF_TMP);
            self.reload_mem();
        } else {
            let null = self.b.ins().iconst(self.ptr, 0);
            self.b.def_var(self.mem_base, null);
        }
    }

    /// Every instruction, block by block.
    fn body(&mut self, code: &[Instr]) -> Result<(), CompileError> {
        let gas = self.module.block_gas(self.function);
        let mut open = true;
        for (pc, &instr) in code.iter().enumerate() {
            if let Some(block) = self.starts.get(pc).copied().flatten() {
                if open {
                    self.b.ins().jump(block, &[]);
                }
                self.b.switch_to_block(block);
                open = true;
            }
            if !open {
                // The verifier starts a block after every instruction that does not fall
                // through, so this is unreachable; keep the IR well formed regardless.
                let block = self.b.create_block();
                self.b.switch_to_block(block);
            }
            if let Some(&g) = gas.get(pc).filter(|&&g| g != 0) {
                self.charge(u64::from(g));
            }
            self.instruction(pc, instr)?;
            open = instr.op.falls_through() && !instr.op.jumps();
        }
        if open {
            // The verifier guarantees a terminator last; keep the IR well formed regardless.
            self.b.ins().jump(self.exits.stop, &[]);
        }
        Ok(())
    }

    /// One instruction, by its family in the opcode table.
    fn instruction(&mut self, pc: usize, i: Instr) -> Result<(), CompileError> {
        match i.op.info().effect {
            Effect::Pure(_) => self.pure(i)?,
            Effect::Branch(_) | Effect::Goto => self.jump(pc, i)?,
            Effect::Call => self.call(i),
            Effect::Return => self.ret(i),
            Effect::Revert => self.revert(i),
            Effect::Storage(op) => self.storage(op, i),
            Effect::Emit | Effect::Native | Effect::CallContract => self.window_helper(i),
            Effect::Env(v) => self.env(v, i),
            Effect::Array(op) => self.array(op, i),
        }
        Ok(())
    }

    /// The shared exits.
    fn epilogue(&mut self) {
        let Exits {
            stop,
            stop_raw,
            overflow,
        } = self.exits;
        self.b.switch_to_block(overflow);
        self.call_helper(self.helpers.overflow, &[]);
        self.b.ins().jump(stop, &[]);
        self.b.switch_to_block(stop);
        self.flush_gas();
        self.b.ins().jump(stop_raw, &[]);
        self.b.switch_to_block(stop_raw);
        let one = self.b.ins().iconst(types::I32, 1);
        self.b.ins().return_(&[one]);
    }

    // ---- primitives every lowering uses

    #[allow(
        clippy::indexing_slicing,
        reason = "the function is verified: every register operand is below its register count, the length of `regs`"
    )]
    fn reg(&self, r: u8) -> Variable {
        self.regs[r as usize]
    }

    fn read(&mut self, r: u8) -> Value {
        let v = self.reg(r);
        self.b.use_var(v)
    }

    fn write(&mut self, r: u8, value: Value) {
        let v = self.reg(r);
        self.b.def_var(v, value);
    }

    /// A load of `ty` from the context at `offset`.
    fn load(&mut self, ty: types::Type, offset: i32) -> Value {
        self.b
            .ins()
            .load(ty, MemFlagsData::trusted(), self.ctx, offset)
    }

    /// Writes the gas variable back to the context.
    fn flush_gas(&mut self) {
        let g = self.b.use_var(self.gas);
        self.b
            .ins()
            .store(MemFlagsData::trusted(), g, self.ctx, OFF_GAS);
    }

    /// Reads the context's gas into the variable (after a helper or call charged it).
    fn reload_gas(&mut self) {
        let g = self.load(types::I64, OFF_GAS);
        self.b.def_var(self.gas, g);
    }

    /// Reads the memory's address again (after a helper that may have moved it).
    fn reload_mem(&mut self) {
        let m = self.load(self.ptr, OFF_MEM);
        self.b.def_var(self.mem_base, m);
    }

    /// Charges a block's static gas: when less is left, the runtime's charge (which stops).
    fn charge(&mut self, g: u64) {
        let left = self.b.use_var(self.gas);
        let short = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedLessThan, left, g as i64);
        let out = self.b.create_block();
        let cont = self.b.create_block();
        self.b.ins().brif(short, out, &[], cont, &[]);
        self.b.switch_to_block(out);
        self.b.set_cold_block(out);
        self.flush_gas();
        let amount = self.b.ins().iconst(types::I64, g as i64);
        self.call_helper(self.helpers.charge, &[amount]);
        self.b.ins().jump(self.exits.stop_raw, &[]);
        self.b.switch_to_block(cont);
        let rest = self.b.ins().iadd_imm_s(left, -(g as i64));
        self.b.def_var(self.gas, rest);
    }

    /// Continues when `bad` is false, else jumps to `exit`.
    fn guard(&mut self, bad: Value, exit: Block) {
        let cont = self.b.create_block();
        self.b.ins().brif(bad, exit, &[], cont, &[]);
        self.b.switch_to_block(cont);
    }

    /// Calls helper `f` with the context and `args`; returns its status.
    fn call_helper(&mut self, f: FuncRef, args: &[Value]) -> Value {
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(self.ctx);
        all.extend_from_slice(args);
        let call = self.b.ins().call(f, &all);
        self.b
            .inst_results(call)
            .first()
            .copied()
            .unwrap_or(self.ctx)
    }

    /// Calls a helper that may charge gas or stop: the gas variable is written back
    /// before and read again after, and a stop leaves the function.
    fn call_charging(&mut self, f: FuncRef, args: &[Value]) {
        self.flush_gas();
        let status = self.call_helper(f, args);
        self.guard(status, self.exits.stop_raw);
        self.reload_gas();
    }

    /// The helper's result, left in the context's `tmp`.
    fn load_tmp(&mut self) -> Value {
        let lo = self.load(types::I64, OFF_TMP);
        let hi = self.load(types::I64, OFF_TMP + 8);
        self.b.ins().iconcat(lo, hi)
    }
}

/// Values the function's stack buffer must hold: the largest call window (callee
/// parameters or results), event, or native window; at least 16.
fn slot_values(module: &VerifiedModule, code: &[Instr]) -> usize {
    let functions = &module.module().functions;
    code.iter()
        .map(|i| match i.op.info().effect {
            Effect::Call => functions
                .get(i.imm as usize)
                .map_or(0, |f| f.params.max(f.returns) as usize),
            Effect::Emit | Effect::Native | Effect::CallContract => i.b.max(i.c) as usize,
            _ => 0,
        })
        .max()
        .unwrap_or(0)
        .max(16)
}

/// Whether an i128 is zero (as an i8 0 or 1): one 64-bit test of its halves' union.
fn is_zero128(b: &mut FunctionBuilder<'_>, x: Value) -> Value {
    let (lo, hi) = b.ins().isplit(x);
    let any = b.ins().bor(lo, hi);
    b.ins().icmp_imm_s(IntCC::Equal, any, 0)
}

/// An i128 constant.
fn const128(b: &mut FunctionBuilder<'_>, v: i128) -> Value {
    let lo = b.ins().iconst(types::I64, v as u64 as i64);
    let hi = b.ins().iconst(types::I64, (v >> 64) as i64);
    b.ins().iconcat(lo, hi)
}
