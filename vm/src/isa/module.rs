//! The module: a contract's functions, constants, exports, events and debug info, and its
//! byte format `.sbc` (specified in `spec/module-format.md`).
//!
//! Guarantees: [`Module::encode`] and [`Module::decode`] are exact inverses (decode accepts
//! only canonical bytes: sections in order, no trailing bytes, canonical instruction words).
//! Decoding untrusted bytes never panics, and never allocates more than a small multiple of
//! the input's size: every count is checked against the bytes that remain before anything
//! is reserved, and against [`Limits`].

use super::abi::{Abi, AbiError, AbiEvent, AbiField, AbiFunction, AbiStorage, AbiStruct, Import};
use super::instr::{DecodeError, Instr, WORD};
use super::limits::Limits;
use std::fmt;

/// File magic: the first four bytes of every `.sbc` file.
pub const MAGIC: [u8; 4] = *b"\0sbc";
/// The format version this crate reads and writes.
pub const VERSION: u16 = 3;

/// A value type in an export's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ValueType {
    /// i128 integer.
    Int = 0,
    /// I64F64 fixed point.
    Fx = 1,
    /// 0 or 1.
    Bool = 2,
    /// A 128-bit account or contract id.
    Address = 3,
}

impl ValueType {
    /// The type with this byte.
    pub const fn from_byte(b: u8) -> Option<ValueType> {
        match b {
            0 => Some(ValueType::Int),
            1 => Some(ValueType::Fx),
            2 => Some(ValueType::Bool),
            3 => Some(ValueType::Address),
            _ => None,
        }
    }

    /// Lower-case name, as written in assembly and the spec.
    pub const fn name(self) -> &'static str {
        match self {
            ValueType::Int => "int",
            ValueType::Fx => "fx",
            ValueType::Bool => "bool",
            ValueType::Address => "address",
        }
    }

    /// The type with this name.
    pub fn from_name(s: &str) -> Option<ValueType> {
        [
            ValueType::Int,
            ValueType::Fx,
            ValueType::Bool,
            ValueType::Address,
        ]
        .into_iter()
        .find(|t| t.name() == s)
    }
}

/// One function: its signature counts, register file size and code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    /// Number of parameters, passed in r0.. on entry.
    pub params: u8,
    /// Number of values RET must return.
    pub returns: u8,
    /// Size of the register file, 1..=256.
    pub registers: u16,
    /// Lengths of the frame's arrays (elements of 128 bits), addressed by ALOAD and ASTORE.
    /// Each call gets them zeroed.
    pub arrays: Vec<u32>,
    /// The instructions.
    pub code: Vec<Instr>,
}

/// A function callable from outside, with its typed signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// The name transactions call it by.
    pub name: String,
    /// Index into the functions.
    pub function: u32,
    /// Parameter types (their count must equal the function's).
    pub params: Vec<ValueType>,
    /// Return types (their count must equal the function's).
    pub returns: Vec<ValueType>,
}

/// Maps one instruction to a source position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DebugEntry {
    /// Function index.
    pub function: u32,
    /// Instruction index in that function.
    pub pc: u32,
    /// 1-based source line.
    pub line: u32,
    /// 1-based source column.
    pub col: u32,
}

/// A decoded (not yet verified) module.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Module {
    /// 128-bit constants, indexed by LOADK, ADDK, MULK.
    pub constants: Vec<i128>,
    /// Functions, indexed by CALL and exports.
    pub functions: Vec<Function>,
    /// Externally callable functions.
    pub exports: Vec<Export>,
    /// Event names, indexed by EMIT.
    pub events: Vec<String>,
    /// Source positions, for error messages and the disassembler.
    pub debug: Vec<DebugEntry>,
    /// Functions of other contracts this one calls (XCALL's immediate indexes them).
    pub imports: Vec<Import>,
    /// The interface: names and types for tools, revert messages for receipts.
    pub abi: Abi,
}

/// Section ids, in the order they must appear.
const SECTIONS: [(u8, &str); 7] = [
    (1, "constants"),
    (2, "functions"),
    (3, "exports"),
    (4, "events"),
    (5, "debug"),
    (6, "imports"),
    (7, "abi"),
];

/// Longest text of the ABI (a doc comment, a revert message), in bytes.
pub const MAX_TEXT_LEN: u32 = 4096;
/// Most entries in each list of the ABI (and most imports).
pub const MAX_ABI_ENTRIES: u32 = 4096;

/// Why bytes are not a valid module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleError {
    /// Byte offset where decoding stopped.
    pub offset: usize,
    /// What was wrong there.
    pub kind: ModuleErrorKind,
}

/// The kinds of [`ModuleError`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleErrorKind {
    /// The file does not start with the magic bytes.
    BadMagic,
    /// A version this crate does not read.
    UnsupportedVersion(u16),
    /// The bytes end inside a field.
    Truncated,
    /// A section is missing or out of order.
    SectionOrder {
        /// The section id expected here.
        expected: u8,
        /// The id found.
        found: u8,
    },
    /// A section's contents do not fill its declared length exactly.
    SectionLength(&'static str),
    /// More items than the limit allows.
    TooMany {
        /// What was counted.
        what: &'static str,
        /// How many were declared.
        count: u64,
        /// The limit.
        limit: u64,
    },
    /// A name is not UTF-8.
    BadUtf8,
    /// A value type byte is unknown.
    BadType(u8),
    /// A register count outside 1..=256.
    BadRegisterCount(u16),
    /// An array of length 0, or arrays longer in total than the limit.
    BadArrays {
        /// Function index.
        function: usize,
    },
    /// An instruction word is not canonical.
    BadInstruction {
        /// Function index.
        function: usize,
        /// Instruction index.
        pc: usize,
        /// The decoding failure.
        error: DecodeError,
    },
    /// Bytes after the last section.
    TrailingBytes,
}

impl fmt::Display for ModuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ModuleErrorKind::*;
        write!(f, "invalid module at byte {}: ", self.offset)?;
        match &self.kind {
            BadMagic => write!(f, "not a Strike module (bad magic; expected \\0sbc)"),
            UnsupportedVersion(v) => write!(
                f,
                "format version {v} is not supported (this VM reads {VERSION})"
            ),
            Truncated => write!(f, "unexpected end of data"),
            SectionOrder { expected, found } => {
                write!(f, "expected section {expected}, found {found}")
            }
            SectionLength(s) => write!(f, "the {s} section's length does not match its contents"),
            TooMany { what, count, limit } => {
                write!(f, "{count} {what} exceed the limit of {limit}")
            }
            BadUtf8 => write!(f, "a name is not valid UTF-8"),
            BadType(b) => write!(f, "unknown value type byte {b}"),
            BadRegisterCount(n) => write!(f, "register count {n} is outside 1..=256"),
            BadArrays { function } => write!(
                f,
                "function {function} declares an empty array or more array elements than the limit"
            ),
            BadInstruction {
                function,
                pc,
                error,
            } => match error {
                DecodeError::UnknownOpcode(b) => {
                    write!(f, "function {function} pc {pc}: unknown opcode {b:#04x}")
                }
                DecodeError::BadOperand(op) => write!(
                    f,
                    "function {function} pc {pc}: {} has a non-canonical operand",
                    op.info().mnemonic
                ),
            },
            TrailingBytes => write!(f, "trailing bytes after the last section"),
        }
    }
}

impl std::error::Error for ModuleError {}

/// A bounds-checked reader over untrusted bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn fail<T>(&self, kind: ModuleErrorKind) -> Result<T, ModuleError> {
        Err(ModuleError {
            offset: self.pos,
            kind,
        })
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModuleError> {
        match self.bytes.get(self.pos..self.pos.saturating_add(n)) {
            Some(s) if self.pos.checked_add(n).is_some() => {
                self.pos += n;
                Ok(s)
            }
            _ => self.fail(ModuleErrorKind::Truncated),
        }
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], ModuleError> {
        let s = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, ModuleError> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, ModuleError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, ModuleError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
    /// A count of items of at least `min_size` bytes each, checked against the limit and
    /// against what remains, so that reserving `count` items is bounded by the input size.
    fn count(
        &mut self,
        what: &'static str,
        limit: u32,
        min_size: usize,
    ) -> Result<usize, ModuleError> {
        let count = self.u32()?;
        if count > limit {
            return self.fail(ModuleErrorKind::TooMany {
                what,
                count: count as u64,
                limit: limit as u64,
            });
        }
        if (count as usize).saturating_mul(min_size) > self.remaining() {
            return self.fail(ModuleErrorKind::Truncated);
        }
        Ok(count as usize)
    }
    fn name(&mut self, limits: &Limits) -> Result<String, ModuleError> {
        let len = self.u16()?;
        if len as u32 > limits.max_name_len {
            return self.fail(ModuleErrorKind::TooMany {
                what: "name bytes",
                count: len as u64,
                limit: limits.max_name_len as u64,
            });
        }
        let start = self.pos;
        let bytes = self.take(len as usize)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| ModuleError {
            offset: start,
            kind: ModuleErrorKind::BadUtf8,
        })
    }
    fn text(&mut self) -> Result<String, ModuleError> {
        let len = self.u32()?;
        if len > MAX_TEXT_LEN {
            return self.fail(ModuleErrorKind::TooMany {
                what: "text bytes",
                count: len as u64,
                limit: MAX_TEXT_LEN as u64,
            });
        }
        let start = self.pos;
        let bytes = self.take(len as usize)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| ModuleError {
            offset: start,
            kind: ModuleErrorKind::BadUtf8,
        })
    }
    fn fields(&mut self, limits: &Limits) -> Result<Vec<AbiField>, ModuleError> {
        let n = self.count("fields", MAX_ABI_ENTRIES, 6)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let name = self.name(limits)?;
            let ty = self.text()?;
            out.push(AbiField { name, ty });
        }
        Ok(out)
    }
    fn types(&mut self) -> Result<Vec<ValueType>, ModuleError> {
        let n = self.u8()?;
        let bytes = self.take(n as usize)?;
        bytes
            .iter()
            .map(|&b| {
                ValueType::from_byte(b).ok_or(ModuleError {
                    offset: self.pos,
                    kind: ModuleErrorKind::BadType(b),
                })
            })
            .collect()
    }
}

fn put_name(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_text(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_count(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn put_fields(out: &mut Vec<u8>, fields: &[AbiField]) {
    put_count(out, fields.len());
    for f in fields {
        put_name(out, &f.name);
        put_text(out, &f.ty);
    }
}

fn put_types(out: &mut Vec<u8>, types: &[ValueType]) {
    out.push(types.len() as u8);
    out.extend(types.iter().map(|&t| t as u8));
}

impl Abi {
    fn encode(&self, out: &mut Vec<u8>) {
        put_count(out, self.functions.len());
        for f in &self.functions {
            put_name(out, &f.name);
            put_fields(out, &f.params);
            put_fields(out, &f.returns);
            out.push(u8::from(f.view));
            put_text(out, &f.doc);
        }
        put_count(out, self.events.len());
        for e in &self.events {
            put_name(out, &e.name);
            put_fields(out, &e.fields);
        }
        put_count(out, self.errors.len());
        for e in &self.errors {
            out.extend_from_slice(&e.code.to_le_bytes());
            put_text(out, &e.message);
        }
        put_count(out, self.structs.len());
        for st in &self.structs {
            put_name(out, &st.name);
            put_fields(out, &st.fields);
        }
        put_count(out, self.storage.len());
        for v in &self.storage {
            put_name(out, &v.name);
            out.extend_from_slice(&v.space.to_le_bytes());
            put_text(out, &v.ty);
        }
    }

    fn decode(s: &mut Reader<'_>, limits: &Limits) -> Result<Abi, ModuleError> {
        let mut abi = Abi::default();
        let n = s.count("ABI functions", MAX_ABI_ENTRIES, 15)?;
        for _ in 0..n {
            let name = s.name(limits)?;
            let params = s.fields(limits)?;
            let returns = s.fields(limits)?;
            let view = match s.u8()? {
                0 => false,
                1 => true,
                b => return s.fail(ModuleErrorKind::BadType(b)),
            };
            let doc = s.text()?;
            abi.functions.push(AbiFunction {
                name,
                params,
                returns,
                view,
                doc,
            });
        }
        let n = s.count("ABI events", MAX_ABI_ENTRIES, 6)?;
        for _ in 0..n {
            let name = s.name(limits)?;
            let fields = s.fields(limits)?;
            abi.events.push(AbiEvent { name, fields });
        }
        let n = s.count("ABI errors", MAX_ABI_ENTRIES, 8)?;
        for _ in 0..n {
            let code = s.u32()?;
            let message = s.text()?;
            abi.errors.push(AbiError { code, message });
        }
        let n = s.count("ABI structs", MAX_ABI_ENTRIES, 6)?;
        for _ in 0..n {
            let name = s.name(limits)?;
            let fields = s.fields(limits)?;
            abi.structs.push(AbiStruct { name, fields });
        }
        let n = s.count("ABI storage entries", MAX_ABI_ENTRIES, 10)?;
        for _ in 0..n {
            let name = s.name(limits)?;
            let space = s.u32()?;
            let ty = s.text()?;
            abi.storage.push(AbiStorage { name, space, ty });
        }
        Ok(abi)
    }
}

impl Module {
    /// The `.sbc` bytes. Lengths are written as given: a module built by hand with more than
    /// 255 types in a signature or a name longer than 65535 bytes does not encode
    /// faithfully, and the verifier rejects such modules anyway.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        for (id, _) in SECTIONS {
            let mut body = Vec::new();
            match id {
                1 => {
                    body.extend_from_slice(&(self.constants.len() as u32).to_le_bytes());
                    for c in &self.constants {
                        body.extend_from_slice(&c.to_le_bytes());
                    }
                }
                2 => {
                    body.extend_from_slice(&(self.functions.len() as u32).to_le_bytes());
                    for f in &self.functions {
                        body.push(f.params);
                        body.push(f.returns);
                        body.extend_from_slice(&f.registers.to_le_bytes());
                        body.push(f.arrays.len() as u8);
                        for n in &f.arrays {
                            body.extend_from_slice(&n.to_le_bytes());
                        }
                        body.extend_from_slice(&(f.code.len() as u32).to_le_bytes());
                        for i in &f.code {
                            body.extend_from_slice(&i.encode());
                        }
                    }
                }
                3 => {
                    body.extend_from_slice(&(self.exports.len() as u32).to_le_bytes());
                    for e in &self.exports {
                        put_name(&mut body, &e.name);
                        body.extend_from_slice(&e.function.to_le_bytes());
                        put_types(&mut body, &e.params);
                        put_types(&mut body, &e.returns);
                    }
                }
                4 => {
                    body.extend_from_slice(&(self.events.len() as u32).to_le_bytes());
                    for e in &self.events {
                        put_name(&mut body, e);
                    }
                }
                5 => {
                    body.extend_from_slice(&(self.debug.len() as u32).to_le_bytes());
                    for d in &self.debug {
                        for v in [d.function, d.pc, d.line, d.col] {
                            body.extend_from_slice(&v.to_le_bytes());
                        }
                    }
                }
                6 => {
                    put_count(&mut body, self.imports.len());
                    for i in &self.imports {
                        put_name(&mut body, &i.interface);
                        put_name(&mut body, &i.name);
                        put_types(&mut body, &i.params);
                        put_types(&mut body, &i.returns);
                        body.push(u8::from(i.view));
                    }
                }
                _ => self.abi.encode(&mut body),
            }
            out.push(id);
            out.extend_from_slice(&(body.len() as u32).to_le_bytes());
            out.extend_from_slice(&body);
        }
        out
    }

    /// Decodes `.sbc` bytes under the default [`Limits`].
    pub fn decode(bytes: &[u8]) -> Result<Module, ModuleError> {
        Self::decode_with(bytes, &Limits::default())
    }

    /// Decodes `.sbc` bytes, rejecting anything beyond `limits`.
    #[allow(
        clippy::indexing_slicing,
        reason = "`body` was just taken from `bytes` at `start`, so `start + body.len()` is within `bytes`"
    )]
    pub fn decode_with(bytes: &[u8], limits: &Limits) -> Result<Module, ModuleError> {
        let mut r = Reader { bytes, pos: 0 };
        if bytes.len() > limits.max_module_bytes {
            return r.fail(ModuleErrorKind::TooMany {
                what: "module bytes",
                count: bytes.len() as u64,
                limit: limits.max_module_bytes as u64,
            });
        }
        if r.array::<4>().ok() != Some(MAGIC) {
            return Err(ModuleError {
                offset: 0,
                kind: ModuleErrorKind::BadMagic,
            });
        }
        let version = r.u16()?;
        if version != VERSION || r.u16()? != 0 {
            return Err(ModuleError {
                offset: 4,
                kind: ModuleErrorKind::UnsupportedVersion(version),
            });
        }
        let mut m = Module::default();
        for (id, name) in SECTIONS {
            let found = r.u8()?;
            if found != id {
                return Err(ModuleError {
                    offset: r.pos - 1,
                    kind: ModuleErrorKind::SectionOrder {
                        expected: id,
                        found,
                    },
                });
            }
            let len = r.u32()? as usize;
            let start = r.pos;
            let body = r.take(len)?;
            let mut s = Reader {
                bytes: &bytes[..start + body.len()],
                pos: start,
            };
            match id {
                1 => {
                    let n = s.count("constants", limits.max_constants, 16)?;
                    m.constants.reserve_exact(n);
                    for _ in 0..n {
                        m.constants.push(i128::from_le_bytes(s.array()?));
                    }
                }
                2 => {
                    let n = s.count("functions", limits.max_functions, 8)?;
                    m.functions.reserve_exact(n);
                    for index in 0..n {
                        let params = s.u8()?;
                        let returns = s.u8()?;
                        let registers = s.u16()?;
                        if registers == 0 || registers > 256 {
                            return s.fail(ModuleErrorKind::BadRegisterCount(registers));
                        }
                        let count = s.u8()? as usize;
                        if count > limits.max_arrays as usize {
                            return s.fail(ModuleErrorKind::TooMany {
                                what: "arrays",
                                count: count as u64,
                                limit: limits.max_arrays as u64,
                            });
                        }
                        let mut arrays = Vec::with_capacity(count);
                        let mut words = 0u64;
                        for _ in 0..count {
                            let n = s.u32()?;
                            words += n as u64;
                            if n == 0 || words > limits.max_array_words as u64 {
                                return s.fail(ModuleErrorKind::BadArrays { function: index });
                            }
                            arrays.push(n);
                        }
                        let len = s.count("instructions", limits.max_code_len, WORD)?;
                        let mut code = Vec::with_capacity(len);
                        for pc in 0..len {
                            let at = s.pos;
                            let instr = Instr::decode(s.array()?).map_err(|error| ModuleError {
                                offset: at,
                                kind: ModuleErrorKind::BadInstruction {
                                    function: index,
                                    pc,
                                    error,
                                },
                            })?;
                            code.push(instr);
                        }
                        m.functions.push(Function {
                            params,
                            returns,
                            registers,
                            arrays,
                            code,
                        });
                    }
                }
                3 => {
                    let n = s.count("exports", limits.max_exports, 8)?;
                    for _ in 0..n {
                        let name = s.name(limits)?;
                        let function = s.u32()?;
                        let params = s.types()?;
                        let returns = s.types()?;
                        m.exports.push(Export {
                            name,
                            function,
                            params,
                            returns,
                        });
                    }
                }
                4 => {
                    let n = s.count("events", limits.max_events, 2)?;
                    for _ in 0..n {
                        m.events.push(s.name(limits)?);
                    }
                }
                6 => {
                    let n = s.count("imports", MAX_ABI_ENTRIES, 7)?;
                    for _ in 0..n {
                        let interface = s.name(limits)?;
                        let name = s.name(limits)?;
                        let params = s.types()?;
                        let returns = s.types()?;
                        let view = match s.u8()? {
                            0 => false,
                            1 => true,
                            b => return s.fail(ModuleErrorKind::BadType(b)),
                        };
                        m.imports.push(Import {
                            interface,
                            name,
                            params,
                            returns,
                            view,
                        });
                    }
                }
                7 => m.abi = Abi::decode(&mut s, limits)?,
                _ => {
                    let n = s.count("debug entries", limits.max_debug_entries, 16)?;
                    m.debug.reserve_exact(n);
                    for _ in 0..n {
                        let (function, pc, line, col) = (s.u32()?, s.u32()?, s.u32()?, s.u32()?);
                        m.debug.push(DebugEntry {
                            function,
                            pc,
                            line,
                            col,
                        });
                    }
                }
            }
            if s.pos != start + len {
                return Err(ModuleError {
                    offset: s.pos,
                    kind: ModuleErrorKind::SectionLength(name),
                });
            }
        }
        if r.remaining() != 0 {
            return r.fail(ModuleErrorKind::TrailingBytes);
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::super::opcode::Opcode;
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Module {
        Module {
            constants: vec![1, -2, i128::MAX],
            functions: vec![Function {
                params: 2,
                returns: 1,
                registers: 3,
                arrays: vec![],
                code: vec![
                    Instr::new(Opcode::Mul, 2, 0, 1, 0),
                    Instr::new(Opcode::Return, 2, 1, 0, 0),
                ],
            }],
            exports: vec![Export {
                name: "price".into(),
                function: 0,
                params: vec![ValueType::Fx, ValueType::Fx],
                returns: vec![ValueType::Fx],
            }],
            events: vec!["Priced".into()],
            debug: vec![DebugEntry {
                function: 0,
                pc: 0,
                line: 3,
                col: 9,
            }],
            imports: vec![Import {
                interface: "Feed".into(),
                name: "price".into(),
                params: vec![],
                returns: vec![ValueType::Fx],
                view: true,
            }],
            abi: Abi {
                functions: vec![AbiFunction {
                    name: "price".into(),
                    params: vec![AbiField {
                        name: "x".into(),
                        ty: "fx".into(),
                    }],
                    returns: vec![AbiField::default()],
                    view: true,
                    doc: "The price.".into(),
                }],
                errors: vec![AbiError {
                    code: 1,
                    message: "size must be positive".into(),
                }],
                storage: vec![AbiStorage {
                    name: "positions.size".into(),
                    space: 65_536,
                    ty: "map<address, fx>".into(),
                }],
                ..Abi::default()
            },
        }
    }

    #[test]
    fn encode_decode_round_trip() {
        let m = sample();
        let bytes = m.encode();
        assert_eq!(Module::decode(&bytes), Ok(m));
        assert_eq!(
            Module::decode(&Module::default().encode()),
            Ok(Module::default())
        );
    }

    #[test]
    fn rejects_what_is_not_canonical() {
        let bytes = sample().encode();
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            Module::decode(&trailing).unwrap_err().kind,
            ModuleErrorKind::TrailingBytes
        );
        assert_eq!(
            Module::decode(&bytes[..10]).unwrap_err().kind,
            ModuleErrorKind::Truncated
        );
        assert_eq!(
            Module::decode(b"nope").unwrap_err().kind,
            ModuleErrorKind::BadMagic
        );
        // A count far beyond the remaining bytes is refused before anything is reserved.
        let mut huge = Module::default().encode();
        huge[13..17].copy_from_slice(&60_000u32.to_le_bytes());
        assert!(Module::decode(&huge).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn decoding_random_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(m) = Module::decode(&bytes) {
                prop_assert_eq!(m.encode(), bytes);
            }
        }

        #[test]
        fn decoding_mutated_modules_never_panics(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
            let mut bytes = sample().encode();
            for (at, v) in flips {
                let n = bytes.len();
                bytes[at % n] = v;
            }
            if let Ok(m) = Module::decode(&bytes) {
                prop_assert_eq!(m.encode(), bytes);
            }
        }
    }
}
