//! `cargo bench --bench gas`: nanoseconds per opcode, for calibrating the gas table.
//!
//! Each opcode runs 64 times in one straight-line block (control opcodes in the shape they
//! take in real code), through `Engine::execute`; the bench `gas/baseline` is the same
//! transaction with an empty body. REVERT, which ends its transaction, is measured once:
//! a reverting transaction against the returning baseline. `benches/gas_table.py` turns the results into ns per
//! instruction, ns per gas, and the check that every opcode stays within 2x of the median
//! (the table in spec/gas.md).

use criterion::{criterion_group, criterion_main, Criterion};
use std::fmt::Write;
use std::hint::black_box;
use strike_vm::exec::{Engine, Mode, Status, Transaction};
use strike_vm::interp::BlockEnv;
use strike_vm::isa::{assemble, Opcode};
use strike_vm::state::{MemoryStorage, StateCache};

/// Copies of the measured instruction per transaction.
pub const COPIES: usize = 64;

/// The measured instruction for `op`, given the registers set up by `PRELUDE`, or None
/// for opcodes measured by their own program.
fn body(op: Opcode) -> Option<String> {
    use Opcode::*;
    let m = op.info().mnemonic;
    Some(match op {
        IntMul | IntDiv | IntRem | Add | Sub | Min | Max | Eq | Ne | Lt | Le | And | Or | Xor => {
            format!("{m} r4, r0, r1")
        }
        Neg | Abs | Not | Mov | IntToFx | FxToInt => format!("{m} r4, r0"),
        Mul | MulDown | MulUp | Div | DivDown | DivUp | Pow => format!("{m} r4, r2, r3"),
        MulDiv | MulDivDown | MulDivUp => format!("{m} r4, r2, r3, r5"),
        Exp | Ncdf | Npdf => format!("{m} r4, r3"),
        Ln | Sqrt => format!("{m} r4, r2"),
        InvNcdf => format!("{m} r4, r6"),
        LoadInt | LoadFx => format!("{m} r4, 7"),
        LoadConst => format!("{m} r4, k0"),
        AddImm => format!("{m} r4, r0, 1"),
        AddConst | MulConst => format!("{m} r4, r2, k0"),
        Caller | SelfAddress | BlockNumber | Timestamp | GasLeft => format!("{m} r4"),
        JumpIfZero => format!("{m} r7, @end"), // r7 = 1: not taken
        JumpIfNonZero => format!("{m} r8, @end"), // r8 = 0: not taken
        BranchEq | BranchLt | BranchLe => format!("{m} r1, r0, @end"), // 5 vs 3: not taken
        BranchNe => format!("{m} r0, r0, @end"),
        Call => "CALL r9, 0, 0, nop".to_string(), // a CALL and the callee's RET
        StorageLoad => format!("{m} r4, r0, 0"),  // warm after the first
        StorageStore | StorageAdd => format!("{m} r0, r1, 0"),
        StorageAddCapped => format!("{m} r0, r1, r2, 0"), // cap r2 = fx 1.5 raw: never hit
        Emit => format!("{m} r0, 1, Tick"),
        ArrayLoad => format!("{m} r4, r0, a0"), // element 3
        ArrayStore => format!("{m} r1, r0, a0"),
        // sha256 of four values: two blocks. ed25519_verify is the case NATIVE_ED25519.
        Native => format!("{m} r0, 4, 2, sha256"),
        Jump | Return | Revert => return None,
    })
}

const PRELUDE: &str = "    LOADI r0, 3
    LOADI r1, 5
    LOADK r2, k1
    LOADK r3, k0
    LOADK r5, k2
    LOADK r6, k3
    LOADI r7, 1
    LOADI r8, 0
";

/// The case NATIVE_ED25519: a valid signature (the OpenSSL one of spec/vectors/natives.vec)
/// verified 64 times; r0, which the result overwrites, is restored from r9 before each.
fn ed25519_program() -> String {
    let mut s = String::from(".func run() -> () regs 10 export\n");
    for (r, v) in [
        (9, "-28856587525778696587034394076724148743"),
        (1, "-141856335302964085939128049636627525076"),
        (2, "-19959083445992442274001049975580546715"),
        (3, "140017769221596554474099340701927544683"),
        (4, "152686034870913646762015968266794052162"),
        (5, "-46448293084561334754068466291564121083"),
        (6, "5"),
        (7, "-1"),
        (8, "1267650600228229401496703205376"),
    ] {
        let _ = writeln!(s, "    LOADK r{r}, {v}");
    }
    for _ in 0..COPIES {
        s.push_str("    MOV r0, r9\n    NATIVE r0, 9, 1, ed25519_verify\n");
    }
    s.push_str("    RET r0, 0\n");
    s
}

fn program(op: Option<Opcode>) -> String {
    let mut s =
        String::from(".const k0 0.75\n.const k1 1.5\n.const k2 1.25\n.const k3 0.3\n.event Tick\n");
    s.push_str(".func run() -> () regs 10 arrays 8 export\n");
    s.push_str(PRELUDE);
    match op {
        None => {}
        Some(Opcode::Revert) => s.push_str("    REVERT 1\n"),
        Some(Opcode::Jump) => {
            for i in 0..COPIES {
                let _ = writeln!(s, "    JMP @j{i}\nj{i}:");
            }
        }
        Some(op) => {
            let line = body(op).expect("measured inline");
            for _ in 0..COPIES {
                let _ = writeln!(s, "    {line}");
            }
        }
    }
    s.push_str("end:\n    RET r0, 0\n.func nop() -> () regs 1\n    RET r0, 0\n");
    s
}

fn gas(c: &mut Criterion) {
    let block = BlockEnv::default();
    let mut group = c.benchmark_group("gas");
    let mut gas_used = String::new();
    let mut cases: Vec<(String, Option<Opcode>)> = vec![("baseline".into(), None)];
    for &op in Opcode::ALL {
        if op == Opcode::Jump || op == Opcode::Revert || body(op).is_some() {
            cases.push((op.info().mnemonic.to_string(), Some(op)));
        }
    }
    cases.push(("NATIVE_ED25519".into(), Some(Opcode::Native)));
    for (name, op) in cases {
        let text = if name == "NATIVE_ED25519" {
            ed25519_program()
        } else {
            program(op)
        };
        let mut engine = Engine::new();
        // Gas prices the reference interpreter's work. The default mode (Auto) would
        // compile these hot loops after a few thousand calls, and the table would then
        // time the JIT, which folds most of the measured instructions away.
        engine.set_mode(Mode::Interp);
        let module = engine
            .verify(assemble(&text).expect("assembles"))
            .expect("verifies");
        engine.deploy(1, module);
        let tx = Transaction {
            caller: 2,
            contract: 1,
            function: "run".into(),
            args: vec![],
            gas_limit: u64::MAX / 2,
        };
        let mut state = StateCache::new(MemoryStorage::new());
        let r = engine.execute(&tx, &block, &mut state);
        let want = if op == Some(Opcode::Revert) {
            Status::Revert
        } else {
            Status::Ok
        };
        assert_eq!(r.status, want, "{name}: {:?}", r.error);
        let _ = writeln!(gas_used, "{name}\t{}", r.gas_used);
        group.bench_function(&name, |b| {
            b.iter(|| engine.execute(black_box(&tx), &block, &mut state))
        });
    }
    group.finish();
    // Exact gas of each case, for gas_table.py (next to criterion's own results).
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion/gas");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("gas_used.tsv"), gas_used);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_millis(2500));
    targets = gas
}
criterion_main!(benches);
