//! The instruction set and everything that reads or writes it: the opcode table (the single
//! source of truth for encodings, operand roles, gas and effects), the semantics of every
//! pure opcode, instruction words, the `.sbc` module format, limits, the verifier, the
//! assembler, the disassembler and the generated spec.

pub mod abi;
mod asm;
mod disasm;
pub mod footprint;
mod instr;
mod limits;
mod module;
mod opcode;
mod roles;
pub mod semantics;
mod spec;
mod verify;

pub use abi::{Abi, Import};
pub use asm::{assemble, AsmError};
pub use disasm::{disassemble, disassemble_with_source};
pub use footprint::{Access, Binding, Footprint, Key};
pub use instr::{DecodeError, Instr, Registers, WORD};
pub use limits::Limits;
pub use module::{
    DebugEntry, Export, Function, Module, ModuleError, ModuleErrorKind, ValueType, MAGIC, VERSION,
};
#[cfg_attr(not(feature = "jit"), allow(unused_imports))]
pub(crate) use opcode::for_each_opcode;
pub(crate) use opcode::{binary, ternary, unary};
pub use opcode::{ArrayOp, Effect, EnvValue, OpInfo, Opcode, StorageOp};
pub use roles::{Operands, Role};
pub use spec::opcodes_markdown;
pub use verify::{
    is_identifier, static_gas, BasicBlock, Cfg, VerifiedModule, VerifyError, VerifyErrorKind,
    CALL_REGISTERS_PER_GAS,
};
