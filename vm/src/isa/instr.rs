//! The 8-byte instruction word, and what each instruction reads, writes and jumps to.
//!
//! ```text
//!  byte  0        1     2     3     4..8
//!       +--------+-----+-----+-----+----------------+
//!       | opcode |  a  |  b  |  c  | imm (i32, LE)  |
//!       +--------+-----+-----+-----+----------------+
//! ```
//!
//! Each opcode's operand roles (`roles.rs`) say which fields it uses and what they mean;
//! every unused field must be zero and every immediate within its role's range. Decoding
//! accepts exactly the canonical words, so `encode` and `decode` are inverses on everything
//! `decode` accepts. [`Instr::reads`], [`Instr::writes`] and [`Instr::jump_target`] are
//! derived from the roles alone.

use super::opcode::Opcode;
use super::roles::Role;

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
    /// A field the opcode does not use is not zero, or an immediate is out of its range.
    BadOperand(Opcode),
}

/// Size of an instruction word in bytes.
pub const WORD: usize = 8;

/// Registers an instruction reads or writes: single operands, then a window's run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registers {
    single: [u8; 3],
    singles: u8,
    /// The window's first register and length.
    window: (u8, u8),
    next: u16,
}

impl Iterator for Registers {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let k = self.next;
        self.next += 1;
        if k < u16::from(self.singles) {
            return self.single.get(usize::from(k)).copied();
        }
        let w = k - u16::from(self.singles);
        // A verified window ends inside the frame; on unverified code the index wraps
        // rather than panics.
        (w < u16::from(self.window.1)).then(|| self.window.0.wrapping_add(w as u8))
    }
}

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
        let roles = op.operands();
        let fields_ok = [(roles.a, instr.a), (roles.b, instr.b), (roles.c, instr.c)]
            .iter()
            .all(|&(role, x)| role != Role::Unused || x == 0);
        let (lo, hi) = roles.imm.imm_range();
        if fields_ok && (lo..=hi).contains(&i64::from(imm)) {
            Ok(instr)
        } else {
            Err(DecodeError::BadOperand(op))
        }
    }

    /// The register in the immediate (MULDIV's divisor, r[d]).
    pub const fn d(self) -> u8 {
        self.imm as u8
    }

    /// The field values in word order a, b, c, imm, with their roles.
    fn fields(self) -> [(Role, i32); 4] {
        let r = self.op.operands();
        [
            (r.a, i32::from(self.a)),
            (r.b, i32::from(self.b)),
            (r.c, i32::from(self.c)),
            (r.imm, self.imm),
        ]
    }

    /// The value of the field with `role` (the first, in word order), if the opcode has one.
    pub fn field(self, role: Role) -> Option<i32> {
        self.fields()
            .into_iter()
            .find(|(r, _)| *r == role)
            .map(|(_, v)| v)
    }

    fn registers(self, single: fn(Role) -> bool, count: Role) -> Registers {
        let mut out = Registers {
            single: [0; 3],
            singles: 0,
            window: (0, 0),
            next: 0,
        };
        for (role, value) in self.fields() {
            if single(role) {
                if let Some(slot) = out.single.get_mut(usize::from(out.singles)) {
                    *slot = value as u8;
                    out.singles += 1;
                }
            }
        }
        if let (Some(start), Some(n)) = (self.field(Role::Window), self.field(count)) {
            out.window = (start as u8, n as u8);
        }
        out
    }

    /// The registers the instruction reads, in word order: its read operands (storage
    /// keys included), then the values of its window (CALL's and NATIVE's arguments,
    /// RET's and EMIT's values).
    pub fn reads(self) -> Registers {
        self.registers(Role::is_read, Role::Args)
    }

    /// The registers the instruction writes: its written operand, or its window's results
    /// (CALL's and NATIVE's). No instruction writes any other register of its frame.
    pub fn writes(self) -> Registers {
        self.registers(|r| r == Role::Write, Role::Results)
    }

    /// The instruction a jump at `pc` goes to when taken (None if it is not a jump). The
    /// verifier checks it lies inside the function.
    pub fn jump_target(self, pc: usize) -> Option<i64> {
        self.op.jumps().then(|| pc as i64 + 1 + i64::from(self.imm))
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
            let r = op.operands();
            let byte = |role: Role, v: u8| if role == Role::Unused { 0 } else { v };
            let imm = match r.imm {
                Role::Unused => 0,
                Role::Read => 7,
                _ => 3,
            };
            let i = Instr::new(op, byte(r.a, 1), byte(r.b, 2), byte(r.c, 3), imm);
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

    #[test]
    fn reads_and_writes_follow_the_roles() {
        let list = |r: Registers| r.collect::<Vec<u8>>();
        let i = Instr::new(Opcode::MulDiv, 1, 2, 3, 4);
        assert_eq!(
            (list(i.reads()), list(i.writes())),
            (vec![2, 3, 4], vec![1])
        );
        let i = Instr::new(Opcode::StorageStore, 5, 6, 0, 9);
        assert_eq!((list(i.reads()), list(i.writes())), (vec![5, 6], vec![]));
        // NATIVE writes its whole result window (the miscompile of issue 20 forgot this).
        let i = Instr::new(Opcode::Native, 3, 1, 2, 0);
        assert_eq!((list(i.reads()), list(i.writes())), (vec![3], vec![3, 4]));
        let i = Instr::new(Opcode::Call, 2, 3, 1, 0);
        assert_eq!(
            (list(i.reads()), list(i.writes())),
            (vec![2, 3, 4], vec![2])
        );
        let i = Instr::new(Opcode::BranchLt, 1, 2, 0, -3);
        assert_eq!(list(i.reads()), vec![1, 2]);
        assert_eq!(i.jump_target(10), Some(8));
        assert_eq!(Instr::new(Opcode::Add, 0, 0, 0, 0).jump_target(3), None);
    }
}
