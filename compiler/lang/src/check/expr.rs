//! Expressions: each gets its type in the program's table (None after an error, reported
//! once), and each variable, map or array index and call its referent; calls are typed
//! from the builtin table (`crate::builtins`) or the callee's signature.

use super::names::closest;
use super::rules::{literal, mismatch};
use super::stmt::FnChecker;
use super::{Name, SlotType, Type};
use crate::ast::*;
use crate::builtins::{self, Builtin, Lowering, Params, BUILTINS};
use crate::diag::{codes, Diagnostic};
use strike_vm::native::{Native, MAX_MESSAGE_VALUES};

impl FnChecker<'_> {
    /// The storage variable `name` for expression `e`: recorded as its referent, and as
    /// read unless `e` is the assignment target being checked.
    fn storage(&mut self, e: &Expr, name: &str) -> Option<SlotType> {
        let id = self.program.storage_var(name)?;
        self.program.set_name(e.id, Name::Storage(id));
        if self.target != Some(e.id) {
            self.reads.insert(id);
        }
        self.program.storage.get(id.0 as usize).map(|s| s.ty)
    }

    pub(super) fn expect(&mut self, e: &Expr, want: Type) {
        if let Some(got) = self.expr(e) {
            if got != want {
                self.diags.push(mismatch(want, got, e.span));
            }
        }
    }

    /// A call of a native builtin: its leading arguments typed, then its message of
    /// 1..=16 values of any type; the test builtins only inside a file with tests.
    fn native_call(
        &mut self,
        b: &'static Builtin,
        native: Native,
        fixed: &[Type],
        func: &Ident,
        args: &[Expr],
        span: Span,
    ) -> Option<Vec<Type>> {
        let info = native.info();
        if info.test_only && !self.in_test {
            self.diags.push(
                Diagnostic::new(
                    codes::TEST_USE,
                    format!(
                        "`{}` is a test builtin, allowed only in a file with #[test] functions",
                        func.name
                    ),
                    func.span,
                    "test only",
                )
                .help("contracts cannot set their caller, time or sign; tests can"),
            );
        }
        if !native.accepts(args.len().min(255) as u8) || args.len() > 255 {
            let wanted = if info.message && fixed.is_empty() {
                format!("1 to {MAX_MESSAGE_VALUES} message values")
            } else if info.message {
                format!(
                    "{} argument{} and then 1 to {MAX_MESSAGE_VALUES} message values",
                    fixed.len(),
                    if fixed.len() == 1 { "" } else { "s" }
                )
            } else {
                format!(
                    "{} argument{}",
                    fixed.len(),
                    if fixed.len() == 1 { "" } else { "s" }
                )
            };
            self.diags.push(Diagnostic::new(
                codes::ARITY,
                format!("`{}` takes {wanted}, {} given", func.name, args.len()),
                span,
                "wrong number of arguments",
            ));
            for a in args {
                self.expr(a);
            }
            return None;
        }
        for (a, &t) in args.iter().zip(fixed) {
            self.expect(a, t);
        }
        for a in &args[fixed.len()..] {
            self.expr(a);
        }
        Some(b.returns.to_vec())
    }
    /// The types a call returns, checking its arguments; None after an error. Records
    /// what the callee is, and the call's type when it returns one value.
    pub(super) fn call(&mut self, e: &Expr) -> Option<Vec<Type>> {
        let ExprKind::Call { func, args } = &e.kind else {
            return None;
        };
        let returns = self.callee(e.id, func, args, e.span)?;
        if let [t] = returns.as_slice() {
            self.program.set_type(e.id, Some(*t));
        }
        Some(returns)
    }

    fn callee(
        &mut self,
        call: ExprId,
        func: &Ident,
        args: &[Expr],
        span: Span,
    ) -> Option<Vec<Type>> {
        let arity = |n: usize, diags: &mut Vec<Diagnostic>| {
            if args.len() != n {
                diags.push(Diagnostic::new(
                    codes::ARITY,
                    format!(
                        "`{}` takes {n} argument{}, {} given",
                        func.name,
                        if n == 1 { "" } else { "s" },
                        args.len()
                    ),
                    span,
                    "wrong number of arguments",
                ));
                false
            } else {
                true
            }
        };
        let builtin = builtins::find(&func.name);
        if let Some(b) = builtin {
            self.program.set_name(call, Name::Builtin(b));
        }
        if let Some(
            b @ Builtin {
                params: Params::SameNumber(n),
                ..
            },
        ) = builtin
        {
            let n = *n;
            if !arity(n, self.diags) {
                return None;
            }
            let first = self.expr(&args[0])?;
            if !matches!(first, Type::Int | Type::Fx) {
                self.diags.push(Diagnostic::new(
                    codes::TYPE_MISMATCH,
                    format!("`{}` takes int or fx, found {}", func.name, first.name()),
                    args[0].span,
                    "not a number",
                ));
                return None;
            }
            for a in &args[1..] {
                self.expect(a, first);
            }
            let _ = b;
            return Some(vec![first]);
        }
        if let Some(
            b @ Builtin {
                params: Params::Native(fixed),
                lowering: Lowering::Native(native),
                ..
            },
        ) = builtin
        {
            return self.native_call(b, *native, fixed, func, args, span);
        }
        let function = self.program.function(&func.name);
        let import = self.program.import(&func.name);
        let (params, returns): (Vec<Type>, Vec<Type>) = if let Some(id) = import {
            self.program.set_name(call, Name::Import(id));
            let def = self.program.imports.get(id.0 as usize)?;
            let given = args.len().saturating_sub(1);
            if given != def.params.len() {
                let n = def.params.len();
                self.diags.push(Diagnostic::new(
                    codes::ARITY,
                    format!(
                        "`{}` takes {n} argument{}, {given} given",
                        func.name,
                        if n == 1 { "" } else { "s" },
                    ),
                    span,
                    "wrong number of arguments",
                ));
                return None;
            }
            let params = std::iter::once(Type::Address)
                .chain(def.params.iter().copied())
                .collect();
            (params, def.returns.clone())
        } else if let Some((interface, name)) = func.name.split_once('.') {
            self.diags.push(
                Diagnostic::new(
                    codes::INTERFACE_CALL,
                    format!("interface `{interface}` has no function `{name}`"),
                    func.span,
                    "not declared",
                )
                .help(format!("declare it in `interface {interface} {{ ... }}`")),
            );
            for a in args {
                self.expr(a);
            }
            return None;
        } else if let Some(Builtin {
            params: Params::Fixed(p),
            returns: r,
            ..
        }) = builtin
        {
            (p.to_vec(), r.to_vec())
        } else if let Some((id, sig)) =
            function.and_then(|id| Some((id, self.program.function_def(id)?.signature.clone())))
        {
            self.program.set_name(call, Name::Function(id));
            if sig.test {
                self.diags.push(
                    Diagnostic::new(
                        codes::TEST_USE,
                        format!("`{}` is a test and cannot be called", func.name),
                        func.span,
                        "a #[test] function",
                    )
                    .help("`strike test` runs tests; move shared steps into a plain function"),
                );
                return None;
            }
            (sig.params.clone(), sig.returns.clone())
        } else {
            let names = BUILTINS
                .iter()
                .map(|b| b.name)
                .chain(self.program.functions.iter().map(|f| f.name.as_str()));
            let help = match closest(&func.name, names) {
                Some(near) => format!("a function with a similar name exists: `{near}`"),
                None => {
                    let all: Vec<&str> = BUILTINS.iter().map(|b| b.name).collect();
                    format!("the builtins are: {}", all.join(" "))
                }
            };
            self.diags.push(
                Diagnostic::new(
                    codes::UNKNOWN_NAME,
                    format!("no function named `{}`", func.name),
                    func.span,
                    "not defined",
                )
                .help(help),
            );
            for a in args {
                self.expr(a);
            }
            return None;
        };
        if !arity(params.len(), self.diags) {
            return None;
        }
        for (a, &p) in args.iter().zip(&params) {
            self.expect(a, p);
        }
        Some(returns)
    }

    /// The expression's type; None when it is unknown because of an error already reported.
    pub(super) fn expr(&mut self, e: &Expr) -> Option<Type> {
        let ty = self.expr_type(e);
        self.program.set_type(e.id, ty);
        ty
    }

    /// A variable: a local (not an array) or a storage value (not a map).
    fn var_type(&mut self, e: &Expr, id: &Ident) -> Option<Type> {
        if let Some((l, def)) = self.local(&id.name) {
            let (array, ty) = (def.array.is_some(), def.ty);
            self.program.set_name(e.id, Name::Local(l));
            if array {
                self.array_use(&id.name, id.span);
                return None;
            }
            return ty;
        }
        let stored = self.storage(e, &id.name);
        match stored {
            Some(SlotType::Value(t)) => Some(t),
            Some(SlotType::Map(..)) => {
                self.diags.push(
                    Diagnostic::new(
                        codes::MAP_USE,
                        format!("`{}` is a map, not a value", id.name),
                        id.span,
                        "a whole map",
                    )
                    .help(format!("read one entry: {}[key]", id.name)),
                );
                None
            }
            None => {
                let locals: Vec<&str> = self
                    .scopes
                    .iter()
                    .flat_map(|s| s.keys().map(String::as_str))
                    .collect();
                let storage = self.program.storage.iter().map(|s| s.name.as_str());
                let mut d = Diagnostic::new(
                    codes::UNKNOWN_NAME,
                    format!("no variable named `{}`", id.name),
                    id.span,
                    "not defined",
                );
                if let Some(near) = closest(&id.name, locals.into_iter().chain(storage)) {
                    d = d.help(format!("a variable with a similar name exists: `{near}`"));
                }
                self.diags.push(d);
                None
            }
        }
    }

    /// `base[index]`: an element of a local array, or an entry of a storage map.
    fn index_type(&mut self, e: &Expr, base: &Ident, index: &Expr) -> Option<Type> {
        if let Some((l, def)) = self.local(&base.name) {
            if def.array.is_some() {
                let ty = def.ty;
                self.program.set_name(e.id, Name::Local(l));
                self.expect(index, Type::Int);
                return ty;
            }
        }
        let stored = self.storage(e, &base.name);
        match stored {
            Some(SlotType::Map(k, v)) => {
                self.expect(index, k);
                Some(v)
            }
            Some(SlotType::Value(_)) | None
                if self.lookup(&base.name).is_some()
                    || self.program.storage_var(&base.name).is_some() =>
            {
                self.diags.push(Diagnostic::new(
                    codes::MAP_USE,
                    format!("`{}` is not a map", base.name),
                    base.span,
                    "cannot be indexed",
                ));
                self.expr(index);
                None
            }
            _ => {
                self.diags.push(Diagnostic::new(
                    codes::UNKNOWN_NAME,
                    format!("no storage map named `{}`", base.name),
                    base.span,
                    "not defined",
                ));
                self.expr(index);
                None
            }
        }
    }

    /// `lhs op rhs`: logic on bools, comparisons of one type, arithmetic of one number type.
    fn binary_type(&mut self, op: BinOp, lhs: &Expr, rhs: &Expr) -> Option<Type> {
        let (a, b) = (self.expr(lhs), self.expr(rhs));
        let (a, b) = (a?, b?);
        use BinOp::*;
        match op {
            And | Or => {
                for (t, side) in [(a, lhs), (b, rhs)] {
                    if t != Type::Bool {
                        self.diags.push(mismatch(Type::Bool, t, side.span));
                    }
                }
                Some(Type::Bool)
            }
            Eq | Ne | Lt | Le | Gt | Ge => {
                if a != b {
                    self.diags.push(
                        mismatch(a, b, rhs.span)
                            .note("both sides of a comparison have the same type"),
                    );
                } else if !matches!(op, Eq | Ne) && !matches!(a, Type::Int | Type::Fx) {
                    self.diags.push(Diagnostic::new(
                        codes::TYPE_MISMATCH,
                        format!("{} values cannot be ordered", a.name()),
                        lhs.span,
                        "only == and != apply",
                    ));
                }
                Some(Type::Bool)
            }
            Add | Sub | Mul | Div | Rem => {
                let symbol = match op {
                    Add => "+",
                    Sub => "-",
                    Mul => "*",
                    Div => "/",
                    _ => "%",
                };
                if op == Rem && a != Type::Int {
                    self.diags.push(Diagnostic::new(
                        codes::TYPE_MISMATCH,
                        format!("`%` needs int operands, found {}", a.name()),
                        lhs.span,
                        format!("this is {}", a.name()),
                    ));
                    return None;
                }
                if !matches!(a, Type::Int | Type::Fx) {
                    self.diags.push(Diagnostic::new(
                        codes::TYPE_MISMATCH,
                        format!("`{symbol}` needs int or fx operands, found {}", a.name()),
                        lhs.span,
                        format!("this is {}", a.name()),
                    ));
                    return None;
                }
                if a != b {
                    self.diags.push(
                        mismatch(a, b, rhs.span)
                            .note("arithmetic does not mix types: int with int, fx with fx"),
                    );
                    return None;
                }
                Some(a)
            }
        }
    }

    fn expr_type(&mut self, e: &Expr) -> Option<Type> {
        match &e.kind {
            // `structs::desugar` rewrites both before checking; a file checked without it
            // gets the diagnostic rather than a guess.
            ExprKind::Field { .. } | ExprKind::Method { .. } => {
                self.diags.push(Diagnostic::new(
                    codes::STRUCT_USE,
                    "fields and interface calls need the struct pass (`structs::desugar`)",
                    e.span,
                    "here",
                ));
                None
            }
            ExprKind::Int(text) => {
                if literal(e) == Some(None) {
                    self.diags.push(Diagnostic::new(
                        codes::LITERAL_RANGE,
                        format!("int literal `{text}` is out of range"),
                        e.span,
                        "does not fit in 128 bits",
                    ));
                }
                Some(Type::Int)
            }
            ExprKind::Fx(text) => {
                if literal(e) == Some(None) {
                    self.diags.push(
                        Diagnostic::new(
                            codes::LITERAL_RANGE,
                            format!("fx literal `{text}` is out of range"),
                            e.span,
                            "beyond ±9.2e18",
                        )
                        .note("fx is I64F64: values from -2^63 to 2^63 - 2^-64"),
                    );
                }
                Some(Type::Fx)
            }
            ExprKind::Bool(_) => Some(Type::Bool),
            ExprKind::Array { fill, .. } => {
                self.expr(fill);
                self.diags.push(
                    Diagnostic::new(
                        codes::ARRAY_USE,
                        "an array can only be created by `let`",
                        e.span,
                        "array here",
                    )
                    .help("write `let mut a = [0.0; 100];` and use a[i]"),
                );
                None
            }
            ExprKind::Var(id) => self.var_type(e, id),
            ExprKind::Index { base, index } => self.index_type(e, base, index),
            ExprKind::Call { func, .. } => {
                let returns = self.call(e)?;
                match returns.as_slice() {
                    [t] => Some(*t),
                    _ => {
                        self.diags.push(
                            Diagnostic::new(
                                codes::RETURN_COUNT,
                                format!(
                                    "`{}` returns {} values, not one",
                                    func.name,
                                    returns.len()
                                ),
                                e.span,
                                "used as a single value",
                            )
                            .help("bind them with `let (a, b) = ...;`"),
                        );
                        None
                    }
                }
            }
            ExprKind::Unary {
                op: UnaryOp::Neg,
                expr,
            } if matches!(literal(e), Some(Some(_))) => {
                // A negative literal, in range even where its magnitude alone is not.
                Some(if matches!(expr.kind, ExprKind::Fx(_)) {
                    Type::Fx
                } else {
                    Type::Int
                })
            }
            ExprKind::Unary { op, expr } => {
                let t = self.expr(expr)?;
                match (op, t) {
                    (UnaryOp::Neg, Type::Int | Type::Fx) | (UnaryOp::Not, Type::Bool) => Some(t),
                    (UnaryOp::Neg, _) => {
                        self.diags.push(Diagnostic::new(
                            codes::TYPE_MISMATCH,
                            format!("cannot negate {}", t.name()),
                            expr.span,
                            "not a number",
                        ));
                        None
                    }
                    (UnaryOp::Not, _) => {
                        self.diags.push(mismatch(Type::Bool, t, expr.span));
                        None
                    }
                }
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary_type(*op, lhs, rhs),
            ExprKind::Error => None,
        }
    }
}
