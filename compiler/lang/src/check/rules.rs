//! The typing rules the passes share: literals and their ranges, type expressions, array
//! lengths, and the mismatch diagnostic.

use super::{SlotType, Type};
use crate::ast::*;
use crate::diag::{codes, Diagnostic};
use strike_vm::math::Fx;

/// The value of a literal, or of `-` written before a decimal literal (so that the most
/// negative values, `-9223372036854775808.0` and `-170141183460469231731687303715884105728`,
/// can be written). None when `e` is not one; Some(None) when it is out of range.
pub fn literal(e: &Expr) -> Option<Option<i128>> {
    let parse = |kind: &ExprKind, negative: bool| -> Option<Option<i128>> {
        let sign = if negative { "-" } else { "" };
        match kind {
            ExprKind::Int(text) => {
                let clean = text.replace('_', "");
                Some(match clean.strip_prefix("0x") {
                    Some(_) if negative => return None,
                    Some(hex) => u128::from_str_radix(hex, 16).ok().map(|v| v as i128),
                    None => format!("{sign}{clean}").parse::<i128>().ok(),
                })
            }
            ExprKind::Fx(text) => Some(
                format!("{sign}{}", text.replace('_', ""))
                    .parse::<Fx>()
                    .ok()
                    .map(Fx::to_bits),
            ),
            ExprKind::Bool(b) if !negative => Some(Some(*b as i128)),
            _ => None,
        }
    };
    match &e.kind {
        ExprKind::Unary {
            op: UnaryOp::Neg,
            expr,
        } => parse(&expr.kind, true),
        kind => parse(kind, false),
    }
}

/// The length of `[fill; length]` when it is in 1..=MAX_ARRAY_WORDS.
pub fn array_length(length: &str) -> Option<u32> {
    let e = Expr::new(ExprKind::Int(length.to_string()), Span::default());
    literal(&e)
        .flatten()
        .filter(|n| (1..=MAX_ARRAY_WORDS as i128).contains(n))
        .map(|n| n as u32)
}

/// The longest array a function may declare, and the most elements all its arrays may
/// hold together (the VM's `Limits::max_array_words`).
pub const MAX_ARRAY_WORDS: u32 = 1 << 16;
/// The most arrays one function may declare (the VM's `Limits::max_arrays`).
pub const MAX_ARRAYS: u32 = 16;

pub(super) fn resolve_type(t: &TypeExpr, diags: &mut Vec<Diagnostic>) -> Option<SlotType> {
    match t {
        TypeExpr::Named(id) => {
            let ty = match id.name.as_str() {
                "int" => Type::Int,
                "fx" => Type::Fx,
                "bool" => Type::Bool,
                "address" => Type::Address,
                other => {
                    diags.push(
                        Diagnostic::new(
                            codes::BAD_TYPE,
                            format!("unknown type `{other}`"),
                            id.span,
                            "not a type",
                        )
                        .help("the types are int, fx, bool, address and, for storage, map<K, V>"),
                    );
                    return None;
                }
            };
            Some(SlotType::Value(ty))
        }
        TypeExpr::Map { key, value, span } => {
            let k = resolve_value_type(key, diags)?;
            let v = resolve_value_type(value, diags)?;
            if k == Type::Bool {
                diags.push(
                    Diagnostic::new(
                        codes::BAD_TYPE,
                        "a map key cannot be bool",
                        *span,
                        "bool key",
                    )
                    .help("use int, address or fx keys"),
                );
                return None;
            }
            Some(SlotType::Map(k, v))
        }
    }
}

pub(super) fn resolve_value_type(t: &TypeExpr, diags: &mut Vec<Diagnostic>) -> Option<Type> {
    match resolve_type(t, diags)? {
        SlotType::Value(ty) => Some(ty),
        SlotType::Map(..) => {
            let span = match t {
                TypeExpr::Map { span, .. } => *span,
                TypeExpr::Named(id) => id.span,
            };
            diags.push(
                Diagnostic::new(
                    codes::MAP_USE,
                    "a map can only be a storage variable",
                    span,
                    "map here",
                )
                .help("declare it as `storage name: map<K, V>;`"),
            );
            None
        }
    }
}

pub(super) fn mismatch(expected: Type, found: Type, span: Span) -> Diagnostic {
    let d = Diagnostic::new(
        codes::TYPE_MISMATCH,
        format!("expected {}, found {}", expected.name(), found.name()),
        span,
        format!("this is {}", found.name()),
    );
    match (expected, found) {
        (Type::Fx, Type::Int) => {
            d.help("write an fx literal with a point (2.0), or convert with to_fx(...)")
        }
        (Type::Int, Type::Fx) => {
            d.help("convert with to_int(...), which rounds toward minus infinity")
        }
        _ => d,
    }
}
