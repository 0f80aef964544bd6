//! The language's value types, and what a storage variable holds: shared by the builtin
//! table, the checker and the code generator.

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
