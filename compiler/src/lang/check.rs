//! The checker: name resolution and type checking of a parsed file.
//!
//! Guarantees: every error becomes a [`Diagnostic`] with a stable code and the span it is
//! about; an expression whose type cannot be known is reported once and then treated as
//! unknown, so one mistake does not cascade. A file with no diagnostics is well-typed:
//! every name resolves, every operator and call has operands of the right types, every fx
//! literal converts exactly (round to nearest) into range, and every function that returns
//! values returns on every path.

use super::ast::*;
use super::diag::{codes, Diagnostic};
use std::collections::HashMap;
use strike_vm::math::Fx;
use strike_vm::native::{Native, MAX_MESSAGE_VALUES};

/// A value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// i128.
    Int,
    /// I64F64.
    Fx,
    /// true or false.
    Bool,
    /// A 128-bit account id.
    Address,
}

impl Type {
    /// The VM's type for values of this type (in exports and ABI).
    pub fn value_type(self) -> strike_vm::isa::ValueType {
        use strike_vm::isa::ValueType;
        match self {
            Type::Int => ValueType::Int,
            Type::Fx => ValueType::Fx,
            Type::Bool => ValueType::Bool,
            Type::Address => ValueType::Address,
        }
    }

    /// The name as written in source.
    pub fn name(self) -> &'static str {
        match self {
            Type::Int => "int",
            Type::Fx => "fx",
            Type::Bool => "bool",
            Type::Address => "address",
        }
    }
}

/// What a storage variable holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotType {
    /// One value.
    Value(Type),
    /// `map<key, value>`.
    Map(Type, Type),
}

/// A function's signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// Callable by transactions.
    pub public: bool,
    /// Parameter types.
    pub params: Vec<Type>,
    /// Return types.
    pub returns: Vec<Type>,
    /// A `#[test]` function: compiled and run only by `strike test`.
    pub test: bool,
}

/// The declarations of a checked file.
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// Storage variables, in declaration order (the order fixes their slot keys).
    pub storage: Vec<(String, SlotType)>,
    /// Events and their field types.
    pub events: Vec<(String, Vec<Type>)>,
    /// Functions by name.
    pub functions: HashMap<String, Signature>,
}

/// Builtin functions: name, parameter types, result.
fn builtin(name: &str) -> Option<(&'static [Type], Type)> {
    use Type::*;
    Some(match name {
        "exp" | "ln" | "sqrt" | "ncdf" | "npdf" | "inv_ncdf" => (&[Fx], Fx),
        "pow" | "mul_down" | "mul_up" | "div_down" | "div_up" => (&[Fx, Fx], Fx),
        "mul_div" | "mul_div_down" | "mul_div_up" => (&[Fx, Fx, Fx], Fx),
        "to_fx" => (&[Int], Fx),
        "to_int" => (&[Fx], Int),
        "to_address" => (&[Int], Address),
        "caller" | "self_address" => (&[], Address),
        "now" | "block" => (&[], Int),
        _ => return None,
    })
}

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
    let e = Expr {
        kind: ExprKind::Int(length.to_string()),
        span: Span::default(),
    };
    literal(&e)
        .flatten()
        .filter(|n| (1..=MAX_ARRAY_WORDS as i128).contains(n))
        .map(|n| n as u32)
}

/// Every builtin function's name.
const BUILTINS: &[&str] = &[
    "exp",
    "ln",
    "sqrt",
    "pow",
    "ncdf",
    "npdf",
    "inv_ncdf",
    "mul_div",
    "mul_div_down",
    "mul_div_up",
    "mul_down",
    "mul_up",
    "div_down",
    "div_up",
    "abs",
    "min",
    "max",
    "to_fx",
    "to_int",
    "to_address",
    "caller",
    "self_address",
    "now",
    "block",
    "sha256",
    "ed25519_verify",
    "set_caller",
    "set_time",
    "test_sign",
    "test_key",
];

/// Edit distance (insertions, deletions, substitutions, adjacent swaps) of two short names.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// The candidate nearest to `name`, if one is close enough to be a likely typo (at most one
/// edit per three characters, and at least one). Ties go to the first in sorted order.
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    if name.len() > 64 {
        return None;
    }
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == name || c.len() > 64 {
            continue;
        }
        let d = distance(name, c);
        if d <= limit && best.is_none_or(|(bd, bn)| (d, c) < (bd, bn)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// `abs`, `min`, `max`: int or fx, all arguments the same type.
fn generic_builtin(name: &str) -> Option<usize> {
    match name {
        "abs" => Some(1),
        "min" | "max" => Some(2),
        _ => None,
    }
}

fn resolve_type(t: &TypeExpr, diags: &mut Vec<Diagnostic>) -> Option<SlotType> {
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

fn resolve_value_type(t: &TypeExpr, diags: &mut Vec<Diagnostic>) -> Option<Type> {
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

struct Local {
    /// None after an error in its initialiser (already reported): uses stay silent. For
    /// an array, the element type.
    ty: Option<Type>,
    mutable: bool,
    /// An array: its length.
    array: Option<u32>,
}

/// The longest array a function may declare, and the most elements all its arrays may
/// hold together (the VM's `Limits::max_array_words`).
pub const MAX_ARRAY_WORDS: u32 = 1 << 16;
/// The most arrays one function may declare (the VM's `Limits::max_arrays`).
pub const MAX_ARRAYS: u32 = 16;

struct FnChecker<'a> {
    program: &'a Program,
    returns: &'a [Type],
    scopes: Vec<HashMap<String, Local>>,
    diags: &'a mut Vec<Diagnostic>,
    /// Arrays declared so far in the function, and their elements.
    arrays: (u32, u64),
    /// Checking a function of a test file (one with a `#[test]` function), where the test
    /// builtins are allowed.
    in_test: bool,
}

/// A native builtin (`strike_vm::native`): the native, the types of its leading arguments
/// (a message of 1..=16 values of any type may follow, if the native takes one) and its
/// results.
pub fn native_builtin(name: &str) -> Option<(Native, &'static [Type], &'static [Type])> {
    use Type::*;
    let native = Native::from_name(name)?;
    let (fixed, results): (&[Type], &[Type]) = match native {
        Native::Sha256 => (&[], &[Int, Int]),
        Native::Ed25519Verify => (&[Int, Int, Int, Int, Int, Int], &[Bool]),
        Native::SetCaller => (&[Address], &[]),
        Native::SetTime => (&[Int], &[]),
        Native::TestSign => (&[], &[Int, Int, Int, Int]),
        Native::TestKey => (&[], &[Int, Int]),
    };
    Some((native, fixed, results))
}

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
            let code = Expr {
                kind: ExprKind::Int(value.clone()),
                span: a.span,
            };
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

fn mismatch(expected: Type, found: Type, span: Span) -> Diagnostic {
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

impl FnChecker<'_> {
    fn lookup(&self, name: &str) -> Option<&Local> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    fn declare(&mut self, id: &Ident, ty: Option<Type>, mutable: bool) {
        self.declare_local(id, ty, mutable, None);
    }

    fn declare_local(&mut self, id: &Ident, ty: Option<Type>, mutable: bool, array: Option<u32>) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(id.name.clone(), Local { ty, mutable, array });
        }
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
        self.declare_local(id, ty, mutable, Some(len));
    }

    fn array_use(&mut self, name: &str, span: Span) {
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
                .storage
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| *t)
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

    fn expect(&mut self, e: &Expr, want: Type) {
        if let Some(got) = self.expr(e) {
            if got != want {
                self.diags.push(mismatch(want, got, e.span));
            }
        }
    }

    /// The types a call returns, checking its arguments; None after an error.
    /// A call of a native builtin: its leading arguments typed, then its message of
    /// 1..=16 values of any type; the test builtins only inside a `#[test]` function.
    fn native_call(
        &mut self,
        native: Native,
        fixed: &[Type],
        results: &[Type],
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
        Some(results.to_vec())
    }

    fn call(&mut self, func: &Ident, args: &[Expr], span: Span) -> Option<Vec<Type>> {
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
        if let Some(n) = generic_builtin(&func.name) {
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
            return Some(vec![first]);
        }
        if let Some((native, fixed, results)) = native_builtin(&func.name) {
            return self.native_call(native, fixed, results, func, args, span);
        }
        let (params, returns): (Vec<Type>, Vec<Type>) = if let Some((p, r)) = builtin(&func.name) {
            (p.to_vec(), vec![r])
        } else if let Some(sig) = self.program.functions.get(&func.name) {
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
                .copied()
                .chain(self.program.functions.keys().map(String::as_str));
            let help = match closest(&func.name, names) {
                Some(near) => format!("a function with a similar name exists: `{near}`"),
                None => format!("the builtins are: {}", BUILTINS.join(" ")),
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
    fn expr(&mut self, e: &Expr) -> Option<Type> {
        match &e.kind {
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
            ExprKind::Var(id) => {
                if let Some(l) = self.lookup(&id.name) {
                    if l.array.is_some() {
                        self.array_use(&id.name, id.span);
                        return None;
                    }
                    return l.ty;
                }
                match self.program.storage.iter().find(|(n, _)| *n == id.name) {
                    Some((_, SlotType::Value(t))) => Some(*t),
                    Some((_, SlotType::Map(..))) => {
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
                        let storage = self.program.storage.iter().map(|(n, _)| n.as_str());
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
            ExprKind::Index { base, index } => {
                if let Some(l) = self.lookup(&base.name) {
                    if l.array.is_some() {
                        let ty = l.ty;
                        self.expect(index, Type::Int);
                        return ty;
                    }
                }
                match self
                    .program
                    .storage
                    .iter()
                    .find(|(n, _)| *n == base.name)
                    .map(|(_, t)| *t)
                {
                    Some(SlotType::Map(k, v)) => {
                        self.expect(index, k);
                        Some(v)
                    }
                    Some(SlotType::Value(_)) | None
                        if self.lookup(&base.name).is_some()
                            || self.program.storage.iter().any(|(n, _)| *n == base.name) =>
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
            ExprKind::Call { func, args } => {
                let returns = self.call(func, args, e.span)?;
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
            ExprKind::Binary { op, lhs, rhs } => {
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
                        if *op == Rem && a != Type::Int {
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
                                mismatch(a, b, rhs.span).note(
                                    "arithmetic does not mix types: int with int, fx with fx",
                                ),
                            );
                            return None;
                        }
                        Some(a)
                    }
                }
            }
            ExprKind::Error => None,
        }
    }

    /// Checks a block in a new scope; returns whether it definitely returns (or reverts).
    fn block(&mut self, b: &Block) -> bool {
        self.scopes.push(HashMap::new());
        let mut returns = false;
        for s in &b.stmts {
            returns |= self.stmt(s);
        }
        self.scopes.pop();
        returns
    }

    fn stmt(&mut self, s: &Stmt) -> bool {
        match s {
            Stmt::Let {
                mutable,
                names,
                ty,
                value,
                span,
            } => {
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
                    self.declare_array(&names[0], value, *mutable);
                } else if names.len() == 1 {
                    let declared = ty.as_ref().and_then(|t| resolve_value_type(t, self.diags));
                    let got = self.expr(value);
                    if let (Some(d), Some(g)) = (declared, got) {
                        if d != g {
                            self.diags.push(mismatch(d, g, value.span));
                        }
                    }
                    self.declare(&names[0], declared.or(got), *mutable);
                } else {
                    let types = match &value.kind {
                        ExprKind::Call { func, args } => self.call(func, args, value.span),
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
                                self.declare(n, Some(t), *mutable);
                            }
                        }
                        other => {
                            if let Some(types) = other {
                                self.diags.push(Diagnostic::new(
                                    codes::RETURN_COUNT,
                                    format!(
                                        "{} names bound to {} values",
                                        names.len(),
                                        types.len()
                                    ),
                                    *span,
                                    "counts differ",
                                ));
                            }
                            for n in names {
                                self.declare(n, None, *mutable);
                            }
                        }
                    }
                }
                false
            }
            Stmt::Assign {
                target,
                op,
                value,
                cap,
                ..
            } => {
                if let Some(cap) = cap {
                    self.check_cap(target, *op, cap);
                }
                let target_ty = match &target.kind {
                    ExprKind::Var(id)
                        if self.lookup(&id.name).is_some_and(|l| l.array.is_some()) =>
                    {
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
                        self.expr(target)
                    }
                    ExprKind::Var(id) => match self.lookup(&id.name) {
                        Some(l) if !l.mutable => {
                            let (name, ty) = (id.name.clone(), l.ty);
                            self.diags.push(
                                Diagnostic::new(
                                    codes::NOT_ASSIGNABLE,
                                    format!("`{name}` is not mutable"),
                                    id.span,
                                    "cannot assign twice",
                                )
                                .help(format!("declare it with `let mut {name}`")),
                            );
                            ty
                        }
                        Some(l) => l.ty,
                        None => self.expr(target),
                    },
                    ExprKind::Index { .. } => self.expr(target),
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
                        if *op != AssignOp::Set && !matches!(t, Type::Int | Type::Fx) {
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
                self.declare(var, Some(Type::Int), false);
                self.block(body);
                self.scopes.pop();
                false
            }
            Stmt::Return { values, span } => {
                if values.len() != self.returns.len() {
                    self.diags.push(Diagnostic::new(
                        codes::RETURN_COUNT,
                        format!(
                            "this function returns {} value{}, {} given",
                            self.returns.len(),
                            if self.returns.len() == 1 { "" } else { "s" },
                            values.len()
                        ),
                        *span,
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
            Stmt::Require { cond, code, .. } => {
                self.expect(cond, Type::Bool);
                self.expect(code, Type::Int);
                false
            }
            Stmt::Revert { code, .. } => {
                self.expect(code, Type::Int);
                true
            }
            Stmt::Emit { event, args, span } => {
                match self
                    .program
                    .events
                    .iter()
                    .find(|(n, _)| *n == event.name)
                    .map(|(_, f)| f.clone())
                {
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
                                *span,
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
            Stmt::Expr(e) => {
                match &e.kind {
                    // A call as a statement may return any number of values (discarded).
                    ExprKind::Call { func, args } => {
                        self.call(func, args, e.span);
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

/// Checks `file`, returning its declarations and every diagnostic.
pub fn check(file: &SourceFile) -> (Program, Vec<Diagnostic>) {
    let mut diags = Vec::new();
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
                if let (true, Some(t)) =
                    (unique(&s.name, &mut diags), resolve_type(&s.ty, &mut diags))
                {
                    program.storage.push((s.name.name.clone(), t));
                }
            }
            Item::Event(e) => {
                let fields: Vec<Option<Type>> = e
                    .fields
                    .iter()
                    .map(|f| resolve_value_type(&f.ty, &mut diags))
                    .collect();
                if unique(&e.name, &mut diags) {
                    program
                        .events
                        .push((e.name.name.clone(), fields.into_iter().flatten().collect()));
                }
            }
            Item::Function(f) => {
                let params: Vec<Option<Type>> = f
                    .params
                    .iter()
                    .map(|p| resolve_value_type(&p.ty, &mut diags))
                    .collect();
                let returns: Vec<Option<Type>> = f
                    .returns
                    .iter()
                    .map(|t| resolve_value_type(t, &mut diags))
                    .collect();
                check_attributes(f, &mut diags);
                if builtin(&f.name.name).is_some()
                    || generic_builtin(&f.name.name).is_some()
                    || Native::from_name(&f.name.name).is_some()
                {
                    diags.push(Diagnostic::new(
                        codes::DUPLICATE,
                        format!("`{}` is a builtin function", f.name.name),
                        f.name.span,
                        "reserved name",
                    ));
                } else if unique(&f.name, &mut diags) {
                    program.functions.insert(
                        f.name.name.clone(),
                        Signature {
                            public: f.public,
                            params: params.into_iter().flatten().collect(),
                            returns: returns.into_iter().flatten().collect(),
                            test: f.is_test(),
                        },
                    );
                }
            }
            Item::Error(_) | Item::Import(_) => {}
        }
    }
    let test_file = file
        .items
        .iter()
        .any(|i| matches!(i, Item::Function(f) if f.is_test()));
    for item in &file.items {
        let Item::Function(f) = item else { continue };
        // Each body is checked against its own declaration, even a duplicate's (whose
        // name is already reported): its parameters are in scope, an unknown type among
        // them makes only that parameter untyped, and nothing is reported twice.
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
        let mut checker = FnChecker {
            program: &program,
            returns: &returns,
            scopes: vec![HashMap::new()],
            diags: &mut diags,
            arrays: (0, 0),
            in_test: test_file,
        };
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
            checker.declare(&p.name, t, false);
        }
        let returns_always = checker.block(&f.body);
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
    diags.sort_by_key(|d| (d.span.start, d.span.end));
    (program, diags)
}
