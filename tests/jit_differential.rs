//! The JIT against the interpreter, the reference: 100,000 random verified modules (from
//! the opcode table, with jumps anywhere, so loops; calls; storage over a random pre-state;
//! events; reverts; and gas limits from none at all to plenty) run every export in turn on
//! one state under both engines. Receipts (status, results, error code and message, gas,
//! events) and the storage after each call must be identical, and every module must
//! compile, so no case falls back to the interpreter unseen.

use proptest::prelude::*;
use strike_tests::modules::valid_module;
use strike_vm::exec::{Engine, Mode, Receipt, Transaction};
use strike_vm::isa::Module;
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, Slot, StateCache, Storage};

const CONTRACT: u128 = 0x5eed;

/// An argument: small fx and int values most of the time (so arithmetic goes somewhere),
/// any bits otherwise.
fn arg() -> impl Strategy<Value = i128> {
    prop_oneof![
        (-64i128..64).prop_map(|v| v << 64),
        (-1000i128..1000),
        any::<i128>(),
    ]
}

/// A gas limit: below the transaction base, tight, or ample (random code may loop).
fn gas() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..60, 60u64..400, 400u64..5_000, Just(200_000)]
}

/// The receipts, the storage after each call, and how many modules the JIT compiled.
type Run = (Vec<Receipt>, Vec<Vec<(Slot, i128)>>, usize);

fn run_all(module: &Module, mode: Mode, pre: &[(u32, u128, i128)], args: &[i128], gas: u64) -> Run {
    let mut engine = Engine::new();
    engine.set_mode(mode);
    let verified = engine.verify(module.clone()).expect("valid module");
    engine.deploy(CONTRACT, verified);
    let mut storage = MemoryStorage::new();
    for &(space, key, value) in pre {
        let slot = Slot {
            contract: CONTRACT,
            space,
            key,
        };
        storage.write(slot, value).expect("write");
    }
    storage.commit().expect("commit");
    let mut state = StateCache::new(storage);
    let block = BlockEnv {
        number: 9,
        timestamp: 1_700_000_123,
    };
    let (mut receipts, mut states) = (Vec::new(), Vec::new());
    // Every export twice, so the second round sees the first round's writes.
    for round in 0..2 {
        for (k, e) in module.exports.iter().enumerate() {
            let tx = Transaction {
                caller: 0xca11 + round,
                contract: CONTRACT,
                function: e.name.clone(),
                args: args
                    .iter()
                    .copied()
                    .cycle()
                    .skip(k)
                    .take(e.params.len())
                    .collect(),
                gas_limit: gas,
            };
            receipts.push(engine.execute(&tx, &block, &mut state));
            state.commit_block().expect("commit");
            states.push(state.storage().entries());
        }
    }
    (receipts, states, engine.jit_stats().modules)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 100_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_jit_matches_the_interpreter(
        m in valid_module(),
        pre in proptest::collection::vec((0u32..4, 0u128..4, arg()), 0..4),
        args in proptest::collection::vec(arg(), 3),
        gas in gas(),
    ) {
        let (want, want_state, _) = run_all(&m, Mode::Interp, &pre, &args, gas);
        let (got, got_state, compiled) = run_all(&m, Mode::Jit, &pre, &args, gas);
        // A transaction that cannot pay its base never reaches the code.
        prop_assert!(compiled == 1 || gas < 50, "the JIT did not compile the module");
        prop_assert_eq!(got, want);
        prop_assert_eq!(got_state, want_state);
    }
}

/// Compiled calls recurse on the native stack: the deepest call stack the VM allows, with
/// the largest register file, in a thread with Rust's default 2 MiB stack, ends with the
/// same call-depth error as the interpreter instead of overflowing the stack.
#[test]
fn the_deepest_recursion_fits_a_default_thread_stack() {
    use strike_vm::isa::{Export, Function, Instr, Opcode, ValueType};
    // f(x): every one of 256 registers live, then f(x + 1), then the sum.
    let mut code = Vec::new();
    for r in 1..=255u8 {
        code.push(Instr::new(Opcode::AddImm, r, 0, 0, r as i32));
    }
    code.push(Instr::new(Opcode::AddImm, 0, 0, 0, 1));
    code.push(Instr::new(Opcode::Call, 0, 1, 1, 0));
    for r in 1..=255u8 {
        code.push(Instr::new(Opcode::Add, 0, 0, r, 0));
    }
    code.push(Instr::new(Opcode::Return, 0, 1, 0, 0));
    let module = Module {
        functions: vec![Function {
            params: 1,
            returns: 1,
            registers: 256,
            arrays: vec![],
            code,
        }],
        exports: vec![Export {
            name: "f".into(),
            function: 0,
            params: vec![ValueType::Int],
            returns: vec![ValueType::Int],
        }],
        ..Module::default()
    };
    let run = move |mode| {
        let module = module.clone();
        std::thread::spawn(move || run_all(&module, mode, &[], &[0], 10_000_000))
            .join()
            .expect("no stack overflow")
    };
    let (want, _, _) = run(Mode::Interp);
    let (got, _, compiled) = run(Mode::Jit);
    assert_eq!(compiled, 1);
    assert_eq!(want[0].error.as_ref().map(|e| e.code), Some(11));
    assert_eq!(got, want);
}

/// Auto interprets a module until its interpreted gas reaches `gas_per_instruction` times
/// its instruction count, then compiles it; the receipts never change.
#[test]
fn auto_compiles_at_its_gas_threshold_and_changes_nothing() {
    let source = "pub fn sum_squares(n: int) -> int {
        let mut s = 0;
        for i in 0..n { s += i * i; }
        return s;
    }";
    let module = strike_lang::compile(source, strike_lang::Options::default()).expect("ok");
    let instructions: u64 = module
        .module()
        .functions
        .iter()
        .map(|f| f.code.len() as u64)
        .sum();
    let mut engines = [Engine::new(), Engine::new()];
    engines[0].set_mode(Mode::Interp);
    engines[1].set_mode(Mode::Auto);
    engines[1].set_tiering(strike_vm::exec::Tiering {
        gas_per_instruction: 1_000,
        ..Default::default()
    });
    for e in &mut engines {
        e.deploy(CONTRACT, module.clone());
    }
    let threshold = 1_000 * instructions;
    let mut state = [
        StateCache::new(MemoryStorage::new()),
        StateCache::new(MemoryStorage::new()),
    ];
    let mut interpreted_gas = 0;
    for n in [10, 100, 7, 1000, 3, 5000, 20] {
        let tx = Transaction {
            caller: 1,
            contract: CONTRACT,
            function: "sum_squares".into(),
            args: vec![n],
            gas_limit: 10_000_000,
        };
        let compiled_before = engines[1].jit_stats().modules;
        let receipts: Vec<Receipt> = engines
            .iter()
            .zip(&mut state)
            .map(|(e, s)| e.execute(&tx, &BlockEnv::default(), s))
            .collect();
        assert_eq!(receipts[0], receipts[1], "n = {n}");
        if compiled_before == 0 {
            interpreted_gas += receipts[0].gas_used - strike_vm::runtime::gas::TX_BASE;
        }
        let compiled = engines[1].jit_stats().modules;
        assert_eq!(compiled, (interpreted_gas >= threshold) as usize, "n = {n}");
    }
    assert_eq!(engines[1].jit_stats().modules, 1, "compiled by the end");
}

/// Operands for the JIT's inline fx multiply: edge values (zero, ones, the extremes, the
/// overflow boundary around |a b| = 2^63, exact ties), small and any bits.
fn mul_operand() -> impl Strategy<Value = i128> {
    let edges = vec![
        0,
        1,
        -1,
        1 << 63,
        -(1 << 63),
        3 << 63,
        1 << 64,
        -(1 << 64),
        i128::MAX,
        i128::MIN,
        i128::MIN + 1,
        1 << 95,
        -(1 << 95),
        (1 << 96) - 1,
        1 << 96,
        u64::MAX as i128,
    ];
    prop_oneof![
        proptest::sample::select(edges),
        ((1i128 << 95) - 1000..(1i128 << 95) + 1000),
        ((1i128 << 96) - 1000..(1i128 << 96) + 1000),
        (-(1i128 << 72)..(1i128 << 72)),
        any::<i128>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200_000))]

    /// The JIT's MUL against the interpreter's and `math::mul`: the same bits and the same
    /// overflow error, on both operand orders, at ties, the overflow boundary and the
    /// extremes.
    #[test]
    fn inline_fx_multiply_matches_the_kernel(a in mul_operand(), b in mul_operand()) {
        static ENGINES: std::sync::OnceLock<[Engine; 2]> = std::sync::OnceLock::new();
        let engines = ENGINES.get_or_init(|| {
            let module = strike_vm::isa::assemble(
                ".func f(fx, fx) -> (fx, fx) regs 4 export\n    MUL r2, r0, r1\n    MUL r3, r1, r0\n    RET r2, 2\n",
            )
            .expect("assembles");
            [Mode::Interp, Mode::Jit].map(|mode| {
                let mut e = Engine::new();
                e.set_mode(mode);
                let v = e.verify(module.clone()).expect("valid");
                e.deploy(CONTRACT, v);
                e
            })
        });
        let tx = Transaction {
            caller: 1,
            contract: CONTRACT,
            function: "f".into(),
            args: vec![a, b],
            gas_limit: 1_000,
        };
        let receipts: Vec<Receipt> = engines
            .iter()
            .map(|e| e.execute(&tx, &BlockEnv::default(), &mut StateCache::new(MemoryStorage::new())))
            .collect();
        prop_assert_eq!(&receipts[0], &receipts[1]);
        prop_assert_eq!(engines[1].jit_stats().modules, 1);
        let want = strike_vm::math::mul(strike_vm::Fx::from_bits(a), strike_vm::Fx::from_bits(b));
        match want {
            Ok(v) => prop_assert_eq!(receipts[1].returns.first().copied(), Some(v.to_bits())),
            Err(_) => prop_assert_eq!(receipts[1].status, strike_vm::exec::Status::Error),
        }
    }
}
