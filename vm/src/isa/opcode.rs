//! The instruction set, defined once.
//!
//! Every opcode is one row of the `opcodes!` table below: its byte, mnemonic, the role of
//! each operand field (a, b, c, imm; see [`Role`]), static gas, its [`Effect`] (for a pure
//! opcode, the function in [`super::semantics`] that computes it), exact semantics (one
//! line of Rust-like pseudocode), the errors it can raise and a summary. The table
//! generates the [`Opcode`] enum, byte decoding, the gas table, the register reads and
//! writes of every instruction, block boundaries, the assembler's and disassembler's
//! syntax and `spec/OPCODES.md` (see `spec.rs`): nothing else in the VM lists opcodes by
//! hand.
//!
//! Notation in the semantics column: `r[x]` is register x of the current frame (128 bits,
//! read as i128 for integers and as I64F64 raw bits for fx); `K[i]` is constant i; `A[i]`
//! is array i of the current frame; `imm` is the instruction's signed 32-bit immediate; `?`
//! propagates the named error, which reverts the transaction. Booleans are 0 and 1.

use super::roles::{Operands, Role};
use super::semantics::{self, Outcome, Pure};

/// What an opcode does beyond reading and writing its registers.
#[derive(Clone, Copy, Debug)]
pub enum Effect {
    /// `r[a] = f(inputs)`, its inputs being the instruction's read operands in word order
    /// (registers, an integer immediate or a pool constant). Nothing else is touched.
    Pure(Pure),
    /// Jumps to the target when `f(inputs) != 0`, else falls through.
    Branch(Pure),
    /// Always jumps to the target.
    Goto,
    /// Calls a function of the module (a frame is pushed; its results land in the window).
    Call,
    /// Calls an export of another deployed contract, through an import: the callee runs
    /// on its own storage, with the transaction's gas; its results land in the window.
    CallContract,
    /// Returns from the function with the window's values.
    Return,
    /// Ends the transaction, reverting it with the immediate's code.
    Revert,
    /// Reads or writes a storage slot of the executing contract.
    Storage(StorageOp),
    /// Appends an event to the transaction's.
    Emit,
    /// Runs a native function on the window's values.
    Native,
    /// Reads a value of the transaction's environment.
    Env(EnvValue),
    /// Reads or writes an element of the frame's arrays.
    Array(ArrayOp),
}

/// The storage operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StorageOp {
    /// SLOAD: reads the slot.
    Load,
    /// SSTORE: overwrites the slot.
    Store,
    /// SADD: adds to the slot (commutative).
    Add,
    /// SADDCAP: adds to the slot unless the sum exceeds a cap (commutative).
    AddCapped,
}

/// The environment values an instruction can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EnvValue {
    /// The transaction's caller.
    Caller,
    /// The executing contract.
    Contract,
    /// The block number.
    BlockNumber,
    /// The block timestamp.
    Timestamp,
    /// The gas left.
    GasLeft,
}

/// The array operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArrayOp {
    /// ALOAD.
    Load,
    /// ASTORE.
    Store,
}

/// Static description of one opcode: one row of the table.
#[derive(Debug)]
pub struct OpInfo {
    /// The opcode byte.
    pub code: u8,
    /// Assembly mnemonic (upper case).
    pub mnemonic: &'static str,
    /// The role of each operand field.
    pub operands: Operands,
    /// Gas charged as part of the enclosing basic block's constant.
    pub gas: u32,
    /// What it does beyond its registers (for a pure opcode: its function).
    pub effect: Effect,
    /// Exact semantics, one line of Rust-like pseudocode.
    pub semantics: &'static str,
    /// Errors the instruction can raise (each reverts the transaction), or "-".
    pub errors: &'static str,
    /// One-line description.
    pub summary: &'static str,
}

/// Short names for the roles, as the table writes them.
mod short {
    use super::Role;
    pub const W: Role = Role::Write;
    pub const R: Role = Role::Read;
    pub const K: Role = Role::Key;
    pub const WIN: Role = Role::Window;
    pub const ARGS: Role = Role::Args;
    pub const RES: Role = Role::Results;
    pub const INT: Role = Role::Int;
    pub const CONST: Role = Role::Const;
    pub const JUMP: Role = Role::Jump;
    pub const FUNC: Role = Role::Function;
    pub const EVENT: Role = Role::Event;
    pub const CODE: Role = Role::Code;
    pub const SPACE: Role = Role::Space;
    pub const ARRAY: Role = Role::Array;
    pub const NATIVE: Role = Role::Native;
    pub const IMPORT: Role = Role::Import;
    pub const X: Role = Role::Unused;
}

/// Effects, as the table writes them.
mod effect {
    use super::super::semantics::{Binary, Pure, Ternary, Unary};
    use super::{ArrayOp, Effect, EnvValue, StorageOp};
    pub const fn pure1(f: Unary) -> Effect {
        Effect::Pure(Pure::Unary(f))
    }
    pub const fn pure2(f: Binary) -> Effect {
        Effect::Pure(Pure::Binary(f))
    }
    pub const fn pure3(f: Ternary) -> Effect {
        Effect::Pure(Pure::Ternary(f))
    }
    pub const fn branch1(f: Unary) -> Effect {
        Effect::Branch(Pure::Unary(f))
    }
    pub const fn branch2(f: Binary) -> Effect {
        Effect::Branch(Pure::Binary(f))
    }
    pub const fn goto() -> Effect {
        Effect::Goto
    }
    pub const fn call() -> Effect {
        Effect::Call
    }
    pub const fn call_contract() -> Effect {
        Effect::CallContract
    }
    pub const fn ret() -> Effect {
        Effect::Return
    }
    pub const fn revert() -> Effect {
        Effect::Revert
    }
    pub const fn storage(op: StorageOp) -> Effect {
        Effect::Storage(op)
    }
    pub const fn emit() -> Effect {
        Effect::Emit
    }
    pub const fn native() -> Effect {
        Effect::Native
    }
    pub const fn env(v: EnvValue) -> Effect {
        Effect::Env(v)
    }
    pub const fn array(op: ArrayOp) -> Effect {
        Effect::Array(op)
    }
}

/// Defines `for_each_opcode!`, which calls a macro with every opcode's name (`$d` is a `$`
/// token, so that the inner macro can have metavariables of its own).
macro_rules! for_each_opcode_macro {
    (($d:tt) $($name:ident)*) => {
        /// Calls macro `$m` with the name of every opcode, in table order: for code that
        /// must be instantiated once per opcode, as the JIT's entries to pure functions.
        #[cfg_attr(not(feature = "jit"), allow(unused_macros))]
        macro_rules! for_each_opcode {
            ($d m:ident) => {
                $d m! { $($name)* }
            };
        }
        pub(crate) use for_each_opcode;
    };
}

macro_rules! opcodes {
    ($( $code:literal $name:ident $mnemonic:literal ($a:ident $b:ident $c:ident $imm:ident)
        $gas:literal $effect:ident($($arg:expr)?)
        [$semantics:literal] [$errors:literal] $summary:literal; )*) => {
        /// An opcode byte that the table defines. See [`Opcode::info`] for its row.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Opcode {
            $( #[doc = $summary] $name = $code, )*
        }

        for_each_opcode_macro!(($) $($name)*);

        impl Opcode {
            /// Every opcode, in table order.
            pub const ALL: &'static [Opcode] = &[$(Opcode::$name),*];

            /// The opcode with this byte, if the table defines one.
            #[inline]
            pub const fn from_byte(byte: u8) -> Option<Opcode> {
                match byte {
                    $( $code => Some(Opcode::$name), )*
                    _ => None,
                }
            }

            /// This opcode's row of the table.
            #[inline]
            pub const fn info(self) -> &'static OpInfo {
                #[allow(unused_imports)]
                use semantics::*;
                match self {
                    $( Opcode::$name => {
                        const INFO: OpInfo = OpInfo {
                        code: $code,
                        mnemonic: $mnemonic,
                        operands: Operands {
                            a: short::$a,
                            b: short::$b,
                            c: short::$c,
                            imm: short::$imm,
                        },
                        gas: $gas,
                        effect: effect::$effect($($arg)?),
                        semantics: $semantics,
                        errors: $errors,
                        summary: $summary,
                        };
                        &INFO
                    } )*
                }
            }

            /// The opcode with this mnemonic (case-insensitive), for the assembler.
            pub fn from_mnemonic(text: &str) -> Option<Opcode> {
                $( if text.eq_ignore_ascii_case($mnemonic) { return Some(Opcode::$name); } )*
                None
            }
        }
    };
}

opcodes! {
    // ---- moves and constants
    0x01 Mov "MOV" (W R X X) 1 pure1(identity) ["r[a] = r[b]"] ["-"] "Copy a register.";
    0x02 LoadInt "LOADI" (W X X INT) 1 pure1(identity) ["r[a] = imm as i128"] ["-"] "Load a small integer.";
    0x03 LoadFx "LOADFX" (W X X INT) 1 pure1(int_to_fx) ["r[a] = (imm as i128) << 64"] ["-"] "Load a small whole number as fx.";
    0x04 LoadConst "LOADK" (W X X CONST) 1 pure1(identity) ["r[a] = K[imm]"] ["-"] "Load a 128-bit constant from the pool.";

    // ---- integer and fx arithmetic (checked: overflow reverts)
    0x10 Add "ADD" (W R R X) 1 pure2(add) ["r[a] = r[b].checked_add(r[c])?"] ["Overflow"] "Add (int or fx: the same bits).";
    0x11 Sub "SUB" (W R R X) 1 pure2(sub) ["r[a] = r[b].checked_sub(r[c])?"] ["Overflow"] "Subtract (int or fx).";
    0x12 Neg "NEG" (W R X X) 1 pure1(neg) ["r[a] = r[b].checked_neg()?"] ["Overflow"] "Negate (int or fx).";
    0x13 AddImm "ADDI" (W R X INT) 1 pure2(add) ["r[a] = r[b].checked_add(imm as i128)?"] ["Overflow"] "Add a small integer to an int.";
    0x14 AddConst "ADDK" (W R X CONST) 1 pure2(add) ["r[a] = r[b].checked_add(K[imm])?"] ["Overflow"] "Add a pool constant (int or fx).";
    0x15 IntMul "IMUL" (W R R X) 2 pure2(int_mul) ["r[a] = r[b].checked_mul(r[c])?"] ["Overflow"] "Integer multiply.";
    0x16 IntDiv "IDIV" (W R R X) 2 pure2(int_div) ["r[a] = r[b].checked_div(r[c]) (toward zero)?"] ["DivisionByZero, Overflow"] "Integer divide, truncating.";
    0x17 IntRem "IREM" (W R R X) 2 pure2(int_rem) ["r[a] = r[b].checked_rem(r[c])?"] ["DivisionByZero, Overflow"] "Integer remainder (sign of the dividend).";
    0x18 Abs "ABS" (W R X X) 1 pure1(abs) ["r[a] = r[b].checked_abs()?"] ["Overflow"] "Absolute value (int or fx).";
    0x19 Min "MIN" (W R R X) 1 pure2(min) ["r[a] = min(r[b], r[c])"] ["-"] "Signed minimum (int or fx).";
    0x1a Max "MAX" (W R R X) 1 pure2(max) ["r[a] = max(r[b], r[c])"] ["-"] "Signed maximum (int or fx).";

    // ---- fx multiply and divide with explicit rounding (strike_vm::math)
    0x20 Mul "MUL" (W R R X) 2 pure2(mul) ["r[a] = math::mul(r[b], r[c])?"] ["Overflow"] "Fx multiply, round to nearest even.";
    0x21 MulDown "MULD" (W R R X) 2 pure2(mul_down) ["r[a] = math::mul_down(r[b], r[c])?"] ["Overflow"] "Fx multiply, round toward -inf.";
    0x22 MulUp "MULU" (W R R X) 2 pure2(mul_up) ["r[a] = math::mul_up(r[b], r[c])?"] ["Overflow"] "Fx multiply, round toward +inf.";
    0x23 MulConst "MULK" (W R X CONST) 2 pure2(mul) ["r[a] = math::mul(r[b], K[imm])?"] ["Overflow"] "Fx multiply by a pool constant, to nearest even.";
    0x24 Div "DIV" (W R R X) 6 pure2(div) ["r[a] = math::div(r[b], r[c])?"] ["DivisionByZero, Overflow"] "Fx divide, round to nearest even.";
    0x25 DivDown "DIVD" (W R R X) 6 pure2(div_down) ["r[a] = math::div_down(r[b], r[c])?"] ["DivisionByZero, Overflow"] "Fx divide, round toward -inf.";
    0x26 DivUp "DIVU" (W R R X) 6 pure2(div_up) ["r[a] = math::div_up(r[b], r[c])?"] ["DivisionByZero, Overflow"] "Fx divide, round toward +inf.";
    0x27 MulDiv "MULDIV" (W R R R) 8 pure3(mul_div) ["r[a] = math::mul_div(r[b], r[c], r[d])?"] ["DivisionByZero, Overflow"] "Fx a*b/c with one rounding, to nearest even.";
    0x28 MulDivDown "MULDIVD" (W R R R) 8 pure3(mul_div_down) ["r[a] = math::mul_div_down(r[b], r[c], r[d])?"] ["DivisionByZero, Overflow"] "Fx a*b/c with one rounding toward -inf.";
    0x29 MulDivUp "MULDIVU" (W R R R) 8 pure3(mul_div_up) ["r[a] = math::mul_div_up(r[b], r[c], r[d])?"] ["DivisionByZero, Overflow"] "Fx a*b/c with one rounding toward +inf.";

    // ---- fused math kernels (strike_vm::math, bounds in spec/numerics.md)
    0x30 Exp "EXP" (W R X X) 15 pure1(exp) ["r[a] = math::exp(r[b])?"] ["Overflow"] "e^x.";
    0x31 Ln "LN" (W R X X) 20 pure1(ln) ["r[a] = math::ln(r[b])?"] ["Domain"] "Natural logarithm.";
    0x32 Sqrt "SQRT" (W R X X) 22 pure1(sqrt) ["r[a] = math::sqrt(r[b])?"] ["Domain"] "Square root, correctly rounded.";
    0x33 Pow "POW" (W R R X) 52 pure2(pow) ["r[a] = math::pow(r[b], r[c])?"] ["Domain, Overflow"] "x^y for x > 0.";
    0x34 Ncdf "NCDF" (W R X X) 47 pure1(ncdf) ["r[a] = math::ncdf(r[b])?"] ["-"] "Standard normal CDF.";
    0x35 Npdf "NPDF" (W R X X) 20 pure1(npdf) ["r[a] = math::npdf(r[b])?"] ["-"] "Standard normal density.";
    0x36 InvNcdf "INVNCDF" (W R X X) 132 pure1(inv_ncdf) ["r[a] = math::inv_ncdf(r[b])?"] ["Domain"] "Inverse standard normal CDF.";

    // ---- conversions
    0x38 IntToFx "ITOF" (W R X X) 1 pure1(int_to_fx) ["r[a] = r[b].checked_mul(1 << 64)?"] ["Overflow"] "Int to fx.";
    0x39 FxToInt "FTOI" (W R X X) 1 pure1(fx_to_int) ["r[a] = r[b] >> 64 (floor)"] ["-"] "Fx to int, rounding toward -inf.";

    // ---- comparisons and boolean logic (signed; int and fx compare alike)
    0x40 Eq "EQ" (W R R X) 1 pure2(eq) ["r[a] = (r[b] == r[c]) as i128"] ["-"] "Equal.";
    0x41 Ne "NE" (W R R X) 1 pure2(ne) ["r[a] = (r[b] != r[c]) as i128"] ["-"] "Not equal.";
    0x42 Lt "LT" (W R R X) 1 pure2(lt) ["r[a] = (r[b] < r[c]) as i128"] ["-"] "Less than.";
    0x43 Le "LE" (W R R X) 1 pure2(le) ["r[a] = (r[b] <= r[c]) as i128"] ["-"] "Less than or equal.";
    0x44 And "AND" (W R R X) 1 pure2(and) ["r[a] = r[b] & r[c]"] ["-"] "Bitwise and (logical and on booleans).";
    0x45 Or "OR" (W R R X) 1 pure2(or) ["r[a] = r[b] | r[c]"] ["-"] "Bitwise or (logical or on booleans).";
    0x46 Xor "XOR" (W R R X) 1 pure2(xor) ["r[a] = r[b] ^ r[c]"] ["-"] "Bitwise exclusive or.";
    0x47 Not "NOT" (W R X X) 1 pure1(not) ["r[a] = (r[b] == 0) as i128"] ["-"] "Logical not.";

    // ---- control (jump offsets count instruction words from the next instruction)
    0x50 Jump "JMP" (X X X JUMP) 1 goto() ["pc = pc + 1 + imm"] ["-"] "Jump.";
    0x51 JumpIfZero "JZ" (R X X JUMP) 1 branch1(not) ["if r[a] == 0 { pc = pc + 1 + imm }"] ["-"] "Jump if zero (false).";
    0x52 JumpIfNonZero "JNZ" (R X X JUMP) 1 branch1(truth) ["if r[a] != 0 { pc = pc + 1 + imm }"] ["-"] "Jump if non-zero (true).";
    0x53 BranchEq "BEQ" (R R X JUMP) 1 branch2(eq) ["if r[a] == r[b] { pc = pc + 1 + imm }"] ["-"] "Compare and branch if equal.";
    0x54 BranchNe "BNE" (R R X JUMP) 1 branch2(ne) ["if r[a] != r[b] { pc = pc + 1 + imm }"] ["-"] "Compare and branch if not equal.";
    0x55 BranchLt "BLT" (R R X JUMP) 1 branch2(lt) ["if r[a] < r[b] { pc = pc + 1 + imm }"] ["-"] "Compare and branch if less.";
    0x56 BranchLe "BLE" (R R X JUMP) 1 branch2(le) ["if r[a] <= r[b] { pc = pc + 1 + imm }"] ["-"] "Compare and branch if less or equal.";
    0x58 Call "CALL" (WIN ARGS RES FUNC) 5 call() ["r[a..a+c] = F[imm](r[a..a+b])"] ["CallDepth, (callee's)"] "Call function imm with b arguments from r[a..]; its c results land in r[a..]. Static gas 5 plus 1 per 16 registers (rounded up) of the callee's frame.";
    0x5b CallContract "XCALL" (WIN ARGS RES IMPORT) 20 call_contract() ["r[a..a+c] = contract(r[a]).export(I[imm].name)(r[a+1..a+b])?"] ["UnknownContract, UnknownFunction, CallSignature, Reentrancy, ContractDepth, CallDepth, OutOfGas, (callee's)"] "Call export I[imm] of the contract at address r[a] with the b-1 arguments r[a+1..a+b]; its c results land in r[a..]. Plus the dynamic call charge. The callee runs on its own storage with the transaction's gas; a view import forbids it to write or emit.";
    0x59 Return "RET" (WIN ARGS X X) 2 ret() ["return r[a..a+b]"] ["-"] "Return b values starting at r[a].";
    0x5a Revert "REVERT" (X X X CODE) 12 revert() ["revert(imm as u32)"] ["Revert(imm)"] "Revert the transaction with error code imm.";

    // ---- storage of the executing contract, through the state cache
    0x60 StorageLoad "SLOAD" (W K X SPACE) 2 storage(StorageOp::Load) ["r[a] = storage[(self, imm, r[b])] (0 if unset)"] ["OutOfGas"] "Load a storage slot; plus the dynamic warm/cold charge.";
    0x61 StorageStore "SSTORE" (K R X SPACE) 2 storage(StorageOp::Store) ["storage[(self, imm, r[a])] = r[b]"] ["OutOfGas, WriteLimit"] "Store a storage slot; plus the dynamic write charge.";
    0x62 StorageAdd "SADD" (K R X SPACE) 6 storage(StorageOp::Add) ["storage[(self, imm, r[a])] = storage[(self, imm, r[a])].checked_add(r[b])?"] ["OutOfGas, WriteLimit, Overflow"] "Commutative storage += delta; plus the dynamic write charge.";
    0x64 StorageAddCapped "SADDCAP" (K R R SPACE) 6 storage(StorageOp::AddCapped) ["v = storage[(self, imm, r[a])].checked_add(r[b])?; if v > r[c] { CapExceeded }; storage[(self, imm, r[a])] = v"] ["OutOfGas, WriteLimit, Overflow, CapExceeded"] "Commutative storage += delta that reverts past the cap r[c]; plus the dynamic write charge.";
    0x63 Emit "EMIT" (WIN ARGS X EVENT) 2 emit() ["events.push(Event { name: E[imm], values: r[a..a+b] })"] ["OutOfGas, EventLimit"] "Emit event imm with b values from r[a..]; plus the dynamic event charge.";

    // ---- environment
    0x70 Caller "CALLER" (W X X X) 1 env(EnvValue::Caller) ["r[a] = tx.caller"] ["-"] "The transaction's caller address.";
    0x71 SelfAddress "SELF" (W X X X) 1 env(EnvValue::Contract) ["r[a] = tx.contract"] ["-"] "The executing contract's address.";
    0x72 BlockNumber "BLOCK" (W X X X) 1 env(EnvValue::BlockNumber) ["r[a] = block.number"] ["-"] "The block number.";
    0x73 Timestamp "TIME" (W X X X) 1 env(EnvValue::Timestamp) ["r[a] = block.timestamp"] ["-"] "The block timestamp (seconds).";
    0x74 GasLeft "GASLEFT" (W X X X) 1 env(EnvValue::GasLeft) ["r[a] = gas_left (after this block's charge)"] ["-"] "Gas remaining.";
    0x75 Native "NATIVE" (WIN ARGS RES NATIVE) 2 native() ["r[a..a+c] = native[imm](r[a..a+b])?"] ["OutOfGas, NativeArgument"] "Call native imm (see Natives) with b arguments from r[a..]; its c results land in r[a..]; plus the native's dynamic gas.";

    // ---- the frame's arrays (declared per function, zeroed on entry)
    0x80 ArrayLoad "ALOAD" (W R X ARRAY) 2 array(ArrayOp::Load) ["r[a] = A[imm][r[b]]"] ["IndexOutOfBounds"] "Load element r[b] of the frame's array imm; 0 <= r[b] < its length.";
    0x81 ArrayStore "ASTORE" (R R X ARRAY) 2 array(ArrayOp::Store) ["A[imm][r[b]] = r[a]"] ["IndexOutOfBounds"] "Store r[a] as element r[b] of the frame's array imm; 0 <= r[b] < its length.";
}

impl Opcode {
    /// The roles of this opcode's operand fields.
    #[inline]
    pub const fn operands(self) -> Operands {
        self.info().operands
    }

    /// The function of a pure opcode, or of a branch's condition.
    #[inline]
    pub const fn pure(self) -> Option<Pure> {
        match self.info().effect {
            Effect::Pure(f) | Effect::Branch(f) => Some(f),
            _ => None,
        }
    }

    /// Whether the opcode is pure: its result is a function of its read operands alone
    /// (so a compiler may compute it ahead of time, see [`Opcode::evaluate`]).
    pub const fn is_pure(self) -> bool {
        matches!(self.info().effect, Effect::Pure(_))
    }

    /// A pure opcode's result on `inputs` (its read operands' values in word order): the
    /// same function every engine runs. None for an opcode that is not pure, or for the
    /// wrong number of inputs.
    pub fn evaluate(self, inputs: &[i128]) -> Option<Outcome> {
        match self.info().effect {
            Effect::Pure(f) => f.apply(inputs),
            _ => None,
        }
    }

    /// Whether control can reach the next instruction (false for JMP, RET and REVERT).
    pub const fn falls_through(self) -> bool {
        !matches!(
            self.info().effect,
            Effect::Goto | Effect::Return | Effect::Revert
        )
    }

    /// Whether the immediate is a jump offset (a conditional or unconditional jump).
    pub const fn jumps(self) -> bool {
        matches!(self.info().operands.imm, Role::Jump)
    }
}

/// The unary function of a pure opcode or branch, for dispatch resolved at compile time:
/// `const { unary(Opcode::Exp) }` is `semantics::exp`. Evaluated only in const context,
/// where the wrong arity fails the build.
#[allow(
    clippy::panic,
    reason = "called only in const blocks: the panic is a compile error, never a run-time one"
)]
pub(crate) const fn unary(op: Opcode) -> semantics::Unary {
    match op.pure() {
        Some(Pure::Unary(f)) => f,
        _ => panic!("not a unary pure opcode"),
    }
}

/// The binary function of a pure opcode or branch; see [`unary`].
#[allow(
    clippy::panic,
    reason = "called only in const blocks: the panic is a compile error, never a run-time one"
)]
pub(crate) const fn binary(op: Opcode) -> semantics::Binary {
    match op.pure() {
        Some(Pure::Binary(f)) => f,
        _ => panic!("not a binary pure opcode"),
    }
}

/// The ternary function of a pure opcode; see [`unary`].
#[allow(
    clippy::panic,
    reason = "called only in const blocks: the panic is a compile error, never a run-time one"
)]
pub(crate) const fn ternary(op: Opcode) -> semantics::Ternary {
    match op.pure() {
        Some(Pure::Ternary(f)) => f,
        _ => panic!("not a ternary pure opcode"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_mnemonics_and_rows_are_consistent() {
        let mut seen_bytes = std::collections::HashSet::new();
        let mut seen_names = std::collections::HashSet::new();
        for &op in Opcode::ALL {
            let info = op.info();
            assert_eq!(info.code, op as u8);
            assert!(seen_bytes.insert(info.code), "byte {:#x} twice", info.code);
            assert!(
                seen_names.insert(info.mnemonic),
                "mnemonic {} twice",
                info.mnemonic
            );
            assert_eq!(Opcode::from_byte(info.code), Some(op));
            assert_eq!(
                Opcode::from_mnemonic(&info.mnemonic.to_lowercase()),
                Some(op)
            );
            assert!(info.gas >= 1);
        }
        assert_eq!(
            Opcode::from_byte(0x00),
            None,
            "0x00 stays invalid so zeroed code is rejected"
        );
        let defined = (0..=255u8)
            .filter(|b| Opcode::from_byte(*b).is_some())
            .count();
        assert_eq!(defined, Opcode::ALL.len());
    }

    /// The roles fit their fields, and the effects fit the roles: what the rest of the VM
    /// derives from the table relies on these shapes.
    #[test]
    fn roles_and_effects_are_well_formed() {
        use Role::*;
        for &op in Opcode::ALL {
            let o = op.operands();
            let name = op.info().mnemonic;
            for r in [o.a, o.b, o.c] {
                assert!(
                    matches!(r, Unused | Read | Write | Key | Window | Args | Results),
                    "{name}: {r:?} in a byte field"
                );
            }
            assert!(
                matches!(
                    o.imm,
                    Unused
                        | Read
                        | Int
                        | Const
                        | Jump
                        | Function
                        | Event
                        | Code
                        | Space
                        | Array
                        | Native
                        | Import
                ),
                "{name}: {:?} in the immediate",
                o.imm
            );
            // A window is field a, with its count of arguments in b and of results, if
            // any, in c; nothing else is a window or a count.
            let window = o.a == Window;
            assert_eq!(window, o.b == Args, "{name}");
            assert!(o.b != Window && o.c != Window && o.c != Args, "{name}");
            assert!(o.c != Results || window, "{name}");
            // Pure opcodes write r[a] from their read operands; branches read and jump.
            let reads = o.fields().into_iter().filter(|r| r.is_read()).count()
                + usize::from(matches!(o.imm, Int | Const));
            match op.info().effect {
                Effect::Pure(f) => {
                    assert_eq!(o.a, Write, "{name}");
                    assert_eq!(f.arity(), reads, "{name}");
                }
                Effect::Branch(f) => {
                    assert_eq!(o.imm, Jump, "{name}");
                    assert_eq!(f.arity(), reads, "{name}");
                }
                Effect::Goto => assert_eq!(o.imm, Jump, "{name}"),
                Effect::Storage(_) => assert_eq!(o.imm, Space, "{name}"),
                Effect::Call => assert_eq!(o.imm, Function, "{name}"),
                Effect::CallContract => assert_eq!(o.imm, Import, "{name}"),
                Effect::Native => assert_eq!(o.imm, Native, "{name}"),
                Effect::Emit => assert_eq!(o.imm, Event, "{name}"),
                Effect::Array(_) => assert_eq!(o.imm, Array, "{name}"),
                Effect::Revert => assert_eq!(o.imm, Code, "{name}"),
                Effect::Return | Effect::Env(_) => {}
            }
            assert_eq!(
                op.jumps(),
                matches!(op.info().effect, Effect::Branch(_) | Effect::Goto),
                "{name}"
            );
        }
    }
}
