//! Operand formats and the 8-byte instruction word.
//!
//! ```text
//!  byte  0        1     2     3     4..8
//!       +--------+-----+-----+-----+----------------+
//!       | opcode |  a  |  b  |  c  | imm (i32, LE)  |
//!       +--------+-----+-----+-----+----------------+
//! ```
//!
//! Each opcode's [`Format`] says which fields it uses and what they mean; every unused
//! field must be zero. Decoding accepts exactly the canonical words, so `encode` and
//! `decode` are inverses on everything `decode` accepts.

use super::opcode::Opcode;

/// Operand layout of an instruction word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// a: register.
    R,
    /// a, b: registers.
    RR,
    /// a, b, c: registers.
    RRR,
    /// a, b, c: registers; imm: a fourth register d (0..=255).
    RRRR,
    /// a: register; imm: signed integer.
    RI,
    /// a: register; imm: constant index (>= 0).
    RK,
    /// a, b: registers; imm: signed integer.
    RRI,
    /// a, b: registers; imm: constant index (>= 0).
    RRK,
    /// a, b: registers; imm: storage space (>= 0).
    RRS,
    /// a, b, c: registers; imm: storage space (>= 0).
    RRRS,
    /// a, b: registers; imm: array index of the function (>= 0).
    RRA,
    /// imm: jump offset.
    J,
    /// a: register; imm: jump offset.
    RJ,
    /// a, b: registers; imm: jump offset.
    RRJ,
    /// a: first argument and result register; b: argument count; c: result count;
    /// imm: function index (>= 0).
    Call,
    /// a: first register; b: value count.
    Ret,
    /// a: first value register; b: value count; imm: event index (>= 0).
    Emit,
    /// imm: error code (as u32).
    Code,
    /// a: first argument and result register; b: argument count; c: result count;
    /// imm: native id (see `crate::native`).
    Native,
}

impl Format {
    /// Which of a, b, c the format uses.
    pub const fn uses_abc(self) -> (bool, bool, bool) {
        use Format::*;
        match self {
            R => (true, false, false),
            RR | RRI | RRK | RRS | RRA | RRJ | Ret | Emit => (true, true, false),
            RRR | RRRR | RRRS | Call | Native => (true, true, true),
            RI | RK | RJ => (true, false, false),
            J | Code => (false, false, false),
        }
    }

    /// What the immediate holds.
    pub const fn imm_kind(self) -> ImmKind {
        use Format::*;
        match self {
            R | RR | RRR | Ret => ImmKind::Unused,
            RRRR => ImmKind::Register,
            RI | RRI => ImmKind::Int,
            RK | RRK => ImmKind::Const,
            RRS | RRRS => ImmKind::Space,
            RRA => ImmKind::Array,
            J | RJ | RRJ => ImmKind::Jump,
            Call => ImmKind::Function,
            Native => ImmKind::Native,
            Emit => ImmKind::Event,
            Code => ImmKind::Code,
        }
    }

    /// Assembly operand syntax, for the spec.
    pub const fn syntax(self) -> &'static str {
        use Format::*;
        match self {
            R => "rA",
            RR => "rA, rB",
            RRR => "rA, rB, rC",
            RRRR => "rA, rB, rC, rD",
            RI => "rA, IMM",
            RK => "rA, kIMM",
            RRI => "rA, rB, IMM",
            RRK => "rA, rB, kIMM",
            RRS => "rA, rB, SPACE",
            RRRS => "rA, rB, rC, SPACE",
            RRA => "rA, rB, aIMM",
            J => "@label",
            RJ => "rA, @label",
            RRJ => "rA, rB, @label",
            Call => "rA, B, C, @function",
            Native => "rA, B, C, name",
            Ret => "rA, B",
            Emit => "rA, B, eIMM",
            Code => "CODE",
        }
    }
}

/// The meaning of an instruction's immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImmKind {
    /// Must be zero.
    Unused,
    /// A register index d (0..=255).
    Register,
    /// A signed integer.
    Int,
    /// An index into the constant pool.
    Const,
    /// A jump offset in instruction words, relative to the next instruction.
    Jump,
    /// A function index.
    Function,
    /// An event index.
    Event,
    /// An error code (the bits as u32).
    Code,
    /// A storage space of the executing contract (>= 0): slots are (contract, space, key).
    Space,
    /// One of the function's arrays (>= 0).
    Array,
    /// A native's id (>= 0).
    Native,
}

/// One decoded instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Instr {
    /// The operation.
    pub op: Opcode,
    /// First operand byte.
    pub a: u8,
    /// Second operand byte.
    pub b: u8,
    /// Third operand byte.
    pub c: u8,
    /// The 32-bit immediate.
    pub imm: i32,
}

/// Why an instruction word is not canonical.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The opcode byte is not in the table.
    UnknownOpcode(u8),
    /// A field the format does not use is not zero, or an immediate is out of its range.
    BadOperand(Opcode),
}

/// Size of an instruction word in bytes.
pub const WORD: usize = 8;

impl Instr {
    /// An instruction with every field given.
    pub const fn new(op: Opcode, a: u8, b: u8, c: u8, imm: i32) -> Self {
        Instr { op, a, b, c, imm }
    }

    /// The 8-byte word.
    pub fn encode(self) -> [u8; WORD] {
        let i = self.imm.to_le_bytes();
        [
            self.op as u8,
            self.a,
            self.b,
            self.c,
            i[0],
            i[1],
            i[2],
            i[3],
        ]
    }

    /// Decodes one canonical word.
    pub fn decode(word: [u8; WORD]) -> Result<Instr, DecodeError> {
        let op = Opcode::from_byte(word[0]).ok_or(DecodeError::UnknownOpcode(word[0]))?;
        let imm = i32::from_le_bytes([word[4], word[5], word[6], word[7]]);
        let instr = Instr {
            op,
            a: word[1],
            b: word[2],
            c: word[3],
            imm,
        };
        let format = op.info().format;
        let (ua, ub, uc) = format.uses_abc();
        let fields_ok = (ua || instr.a == 0) && (ub || instr.b == 0) && (uc || instr.c == 0);
        let imm_ok = match format.imm_kind() {
            ImmKind::Unused => imm == 0,
            ImmKind::Register => (0..=255).contains(&imm),
            ImmKind::Const
            | ImmKind::Function
            | ImmKind::Event
            | ImmKind::Space
            | ImmKind::Array
            | ImmKind::Native => imm >= 0,
            ImmKind::Int | ImmKind::Jump | ImmKind::Code => true,
        };
        if fields_ok && imm_ok {
            Ok(instr)
        } else {
            Err(DecodeError::BadOperand(op))
        }
    }

    /// The fourth register of an RRRR instruction.
    pub const fn d(self) -> u8 {
        self.imm as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(50_000))]
        #[test]
        fn decode_then_encode_is_identity(word in any::<[u8; 8]>()) {
            if let Ok(instr) = Instr::decode(word) {
                prop_assert_eq!(instr.encode(), word);
            }
        }
    }

    #[test]
    fn every_opcode_round_trips() {
        for &op in Opcode::ALL {
            let (ua, ub, uc) = op.info().format.uses_abc();
            let imm = match op.info().format.imm_kind() {
                ImmKind::Unused => 0,
                ImmKind::Register => 7,
                _ => 3,
            };
            let i = Instr::new(op, ua as u8, ub as u8 * 2, uc as u8 * 3, imm);
            assert_eq!(Instr::decode(i.encode()), Ok(i), "{op:?}");
        }
        assert_eq!(Instr::decode([0; 8]), Err(DecodeError::UnknownOpcode(0)));
        // RET uses no immediate: a non-zero one is not canonical.
        let bad = Instr::new(Opcode::Return, 0, 1, 0, 5).encode();
        assert_eq!(
            Instr::decode(bad),
            Err(DecodeError::BadOperand(Opcode::Return))
        );
    }
}
