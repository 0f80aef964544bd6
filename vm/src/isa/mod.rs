//! The instruction set and everything that reads or writes it: the opcode table (the single
//! source of truth), instruction words, the `.sbc` module format, limits, the verifier.

mod asm;
mod disasm;
mod format;
mod limits;
mod module;
mod opcode;
mod spec;
mod verify;

pub use asm::{assemble, AsmError};
pub use disasm::{disassemble, disassemble_with_source};
pub use format::{DecodeError, Format, ImmKind, Instr, WORD};
pub use limits::Limits;
pub use module::{
    DebugEntry, Export, Function, Module, ModuleError, ModuleErrorKind, ValueType, MAGIC, VERSION,
};
pub use opcode::{OpInfo, Opcode};
pub use spec::opcodes_markdown;
pub use verify::{is_identifier, static_gas, VerifiedModule, VerifyError, VerifyErrorKind};
