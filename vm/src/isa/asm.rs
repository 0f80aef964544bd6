//! Text assembly (`.sasm`): write modules by hand, read disassembly back.
//!
//! ```text
//! ; comments run from ';' to the end of the line
//! .const HALF 0.5                  ; fx literal (decimal, exact round to nearest)
//! .const N 42                      ; int literal
//! .const RAW 0x00000000000000018000000000000000   ; raw 128-bit bits
//! .event Priced
//! .func square(fx) -> (fx) regs 2 export   ; exported under its own name
//!     MUL r1, r0, r0
//!     RET r1, 1
//! .func helper(_, _) -> (_) regs 3         ; not exported: types may be '_'
//! loop:                                    ; labels end with ':'
//!     BLT r0, r1, @loop
//!     ...
//! .export sq square                        ; a further export of a typed function
//! ```
//!
//! Operands follow each opcode's operand roles (`spec/OPCODES.md`), in word order a, b, c, imm: registers `r0`..`r255`;
//! integers in decimal or `0x` hex; constants as `k3`, a `.const` name, or a literal (added
//! to the pool); events as `e0` or a name; functions by name (private functions may be
//! named `$f2` and the like); jump targets as `@label`. `.loc LINE COL` attaches a source
//! position to the next instruction. `.export NAME FUNCTION [(TYPES) -> (TYPES)]` exports
//! a function again (by default with its header's types).
//!
//! Guarantee: for every module `m` that verifies, `assemble(&disassemble(&m)) == Ok(m)`.

use super::instr::Instr;
use super::module::{DebugEntry, Export, Function, Module, ValueType};
use super::opcode::Opcode;
use super::roles::Role;
use crate::math::Fx;
use std::collections::HashMap;
use std::fmt;

/// An assembly error, with the 1-based line where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsmError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for AsmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for AsmError {}

/// A function being assembled: instructions whose label, function and event operands are
/// resolved once the whole text has been read.
struct PendingFunction {
    name: String,
    line: usize,
    params: Vec<Option<ValueType>>,
    returns: Vec<Option<ValueType>>,
    registers: u16,
    arrays: Vec<u32>,
    export: bool,
    labels: HashMap<String, usize>,
    code: Vec<(usize, Opcode, [u8; 3], Operand)>,
}

/// An immediate that may need resolving later.
enum Operand {
    Value(i32),
    Label(String),
    Function(String),
    Event(String),
}

/// `.export NAME FUNCTION [signature]`: line, name, function, explicit types.
type ExtraExport = (
    usize,
    String,
    String,
    Option<(Vec<ValueType>, Vec<ValueType>)>,
);

struct Assembler {
    module: Module,
    const_names: HashMap<String, u32>,
    functions: Vec<PendingFunction>,
    extra_exports: Vec<ExtraExport>,
    pending_loc: Option<(u32, u32)>,
}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, AsmError> {
    Err(AsmError {
        line,
        message: message.into(),
    })
}

/// Parses an integer literal: decimal or 0x hex, optionally negative.
fn parse_int(text: &str) -> Option<i128> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let magnitude = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(hex) => u128::from_str_radix(&hex.replace('_', ""), 16).ok()?,
        None if !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit()) => {
            body.parse::<u128>().ok()?
        }
        None => return None,
    };
    if neg {
        0i128.checked_sub_unsigned(magnitude)
    } else {
        // Hex spells raw bits, so 0x8000... is i128::MIN; decimal must fit.
        if body.starts_with("0x") || body.starts_with("0X") {
            Some(magnitude as i128)
        } else {
            i128::try_from(magnitude).ok()
        }
    }
}

/// A constant literal: integer (decimal or hex raw bits) or fx decimal.
fn parse_literal(text: &str) -> Result<i128, String> {
    if let Some(v) = parse_int(text) {
        return Ok(v);
    }
    text.parse::<Fx>()
        .map(Fx::to_bits)
        .map_err(|e| format!("{text:?} is not a number ({e})"))
}

fn parse_types(text: &str, line: usize) -> Result<Vec<Option<ValueType>>, AsmError> {
    let inner = text
        .trim()
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'));
    let Some(inner) = inner else {
        return err(
            line,
            format!("expected a parenthesised type list, found {text:?}"),
        );
    };
    if inner.trim().is_empty() {
        return Ok(Vec::new());
    }
    inner
        .split(',')
        .map(|t| match t.trim() {
            "_" => Ok(None),
            name => ValueType::from_name(name).map(Some).ok_or(()).or_else(|_| {
                err(
                    line,
                    format!("unknown type {name:?} (expected int, fx, bool, address or _)"),
                )
            }),
        })
        .collect()
}

fn register(text: &str, line: usize) -> Result<u8, AsmError> {
    match text
        .strip_prefix('r')
        .or_else(|| text.strip_prefix('R'))
        .and_then(|n| n.parse::<u8>().ok())
    {
        Some(r) => Ok(r),
        None => err(
            line,
            format!("expected a register r0..r255, found {text:?}"),
        ),
    }
}

fn small(text: &str, line: usize, what: &str) -> Result<u8, AsmError> {
    match text.parse::<u8>() {
        Ok(v) => Ok(v),
        Err(_) => err(
            line,
            format!("expected a {what} count 0..=255, found {text:?}"),
        ),
    }
}

impl Assembler {
    fn constant(&mut self, text: &str, line: usize) -> Result<i32, AsmError> {
        let index = if let Some(&i) = self.const_names.get(text) {
            i
        } else if let Some(i) = text.strip_prefix('k').and_then(|n| n.parse::<u32>().ok()) {
            i
        } else {
            let value = parse_literal(text).or_else(|m| err(line, m))?;
            match self.module.constants.iter().position(|&c| c == value) {
                Some(i) => i as u32,
                None => {
                    self.module.constants.push(value);
                    (self.module.constants.len() - 1) as u32
                }
            }
        };
        i32::try_from(index).or_else(|_| err(line, "constant index too large"))
    }

    fn directive(&mut self, words: &str, line: usize) -> Result<(), AsmError> {
        let (name, rest) = words.split_once(char::is_whitespace).unwrap_or((words, ""));
        let rest = rest.trim();
        match name {
            ".const" => {
                let (cname, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                if cname.is_empty() || value.trim().is_empty() {
                    return err(line, ".const needs a name and a value");
                }
                let v = parse_literal(value.trim()).or_else(|m| err(line, m))?;
                self.module.constants.push(v);
                let index = (self.module.constants.len() - 1) as u32;
                if let Some(n) = cname.strip_prefix('k').and_then(|n| n.parse::<u32>().ok()) {
                    if n != index {
                        return err(line, format!("constant {cname} would be index {index}: a name kN must be index N"));
                    }
                }
                if self.const_names.insert(cname.to_string(), index).is_some() {
                    return err(line, format!("constant {cname:?} is defined twice"));
                }
            }
            ".event" => {
                if rest.is_empty() || rest.contains(char::is_whitespace) {
                    return err(line, ".event needs one name");
                }
                self.module.events.push(rest.to_string());
            }
            ".func" => self.function_header(rest, line)?,
            ".import" => {
                // .import [view] INTERFACE.NAME (TYPES) -> (TYPES)
                let (view, rest) = match rest.strip_prefix("view ") {
                    Some(r) => (true, r.trim()),
                    None => (false, rest),
                };
                let (path, sig) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                let (interface, name) = path
                    .split_once('.')
                    .ok_or(())
                    .or_else(|_| err(line, ".import needs INTERFACE.NAME (TYPES) -> (TYPES)"))?;
                let (p, r) = sig
                    .split_once("->")
                    .ok_or(())
                    .or_else(|_| err(line, "expected (TYPES) -> (TYPES)"))?;
                let typed = |ts: Vec<Option<ValueType>>| ts.into_iter().collect::<Option<Vec<_>>>();
                let (Some(params), Some(returns)) =
                    (typed(parse_types(p, line)?), typed(parse_types(r, line)?))
                else {
                    return err(line, "import types cannot be '_'");
                };
                self.module.imports.push(crate::isa::Import {
                    interface: interface.to_string(),
                    name: name.to_string(),
                    params,
                    returns,
                    view,
                });
            }
            ".export" => {
                // .export NAME FUNCTION [(TYPES) -> (TYPES)]
                let mut parts = rest.splitn(3, char::is_whitespace);
                let (Some(export), Some(func)) = (parts.next(), parts.next()) else {
                    return err(line, ".export needs an export name and a function name");
                };
                let signature = match parts.next().map(str::trim) {
                    None | Some("") => None,
                    Some(sig) => {
                        let (p, r) = sig
                            .split_once("->")
                            .ok_or(())
                            .or_else(|_| err(line, "expected (TYPES) -> (TYPES)"))?;
                        let typed =
                            |ts: Vec<Option<ValueType>>| ts.into_iter().collect::<Option<Vec<_>>>();
                        match (typed(parse_types(p, line)?), typed(parse_types(r, line)?)) {
                            (Some(p), Some(r)) => Some((p, r)),
                            _ => return err(line, "export types cannot be '_'"),
                        }
                    }
                };
                self.extra_exports
                    .push((line, export.to_string(), func.to_string(), signature));
            }
            ".loc" => {
                let mut parts = rest.split_whitespace().map(str::parse::<u32>);
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(Ok(l)), Some(Ok(c)), None) => self.pending_loc = Some((l, c)),
                    _ => return err(line, ".loc needs a line and a column"),
                }
            }
            other => return err(line, format!("unknown directive {other}")),
        }
        Ok(())
    }

    /// `.func NAME(TYPES) -> (TYPES) regs N [arrays LEN...] [export]`
    fn function_header(&mut self, text: &str, line: usize) -> Result<(), AsmError> {
        let open = text
            .find('(')
            .ok_or(())
            .or_else(|_| err(line, ".func needs NAME(params) -> (returns) regs N"))?;
        let name = text[..open].trim().to_string();
        let close = text[open..]
            .find(')')
            .map(|i| open + i)
            .ok_or(())
            .or_else(|_| err(line, "unclosed parameter list"))?;
        let params = parse_types(&text[open..=close], line)?;
        let rest = text[close + 1..].trim();
        let rest = rest
            .strip_prefix("->")
            .ok_or(())
            .or_else(|_| err(line, "expected '->' after the parameters"))?
            .trim();
        let rclose = rest
            .find(')')
            .ok_or(())
            .or_else(|_| err(line, "expected a parenthesised return list"))?;
        let returns = parse_types(&rest[..=rclose], line)?;
        let mut words = rest[rclose + 1..].split_whitespace();
        let registers = match (words.next(), words.next().map(str::parse::<u16>)) {
            (Some("regs"), Some(Ok(n))) if (1..=256).contains(&n) => n,
            _ => return err(line, "expected 'regs N' with N in 1..=256"),
        };
        let mut words = words.peekable();
        let mut arrays = Vec::new();
        if words.next_if_eq(&"arrays").is_some() {
            while let Some(len) = words.next_if(|w| *w != "export") {
                match len.parse::<u32>() {
                    Ok(n) if n >= 1 => arrays.push(n),
                    _ => return err(line, format!("array length {len:?} is not a number >= 1")),
                }
            }
            if arrays.is_empty() {
                return err(line, "'arrays' needs at least one length");
            }
        }
        let export = match words.next() {
            None => false,
            Some("export") if words.next().is_none() => true,
            Some(other) => {
                return err(
                    line,
                    format!("unexpected {other:?} after the register count"),
                )
            }
        };
        if name.is_empty() || self.functions.iter().any(|f| f.name == name) {
            return err(
                line,
                format!("function name {name:?} is empty or defined twice"),
            );
        }
        if params.len() > 255 || returns.len() > 255 {
            return err(line, "at most 255 parameters and 255 returns");
        }
        self.functions.push(PendingFunction {
            name,
            line,
            params,
            returns,
            registers,
            arrays,
            export,
            labels: HashMap::new(),
            code: Vec::new(),
        });
        Ok(())
    }

    /// The immediate written as `text`, read by its role.
    fn immediate(&mut self, role: Role, text: &str, line: usize) -> Result<Operand, AsmError> {
        let index = |prefix: Option<char>, what: &str| {
            let digits = match prefix {
                Some(p) => text.strip_prefix(p),
                None => Some(text),
            };
            digits
                .and_then(parse_int)
                .and_then(|v| i32::try_from(v).ok())
                .filter(|v| *v >= 0)
                .map(Operand::Value)
                .ok_or(())
                .or_else(|_| err(line, format!("expected {what}, found {text:?}")))
        };
        Ok(match role {
            Role::Unused | Role::Args | Role::Results | Role::Write | Role::Key | Role::Window => {
                Operand::Value(0)
            }
            Role::Read => Operand::Value(i32::from(register(text, line)?)),
            Role::Int | Role::Code => {
                let v = parse_int(text)
                    .ok_or(())
                    .or_else(|_| err(line, format!("expected an integer, found {text:?}")))?;
                let v = if role == Role::Code {
                    u32::try_from(v).map(|c| c as i32).ok()
                } else {
                    i32::try_from(v).ok()
                };
                Operand::Value(
                    v.ok_or(()).or_else(|_| {
                        err(line, format!("{text} does not fit the 32-bit immediate"))
                    })?,
                )
            }
            Role::Space => index(None, "a storage space 0..=2147483647")?,
            Role::Array => index(Some('a'), "an array a0, a1, ...")?,
            Role::Import => index(Some('i'), "an import i0, i1, ...")?,
            Role::Const => Operand::Value(self.constant(text, line)?),
            Role::Jump => match text.strip_prefix('@') {
                Some(label) => Operand::Label(label.to_string()),
                None => {
                    return err(
                        line,
                        format!("expected a jump target @label, found {text:?}"),
                    )
                }
            },
            Role::Function => Operand::Function(text.to_string()),
            Role::Event => Operand::Event(text.to_string()),
            Role::Native => Operand::Value(
                crate::native::Native::from_name(text)
                    .map(|n| n.info().id as i32)
                    .ok_or(())
                    .or_else(|_| err(line, format!("no native named {text:?}")))?,
            ),
        })
    }

    fn instruction(&mut self, text: &str, line: usize) -> Result<(), AsmError> {
        let (mnemonic, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        let op = Opcode::from_mnemonic(mnemonic)
            .ok_or(())
            .or_else(|_| err(line, format!("unknown mnemonic {mnemonic:?}")))?;
        let ops: Vec<&str> = if rest.trim().is_empty() {
            Vec::new()
        } else {
            rest.split(',').map(str::trim).collect()
        };
        let roles = op.operands();
        if ops.len() != roles.used() {
            return err(
                line,
                format!(
                    "{} takes {} operands ({}), found {}",
                    op.info().mnemonic,
                    roles.used(),
                    roles.syntax(),
                    ops.len()
                ),
            );
        }
        // Operands are written in word order a, b, c, imm, skipping unused fields.
        let mut texts = ops.into_iter();
        let mut abc = [0u8; 3];
        for (slot, role) in abc.iter_mut().zip([roles.a, roles.b, roles.c]) {
            if role == Role::Unused {
                continue;
            }
            let Some(t) = texts.next() else {
                return err(line, "missing operand");
            };
            *slot = match role {
                Role::Args => small(t, line, "value")?,
                Role::Results => small(t, line, "result")?,
                _ => register(t, line)?,
            };
        }
        let operand = match (roles.imm, texts.next()) {
            (Role::Unused, _) | (_, None) => Operand::Value(0),
            (role, Some(t)) => self.immediate(role, t, line)?,
        };
        let Some(func) = self.functions.last_mut() else {
            return err(line, "instruction outside a .func");
        };
        if let Some((l, c)) = self.pending_loc.take() {
            let pc = func.code.len() as u32;
            let function = (self.functions.len() - 1) as u32;
            self.module.debug.push(DebugEntry {
                function,
                pc,
                line: l,
                col: c,
            });
        }
        let Some(func) = self.functions.last_mut() else {
            return err(line, "instruction outside a .func");
        };
        func.code.push((line, op, abc, operand));
        Ok(())
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "`index` was resolved from `self.functions` by name"
    )]
    fn finish(mut self) -> Result<Module, AsmError> {
        let names: HashMap<String, usize> = self
            .functions
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        let function_index = |text: &str, line: usize| -> Result<i32, AsmError> {
            match names.get(text) {
                Some(&i) => Ok(i as i32),
                None => err(line, format!("unknown function {text:?}")),
            }
        };
        let events = self.module.events.clone();
        for (index, f) in self.functions.iter().enumerate() {
            let mut code = Vec::with_capacity(f.code.len());
            for (pc, (line, op, abc, operand)) in f.code.iter().enumerate() {
                let imm = match operand {
                    Operand::Value(v) => *v,
                    Operand::Label(l) => match f.labels.get(l) {
                        Some(&target) => (target as i64 - pc as i64 - 1) as i32,
                        None => return err(*line, format!("unknown label @{l} in {}", f.name)),
                    },
                    Operand::Function(t) => function_index(t, *line)?,
                    Operand::Event(t) => {
                        match t.strip_prefix('e').and_then(|n| n.parse::<u32>().ok()) {
                            Some(i) => {
                                i32::try_from(i).or_else(|_| err(*line, "event index too large"))?
                            }
                            None => match events.iter().position(|e| e == t) {
                                Some(i) => i as i32,
                                None => return err(*line, format!("unknown event {t:?}")),
                            },
                        }
                    }
                };
                code.push(Instr::new(*op, abc[0], abc[1], abc[2], imm));
            }
            self.module.functions.push(Function {
                params: f.params.len() as u8,
                returns: f.returns.len() as u8,
                registers: f.registers,
                arrays: f.arrays.clone(),
                code,
            });
            if f.export {
                let export = typed_export(f, f.name.clone(), index)?;
                self.module.exports.push(export);
            }
        }
        for (line, export, func, signature) in &self.extra_exports {
            let index = function_index(func, *line)? as usize;
            let e = match signature {
                Some((params, returns)) => Export {
                    name: export.clone(),
                    function: index as u32,
                    params: params.clone(),
                    returns: returns.clone(),
                },
                None => typed_export(&self.functions[index], export.clone(), index)?,
            };
            self.module.exports.push(e);
        }
        Ok(self.module)
    }
}

fn typed_export(f: &PendingFunction, name: String, index: usize) -> Result<Export, AsmError> {
    let typed = |ts: &[Option<ValueType>]| ts.iter().copied().collect::<Option<Vec<_>>>();
    match (typed(&f.params), typed(&f.returns)) {
        (Some(params), Some(returns)) => Ok(Export {
            name,
            function: index as u32,
            params,
            returns,
        }),
        _ => err(
            f.line,
            format!(
                "exported function {} needs every type spelled out (no '_')",
                f.name
            ),
        ),
    }
}

/// Assembles `.sasm` text into a module (not yet verified).
pub fn assemble(text: &str) -> Result<Module, AsmError> {
    let mut asm = Assembler {
        module: Module::default(),
        const_names: HashMap::new(),
        functions: Vec::new(),
        extra_exports: Vec::new(),
        pending_loc: None,
    };
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let code = raw.split(';').next().unwrap_or("").trim();
        if code.is_empty() {
            continue;
        }
        if code.starts_with('.') {
            asm.directive(code, line)?;
        } else if let Some(label) = code.strip_suffix(':') {
            let Some(f) = asm.functions.last_mut() else {
                return err(line, "label outside a .func");
            };
            if label.is_empty() || label.contains(char::is_whitespace) {
                return err(line, format!("bad label {label:?}"));
            }
            let pc = f.code.len();
            if f.labels.insert(label.to_string(), pc).is_some() {
                return err(line, format!("label {label:?} is defined twice"));
            }
        } else {
            asm.instruction(code, line)?;
        }
    }
    asm.finish()
}
