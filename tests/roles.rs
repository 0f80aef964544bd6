//! Every opcode's declared operand roles against what the engines actually do.
//!
//! For each opcode, many random instructions (operands drawn by the roles the opcode table
//! declares) run on random register values, in the interpreter and in the JIT:
//!
//! - **Writes.** No register outside the instruction's declared writes changes.
//! - **Reads.** Changing a register outside its declared reads changes nothing observable
//!   (results, registers, storage, events, gas, error).
//! - **Reads are real.** A pure opcode writes exactly `Opcode::evaluate` of its declared
//!   inputs, a branch jumps exactly when its condition on them holds; for every other
//!   opcode, changing a declared read changes the outcome for some value (except where the
//!   effect cannot show it: see `reads_show`).
//! - **Engines.** The interpreter and the JIT give the same outcome every time.
//!
//! The code generator's clobbers, traces, the CFG and footprints all trust these roles: a
//! role that does not match the engines (NATIVE's results once) shows up here.

use std::collections::{BTreeMap, HashSet};
use strike_tests::modules::{peer_module, IMPORTS};
use strike_tests::rng::Rng;
use strike_vm::exec::{Engine, Mode, Receipt, Transaction};
use strike_vm::isa::{Effect, Export, Function, Instr, Limits, Module, Opcode, Role, ValueType};
use strike_vm::native::Native;
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{add_to, Access, AddResult, Slot, StorageError, TxState};

/// The registers an instruction under test may name: the entry's parameters.
const OPERANDS: u8 = 8;
/// r8: 1 when a jump was taken; r9..r13: the array's elements after the instruction.
const REGISTERS: u16 = 13;
const ARRAY: u32 = 4;
/// Where the contract XCALLs reach is deployed.
const PEER: u128 = 0x9ee7;

/// Storage whose unwritten slots hold a hash of the slot, so a load's key shows.
#[derive(Default)]
struct Seeded {
    writes: BTreeMap<Slot, i128>,
    warm: HashSet<Slot>,
}

fn seed(slot: Slot) -> i128 {
    let mut x = slot.key ^ (u128::from(slot.space) << 64) ^ slot.contract.rotate_left(17);
    x ^= x >> 67;
    x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
    (x ^ (x >> 61)) as i128
}

impl TxState for Seeded {
    fn as_dyn(&mut self) -> &mut dyn TxState {
        self
    }

    fn begin_tx(&mut self) {
        self.warm.clear();
    }
    fn touch(&mut self, slot: Slot) -> Access {
        if self.warm.insert(slot) {
            Access::Cold
        } else {
            Access::Warm
        }
    }
    fn read(&mut self, slot: Slot) -> Result<i128, StorageError> {
        Ok(self
            .writes
            .get(&slot)
            .copied()
            .unwrap_or_else(|| seed(slot)))
    }
    fn write(&mut self, slot: Slot, value: i128) -> Result<(), StorageError> {
        self.writes.insert(slot, value);
        Ok(())
    }
    fn add(&mut self, slot: Slot, delta: i128, cap: Option<i128>) -> AddResult {
        let value = self.read(slot)?;
        add_to(self, slot, value, delta, cap)
    }
    fn commit_tx(&mut self) {}
    fn revert_tx(&mut self) {}
}

/// Values for the operands.
trait Values {
    fn value(&mut self) -> i128;
}

impl Values for Rng {
    /// A register value: zero, one, the extremes, small ints, fx of every scale, or noise.
    fn value(&mut self) -> i128 {
        let wide = self.wide();
        match self.below(9) {
            0 => 0,
            1 => 1,
            2 => -1,
            3 => [i128::MIN, i128::MAX][self.below(2) as usize],
            4 => self.below(7) as i128 - 3,
            5 => (self.below(40) as i128 - 20) << 64,
            6 => wide >> (64 + self.below(64)),
            7 => wide >> self.below(128),
            _ => wide,
        }
    }
}

/// One instruction under test and the module around it.
struct Case {
    module: Module,
    instr: Instr,
}

/// A random instruction of `op` in a module that runs it, then reports every register and
/// the array's elements.
fn case(op: Opcode, rng: &mut Rng) -> Case {
    let roles = op.operands();
    let reg = |rng: &mut Rng| rng.below(u64::from(OPERANDS)) as u8;
    let mut fields = [0u8; 3];
    for (f, role) in fields.iter_mut().zip([roles.a, roles.b, roles.c]) {
        if matches!(role, Role::Read | Role::Write | Role::Key) {
            *f = reg(rng);
        }
    }
    let mut callee = None;
    let mut returns = u8::try_from(REGISTERS).unwrap_or(0);
    let imm = match roles.imm {
        Role::Read => i32::from(reg(rng)),
        Role::Int => rng.bits() as i32 >> rng.below(31),
        Role::Const => rng.below(4) as i32,
        Role::Jump => 1,
        Role::Code => rng.bits() as i32,
        Role::Space => rng.below(3) as i32,
        Role::Array | Role::Event => 0,
        Role::Import => {
            let k = rng.below(IMPORTS.len() as u64) as usize;
            let (_, params, results, _) = IMPORTS[k];
            fields[1] = params.len() as u8 + 1;
            fields[2] = results.len() as u8;
            k as i32
        }
        Role::Function => {
            let (p, q) = (rng.below(4) as u8, 1 + rng.below(3) as u8);
            fields[1] = p;
            fields[2] = q;
            callee = Some((p, q));
            1
        }
        Role::Native => {
            let native = if rng.below(4) == 0 {
                Native::Ed25519Verify
            } else {
                Native::Sha256
            };
            let fixed = native.info().fixed;
            fields[1] = fixed + 1 + rng.below(u64::from(OPERANDS - fixed)) as u8;
            fields[2] = native.info().results;
            native.info().id as i32
        }
        _ => 0,
    };
    if roles.a == Role::Window {
        if matches!(op.info().effect, Effect::Emit | Effect::Return) {
            fields[1] = rng.below(u64::from(OPERANDS) + 1) as u8;
        }
        let span = fields[1].max(if roles.c == Role::Results {
            fields[2]
        } else {
            0
        });
        fields[0] = rng.below(u64::from(OPERANDS - span) + 1) as u8;
        if matches!(op.info().effect, Effect::Return) {
            returns = fields[1];
        }
    }
    let instr = Instr::new(op, fields[0], fields[1], fields[2], imm);
    // After the instruction: the array's elements into r9.., then every register back.
    let mut code = vec![instr];
    let report = |code: &mut Vec<Instr>| {
        for k in 0..ARRAY as u8 {
            let r = 9 + k;
            code.push(Instr::new(Opcode::LoadInt, r, 0, 0, i32::from(k)));
            code.push(Instr::new(Opcode::ArrayLoad, r, r, 0, 0));
        }
        code.push(Instr::new(Opcode::Return, 0, REGISTERS as u8, 0, 0));
    };
    if op.falls_through() {
        report(&mut code);
        if op.jumps() {
            // A branch's target: after the fall-through report.
            code[0].imm = code.len() as i32 - 1;
            code.push(Instr::new(Opcode::LoadInt, 8, 0, 0, 1));
            report(&mut code);
        }
    } else if op.jumps() {
        // JMP: its target is the next-but-one word.
        code.push(Instr::new(Opcode::Revert, 0, 0, 0, 99));
        code.push(Instr::new(Opcode::LoadInt, 8, 0, 0, 1));
        report(&mut code);
    }
    let mut functions = vec![Function {
        params: OPERANDS,
        returns,
        registers: REGISTERS,
        arrays: vec![ARRAY],
        code,
    }];
    if let Some((p, q)) = callee {
        // The callee's results depend on every argument: r0 ^= r1 ^ ... then r0..q back.
        let mut body: Vec<Instr> = (1..p)
            .map(|k| Instr::new(Opcode::Xor, 0, 0, k, 0))
            .collect();
        body.push(Instr::new(Opcode::Return, 0, q, 0, 0));
        functions.push(Function {
            params: p,
            returns: q,
            registers: u16::from(p.max(q).max(1)),
            arrays: vec![],
            code: body,
        });
    }
    let module = Module {
        constants: (0..4).map(|_| rng.value()).collect(),
        functions,
        exports: vec![Export {
            name: "f".into(),
            function: 0,
            params: vec![ValueType::Int; OPERANDS as usize],
            returns: vec![ValueType::Int; returns as usize],
        }],
        events: vec!["E".into()],
        debug: vec![],
        imports: strike_tests::modules::imports(),
        abi: Default::default(),
    };
    Case { module, instr }
}

/// What a run shows: its receipt and the storage it wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Outcome {
    receipt: Receipt,
    storage: BTreeMap<Slot, i128>,
}

impl Outcome {
    /// The outcome with register `r`'s reported value hidden (the report returns it as it
    /// was given when the instruction does not write it). A RET under test returns its own
    /// window instead of the report: nothing is hidden then.
    fn without(&self, r: u8) -> Outcome {
        let mut o = self.clone();
        if o.receipt.returns.len() == REGISTERS as usize {
            if let Some(v) = o.receipt.returns.get_mut(r as usize) {
                *v = 0;
            }
        }
        o
    }
}

fn run(engine: &Engine, args: &[i128]) -> Outcome {
    let mut state = Seeded::default();
    let tx = Transaction {
        caller: 0xca11,
        contract: 0xc0,
        function: "f".into(),
        args: args.to_vec(),
        gas_limit: 1_000_000,
    };
    let block = BlockEnv {
        number: 7,
        timestamp: 1_700_000_000,
    };
    let receipt = engine.execute_in(&tx, &block, &mut state);
    Outcome {
        receipt,
        storage: state.writes,
    }
}

fn engines(module: &Module) -> [Engine; 2] {
    [Mode::Interp, Mode::Jit].map(|mode| {
        let mut engine = Engine::with_limits(Limits::default());
        engine.set_mode(mode);
        let verified = engine
            .verify(module.clone())
            .unwrap_or_else(|e| panic!("{e}\n{}", strike_vm::isa::disassemble(module)));
        engine.deploy(0xc0, verified);
        let peer = engine
            .verify(peer_module())
            .unwrap_or_else(|e| panic!("the peer verifies: {e}"));
        engine.deploy(PEER, peer);
        engine
    })
}

/// The instruction's inputs in word order, as its roles say.
fn inputs(i: Instr, args: &[i128], constants: &[i128]) -> Vec<i128> {
    let roles = i.op.operands();
    let mut out = Vec::new();
    for (role, x) in [(roles.a, i.a), (roles.b, i.b), (roles.c, i.c)] {
        if role.is_read() {
            out.push(args[x as usize]);
        }
    }
    match roles.imm {
        Role::Read => out.push(args[i.d() as usize]),
        Role::Int => out.push(i128::from(i.imm)),
        Role::Const => out.push(constants[i.imm as usize]),
        _ => {}
    }
    out
}

/// Whether each declared read must show in the outcome by itself. Not for pure opcodes
/// and branches, whose reads the semantics check pins instead (`x - x` hides a change of
/// x), nor for an ed25519 verification of random values (false whatever they are).
fn reads_show(i: Instr) -> bool {
    let ed25519 = i.op == Opcode::Native && i.imm as u32 == Native::Ed25519Verify.info().id;
    !ed25519 && !matches!(i.op.info().effect, Effect::Pure(_) | Effect::Branch(_))
}

#[test]
fn declared_roles_match_what_the_engines_read_and_write() {
    let mut rng = Rng(0x005e_ed0f_7015);
    for &op in Opcode::ALL {
        for trial in 0..40 {
            let Case { module, instr } = case(op, &mut rng);
            let [interp, jit] = engines(&module);
            let mut args: Vec<i128> = (0..OPERANDS).map(|_| rng.value()).collect();
            if op == Opcode::CallContract {
                // The call reaches the deployed peer, so its arguments can show; the
                // address's own read shows when a changed value names no contract.
                args[usize::from(instr.a)] = PEER as i128;
            }
            let base = run(&interp, &args);
            let context = format!("{op:?} trial {trial}: {instr:?} on {args:?}");
            assert_eq!(
                run(&jit, &args),
                base,
                "interpreter and JIT differ: {context}"
            );
            let writes: Vec<u8> = instr.writes().collect();
            let reads: Vec<u8> = instr.reads().collect();
            let returned = base.receipt.returns.len() == REGISTERS as usize;
            // Writes: nothing else changes.
            if returned {
                for r in 0..OPERANDS {
                    if !writes.contains(&r) {
                        assert_eq!(
                            base.receipt.returns[r as usize], args[r as usize],
                            "r{r} changed: {context}"
                        );
                    }
                }
            }
            // Semantics of pure opcodes and branches.
            if returned {
                let x = inputs(instr, &args, &module.constants);
                match op.info().effect {
                    Effect::Pure(_) => assert_eq!(
                        Some(Ok(base.receipt.returns[instr.a as usize])),
                        op.evaluate(&x),
                        "{context}"
                    ),
                    Effect::Branch(f) => assert_eq!(
                        base.receipt.returns[8] == 1,
                        f.apply(&x).is_some_and(|c| c.is_ok_and(|c| c != 0)),
                        "{context}"
                    ),
                    _ => {}
                }
            }
            for r in 0..OPERANDS {
                // Another operand can hide a read (a cap below every sum hides the key):
                // a declared read is searched for in fresh contexts until it shows.
                let contexts = if reads.contains(&r) && reads_show(instr) {
                    8
                } else {
                    1
                };
                let mut shows = false;
                for k in 0..contexts {
                    // Fresh contexts lean to small values, which index arrays and windows.
                    let args: Vec<i128> = if k == 0 {
                        args.clone()
                    } else {
                        (0..OPERANDS)
                            .map(|_| match rng.below(2) {
                                0 => rng.below(u64::from(ARRAY)) as i128,
                                _ => rng.value(),
                            })
                            .collect()
                    };
                    let base = if k == 0 {
                        base.clone()
                    } else {
                        run(&interp, &args)
                    };
                    let was = args[r as usize];
                    let tries: Vec<i128> = [
                        0,
                        1,
                        -1,
                        i128::MIN,
                        i128::MAX,
                        was ^ 1,
                        was.wrapping_add(1 << 64),
                    ]
                    .into_iter()
                    .chain((0..8).map(|_| rng.value()))
                    .filter(|&v| v != was)
                    .collect();
                    let mut changed = args.clone();
                    for v in tries {
                        changed[r as usize] = v;
                        let o = run(&interp, &changed);
                        assert_eq!(
                            run(&jit, &changed),
                            o,
                            "interpreter and JIT differ: {context} with {changed:?}"
                        );
                        // A register the instruction does not write comes back as it was
                        // given: hide it. One it writes comes back as its result.
                        let view = |o: &Outcome| {
                            if writes.contains(&r) {
                                o.clone()
                            } else {
                                o.without(r)
                            }
                        };
                        if view(&o) != view(&base) {
                            shows = true;
                            break;
                        }
                    }
                    if shows {
                        break;
                    }
                }
                if reads.contains(&r) {
                    if reads_show(instr) {
                        assert!(shows, "declared read r{r} never shows: {context}");
                    }
                } else {
                    assert!(!shows, "r{r} is read but not declared: {context}");
                }
            }
        }
    }
}
