//! Function bodies, statement by statement: scopes and locals (each gets its [`LocalId`]
//! where it is declared), assignments (what may be assigned, `capped` only on storage),
//! control flow, `require`, `revert`, `emit`, and whether a body returns on every path.

use super::rules::{array_length, mismatch, resolve_value_type, MAX_ARRAYS, MAX_ARRAY_WORDS};
use super::{LocalDef, LocalId, Name, Program, SlotType, StorageId, Type};
use crate::ast::*;
use crate::diag::{codes, Diagnostic};
use std::collections::{BTreeSet, HashMap};

/// Checks one function body, recording into the program's tables.
pub(super) struct FnChecker<'p> {
    pub(super) program: &'p mut Program,
    returns: &'p [Type],
    pub(super) scopes: Vec<HashMap<String, LocalId>>,
    locals: Vec<LocalDef>,
    pub(super) diags: &'p mut Vec<Diagnostic>,
    /// Arrays declared so far in the function, and their elements.
    arrays: (u32, u64),
    /// Checking a function of a test file (one with a `#[test]` function), where the test
    /// builtins are allowed.
    pub(super) in_test: bool,
    /// Storage variables the body reads.
    pub(super) reads: BTreeSet<StorageId>,
    /// The assignment target being checked: its storage is written, not read.
    pub(super) target: Option<ExprId>,
}

impl<'p> FnChecker<'p> {
    pub(super) fn new(
        program: &'p mut Program,
        returns: &'p [Type],
        diags: &'p mut Vec<Diagnostic>,
        in_test: bool,
    ) -> Self {
        FnChecker {
            program,
            returns,
            scopes: vec![HashMap::new()],
            locals: Vec::new(),
            diags,
            arrays: (0, 0),
            in_test,
            reads: BTreeSet::new(),
            target: None,
        }
    }

    /// The function's locals and the storage it reads.
    pub(super) fn finish(self) -> (Vec<LocalDef>, BTreeSet<StorageId>) {
        (self.locals, self.reads)
    }

    /// The innermost local called `name`.
    pub(super) fn local(&self, name: &str) -> Option<(LocalId, &LocalDef)> {
        let id = self
            .scopes
            .iter()
            .rev()
            .find_map(|s| s.get(name).copied())?;
        Some((id, self.locals.get(id.0 as usize)?))
    }

    pub(super) fn lookup(&self, name: &str) -> Option<&LocalDef> {
        self.local(name).map(|(_, l)| l)
    }

    /// Declares `id` in the innermost scope: a new local (an array when `array` is its
    /// length).
    pub(super) fn declare(
        &mut self,
        id: &Ident,
        ty: Option<Type>,
        mutable: bool,
        array: Option<u32>,
    ) {
        let local = LocalId(self.locals.len() as u32);
        self.locals.push(LocalDef {
            name: id.name.clone(),
            ty,
            mutable,
            array,
        });
        self.program
            .declarations
            .insert((id.span.start, id.name.clone()), local);
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(id.name.clone(), local);
        }
    }

    /// An assignment's target: checked as an expression, but its storage is written.
    fn target_expr(&mut self, target: &Expr) -> Option<Type> {
        let saved = self.target.replace(target.id);
        let ty = self.expr(target);
        self.target = saved;
        ty
    }

    /// `let [mut] name = [fill; length];`
    fn declare_array(&mut self, id: &Ident, value: &Expr, mutable: bool) {
        let ExprKind::Array {
            fill,
            length,
            length_span,
        } = &value.kind
        else {
            return;
        };
        let ty = self.expr(fill);
        let len = array_length(length);
        let len = match len {
            Some(n) => n,
            None => {
                self.diags.push(
                    Diagnostic::new(
                        codes::LIMIT,
                        format!("array length {length} is outside 1..={MAX_ARRAY_WORDS}"),
                        *length_span,
                        "bad length",
                    )
                    .note("arrays live in the call's frame; their length is fixed"),
                );
                1
            }
        };
        self.arrays.0 += 1;
        self.arrays.1 += len as u64;
        if self.arrays.0 > MAX_ARRAYS || self.arrays.1 > MAX_ARRAY_WORDS as u64 {
            self.diags.push(
                Diagnostic::new(
                    codes::LIMIT,
                    format!(
                        "a function may hold at most {MAX_ARRAYS} arrays of \
                         {MAX_ARRAY_WORDS} elements in all"
                    ),
                    value.span,
                    "one array too many",
                )
                .help("reuse an array, or split the work into functions"),
            );
        }
        self.declare(id, ty, mutable, Some(len));
    }

    pub(super) fn array_use(&mut self, name: &str, span: Span) {
        self.diags.push(
            Diagnostic::new(
                codes::ARRAY_USE,
                format!("`{name}` is an array, not a value"),
                span,
                "a whole array",
            )
            .help(format!(
                "read or write one element: {name}[i]; arrays cannot be passed, returned or copied"
            )),
        );
    }

    /// `target op value capped cap;`: only `+=`/`-=` on storage, with a cap of the
    /// stored type.
    fn check_cap(&mut self, target: &Expr, op: AssignOp, cap: &Expr) {
        if op == AssignOp::Set {
            self.diags.push(
                Diagnostic::new(
                    codes::NOT_ASSIGNABLE,
                    "`capped` applies to `+=` and `-=`",
                    cap.span,
                    "a plain `=` has no cap",
                )
                .help("write `total += amount capped limit;`"),
            );
        }
        let stored = |name: &str| {
            self.program
                .storage_var(name)
                .and_then(|s| self.program.storage.get(s.0 as usize))
                .map(|s| s.ty)
        };
        let ty = match &target.kind {
            ExprKind::Var(id) if self.lookup(&id.name).is_none() => match stored(&id.name) {
                Some(SlotType::Value(t)) => Some(Some(t)),
                _ => None,
            },
            ExprKind::Index { base, .. } if self.lookup(&base.name).is_none() => {
                match stored(&base.name) {
                    Some(SlotType::Map(_, v)) => Some(Some(v)),
                    _ => None,
                }
            }
            _ => None,
        };
        match ty {
            Some(Some(t)) => self.expect(cap, t),
            _ => {
                self.diags.push(
                    Diagnostic::new(
                        codes::NOT_ASSIGNABLE,
                        "`capped` needs a storage variable or map entry",
                        target.span,
                        "not storage",
                    )
                    .help("a cap guards a stored total; check a local with `require`"),
                );
                self.expr(cap);
            }
        }
    }

    /// Checks a block in a new scope; returns whether it definitely returns (or reverts).
    pub(super) fn block(&mut self, b: &Block) -> bool {
        self.scopes.push(HashMap::new());
        let mut returns = false;
        for s in &b.stmts {
            returns |= self.stmt(s);
        }
        self.scopes.pop();
        returns
    }
    /// `let`: one value (with its declared type, if written), an array, or several results.
    fn let_(
        &mut self,
        mutable: bool,
        names: &[Ident],
        ty: &Option<TypeExpr>,
        value: &Expr,
        span: Span,
    ) -> bool {
        if names.len() == 1 && matches!(value.kind, ExprKind::Array { .. }) {
            if let Some(t) = ty {
                let span = match t {
                    TypeExpr::Named(id) => id.span,
                    TypeExpr::Map { span, .. } => *span,
                };
                self.diags.push(
                    Diagnostic::new(
                        codes::BAD_TYPE,
                        "an array's type comes from its initialiser",
                        span,
                        "no type here",
                    )
                    .help("write `let mut a = [0.0; 100];`"),
                );
            }
            self.declare_array(&names[0], value, mutable);
        } else if names.len() == 1 {
            let declared = ty.as_ref().and_then(|t| resolve_value_type(t, self.diags));
            let got = self.expr(value);
            if let (Some(d), Some(g)) = (declared, got) {
                if d != g {
                    self.diags.push(mismatch(d, g, value.span));
                }
            }
            self.declare(&names[0], declared.or(got), mutable, None);
        } else {
            let types = match &value.kind {
                ExprKind::Call { .. } => self.call(value),
                _ => {
                    self.diags.push(Diagnostic::new(
                        codes::RETURN_COUNT,
                        "only a call can be bound to several names",
                        value.span,
                        "a single value",
                    ));
                    None
                }
            };
            match types {
                Some(types) if types.len() == names.len() => {
                    for (n, t) in names.iter().zip(types) {
                        self.declare(n, Some(t), mutable, None);
                    }
                }
                other => {
                    if let Some(types) = other {
                        self.diags.push(Diagnostic::new(
                            codes::RETURN_COUNT,
                            format!("{} names bound to {} values", names.len(), types.len()),
                            span,
                            "counts differ",
                        ));
                    }
                    for n in names {
                        self.declare(n, None, mutable, None);
                    }
                }
            }
        }
        false
    }

    /// `target op value [capped cap];`: what may be assigned, and the value's type.
    fn assign(&mut self, target: &Expr, op: AssignOp, value: &Expr, cap: &Option<Expr>) -> bool {
        if let Some(cap) = cap {
            self.check_cap(target, op, cap);
        }
        let target_ty = match &target.kind {
            ExprKind::Var(id) if self.lookup(&id.name).is_some_and(|l| l.array.is_some()) => {
                self.array_use(&id.name, id.span);
                None
            }
            ExprKind::Index { base, .. }
                if self
                    .lookup(&base.name)
                    .is_some_and(|l| l.array.is_some() && !l.mutable) =>
            {
                let name = base.name.clone();
                self.diags.push(
                    Diagnostic::new(
                        codes::NOT_ASSIGNABLE,
                        format!("`{name}` is not mutable"),
                        base.span,
                        "its elements cannot change",
                    )
                    .help(format!("declare it with `let mut {name}`")),
                );
                self.target_expr(target)
            }
            ExprKind::Var(id) => match self.local(&id.name) {
                Some((l, def)) => {
                    let (mutable, ty) = (def.mutable, def.ty);
                    self.program.set_name(target.id, Name::Local(l));
                    self.program.set_type(target.id, ty);
                    if !mutable {
                        let name = id.name.clone();
                        self.diags.push(
                            Diagnostic::new(
                                codes::NOT_ASSIGNABLE,
                                format!("`{name}` is not mutable"),
                                id.span,
                                "cannot assign twice",
                            )
                            .help(format!("declare it with `let mut {name}`")),
                        );
                    }
                    ty
                }
                None => self.target_expr(target),
            },
            ExprKind::Index { .. } => self.target_expr(target),
            _ => {
                self.diags.push(Diagnostic::new(
                    codes::NOT_ASSIGNABLE,
                    "cannot assign to this expression",
                    target.span,
                    "not a variable or map entry",
                ));
                None
            }
        };
        match target_ty {
            Some(t) => {
                if op != AssignOp::Set && !matches!(t, Type::Int | Type::Fx) {
                    self.diags.push(Diagnostic::new(
                        codes::TYPE_MISMATCH,
                        format!("`+=` and `-=` need int or fx, found {}", t.name()),
                        target.span,
                        "not a number",
                    ));
                }
                self.expect(value, t);
            }
            None => {
                self.expr(value);
            }
        }
        false
    }

    /// `emit Name(values);`: a declared event, with its fields' types.
    fn emit(&mut self, event: &Ident, args: &[Expr], span: Span) -> bool {
        let fields = self
            .program
            .event(&event.name)
            .and_then(|e| self.program.events.get(e.0 as usize))
            .map(|e| e.fields.clone());
        match fields {
            Some(fields) => {
                if fields.len() != args.len() {
                    self.diags.push(Diagnostic::new(
                        codes::ARITY,
                        format!(
                            "event `{}` has {} fields, {} given",
                            event.name,
                            fields.len(),
                            args.len()
                        ),
                        span,
                        "wrong number of values",
                    ));
                }
                for (a, t) in args.iter().zip(fields) {
                    self.expect(a, t);
                }
            }
            None => {
                self.diags.push(
                    Diagnostic::new(
                        codes::UNKNOWN_NAME,
                        format!("no event named `{}`", event.name),
                        event.span,
                        "not declared",
                    )
                    .help(format!("declare it: event {}(...);", event.name)),
                );
            }
        }
        false
    }

    /// `return values;`: the function's count and types.
    fn return_(&mut self, values: &[Expr], span: Span) -> bool {
        if values.len() != self.returns.len() {
            self.diags.push(Diagnostic::new(
                codes::RETURN_COUNT,
                format!(
                    "this function returns {} value{}, {} given",
                    self.returns.len(),
                    if self.returns.len() == 1 { "" } else { "s" },
                    values.len()
                ),
                span,
                "wrong number of values",
            ));
            for v in values {
                self.expr(v);
            }
        } else {
            let returns = self.returns.to_vec();
            for (v, t) in values.iter().zip(returns) {
                self.expect(v, t);
            }
        }
        true
    }

    fn stmt(&mut self, s: &Stmt) -> bool {
        match s {
            Stmt::Let {
                mutable,
                names,
                ty,
                value,
                span,
            } => self.let_(*mutable, names, ty, value, *span),
            Stmt::Assign {
                target,
                op,
                value,
                cap,
                ..
            } => self.assign(target, *op, value, cap),
            Stmt::If {
                cond,
                then,
                otherwise,
                ..
            } => {
                self.expect(cond, Type::Bool);
                let a = self.block(then);
                let b = otherwise.as_ref().is_some_and(|o| self.block(o));
                a && b
            }
            Stmt::While { cond, body, .. } => {
                self.expect(cond, Type::Bool);
                self.block(body);
                false
            }
            Stmt::For {
                var,
                start,
                end,
                body,
                ..
            } => {
                self.expect(start, Type::Int);
                self.expect(end, Type::Int);
                self.scopes.push(HashMap::new());
                self.declare(var, Some(Type::Int), false, None);
                self.block(body);
                self.scopes.pop();
                false
            }
            Stmt::Return { values, span } => self.return_(values, *span),
            Stmt::Require { cond, code, .. } => {
                self.expect(cond, Type::Bool);
                self.expect(code, Type::Int);
                false
            }
            Stmt::Revert { code, .. } => {
                self.expect(code, Type::Int);
                true
            }
            Stmt::Emit { event, args, span } => self.emit(event, args, *span),
            Stmt::Expr(e) => {
                match &e.kind {
                    // A call as a statement may return any number of values (discarded).
                    ExprKind::Call { .. } => {
                        self.call(e);
                    }
                    _ => {
                        self.expr(e);
                    }
                }
                false
            }
            Stmt::Error(_) => false,
        }
    }
}
