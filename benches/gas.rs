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
use strike_vm::isa::{assemble, Opcode};
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, StateCache};

/// Where XCALL's callee is deployed.
const PEER: u128 = 3;

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
        // An XCALL to the peer's `nop` (address 3), its RET, and a LOADI of the address.
        CallContract => format!("LOADI r9, {PEER}\n    {m} r9, 1, 0, i0"),
        StorageLoad => format!("{m} r4, r0, 0"), // warm after the first
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

/// The case NATIVE_BS_ROW: a call's Black-Scholes row at Hull's example (42, 40, 0.5, 0.1,
/// 0, 0.2), 64 times; the six arguments, which the results overwrite, are restored from
/// r6..r11 before each (six MOVs).
fn bs_row_program() -> String {
    let mut s = String::from(
        ".const s 42.0\n.const k 40.0\n.const t 0.5\n.const r 0.1\n.const q 0.0\n.const v 0.2\n",
    );
    s.push_str(".func run() -> () regs 12 export\n");
    for (r, k) in [(6, "s"), (7, "k"), (8, "t"), (9, "r"), (10, "q"), (11, "v")] {
        let _ = writeln!(s, "    LOADK r{r}, {k}");
    }
    for _ in 0..COPIES {
        for r in 0..6 {
            let _ = writeln!(s, "    MOV r{r}, r{}", r + 6);
        }
        s.push_str("    NATIVE r0, 6, 6, bs_row_call\n");
    }
    s.push_str("    RET r0, 0\n");
    s
}

fn program(op: Option<Opcode>) -> String {
    let mut s = String::from(
        ".const k0 0.75\n.const k1 1.5\n.const k2 1.25\n.const k3 0.3\n.event Tick\n.import Peer.nop () -> ()\n",
    );
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

/// The worst cases: for each opcode whose time depends on its operands or on what it
/// touches, the operands that make it slowest (found by trying candidates; each is named
/// `MNEMONIC@what`). `gas_table.py` takes every opcode's slowest ns per gas, typical or
/// worst, for the 2x band. Each is (name, prelude with the same 8 instructions as
/// `PRELUDE`, the measured line(s), further functions, registers of `run`, whether each
/// iteration starts from empty state so every storage access misses the cache).
struct Worst {
    name: &'static str,
    prelude: &'static str,
    body: &'static str,
    extra: &'static str,
    registers: u32,
    fresh: bool,
}

/// A prelude of 8 loads: r0 r1 r2 r3 r5 r6 set as given (the others as in PRELUDE).
macro_rules! prelude {
    ($r0:expr, $r1:expr, $r2:expr, $r3:expr, $r5:expr, $r6:expr) => {
        concat!(
            "    LOADK r0, ",
            $r0,
            "\n    LOADK r1, ",
            $r1,
            "\n    LOADK r2, ",
            $r2,
            "\n    LOADK r3, ",
            $r3,
            "\n    LOADK r5, ",
            $r5,
            "\n    LOADK r6, ",
            $r6,
            "\n    LOADI r7, 1\n    LOADI r8, 0\n"
        )
    };
}

const P_INT_WIDE: &str = prelude!(
    "170141183460469231731687303715884105727",
    "3",
    "1.5",
    "0.75",
    "1.25",
    "0.3"
);
const P_FX_WIDE: &str = prelude!(
    "3",
    "5",
    "123456789.123456789",
    "98765.4321987",
    "3.14159265358979",
    "0.3"
);
/// An event name of the longest length allowed (255 bytes), declared in every worst case.
fn long_event() -> String {
    format!("Long{}", "a".repeat(251))
}

fn worst_cases() -> Vec<Worst> {
    let w = |name, prelude, body, extra, registers, fresh| Worst {
        name,
        prelude,
        body,
        extra,
        registers,
        fresh,
    };
    vec![
        w("IDIV@wide", P_INT_WIDE, "IDIV r4, r0, r1", "", 10, false),
        w("IREM@wide", P_INT_WIDE, "IREM r4, r0, r1", "", 10, false),
        w("IMUL@wide", P_INT_WIDE, "IMUL r4, r1, r1", "", 10, false),
        w("MUL@wide", P_FX_WIDE, "MUL r4, r2, r3", "", 10, false),
        w("MULD@wide", P_FX_WIDE, "MULD r4, r2, r3", "", 10, false),
        w("MULU@wide", P_FX_WIDE, "MULU r4, r2, r3", "", 10, false),
        w("DIV@wide", P_FX_WIDE, "DIV r4, r2, r5", "", 10, false),
        w("DIVD@wide", P_FX_WIDE, "DIVD r4, r2, r5", "", 10, false),
        w("DIVU@wide", P_FX_WIDE, "DIVU r4, r2, r5", "", 10, false),
        w(
            "MULDIV@wide",
            P_FX_WIDE,
            "MULDIV r4, r2, r3, r5",
            "",
            10,
            false,
        ),
        w(
            "MULDIVD@wide",
            P_FX_WIDE,
            "MULDIVD r4, r2, r3, r5",
            "",
            10,
            false,
        ),
        w(
            "MULDIVU@wide",
            P_FX_WIDE,
            "MULDIVU r4, r2, r3, r5",
            "",
            10,
            false,
        ),
        w(
            "EXP@43.6",
            prelude!("3", "5", "1.5", "43.6", "1.25", "0.3"),
            "EXP r4, r3",
            "",
            10,
            false,
        ),
        w(
            "EXP@-40",
            prelude!("3", "5", "1.5", "-40.5", "1.25", "0.3"),
            "EXP r4, r3",
            "",
            10,
            false,
        ),
        w(
            "LN@tiny",
            prelude!("3", "5", "0x1", "0.75", "1.25", "0.3"),
            "LN r4, r2",
            "",
            10,
            false,
        ),
        w(
            "LN@huge",
            prelude!("3", "5", "4611686018427387904.5", "0.75", "1.25", "0.3"),
            "LN r4, r2",
            "",
            10,
            false,
        ),
        w(
            // An argument (found by search) whose fast-path value lies within the margin of a
            // rounding boundary: the fast path runs, declines, and ln_core runs after it.
            "LN@fallback",
            prelude!("3", "5", "0x20000008283fb353a", "0.75", "1.25", "0.3"),
            "LN r4, r2",
            "",
            10,
            false,
        ),
        w(
            // Within 2^-8 of 1: ln's fast path declines and ln_core runs.
            "LN@one",
            prelude!("3", "5", "1.001", "0.75", "1.25", "0.3"),
            "LN r4, r2",
            "",
            10,
            false,
        ),
        w(
            "SQRT@max",
            prelude!(
                "3",
                "5",
                "0x7fffffffffffffffffffffffffffffff",
                "0.75",
                "1.25",
                "0.3"
            ),
            "SQRT r4, r2",
            "",
            10,
            false,
        ),
        w(
            "POW@near1",
            prelude!("3", "5", "1.0000001", "123456.7", "1.25", "0.3"),
            "POW r4, r2, r3",
            "",
            10,
            false,
        ),
        w(
            "POW@frac",
            prelude!("3", "5", "123.456", "7.89", "1.25", "0.3"),
            "POW r4, r2, r3",
            "",
            10,
            false,
        ),
        w(
            "POW@neg",
            prelude!("3", "5", "0.0001234", "-3.3", "1.25", "0.3"),
            "POW r4, r2, r3",
            "",
            10,
            false,
        ),
        w(
            "NCDF@-30",
            prelude!("3", "5", "1.5", "-30.5", "1.25", "0.3"),
            "NCDF r4, r3",
            "",
            10,
            false,
        ),
        w(
            "NCDF@-5",
            prelude!("3", "5", "1.5", "-5.3", "1.25", "0.3"),
            "NCDF r4, r3",
            "",
            10,
            false,
        ),
        w(
            "NCDF@8",
            prelude!("3", "5", "1.5", "8.2", "1.25", "0.3"),
            "NCDF r4, r3",
            "",
            10,
            false,
        ),
        w(
            "NPDF@37",
            prelude!("3", "5", "1.5", "37.5", "1.25", "0.3"),
            "NPDF r4, r3",
            "",
            10,
            false,
        ),
        w(
            "INVNCDF@tiny",
            prelude!("3", "5", "1.5", "0.75", "1.25", "0x1"),
            "INVNCDF r4, r6",
            "",
            10,
            false,
        ),
        w(
            "INVNCDF@1e-9",
            prelude!("3", "5", "1.5", "0.75", "1.25", "0.000000001"),
            "INVNCDF r4, r6",
            "",
            10,
            false,
        ),
        w(
            "INVNCDF@0.9999",
            prelude!("3", "5", "1.5", "0.75", "1.25", "0.9999"),
            "INVNCDF r4, r6",
            "",
            10,
            false,
        ),
        // Storage on empty state: every access misses the block's cache and goes to
        // storage; the ADDI changes the key each time.
        w(
            "SLOAD@cold",
            PRELUDE,
            "ADDI r0, r0, 1\n    SLOAD r4, r0, 0",
            "",
            10,
            true,
        ),
        w(
            "SSTORE@cold",
            PRELUDE,
            "ADDI r0, r0, 1\n    SSTORE r0, r1, 0",
            "",
            10,
            true,
        ),
        w(
            "SADD@cold",
            PRELUDE,
            "ADDI r0, r0, 1\n    SADD r0, r1, 0",
            "",
            10,
            true,
        ),
        w(
            "SADDCAP@cold",
            PRELUDE,
            "ADDI r0, r0, 1\n    SADDCAP r0, r1, r2, 0",
            "",
            10,
            true,
        ),
        w("EMIT@16", PRELUDE, "EMIT r0, 16, {long}", "", 20, false),
        w(
            "NATIVE@sha256x16",
            PRELUDE,
            "NATIVE r0, 16, 2, sha256",
            "",
            20,
            false,
        ),
        // A CALL of a function with 256 registers (each frame's registers are zeroed), and
        // one passing 255 arguments; RET of 255 values.
        w(
            "CALL@regs256",
            PRELUDE,
            "CALL r9, 0, 0, wide",
            ".func wide() -> () regs 256\n    RET r0, 0\n",
            10,
            false,
        ),
        w(
            "CALL@args255",
            PRELUDE,
            "CALL r0, 255, 0, many",
            ".func many({params255}) -> () regs 255\n    RET r0, 0\n",
            256,
            false,
        ),
        w(
            "RET@255",
            PRELUDE,
            "CALL r0, 0, 255, rets",
            ".func rets() -> ({params255}) regs 255\n    RET r0, 255\n",
            256,
            false,
        ),
        w(
            "CALL@arrays",
            PRELUDE,
            "CALL r9, 0, 0, big",
            ".func big() -> () regs 1 arrays 65536\n    RET r0, 0\n",
            10,
            false,
        ),
    ]
}

/// The program of a worst case: `PRELUDE`'s shape, 64 copies of its body.
fn worst_program(w: &Worst) -> String {
    let mut s = String::from(
        ".const k0 0.75\n.const k1 1.5\n.const k2 1.25\n.const k3 0.3\n.event Tick\n.import Peer.nop () -> ()\n",
    );
    let _ = writeln!(s, ".event {}", long_event());
    let _ = writeln!(s, ".func run() -> () regs {} arrays 8 export", w.registers);
    s.push_str(w.prelude);
    let body = w.body.replace("{long}", &long_event());
    if !body.is_empty() {
        for _ in 0..COPIES {
            let _ = writeln!(s, "    {body}");
        }
    }
    s.push_str("end:\n    RET r0, 0\n.func nop() -> () regs 1\n    RET r0, 0\n");
    s.push_str(&w.extra.replace("{params255}", &vec!["_"; 255].join(", ")));
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
    cases.push(("NATIVE_BS_ROW".into(), Some(Opcode::Native)));
    let worst = worst_cases();
    // The baseline of the cases on empty state: the empty program, each run on new state.
    let fresh_baseline = Worst {
        name: "baseline@fresh",
        prelude: PRELUDE,
        body: "",
        extra: "",
        registers: 10,
        fresh: true,
    };
    let mut runs: Vec<(String, Option<Opcode>, String, bool)> = cases
        .into_iter()
        .map(|(name, op)| {
            let text = match name.as_str() {
                "NATIVE_ED25519" => ed25519_program(),
                "NATIVE_BS_ROW" => bs_row_program(),
                _ => program(op),
            };
            (name, op, text, false)
        })
        .collect();
    for w in std::iter::once(&fresh_baseline).chain(&worst) {
        runs.push((w.name.to_string(), None, worst_program(w), w.fresh));
    }
    for (name, op, text, fresh) in runs {
        let mut engine = Engine::new();
        // Gas prices the reference interpreter's work. The default mode (Auto) would
        // compile these hot loops after a few thousand calls, and the table would then
        // time the JIT, which folds most of the measured instructions away.
        engine.set_mode(Mode::Interp);
        let module = engine
            .verify(assemble(&text).expect("assembles"))
            .expect("verifies");
        engine.deploy(1, module);
        let peer = engine
            .verify(
                assemble(".func nop() -> () regs 1 export\n    RET r0, 0\n").expect("assembles"),
            )
            .expect("verifies");
        engine.deploy(PEER, peer);
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
        if fresh {
            group.bench_function(&name, |b| {
                b.iter_batched_ref(
                    || StateCache::new(MemoryStorage::new()),
                    |state| engine.execute(black_box(&tx), &block, state),
                    criterion::BatchSize::SmallInput,
                )
            });
        } else {
            group.bench_function(&name, |b| {
                b.iter(|| engine.execute(black_box(&tx), &block, &mut state))
            });
        }
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
