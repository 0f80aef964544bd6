//! The interpreter: the reference semantics of every opcode.
//!
//! Guarantees: given a [`VerifiedModule`], execution never panics and never recurses on the
//! native stack (calls push frames inside one loop, bounded by `Limits::max_call_depth`).
//! Static gas is charged once at the start of each basic block, dynamic gas (storage,
//! events) at the instruction; running out of either halts with [`VmError::OutOfGas`] and
//! `gas_used` equal to the limit. The interpreter relies on the verifier for register,
//! constant, jump and arity bounds; the indexing that remains is bounds-checked anyway, so
//! even a verifier bug could only end in an error path, never in undefined behaviour.

pub mod gas;
pub mod trace;

use crate::isa::{Limits, Opcode, VerifiedModule};
use crate::math::{self, Fx, MathError};
use crate::state::{Access, AddOutcome, Address, Slot, StorageError, TxState};
use std::fmt;

/// The block a transaction executes in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockEnv {
    /// Block number.
    pub number: u64,
    /// Block timestamp, seconds.
    pub timestamp: u64,
}

/// An event emitted by EMIT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The emitting contract.
    pub contract: Address,
    /// The event's name from the module's event table.
    pub name: String,
    /// The values, as raw 128-bit register contents.
    pub values: Vec<i128>,
}

/// Why execution stopped without returning or reverting on purpose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VmError {
    /// Gas ran out.
    OutOfGas,
    /// A math operation failed (overflow, division by zero, domain).
    Math(MathError),
    /// Too many nested calls.
    CallDepth,
    /// The storage backend failed.
    Storage(StorageError),
    /// The called export does not exist.
    UnknownFunction(String),
    /// The called contract is not deployed.
    UnknownContract(Address),
    /// The transaction passes the wrong number of arguments.
    ArgumentCount {
        /// Parameters the function declares.
        expected: usize,
        /// Arguments given.
        given: usize,
    },
    /// An argument is not a value of its declared type (a bool other than 0 or 1).
    ArgumentType {
        /// 0-based argument index.
        index: usize,
    },
    /// ALOAD or ASTORE with an index outside the array.
    IndexOutOfBounds {
        /// The index used.
        index: i128,
        /// The array's length.
        length: u32,
    },
    /// SADDCAP: the sum would be above the cap.
    CapExceeded {
        /// The cap.
        cap: i128,
    },
    /// A native's argument is outside its domain.
    Native(crate::native::NativeError),
    /// The transaction tried to emit more than `Limits::max_events_per_tx` events.
    EventLimit {
        /// The limit.
        limit: u32,
    },
    /// The transaction tried more than `Limits::max_storage_writes_per_tx` storage writes
    /// (SSTORE, SADD and SADDCAP, each counted, whatever the slot).
    WriteLimit {
        /// The limit.
        limit: u32,
    },
    /// Entering a frame would hold more array elements than `Limits::max_memory_words`.
    MemoryLimit {
        /// Elements the call stack would hold.
        words: u64,
        /// The limit.
        limit: u32,
    },
}

impl VmError {
    /// Stable numeric code (1-3 are the math errors' codes).
    pub fn code(&self) -> u16 {
        match self {
            VmError::Math(e) => e.code(),
            VmError::OutOfGas => 10,
            VmError::CallDepth => 11,
            VmError::Storage(_) => 12,
            VmError::UnknownFunction(_) => 13,
            VmError::UnknownContract(_) => 14,
            VmError::ArgumentCount { .. } => 15,
            VmError::ArgumentType { .. } => 16,
            VmError::IndexOutOfBounds { .. } => 17,
            VmError::MemoryLimit { .. } => 18,
            VmError::CapExceeded { .. } => 19,
            VmError::Native(_) => 20,
            VmError::EventLimit { .. } => 21,
            VmError::WriteLimit { .. } => 22,
        }
    }
}

impl fmt::Display for VmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VmError::OutOfGas => write!(f, "out of gas"),
            VmError::Math(e) => write!(f, "{e}"),
            VmError::CallDepth => write!(f, "call depth limit exceeded"),
            VmError::Storage(e) => write!(f, "{e}"),
            VmError::UnknownFunction(n) => write!(f, "no exported function named {n:?}"),
            VmError::UnknownContract(a) => write!(f, "no contract deployed at {a:#x}"),
            VmError::ArgumentCount { expected, given } => {
                write!(f, "the function takes {expected} arguments, {given} given")
            }
            VmError::ArgumentType { index } => {
                write!(
                    f,
                    "argument {} is not a bool (0 or 1) as the function declares",
                    index + 1
                )
            }
            VmError::IndexOutOfBounds { index, length } => {
                write!(f, "array index {index} is outside 0..{length}")
            }
            VmError::CapExceeded { cap } => {
                write!(
                    f,
                    "the storage add would take the slot above its cap (raw value {cap})"
                )
            }
            VmError::Native(e) => write!(f, "{e}"),
            VmError::EventLimit { limit } => {
                write!(f, "more than {limit} events in one transaction")
            }
            VmError::WriteLimit { limit } => {
                write!(f, "more than {limit} storage writes in one transaction")
            }
            VmError::MemoryLimit { words, limit } => write!(
                f,
                "the call stack would hold {words} array elements, over the limit of {limit}"
            ),
        }
    }
}

impl std::error::Error for VmError {}

impl From<MathError> for VmError {
    fn from(e: MathError) -> Self {
        VmError::Math(e)
    }
}

/// NATIVE: charges the native's gas, runs it on r[a..a+b] and writes its results to
/// r[a..]. The one rule for every engine; `args` is exactly r[a..a+b].
pub(crate) fn native(
    id: i32,
    args: &[i128],
    out: &mut crate::native::Results,
    env: &mut crate::native::Env,
    gas_left: &mut u64,
) -> Result<usize, VmError> {
    use crate::native::Native;
    // The verifier admitted the id and count; an unknown one could only be a verifier bug.
    let n = Native::from_id(id as u32)
        .ok_or_else(|| VmError::UnknownFunction(format!("native {id:#x}")))?;
    charge(gas_left, n.gas(args.len() as u8))?;
    crate::native::run(n, args, out, env).map_err(VmError::Native)?;
    Ok(n.info().results as usize)
}

/// Counts one more event against `Limits::max_events_per_tx`, `kept` being how many the
/// transaction holds already. Both engines call it after EMIT's gas and before keeping the
/// event, so the limit fails at the same instruction with the same gas in each.
pub(crate) fn check_event(kept: usize, limits: &Limits) -> Result<(), VmError> {
    if kept >= limits.max_events_per_tx as usize {
        return Err(VmError::EventLimit {
            limit: limits.max_events_per_tx,
        });
    }
    Ok(())
}

/// Counts one more storage write against `Limits::max_storage_writes_per_tx`. Both engines
/// call it after the write's gas and before the write.
pub(crate) fn count_write(writes: &mut u32, limits: &Limits) -> Result<(), VmError> {
    if *writes >= limits.max_storage_writes_per_tx {
        return Err(VmError::WriteLimit {
            limit: limits.max_storage_writes_per_tx,
        });
    }
    *writes += 1;
    Ok(())
}

/// The error, if any, of a SADD (cap unused) or SADDCAP with this outcome.
pub(crate) fn add_result(outcome: AddOutcome, cap: i128) -> Result<(), VmError> {
    match outcome {
        AddOutcome::Added => Ok(()),
        AddOutcome::Overflow => Err(MathError::Overflow.into()),
        AddOutcome::OverCap => Err(VmError::CapExceeded { cap }),
    }
}

/// How execution ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Halt {
    /// RET from the entry function, with its values.
    Return(Vec<i128>),
    /// REVERT with this code.
    Revert(u32),
    /// An error.
    Error(VmError),
}

/// The result of running one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Execution {
    /// How it ended.
    pub halt: Halt,
    /// Gas consumed by the instructions (not counting the transaction base).
    pub gas_used: u64,
    /// Events, in order (meaningful only when `halt` is `Return`).
    pub events: Vec<Event>,
}

/// One call into a verified module.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// The transaction's caller.
    pub caller: Address,
    /// The contract executing (owner of the storage touched).
    pub contract: Address,
    /// Function index in the module.
    pub function: usize,
    /// Arguments, raw.
    pub args: &'a [i128],
    /// Gas available to the instructions.
    pub gas_limit: u64,
}

struct Frame {
    function: usize,
    pc: usize,
    base: usize,
    /// Where the frame's arrays start in `memory`.
    mem_base: usize,
    /// Absolute register index in the caller where results go.
    results_to: usize,
}

/// Charges `gas` from `left`: all of it, or out of gas with nothing left (so `gas_used`
/// equals the limit). The one rule for every engine.
#[inline]
pub(crate) fn charge(left: &mut u64, gas: u64) -> Result<(), VmError> {
    match left.checked_sub(gas) {
        Some(rest) => {
            *left = rest;
            Ok(())
        }
        None => {
            *left = 0;
            Err(VmError::OutOfGas)
        }
    }
}

/// Enters a frame of `function` whose arrays start at `top` elements of array memory:
/// charges their gas and checks the memory limit. Returns the new top. The one rule for
/// every engine.
#[inline]
pub(crate) fn enter_arrays(
    module: &VerifiedModule,
    function: usize,
    top: usize,
    gas_left: &mut u64,
    limits: &Limits,
) -> Result<usize, VmError> {
    let words = module.array_words(function) as u64;
    if words == 0 {
        return Ok(top);
    }
    charge(gas_left, words * gas::ARRAY_WORD)?;
    let total = top as u64 + words;
    if total > limits.max_memory_words as u64 {
        return Err(VmError::MemoryLimit {
            words: total,
            limit: limits.max_memory_words,
        });
    }
    Ok(total as usize)
}

/// The entry function's index and arity against the call. Every engine checks this first,
/// so a `Call` from an embedder that names no function is an error, never an index panic.
pub(crate) fn check_arguments(module: &VerifiedModule, call: &Call<'_>) -> Result<(), VmError> {
    let Some(function) = module.module().functions.get(call.function) else {
        return Err(VmError::UnknownFunction(format!(
            "function index {}",
            call.function
        )));
    };
    let params = function.params as usize;
    if call.args.len() != params {
        return Err(VmError::ArgumentCount {
            expected: params,
            given: call.args.len(),
        });
    }
    Ok(())
}

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
    let mut machine = Machine {
        module,
        call,
        block: *block,
        gas_left: call.gas_limit,
        events: Vec::new(),
        writes: 0,
        regs: Vec::new(),
        frames: Vec::new(),
        memory: Vec::new(),
    };
    let halt = match machine.execute(state, limits, tracer) {
        Ok(values) => Halt::Return(values),
        Err(Stop::Revert(code)) => Halt::Revert(code),
        Err(Stop::Error(e)) => Halt::Error(e),
    };
    Execution {
        halt,
        gas_used: call.gas_limit - machine.gas_left,
        events: machine.events,
    }
}

enum Stop {
    Revert(u32),
    Error(VmError),
}

impl<E: Into<VmError>> From<E> for Stop {
    fn from(e: E) -> Self {
        Stop::Error(e.into())
    }
}

impl From<StorageError> for VmError {
    fn from(e: StorageError) -> Self {
        VmError::Storage(e)
    }
}

struct Machine<'m, 'c> {
    module: &'m VerifiedModule,
    call: Call<'c>,
    /// The block; test natives may change its timestamp (and `call.caller`).
    block: BlockEnv,
    gas_left: u64,
    events: Vec<Event>,
    /// Storage writes so far (see `Limits::max_storage_writes_per_tx`).
    writes: u32,
    regs: Vec<i128>,
    frames: Vec<Frame>,
    /// The arrays of every frame on the stack, each frame's after its caller's.
    memory: Vec<i128>,
}

#[cold]
fn out_of_gas() -> Stop {
    Stop::Error(VmError::OutOfGas)
}

impl Machine<'_, '_> {
    #[inline]
    fn charge(&mut self, gas: u64) -> Result<(), Stop> {
        charge(&mut self.gas_left, gas).map_err(|_| out_of_gas())
    }

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
        limits: &Limits,
    ) -> Result<(), Stop> {
        if self.frames.len() >= limits.max_call_depth as usize {
            return Err(Stop::Error(VmError::CallDepth));
        }
        let mem_base = self.memory.len();
        let top = enter_arrays(self.module, function, mem_base, &mut self.gas_left, limits)?;
        self.memory.resize(top, 0);
        let base = self.regs.len();
        let registers = self.module.module().functions[function].registers as usize;
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
        reason = "the verifier guarantees every index used here (spec: isa/verify.rs): register operands and CALL/RET/EMIT/NATIVE ranges below the frame's register count (the register file is resized to it on every frame entry), constants, events, functions and arrays in range, jump targets inside the function, a terminator last so `pc` never leaves `code`; `block_gas` and `offsets` are the verifier's own tables for the current function; `check_arguments` ran first, so the entry function exists and takes exactly `args.len()` parameters"
    )]
    fn execute<T: TxState + ?Sized, R: trace::Tracer>(
        &mut self,
        state: &mut T,
        limits: &Limits,
        tracer: &mut R,
    ) -> Result<Vec<i128>, Stop> {
        let module = self.module.module();
        check_arguments(self.module, &self.call)?;
        let entry = &module.functions[self.call.function];
        // The entry frame: arguments in r0.., results returned rather than copied.
        let top = enter_arrays(
            self.module,
            self.call.function,
            0,
            &mut self.gas_left,
            limits,
        )?;
        self.memory.resize(top, 0);
        self.regs.resize(entry.registers as usize, 0);
        self.regs[..self.call.args.len()].copy_from_slice(self.call.args);
        self.frames.push(Frame {
            function: self.call.function,
            pc: 0,
            base: 0,
            mem_base: 0,
            results_to: 0,
        });

        let mut frame = 0;
        let (mut func, mut pc, mut base) = (self.call.function, 0usize, 0usize);
        let mut mem_base = 0usize;
        let mut offsets = self.module.array_offsets(func);
        let mut code = &module.functions[func].code[..];
        let mut block_gas = self.module.block_gas(func);
        let constants = &module.constants[..];
        loop {
            let g = block_gas[pc];
            let mut traced_slot = None;
            if R::ENABLED {
                traced_slot = self.trace_before(state, tracer, frame, func, pc, base, g);
            }
            if g != 0 {
                self.charge(g as u64)?;
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
            macro_rules! fx {
                ($x:expr) => {
                    Fx::from_bits(self.regs[$x])
                };
            }
            macro_rules! jump {
                () => {
                    pc = (pc as i64 + i.imm as i64) as usize
                };
            }
            match i.op {
                Opcode::Mov => r!(a) = r!(b),
                Opcode::LoadInt => r!(a) = i.imm as i128,
                Opcode::LoadFx => r!(a) = (i.imm as i128) << 64,
                Opcode::LoadConst => r!(a) = constants[i.imm as usize],
                Opcode::Add => r!(a) = r!(b).checked_add(r!(c)).ok_or(MathError::Overflow)?,
                Opcode::Sub => r!(a) = r!(b).checked_sub(r!(c)).ok_or(MathError::Overflow)?,
                Opcode::Neg => r!(a) = r!(b).checked_neg().ok_or(MathError::Overflow)?,
                Opcode::AddImm => {
                    r!(a) = r!(b)
                        .checked_add(i.imm as i128)
                        .ok_or(MathError::Overflow)?
                }
                Opcode::AddConst => {
                    r!(a) = r!(b)
                        .checked_add(constants[i.imm as usize])
                        .ok_or(MathError::Overflow)?
                }
                Opcode::IntMul => r!(a) = r!(b).checked_mul(r!(c)).ok_or(MathError::Overflow)?,
                Opcode::IntDiv | Opcode::IntRem => {
                    let (x, y) = (r!(b), r!(c));
                    if y == 0 {
                        return Err(MathError::DivisionByZero.into());
                    }
                    let v = if i.op == Opcode::IntDiv {
                        x.checked_div(y)
                    } else {
                        x.checked_rem(y)
                    };
                    r!(a) = v.ok_or(MathError::Overflow)?;
                }
                Opcode::Abs => r!(a) = r!(b).checked_abs().ok_or(MathError::Overflow)?,
                Opcode::Min => r!(a) = r!(b).min(r!(c)),
                Opcode::Max => r!(a) = r!(b).max(r!(c)),
                Opcode::Mul => r!(a) = math::mul(fx!(b), fx!(c))?.to_bits(),
                Opcode::MulDown => r!(a) = math::mul_down(fx!(b), fx!(c))?.to_bits(),
                Opcode::MulUp => r!(a) = math::mul_up(fx!(b), fx!(c))?.to_bits(),
                Opcode::MulConst => {
                    r!(a) = math::mul(fx!(b), Fx::from_bits(constants[i.imm as usize]))?.to_bits()
                }
                Opcode::Div => r!(a) = math::div(fx!(b), fx!(c))?.to_bits(),
                Opcode::DivDown => r!(a) = math::div_down(fx!(b), fx!(c))?.to_bits(),
                Opcode::DivUp => r!(a) = math::div_up(fx!(b), fx!(c))?.to_bits(),
                Opcode::MulDiv | Opcode::MulDivDown | Opcode::MulDivUp => {
                    let d = base + i.d() as usize;
                    let f = match i.op {
                        Opcode::MulDiv => math::mul_div,
                        Opcode::MulDivDown => math::mul_div_down,
                        _ => math::mul_div_up,
                    };
                    r!(a) = f(fx!(b), fx!(c), fx!(d))?.to_bits();
                }
                Opcode::Exp => r!(a) = math::exp(fx!(b))?.to_bits(),
                Opcode::Ln => r!(a) = math::ln(fx!(b))?.to_bits(),
                Opcode::Sqrt => r!(a) = math::sqrt(fx!(b))?.to_bits(),
                Opcode::Pow => r!(a) = math::pow(fx!(b), fx!(c))?.to_bits(),
                Opcode::Ncdf => r!(a) = math::ncdf(fx!(b))?.to_bits(),
                Opcode::Npdf => r!(a) = math::npdf(fx!(b))?.to_bits(),
                Opcode::InvNcdf => r!(a) = math::inv_ncdf(fx!(b))?.to_bits(),
                Opcode::IntToFx => r!(a) = r!(b).checked_mul(1 << 64).ok_or(MathError::Overflow)?,
                Opcode::FxToInt => r!(a) = r!(b) >> 64,
                Opcode::Eq => r!(a) = (r!(b) == r!(c)) as i128,
                Opcode::Ne => r!(a) = (r!(b) != r!(c)) as i128,
                Opcode::Lt => r!(a) = (r!(b) < r!(c)) as i128,
                Opcode::Le => r!(a) = (r!(b) <= r!(c)) as i128,
                Opcode::And => r!(a) = r!(b) & r!(c),
                Opcode::Or => r!(a) = r!(b) | r!(c),
                Opcode::Xor => r!(a) = r!(b) ^ r!(c),
                Opcode::Not => r!(a) = (r!(b) == 0) as i128,
                Opcode::Jump => jump!(),
                Opcode::JumpIfZero => {
                    if r!(a) == 0 {
                        jump!()
                    }
                }
                Opcode::JumpIfNonZero => {
                    if r!(a) != 0 {
                        jump!()
                    }
                }
                Opcode::BranchEq => {
                    if r!(a) == r!(b) {
                        jump!()
                    }
                }
                Opcode::BranchNe => {
                    if r!(a) != r!(b) {
                        jump!()
                    }
                }
                Opcode::BranchLt => {
                    if r!(a) < r!(b) {
                        jump!()
                    }
                }
                Opcode::BranchLe => {
                    if r!(a) <= r!(b) {
                        jump!()
                    }
                }
                Opcode::Call => {
                    self.frames[frame].pc = pc;
                    let callee = i.imm as usize;
                    self.push_frame(callee, a, i.b as usize, a, limits)?;
                    frame += 1;
                    (func, pc, base) = (callee, 0, self.frames[frame].base);
                    mem_base = self.frames[frame].mem_base;
                    code = &module.functions[func].code[..];
                    block_gas = self.module.block_gas(func);
                    offsets = self.module.array_offsets(func);
                }
                Opcode::Return => {
                    let n = i.b as usize;
                    if frame == 0 {
                        return Ok(self.regs[a..a + n].to_vec());
                    }
                    let done = self.frames.pop().ok_or(Stop::Error(VmError::CallDepth))?;
                    self.regs.copy_within(a..a + n, done.results_to);
                    self.regs.truncate(done.base);
                    self.memory.truncate(done.mem_base);
                    frame -= 1;
                    let f = &self.frames[frame];
                    (func, pc, base, mem_base) = (f.function, f.pc, f.base, f.mem_base);
                    code = &module.functions[func].code[..];
                    block_gas = self.module.block_gas(func);
                    offsets = self.module.array_offsets(func);
                }
                Opcode::Revert => return Err(Stop::Revert(i.imm as u32)),
                Opcode::StorageLoad => {
                    let slot = Slot {
                        contract: self.call.contract,
                        space: i.imm as u32,
                        key: r!(b) as u128,
                    };
                    let cold = state.touch(slot) == Access::Cold;
                    self.charge(if cold {
                        gas::SLOAD_COLD
                    } else {
                        gas::SLOAD_WARM
                    })?;
                    r!(a) = state.read(slot)?;
                }
                Opcode::StorageStore | Opcode::StorageAdd | Opcode::StorageAddCapped => {
                    let slot = Slot {
                        contract: self.call.contract,
                        space: i.imm as u32,
                        key: r!(a) as u128,
                    };
                    let cold = state.touch(slot) == Access::Cold;
                    self.charge(gas::STORE_BASE + if cold { gas::STORE_COLD } else { 0 })?;
                    count_write(&mut self.writes, limits)?;
                    match i.op {
                        Opcode::StorageStore => state.write(slot, r!(b))?,
                        Opcode::StorageAdd => add_result(state.add(slot, r!(b), None)?, 0)?,
                        _ => {
                            let cap = r!(c);
                            add_result(state.add(slot, r!(b), Some(cap))?, cap)?;
                        }
                    }
                }
                Opcode::Emit => {
                    let n = i.b as usize;
                    self.charge(gas::EMIT_BASE + gas::EMIT_PER_VALUE * n as u64)?;
                    check_event(self.events.len(), limits)?;
                    let name = module.events[i.imm as usize].clone();
                    let values = self.regs[a..a + n].to_vec();
                    self.events.push(Event {
                        contract: self.call.contract,
                        name,
                        values,
                    });
                }
                Opcode::Caller => r!(a) = self.call.caller as i128,
                Opcode::SelfAddress => r!(a) = self.call.contract as i128,
                Opcode::BlockNumber => r!(a) = self.block.number as i128,
                Opcode::Timestamp => r!(a) = self.block.timestamp as i128,
                Opcode::GasLeft => r!(a) = self.gas_left as i128,
                Opcode::Native => {
                    let mut env = crate::native::Env {
                        caller: self.call.caller,
                        timestamp: self.block.timestamp,
                    };
                    let mut out = crate::native::Results::default();
                    let n = native(
                        i.imm,
                        &self.regs[a..a + i.b as usize],
                        &mut out,
                        &mut env,
                        &mut self.gas_left,
                    )?;
                    self.regs[a..a + n].copy_from_slice(&out[..n]);
                    self.call.caller = env.caller;
                    self.block.timestamp = env.timestamp;
                }
                Opcode::ArrayLoad | Opcode::ArrayStore => {
                    let k = i.imm as usize;
                    let (start, end) = (offsets[k], offsets[k + 1]);
                    let length = end - start;
                    let index = r!(b);
                    if index < 0 || index >= length as i128 {
                        return Err(VmError::IndexOutOfBounds { index, length }.into());
                    }
                    let at = mem_base + start as usize + index as usize;
                    if i.op == Opcode::ArrayLoad {
                        r!(a) = self.memory[at];
                    } else {
                        self.memory[at] = r!(a);
                    }
                }
            }
            if R::ENABLED {
                let registers = module.functions[func].registers as usize;
                let regs = self.regs.get(base..base + registers).unwrap_or(&[]);
                let value = traced_slot.map(|s| state.read(s).unwrap_or(0));
                tracer.after(regs, self.gas_left, value);
            }
        }
    }

    /// The tracer's `before` hook for instruction `pc` of the current frame; returns the
    /// storage slot the instruction touches, if any.
    #[cold]
    #[allow(clippy::too_many_arguments)]
    #[allow(
        clippy::indexing_slicing,
        reason = "as in `execute`: `function` and `pc` are the running instruction's, which the verifier bounded"
    )]
    fn trace_before<T: TxState + ?Sized, R: trace::Tracer>(
        &self,
        state: &mut T,
        tracer: &mut R,
        frame: usize,
        function: usize,
        pc: usize,
        base: usize,
        block_gas: u32,
    ) -> Option<Slot> {
        let f = &self.module.module().functions[function];
        let instr = *f.code.get(pc)?;
        let regs = self
            .regs
            .get(base..base + f.registers as usize)
            .unwrap_or(&[]);
        let key = match instr.op {
            Opcode::StorageLoad => regs.get(instr.b as usize),
            Opcode::StorageStore | Opcode::StorageAdd | Opcode::StorageAddCapped => {
                regs.get(instr.a as usize)
            }
            _ => None,
        };
        let slot = key.map(|&k| Slot {
            contract: self.call.contract,
            space: instr.imm as u32,
            key: k as u128,
        });
        let storage = slot.map(|s| (s, state.read(s).unwrap_or(0)));
        let at = trace::At {
            depth: frame + 1,
            function,
            pc,
            instr,
            gas_left: self.gas_left,
            block_gas: u64::from(block_gas),
            static_gas: u64::from(crate::isa::static_gas(self.module.module(), instr)),
        };
        tracer.before(&at, regs, storage);
        slot
    }
}
