//! The Cranelift JIT: every function of a verified module compiled to native code, with
//! exactly the interpreter's results, errors, gas, storage writes and events.
//!
//! How each piece keeps the interpreter's semantics (`crate::interp` is the reference):
//! - Registers are Cranelift variables (i128), zero on entry as in a fresh frame.
//! - Static gas is charged where the verifier's block table says, before the block's
//!   first instruction, from a variable (a machine register in loops) that is written
//!   back to the context around everything that reads or charges it there; dynamic gas
//!   (storage, events, arrays) inside the same helpers and rules the interpreter uses.
//!   Running out sets the gas left to 0, as the interpreter does, so `gas_used` equals
//!   the limit.
//! - Integer add, subtract, negate, abs, comparisons, bit operations, min/max, moves,
//!   branches, array accesses and environment reads are inlined, with overflow and bounds
//!   checks written out, and so is int multiply when both operands fit 64 bits. Every
//!   fixed-point and wide operation (mul, div, mul_div, exp, ln, sqrt, pow, the normal
//!   functions, int multiply beyond 64 bits, divide, remainder, int to fx) calls the same
//!   `crate::math` function the interpreter calls, through an `extern "C"` helper.
//!   (Inlining `math::mul` was measured: no faster on the bench's programs, whose loops
//!   are limited by register spills, and twice the compile time and code size.)
//! - Calls are native calls between compiled functions, with the interpreter's depth check
//!   (frames including the entry, at most `Limits::max_call_depth`) before each.
//! - A helper never panics: it reports failure through the context and returns 1, and the
//!   compiled code returns at once.
//!
//! Safety: the JIT sees only verified modules, so every register, constant, jump, callee,
//! event and array index is in range, and it emits no memory access other than fixed
//! offsets of its own context, its own stack slots, the argument/result buffer its caller
//! sized from the callee's declaration, and elements of its frame's arrays after an
//! inline check that the index is below the array's length. Constants are data (i128
//! immediates), never addresses.
//! The machine code is freed when the [`Compiled`] value is dropped.

#![allow(unsafe_code)]

mod helpers;

use crate::interp::{BlockEnv, Call, Event, Execution, Halt, VmError};
use crate::isa::{Limits, Opcode, VerifiedModule};
use crate::math::MathError;
use crate::state::TxState;
use cranelift_codegen::ir::{
    condcodes::IntCC, types, AbiParam, Block, FuncRef, InstBuilder, MemFlagsData, Signature,
    StackSlotData, StackSlotKind, UserFuncName, Value,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module as _};
use helpers::Host;
use std::time::{Duration, Instant};

/// Deepest call stack the JIT runs: compiled calls recurse on the native stack, so deeper
/// limits run in the interpreter (the results are the same).
pub const MAX_JIT_CALL_DEPTH: u32 = 256;

/// The context every compiled function and helper receives. The compiled code reads and
/// writes only the fields at the offsets below.
#[repr(C)]
pub(crate) struct Ctx {
    /// Gas left for the instructions.
    gas_left: u64,
    /// Frames on the call stack, the entry included.
    depth: u32,
    /// `Limits::max_call_depth`.
    max_depth: u32,
    /// A helper's result, as (low, high) 64-bit halves.
    tmp: [u64; 2],
    caller: [u64; 2],
    contract: [u64; 2],
    number: u64,
    timestamp: u64,
    /// Everything else the helpers need.
    host: *mut Host<'static>,
    /// The elements of `Host::memory` (moved only by the `enter_arrays` helper, after
    /// which compiled code reloads it).
    mem: *mut i128,
    /// Elements of memory in use: the end of the innermost frame's arrays.
    mem_top: u64,
}

const OFF_GAS: i32 = 0;
const OFF_DEPTH: i32 = 8;
const OFF_MAX_DEPTH: i32 = 12;
const OFF_TMP: i32 = 16;
const OFF_CALLER: i32 = 32;
const OFF_CONTRACT: i32 = 48;
const OFF_NUMBER: i32 = 64;
const OFF_TIMESTAMP: i32 = 72;
const OFF_MEM: i32 = 88;
const OFF_MEM_TOP: i32 = 96;
// The compiled code's offsets are the struct's.
const _: () = {
    use std::mem::offset_of;
    assert!(offset_of!(Ctx, gas_left) == OFF_GAS as usize);
    assert!(offset_of!(Ctx, depth) == OFF_DEPTH as usize);
    assert!(offset_of!(Ctx, max_depth) == OFF_MAX_DEPTH as usize);
    assert!(offset_of!(Ctx, tmp) == OFF_TMP as usize);
    assert!(offset_of!(Ctx, caller) == OFF_CALLER as usize);
    assert!(offset_of!(Ctx, contract) == OFF_CONTRACT as usize);
    assert!(offset_of!(Ctx, number) == OFF_NUMBER as usize);
    assert!(offset_of!(Ctx, timestamp) == OFF_TIMESTAMP as usize);
    assert!(offset_of!(Ctx, mem) == OFF_MEM as usize);
    assert!(offset_of!(Ctx, mem_top) == OFF_MEM_TOP as usize);
};

/// A compiled function: `(ctx, args_and_results)`, 0 on return, 1 on a stop recorded in
/// the context.
type JitFn = unsafe extern "C" fn(*mut Ctx, *mut i128) -> u32;

/// A module's functions in native code, with what compiling them cost.
pub struct Compiled {
    jit: Option<JITModule>,
    functions: Vec<JitFn>,
    /// Bytes of machine code.
    pub code_bytes: usize,
    /// Time spent compiling, per function, in function order.
    pub compile_times: Vec<Duration>,
}

// SAFETY: the code memory is immutable once finalised and only executed; `JITModule` is not
// touched again until it is freed in `drop`, which needs `&mut self`.
unsafe impl Send for Compiled {}
unsafe impl Sync for Compiled {}

impl Drop for Compiled {
    fn drop(&mut self) {
        if let Some(jit) = self.jit.take() {
            // SAFETY: no function pointer outlives `self` (they are only called through
            // `run`, which borrows `self`).
            unsafe { jit.free_memory() };
        }
    }
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field("functions", &self.functions.len())
            .field("code_bytes", &self.code_bytes)
            .finish()
    }
}

/// Why a module could not be compiled (it then runs in the interpreter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError(pub String);

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JIT compilation failed: {}", self.0)
    }
}

fn err(e: impl std::fmt::Display) -> CompileError {
    CompileError(e.to_string())
}

/// Compiles every function of `module`.
pub fn compile(module: &VerifiedModule) -> Result<Compiled, CompileError> {
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").map_err(err)?;
    flags.set("use_colocated_libcalls", "false").map_err(err)?;
    flags.set("is_pic", "false").map_err(err)?;
    let isa = cranelift_native::builder()
        .map_err(err)?
        .finish(settings::Flags::new(flags))
        .map_err(err)?;
    let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
    for (name, ptr) in helpers::symbols() {
        builder.symbol(name, ptr);
    }
    let mut jit = JITModule::new(builder);
    let ptr = jit.target_config().pointer_type();

    let mut sig = jit.make_signature();
    sig.params.push(AbiParam::new(ptr));
    sig.params.push(AbiParam::new(ptr));
    sig.returns.push(AbiParam::new(types::I32));
    let functions = &module.module().functions;
    let ids: Vec<FuncId> = (0..functions.len())
        .map(|i| {
            jit.declare_function(&format!("f{i}"), Linkage::Local, &sig)
                .map_err(err)
        })
        .collect::<Result<_, _>>()?;
    let helper_ids = helpers::declare(&mut jit, ptr)?;

    let frontend = jit.target_config();
    let mut ctx = jit.make_context();
    let mut fctx = FunctionBuilderContext::new();
    let mut code_bytes = 0;
    let mut compile_times = Vec::with_capacity(functions.len());
    for (index, &id) in ids.iter().enumerate() {
        let start = Instant::now();
        ctx.func.signature = sig.clone();
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let callees: Vec<FuncRef> = ids
                .iter()
                .map(|&f| jit.declare_func_in_func(f, b.func))
                .collect();
            let helper_refs = helper_ids.refs(&mut jit, b.func);
            Translator {
                module,
                function: index,
                ptr,
                callees,
                helpers: helper_refs,
            }
            .translate(&mut b)?;
            b.seal_all_blocks();
            b.finalize(frontend);
        }
        jit.define_function(id, &mut ctx).map_err(err)?;
        code_bytes += ctx
            .compiled_code()
            .map_or(0, |c| c.code_info().total_size as usize);
        jit.clear_context(&mut ctx);
        compile_times.push(start.elapsed());
    }
    jit.finalize_definitions().map_err(err)?;
    let pointers = ids
        .iter()
        .map(|&id| {
            let p = jit.get_finalized_function(id);
            // SAFETY: every function was defined with `sig`, which is JitFn's ABI.
            unsafe { std::mem::transmute::<*const u8, JitFn>(p) }
        })
        .collect();
    Ok(Compiled {
        jit: Some(jit),
        functions: pointers,
        code_bytes,
        compile_times,
    })
}

/// Runs `call` in compiled code: the same [`Execution`] as `crate::interp::run`.
///
/// Crate-private on purpose: `compiled` must have been compiled from `module` (the engine
/// keeps them together), since the compiled code trusts the module's verified shape. A
/// public safe function taking both could be handed a mismatched pair.
#[allow(
    clippy::indexing_slicing,
    reason = "`check_arguments` ran first: the entry function exists (so does its compiled code, one per function) and `args.len()` equals its parameter count, at most `size`"
)]
pub(crate) fn run(
    compiled: &Compiled,
    module: &VerifiedModule,
    call: Call<'_>,
    block: &BlockEnv,
    state: &mut dyn TxState,
    limits: &Limits,
) -> Execution {
    if let Err(e) = crate::interp::check_arguments(module, &call) {
        return Execution {
            halt: Halt::Error(e),
            gas_used: 0,
            events: Vec::new(),
        };
    }
    let entry = &module.module().functions[call.function];
    let mut host = Host {
        state,
        module,
        limits,
        memory: Vec::new(),
        events: Vec::new(),
        writes: 0,
        stop: None,
    };
    let split = |v: u128| [v as u64, (v >> 64) as u64];
    let mut ctx = Ctx {
        gas_left: call.gas_limit,
        depth: 1,
        max_depth: limits.max_call_depth,
        tmp: [0; 2],
        caller: split(call.caller),
        contract: split(call.contract),
        number: block.number,
        timestamp: block.timestamp,
        // SAFETY (lifetime): `host` outlives every use of the pointer, which ends when the
        // compiled function returns below.
        host: (&mut host as *mut Host<'_>).cast(),
        mem: std::ptr::null_mut(),
        mem_top: 0,
    };
    let size = (entry.params as usize).max(entry.returns as usize).max(1);
    let mut buffer = vec![0i128; size];
    buffer[..call.args.len()].copy_from_slice(call.args);
    // SAFETY: the function was compiled from this verified module; the buffer holds the
    // parameters and room for the results; `ctx` and `host` live across the call.
    let status = unsafe { (compiled.functions[call.function])(&mut ctx, buffer.as_mut_ptr()) };
    let gas_used = call.gas_limit - ctx.gas_left;
    let halt = match (status, host.stop.take()) {
        (0, _) => {
            buffer.truncate(entry.returns as usize);
            Halt::Return(buffer)
        }
        (_, Some(helpers::Stop::Revert(code))) => Halt::Revert(code),
        (_, Some(helpers::Stop::Error(e))) => Halt::Error(e),
        (_, None) => Halt::Error(VmError::Math(MathError::Overflow)),
    };
    let events: Vec<Event> = match halt {
        Halt::Return(_) => std::mem::take(&mut host.events),
        _ => Vec::new(),
    };
    Execution {
        halt,
        gas_used,
        events,
    }
}

/// Turns one verified function into Cranelift IR.
struct Translator<'m> {
    module: &'m VerifiedModule,
    function: usize,
    ptr: types::Type,
    callees: Vec<FuncRef>,
    helpers: helpers::Refs,
}

impl Translator<'_> {
    #[allow(
        clippy::indexing_slicing,
        reason = "the function is verified: register operands are below `regs.len()` (one variable per register), constants, functions and arrays are in range, jump targets are inside the function (`starts` has one entry per instruction, and a conditional branch is never last, so `pc + 1` is too); entry blocks have the two parameters declared for them"
    )]
    fn translate(&self, b: &mut FunctionBuilder<'_>) -> Result<(), CompileError> {
        let m = self.module.module();
        let f = &m.functions[self.function];
        let code = &f.code;
        let gas = self.module.block_gas(self.function);
        let i128t = types::I128;

        // Blocks: the entry, one per jump target and per instruction after a branch, and
        // the shared exits.
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        let mut starts: Vec<Option<Block>> = vec![None; code.len() + 1];
        for (pc, i) in code.iter().enumerate() {
            let target = match i.op {
                Opcode::Jump
                | Opcode::JumpIfZero
                | Opcode::JumpIfNonZero
                | Opcode::BranchEq
                | Opcode::BranchNe
                | Opcode::BranchLt
                | Opcode::BranchLe => Some((pc as i64 + 1 + i.imm as i64) as usize),
                _ => None,
            };
            if let Some(t) = target {
                if t < starts.len() && starts[t].is_none() {
                    starts[t] = Some(b.create_block());
                }
                if starts[pc + 1].is_none() {
                    starts[pc + 1] = Some(b.create_block());
                }
            }
        }
        // Leaving with status 1 after a helper recorded why: `stop` first writes the gas
        // variable back to the context; `stop_raw` follows helpers that charge gas
        // themselves, after which the context's count is the current one.
        let stop = b.create_block();
        let stop_raw = b.create_block();
        let overflow = b.create_block();
        let div_zero = b.create_block();
        let out_of_gas = b.create_block();
        // The exits are rare: laid out after the hot code.
        for exit in [stop, stop_raw, overflow, div_zero, out_of_gas] {
            b.set_cold_block(exit);
        }

        b.switch_to_block(entry);
        let ctx = b.block_params(entry)[0];
        let buf = b.block_params(entry)[1];
        let regs: Vec<Variable> = (0..f.registers).map(|_| b.declare_var(i128t)).collect();
        // Gas left lives in a variable (a register in loops), written back to the context
        // before anything that reads or charges it there (helpers that charge, calls,
        // returns, stops) and read again after those that change it.
        let gas_var = b.declare_var(types::I64);
        let g0 = b
            .ins()
            .load(types::I64, MemFlagsData::trusted(), ctx, OFF_GAS);
        b.def_var(gas_var, g0);
        // Constants are made where they are used: one shared value would live across the
        // whole function and be spilled.
        let zero = b.ins().iconst(types::I64, 0);
        for (r, &v) in regs.iter().enumerate() {
            if r < f.params as usize {
                let x = b
                    .ins()
                    .load(i128t, MemFlagsData::trusted(), buf, (r * 16) as i32);
                b.def_var(v, x);
            } else {
                let z = const128(b, 0);
                b.def_var(v, z);
            }
        }
        // A stack buffer for call arguments/results and event values.
        let mut slot_len = 16usize;
        for i in code {
            match i.op {
                Opcode::Call => {
                    let callee = &m.functions[i.imm as usize];
                    slot_len = slot_len.max(callee.params.max(callee.returns) as usize);
                }
                Opcode::Emit => slot_len = slot_len.max(i.b as usize),
                Opcode::Native => slot_len = slot_len.max(i.b.max(i.c) as usize),
                _ => {}
            }
        }
        let slot = b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (slot_len * 16) as u32,
            4,
        ));
        // The frame's arrays: entered (charged, limit-checked, zeroed) before the first
        // block's gas, as in the interpreter. `frame_mem` is the frame's first element;
        // `mem_base` the memory's address, reloaded after every call (which may move it).
        let offsets = self.module.array_offsets(self.function);
        let has_arrays = !f.arrays.is_empty();
        let mem_base = b.declare_var(self.ptr);
        let mut frame_mem = zero;
        if has_arrays {
            let id = b.ins().iconst(types::I32, self.function as i64);
            self.flush_gas(b, ctx, gas_var);
            let status = self.call_helper(b, self.helpers.enter_arrays, &[ctx, id]);
            self.guard_status(b, status, stop_raw);
            self.reload_gas(b, ctx, gas_var);
            frame_mem = b
                .ins()
                .load(types::I64, MemFlagsData::trusted(), ctx, OFF_TMP);
            let m = b
                .ins()
                .load(self.ptr, MemFlagsData::trusted(), ctx, OFF_MEM);
            b.def_var(mem_base, m);
        } else {
            let null = b.ins().iconst(self.ptr, 0);
            b.def_var(mem_base, null);
        }

        let mut terminated = false;
        for (pc, i) in code.iter().enumerate() {
            if let Some(blk) = starts[pc] {
                if !terminated {
                    b.ins().jump(blk, &[]);
                }
                b.switch_to_block(blk);
                terminated = false;
            } else if terminated {
                // Unreachable code after a terminator with no label: give it a block.
                let blk = b.create_block();
                b.switch_to_block(blk);
                terminated = false;
            }
            let g = gas[pc];
            if g != 0 {
                self.charge(b, gas_var, g as i64, out_of_gas);
            }
            let reg = |x: u8| regs[x as usize];
            // Verified jumps land inside the function and a branch is never last, so every
            // label exists; a missing one is a compile error, never a panic.
            let label = |at: i64| {
                usize::try_from(at)
                    .ok()
                    .and_then(|k| starts.get(k).copied().flatten())
                    .ok_or_else(|| CompileError(format!("no label at instruction {at}")))
            };
            let target = |off: i32| label(pc as i64 + 1 + off as i64);
            let next = || label(pc as i64 + 1);
            match i.op {
                Opcode::Mov => {
                    let v = b.use_var(reg(i.b));
                    b.def_var(reg(i.a), v);
                }
                Opcode::LoadInt => {
                    let v = const128(b, i.imm as i128);
                    b.def_var(reg(i.a), v);
                }
                Opcode::LoadFx => {
                    let v = const128(b, (i.imm as i128) << 64);
                    b.def_var(reg(i.a), v);
                }
                Opcode::LoadConst => {
                    let v = const128(b, m.constants[i.imm as usize]);
                    b.def_var(reg(i.a), v);
                }
                Opcode::Add | Opcode::AddImm | Opcode::AddConst => {
                    let x = b.use_var(reg(i.b));
                    let y = match i.op {
                        Opcode::Add => b.use_var(reg(i.c)),
                        Opcode::AddImm => const128(b, i.imm as i128),
                        _ => const128(b, m.constants[i.imm as usize]),
                    };
                    let r = b.ins().iadd(x, y);
                    // Overflow iff both operands differ in sign from the result: a test of
                    // the high halves alone, which hold the signs.
                    let (_, xh) = b.ins().isplit(x);
                    let (_, rh) = b.ins().isplit(r);
                    let bad = match (i.op, i.imm) {
                        // A positive immediate: overflow iff x >= 0 and r < 0.
                        (Opcode::AddImm, imm) if imm > 0 => {
                            let t = b.ins().band_not(rh, xh);
                            b.ins().icmp_imm_s(IntCC::SignedLessThan, t, 0)
                        }
                        // A negative one: iff x < 0 and r >= 0.
                        (Opcode::AddImm, imm) if imm < 0 => {
                            let t = b.ins().band_not(xh, rh);
                            b.ins().icmp_imm_s(IntCC::SignedLessThan, t, 0)
                        }
                        _ => {
                            let (_, yh) = b.ins().isplit(y);
                            let t1 = b.ins().bxor(xh, rh);
                            let t2 = b.ins().bxor(yh, rh);
                            let t = b.ins().band(t1, t2);
                            b.ins().icmp_imm_s(IntCC::SignedLessThan, t, 0)
                        }
                    };
                    self.guard(b, bad, overflow);
                    b.def_var(reg(i.a), r);
                }
                Opcode::Sub => {
                    let x = b.use_var(reg(i.b));
                    let y = b.use_var(reg(i.c));
                    let r = b.ins().isub(x, y);
                    // Overflow iff the operands differ in sign and the result differs from x
                    // (signs: the high halves).
                    let (_, xh) = b.ins().isplit(x);
                    let (_, yh) = b.ins().isplit(y);
                    let (_, rh) = b.ins().isplit(r);
                    let t1 = b.ins().bxor(xh, yh);
                    let t2 = b.ins().bxor(xh, rh);
                    let t = b.ins().band(t1, t2);
                    let bad = b.ins().icmp_imm_s(IntCC::SignedLessThan, t, 0);
                    self.guard(b, bad, overflow);
                    b.def_var(reg(i.a), r);
                }
                Opcode::Neg | Opcode::Abs => {
                    let x = b.use_var(reg(i.b));
                    let min = const128(b, i128::MIN);
                    let bad = b.ins().icmp(IntCC::Equal, x, min);
                    self.guard(b, bad, overflow);
                    let r = if i.op == Opcode::Neg {
                        b.ins().ineg(x)
                    } else {
                        // (x ^ s) - s with s = x >> 127: no select, which Cranelift would
                        // turn into an i128 iabs its x86 backend lacks.
                        let sign = b.ins().sshr_imm_s(x, 127);
                        let flipped = b.ins().bxor(x, sign);
                        b.ins().isub(flipped, sign)
                    };
                    b.def_var(reg(i.a), r);
                }
                Opcode::Min | Opcode::Max => {
                    let x = b.use_var(reg(i.b));
                    let y = b.use_var(reg(i.c));
                    // Branch-free, by mask: Cranelift's x86 backend has no i128 smin/smax,
                    // which a select on a comparison would be optimised into.
                    let lt = b.ins().icmp(IntCC::SignedLessThan, x, y);
                    let one = b.ins().uextend(i128t, lt);
                    let mask = b.ins().ineg(one);
                    let (first, second) = if i.op == Opcode::Min { (x, y) } else { (y, x) };
                    let keep = b.ins().band(first, mask);
                    let other = b.ins().band_not(second, mask);
                    let r = b.ins().bor(keep, other);
                    b.def_var(reg(i.a), r);
                }
                Opcode::IntDiv | Opcode::IntRem => {
                    let x = b.use_var(reg(i.b));
                    let y = b.use_var(reg(i.c));
                    let is_zero = is_zero128(b, y);
                    self.guard(b, is_zero, div_zero);
                    let r = self.helper2(b, ctx, i.op, x, y, stop);
                    b.def_var(reg(i.a), r);
                }
                Opcode::IntMul => {
                    // Inline when both operands fit in i64: the full 128-bit product then
                    // cannot overflow. Otherwise the helper's checked multiply.
                    let x = b.use_var(reg(i.b));
                    let y = b.use_var(reg(i.c));
                    let (xl, xh) = b.ins().isplit(x);
                    let (yl, yh) = b.ins().isplit(y);
                    let xs = b.ins().sshr_imm_s(xl, 63);
                    let ys = b.ins().sshr_imm_s(yl, 63);
                    let x_small = b.ins().icmp(IntCC::Equal, xh, xs);
                    let small = if i.b == i.c {
                        x_small // a square: one test
                    } else {
                        let y_small = b.ins().icmp(IntCC::Equal, yh, ys);
                        b.ins().band(x_small, y_small)
                    };
                    let fast = b.create_block();
                    let slow = b.create_block();
                    let join = b.create_block();
                    b.append_block_param(join, i128t);
                    b.ins().brif(small, fast, &[], slow, &[]);
                    b.switch_to_block(fast);
                    let lo = b.ins().imul(xl, yl);
                    let hi = b.ins().smulhi(xl, yl);
                    let product = b.ins().iconcat(lo, hi);
                    b.ins().jump(join, &[product.into()]);
                    b.switch_to_block(slow);
                    let r = self.helper2(b, ctx, i.op, x, y, stop);
                    b.ins().jump(join, &[r.into()]);
                    b.switch_to_block(join);
                    let r = b.block_params(join)[0];
                    b.def_var(reg(i.a), r);
                }
                Opcode::Mul
                | Opcode::MulDown
                | Opcode::MulUp
                | Opcode::Div
                | Opcode::DivDown
                | Opcode::DivUp
                | Opcode::Pow => {
                    let x = b.use_var(reg(i.b));
                    let y = b.use_var(reg(i.c));
                    let r = self.helper2(b, ctx, i.op, x, y, stop);
                    b.def_var(reg(i.a), r);
                }
                Opcode::MulConst => {
                    let x = b.use_var(reg(i.b));
                    let y = const128(b, m.constants[i.imm as usize]);
                    let r = self.helper2(b, ctx, i.op, x, y, stop);
                    b.def_var(reg(i.a), r);
                }
                Opcode::MulDiv | Opcode::MulDivDown | Opcode::MulDivUp => {
                    let x = b.use_var(reg(i.b));
                    let y = b.use_var(reg(i.c));
                    let z = b.use_var(reg(i.d()));
                    let r = self.helper3(b, ctx, i.op, [x, y, z], stop);
                    b.def_var(reg(i.a), r);
                }
                Opcode::Exp
                | Opcode::Ln
                | Opcode::Sqrt
                | Opcode::Ncdf
                | Opcode::Npdf
                | Opcode::InvNcdf
                | Opcode::IntToFx => {
                    let x = b.use_var(reg(i.b));
                    let r = self.helper1(b, ctx, i.op, x, stop);
                    b.def_var(reg(i.a), r);
                }
                Opcode::FxToInt => {
                    let x = b.use_var(reg(i.b));
                    let r = b.ins().sshr_imm_s(x, 64);
                    b.def_var(reg(i.a), r);
                }
                Opcode::Eq | Opcode::Ne | Opcode::Lt | Opcode::Le => {
                    let x = b.use_var(reg(i.b));
                    let y = b.use_var(reg(i.c));
                    let cc = match i.op {
                        Opcode::Eq => IntCC::Equal,
                        Opcode::Ne => IntCC::NotEqual,
                        Opcode::Lt => IntCC::SignedLessThan,
                        _ => IntCC::SignedLessThanOrEqual,
                    };
                    let c = b.ins().icmp(cc, x, y);
                    let r = b.ins().uextend(i128t, c);
                    b.def_var(reg(i.a), r);
                }
                Opcode::And | Opcode::Or | Opcode::Xor => {
                    let x = b.use_var(reg(i.b));
                    let y = b.use_var(reg(i.c));
                    let r = match i.op {
                        Opcode::And => b.ins().band(x, y),
                        Opcode::Or => b.ins().bor(x, y),
                        _ => b.ins().bxor(x, y),
                    };
                    b.def_var(reg(i.a), r);
                }
                Opcode::Not => {
                    let x = b.use_var(reg(i.b));
                    let c = is_zero128(b, x);
                    let r = b.ins().uextend(i128t, c);
                    b.def_var(reg(i.a), r);
                }
                Opcode::Jump => {
                    b.ins().jump(target(i.imm)?, &[]);
                    terminated = true;
                }
                Opcode::JumpIfZero
                | Opcode::JumpIfNonZero
                | Opcode::BranchEq
                | Opcode::BranchNe
                | Opcode::BranchLt
                | Opcode::BranchLe => {
                    let x = b.use_var(reg(i.a));
                    let c = match i.op {
                        Opcode::JumpIfZero => is_zero128(b, x),
                        Opcode::JumpIfNonZero => {
                            let z = is_zero128(b, x);
                            b.ins().bxor_imm_s(z, 1)
                        }
                        _ => {
                            let cc = match i.op {
                                Opcode::BranchEq => IntCC::Equal,
                                Opcode::BranchNe => IntCC::NotEqual,
                                Opcode::BranchLt => IntCC::SignedLessThan,
                                _ => IntCC::SignedLessThanOrEqual,
                            };
                            let y = b.use_var(reg(i.b));
                            b.ins().icmp(cc, x, y)
                        }
                    };
                    b.ins().brif(c, target(i.imm)?, &[], next()?, &[]);
                    terminated = true;
                }
                Opcode::Call => {
                    let callee = i.imm as usize;
                    let cf = &m.functions[callee];
                    let area = b.ins().stack_addr(self.ptr, slot, 0);
                    for k in 0..i.b as usize {
                        let v = b.use_var(regs[i.a as usize + k]);
                        b.ins()
                            .store(MemFlagsData::trusted(), v, area, (k * 16) as i32);
                    }
                    // The interpreter's depth check: frames (entry included) < the limit.
                    let depth = b
                        .ins()
                        .load(types::I32, MemFlagsData::trusted(), ctx, OFF_DEPTH);
                    let max = b
                        .ins()
                        .load(types::I32, MemFlagsData::trusted(), ctx, OFF_MAX_DEPTH);
                    let too_deep = b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, depth, max);
                    let deep = b.create_block();
                    let ok = b.create_block();
                    b.ins().brif(too_deep, deep, &[], ok, &[]);
                    b.set_cold_block(deep);
                    b.switch_to_block(deep);
                    self.call_helper(b, self.helpers.call_depth, &[ctx]);
                    b.ins().jump(stop, &[]);
                    b.switch_to_block(ok);
                    let deeper = b.ins().iadd_imm_s(depth, 1);
                    b.ins()
                        .store(MemFlagsData::trusted(), deeper, ctx, OFF_DEPTH);
                    self.flush_gas(b, ctx, gas_var);
                    let call = b.ins().call(self.callees[callee], &[ctx, area]);
                    let status = b.inst_results(call)[0];
                    b.ins()
                        .store(MemFlagsData::trusted(), depth, ctx, OFF_DEPTH);
                    self.guard_status(b, status, stop_raw);
                    self.reload_gas(b, ctx, gas_var);
                    for k in 0..cf.returns as usize {
                        let v = b
                            .ins()
                            .load(i128t, MemFlagsData::trusted(), area, (k * 16) as i32);
                        b.def_var(regs[i.a as usize + k], v);
                    }
                    if has_arrays {
                        let m = b
                            .ins()
                            .load(self.ptr, MemFlagsData::trusted(), ctx, OFF_MEM);
                        b.def_var(mem_base, m);
                    }
                }
                Opcode::Return => {
                    if has_arrays {
                        // Free the frame's arrays.
                        b.ins()
                            .store(MemFlagsData::trusted(), frame_mem, ctx, OFF_MEM_TOP);
                    }
                    for k in 0..i.b as usize {
                        let v = b.use_var(regs[i.a as usize + k]);
                        b.ins()
                            .store(MemFlagsData::trusted(), v, buf, (k * 16) as i32);
                    }
                    self.flush_gas(b, ctx, gas_var);
                    let z = b.ins().iconst(types::I32, 0);
                    b.ins().return_(&[z]);
                    terminated = true;
                }
                Opcode::Revert => {
                    let code = b.ins().iconst(types::I32, i.imm as u32 as i64);
                    self.call_helper(b, self.helpers.revert, &[ctx, code]);
                    b.ins().jump(stop, &[]);
                    terminated = true;
                }
                Opcode::StorageLoad => {
                    let key = b.use_var(reg(i.b));
                    let (lo, hi) = b.ins().isplit(key);
                    let space = b.ins().iconst(types::I32, i.imm as u32 as i64);
                    self.flush_gas(b, ctx, gas_var);
                    let status = self.call_helper(b, self.helpers.sload, &[ctx, space, lo, hi]);
                    self.guard_status(b, status, stop_raw);
                    self.reload_gas(b, ctx, gas_var);
                    let r = self.load_tmp(b, ctx);
                    b.def_var(reg(i.a), r);
                }
                Opcode::StorageStore | Opcode::StorageAdd | Opcode::StorageAddCapped => {
                    let key = b.use_var(reg(i.a));
                    let value = b.use_var(reg(i.b));
                    let (klo, khi) = b.ins().isplit(key);
                    let (vlo, vhi) = b.ins().isplit(value);
                    let space = b.ins().iconst(types::I32, i.imm as u32 as i64);
                    let mode = match i.op {
                        Opcode::StorageStore => 0,
                        Opcode::StorageAdd => 1,
                        _ => {
                            // The cap travels in ctx.tmp (the helper's arguments are full).
                            let cap = b.use_var(reg(i.c));
                            let (clo, chi) = b.ins().isplit(cap);
                            let flags = MemFlagsData::trusted();
                            b.ins().store(flags, clo, ctx, OFF_TMP);
                            b.ins().store(flags, chi, ctx, OFF_TMP + 8);
                            2
                        }
                    };
                    let mode = b.ins().iconst(types::I32, mode);
                    self.flush_gas(b, ctx, gas_var);
                    let status = self.call_helper(
                        b,
                        self.helpers.sstore,
                        &[ctx, space, mode, klo, khi, vlo, vhi],
                    );
                    self.guard_status(b, status, stop_raw);
                    self.reload_gas(b, ctx, gas_var);
                }
                Opcode::Emit | Opcode::Native => {
                    // EMIT's values, or NATIVE's arguments, out to the stack slot (the event
                    // or native id in imm); NATIVE's results come back from it.
                    let area = b.ins().stack_addr(self.ptr, slot, 0);
                    for k in 0..i.b as usize {
                        let v = b.use_var(regs[i.a as usize + k]);
                        b.ins()
                            .store(MemFlagsData::trusted(), v, area, (k * 16) as i32);
                    }
                    let which = b.ins().iconst(types::I32, i.imm as u32 as i64);
                    let n = b.ins().iconst(types::I32, i.b as i64);
                    let helper = if i.op == Opcode::Emit {
                        self.helpers.emit
                    } else {
                        self.helpers.native
                    };
                    self.flush_gas(b, ctx, gas_var);
                    let status = self.call_helper(b, helper, &[ctx, which, area, n]);
                    self.guard_status(b, status, stop_raw);
                    self.reload_gas(b, ctx, gas_var);
                    let results = if i.op == Opcode::Native { i.c } else { 0 };
                    for k in 0..results as usize {
                        let v = b
                            .ins()
                            .load(i128t, MemFlagsData::trusted(), area, (k * 16) as i32);
                        b.def_var(regs[i.a as usize + k], v);
                    }
                }
                Opcode::Caller | Opcode::SelfAddress => {
                    let off = if i.op == Opcode::Caller {
                        OFF_CALLER
                    } else {
                        OFF_CONTRACT
                    };
                    let lo = b.ins().load(types::I64, MemFlagsData::trusted(), ctx, off);
                    let hi = b
                        .ins()
                        .load(types::I64, MemFlagsData::trusted(), ctx, off + 8);
                    let r = b.ins().iconcat(lo, hi);
                    b.def_var(reg(i.a), r);
                }
                Opcode::ArrayLoad | Opcode::ArrayStore => {
                    let k = i.imm as usize;
                    let (start, end) = (offsets[k], offsets[k + 1]);
                    let length = end - start;
                    let index = b.use_var(reg(i.b));
                    let (lo, hi) = b.ins().isplit(index);
                    // 0 <= index < length, as unsigned: the high half is 0 and the low
                    // half below the length.
                    let high_zero = b.ins().icmp_imm_s(IntCC::Equal, hi, 0);
                    let low_in = b
                        .ins()
                        .icmp_imm_s(IntCC::UnsignedLessThan, lo, length as i64);
                    let inside = b.ins().band(high_zero, low_in);
                    let bad = b.create_block();
                    let good = b.create_block();
                    b.ins().brif(inside, good, &[], bad, &[]);
                    b.switch_to_block(bad);
                    b.set_cold_block(bad);
                    let len = b.ins().iconst(types::I32, length as i64);
                    self.call_helper(b, self.helpers.index_error, &[ctx, len, lo, hi]);
                    b.ins().jump(stop, &[]);
                    b.switch_to_block(good);
                    // Address: memory + 16 * (frame's first element + array start + index),
                    // inside the frame's arrays by the check above.
                    let element = b.ins().iadd(frame_mem, lo);
                    let element = b.ins().iadd_imm_s(element, start as i64);
                    let bytes = b.ins().ishl_imm_u(element, 4);
                    let bytes = if self.ptr == types::I64 {
                        bytes
                    } else {
                        b.ins().ireduce(self.ptr, bytes)
                    };
                    let base = b.use_var(mem_base);
                    let addr = b.ins().iadd(base, bytes);
                    if i.op == Opcode::ArrayLoad {
                        let v = b.ins().load(i128t, MemFlagsData::trusted(), addr, 0);
                        b.def_var(reg(i.a), v);
                    } else {
                        let v = b.use_var(reg(i.a));
                        b.ins().store(MemFlagsData::trusted(), v, addr, 0);
                    }
                }
                Opcode::BlockNumber | Opcode::Timestamp | Opcode::GasLeft => {
                    let v = match i.op {
                        Opcode::BlockNumber => {
                            b.ins()
                                .load(types::I64, MemFlagsData::trusted(), ctx, OFF_NUMBER)
                        }
                        Opcode::Timestamp => {
                            b.ins()
                                .load(types::I64, MemFlagsData::trusted(), ctx, OFF_TIMESTAMP)
                        }
                        _ => b.use_var(gas_var),
                    };
                    let r = b.ins().uextend(i128t, v);
                    b.def_var(reg(i.a), r);
                }
            }
        }
        if !terminated {
            // The verifier guarantees a terminator; keep the IR well formed regardless.
            b.ins().jump(stop, &[]);
        }

        // Shared exits.
        b.switch_to_block(overflow);
        let code = b.ins().iconst(types::I32, 1);
        self.call_helper(b, self.helpers.math_error, &[ctx, code]);
        b.ins().jump(stop, &[]);
        b.switch_to_block(div_zero);
        let code = b.ins().iconst(types::I32, 2);
        self.call_helper(b, self.helpers.math_error, &[ctx, code]);
        b.ins().jump(stop, &[]);
        b.switch_to_block(out_of_gas);
        let z = b.ins().iconst(types::I64, 0);
        b.ins().store(MemFlagsData::trusted(), z, ctx, OFF_GAS);
        self.call_helper(b, self.helpers.out_of_gas, &[ctx]);
        b.ins().jump(stop_raw, &[]);
        b.switch_to_block(stop);
        self.flush_gas(b, ctx, gas_var);
        b.ins().jump(stop_raw, &[]);
        b.switch_to_block(stop_raw);
        let one = b.ins().iconst(types::I32, 1);
        b.ins().return_(&[one]);
        Ok(())
    }

    /// Writes the gas variable back to the context.
    fn flush_gas(&self, b: &mut FunctionBuilder<'_>, ctx: Value, gas: Variable) {
        let g = b.use_var(gas);
        b.ins().store(MemFlagsData::trusted(), g, ctx, OFF_GAS);
    }

    /// Reads the context's gas into the variable (after a helper or call charged it).
    fn reload_gas(&self, b: &mut FunctionBuilder<'_>, ctx: Value, gas: Variable) {
        let g = b
            .ins()
            .load(types::I64, MemFlagsData::trusted(), ctx, OFF_GAS);
        b.def_var(gas, g);
    }

    /// Charges `g` gas: out of gas when less is left.
    fn charge(&self, b: &mut FunctionBuilder<'_>, gas: Variable, g: i64, out_of_gas: Block) {
        let left = b.use_var(gas);
        let short = b.ins().icmp_imm_s(IntCC::UnsignedLessThan, left, g);
        self.guard(b, short, out_of_gas);
        let rest = b.ins().iadd_imm_s(left, -g);
        b.def_var(gas, rest);
    }

    /// Continues when `bad` is false, else jumps to `exit`.
    fn guard(&self, b: &mut FunctionBuilder<'_>, bad: Value, exit: Block) {
        let cont = b.create_block();
        b.ins().brif(bad, exit, &[], cont, &[]);
        b.switch_to_block(cont);
    }

    /// Continues when a helper returned 0, else leaves through `stop`.
    fn guard_status(&self, b: &mut FunctionBuilder<'_>, status: Value, stop: Block) {
        let cont = b.create_block();
        b.ins().brif(status, stop, &[], cont, &[]);
        b.switch_to_block(cont);
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "every helper signature declares at least one parameter, `args[0]` being the context"
    )]
    fn call_helper(&self, b: &mut FunctionBuilder<'_>, f: FuncRef, args: &[Value]) -> Value {
        let call = b.ins().call(f, args);
        b.inst_results(call).first().copied().unwrap_or(args[0])
    }

    fn load_tmp(&self, b: &mut FunctionBuilder<'_>, ctx: Value) -> Value {
        let lo = b
            .ins()
            .load(types::I64, MemFlagsData::trusted(), ctx, OFF_TMP);
        let hi = b
            .ins()
            .load(types::I64, MemFlagsData::trusted(), ctx, OFF_TMP + 8);
        b.ins().iconcat(lo, hi)
    }

    fn op_code(&self, b: &mut FunctionBuilder<'_>, op: Opcode) -> Value {
        b.ins().iconst(types::I32, op as u8 as i64)
    }

    fn helper1(
        &self,
        b: &mut FunctionBuilder<'_>,
        ctx: Value,
        op: Opcode,
        x: Value,
        stop: Block,
    ) -> Value {
        let code = self.op_code(b, op);
        let (lo, hi) = b.ins().isplit(x);
        let status = self.call_helper(b, self.helpers.math1, &[ctx, code, lo, hi]);
        self.guard_status(b, status, stop);
        self.load_tmp(b, ctx)
    }

    fn helper2(
        &self,
        b: &mut FunctionBuilder<'_>,
        ctx: Value,
        op: Opcode,
        x: Value,
        y: Value,
        stop: Block,
    ) -> Value {
        let code = self.op_code(b, op);
        let (xl, xh) = b.ins().isplit(x);
        let (yl, yh) = b.ins().isplit(y);
        let status = self.call_helper(b, self.helpers.math2, &[ctx, code, xl, xh, yl, yh]);
        self.guard_status(b, status, stop);
        self.load_tmp(b, ctx)
    }

    fn helper3(
        &self,
        b: &mut FunctionBuilder<'_>,
        ctx: Value,
        op: Opcode,
        v: [Value; 3],
        stop: Block,
    ) -> Value {
        let code = self.op_code(b, op);
        let mut args = vec![ctx, code];
        for x in v {
            let (lo, hi) = b.ins().isplit(x);
            args.push(lo);
            args.push(hi);
        }
        let status = self.call_helper(b, self.helpers.math3, &args);
        self.guard_status(b, status, stop);
        self.load_tmp(b, ctx)
    }
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

/// A signature of pointer-sized context, then the given integer parameters, returning i32.
fn signature(jit: &JITModule, ptr: types::Type, params: &[types::Type]) -> Signature {
    let mut s = jit.make_signature();
    s.params.push(AbiParam::new(ptr));
    s.params.extend(params.iter().map(|&t| AbiParam::new(t)));
    s.returns.push(AbiParam::new(types::I32));
    s
}
