//! The disassembler: a module as `.sasm` text that assembles back to the same module.
//!
//! Constants are written as raw hex (exact), with their fx and int readings in a comment;
//! jump targets become labels `L<pc>`; functions are named by their first export, else
//! `$f<index>` (no export can be named so); further exports become `.export` lines; debug entries become `.loc` lines.

use super::instr::Instr;
use super::module::{Module, ValueType};
use super::roles::Role;
use crate::math::Fx;
use std::collections::BTreeSet;
use std::fmt::Write;

fn types(ts: &[ValueType]) -> String {
    ts.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
}

/// The `.sasm` text of `module`. For a module that verifies, assembling it gives `module`.
pub fn disassemble(module: &Module) -> String {
    disassemble_with_source(module, None)
}

/// As [`disassemble`]; with the source text the module was compiled from, each run of
/// instructions from one source line is preceded by that line, as a comment.
pub fn disassemble_with_source(module: &Module, source: Option<&str>) -> String {
    let source_lines: Vec<&str> = source.map_or_else(Vec::new, |s| s.lines().collect());
    let mut debug = module.debug.iter().peekable();
    let mut out = String::new();
    let name_of = |i: usize| -> String {
        module
            .exports
            .iter()
            .find(|e| e.function as usize == i)
            .map_or_else(|| format!("$f{i}"), |e| e.name.clone())
    };
    let _ = writeln!(
        out,
        "; strike module: {} functions, {} constants",
        module.functions.len(),
        module.constants.len()
    );
    for (i, &c) in module.constants.iter().enumerate() {
        let _ = writeln!(
            out,
            ".const k{i} {:#034x} ; fx {} ; int {c}",
            c as u128,
            Fx::from_bits(c)
        );
    }
    for i in &module.imports {
        let _ = writeln!(
            out,
            ".import {}{}.{} ({}) -> ({})",
            if i.view { "view " } else { "" },
            i.interface,
            i.name,
            crate::isa::abi::type_names(&i.params),
            crate::isa::abi::type_names(&i.returns)
        );
    }
    for e in &module.events {
        let _ = writeln!(out, ".event {e}");
    }
    for (index, f) in module.functions.iter().enumerate() {
        let first_export = module.exports.iter().find(|e| e.function as usize == index);
        let name = name_of(index);
        let (params, returns) = match first_export {
            Some(e) => (types(&e.params), types(&e.returns)),
            None => (
                vec!["_"; f.params as usize].join(", "),
                vec!["_"; f.returns as usize].join(", "),
            ),
        };
        let export = if first_export.is_some() {
            " export"
        } else {
            ""
        };
        let arrays: String = f.arrays.iter().map(|n| format!(" {n}")).collect();
        let arrays = if arrays.is_empty() {
            arrays
        } else {
            format!(" arrays{arrays}")
        };
        let _ = writeln!(
            out,
            "\n.func {name}({params}) -> ({returns}) regs {}{arrays}{export}",
            f.registers
        );
        let targets: BTreeSet<usize> = f
            .code
            .iter()
            .enumerate()
            .filter_map(|(pc, i)| i.jump_target(pc))
            .map(|t| t as usize)
            .collect();
        let mut last_line = 0;
        for (pc, instr) in f.code.iter().enumerate() {
            if targets.contains(&pc) {
                let _ = writeln!(out, "L{pc}:");
            }
            // Entries are sorted by (function, pc) in a verified module; skip any behind.
            while debug
                .peek()
                .is_some_and(|d| (d.function as usize, d.pc as usize) < (index, pc))
            {
                debug.next();
            }
            while let Some(d) =
                debug.next_if(|d| d.function as usize == index && d.pc as usize == pc)
            {
                if d.line != last_line {
                    if let Some(text) = source_lines.get((d.line as usize).wrapping_sub(1)) {
                        let _ = writeln!(out, "    ; {:>4} | {}", d.line, text.trim());
                    }
                    last_line = d.line;
                }
                let _ = writeln!(out, "    .loc {} {}", d.line, d.col);
            }
            let info = instr.op.info();
            let operands = operands(*instr, pc, &name_of);
            let _ = writeln!(out, "    {:<8} {operands}", info.mnemonic);
        }
    }
    // Exports beyond each function's first.
    for (k, e) in module.exports.iter().enumerate() {
        let first = module.exports.iter().position(|x| x.function == e.function) == Some(k);
        if !first {
            let (p, r) = (types(&e.params), types(&e.returns));
            let _ = writeln!(
                out,
                ".export {} {} ({p}) -> ({r})",
                e.name,
                name_of(e.function as usize)
            );
        }
    }
    out
}

/// An instruction's operands as assembly: its used fields in word order, each written as
/// its role says.
fn operands(instr: Instr, pc: usize, name_of: &dyn Fn(usize) -> String) -> String {
    let roles = instr.op.operands();
    let fields = [
        (roles.a, i64::from(instr.a)),
        (roles.b, i64::from(instr.b)),
        (roles.c, i64::from(instr.c)),
        (roles.imm, i64::from(instr.imm)),
    ];
    let text = |role: Role, v: i64| match role {
        Role::Read | Role::Write | Role::Key | Role::Window => format!("r{v}"),
        Role::Args | Role::Results | Role::Int | Role::Space => v.to_string(),
        Role::Const => format!("k{v}"),
        Role::Jump => format!("@L{}", pc as i64 + 1 + v),
        Role::Function => name_of(v as usize),
        Role::Event => format!("e{v}"),
        Role::Code => (v as i32 as u32).to_string(),
        Role::Array => format!("a{v}"),
        Role::Import => format!("i{v}"),
        Role::Native => crate::native::Native::from_id(v as u32)
            .map_or("?".to_string(), |n| n.info().name.to_string()),
        Role::Unused => String::new(),
    };
    fields
        .into_iter()
        .filter(|(role, _)| *role != Role::Unused)
        .map(|(role, v)| text(role, v))
        .collect::<Vec<_>>()
        .join(", ")
}
