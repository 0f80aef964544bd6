//! The checker: name resolution and type checking of a parsed file. Its answer is data, a
//! resolved [`Program`]: ids for storage variables, events, functions and each function's
//! locals, and side tables keyed by expression id ([`ExprId`]) that give every expression
//! its type and every name what it refers to. The code generator looks these up; it never
//! re-derives a type or resolves a name itself.
//!
//! Guarantees: every error becomes a [`Diagnostic`] with a stable code and the span it is
//! about; an expression whose type cannot be known is reported once and then treated as
//! unknown, so one mistake does not cascade. A file with no diagnostics is well-typed:
//! every name resolves, every operator and call has operands of the right types, every fx
//! literal converts exactly (round to nearest) into range, and every function that returns
//! values returns on every path; and then every expression of it has its type in the table,
//! and every variable, map, array and call its referent.
//!
//! The passes: `items.rs` (declarations: storage, events, signatures, attributes), then
//! per function body `stmt.rs` (statements, scopes, locals) and `expr.rs` (expressions,
//! calls, builtins from `crate::builtins`); `rules.rs` and `names.rs` hold the rules they
//! share.

mod expr;
mod items;
mod names;
mod rules;
mod stmt;

pub use crate::types::{SlotType, Type};
pub use rules::{array_length, literal, MAX_ARRAYS, MAX_ARRAY_WORDS};

use super::ast::{Expr, ExprId, SourceFile};
use super::builtins::Builtin;
use super::diag::Diagnostic;
use std::collections::{BTreeSet, HashMap};

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

/// A storage variable's id: its index in [`Program::storage`], which is also its storage
/// space in the VM (declaration order fixes it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StorageId(pub u32);

/// An event's id: its index in [`Program::events`], the EMIT immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventId(pub u32);

/// A function's id: its index in [`Program::functions`] (source order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FnId(pub u32);

/// A local's id: its index in its function's [`FunctionDef::locals`] (parameters first,
/// then every `let` name and loop variable in source order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LocalId(pub u32);

/// A storage variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageVar {
    /// Its name (`name.field` for a field of a stored struct).
    pub name: String,
    /// What it holds.
    pub ty: SlotType,
    /// Its storage space in the VM (see `crate::structs` for the layout).
    pub space: u32,
}

/// A function of another contract, declared by an interface: XCALL's import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportDef {
    /// The interface.
    pub interface: String,
    /// The function's name (the callee's export).
    pub name: String,
    /// Parameter types (the address is not one).
    pub params: Vec<Type>,
    /// Return types.
    pub returns: Vec<Type>,
    /// A view call: the callee may not write or emit.
    pub view: bool,
}

/// An import's id: its index in [`Program::imports`], XCALL's immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImportId(pub u32);

/// An event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventDef {
    /// Its name.
    pub name: String,
    /// Its fields' types.
    pub fields: Vec<Type>,
}

/// A local variable, parameter or loop variable of a function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalDef {
    /// Its name.
    pub name: String,
    /// Its type (an array's element type); None after an error in its initialiser.
    pub ty: Option<Type>,
    /// Whether it may be reassigned (an array: whether its elements may).
    pub mutable: bool,
    /// For an array, its length.
    pub array: Option<u32>,
}

/// A function, with what its body declares and reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionDef {
    /// Its name.
    pub name: String,
    /// Its signature.
    pub signature: Signature,
    /// Its locals, by [`LocalId`].
    pub locals: Vec<LocalDef>,
    /// The storage variables its body reads (other than as the target of `=`, `+=` or
    /// `-=`): a `+=` on any other may be a commutative add.
    pub reads_storage: BTreeSet<StorageId>,
}

/// What a name in an expression refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Name {
    /// A local of the enclosing function (a value or, through an index, an array).
    Local(LocalId),
    /// A storage variable (a value or, through an index, a map).
    Storage(StorageId),
    /// A function of the contract.
    Function(FnId),
    /// A function of another contract, through an interface.
    Import(ImportId),
    /// A builtin.
    Builtin(&'static Builtin),
}

/// The checker's answer: the declarations with their ids, and by expression id each
/// expression's type and what its name refers to.
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// Storage variables, in declaration order (by [`StorageId`]).
    pub storage: Vec<StorageVar>,
    /// Events, in declaration order (by [`EventId`]).
    pub events: Vec<EventDef>,
    /// Functions, in source order (by [`FnId`]); a duplicate's second definition is
    /// reported and left out.
    pub functions: Vec<FunctionDef>,
    /// Interface functions, in declaration order (by [`ImportId`]).
    pub imports: Vec<ImportDef>,
    /// By expression id: the expression's type, if it has one (a call of several values
    /// has none).
    types: Vec<Option<Type>>,
    /// By expression id: what a variable, index or call names.
    names: Vec<Option<Name>>,
    /// The local each declaring identifier (a parameter, `let` name or loop variable)
    /// declares, by the identifier's start in the source.
    declarations: HashMap<(usize, String), LocalId>,
}

impl Program {
    /// The function called `name`.
    pub fn function(&self, name: &str) -> Option<FnId> {
        self.functions
            .iter()
            .position(|f| f.name == name)
            .map(|i| FnId(i as u32))
    }

    /// Function `id`'s declaration.
    pub fn function_def(&self, id: FnId) -> Option<&FunctionDef> {
        self.functions.get(id.0 as usize)
    }

    /// The interface function written `Interface.function`.
    pub fn import(&self, dotted: &str) -> Option<ImportId> {
        let (interface, name) = dotted.split_once('.')?;
        self.imports
            .iter()
            .position(|i| i.interface == interface && i.name == name)
            .map(|i| ImportId(i as u32))
    }

    /// The storage variable called `name`.
    pub fn storage_var(&self, name: &str) -> Option<StorageId> {
        self.storage
            .iter()
            .position(|s| s.name == name)
            .map(|i| StorageId(i as u32))
    }

    /// The event called `name`.
    pub fn event(&self, name: &str) -> Option<EventId> {
        self.events
            .iter()
            .position(|e| e.name == name)
            .map(|i| EventId(i as u32))
    }

    /// The type of expression `e`, if the checker knows it.
    pub fn type_of(&self, e: &Expr) -> Option<Type> {
        self.types.get(e.id.0 as usize).copied().flatten()
    }

    /// What the name in `e` (a variable, index or call) refers to.
    pub fn name_of(&self, e: &Expr) -> Option<Name> {
        self.names.get(e.id.0 as usize).copied().flatten()
    }

    /// The local the identifier `name` starting at `start` declares (the name tells apart
    /// the fields of a struct local, which share their declaration's position).
    pub fn declared_at(&self, start: usize, name: &str) -> Option<LocalId> {
        self.declarations.get(&(start, name.to_string())).copied()
    }

    fn set_type(&mut self, id: ExprId, ty: Option<Type>) {
        if let Some(slot) = self.types.get_mut(id.0 as usize) {
            *slot = ty;
        }
    }

    fn set_name(&mut self, id: ExprId, name: Name) {
        if let Some(slot) = self.names.get_mut(id.0 as usize) {
            *slot = Some(name);
        }
    }
}

/// Checks `file` (its expressions numbered, as `files::gather` and `parse` leave them),
/// returning the resolved program and every diagnostic in source order.
pub fn check(file: &SourceFile) -> (Program, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut program = items::declarations(file, &mut diags);
    let expressions = file.expressions() as usize;
    program.types = vec![None; expressions];
    program.names = vec![None; expressions];
    items::bodies(file, &mut program, &mut diags);
    diags.sort_by_key(|d| (d.span.start, d.span.end));
    (program, diags)
}
