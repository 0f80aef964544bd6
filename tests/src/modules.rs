//! Random modules that pass verification, for round-trip and fuzz tests.
//!
//! Every operand is drawn inside the bounds the verifier enforces, so the modules exercise
//! the interpreter rather than the verifier's rejections; mutated copies of them cover the
//! rejections.

use proptest::prelude::*;
use strike_vm::isa::{Effect, Export, Function, Instr, Module, Opcode, Role, ValueType};

/// A random function signature and frame: (params, returns, registers, array lengths).
pub type Sig = (u8, u8, u16, Vec<u32>);

/// The raw draw behind one instruction: (opcode pick, four operand bytes, immediate).
pub type RawInstr = (u8, [u8; 4], i64);

fn signature() -> impl Strategy<Value = Sig> {
    (
        0u8..4,
        0u8..3,
        4u16..16,
        proptest::collection::vec(1u32..9, 0..3),
    )
        .prop_map(|(p, r, regs, arrays)| (p, r, regs.max(p as u16 + r as u16 + 1), arrays))
}

/// What an instruction's operands must fit: the function's length and registers, and the
/// module's constants, events and signatures.
struct Shape<'a> {
    len: usize,
    regs: u16,
    constants: usize,
    events: usize,
    arrays: usize,
    sigs: &'a [Sig],
}

/// One instruction valid at `pc` of a function of the given shape.
fn instruction(raw: RawInstr, pc: usize, shape: &Shape<'_>) -> Instr {
    let Shape {
        len,
        regs,
        constants,
        events,
        arrays,
        sigs,
    } = *shape;
    let (pick, r, n) = raw;
    let ops: Vec<Opcode> = Opcode::ALL
        .iter()
        .copied()
        .filter(|op| match op.operands().imm {
            Role::Const => constants > 0,
            Role::Event => events > 0,
            Role::Array => arrays > 0,
            Role::Native => regs >= 2,
            Role::Import => regs >= 2,
            // RET is placed only where it fits (see below).
            _ => !matches!(op.info().effect, Effect::Return),
        })
        .collect();
    let op = ops[pick as usize % ops.len()];
    let reg = |x: u8| (x as u16 % regs) as u8;
    let roles = op.operands();
    let field = |role: Role, x: u8| if role == Role::Unused { 0 } else { reg(x) };
    let (mut a, mut b, mut c) = (
        field(roles.a, r[0]),
        field(roles.b, r[1]),
        field(roles.c, r[2]),
    );
    let imm = match roles.imm {
        Role::Unused => 0,
        Role::Read => reg(r[3]) as i32,
        Role::Int => n as i32,
        Role::Code => n as u32 as i32,
        Role::Const => (n.unsigned_abs() % constants as u64) as i32,
        Role::Space => (n.unsigned_abs() % 4) as i32,
        Role::Array => (r[3] as usize % arrays) as i32,
        Role::Event => {
            b = (n.unsigned_abs() % 4) as u8;
            a = (a as u16).min(regs - b as u16) as u8;
            (r[3] as usize % events) as i32
        }
        Role::Jump => {
            let target = n.unsigned_abs() as usize % len;
            (target as i64 - pc as i64 - 1) as i32
        }
        Role::Native => {
            // Any native that is not test-only (these modules verify normally) whose
            // fixed arguments and results the registers hold: with a message of 1..=16
            // values where it takes one (sha256, ed25519_verify), else exactly its fixed
            // arguments (the Black-Scholes rows).
            use strike_vm::native::Native;
            let fits: Vec<Native> = Native::ALL
                .into_iter()
                .filter(|n| {
                    let i = n.info();
                    !i.test_only
                        && u16::from(i.fixed) + u16::from(i.message) <= regs
                        && u16::from(i.results) <= regs
                })
                .collect();
            let native = fits[r[3] as usize % fits.len()];
            let fixed = native.info().fixed as u16;
            let message = if native.info().message {
                let most = (regs - fixed).min(16);
                1 + (n.unsigned_abs() % most as u64) as u16
            } else {
                0
            };
            b = (fixed + message) as u8;
            c = native.info().results;
            let span = (b as u16).max(c as u16);
            a = (a as u16).min(regs - span) as u8;
            native.info().id as i32
        }
        Role::Function => {
            let callee = r[3] as usize % sigs.len();
            let (p, q, _, _) = sigs[callee];
            b = p;
            c = q;
            let span = p.max(q).max(1) as u16;
            a = (a as u16).min(regs - span) as u8;
            callee as i32
        }
        Role::Import => {
            // One of `IMPORTS`: the address then its parameters in, its returns out.
            let k = r[3] as usize % IMPORTS.len();
            let (_, params, returns, _) = IMPORTS[k];
            b = params.len() as u8 + 1;
            c = returns.len() as u8;
            let span = (b as u16).max(c as u16);
            a = (a as u16).min(regs - span) as u8;
            k as i32
        }
        // Not immediate roles (the opcode table's test checks none is used there).
        Role::Write | Role::Key | Role::Window | Role::Args | Role::Results => 0,
    };
    Instr::new(op, a, b, c, imm)
}

/// A module that verifies: 1-3 functions, constants, events, exports of every function.
pub fn valid_module() -> impl Strategy<Value = Module> {
    let sigs = proptest::collection::vec(signature(), 1..4);
    (
        sigs,
        proptest::collection::vec(any::<i128>(), 0..4),
        0usize..3,
    )
        .prop_flat_map(|(sigs, constants, events)| {
            let bodies: Vec<_> = sigs
                .iter()
                .map(|_| {
                    proptest::collection::vec((any::<u8>(), any::<[u8; 4]>(), any::<i64>()), 1..24)
                })
                .collect();
            (Just(sigs), Just(constants), Just(events), bodies)
        })
        .prop_map(|(sigs, constants, events, bodies)| build(&sigs, constants, events, &bodies))
}

/// The module that the raw draws describe: one function per signature, its body made valid
/// instruction by instruction (see [`instruction`]) and closed by a RET; every function
/// exported as `fn_{i}`; `events` events. Verifies whatever the draws are, as long as
/// `sigs` and every body are non-empty and each signature has registers for its params
/// and returns and one more (the proptest strategy and the fuzz targets draw them so).
pub fn build(
    sigs: &[Sig],
    constants: Vec<i128>,
    events: usize,
    bodies: &[Vec<RawInstr>],
) -> Module {
    let functions = sigs
        .iter()
        .zip(bodies)
        .map(|((params, returns, registers, arrays), body)| {
            let (params, returns, registers) = (*params, *returns, *registers);
            let shape = Shape {
                len: body.len() + 1,
                regs: registers,
                constants: constants.len(),
                events,
                arrays: arrays.len(),
                sigs,
            };
            let mut code: Vec<Instr> = body
                .iter()
                .enumerate()
                .map(|(pc, &raw)| instruction(raw, pc, &shape))
                .collect();
            code.push(Instr::new(Opcode::Return, 0, returns, 0, 0));
            Function {
                params,
                returns,
                registers,
                arrays: arrays.clone(),
                code,
            }
        })
        .collect::<Vec<_>>();
    let exports = sigs
        .iter()
        .enumerate()
        .map(|(i, &(p, r, _, _))| Export {
            name: format!("fn_{i}"),
            function: i as u32,
            params: vec![ValueType::Fx; p as usize],
            returns: vec![ValueType::Int; r as usize],
        })
        .collect();
    Module {
        constants,
        functions,
        exports,
        events: (0..events).map(|i| format!("Event{i}")).collect(),
        debug: Vec::new(),
        imports: imports(),
        abi: Default::default(),
    }
}

/// The functions of other contracts every random module imports, XCALL's targets: name,
/// parameters, returns, view. A harness that deploys a contract with these exports (see
/// `peer_module`) makes the calls succeed; elsewhere they fail alike on every engine.
pub const IMPORTS: [(&str, &[ValueType], &[ValueType], bool); 3] = [
    ("get", &[ValueType::Int], &[ValueType::Int], true),
    ("bump", &[ValueType::Int, ValueType::Fx], &[], false),
    ("pair", &[], &[ValueType::Fx, ValueType::Bool], true),
];

/// [`IMPORTS`] as a module's import table.
pub fn imports() -> Vec<strike_vm::isa::Import> {
    IMPORTS
        .iter()
        .map(|&(name, params, returns, view)| strike_vm::isa::Import {
            interface: "Peer".into(),
            name: name.into(),
            params: params.to_vec(),
            returns: returns.to_vec(),
            view,
        })
        .collect()
}

/// A contract exporting every one of [`IMPORTS`]: `get(k)` loads slot k of space 0,
/// `bump(k, d)` adds d to it (and emits), `pair()` returns (1.5, true). Random modules'
/// XCALLs reach it when it is deployed at the address they hold.
pub fn peer_module() -> Module {
    strike_vm::isa::assemble(
        ".event Bumped
.func get(int) -> (int) regs 2 export
    SLOAD r1, r0, 0
    RET r1, 1
.func bump(int, fx) -> () regs 2 export
    SADD r0, r1, 0
    EMIT r0, 2, e0
    RET r0, 0
.func pair() -> (fx, bool) regs 2 export
    LOADK r0, 1.5
    LOADI r1, 1
    RET r0, 2
",
    )
    .expect("the peer module assembles")
}
