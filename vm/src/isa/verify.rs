//! The verifier: the only way to a [`VerifiedModule`], which the interpreter runs without
//! re-checking anything listed here.
//!
//! Guarantees, for every function of a verified module:
//! - it has at least one instruction, and its last one is a terminator (JMP, RET, REVERT),
//!   so execution can never fall off the end;
//! - every register operand (including the ranges of CALL, RET and EMIT) is below the
//!   function's register count, and the parameters fit in it;
//! - every constant, event, function and array index is in bounds, and the function's
//!   arrays are non-empty and within `Limits::max_arrays` and `max_array_words`;
//! - every jump lands on an instruction of the same function;
//! - every NATIVE names a native of the table (a test-only one only under
//!   `Limits::allow_test_natives`) with an argument and result count it takes;
//! - every CALL passes exactly the callee's parameter count and receives exactly its return
//!   count, and every RET returns exactly the function's return count;
//! - static gas is known per basic block (`block_gas`), so the interpreter charges one
//!   constant per block.
//!
//! And for the module: it is within every size limit that decoding enforces (functions,
//! instructions per function, constants, exports, events, debug entries, name length), so
//! a module built through the Rust API gets the same bounds as one decoded from bytes;
//! exports name existing functions with signatures of the right arity, export names are
//! unique and non-empty, debug entries point at real instructions.

use super::format::{Format, ImmKind, Instr};
use super::limits::Limits;
use super::module::{Export, Module};
use super::opcode::Opcode;
use crate::native::Native;
use std::collections::HashMap;
use std::fmt;

/// A module that passed verification, with what the interpreter needs precomputed.
#[derive(Clone, Debug)]
pub struct VerifiedModule {
    module: Module,
    /// Per function, per instruction: the static gas of the basic block starting there, or 0
    /// where no block starts.
    block_gas: Vec<Vec<u32>>,
    /// Per function: where each array starts in the frame's memory, then the total.
    array_offsets: Vec<Vec<u32>>,
    /// Export name -> index into `module.exports`.
    exports: HashMap<String, usize>,
}

/// Why a module failed verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    /// The function, when the problem is inside one.
    pub function: Option<usize>,
    /// The instruction index, when the problem is at one.
    pub pc: Option<usize>,
    /// What is wrong.
    pub kind: VerifyErrorKind,
}

/// The kinds of [`VerifyError`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyErrorKind {
    /// The function has no instructions.
    EmptyFunction,
    /// The last instruction can fall through.
    FallsOffEnd,
    /// More parameters than registers.
    ParamsExceedRegisters,
    /// A register count outside 1..=256.
    BadRegisterCount(u16),
    /// A register operand beyond the register count.
    RegisterOutOfRange(u32),
    /// A constant index beyond the pool.
    ConstantOutOfRange(u32),
    /// An event index beyond the event table.
    EventOutOfRange(u32),
    /// A function index beyond the module.
    FunctionOutOfRange(u32),
    /// A jump target outside the function.
    JumpOutOfRange(i64),
    /// A CALL whose argument or result count does not match the callee.
    CallArity {
        /// Callee index.
        callee: u32,
    },
    /// A RET whose count does not match the function's.
    ReturnArity,
    /// A NATIVE id the table does not define, or a test-only native outside a test module.
    UnknownNative(u32),
    /// A NATIVE whose argument or result count the native does not take.
    NativeArity(u32),
    /// An EMIT with too many values.
    TooManyEventValues(u8),
    /// An array index beyond the function's arrays.
    ArrayOutOfRange(u32),
    /// More arrays, or array elements, than the limits allow, or an empty array.
    BadArrays,
    /// An export's function or signature is wrong.
    BadExport(String),
    /// Two exports share a name.
    DuplicateExport(String),
    /// A debug entry points nowhere, or the entries are not in (function, pc) order.
    BadDebugEntry,
    /// An export or event name is not an identifier ([A-Za-z_][A-Za-z0-9_]*).
    BadName(String),
    /// The module has more of something than its `Limits` allow.
    OverLimit {
        /// What: "functions", "instructions", "constants", ...
        what: &'static str,
        /// How many it has.
        count: usize,
        /// The limit.
        limit: usize,
    },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use VerifyErrorKind::*;
        write!(f, "verification failed")?;
        if let Some(func) = self.function {
            write!(f, " in function {func}")?;
        }
        if let Some(pc) = self.pc {
            write!(f, " at pc {pc}")?;
        }
        write!(f, ": ")?;
        match &self.kind {
            EmptyFunction => write!(f, "the function has no instructions"),
            FallsOffEnd => write!(f, "the last instruction is not JMP, RET or REVERT, so execution could run off the end"),
            ParamsExceedRegisters => write!(f, "more parameters than registers"),
            BadRegisterCount(n) => write!(f, "register count {n} is outside 1..=256"),
            RegisterOutOfRange(r) => write!(f, "register r{r} is beyond the function's register count"),
            ConstantOutOfRange(k) => write!(f, "constant k{k} does not exist"),
            EventOutOfRange(e) => write!(f, "event e{e} does not exist"),
            FunctionOutOfRange(i) => write!(f, "function {i} does not exist"),
            JumpOutOfRange(t) => write!(f, "jump target {t} is outside the function"),
            CallArity { callee } => write!(f, "call to function {callee} with the wrong argument or result count"),
            ReturnArity => write!(f, "RET returns a different number of values than the function declares"),
            UnknownNative(id) => write!(f, "native {id:#x} does not exist or is test-only (allowed only in `strike test`)"),
            NativeArity(id) => write!(f, "native {id:#x} called with an argument or result count it does not take"),
            TooManyEventValues(n) => write!(f, "EMIT with {n} values exceeds the limit"),
            ArrayOutOfRange(a) => write!(f, "array a{a} is not declared by the function"),
            BadArrays => write!(f, "the function's arrays are empty, too many or too long in total"),
            OverLimit { what, count, limit } => write!(f, "{count} {what} exceeds the limit of {limit}"),
            BadExport(name) => write!(f, "export {name:?} names a missing function or has the wrong arity"),
            DuplicateExport(name) => write!(f, "export {name:?} is defined twice"),
            BadDebugEntry => write!(f, "a debug entry points at no instruction or is out of (function, pc) order"),
            BadName(name) => write!(f, "{name:?} is not an identifier ([A-Za-z_][A-Za-z0-9_]*)"),
        }
    }
}

impl std::error::Error for VerifyError {}

/// Is `name` an identifier: `[A-Za-z_][A-Za-z0-9_]*`?
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Is this opcode an unconditional end of a block (control never reaches the next word)?
pub(crate) const fn is_terminator(op: Opcode) -> bool {
    matches!(op, Opcode::Jump | Opcode::Return | Opcode::Revert)
}

/// The jump target of a jump-format instruction at `pc`.
pub(crate) fn jump_target(pc: usize, instr: Instr) -> i64 {
    pc as i64 + 1 + instr.imm as i64
}

/// The static gas of `instr` in `module`: its opcode's cost, and for a CALL one more per
/// `gas::CALL_REGISTERS_PER_GAS` registers of the callee (see spec/gas.md). What the verifier
/// sums into each block's charge, and what traces show per instruction.
pub fn static_gas(module: &Module, instr: Instr) -> u32 {
    let frame = match instr.op {
        Opcode::Call => module.functions.get(instr.imm as usize).map_or(0, |f| {
            u32::from(f.registers).div_ceil(crate::interp::gas::CALL_REGISTERS_PER_GAS)
        }),
        _ => 0,
    };
    instr.op.info().gas + frame
}

/// The module-wide size limits, as decoding applies them (for modules that were not decoded).
fn check_sizes(module: &Module, limits: &Limits) -> Result<(), VerifyError> {
    let over = |what: &'static str, count: usize, limit: usize| {
        if count > limit {
            Err(VerifyError {
                function: None,
                pc: None,
                kind: VerifyErrorKind::OverLimit { what, count, limit },
            })
        } else {
            Ok(())
        }
    };
    over(
        "functions",
        module.functions.len(),
        limits.max_functions as usize,
    )?;
    over(
        "constants",
        module.constants.len(),
        limits.max_constants as usize,
    )?;
    over("exports", module.exports.len(), limits.max_exports as usize)?;
    over("events", module.events.len(), limits.max_events as usize)?;
    over(
        "debug entries",
        module.debug.len(),
        limits.max_debug_entries as usize,
    )?;
    for f in &module.functions {
        over("instructions", f.code.len(), limits.max_code_len as usize)?;
    }
    for name in module.exports.iter().map(|e| &e.name).chain(&module.events) {
        over("name bytes", name.len(), limits.max_name_len as usize)?;
    }
    // What the module's encoding takes at least (8 bytes per instruction, 16 per constant):
    // a module built in Rust gets the bound a decoded one has from `max_module_bytes`.
    let instructions: usize = module.functions.iter().map(|f| f.code.len()).sum();
    let least = instructions
        .saturating_mul(super::format::WORD)
        .saturating_add(module.constants.len().saturating_mul(16));
    over(
        "bytes of code and constants",
        least,
        limits.max_module_bytes,
    )
}

impl VerifiedModule {
    /// Verifies `module` under `limits`.
    pub fn new(module: Module, limits: &Limits) -> Result<VerifiedModule, VerifyError> {
        check_sizes(&module, limits)?;
        let mut block_gas = Vec::with_capacity(module.functions.len());
        let mut array_offsets = Vec::with_capacity(module.functions.len());
        for (index, f) in module.functions.iter().enumerate() {
            block_gas.push(verify_function(&module, index, limits)?);
            let mut offsets = Vec::with_capacity(f.arrays.len() + 1);
            let mut total = 0u32;
            offsets.push(0);
            for &n in &f.arrays {
                total += n; // bounded by max_array_words, checked in verify_function
                offsets.push(total);
            }
            array_offsets.push(offsets);
        }
        let mut exports = HashMap::new();
        let module_err = |kind| VerifyError {
            function: None,
            pc: None,
            kind,
        };
        for name in module.exports.iter().map(|e| &e.name).chain(&module.events) {
            if !is_identifier(name) {
                return Err(module_err(VerifyErrorKind::BadName(name.clone())));
            }
        }
        for (k, e) in module.exports.iter().enumerate() {
            let ok = !e.name.is_empty()
                && module.functions.get(e.function as usize).is_some_and(|f| {
                    f.params as usize == e.params.len() && f.returns as usize == e.returns.len()
                });
            if !ok {
                return Err(module_err(VerifyErrorKind::BadExport(e.name.clone())));
            }
            if exports.insert(e.name.clone(), k).is_some() {
                return Err(module_err(VerifyErrorKind::DuplicateExport(e.name.clone())));
            }
        }
        for d in &module.debug {
            let ok = module
                .functions
                .get(d.function as usize)
                .is_some_and(|f| (d.pc as usize) < f.code.len());
            if !ok {
                return Err(module_err(VerifyErrorKind::BadDebugEntry));
            }
        }
        Ok(VerifiedModule {
            module,
            block_gas,
            array_offsets,
            exports,
        })
    }

    /// The module.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Static gas of the block starting at `pc` of `function` (0 where no block starts).
    #[inline]
    #[allow(
        clippy::indexing_slicing,
        reason = "crate-private: callers pass only verified CALL targets and entry functions that `check_arguments` found, both below the function count"
    )]
    pub(crate) fn block_gas(&self, function: usize) -> &[u32] {
        &self.block_gas[function]
    }

    /// Where each of `function`'s arrays starts in its frame's memory (in elements), then
    /// one more entry: the frame's total.
    #[inline]
    #[allow(
        clippy::indexing_slicing,
        reason = "crate-private: callers pass only verified CALL targets and entry functions that `check_arguments` found, both below the function count"
    )]
    pub(crate) fn array_offsets(&self, function: usize) -> &[u32] {
        &self.array_offsets[function]
    }

    /// Array elements a frame of `function` holds (all its arrays).
    #[inline]
    #[allow(
        clippy::indexing_slicing,
        reason = "crate-private: callers pass only verified CALL targets and entry functions that `check_arguments` found, both below the function count"
    )]
    pub(crate) fn array_words(&self, function: usize) -> u32 {
        *self.array_offsets[function].last().unwrap_or(&0)
    }

    /// The function an export name refers to.
    pub fn export(&self, name: &str) -> Option<usize> {
        self.export_entry(name).map(|e| e.function as usize)
    }

    /// The export named `name`, with its typed signature.
    #[allow(
        clippy::indexing_slicing,
        reason = "`exports` maps names to positions in `module.exports`, built together in `new`"
    )]
    pub fn export_entry(&self, name: &str) -> Option<&Export> {
        self.exports.get(name).map(|&k| &self.module.exports[k])
    }
}

#[allow(
    clippy::indexing_slicing,
    reason = "`index` ranges over the module's functions; `leader` and `gas` have one entry per instruction, and every index into them is a `pc` of the loop, a jump target checked to be inside the function, or `pc + 1` checked against the length"
)]
fn verify_function(
    module: &Module,
    index: usize,
    limits: &Limits,
) -> Result<Vec<u32>, VerifyError> {
    let f = &module.functions[index];
    let err = |pc: Option<usize>, kind| VerifyError {
        function: Some(index),
        pc,
        kind,
    };
    let last = f
        .code
        .last()
        .ok_or(err(None, VerifyErrorKind::EmptyFunction))?;
    if !is_terminator(last.op) {
        return Err(err(Some(f.code.len() - 1), VerifyErrorKind::FallsOffEnd));
    }
    if f.registers == 0 || f.registers > 256 {
        return Err(err(None, VerifyErrorKind::BadRegisterCount(f.registers)));
    }
    if f.params as u16 > f.registers {
        return Err(err(None, VerifyErrorKind::ParamsExceedRegisters));
    }
    let words: u64 = f.arrays.iter().map(|&n| n as u64).sum();
    if f.arrays.len() > limits.max_arrays as usize
        || f.arrays.contains(&0)
        || words > limits.max_array_words as u64
    {
        return Err(err(None, VerifyErrorKind::BadArrays));
    }
    let regs = f.registers as u32;
    let len = f.code.len();
    let mut leader = vec![false; len];
    leader[0] = true;
    for (pc, &instr) in f.code.iter().enumerate() {
        let at = |kind| err(Some(pc), kind);
        let info = instr.op.info();
        let reg = |r: u32| {
            if r < regs {
                Ok(())
            } else {
                Err(at(VerifyErrorKind::RegisterOutOfRange(r)))
            }
        };
        // A range r[a .. a + n]: a is a register even when n = 0, and the range ends inside.
        let range = |a: u8, n: u8| {
            let end = a as u32 + n as u32;
            if (a as u32) < regs && end <= regs {
                Ok(())
            } else {
                Err(at(VerifyErrorKind::RegisterOutOfRange(
                    end.max(a as u32 + 1) - 1,
                )))
            }
        };
        match info.format {
            Format::Call | Format::Ret | Format::Emit | Format::Native => {}
            format => {
                let (ua, ub, uc) = format.uses_abc();
                if ua {
                    reg(instr.a as u32)?;
                }
                if ub {
                    reg(instr.b as u32)?;
                }
                if uc {
                    reg(instr.c as u32)?;
                }
            }
        }
        match info.format.imm_kind() {
            ImmKind::Register => reg(instr.imm as u32)?,
            ImmKind::Const if instr.imm as usize >= module.constants.len() => {
                return Err(at(VerifyErrorKind::ConstantOutOfRange(instr.imm as u32)));
            }
            ImmKind::Array if instr.imm as usize >= f.arrays.len() => {
                return Err(at(VerifyErrorKind::ArrayOutOfRange(instr.imm as u32)));
            }
            ImmKind::Jump => {
                let target = jump_target(pc, instr);
                if target < 0 || target >= len as i64 {
                    return Err(at(VerifyErrorKind::JumpOutOfRange(target)));
                }
                leader[target as usize] = true;
                if pc + 1 < len {
                    leader[pc + 1] = true;
                }
            }
            _ => {}
        }
        match info.format {
            Format::Call => {
                let callee = module
                    .functions
                    .get(instr.imm as usize)
                    .ok_or(at(VerifyErrorKind::FunctionOutOfRange(instr.imm as u32)))?;
                if callee.params != instr.b || callee.returns != instr.c {
                    return Err(at(VerifyErrorKind::CallArity {
                        callee: instr.imm as u32,
                    }));
                }
                range(instr.a, instr.b.max(instr.c))?;
            }
            Format::Ret => {
                if instr.b != f.returns {
                    return Err(at(VerifyErrorKind::ReturnArity));
                }
                range(instr.a, instr.b)?;
            }
            Format::Native => {
                let native = Native::from_id(instr.imm as u32)
                    .filter(|n| limits.allow_test_natives || !n.info().test_only)
                    .ok_or(at(VerifyErrorKind::UnknownNative(instr.imm as u32)))?;
                if !native.accepts(instr.b) || native.info().results != instr.c {
                    return Err(at(VerifyErrorKind::NativeArity(instr.imm as u32)));
                }
                range(instr.a, instr.b.max(instr.c))?;
            }
            Format::Emit => {
                if instr.imm as usize >= module.events.len() {
                    return Err(at(VerifyErrorKind::EventOutOfRange(instr.imm as u32)));
                }
                if instr.b as u32 > limits.max_event_values {
                    return Err(at(VerifyErrorKind::TooManyEventValues(instr.b)));
                }
                range(instr.a, instr.b)?;
            }
            _ => {}
        }
        if is_terminator(instr.op) && pc + 1 < len {
            leader[pc + 1] = true;
        }
    }
    // Static gas per block: the sum over the instructions up to the next leader.
    let mut gas = vec![0u32; len];
    let mut start = 0;
    for (pc, (&is_leader, instr)) in leader.iter().zip(&f.code).enumerate() {
        if is_leader {
            start = pc;
        }
        // Within u32 under the default limits (65,536 instructions of at most 148 gas); an
        // embedder that loosens `max_code_len` far enough gets an error, not a wrap.
        let add = static_gas(module, *instr);
        let sum = u64::from(gas[start]) + u64::from(add);
        gas[start] = u32::try_from(sum).map_err(|_| {
            err(
                Some(pc),
                VerifyErrorKind::OverLimit {
                    what: "gas in one basic block",
                    count: sum as usize,
                    limit: u32::MAX as usize,
                },
            )
        })?;
    }
    Ok(gas)
}

#[cfg(test)]
mod tests {
    use super::super::module::{Export, Function, ValueType};
    use super::*;

    fn module(code: Vec<Instr>, registers: u16) -> Module {
        Module {
            constants: vec![7],
            functions: vec![Function {
                params: 1,
                returns: 1,
                registers,
                arrays: vec![],
                code,
            }],
            exports: vec![Export {
                name: "f".into(),
                function: 0,
                params: vec![ValueType::Int],
                returns: vec![ValueType::Int],
            }],
            ..Module::default()
        }
    }

    fn verify(m: Module) -> Result<VerifiedModule, VerifyErrorKind> {
        VerifiedModule::new(m, &Limits::default()).map_err(|e| e.kind)
    }

    #[test]
    fn accepts_a_loop_and_computes_block_gas() {
        use Opcode::*;
        // r1 = 0; loop: r1 += 1; if r1 < r0 goto loop; ret r1
        let code = vec![
            Instr::new(LoadInt, 1, 0, 0, 0),
            Instr::new(AddImm, 1, 1, 0, 1),
            Instr::new(BranchLt, 1, 0, 0, -2),
            Instr::new(Return, 1, 1, 0, 0),
        ];
        let v = verify(module(code, 2)).unwrap();
        assert_eq!(v.block_gas(0), &[1, 2, 0, 2]);
        assert_eq!(v.export("f"), Some(0));
    }

    #[test]
    fn rejects_each_violation() {
        use Opcode::*;
        use VerifyErrorKind::*;
        let ret = Instr::new(Return, 0, 1, 0, 0);
        assert_eq!(verify(module(vec![], 1)).unwrap_err(), EmptyFunction);
        assert_eq!(
            verify(module(vec![Instr::new(Mov, 0, 0, 0, 0)], 1)).unwrap_err(),
            FallsOffEnd
        );
        assert_eq!(
            verify(module(vec![Instr::new(Mov, 0, 1, 0, 0), ret], 1)).unwrap_err(),
            RegisterOutOfRange(1)
        );
        assert_eq!(
            verify(module(vec![Instr::new(LoadConst, 0, 0, 0, 1), ret], 1)).unwrap_err(),
            ConstantOutOfRange(1)
        );
        assert_eq!(
            verify(module(vec![Instr::new(Jump, 0, 0, 0, 5), ret], 1)).unwrap_err(),
            JumpOutOfRange(6)
        );
        assert_eq!(
            verify(module(vec![Instr::new(Jump, 0, 0, 0, -2), ret], 1)).unwrap_err(),
            JumpOutOfRange(-1)
        );
        assert_eq!(
            verify(module(vec![Instr::new(Call, 0, 1, 1, 3), ret], 1)).unwrap_err(),
            FunctionOutOfRange(3)
        );
        assert_eq!(
            verify(module(vec![Instr::new(Call, 0, 2, 1, 0), ret], 2)).unwrap_err(),
            CallArity { callee: 0 }
        );
        assert_eq!(
            verify(module(vec![Instr::new(Return, 0, 0, 0, 0)], 1)).unwrap_err(),
            ReturnArity
        );
        assert_eq!(
            verify(module(vec![Instr::new(Return, 1, 1, 0, 0)], 1)).unwrap_err(),
            RegisterOutOfRange(1)
        );
        // A zero-length range must still start at a register (found by the fuzz test).
        let mut m = module(vec![Instr::new(Return, 166, 0, 0, 0)], 8);
        m.functions[0].returns = 0;
        m.exports[0].returns.clear();
        assert_eq!(verify(m).unwrap_err(), RegisterOutOfRange(166));
        assert_eq!(
            verify(module(vec![Instr::new(Emit, 0, 1, 0, 0), ret], 1)).unwrap_err(),
            EventOutOfRange(0)
        );
        assert_eq!(
            verify(module(vec![ret], 0)).unwrap_err(),
            BadRegisterCount(0)
        );
        let mut m = module(vec![ret], 1);
        m.functions[0].params = 2;
        assert_eq!(verify(m).unwrap_err(), ParamsExceedRegisters);
        let mut m = module(vec![ret], 1);
        m.exports.push(m.exports[0].clone());
        assert_eq!(verify(m).unwrap_err(), DuplicateExport("f".into()));
    }
}
