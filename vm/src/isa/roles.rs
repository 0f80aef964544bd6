//! Operand roles: what each field of an instruction word means to its opcode.
//!
//! Every opcode's row in the table (`opcode.rs`) gives one [`Role`] for each of the four
//! fields a, b, c and imm. Everything that needs to know which registers an instruction
//! reads or writes, which field is a count, a constant or a jump, derives it from there:
//! decoding (unused fields must be zero), the verifier's bounds, the assembler and
//! disassembler, traces, the CFG, the code generator's clobbers and, later, footprints.
//! Nothing else lists opcodes by hand.

/// What one field of an instruction word means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Not used: the field must be zero.
    Unused,
    /// A register the instruction reads.
    Read,
    /// A register the instruction writes.
    Write,
    /// A register the instruction reads as a storage key: the slot is
    /// `(executing contract, imm, r[x])`.
    Key,
    /// The first register of a window: the instruction reads the `Args` values starting
    /// there and writes the `Results` values starting there.
    Window,
    /// How many values the instruction reads from its window (a count, not a register).
    Args,
    /// How many values the instruction writes to its window (a count, not a register).
    Results,
    /// A signed integer (immediate only).
    Int,
    /// An index into the constant pool (immediate only, `>= 0`).
    Const,
    /// A jump offset in instruction words from the next instruction (immediate only).
    Jump,
    /// A function index (immediate only, `>= 0`).
    Function,
    /// An event index (immediate only, `>= 0`).
    Event,
    /// An error code, its bits read as u32 (immediate only).
    Code,
    /// A storage space of the executing contract (immediate only, `>= 0`).
    Space,
    /// One of the function's arrays (immediate only, `>= 0`).
    Array,
    /// A native's id (immediate only, `>= 0`).
    Native,
    /// An index into the module's imports: a function of another contract (immediate
    /// only, `>= 0`).
    Import,
}

impl Role {
    /// Whether the field names a register (read, written, a key or a window's start).
    pub const fn is_register(self) -> bool {
        matches!(self, Role::Read | Role::Write | Role::Key | Role::Window)
    }

    /// Whether the field is a register read (on its own, not through a window).
    pub const fn is_read(self) -> bool {
        matches!(self, Role::Read | Role::Key)
    }

    /// The range of values an immediate with this role may hold; decoding rejects others.
    pub const fn imm_range(self) -> (i64, i64) {
        match self {
            Role::Unused => (0, 0),
            Role::Read | Role::Write | Role::Key | Role::Window => (0, 255),
            Role::Args | Role::Results => (0, 255),
            Role::Const
            | Role::Function
            | Role::Event
            | Role::Space
            | Role::Array
            | Role::Native
            | Role::Import => (0, i32::MAX as i64),
            Role::Int | Role::Jump | Role::Code => (i32::MIN as i64, i32::MAX as i64),
        }
    }

    /// How the field is written in assembly (`X` stands for the field's letter).
    pub const fn syntax(self, field: char) -> &'static str {
        match (self, field) {
            (Role::Read | Role::Key, 'a') => "rA",
            (Role::Read | Role::Key, 'b') => "rB",
            (Role::Read | Role::Key, 'c') => "rC",
            (Role::Read | Role::Key, _) => "rD",
            (Role::Write | Role::Window, 'a') => "rA",
            (Role::Write | Role::Window, 'b') => "rB",
            (Role::Write | Role::Window, _) => "rC",
            (Role::Args, _) => "B",
            (Role::Results, _) => "C",
            (Role::Int, _) => "IMM",
            (Role::Const, _) => "kIMM",
            (Role::Jump, _) => "@label",
            (Role::Function, _) => "function",
            (Role::Event, _) => "eIMM",
            (Role::Code, _) => "CODE",
            (Role::Space, _) => "SPACE",
            (Role::Array, _) => "aIMM",
            (Role::Native, _) => "native",
            (Role::Import, _) => "iIMM",
            (Role::Unused, _) => "",
        }
    }

    /// One line for the spec.
    pub const fn meaning(self) -> &'static str {
        match self {
            Role::Unused => "unused, must be 0",
            Role::Read => "register read",
            Role::Write => "register written",
            Role::Key => "register read as a storage key",
            Role::Window => {
                "first register of a window: reads B values from it, writes C values to it"
            }
            Role::Args => "count of values read from the window",
            Role::Results => "count of values written to the window",
            Role::Int => "signed 32-bit integer",
            Role::Const => "constant index",
            Role::Jump => "jump offset (words, from the next instruction)",
            Role::Function => "function index",
            Role::Event => "event index",
            Role::Code => "error code (the bits as u32)",
            Role::Space => "storage space (>= 0)",
            Role::Array => "array index of the function (>= 0)",
            Role::Native => "native id (see Natives)",
            Role::Import => "import index: a function of another contract",
        }
    }

    /// Every role, for the spec's legend.
    pub const ALL: [Role; 17] = [
        Role::Unused,
        Role::Read,
        Role::Write,
        Role::Key,
        Role::Window,
        Role::Args,
        Role::Results,
        Role::Int,
        Role::Const,
        Role::Jump,
        Role::Function,
        Role::Event,
        Role::Code,
        Role::Space,
        Role::Array,
        Role::Native,
        Role::Import,
    ];
}

/// The roles of an opcode's four fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Operands {
    /// Field a (byte 1).
    pub a: Role,
    /// Field b (byte 2).
    pub b: Role,
    /// Field c (byte 3).
    pub c: Role,
    /// The immediate (bytes 4..8).
    pub imm: Role,
}

impl Operands {
    /// The four roles in word order: a, b, c, imm.
    pub const fn fields(self) -> [Role; 4] {
        [self.a, self.b, self.c, self.imm]
    }

    /// The field letters, in word order.
    pub const LETTERS: [char; 4] = ['a', 'b', 'c', 'd'];

    /// Assembly operand syntax: the used fields in word order, comma separated.
    pub fn syntax(self) -> String {
        self.fields()
            .into_iter()
            .zip(Self::LETTERS)
            .filter(|(r, _)| *r != Role::Unused)
            .map(|(r, f)| r.syntax(f))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// How many fields are used (the assembly operand count).
    pub fn used(self) -> usize {
        self.fields()
            .into_iter()
            .filter(|r| *r != Role::Unused)
            .count()
    }
}
