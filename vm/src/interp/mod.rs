//! The interpreter: the reference engine. Dispatch and call frames only: each opcode's
//! semantics comes from the opcode table at compile time (`isa::unary` and friends resolve
//! to the function in `isa::semantics`, called directly and inlined), and every effect
//! (gas, storage, events, natives, array memory, the depth limit) is a method of the
//! shared [`Runtime`].
//!
//! Guarantees: given a [`VerifiedModule`], execution never panics and never recurses on the
//! native stack (calls push frames inside one loop, bounded by `Limits::max_call_depth`).
//! Static gas is charged once at the start of each basic block, dynamic gas (storage,
//! events) at the instruction; running out of either halts with [`VmError::OutOfGas`] and
//! `gas_used` equal to the limit. The interpreter relies on the verifier for register,
//! constant, jump and arity bounds; the indexing that remains is bounds-checked anyway, so
//! even a verifier bug could only end in an error path, never in undefined behaviour.

pub mod trace;

use crate::isa::{self, Effect, Limits, Opcode, Role, VerifiedModule};
use crate::runtime::{self, BlockEnv, Call, Execution, Runtime, Shared, Stop, VmError};
use crate::state::{Slot, TxState};

/// Runs `call` to completion. Writes go to `state` (the caller reverts them on failure).
pub fn run<T: TxState + ?Sized>(
    module: &VerifiedModule,
    call: Call<'_>,
    block: &BlockEnv,
    state: &mut T,
    limits: &Limits,
) -> Execution {
    run_traced(module, call, block, state, limits, &mut trace::NoTrace)
}

/// [`run`], calling `tracer`'s hooks around every instruction (see [`trace`]). The
/// execution is the same as untraced.
pub fn run_traced<T: TxState + ?Sized, R: trace::Tracer>(
    module: &VerifiedModule,
    call: Call<'_>,
    block: &BlockEnv,
    state: &mut T,
    limits: &Limits,
    tracer: &mut R,
) -> Execution {
    let mut shared = Shared::default();
    let rt = Runtime::new(
        module,
        &call,
        block,
        state,
        limits,
        &mut shared,
        None,
        u32::MAX,
    );
    let (result, gas_left) = execute(rt, &call, tracer);
    runtime::finish(result, gas_left, call.gas_limit, &mut shared)
}

/// Runs `call` in `rt` (an entry's context, or a callee's that an XCALL built): how it
/// ended and the gas left.
#[inline]
pub(crate) fn execute<T: TxState + ?Sized, R: trace::Tracer>(
    rt: Runtime<'_, T>,
    call: &Call<'_>,
    tracer: &mut R,
) -> (Result<Vec<i128>, Stop>, u64) {
    let mut machine = Machine {
        rt,
        regs: Vec::new(),
        frames: Vec::new(),
    };
    let result = machine.execute(call, tracer);
    (result, machine.rt.gas_left)
}

struct Frame {
    function: usize,
    pc: usize,
    base: usize,
    /// Where the frame's arrays start in the runtime's memory.
    mem_base: usize,
    /// Absolute register index in the caller where results go.
    results_to: usize,
}

struct Machine<'a, T: TxState + ?Sized> {
    rt: Runtime<'a, T>,
    regs: Vec<i128>,
    frames: Vec<Frame>,
}

/// What the table says of opcode `$op`, resolved at compile time: `$pat` must match its
/// effect (a mismatch fails the build).
macro_rules! table {
    ($op:ident, $pat:pat => $v:expr) => {
        const {
            match Opcode::$op.info().effect {
                $pat => $v,
                _ => panic!("the opcode table disagrees with the interpreter"),
            }
        }
    };
}

impl<T: TxState + ?Sized> Machine<'_, T> {
    #[allow(
        clippy::indexing_slicing,
        reason = "`function` is a CALL target the verifier bounded by the module's function count; the register ranges are within the frame the verifier sized for them"
    )]
    fn push_frame(
        &mut self,
        function: usize,
        args_from: usize,
        nargs: usize,
        results_to: usize,
    ) -> Result<(), Stop> {
        self.rt.check_depth(self.frames.len())?;
        let mem_base = self.rt.memory.len();
        self.rt.enter_arrays(function, mem_base)?;
        let base = self.regs.len();
        let registers = self.rt.module().module().functions[function].registers as usize;
        self.regs.resize(base + registers, 0);
        self.regs.copy_within(args_from..args_from + nargs, base);
        self.frames.push(Frame {
            function,
            pc: 0,
            base,
            mem_base,
            results_to,
        });
        Ok(())
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "the verifier guarantees every index used here (spec: isa/verify): register operands and CALL/RET/EMIT/NATIVE windows below the frame's register count (the register file is resized to it on every frame entry), constants, events, functions and arrays in range, jump targets inside the function, a terminator last so `pc` never leaves `code`; `block_gas` and `offsets` are the verifier's own tables for the current function; `check_arguments` ran first, so the entry function exists and takes exactly `args.len()` parameters"
    )]
    #[allow(
        clippy::panic,
        reason = "only inside `table!`'s const blocks: a mismatch is a compile error, never a run-time panic"
    )]
    fn execute<R: trace::Tracer>(
        &mut self,
        call: &Call<'_>,
        tracer: &mut R,
    ) -> Result<Vec<i128>, Stop> {
        let verified = self.rt.module();
        let module = verified.module();
        runtime::check_arguments(verified, call)?;
        let entry = &module.functions[call.function];
        // The entry frame: arguments in r0.., results returned rather than copied.
        self.rt.enter_arrays(call.function, 0)?;
        self.regs.resize(entry.registers as usize, 0);
        self.regs[..call.args.len()].copy_from_slice(call.args);
        self.frames.push(Frame {
            function: call.function,
            pc: 0,
            base: 0,
            mem_base: 0,
            results_to: 0,
        });

        let mut frame = 0;
        let (mut func, mut pc, mut base) = (call.function, 0usize, 0usize);
        let mut mem_base = 0usize;
        let mut offsets = verified.array_offsets(func);
        let mut code = &module.functions[func].code[..];
        let mut block_gas = verified.block_gas(func);
        let constants = &module.constants[..];
        loop {
            let g = block_gas[pc];
            let mut traced_slot = None;
            if R::ENABLED {
                traced_slot = self.trace_before(tracer, frame, func, pc, base, g);
            }
            if g != 0 {
                self.rt.charge(u64::from(g))?;
            }
            let i = code[pc];
            pc += 1;
            let (a, b, c) = (
                base + i.a as usize,
                base + i.b as usize,
                base + i.c as usize,
            );
            macro_rules! r {
                ($x:expr) => {
                    self.regs[$x]
                };
            }
            // r[a] = the table's function of the operands.
            macro_rules! pure {
                ($op:ident, $x:expr) => {
                    r!(a) = (const { isa::unary(Opcode::$op) })($x)?
                };
                ($op:ident, $x:expr, $y:expr) => {
                    r!(a) = (const { isa::binary(Opcode::$op) })($x, $y)?
                };
                ($op:ident, $x:expr, $y:expr, $z:expr) => {
                    r!(a) = (const { isa::ternary(Opcode::$op) })($x, $y, $z)?
                };
            }
            // Jump when the table's condition holds.
            macro_rules! branch {
                ($op:ident, $x:expr) => {
                    if (const { isa::unary(Opcode::$op) })($x)? != 0 {
                        pc = (pc as i64 + i.imm as i64) as usize
                    }
                };
                ($op:ident, $x:expr, $y:expr) => {
                    if (const { isa::binary(Opcode::$op) })($x, $y)? != 0 {
                        pc = (pc as i64 + i.imm as i64) as usize
                    }
                };
            }
            let imm = i.imm as i128;
            match i.op {
                Opcode::Mov => pure!(Mov, r!(b)),
                Opcode::LoadInt => pure!(LoadInt, imm),
                Opcode::LoadFx => pure!(LoadFx, imm),
                Opcode::LoadConst => pure!(LoadConst, constants[i.imm as usize]),
                Opcode::Add => pure!(Add, r!(b), r!(c)),
                Opcode::Sub => pure!(Sub, r!(b), r!(c)),
                Opcode::Neg => pure!(Neg, r!(b)),
                Opcode::AddImm => pure!(AddImm, r!(b), imm),
                Opcode::AddConst => pure!(AddConst, r!(b), constants[i.imm as usize]),
                Opcode::IntMul => pure!(IntMul, r!(b), r!(c)),
                Opcode::IntDiv => pure!(IntDiv, r!(b), r!(c)),
                Opcode::IntRem => pure!(IntRem, r!(b), r!(c)),
                Opcode::Abs => pure!(Abs, r!(b)),
                Opcode::Min => pure!(Min, r!(b), r!(c)),
                Opcode::Max => pure!(Max, r!(b), r!(c)),
                Opcode::Mul => pure!(Mul, r!(b), r!(c)),
                Opcode::MulDown => pure!(MulDown, r!(b), r!(c)),
                Opcode::MulUp => pure!(MulUp, r!(b), r!(c)),
                Opcode::MulConst => pure!(MulConst, r!(b), constants[i.imm as usize]),
                Opcode::Div => pure!(Div, r!(b), r!(c)),
                Opcode::DivDown => pure!(DivDown, r!(b), r!(c)),
                Opcode::DivUp => pure!(DivUp, r!(b), r!(c)),
                Opcode::MulDiv => pure!(MulDiv, r!(b), r!(c), r!(base + i.d() as usize)),
                Opcode::MulDivDown => pure!(MulDivDown, r!(b), r!(c), r!(base + i.d() as usize)),
                Opcode::MulDivUp => pure!(MulDivUp, r!(b), r!(c), r!(base + i.d() as usize)),
                Opcode::Exp => pure!(Exp, r!(b)),
                Opcode::Ln => pure!(Ln, r!(b)),
                Opcode::Sqrt => pure!(Sqrt, r!(b)),
                Opcode::Pow => pure!(Pow, r!(b), r!(c)),
                Opcode::Ncdf => pure!(Ncdf, r!(b)),
                Opcode::Npdf => pure!(Npdf, r!(b)),
                Opcode::InvNcdf => pure!(InvNcdf, r!(b)),
                Opcode::IntToFx => pure!(IntToFx, r!(b)),
                Opcode::FxToInt => pure!(FxToInt, r!(b)),
                Opcode::Eq => pure!(Eq, r!(b), r!(c)),
                Opcode::Ne => pure!(Ne, r!(b), r!(c)),
                Opcode::Lt => pure!(Lt, r!(b), r!(c)),
                Opcode::Le => pure!(Le, r!(b), r!(c)),
                Opcode::And => pure!(And, r!(b), r!(c)),
                Opcode::Or => pure!(Or, r!(b), r!(c)),
                Opcode::Xor => pure!(Xor, r!(b), r!(c)),
                Opcode::Not => pure!(Not, r!(b)),
                Opcode::Jump => pc = (pc as i64 + i.imm as i64) as usize,
                Opcode::JumpIfZero => branch!(JumpIfZero, r!(a)),
                Opcode::JumpIfNonZero => branch!(JumpIfNonZero, r!(a)),
                Opcode::BranchEq => branch!(BranchEq, r!(a), r!(b)),
                Opcode::BranchNe => branch!(BranchNe, r!(a), r!(b)),
                Opcode::BranchLt => branch!(BranchLt, r!(a), r!(b)),
                Opcode::BranchLe => branch!(BranchLe, r!(a), r!(b)),
                Opcode::Call => {
                    self.frames[frame].pc = pc;
                    let callee = i.imm as usize;
                    self.push_frame(callee, a, i.b as usize, a)?;
                    frame += 1;
                    (func, pc, base) = (callee, 0, self.frames[frame].base);
                    mem_base = self.frames[frame].mem_base;
                    code = &module.functions[func].code[..];
                    block_gas = verified.block_gas(func);
                    offsets = verified.array_offsets(func);
                }
                Opcode::CallContract => {
                    let window = &self.regs[a..a + i.b as usize];
                    let hooks: Option<&mut dyn trace::DynTracer> =
                        if R::ENABLED { Some(&mut *tracer) } else { None };
                    let values =
                        self.rt
                            .call_contract(i.imm as u32, window, self.frames.len(), hooks)?;
                    self.regs[a..a + values.len()].copy_from_slice(&values);
                }
                Opcode::Return => {
                    let n = i.b as usize;
                    if frame == 0 {
                        return Ok(self.regs[a..a + n].to_vec());
                    }
                    let done = self.frames.pop().ok_or(Stop::Error(VmError::CallDepth))?;
                    self.regs.copy_within(a..a + n, done.results_to);
                    self.regs.truncate(done.base);
                    self.rt.memory.truncate(done.mem_base);
                    frame -= 1;
                    let f = &self.frames[frame];
                    (func, pc, base, mem_base) = (f.function, f.pc, f.base, f.mem_base);
                    code = &module.functions[func].code[..];
                    block_gas = verified.block_gas(func);
                    offsets = verified.array_offsets(func);
                }
                Opcode::Revert => return Err(Stop::Revert(i.imm as u32)),
                Opcode::StorageLoad => r!(a) = self.rt.load(i.imm as u32, r!(b))?,
                Opcode::StorageStore => {
                    let op = table!(StorageStore, Effect::Storage(op) => op);
                    self.rt.store(op, i.imm as u32, r!(a), r!(b), 0)?
                }
                Opcode::StorageAdd => {
                    let op = table!(StorageAdd, Effect::Storage(op) => op);
                    self.rt.store(op, i.imm as u32, r!(a), r!(b), 0)?
                }
                Opcode::StorageAddCapped => {
                    let op = table!(StorageAddCapped, Effect::Storage(op) => op);
                    self.rt.store(op, i.imm as u32, r!(a), r!(b), r!(c))?
                }
                Opcode::Emit => self
                    .rt
                    .emit(i.imm as u32, &self.regs[a..a + i.b as usize])?,
                Opcode::Caller => r!(a) = self.rt.env(table!(Caller, Effect::Env(v) => v)),
                Opcode::SelfAddress => {
                    r!(a) = self.rt.env(table!(SelfAddress, Effect::Env(v) => v))
                }
                Opcode::BlockNumber => {
                    r!(a) = self.rt.env(table!(BlockNumber, Effect::Env(v) => v))
                }
                Opcode::Timestamp => r!(a) = self.rt.env(table!(Timestamp, Effect::Env(v) => v)),
                Opcode::GasLeft => r!(a) = self.rt.env(table!(GasLeft, Effect::Env(v) => v)),
                Opcode::Native => {
                    let mut out = crate::native::Results::default();
                    let args = &self.regs[a..a + i.b as usize];
                    let n = self.rt.native(i.imm as u32, args, &mut out)?;
                    self.regs[a..a + n].copy_from_slice(&out[..n]);
                }
                Opcode::ArrayLoad => {
                    let at = runtime::element(offsets, mem_base, i.imm as usize, r!(b))?;
                    r!(a) = self.rt.memory[at];
                }
                Opcode::ArrayStore => {
                    let at = runtime::element(offsets, mem_base, i.imm as usize, r!(b))?;
                    self.rt.memory[at] = r!(a);
                }
            }
            if R::ENABLED {
                let registers = module.functions[func].registers as usize;
                let regs = self.regs.get(base..base + registers).unwrap_or(&[]);
                let value = traced_slot.map(|s| self.rt.peek(s));
                tracer.after(regs, self.rt.gas_left, value);
            }
        }
    }

    /// The tracer's `before` hook for instruction `pc` of the current frame; returns the
    /// storage slot the instruction touches, if any (its key is its `Key` operand).
    #[cold]
    fn trace_before<R: trace::Tracer>(
        &mut self,
        tracer: &mut R,
        frame: usize,
        function: usize,
        pc: usize,
        base: usize,
        block_gas: u32,
    ) -> Option<Slot> {
        let module = self.rt.module().module();
        let f = module.functions.get(function)?;
        let instr = *f.code.get(pc)?;
        let regs = self
            .regs
            .get(base..base + f.registers as usize)
            .unwrap_or(&[]);
        let key = instr
            .field(Role::Key)
            .and_then(|k| regs.get(k as usize))
            .copied();
        let slot = key.map(|k| self.rt.slot(instr.imm as u32, k));
        let storage = slot.map(|s| (s, self.rt.peek(s)));
        let at = trace::At {
            contract: self.rt.env.contract,
            depth: self.rt.outer_frames() + frame + 1,
            function,
            pc,
            instr,
            gas_left: self.rt.gas_left,
            block_gas: u64::from(block_gas),
            static_gas: u64::from(isa::static_gas(module, instr)),
        };
        let regs = self
            .regs
            .get(base..base + f.registers as usize)
            .unwrap_or(&[]);
        tracer.before(&at, regs, storage);
        slot
    }
}
