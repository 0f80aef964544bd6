//! The instruction set, defined once.
//!
//! Every opcode is one row of the `opcodes!` table below: its byte, mnemonic, operand
//! format, static gas, exact semantics (one line of Rust-like pseudocode), the errors it can
//! raise and a summary. The table generates the [`Opcode`] enum, byte decoding, the gas
//! table, the disassembler's names and `spec/OPCODES.md` (see `spec.rs`): nothing else in the
//! VM lists opcodes by hand.
//!
//! Notation in the semantics column: `r[x]` is register x of the current frame (128 bits,
//! read as i128 for integers and as I64F64 raw bits for fx); `K[i]` is constant i; `A[i]`
//! is array i of the current frame; `imm` is the instruction's signed 32-bit immediate; `?`
//! propagates the named error, which reverts the transaction. Booleans are 0 and 1.

use super::format::Format;

/// Static description of one opcode: one row of the table.
#[derive(Debug)]
pub struct OpInfo {
    /// The opcode byte.
    pub code: u8,
    /// Assembly mnemonic (upper case).
    pub mnemonic: &'static str,
    /// Operand layout of the instruction word.
    pub format: Format,
    /// Gas charged as part of the enclosing basic block's constant.
    pub gas: u32,
    /// Exact semantics, one line of Rust-like pseudocode.
    pub semantics: &'static str,
    /// Errors the instruction can raise (each reverts the transaction), or "-".
    pub errors: &'static str,
    /// One-line description.
    pub summary: &'static str,
}

macro_rules! opcodes {
    ($( $code:literal $name:ident $mnemonic:literal $format:ident $gas:literal
        [$semantics:literal] [$errors:literal] $summary:literal; )*) => {
        /// An opcode byte that the table defines. See [`Opcode::info`] for its row.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Opcode {
            $( #[doc = $summary] $name = $code, )*
        }

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
                match self {
                    $( Opcode::$name => &OpInfo {
                        code: $code,
                        mnemonic: $mnemonic,
                        format: Format::$format,
                        gas: $gas,
                        semantics: $semantics,
                        errors: $errors,
                        summary: $summary,
                    }, )*
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
    0x01 Mov "MOV" RR 1 ["r[a] = r[b]"] ["-"] "Copy a register.";
    0x02 LoadInt "LOADI" RI 1 ["r[a] = imm as i128"] ["-"] "Load a small integer.";
    0x03 LoadFx "LOADFX" RI 1 ["r[a] = (imm as i128) << 64"] ["-"] "Load a small whole number as fx.";
    0x04 LoadConst "LOADK" RK 1 ["r[a] = K[imm]"] ["-"] "Load a 128-bit constant from the pool.";

    // ---- integer and fx arithmetic (checked: overflow reverts)
    0x10 Add "ADD" RRR 1 ["r[a] = r[b].checked_add(r[c])?"] ["Overflow"] "Add (int or fx: the same bits).";
    0x11 Sub "SUB" RRR 1 ["r[a] = r[b].checked_sub(r[c])?"] ["Overflow"] "Subtract (int or fx).";
    0x12 Neg "NEG" RR 1 ["r[a] = r[b].checked_neg()?"] ["Overflow"] "Negate (int or fx).";
    0x13 AddImm "ADDI" RRI 1 ["r[a] = r[b].checked_add(imm as i128)?"] ["Overflow"] "Add a small integer to an int.";
    0x14 AddConst "ADDK" RRK 1 ["r[a] = r[b].checked_add(K[imm])?"] ["Overflow"] "Add a pool constant (int or fx).";
    0x15 IntMul "IMUL" RRR 2 ["r[a] = r[b].checked_mul(r[c])?"] ["Overflow"] "Integer multiply.";
    0x16 IntDiv "IDIV" RRR 2 ["r[a] = r[b].checked_div(r[c]) (toward zero)?"] ["DivisionByZero, Overflow"] "Integer divide, truncating.";
    0x17 IntRem "IREM" RRR 2 ["r[a] = r[b].checked_rem(r[c])?"] ["DivisionByZero, Overflow"] "Integer remainder (sign of the dividend).";
    0x18 Abs "ABS" RR 1 ["r[a] = r[b].checked_abs()?"] ["Overflow"] "Absolute value (int or fx).";
    0x19 Min "MIN" RRR 1 ["r[a] = min(r[b], r[c])"] ["-"] "Signed minimum (int or fx).";
    0x1a Max "MAX" RRR 1 ["r[a] = max(r[b], r[c])"] ["-"] "Signed maximum (int or fx).";

    // ---- fx multiply and divide with explicit rounding (strike_vm::math)
    0x20 Mul "MUL" RRR 2 ["r[a] = math::mul(r[b], r[c])?"] ["Overflow"] "Fx multiply, round to nearest even.";
    0x21 MulDown "MULD" RRR 2 ["r[a] = math::mul_down(r[b], r[c])?"] ["Overflow"] "Fx multiply, round toward -inf.";
    0x22 MulUp "MULU" RRR 2 ["r[a] = math::mul_up(r[b], r[c])?"] ["Overflow"] "Fx multiply, round toward +inf.";
    0x23 MulConst "MULK" RRK 2 ["r[a] = math::mul(r[b], K[imm])?"] ["Overflow"] "Fx multiply by a pool constant, to nearest even.";
    0x24 Div "DIV" RRR 6 ["r[a] = math::div(r[b], r[c])?"] ["DivisionByZero, Overflow"] "Fx divide, round to nearest even.";
    0x25 DivDown "DIVD" RRR 6 ["r[a] = math::div_down(r[b], r[c])?"] ["DivisionByZero, Overflow"] "Fx divide, round toward -inf.";
    0x26 DivUp "DIVU" RRR 6 ["r[a] = math::div_up(r[b], r[c])?"] ["DivisionByZero, Overflow"] "Fx divide, round toward +inf.";
    0x27 MulDiv "MULDIV" RRRR 8 ["r[a] = math::mul_div(r[b], r[c], r[d])?"] ["DivisionByZero, Overflow"] "Fx a*b/c with one rounding, to nearest even.";
    0x28 MulDivDown "MULDIVD" RRRR 8 ["r[a] = math::mul_div_down(r[b], r[c], r[d])?"] ["DivisionByZero, Overflow"] "Fx a*b/c with one rounding toward -inf.";
    0x29 MulDivUp "MULDIVU" RRRR 8 ["r[a] = math::mul_div_up(r[b], r[c], r[d])?"] ["DivisionByZero, Overflow"] "Fx a*b/c with one rounding toward +inf.";

    // ---- fused math kernels (strike_vm::math, bounds in spec/numerics.md)
    0x30 Exp "EXP" RR 15 ["r[a] = math::exp(r[b])?"] ["Overflow"] "e^x.";
    0x31 Ln "LN" RR 30 ["r[a] = math::ln(r[b])?"] ["Domain"] "Natural logarithm.";
    0x32 Sqrt "SQRT" RR 22 ["r[a] = math::sqrt(r[b])?"] ["Domain"] "Square root, correctly rounded.";
    0x33 Pow "POW" RRR 52 ["r[a] = math::pow(r[b], r[c])?"] ["Domain, Overflow"] "x^y for x > 0.";
    0x34 Ncdf "NCDF" RR 47 ["r[a] = math::ncdf(r[b])?"] ["-"] "Standard normal CDF.";
    0x35 Npdf "NPDF" RR 20 ["r[a] = math::npdf(r[b])?"] ["-"] "Standard normal density.";
    0x36 InvNcdf "INVNCDF" RR 132 ["r[a] = math::inv_ncdf(r[b])?"] ["Domain"] "Inverse standard normal CDF.";

    // ---- conversions
    0x38 IntToFx "ITOF" RR 1 ["r[a] = r[b].checked_mul(1 << 64)?"] ["Overflow"] "Int to fx.";
    0x39 FxToInt "FTOI" RR 1 ["r[a] = r[b] >> 64 (floor)"] ["-"] "Fx to int, rounding toward -inf.";

    // ---- comparisons and boolean logic (signed; int and fx compare alike)
    0x40 Eq "EQ" RRR 1 ["r[a] = (r[b] == r[c]) as i128"] ["-"] "Equal.";
    0x41 Ne "NE" RRR 1 ["r[a] = (r[b] != r[c]) as i128"] ["-"] "Not equal.";
    0x42 Lt "LT" RRR 1 ["r[a] = (r[b] < r[c]) as i128"] ["-"] "Less than.";
    0x43 Le "LE" RRR 1 ["r[a] = (r[b] <= r[c]) as i128"] ["-"] "Less than or equal.";
    0x44 And "AND" RRR 1 ["r[a] = r[b] & r[c]"] ["-"] "Bitwise and (logical and on booleans).";
    0x45 Or "OR" RRR 1 ["r[a] = r[b] | r[c]"] ["-"] "Bitwise or (logical or on booleans).";
    0x46 Xor "XOR" RRR 1 ["r[a] = r[b] ^ r[c]"] ["-"] "Bitwise exclusive or.";
    0x47 Not "NOT" RR 1 ["r[a] = (r[b] == 0) as i128"] ["-"] "Logical not.";

    // ---- control (jump offsets count instruction words from the next instruction)
    0x50 Jump "JMP" J 1 ["pc = pc + 1 + imm"] ["-"] "Jump.";
    0x51 JumpIfZero "JZ" RJ 1 ["if r[a] == 0 { pc = pc + 1 + imm }"] ["-"] "Jump if zero (false).";
    0x52 JumpIfNonZero "JNZ" RJ 1 ["if r[a] != 0 { pc = pc + 1 + imm }"] ["-"] "Jump if non-zero (true).";
    0x53 BranchEq "BEQ" RRJ 1 ["if r[a] == r[b] { pc = pc + 1 + imm }"] ["-"] "Compare and branch if equal.";
    0x54 BranchNe "BNE" RRJ 1 ["if r[a] != r[b] { pc = pc + 1 + imm }"] ["-"] "Compare and branch if not equal.";
    0x55 BranchLt "BLT" RRJ 1 ["if r[a] < r[b] { pc = pc + 1 + imm }"] ["-"] "Compare and branch if less.";
    0x56 BranchLe "BLE" RRJ 1 ["if r[a] <= r[b] { pc = pc + 1 + imm }"] ["-"] "Compare and branch if less or equal.";
    0x58 Call "CALL" Call 5 ["r[a..a+c] = F[imm](r[a..a+b])"] ["CallDepth, (callee's)"] "Call function imm with b arguments from r[a..]; its c results land in r[a..]. Static gas 5 plus 1 per 16 registers (rounded up) of the callee's frame.";
    0x59 Return "RET" Ret 2 ["return r[a..a+b]"] ["-"] "Return b values starting at r[a].";
    0x5a Revert "REVERT" Code 12 ["revert(imm as u32)"] ["Revert(imm)"] "Revert the transaction with error code imm.";

    // ---- storage of the executing contract, through the state cache
    0x60 StorageLoad "SLOAD" RRS 2 ["r[a] = storage[(self, imm, r[b])] (0 if unset)"] ["OutOfGas"] "Load a storage slot; plus the dynamic warm/cold charge.";
    0x61 StorageStore "SSTORE" RRS 2 ["storage[(self, imm, r[a])] = r[b]"] ["OutOfGas, WriteLimit"] "Store a storage slot; plus the dynamic write charge.";
    0x62 StorageAdd "SADD" RRS 6 ["storage[(self, imm, r[a])] = storage[(self, imm, r[a])].checked_add(r[b])?"] ["OutOfGas, WriteLimit, Overflow"] "Commutative storage += delta; plus the dynamic write charge.";
    0x64 StorageAddCapped "SADDCAP" RRRS 6 ["v = storage[(self, imm, r[a])].checked_add(r[b])?; if v > r[c] { CapExceeded }; storage[(self, imm, r[a])] = v"] ["OutOfGas, WriteLimit, Overflow, CapExceeded"] "Commutative storage += delta that reverts past the cap r[c]; plus the dynamic write charge.";
    0x63 Emit "EMIT" Emit 2 ["events.push(Event { name: E[imm], values: r[a..a+b] })"] ["OutOfGas, EventLimit"] "Emit event imm with b values from r[a..]; plus the dynamic event charge.";

    // ---- environment
    0x70 Caller "CALLER" R 1 ["r[a] = tx.caller"] ["-"] "The transaction's caller address.";
    0x71 SelfAddress "SELF" R 1 ["r[a] = tx.contract"] ["-"] "The executing contract's address.";
    0x72 BlockNumber "BLOCK" R 1 ["r[a] = block.number"] ["-"] "The block number.";
    0x73 Timestamp "TIME" R 1 ["r[a] = block.timestamp"] ["-"] "The block timestamp (seconds).";
    0x74 GasLeft "GASLEFT" R 1 ["r[a] = gas_left (after this block's charge)"] ["-"] "Gas remaining.";
    0x75 Native "NATIVE" Native 2 ["r[a..a+c] = native[imm](r[a..a+b])?"] ["OutOfGas, NativeArgument"] "Call native imm (see Natives) with b arguments from r[a..]; its c results land in r[a..]; plus the native's dynamic gas.";

    // ---- the frame's arrays (declared per function, zeroed on entry)
    0x80 ArrayLoad "ALOAD" RRA 2 ["r[a] = A[imm][r[b]]"] ["IndexOutOfBounds"] "Load element r[b] of the frame's array imm; 0 <= r[b] < its length.";
    0x81 ArrayStore "ASTORE" RRA 2 ["A[imm][r[b]] = r[a]"] ["IndexOutOfBounds"] "Store r[a] as element r[b] of the frame's array imm; 0 <= r[b] < its length.";
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
}
