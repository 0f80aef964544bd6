//! What the verifier reports: where (function, instruction) and what is wrong.

use std::fmt;

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
    /// An XCALL import index beyond the module's imports.
    ImportOutOfRange(u32),
    /// An XCALL whose argument or result count does not match its import (the address
    /// counts as the first argument).
    ImportArity(u32),
    /// An import's name is not an identifier.
    BadImport(String),
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
            ImportOutOfRange(i) => write!(f, "import i{i} does not exist"),
            ImportArity(i) => write!(f, "XCALL of import i{i} with the wrong argument or result count (the address is the first argument)"),
            BadImport(name) => write!(f, "import {name:?} is not a valid function name"),
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

impl VerifyError {
    /// A problem with the module as a whole.
    pub(super) fn module(kind: VerifyErrorKind) -> Self {
        VerifyError {
            function: None,
            pc: None,
            kind,
        }
    }

    /// A problem with function `function`, at instruction `pc` if given.
    pub(super) fn at(function: usize, pc: Option<usize>, kind: VerifyErrorKind) -> Self {
        VerifyError {
            function: Some(function),
            pc,
            kind,
        }
    }

    /// More of something than the limit allows.
    pub(super) fn over(what: &'static str, count: usize, limit: usize) -> Self {
        Self::module(VerifyErrorKind::OverLimit { what, count, limit })
    }
}
