//! The syntax tree of a `.stk` source file, as the parser builds it. Every node carries the
//! byte span it came from, so that every later diagnostic can point at the source.

/// A byte range `[start, end)` in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

/// A name and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where.
    pub span: Span,
}

/// A whole source file: one contract.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SourceFile {
    /// Top-level declarations, in order.
    pub items: Vec<Item>,
}

impl SourceFile {
    /// Numbers every expression of the tree, in source order from 0; returns how many
    /// there are. The checker's tables are indexed by these numbers.
    pub fn number(&mut self) -> u32 {
        let mut next = 0;
        for item in &mut self.items {
            if let Item::Function(f) = item {
                f.body.number(&mut next);
            }
        }
        next
    }
}

impl SourceFile {
    /// One more than the largest expression number in the tree (0 for none).
    pub fn expressions(&self) -> u32 {
        fn walk(e: &Expr, most: &mut u32) {
            *most = (*most).max(e.id.0 + 1);
            e.children().into_iter().for_each(|c| walk(c, most));
        }
        fn block(b: &Block, most: &mut u32) {
            for s in &b.stmts {
                s.exprs().into_iter().for_each(|e| walk(e, most));
                s.blocks().into_iter().for_each(|b| block(b, most));
            }
        }
        let mut most = 0;
        for item in &self.items {
            if let Item::Function(f) = item {
                block(&f.body, &mut most);
            }
        }
        most
    }
}

impl Block {
    fn number(&mut self, next: &mut u32) {
        for s in &mut self.stmts {
            s.number(next);
        }
    }
}

impl Stmt {
    /// Its own expressions (not those inside its blocks), in source order.
    pub fn exprs(&self) -> Vec<&Expr> {
        match self {
            Stmt::Let { value, .. } => vec![value],
            Stmt::Assign {
                target, value, cap, ..
            } => [Some(target), Some(value), cap.as_ref()]
                .into_iter()
                .flatten()
                .collect(),
            Stmt::If { cond, .. } | Stmt::While { cond, .. } => vec![cond],
            Stmt::For { start, end, .. } => vec![start, end],
            Stmt::Return { values, .. } => values.iter().collect(),
            Stmt::Require { cond, code, .. } => vec![cond, code],
            Stmt::Revert { code, .. } => vec![code],
            Stmt::Emit { args, .. } => args.iter().collect(),
            Stmt::Expr(e) => vec![e],
            Stmt::Error(_) => Vec::new(),
        }
    }

    /// The blocks it holds, in source order.
    pub fn blocks(&self) -> Vec<&Block> {
        match self {
            Stmt::If {
                then, otherwise, ..
            } => [Some(then), otherwise.as_ref()]
                .into_iter()
                .flatten()
                .collect(),
            Stmt::While { body, .. } | Stmt::For { body, .. } => vec![body],
            _ => Vec::new(),
        }
    }

    /// Numbers its expressions and blocks, in source order.
    fn number(&mut self, next: &mut u32) {
        match self {
            Stmt::Let { value, .. } => value.number(next),
            Stmt::Assign {
                target, value, cap, ..
            } => {
                target.number(next);
                value.number(next);
                if let Some(c) = cap {
                    c.number(next);
                }
            }
            Stmt::If {
                cond,
                then,
                otherwise,
                ..
            } => {
                cond.number(next);
                then.number(next);
                if let Some(o) = otherwise {
                    o.number(next);
                }
            }
            Stmt::While { cond, body, .. } => {
                cond.number(next);
                body.number(next);
            }
            Stmt::For {
                start, end, body, ..
            } => {
                start.number(next);
                end.number(next);
                body.number(next);
            }
            Stmt::Return { values, .. } => values.iter_mut().for_each(|v| v.number(next)),
            Stmt::Require { cond, code, .. } => {
                cond.number(next);
                code.number(next);
            }
            Stmt::Revert { code, .. } => code.number(next),
            Stmt::Emit { args, .. } => args.iter_mut().for_each(|a| a.number(next)),
            Stmt::Expr(e) => e.number(next),
            Stmt::Error(_) => {}
        }
    }
}

/// A top-level declaration.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `import "path.stk";`
    Import(Import),
    /// `storage name: type;`
    Storage(StorageDecl),
    /// `event Name(field: type, ...);`
    Event(EventDecl),
    /// `[pub] fn name(params) [-> returns] { body }`
    Function(FnDecl),
    /// `interface Name { [view] fn f(params) [-> returns]; ... }`
    Interface(InterfaceDecl),
    /// `struct Name { field: type, ... }`
    Struct(StructDecl),
    /// A declaration the parser could not read (already reported).
    Error(Span),
}

/// `import "path.stk";`: the named file's declarations join this contract's, as if they
/// were written here (spec/language.md, Imports).
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    /// The path as written, relative to the importing file's folder.
    pub path: String,
    /// The whole declaration.
    pub span: Span,
}

/// A storage variable of the contract.
#[derive(Clone, Debug, PartialEq)]
pub struct StorageDecl {
    /// Doc comment lines.
    pub doc: Vec<String>,
    /// Its name.
    pub name: Ident,
    /// Its type (a value type or a map).
    pub ty: TypeExpr,
    /// The whole declaration.
    pub span: Span,
    /// Its storage space, set by `structs::desugar` (None: its index among the variables).
    pub space: Option<u32>,
}

/// An event the contract can emit.
#[derive(Clone, Debug, PartialEq)]
pub struct EventDecl {
    /// Doc comment lines.
    pub doc: Vec<String>,
    /// Its name.
    pub name: Ident,
    /// Its fields.
    pub fields: Vec<Param>,
    /// The whole declaration.
    pub span: Span,
}

/// The functions of other contracts a contract may call: `Name(address).f(args)`.
#[derive(Clone, Debug, PartialEq)]
pub struct InterfaceDecl {
    /// Doc comment lines.
    pub doc: Vec<String>,
    /// Its name.
    pub name: Ident,
    /// Its functions.
    pub functions: Vec<InterfaceFn>,
    /// The whole declaration.
    pub span: Span,
}

/// One function of an interface: a signature, no body.
#[derive(Clone, Debug, PartialEq)]
pub struct InterfaceFn {
    /// Doc comment lines.
    pub doc: Vec<String>,
    /// `view`: the callee may not write storage or emit (the VM enforces it).
    pub view: bool,
    /// Its name: the export's name in the callee.
    pub name: Ident,
    /// Parameters.
    pub params: Vec<Param>,
    /// Return types.
    pub returns: Vec<TypeExpr>,
    /// The declaration.
    pub span: Span,
}

/// A struct type: named fields of the value types.
#[derive(Clone, Debug, PartialEq)]
pub struct StructDecl {
    /// Doc comment lines.
    pub doc: Vec<String>,
    /// Its name.
    pub name: Ident,
    /// Its fields, in order.
    pub fields: Vec<Param>,
    /// The whole declaration.
    pub span: Span,
}

/// A function.
#[derive(Clone, Debug, PartialEq)]
pub struct FnDecl {
    /// Doc comment lines.
    pub doc: Vec<String>,
    /// `pub`: callable by transactions.
    pub public: bool,
    /// Its name.
    pub name: Ident,
    /// Parameters.
    pub params: Vec<Param>,
    /// Return types (empty: returns nothing).
    pub returns: Vec<TypeExpr>,
    /// Attributes written before it: `#[test]`, `#[test(expect_revert = CODE)]`.
    pub attrs: Vec<Attribute>,
    /// The body.
    pub body: Block,
    /// The whole function.
    pub span: Span,
}

impl FnDecl {
    /// Whether it is a test (`#[test]` or `#[test(...)]`): compiled only by `strike test`.
    pub fn is_test(&self) -> bool {
        self.attrs.iter().any(|a| a.name.name == "test")
    }

    /// The revert code its `#[test(expect_revert = CODE)]` expects, as written.
    pub fn expected_revert(&self) -> Option<&str> {
        self.attrs
            .iter()
            .filter(|a| a.name.name == "test")
            .find_map(|a| a.arg.as_ref())
            .map(|(_, v)| v.as_str())
    }
}

/// `#[name]` or `#[name(key = INT)]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    /// The attribute's name.
    pub name: Ident,
    /// Its argument: the key and the int literal, as written.
    pub arg: Option<(Ident, String)>,
    /// The whole attribute.
    pub span: Span,
}

/// A typed name: a parameter or an event field.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The name.
    pub name: Ident,
    /// The type.
    pub ty: TypeExpr,
}

/// A type as written.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExpr {
    /// `fx`, `int`, `bool`, `address` (or an unknown name, reported by the checker).
    Named(Ident),
    /// `map<K, V>`
    Map {
        /// Key type.
        key: Box<TypeExpr>,
        /// Value type.
        value: Box<TypeExpr>,
        /// The whole type.
        span: Span,
    },
}

/// `{ statements }`
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// The statements.
    pub stmts: Vec<Stmt>,
    /// The braces and all between.
    pub span: Span,
}

/// Assignment operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    /// `=`
    Set,
    /// `+=`
    Add,
    /// `-=`
    Sub,
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `let [mut] name[: type] = value;` or `let (a, b) = value;`
    Let {
        /// Whether the names may be reassigned.
        mutable: bool,
        /// One name, or several for a call returning several values.
        names: Vec<Ident>,
        /// The declared type, if written (single names only).
        ty: Option<TypeExpr>,
        /// The value.
        value: Expr,
        /// The statement.
        span: Span,
    },
    /// `place op value;`
    Assign {
        /// What is assigned: a local, a storage variable or a map entry.
        target: Expr,
        /// `=`, `+=` or `-=`.
        op: AssignOp,
        /// The value.
        value: Expr,
        /// `capped CAP`: on storage, `+=`/`-=` reverts (VM error 19) when the result would
        /// be above CAP.
        cap: Option<Expr>,
        /// The statement.
        span: Span,
    },
    /// `if cond { ... } [else if ... | else { ... }]`
    If {
        /// The condition.
        cond: Expr,
        /// Taken when true.
        then: Block,
        /// Taken when false: a block (an `else if` is a block holding one `If`).
        otherwise: Option<Block>,
        /// The statement.
        span: Span,
    },
    /// `while cond { ... }`
    While {
        /// The condition.
        cond: Expr,
        /// The body.
        body: Block,
        /// The statement.
        span: Span,
    },
    /// `for var in start..end { ... }` over ints, end excluded.
    For {
        /// The loop variable.
        var: Ident,
        /// First value.
        start: Expr,
        /// One past the last value.
        end: Expr,
        /// The body.
        body: Block,
        /// The statement.
        span: Span,
    },
    /// `return [values];`
    Return {
        /// The returned values.
        values: Vec<Expr>,
        /// The statement.
        span: Span,
    },
    /// `require(cond, CODE[, "message"]);`
    Require {
        /// Must be true.
        cond: Expr,
        /// The revert code otherwise.
        code: Expr,
        /// For people; not stored on chain.
        message: Option<String>,
        /// The statement.
        span: Span,
    },
    /// `revert(CODE[, "message"]);`
    Revert {
        /// The revert code.
        code: Expr,
        /// For people.
        message: Option<String>,
        /// The statement.
        span: Span,
    },
    /// `emit Name(values);`
    Emit {
        /// The event.
        event: Ident,
        /// Its values.
        args: Vec<Expr>,
        /// The statement.
        span: Span,
    },
    /// An expression evaluated for its effect (a call).
    Expr(Expr),
    /// A statement the parser could not read (already reported).
    Error(Span),
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `!x`
    Not,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    And,
    /// `||`
    Or,
}

/// An expression's number in its syntax tree: the key of the checker's side tables
/// (`check::Program`). [`SourceFile::number`] gives every expression of a tree its own, in
/// source order; the parser leaves them at 0 until then.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExprId(pub u32);

/// An expression and its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where.
    pub span: Span,
    /// Its number (see [`ExprId`]).
    pub id: ExprId,
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// An int literal, as written.
    Int(String),
    /// An fx literal, as written (converted exactly by the checker).
    Fx(String),
    /// `true` or `false`.
    Bool(bool),
    /// A local, parameter or storage variable.
    Var(Ident),
    /// `map[key]` or `array[index]`
    Index {
        /// The map (a storage variable) or array (a local).
        base: Ident,
        /// The key or index.
        index: Box<Expr>,
    },
    /// `[fill; LENGTH]`: a new local array, only as the value of a `let`.
    Array {
        /// Every element's initial value.
        fill: Box<Expr>,
        /// The length, an int literal as written.
        length: String,
        /// Where the length is written.
        length_span: Span,
    },
    /// `f(args)`: a function of the contract or a builtin.
    Call {
        /// The callee.
        func: Ident,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `base.field`: a field of a struct value (a local, or a stored struct).
    Field {
        /// The struct.
        base: Box<Expr>,
        /// The field.
        field: Ident,
    },
    /// `base.method(args)`: a call through an interface, `Feed(address).price()`.
    Method {
        /// The interface and address: `Feed(address)`.
        base: Box<Expr>,
        /// The interface's function.
        method: Ident,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `-x`, `!x`
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        expr: Box<Expr>,
    },
    /// `a op b`
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// An expression the parser could not read (already reported).
    Error,
}

impl Expr {
    /// An expression of `kind` spanning `span`, not yet numbered.
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr {
            kind,
            span,
            id: ExprId::default(),
        }
    }

    /// Its direct subexpressions, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Index { index, .. } => vec![index],
            ExprKind::Array { fill, .. } => vec![fill],
            ExprKind::Call { args, .. } => args.iter().collect(),
            ExprKind::Field { base, .. } => vec![base],
            ExprKind::Method { base, args, .. } => std::iter::once(&**base).chain(args).collect(),
            ExprKind::Unary { expr, .. } => vec![expr],
            ExprKind::Binary { lhs, rhs, .. } => vec![lhs, rhs],
            ExprKind::Int(_)
            | ExprKind::Fx(_)
            | ExprKind::Bool(_)
            | ExprKind::Var(_)
            | ExprKind::Error => Vec::new(),
        }
    }

    fn number(&mut self, next: &mut u32) {
        self.id = ExprId(*next);
        *next += 1;
        match &mut self.kind {
            ExprKind::Index { index, .. } => index.number(next),
            ExprKind::Array { fill, .. } => fill.number(next),
            ExprKind::Call { args, .. } => args.iter_mut().for_each(|a| a.number(next)),
            ExprKind::Field { base, .. } => base.number(next),
            ExprKind::Method { base, args, .. } => {
                base.number(next);
                args.iter_mut().for_each(|a| a.number(next));
            }
            ExprKind::Unary { expr, .. } => expr.number(next),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.number(next);
                rhs.number(next);
            }
            ExprKind::Int(_)
            | ExprKind::Fx(_)
            | ExprKind::Bool(_)
            | ExprKind::Var(_)
            | ExprKind::Error => {}
        }
    }

    /// `lhs op rhs` spanning `[l, r)`.
    pub fn binary(op: BinOp, lhs: Expr, rhs: Expr, l: usize, r: usize) -> Expr {
        let kind = ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        };
        Expr::new(kind, Span::new(l, r))
    }

    /// `op expr` spanning `[l, r)`.
    pub fn unary(op: UnaryOp, expr: Expr, l: usize, r: usize) -> Expr {
        let kind = ExprKind::Unary {
            op,
            expr: Box::new(expr),
        };
        Expr::new(kind, Span::new(l, r))
    }
}
