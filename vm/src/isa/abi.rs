//! What a module says about itself to the world outside its bytecode: the contracts it
//! calls ([`Import`], what XCALL's immediate indexes) and its interface ([`Abi`]: exports
//! with named and typed parameters and returns, events with named fields, revert codes
//! with their messages, structs and the storage layout).
//!
//! The VM runs on [`Import`]s: a call checks the callee's export against the import's
//! signature when it runs. The [`Abi`] is metadata: the VM reads only its revert messages
//! (for receipts) and never trusts it for execution; tools (the CLI, front ends, auditors)
//! read the rest. Both travel in the `.sbc` (sections 6 and 7, `spec/module-format.md`).

use super::module::ValueType;

/// A function of another contract that this module calls through an interface: XCALL's
/// immediate is its index. The callee's export of this name must have exactly these
/// parameter and return types when the call runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Import {
    /// The interface that declares it (for messages and the ABI).
    pub interface: String,
    /// The export's name in the callee.
    pub name: String,
    /// Parameter types.
    pub params: Vec<ValueType>,
    /// Return types.
    pub returns: Vec<ValueType>,
    /// A view call: the callee (and whatever it calls) may not write storage or emit.
    pub view: bool,
}

/// A named, typed value: a parameter, a return value, an event or struct field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AbiField {
    /// Its name (empty for an unnamed return value).
    pub name: String,
    /// Its type as source writes it: `fx`, `int`, `bool`, `address`, a struct's name, or
    /// `map<K, V>` (storage only).
    pub ty: String,
}

/// An export as callers see it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AbiFunction {
    /// The export's name.
    pub name: String,
    /// Its parameters (a struct is one parameter here, its fields' values in order in the
    /// export's flat signature).
    pub params: Vec<AbiField>,
    /// Its return values.
    pub returns: Vec<AbiField>,
    /// Whether it writes nothing and emits nothing (the compiler checks it).
    pub view: bool,
    /// Its doc comment.
    pub doc: String,
}

/// An event's fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AbiEvent {
    /// The event's name (as in the module's event table, same index).
    pub name: String,
    /// Its fields, in EMIT's value order.
    pub fields: Vec<AbiField>,
}

/// A revert code and what it means.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AbiError {
    /// The code REVERT carries.
    pub code: u32,
    /// The message the source gives it.
    pub message: String,
}

/// A struct type's fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AbiStruct {
    /// Its name.
    pub name: String,
    /// Its fields in declaration order.
    pub fields: Vec<AbiField>,
}

/// One storage space of the contract: a variable, or one field of a struct variable.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AbiStorage {
    /// `name`, or `name.field` for a struct's field.
    pub name: String,
    /// The space its slots live in: `(contract, space, key)`.
    pub space: u32,
    /// What each slot holds (`fx`), or `map<K, V>` with V the field's type.
    pub ty: String,
}

/// A module's interface: metadata for tools, never trusted by execution.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Abi {
    /// The exports, in the module's export order.
    pub functions: Vec<AbiFunction>,
    /// The events, in the module's event order.
    pub events: Vec<AbiEvent>,
    /// Revert codes with messages, by code.
    pub errors: Vec<AbiError>,
    /// Struct types.
    pub structs: Vec<AbiStruct>,
    /// The storage layout, by space.
    pub storage: Vec<AbiStorage>,
}

impl Abi {
    /// Whether the module carries no interface (built by hand or by the assembler).
    pub fn is_empty(&self) -> bool {
        *self == Abi::default()
    }

    /// The message of revert code `code`, if the source gave one.
    pub fn message(&self, code: u32) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.code == code)
            .map(|e| e.message.as_str())
    }

    /// The export called `name`.
    pub fn function(&self, name: &str) -> Option<&AbiFunction> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// The event called `name`.
    pub fn event(&self, name: &str) -> Option<&AbiEvent> {
        self.events.iter().find(|e| e.name == name)
    }

    /// The storage entries of `old` that this layout would move or retype: each a line
    /// saying what. Empty when every variable (and field) of `old` keeps its space and type
    /// here, so the data already stored is read back unchanged after an upgrade.
    pub fn layout_conflicts(&self, old: &Abi) -> Vec<String> {
        let mut out = Vec::new();
        for o in &old.storage {
            match self.storage.iter().find(|n| n.name == o.name) {
                None => {}
                Some(n) if n.space != o.space => out.push(format!(
                    "`{}` moved from space {} to space {}: its stored values would be lost",
                    o.name, o.space, n.space
                )),
                Some(n) if n.ty != o.ty => out.push(format!(
                    "`{}` changed type from `{}` to `{}`: its stored values would be misread",
                    o.name, o.ty, n.ty
                )),
                Some(_) => {}
            }
            if let Some(n) = self
                .storage
                .iter()
                .find(|n| n.space == o.space && n.name != o.name)
            {
                if !old.storage.iter().any(|x| x.name == n.name) {
                    out.push(format!(
                        "`{}` takes space {}, which held `{}`: it would read the old values",
                        n.name, o.space, o.name
                    ));
                }
            }
        }
        out
    }
}

/// Returns the value types as the ABI writes them (`fx`, ...).
pub fn type_names(types: &[ValueType]) -> String {
    types
        .iter()
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join(", ")
}
