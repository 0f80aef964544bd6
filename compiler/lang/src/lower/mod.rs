//! Code generation: a checked program in, a verified-ready [`Module`] out.
//!
//! It reads the checker's answer ([`Program`]): every expression's type and every name's
//! referent come from its tables, never from a second resolver. One pass over each
//! function, in the manner of Lua 5.4's compiler, in three files: `emit.rs` (the emitter
//! primitives every statement goes through: instructions, registers, labels, known
//! constants), `expr.rs` (expressions, calls, branches, folding) and `stmt.rs`
//! (statements and assignments).
//!
//! - **Registers.** Parameters are r0..; every `let` binds the next free register for the
//!   rest of its block (locals never move); temporaries are a stack above the locals,
//!   freed as soon as the instruction that reads them is emitted. Results are written
//!   straight to their destination: `let x = a * b` is one `MUL`, a call's result lands in
//!   the register that needs it.
//! - **Folding.** An operation whose operands are all known at compile time is computed
//!   here by the opcode's own function (`Opcode::evaluate`, the VM's semantics), exactly as
//!   the opcode would at run time; if it would fail (overflow, division by zero, a domain
//!   error) it is left to run and revert.
//! - **Fusion** (when [`Options::optimize`]; always within one statement, so inside one
//!   basic block, never across a label): a comparison feeding a branch becomes one
//!   compare-and-branch (`BLT`, `BLE`, `BEQ`, `BNE`); a constant operand becomes an
//!   immediate form (`ADDI`, `ADDK`, `MULK`, `LOADI`, `LOADFX`); a move is elided by writing
//!   the result in place; `s += d` on storage becomes the commutative `SADD` when the function
//!   never otherwise reads `s`.
//!   Without it every constant is loaded into a register, every comparison is
//!   materialised then tested with `JZ`/`JNZ`, every result goes through a temporary and a
//!   `MOV`, and nothing is folded: the differential test runs both and compares.
//! - **Clobbers.** A register known to hold a constant is forgotten when any instruction
//!   writes it, as its opcode's operand roles say (NATIVE's and CALL's whole result
//!   windows included).
//!
//! `(a * b) / c` on fx is *not* rewritten to `MULDIV`: one rounding instead of two, and no
//! overflow of the intermediate product, give different results. Programs ask for the
//! single rounding with `mul_div(a, b, c)`.
//!
//! Evaluation order is the source's: operands left to right, a map key before the value
//! assigned to it, a `for` loop's bounds once, start then end. Every instruction gets a debug
//! entry with the line and column of the expression or statement that produced it.

mod emit;
mod expr;
mod stmt;

use super::ast::*;
use super::check::{FnId, Program, Type};
use super::diag::{codes, Diagnostic};
use super::source::Lines;
use emit::FnGen;
use std::collections::HashMap;
use strike_vm::isa::{DebugEntry, Export, Function, Instr, Limits, Module, Opcode};

/// Code generation choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Fold constants and fuse instructions (the default). Off, the compiler emits the
    /// plainest correct code, for the differential test and for reading.
    pub optimize: bool,
    /// Compile the `#[test]` functions too, each exported under its name (for `strike
    /// test`). Off, they are left out, so no deployed module holds a test or a test builtin.
    pub tests: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            optimize: true,
            tests: false,
        }
    }
}

/// What the whole module's generation shares: the program, which functions are compiled
/// and where, the constant pool, and the diagnostics so far.
struct ModuleGen<'a> {
    program: &'a Program,
    /// The module index of each function compiled.
    functions: HashMap<FnId, u32>,
    constants: Vec<i128>,
    constant_index: HashMap<i128, i32>,
    opts: Options,
    limits: Limits,
    diags: Vec<Diagnostic>,
}

impl ModuleGen<'_> {
    /// The pool index of constant `v`, added if new.
    fn constant(&mut self, v: i128) -> i32 {
        if let Some(&i) = self.constant_index.get(&v) {
            return i;
        }
        let i = self.constants.len() as i32;
        self.constants.push(v);
        self.constant_index.insert(v, i);
        i
    }
}

/// The module-wide limits the verifier and decoder enforce, as diagnostics at the
/// declaration that crosses them.
fn check_module_limits(
    file: &SourceFile,
    module: &Module,
    limits: &Limits,
    diags: &mut Vec<Diagnostic>,
) {
    let mut limit = |span: Span, message: String| {
        diags.push(
            Diagnostic::new(codes::LIMIT, message, span, "beyond the limit")
                .help("split the contract into several contracts"),
        );
    };
    let (mut functions, mut exports, mut events) = (0u32, 0u32, 0u32);
    for item in &file.items {
        let (name, counter, max, what) = match item {
            Item::Function(f) => {
                functions += 1;
                if functions == limits.max_functions + 1 {
                    limit(
                        f.name.span,
                        format!("a contract has at most {} functions", limits.max_functions),
                    );
                }
                if !f.public {
                    continue;
                }
                (
                    &f.name,
                    &mut exports,
                    limits.max_exports,
                    "public functions",
                )
            }
            Item::Event(e) => (&e.name, &mut events, limits.max_events, "events"),
            _ => continue,
        };
        *counter += 1;
        if *counter == max + 1 {
            limit(name.span, format!("a contract has at most {max} {what}"));
        }
        if name.name.len() > limits.max_name_len as usize {
            limit(
                name.span,
                format!(
                    "the name of a public function or event is at most {} bytes, this one {}",
                    limits.max_name_len,
                    name.name.len()
                ),
            );
        }
    }
    if module.debug.len() > limits.max_debug_entries as usize {
        limit(
            Span::default(),
            format!(
                "the contract compiles to more than {} instructions",
                limits.max_debug_entries
            ),
        );
    } else if module.encode().len() > limits.max_module_bytes {
        limit(
            Span::default(),
            format!(
                "the compiled module is larger than {} bytes",
                limits.max_module_bytes
            ),
        );
    }
}

/// Compiles a checked file (one with no diagnostics) and the checker's answer for it to a
/// module. Errors are limits of the VM the program exceeds, and revert codes that are not
/// constants.
pub fn lower(
    file: &SourceFile,
    program: &Program,
    source: &str,
    opts: Options,
) -> Result<Module, Vec<Diagnostic>> {
    // The functions compiled, in source order, each with its id.
    let fns: Vec<(&FnDecl, FnId)> = file
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Function(f) if opts.tests || !f.is_test() => {
                Some((f, program.function(&f.name.name)?))
            }
            _ => None,
        })
        .collect();
    let mut m = ModuleGen {
        program,
        functions: fns
            .iter()
            .enumerate()
            .map(|(i, &(_, id))| (id, i as u32))
            .collect(),
        constants: Vec::new(),
        constant_index: HashMap::new(),
        opts,
        limits: Limits::default(),
        diags: Vec::new(),
    };
    let lines = Lines::new(source);
    let mut module = Module {
        events: program.events.iter().map(|e| e.name.clone()).collect(),
        imports: program
            .imports
            .iter()
            .map(|i| strike_vm::isa::Import {
                interface: i.interface.clone(),
                name: i.name.clone(),
                params: i.params.iter().map(|t| t.value_type()).collect(),
                returns: i.returns.iter().map(|t| t.value_type()).collect(),
                view: i.view,
            })
            .collect(),
        ..Module::default()
    };
    for (index, &(f, id)) in fns.iter().enumerate() {
        let Some(def) = program.function_def(id) else {
            continue;
        };
        let (params, returns) = (&def.signature.params, &def.signature.returns);
        if params.len() > 255 || returns.len() > 255 {
            m.diags.push(Diagnostic::new(
                codes::LIMIT,
                "a function takes at most 255 parameters and returns at most 255 values",
                f.name.span,
                "too many",
            ));
            continue;
        }
        let (function, positions) = function(&mut m, &lines, f, id)?;
        for (pc, &(line, col)) in positions.iter().enumerate() {
            module.debug.push(DebugEntry {
                function: index as u32,
                pc: pc as u32,
                line,
                col,
            });
        }
        module.functions.push(function);
        if f.public || f.is_test() {
            module.exports.push(Export {
                name: f.name.name.clone(),
                function: index as u32,
                params: params.iter().map(|&t| t.value_type()).collect(),
                returns: returns.iter().map(|&t| t.value_type()).collect(),
            });
        }
    }
    if m.constants.len() > m.limits.max_constants as usize {
        m.diags.push(Diagnostic::new(
            codes::LIMIT,
            "the contract has more constants than the VM's limit",
            Span::default(),
            "too many constants",
        ));
    }
    module.constants = m.constants;
    check_module_limits(file, &module, &m.limits, &mut m.diags);
    if !m.diags.is_empty() {
        m.diags.sort_by_key(|d| (d.span.start, d.span.end));
        return Err(m.diags);
    }
    Ok(module)
}

/// A compiled function and the source position (line, column) of each instruction.
type Compiled = (Function, Vec<(u32, u32)>);

/// One function's code and the source position of each instruction.
fn function(
    m: &mut ModuleGen<'_>,
    lines: &Lines<'_>,
    f: &FnDecl,
    id: FnId,
) -> Result<Compiled, Vec<Diagnostic>> {
    let program = m.program;
    let def = program.function_def(id).ok_or_else(|| {
        vec![Diagnostic::new(
            codes::INTERNAL,
            "unknown function",
            f.span,
            "here",
        )]
    })?;
    let mut g = FnGen::new(m, lines, def, lines.position(f.span.start));
    for p in &f.params {
        let r = g.alloc(p.name.span);
        g.declare(&p.name, r);
    }
    g.block(&f.body);
    g.finish(&f.body, &f.name)
}

/// The opcode of a binary operator on operands of type `ty`, and whether the operands are
/// swapped (`a > b` is `b < a`).
fn binary_opcode(op: BinOp, ty: Type) -> (Opcode, bool) {
    let fx = ty == Type::Fx;
    match op {
        BinOp::Add => (Opcode::Add, false),
        BinOp::Sub => (Opcode::Sub, false),
        BinOp::Mul => (if fx { Opcode::Mul } else { Opcode::IntMul }, false),
        BinOp::Div => (if fx { Opcode::Div } else { Opcode::IntDiv }, false),
        BinOp::Rem => (Opcode::IntRem, false),
        BinOp::Eq => (Opcode::Eq, false),
        BinOp::Ne => (Opcode::Ne, false),
        BinOp::Lt => (Opcode::Lt, false),
        BinOp::Le => (Opcode::Le, false),
        BinOp::Gt => (Opcode::Lt, true),
        BinOp::Ge => (Opcode::Le, true),
        // Handled by short-circuit code; And/Or on booleans as a fallback.
        BinOp::And => (Opcode::And, false),
        BinOp::Or => (Opcode::Or, false),
    }
}

/// An instruction of `op` with every field given (shorthand for the emitters).
fn instr(op: Opcode, a: u16, b: u16, c: u16, imm: i32) -> Instr {
    Instr::new(op, a as u8, b as u8, c as u8, imm)
}
