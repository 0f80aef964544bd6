//! Structs and interface calls, rewritten into the core language before checking.
//!
//! A struct is a group of named values of the value types, never a value in one register:
//! this pass replaces every struct by its fields, so that the checker and the code generator
//! see only values. A struct local `pos` becomes the locals `pos.size`, `pos.entry` (names
//! no source can write); a struct parameter or return value becomes one per field, in
//! field order (so an export's flat signature lists the fields in order); a stored struct
//! becomes one storage variable per field, each in its own space, so two transactions that
//! touch different fields never conflict and a `+=` on one field stays a commutative add.
//!
//! Storage layout (spec/language.md, Storage layout): the n-th storage declaration of the
//! file (imports included, in order) has space n; field f (from 0) of a struct declared
//! there has space `n | (f + 1) << 16`. Adding a field at the end of a struct, or a
//! declaration at the end of the file, moves nothing; the ABI records the layout so a
//! deployment can refuse an upgrade that would move data.
//!
//! Interface calls `Feed(address).price(args)` become calls of the function named
//! `Feed.price` with the address as first argument; the checker resolves that name to the
//! interface's import.
//!
//! Guarantees: every misuse of a struct gets a coded diagnostic ([`codes::STRUCT_USE`],
//! [`codes::INTERFACE_CALL`]) at the span the source wrote; what the pass leaves is plain
//! core language whose spans are those of the source it came from.

use crate::ast::*;
use crate::diag::{codes, Diagnostic};
use std::collections::HashMap;

/// Most storage declarations of a contract: a variable's space is its index, below 2^16,
/// so that it never meets a struct field's space (`n | (f + 1) << 16`).
pub const MAX_STORAGE: u32 = 1 << 16;

/// Most fields of a struct: `(f + 1) << 16 | n` stays a storage space the VM accepts
/// (at most `i32::MAX`).
pub const MAX_FIELDS: u32 = (1 << 15) - 1;

/// A struct type: its fields' names and types, as written.
#[derive(Clone, Debug)]
struct StructDef {
    fields: Vec<(String, TypeExpr)>,
}

/// What the pass knows of the file's declarations.
#[derive(Default)]
struct Decls {
    structs: HashMap<String, StructDef>,
    interfaces: HashMap<String, Vec<InterfaceFn>>,
    /// Storage variables of a struct type: name -> (struct, whether a map).
    storage: HashMap<String, (String, bool)>,
    /// Functions returning one struct: name -> struct.
    returns: HashMap<String, String>,
}

/// Rewrites `file` in place; returns the diagnostics.
pub fn desugar(file: &mut SourceFile) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut decls = Decls::default();
    // Struct and interface names are types: no other top-level name, and no builtin, may
    // be one (clashes between the other items are the checker's). Reported at the later
    // declaration, in source order.
    let mut names: HashMap<String, (Span, bool)> = HashMap::new();
    for item in &file.items {
        let (name, is_type) = match item {
            Item::Storage(d) => (&d.name, false),
            Item::Event(d) => (&d.name, false),
            Item::Function(d) => (&d.name, false),
            Item::Struct(d) => (&d.name, true),
            Item::Interface(d) => (&d.name, true),
            _ => continue,
        };
        match names.get(&name.name) {
            Some(&(first, first_is_type)) if is_type || first_is_type => diags.push(
                Diagnostic::new(
                    codes::DUPLICATE,
                    format!("`{}` is defined twice", name.name),
                    name.span,
                    "second definition",
                )
                .related(first, "first defined here")
                .help("rename one of them"),
            ),
            Some(_) => {}
            None if is_type && crate::builtins::find(&name.name).is_some() => {
                diags.push(Diagnostic::new(
                    codes::DUPLICATE,
                    format!("`{}` is a builtin function", name.name),
                    name.span,
                    "reserved name",
                ))
            }
            None => {
                names.insert(name.name.clone(), (name.span, is_type));
            }
        }
    }
    for item in &file.items {
        match item {
            Item::Struct(s) => {
                let mut fields: HashMap<&str, Span> = HashMap::new();
                for f in &s.fields {
                    if let Some(&first) = fields.get(f.name.name.as_str()) {
                        diags.push(
                            Diagnostic::new(
                                codes::DUPLICATE,
                                format!("field `{}` is declared twice", f.name.name),
                                f.name.span,
                                "second declaration",
                            )
                            .related(first, "first declared here"),
                        );
                    }
                    fields.insert(f.name.name.as_str(), f.name.span);
                }
                for f in &s.fields {
                    if !is_value_type(&f.ty) {
                        diags.push(
                            Diagnostic::new(
                                codes::STRUCT_USE,
                                "a struct field is an int, fx, bool or address",
                                type_span(&f.ty),
                                "not a value type",
                            )
                            .help("flatten the inner struct's fields into this one"),
                        );
                    }
                }
                if s.fields.len() > MAX_FIELDS as usize {
                    diags.push(Diagnostic::new(
                        codes::LIMIT,
                        format!("a struct has at most {MAX_FIELDS} fields"),
                        s.name.span,
                        "beyond the limit",
                    ));
                }
                if s.fields.is_empty() {
                    diags.push(Diagnostic::new(
                        codes::STRUCT_USE,
                        format!("struct `{}` has no fields", s.name.name),
                        s.name.span,
                        "empty struct",
                    ));
                }
                decls.structs.insert(
                    s.name.name.clone(),
                    StructDef {
                        fields: s
                            .fields
                            .iter()
                            .map(|f| (f.name.name.clone(), f.ty.clone()))
                            .collect(),
                    },
                );
            }
            Item::Interface(i) => {
                decls
                    .interfaces
                    .insert(i.name.name.clone(), i.functions.clone());
            }
            _ => {}
        }
    }
    for item in &file.items {
        match item {
            Item::Storage(s) => {
                let (name, map) = match &s.ty {
                    TypeExpr::Named(n) => (n.name.clone(), false),
                    TypeExpr::Map { value, .. } => match &**value {
                        TypeExpr::Named(n) => (n.name.clone(), true),
                        _ => continue,
                    },
                };
                if decls.structs.contains_key(&name) {
                    decls.storage.insert(s.name.name.clone(), (name, map));
                }
            }
            Item::Function(f) => {
                if let [TypeExpr::Named(n)] = &f.returns[..] {
                    if decls.structs.contains_key(&n.name) {
                        decls.returns.insert(f.name.name.clone(), n.name.clone());
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::with_capacity(file.items.len());
    let mut storage_index = 0u32;
    for item in std::mem::take(&mut file.items) {
        match item {
            Item::Struct(_) => {}
            Item::Storage(mut s) => {
                let n = storage_index;
                storage_index += 1;
                if n >= MAX_STORAGE {
                    diags.push(Diagnostic::new(
                        codes::LIMIT,
                        format!("a contract declares at most {MAX_STORAGE} storage variables"),
                        s.name.span,
                        "beyond the limit",
                    ));
                    continue;
                }
                match decls.storage.get(&s.name.name).cloned() {
                    None => {
                        s.space = Some(n);
                        out.push(Item::Storage(s));
                    }
                    Some((st, _)) => {
                        let def = &decls.structs[&st];
                        for (f, (field, ty)) in
                            def.fields.iter().take(MAX_FIELDS as usize).enumerate()
                        {
                            let ty = match &s.ty {
                                TypeExpr::Map { key, span, .. } => TypeExpr::Map {
                                    key: key.clone(),
                                    value: Box::new(ty.clone()),
                                    span: *span,
                                },
                                _ => ty.clone(),
                            };
                            out.push(Item::Storage(StorageDecl {
                                doc: s.doc.clone(),
                                name: dotted(&s.name, field),
                                ty,
                                span: s.span,
                                space: Some(n | ((f as u32 + 1) << 16)),
                            }));
                        }
                    }
                }
            }
            Item::Interface(mut i) => {
                for f in &mut i.functions {
                    f.params = flatten_params(&decls, &f.params);
                    f.returns = flatten_returns(&decls, &f.returns, f.name.span, &mut diags);
                }
                out.push(Item::Interface(i));
            }
            Item::Event(mut e) => {
                // A struct field of an event is its fields, `p.size`, `p.entry`, as an
                // emitted struct value is.
                e.fields = flatten_params(&decls, &e.fields);
                out.push(Item::Event(e));
            }
            Item::Function(mut f) => {
                let mut scope = Scope::default();
                scope.push();
                for p in &f.params {
                    if let Some(st) = struct_name(&decls, &p.ty) {
                        scope.declare(&p.name.name, Some(st));
                    } else {
                        scope.declare(&p.name.name, None);
                    }
                }
                f.params = flatten_params(&decls, &f.params);
                let returns_struct = decls.returns.get(&f.name.name).cloned();
                f.returns = flatten_returns(&decls, &f.returns, f.name.span, &mut diags);
                let mut pass = Pass {
                    decls: &decls,
                    scope,
                    diags: &mut diags,
                    returns_struct,
                    temps: 0,
                };
                pass.block(&mut f.body);
                out.push(Item::Function(f));
            }
            other => out.push(other),
        }
    }
    file.items = out;
    diags
}

/// `base.field` as one name (no source can write it: `.` is not in identifiers).
fn dotted(base: &Ident, field: &str) -> Ident {
    Ident {
        name: format!("{}.{field}", base.name),
        span: base.span,
    }
}

fn is_value_type(t: &TypeExpr) -> bool {
    matches!(t, TypeExpr::Named(n) if matches!(n.name.as_str(), "int" | "fx" | "bool" | "address"))
}

fn type_span(t: &TypeExpr) -> Span {
    match t {
        TypeExpr::Named(n) => n.span,
        TypeExpr::Map { span, .. } => *span,
    }
}

fn struct_name(decls: &Decls, t: &TypeExpr) -> Option<String> {
    match t {
        TypeExpr::Named(n) if decls.structs.contains_key(&n.name) => Some(n.name.clone()),
        _ => None,
    }
}

fn flatten_params(decls: &Decls, params: &[Param]) -> Vec<Param> {
    let mut out = Vec::new();
    for p in params {
        match struct_name(decls, &p.ty) {
            Some(st) => {
                for (field, ty) in &decls.structs[&st].fields {
                    out.push(Param {
                        name: dotted(&p.name, field),
                        ty: ty.clone(),
                    });
                }
            }
            None => out.push(p.clone()),
        }
    }
    out
}

fn flatten_returns(
    decls: &Decls,
    returns: &[TypeExpr],
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Vec<TypeExpr> {
    let mut out = Vec::new();
    for t in returns {
        match struct_name(decls, t) {
            Some(st) if returns.len() == 1 => {
                out.extend(decls.structs[&st].fields.iter().map(|(_, ty)| ty.clone()))
            }
            Some(_) => {
                diags.push(
                    Diagnostic::new(
                        codes::STRUCT_USE,
                        "a function returning a struct returns only it",
                        type_span(t),
                        "struct among several results",
                    )
                    .help("return the struct alone, or its fields as separate values")
                    .related(span, "in this function"),
                );
                out.push(t.clone());
            }
            None => out.push(t.clone()),
        }
    }
    out
}

/// Names in scope: a struct local's struct, or None for a value (shadowing).
#[derive(Default)]
struct Scope {
    frames: Vec<HashMap<String, Option<String>>>,
}

impl Scope {
    fn push(&mut self) {
        self.frames.push(HashMap::new());
    }
    fn pop(&mut self) {
        self.frames.pop();
    }
    fn declare(&mut self, name: &str, st: Option<String>) {
        if let Some(f) = self.frames.last_mut() {
            f.insert(name.to_string(), st);
        }
    }
    /// Whether `name` is a local, and its struct if it is a struct local.
    fn lookup(&self, name: &str) -> Option<&Option<String>> {
        self.frames.iter().rev().find_map(|f| f.get(name))
    }
}

/// A struct-valued expression, classified.
enum StructVal {
    /// A struct local or parameter: `name.field` locals.
    Local(Ident),
    /// A stored struct: `name.field` storage variables, indexed by the key for a map.
    Stored(Ident, Option<Expr>),
    /// `S(a, b)`: the field values.
    Built(Vec<Expr>),
    /// A call returning a struct: must be bound to fresh locals first.
    Call(Expr),
}

struct Pass<'a> {
    decls: &'a Decls,
    scope: Scope,
    diags: &'a mut Vec<Diagnostic>,
    returns_struct: Option<String>,
    temps: u32,
}

impl Pass<'_> {
    fn error(&mut self, code: &'static str, message: String, span: Span, label: &str) {
        self.diags
            .push(Diagnostic::new(code, message, span, label.to_string()));
    }

    fn fields(&self, st: &str) -> Vec<String> {
        self.decls
            .structs
            .get(st)
            .map(|d| d.fields.iter().map(|(f, _)| f.clone()).collect())
            .unwrap_or_default()
    }

    /// A fresh hidden local name.
    fn temp(&mut self, span: Span) -> Ident {
        self.temps += 1;
        Ident {
            name: format!("{}.tmp", self.temps),
            span,
        }
    }

    /// The struct `e` is, if it is struct-valued.
    fn struct_of(&self, e: &Expr) -> Option<String> {
        match &e.kind {
            ExprKind::Var(n) => match self.scope.lookup(&n.name) {
                Some(st) => st.clone(),
                None => self
                    .decls
                    .storage
                    .get(&n.name)
                    .and_then(|(st, map)| (!map).then(|| st.clone())),
            },
            ExprKind::Index { base, .. } if self.scope.lookup(&base.name).is_none() => self
                .decls
                .storage
                .get(&base.name)
                .and_then(|(st, map)| map.then(|| st.clone())),
            ExprKind::Call { func, .. } if self.decls.structs.contains_key(&func.name) => {
                Some(func.name.clone())
            }
            ExprKind::Call { func, .. } if self.scope.lookup(&func.name).is_none() => {
                self.decls.returns.get(&func.name).cloned()
            }
            ExprKind::Method { base, method, .. } => {
                let ExprKind::Call { func, .. } = &base.kind else {
                    return None;
                };
                let f = self
                    .decls
                    .interfaces
                    .get(&func.name)?
                    .iter()
                    .find(|f| f.name.name == method.name)?;
                match &f.returns[..] {
                    [t] => struct_name(self.decls, t),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn classify(&mut self, mut e: Expr) -> StructVal {
        match e.kind {
            ExprKind::Var(n) if matches!(self.scope.lookup(&n.name), Some(Some(_))) => {
                StructVal::Local(n)
            }
            ExprKind::Var(n) => StructVal::Stored(n, None),
            ExprKind::Index { base, mut index } => {
                self.expr(&mut index);
                StructVal::Stored(base, Some(*index))
            }
            ExprKind::Call { func, mut args } if self.decls.structs.contains_key(&func.name) => {
                let n = self.fields(&func.name).len();
                if args.len() != n {
                    self.error(
                        codes::ARITY,
                        format!("`{}` has {n} fields, {} given", func.name, args.len()),
                        e.span,
                        "wrong number of fields",
                    );
                }
                for a in &mut args {
                    self.expr(a);
                }
                StructVal::Built(args)
            }
            _ => {
                self.expr(&mut e);
                StructVal::Call(e)
            }
        }
    }

    /// Statements that bind a call's struct result to fresh locals named `name.field`.
    fn bind_call(&self, name: &Ident, st: &str, call: Expr, mutable: bool) -> Stmt {
        let span = call.span;
        Stmt::Let {
            mutable,
            names: self.fields(st).iter().map(|f| dotted(name, f)).collect(),
            ty: None,
            value: call,
            span,
        }
    }

    /// The field values of `v` (after `pre`, which binds what must be evaluated once).
    fn values(&mut self, v: StructVal, st: &str, span: Span, pre: &mut Vec<Stmt>) -> Vec<Expr> {
        let fields = self.fields(st);
        match v {
            StructVal::Built(args) => args,
            StructVal::Local(n) => fields
                .iter()
                .map(|f| Expr::new(ExprKind::Var(dotted(&n, f)), n.span))
                .collect(),
            StructVal::Stored(n, None) => fields
                .iter()
                .map(|f| Expr::new(ExprKind::Var(dotted(&n, f)), n.span))
                .collect(),
            StructVal::Stored(n, Some(key)) => {
                let k = self.once(key, pre);
                fields
                    .iter()
                    .map(|f| {
                        Expr::new(
                            ExprKind::Index {
                                base: dotted(&n, f),
                                index: Box::new(k.clone()),
                            },
                            span,
                        )
                    })
                    .collect()
            }
            StructVal::Call(call) => {
                let t = self.temp(span);
                pre.push(self.bind_call(&t, st, call, false));
                fields
                    .iter()
                    .map(|f| Expr::new(ExprKind::Var(dotted(&t, f)), span))
                    .collect()
            }
        }
    }

    /// `e` as an expression that may be repeated: itself when it is a literal or a
    /// variable, else a fresh local bound to it in `pre`.
    fn once(&mut self, e: Expr, pre: &mut Vec<Stmt>) -> Expr {
        match &e.kind {
            ExprKind::Var(_) | ExprKind::Int(_) | ExprKind::Fx(_) | ExprKind::Bool(_) => e,
            _ => {
                let t = self.temp(e.span);
                let span = e.span;
                pre.push(Stmt::Let {
                    mutable: false,
                    names: vec![t.clone()],
                    ty: None,
                    value: e,
                    span,
                });
                Expr::new(ExprKind::Var(t), span)
            }
        }
    }

    fn block(&mut self, b: &mut Block) {
        self.scope.push();
        let mut out = Vec::with_capacity(b.stmts.len());
        for s in std::mem::take(&mut b.stmts) {
            self.stmt(s, &mut out);
        }
        b.stmts = out;
        self.scope.pop();
    }

    fn stmt(&mut self, s: Stmt, out: &mut Vec<Stmt>) {
        match s {
            Stmt::Let {
                mutable,
                names,
                ty,
                mut value,
                span,
            } => {
                let declared = ty.as_ref().and_then(|t| struct_name(self.decls, t));
                let st = self.struct_of(&value);
                match (names.as_slice(), st, declared) {
                    ([name], Some(st), d) => {
                        if let Some(d) = d.filter(|d| *d != st) {
                            self.error(
                                codes::TYPE_MISMATCH,
                                format!("expected {d}, found {st}"),
                                value.span,
                                "a different struct",
                            );
                        }
                        let v = self.classify(value);
                        match v {
                            StructVal::Call(call) => {
                                out.push(self.bind_call(name, &st, call, mutable))
                            }
                            v => {
                                let vals = self.values(v, &st, span, out);
                                for (f, val) in self.fields(&st).iter().zip(vals) {
                                    out.push(Stmt::Let {
                                        mutable,
                                        names: vec![dotted(name, f)],
                                        ty: None,
                                        value: val,
                                        span,
                                    });
                                }
                            }
                        }
                        self.scope.declare(&name.name, Some(st));
                    }
                    (_, Some(st), _) => {
                        self.error(
                            codes::STRUCT_USE,
                            format!("a {st} value binds to one name"),
                            span,
                            "several names for one struct",
                        );
                    }
                    (_, None, Some(d)) => {
                        self.expr(&mut value);
                        self.error(
                            codes::TYPE_MISMATCH,
                            format!("expected {d}, found a value that is not a struct"),
                            value.span,
                            "not a struct",
                        );
                    }
                    (_, None, None) => {
                        self.expr(&mut value);
                        for n in &names {
                            self.scope.declare(&n.name, None);
                        }
                        out.push(Stmt::Let {
                            mutable,
                            names,
                            ty,
                            value,
                            span,
                        });
                    }
                }
            }
            Stmt::Assign {
                mut target,
                op,
                mut value,
                mut cap,
                span,
            } => {
                if let Some(st) = self.struct_of(&target) {
                    if op != AssignOp::Set || cap.is_some() {
                        self.error(
                            codes::STRUCT_USE,
                            format!("`+=`, `-=` and `capped` apply to one field of a {st}, not the whole struct"),
                            span,
                            "whole struct",
                        );
                        return;
                    }
                    match self.struct_of(&value) {
                        Some(vs) if vs == st => {}
                        other => {
                            let found =
                                other.unwrap_or_else(|| "a value that is not a struct".into());
                            self.error(
                                codes::TYPE_MISMATCH,
                                format!("expected {st}, found {found}"),
                                value.span,
                                "assigned here",
                            );
                            return;
                        }
                    }
                    // The target's key first (source order), then the value.
                    let tv = self.classify(target);
                    let targets = match tv {
                        StructVal::Local(_) | StructVal::Stored(..) => {
                            self.values(tv, &st, span, out)
                        }
                        _ => {
                            self.error(
                                codes::NOT_ASSIGNABLE,
                                "cannot assign to this struct value".into(),
                                span,
                                "not a place",
                            );
                            return;
                        }
                    };
                    let vv = self.classify(value);
                    let vals = self.values(vv, &st, span, out);
                    for (t, v) in targets.into_iter().zip(vals) {
                        out.push(Stmt::Assign {
                            target: t,
                            op,
                            value: v,
                            cap: None,
                            span,
                        });
                    }
                    return;
                }
                self.expr(&mut target);
                self.expr(&mut value);
                if let Some(c) = &mut cap {
                    self.expr(c);
                }
                out.push(Stmt::Assign {
                    target,
                    op,
                    value,
                    cap,
                    span,
                });
            }
            Stmt::If {
                mut cond,
                mut then,
                mut otherwise,
                span,
            } => {
                self.expr(&mut cond);
                self.block(&mut then);
                if let Some(o) = &mut otherwise {
                    self.block(o);
                }
                out.push(Stmt::If {
                    cond,
                    then,
                    otherwise,
                    span,
                });
            }
            Stmt::While {
                mut cond,
                mut body,
                span,
            } => {
                self.expr(&mut cond);
                self.block(&mut body);
                out.push(Stmt::While { cond, body, span });
            }
            Stmt::For {
                var,
                mut start,
                mut end,
                mut body,
                span,
            } => {
                self.expr(&mut start);
                self.expr(&mut end);
                self.scope.push();
                self.scope.declare(&var.name, None);
                self.block(&mut body);
                self.scope.pop();
                out.push(Stmt::For {
                    var,
                    start,
                    end,
                    body,
                    span,
                });
            }
            Stmt::Return { mut values, span } => {
                if let (Some(st), [v]) = (self.returns_struct.clone(), values.as_slice()) {
                    match self.struct_of(v) {
                        Some(vs) if vs == st => {
                            let v = values.remove(0);
                            let cv = self.classify(v);
                            let vals = self.values(cv, &st, span, out);
                            out.push(Stmt::Return { values: vals, span });
                            return;
                        }
                        _ => {}
                    }
                }
                let mut flat = Vec::new();
                for v in values {
                    self.flat_arg(v, &mut flat, out);
                }
                out.push(Stmt::Return { values: flat, span });
            }
            Stmt::Require {
                mut cond,
                mut code,
                message,
                span,
            } => {
                self.expr(&mut cond);
                self.expr(&mut code);
                out.push(Stmt::Require {
                    cond,
                    code,
                    message,
                    span,
                });
            }
            Stmt::Revert {
                mut code,
                message,
                span,
            } => {
                self.expr(&mut code);
                out.push(Stmt::Revert {
                    code,
                    message,
                    span,
                });
            }
            Stmt::Emit { event, args, span } => {
                let mut flat = Vec::new();
                for a in args {
                    self.flat_arg(a, &mut flat, out);
                }
                out.push(Stmt::Emit {
                    event,
                    args: flat,
                    span,
                });
            }
            Stmt::Expr(mut e) => {
                if self.struct_of(&e).is_some()
                    && !matches!(e.kind, ExprKind::Call { .. } | ExprKind::Method { .. })
                {
                    self.error(
                        codes::STRUCT_USE,
                        "a struct value does nothing on its own".into(),
                        e.span,
                        "unused",
                    );
                    return;
                }
                self.expr(&mut e);
                out.push(Stmt::Expr(e));
            }
            Stmt::Error(s) => out.push(Stmt::Error(s)),
        }
    }

    /// An argument (of a call, an event or a return): a struct spreads into its fields.
    fn flat_arg(&mut self, a: Expr, flat: &mut Vec<Expr>, pre: &mut Vec<Stmt>) {
        match self.struct_of(&a) {
            Some(st) => {
                let span = a.span;
                let v = self.classify(a);
                if let StructVal::Call(_) = v {
                    // A call in an argument list: bound to fresh locals first, which
                    // moves it before the other arguments. Refused, to keep source order.
                    self.error(
                        codes::STRUCT_USE,
                        format!("bind this {st} to a local with `let` before passing it"),
                        span,
                        "struct returned by a call",
                    );
                    return;
                }
                flat.extend(self.values(v, &st, span, pre));
            }
            None => {
                let mut a = a;
                self.expr(&mut a);
                flat.push(a);
            }
        }
    }

    /// Rewrites an expression that must be a value: fields become their variables, method
    /// calls interface calls; a struct here is an error.
    fn expr(&mut self, e: &mut Expr) {
        let span = e.span;
        match &mut e.kind {
            ExprKind::Field { .. } => {
                let ExprKind::Field { base, field } =
                    std::mem::replace(&mut e.kind, ExprKind::Error)
                else {
                    return;
                };
                let Some(st) = self.struct_of(&base) else {
                    self.error(
                        codes::STRUCT_USE,
                        format!("`.{}` needs a struct value", field.name),
                        base.span,
                        "not a struct",
                    );
                    return;
                };
                if !self.fields(&st).contains(&field.name) {
                    let list = self.fields(&st).join(", ");
                    self.diags.push(
                        Diagnostic::new(
                            codes::STRUCT_USE,
                            format!("struct {st} has no field `{}`", field.name),
                            field.span,
                            "unknown field",
                        )
                        .help(format!("its fields are {list}")),
                    );
                    return;
                }
                e.kind = match base.kind {
                    ExprKind::Var(n) => ExprKind::Var(dotted(&n, &field.name)),
                    ExprKind::Index { base: m, mut index } => {
                        self.expr(&mut index);
                        ExprKind::Index {
                            base: dotted(&m, &field.name),
                            index,
                        }
                    }
                    _ => {
                        self.error(
                            codes::STRUCT_USE,
                            format!("bind this {st} to a local with `let` to read its fields"),
                            base.span,
                            "not a local or stored struct",
                        );
                        ExprKind::Error
                    }
                };
            }
            ExprKind::Method { .. } => {
                let ExprKind::Method { base, method, args } =
                    std::mem::replace(&mut e.kind, ExprKind::Error)
                else {
                    return;
                };
                let interface = match &base.kind {
                    ExprKind::Call { func, args }
                        if self.decls.interfaces.contains_key(&func.name) =>
                    {
                        if args.len() != 1 {
                            self.error(
                                codes::INTERFACE_CALL,
                                format!("`{}(...)` takes one address", func.name),
                                base.span,
                                "one address expected",
                            );
                            return;
                        }
                        func.clone()
                    }
                    _ => {
                        self.diags.push(
                            Diagnostic::new(
                                codes::INTERFACE_CALL,
                                format!("`.{}(...)` is a call through an interface", method.name),
                                base.span,
                                "not an interface",
                            )
                            .help("write `Interface(address).function(args)`"),
                        );
                        return;
                    }
                };
                let ExprKind::Call { args: mut addr, .. } = base.kind else {
                    return;
                };
                let mut all = Vec::new();
                if let Some(mut a) = addr.pop() {
                    self.expr(&mut a);
                    all.push(a);
                }
                let mut pre = Vec::new();
                for a in args {
                    self.flat_arg(a, &mut all, &mut pre);
                }
                if !pre.is_empty() {
                    self.error(
                        codes::STRUCT_USE,
                        "pass a struct from a local or from storage with a plain key".into(),
                        span,
                        "here",
                    );
                }
                e.kind = ExprKind::Call {
                    func: Ident {
                        name: format!("{}.{}", interface.name, method.name),
                        span: Span::new(interface.span.start, method.span.end),
                    },
                    args: all,
                };
            }
            ExprKind::Call { func, args } => {
                if self.decls.structs.contains_key(&func.name) {
                    let name = func.name.clone();
                    self.error(
                        codes::STRUCT_USE,
                        format!("a {name} value is not a single value"),
                        span,
                        "struct here",
                    );
                    e.kind = ExprKind::Error;
                    return;
                }
                if self.decls.interfaces.contains_key(&func.name)
                    && self.scope.lookup(&func.name).is_none()
                {
                    let name = func.name.clone();
                    self.diags.push(
                        Diagnostic::new(
                            codes::INTERFACE_CALL,
                            format!("`{name}(address)` is only the start of a call"),
                            span,
                            "no function called",
                        )
                        .help(format!(
                            "call one of its functions: `{name}(address).function(args)`"
                        )),
                    );
                    e.kind = ExprKind::Error;
                    return;
                }
                let mut pre = Vec::new();
                let mut flat = Vec::new();
                for a in std::mem::take(args) {
                    self.flat_arg(a, &mut flat, &mut pre);
                }
                *args = flat;
                if !pre.is_empty() {
                    self.error(
                        codes::STRUCT_USE,
                        "pass a struct from a local or from storage with a plain key".into(),
                        span,
                        "here",
                    );
                }
            }
            ExprKind::Var(n) => {
                if let Some(st) = self.struct_of(&Expr::new(ExprKind::Var(n.clone()), span)) {
                    self.error(
                        codes::STRUCT_USE,
                        format!("`{}` is a {st}, not a single value", n.name),
                        span,
                        "struct here",
                    );
                    e.kind = ExprKind::Error;
                }
            }
            ExprKind::Index { base, index } => {
                let b = base.clone();
                if let Some(st) = self.struct_of(&Expr::new(
                    ExprKind::Index {
                        base: b,
                        index: Box::new(Expr::new(ExprKind::Error, span)),
                    },
                    span,
                )) {
                    self.error(
                        codes::STRUCT_USE,
                        format!("`{}[..]` is a {st}, not a single value", base.name),
                        span,
                        "struct here",
                    );
                    e.kind = ExprKind::Error;
                    return;
                }
                self.expr(index);
            }
            ExprKind::Array { fill, .. } => self.expr(fill),
            ExprKind::Unary { expr, .. } => self.expr(expr),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            ExprKind::Int(_) | ExprKind::Fx(_) | ExprKind::Bool(_) | ExprKind::Error => {}
        }
    }
}
