//! The ABI of a compiled contract ([`strike_vm::isa::Abi`]): built from the source as
//! written (struct parameters stay structs, fields keep their names) and the checker's
//! answer (the storage layout, as `crate::structs` laid it out), in the module's export
//! and event order, so tools can name every value a receipt holds.

use crate::ast::*;
use crate::check::{literal, Program, SlotType};
use strike_vm::isa::abi::{Abi, AbiError, AbiEvent, AbiField, AbiFunction, AbiStorage, AbiStruct};
use strike_vm::isa::Export;

/// A type as source writes it.
pub fn type_text(t: &TypeExpr) -> String {
    match t {
        TypeExpr::Named(n) => n.name.clone(),
        TypeExpr::Map { key, value, .. } => {
            format!("map<{}, {}>", type_text(key), type_text(value))
        }
    }
}

fn fields(params: &[Param]) -> Vec<AbiField> {
    params
        .iter()
        .map(|p| AbiField {
            name: p.name.name.clone(),
            ty: type_text(&p.ty),
        })
        .collect()
}

/// The ABI of the module whose exports are `exports`, compiled from `original` (the file
/// before `structs::desugar`) and `desugared` (what was checked into `program`).
pub fn build(
    original: &SourceFile,
    desugared: &SourceFile,
    program: &Program,
    exports: &[Export],
) -> Abi {
    let mut abi = Abi::default();
    for e in exports {
        let f = original.items.iter().find_map(|i| match i {
            Item::Function(f) if f.name.name == e.name => Some(f),
            _ => None,
        });
        abi.functions.push(match f {
            Some(f) => AbiFunction {
                name: e.name.clone(),
                params: fields(&f.params),
                returns: f
                    .returns
                    .iter()
                    .map(|t| AbiField {
                        name: String::new(),
                        ty: type_text(t),
                    })
                    .collect(),
                view: false,
                doc: f.doc.join("\n"),
            },
            None => AbiFunction {
                name: e.name.clone(),
                ..AbiFunction::default()
            },
        });
    }
    // Events from the checked file: a struct field appears as its fields (`p.size`), one
    // per value EMIT carries.
    for ev in &program.events {
        let decl = desugared.items.iter().find_map(|i| match i {
            Item::Event(d) if d.name.name == ev.name => Some(d),
            _ => None,
        });
        abi.events.push(AbiEvent {
            name: ev.name.clone(),
            fields: decl.map(|d| fields(&d.fields)).unwrap_or_default(),
        });
    }
    for item in &original.items {
        if let Item::Struct(s) = item {
            abi.structs.push(AbiStruct {
                name: s.name.name.clone(),
                fields: fields(&s.fields),
            });
        }
    }
    for v in &program.storage {
        abi.storage.push(AbiStorage {
            name: v.name.clone(),
            space: v.space,
            ty: match v.ty {
                SlotType::Value(t) => t.name().to_string(),
                SlotType::Map(k, t) => format!("map<{}, {}>", k.name(), t.name()),
            },
        });
    }
    for item in &desugared.items {
        if let Item::Function(f) = item {
            messages(&f.body, &mut abi.errors);
        }
    }
    abi.errors.sort_by_key(|e| e.code);
    abi
}

/// The revert codes of `require` and `revert` with their messages, the first message of
/// each code kept (a code written with two messages is reported by its first).
fn messages(b: &Block, out: &mut Vec<AbiError>) {
    for s in &b.stmts {
        let (code, message) = match s {
            Stmt::Require { code, message, .. } | Stmt::Revert { code, message, .. } => {
                (code, message)
            }
            _ => {
                for inner in s.blocks() {
                    messages(inner, out);
                }
                continue;
            }
        };
        let (Some(message), Some(Some(code))) = (message, literal(code)) else {
            continue;
        };
        let Ok(code) = u32::try_from(code) else {
            continue;
        };
        if !out.iter().any(|e| e.code == code) {
            out.push(AbiError {
                code,
                message: message.clone(),
            });
        }
    }
}
