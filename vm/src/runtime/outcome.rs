//! What a run produces and how it can stop: the types both engines share.

use crate::math::MathError;
use crate::state::{Address, StorageError};
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
    /// A call to a contract that is already on the transaction's stack (re-entrancy).
    Reentrancy {
        /// The contract called again.
        contract: Address,
    },
    /// A call with `Limits::max_contract_depth` contracts already on the stack.
    ContractDepth {
        /// The limit.
        limit: u32,
    },
    /// The called contract has no export of the name the interface declares.
    UnknownExport {
        /// The contract called.
        contract: Address,
        /// The export's name.
        name: String,
    },
    /// The called export's parameter or return types differ from the interface's (boxed:
    /// every `VmError`, `Stop` and receipt is as large as the largest variant).
    CallSignature(Box<SignatureMismatch>),
    /// A storage write or an event inside a view call.
    ViewWrite {
        /// The contract that tried.
        contract: Address,
    },
    /// Entering a frame would hold more array elements than `Limits::max_memory_words`.
    MemoryLimit {
        /// Elements the call stack would hold.
        words: u64,
        /// The limit.
        limit: u32,
    },
}

/// What [`VmError::CallSignature`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureMismatch {
    /// The contract called.
    pub contract: Address,
    /// The export's name.
    pub name: String,
    /// What the interface declares.
    pub expected: String,
    /// What the contract has.
    pub found: String,
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
            VmError::Reentrancy { .. } => 23,
            VmError::ContractDepth { .. } => 24,
            VmError::UnknownExport { .. } => 25,
            VmError::CallSignature(_) => 26,
            VmError::ViewWrite { .. } => 27,
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
            VmError::Reentrancy { contract } => write!(
                f,
                "re-entrancy refused: contract {contract:#x} is already on the call stack"
            ),
            VmError::ContractDepth { limit } => write!(
                f,
                "contract call depth limit exceeded: {limit} contracts already on the call stack"
            ),
            VmError::UnknownExport { contract, name } => write!(
                f,
                "contract {contract:#x} has no exported function named {name:?}"
            ),
            VmError::CallSignature(m) => write!(
                f,
                "contract {:#x}'s {} is {}, but the interface declares {}",
                m.contract, m.name, m.found, m.expected
            ),
            VmError::ViewWrite { contract } => write!(
                f,
                "contract {contract:#x} tried to write storage or emit inside a view call"
            ),
            VmError::MemoryLimit { words, limit } => write!(
                f,
                "the call stack would hold {words} array elements, over the limit of {limit}"
            ),
        }
    }
}

impl std::error::Error for VmError {}

impl From<StorageError> for VmError {
    fn from(e: StorageError) -> Self {
        VmError::Storage(e)
    }
}

impl From<MathError> for VmError {
    fn from(e: MathError) -> Self {
        VmError::Math(e)
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

/// Why a run stops before returning: the error half of every step of either engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// REVERT with this code.
    Revert(u32),
    /// An error.
    Error(VmError),
}

impl<E: Into<VmError>> From<E> for Stop {
    #[cold]
    fn from(e: E) -> Self {
        Stop::Error(e.into())
    }
}

impl From<Stop> for Halt {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::Revert(code) => Halt::Revert(code),
            Stop::Error(e) => Halt::Error(e),
        }
    }
}
