//! Declarations: storage variables, events and function signatures get their ids, in
//! source order; names are unique and no function takes a builtin's name; attributes are
//! `#[test]` or `#[test(expect_revert = CODE)]` on a private function without parameters
//! or results. Then every body is checked against its own declaration.

use super::rules::{literal, resolve_type, resolve_value_type};
use super::stmt::FnChecker;
use super::{EventDef, FunctionDef, ImportDef, Program, Signature, StorageVar, Type};
use crate::ast::*;
use crate::builtins;
use crate::diag::{codes, Diagnostic};
use std::collections::{BTreeSet, HashMap};

/// Checks a function's attributes: only `#[test]` and `#[test(expect_revert = CODE)]`, on a
/// private function without parameters or results.
fn check_attributes(f: &FnDecl, diags: &mut Vec<Diagnostic>) {
    for (k, a) in f.attrs.iter().enumerate() {
        let bad =
            |message: String, label: &str| Diagnostic::new(codes::TEST_USE, message, a.span, label);
        if a.name.name != "test" {
            diags.push(
                bad(
                    format!("unknown attribute `{}`", a.name.name),
                    "not an attribute",
                )
                .help("the attributes are #[test] and #[test(expect_revert = CODE)]"),
            );
            continue;
        }
        if k > 0 {
            diags.push(bad(
                "a function has at most one attribute".into(),
                "second attribute",
            ));
        }
        if let Some((key, value)) = &a.arg {
            let code = Expr::new(ExprKind::Int(value.clone()), a.span);
            let in_range = literal(&code)
                .flatten()
                .is_some_and(|v| (0..=u32::MAX as i128).contains(&v));
            if key.name != "expect_revert" {
                diags.push(
                    bad(
                        format!("unknown test option `{}`", key.name),
                        "not an option",
                    )
                    .help("write #[test(expect_revert = CODE)]"),
                );
            } else if !in_range {
                diags.push(bad(
                    format!("revert code `{value}` is outside 0..=4294967295"),
                    "not a revert code",
                ));
            }
        }
        if f.public || !f.params.is_empty() || !f.returns.is_empty() {
            diags.push(
                Diagnostic::new(
                    codes::TEST_USE,
                    format!(
                        "test `{}` must be a private function without parameters or results",
                        f.name.name
                    ),
                    f.name.span,
                    "not a test function",
                )
                .help("write `#[test] fn name() { ... }`; `strike test` calls it with fresh state"),
            );
        }
    }
}

/// The declarations of `file`, with the diagnostics they raise.
pub(super) fn declarations(file: &SourceFile, diags: &mut Vec<Diagnostic>) -> Program {
    let mut program = Program::default();
    let mut seen: HashMap<String, Span> = HashMap::new();
    let mut unique = |id: &Ident, diags: &mut Vec<Diagnostic>| match seen.get(&id.name) {
        Some(first) => {
            let first = *first;
            diags.push(
                Diagnostic::new(
                    codes::DUPLICATE,
                    format!("`{}` is defined twice", id.name),
                    id.span,
                    "second definition",
                )
                .related(first, "first defined here")
                .help("rename one of them"),
            );
            false
        }
        None => {
            seen.insert(id.name.clone(), id.span);
            true
        }
    };
    for item in &file.items {
        match item {
            Item::Storage(s) => {
                if let (true, Some(ty)) = (unique(&s.name, diags), resolve_type(&s.ty, diags)) {
                    let space = s.space.unwrap_or(program.storage.len() as u32);
                    program.storage.push(StorageVar {
                        name: s.name.name.clone(),
                        ty,
                        space,
                    });
                }
            }
            Item::Event(e) => {
                let fields: Vec<Option<Type>> = e
                    .fields
                    .iter()
                    .map(|f| resolve_value_type(&f.ty, diags))
                    .collect();
                if unique(&e.name, diags) {
                    program.events.push(EventDef {
                        name: e.name.name.clone(),
                        fields: fields.into_iter().flatten().collect(),
                    });
                }
            }
            Item::Function(f) => {
                let (params, returns) = signature_types(&f.params, &f.returns, diags);
                check_attributes(f, diags);
                if builtins::find(&f.name.name).is_some() {
                    diags.push(Diagnostic::new(
                        codes::DUPLICATE,
                        format!("`{}` is a builtin function", f.name.name),
                        f.name.span,
                        "reserved name",
                    ));
                } else if unique(&f.name, diags) {
                    program.functions.push(FunctionDef {
                        name: f.name.name.clone(),
                        signature: Signature {
                            public: f.public,
                            params,
                            returns,
                            test: f.is_test(),
                        },
                        locals: Vec::new(),
                        reads_storage: BTreeSet::new(),
                    });
                }
            }
            Item::Interface(i) => {
                if !unique(&i.name, diags) {
                    continue;
                }
                let mut names = HashMap::new();
                for f in &i.functions {
                    let (params, returns) = signature_types(&f.params, &f.returns, diags);
                    if let Some(first) = names.insert(f.name.name.clone(), f.name.span) {
                        diags.push(
                            Diagnostic::new(
                                codes::DUPLICATE,
                                format!("`{}` is declared twice in `{}`", f.name.name, i.name.name),
                                f.name.span,
                                "second declaration",
                            )
                            .related(first, "first declared here"),
                        );
                        continue;
                    }
                    program.imports.push(ImportDef {
                        interface: i.name.name.clone(),
                        name: f.name.name.clone(),
                        params,
                        returns,
                        view: f.view,
                    });
                }
            }
            Item::Error(_) | Item::Import(_) | Item::Struct(_) => {}
        }
    }
    program
}

/// The parameter and return types of a signature as written; each type that does not
/// resolve is reported and left out.
fn signature_types(
    params: &[Param],
    returns: &[TypeExpr],
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Type>, Vec<Type>) {
    let params: Vec<Option<Type>> = params
        .iter()
        .map(|p| resolve_value_type(&p.ty, diags))
        .collect();
    let returns: Vec<Option<Type>> = returns
        .iter()
        .map(|t| resolve_value_type(t, diags))
        .collect();
    (
        params.into_iter().flatten().collect(),
        returns.into_iter().flatten().collect(),
    )
}

/// Checks every function body against its own declaration, even a duplicate's (whose name
/// is already reported): its parameters are in scope, an unknown type among them makes
/// only that parameter untyped, and nothing is reported twice. A function that has an id
/// gets its locals and the storage it reads recorded in the program.
pub(super) fn bodies(file: &SourceFile, program: &mut Program, diags: &mut Vec<Diagnostic>) {
    let test_file = file
        .items
        .iter()
        .any(|i| matches!(i, Item::Function(f) if f.is_test()));
    let mut defined = std::collections::HashSet::new();
    for item in &file.items {
        let Item::Function(f) = item else { continue };
        let mut reported = Vec::new();
        let params: Vec<Option<Type>> = f
            .params
            .iter()
            .map(|p| resolve_value_type(&p.ty, &mut reported))
            .collect();
        let returns: Vec<Type> = f
            .returns
            .iter()
            .filter_map(|t| resolve_value_type(t, &mut reported))
            .collect();
        // The first definition of a name owns its id; a duplicate's body is checked only.
        let id = program
            .function(&f.name.name)
            .filter(|_| defined.insert(f.name.name.clone()));
        let mut checker = FnChecker::new(program, &returns, diags, test_file);
        let mut names: HashMap<&str, Span> = HashMap::new();
        for (p, t) in f.params.iter().zip(params) {
            if names.insert(&p.name.name, p.name.span).is_some() {
                checker.diags.push(Diagnostic::new(
                    codes::DUPLICATE,
                    format!("parameter `{}` is declared twice", p.name.name),
                    p.name.span,
                    "second declaration",
                ));
            }
            checker.declare(&p.name, t, false, None);
        }
        let returns_always = checker.block(&f.body);
        let (locals, reads) = checker.finish();
        if let Some(def) = id.and_then(|id| program.functions.get_mut(id.0 as usize)) {
            def.locals = locals;
            def.reads_storage = reads;
        }
        if !returns.is_empty() && !returns_always {
            let end = Span::new(f.body.span.end.saturating_sub(1), f.body.span.end);
            diags.push(
                Diagnostic::new(
                    codes::MISSING_RETURN,
                    format!("`{}` can reach its end without returning", f.name.name),
                    end,
                    "no return here",
                )
                .help("end every path with `return ...;` or `revert(code);`"),
            );
        }
    }
}
