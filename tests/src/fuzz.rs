//! The checks behind the cargo-fuzz targets of `tests/fuzz/`, one function per target,
//! each taking the fuzzer's raw bytes. They live here, not in the fuzz crate, so the normal
//! suite (`tests/fuzz_regressions.rs`) replays every saved crash and every seed through the
//! very code the fuzzers ran: a finding fixed once stays fixed.
//!
//! Each check panics only on a real finding: a panic inside Strike (bad input must become
//! an error), or a broken invariant asserted here (a compiled module that does not verify,
//! an encoding that does not round-trip, the JIT or the parallel executor disagreeing with
//! the interpreter or the sequential executor, gas used above the limit, a failed
//! transaction that left a write behind).
//!
//! The checks that can reject their input early return whether it got through (decoded,
//! verified, or drew a whole program), so the regression suite can tell that its inputs
//! reach the interesting part.

use crate::cells::{self, genesis, outcome, CELLS, OTHER};
use crate::modules::{build, RawInstr, Sig};
use arbitrary::{Result, Unstructured};
use std::path::Path;
use strike_lang::{diag, Options, Sources};
use strike_vm::exec::{
    execute_block, execute_block_parallel, Engine, Fallback, Mode, ParallelConfig, Receipt, Status,
    Transaction,
};
use strike_vm::isa::{assemble, disassemble, Limits, Module, ValueType};
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, StateCache};

/// Gas limit of the transactions the execution targets run: enough for thousands of
/// instructions, small enough that a run takes well under a millisecond.
pub const FUZZ_GAS: u64 = 200_000;

/// Values that reach edge cases more often than uniform draws do.
const INTERESTING: [i128; 12] = [
    0,
    1,
    -1,
    2,
    1 << 64,
    -(1 << 64),
    1 << 63,
    i128::MAX,
    i128::MIN,
    i128::MAX - 1,
    i128::MIN + 1,
    (1 << 64) + (1 << 63),
];

fn value(u: &mut Unstructured<'_>) -> Result<i128> {
    Ok(if u.ratio(1, 2)? {
        INTERESTING[u.choose_index(INTERESTING.len())?]
    } else {
        u.arbitrary()?
    })
}

/// Target `compile`: arbitrary text through the whole front end (lexer, parser, type
/// checker, lowering, optimiser, verifier) and the diagnostics renderers, with tests on and
/// off and the optimiser on and off; the text up to the first NUL byte is the root file,
/// the rest is what any import reads. The same text also goes through the assembler.
/// A module the compiler produces must verify, and re-decode to itself.
pub fn compile(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (root, imported) = text.split_once('\0').unwrap_or((&text, ""));
    for (optimize, tests) in [(true, false), (false, false), (true, true)] {
        let mut loader = |_: &str, path: &str| -> std::result::Result<(String, String), String> {
            if path.is_empty() {
                return Err("the path is empty".into());
            }
            Ok((path.to_string(), imported.to_string()))
        };
        let (sources, compiled) = strike_lang::compile_program(
            "fuzz.stk",
            root,
            &mut loader,
            Options { optimize, tests },
        );
        match compiled {
            Ok(c) => round_trip(c.module.module(), tests),
            Err(diagnostics) => render(&sources, &diagnostics),
        }
    }
    if let Ok(module) = assemble(root) {
        let _ = Engine::new().verify(module);
    }
}

fn render(sources: &Sources, diagnostics: &[strike_lang::Diagnostic]) {
    assert!(!diagnostics.is_empty(), "a failed compile must say why");
    let _ = diag::render_sources(sources, diagnostics);
    let _ = strike::json::diagnostics(sources, diagnostics);
}

/// A module encodes, decodes to itself, verifies again (the compiler's output must), and
/// disassembles.
fn round_trip(module: &Module, tests: bool) {
    let bytes = module.encode();
    let again = Module::decode(&bytes).expect("an encoded module decodes");
    assert_eq!(&again, module, "decode(encode(m)) == m");
    let mut limits = Engine::new().limits().clone();
    limits.allow_test_natives = tests;
    Engine::with_limits(limits)
        .verify(again)
        .expect("the compiler's module verifies");
    let _ = disassemble(module);
}

/// Target `module`: arbitrary bytes through module decoding and verification. A decoded
/// module re-encodes to bytes that decode to it; a verified one disassembles, and the
/// disassembly assembles back to a module that verifies.
pub fn module(data: &[u8]) -> bool {
    let engine = Engine::new();
    let Ok(module) = Module::decode(data) else {
        return false;
    };
    let again = Module::decode(&module.encode()).expect("an encoded module decodes");
    assert_eq!(again, module, "decode(encode(m)) == m");
    if let Ok(verified) = engine.verify(module) {
        let text = disassemble(verified.module());
        let reassembled = assemble(&text).expect("a disassembly assembles");
        engine
            .verify(reassembled)
            .expect("a verified module's disassembly verifies");
    }
    true
}

/// Target `execute`: arbitrary bytes as a module; when it verifies, every export runs with
/// several argument patterns and [`FUZZ_GAS`] gas in the interpreter, on state written by
/// the earlier calls. Gas used never exceeds the limit, and a call that fails leaves the
/// state exactly as it was.
pub fn execute(data: &[u8]) -> bool {
    let mut engine = Engine::new();
    engine.set_mode(Mode::Interp);
    let Ok(verified) = engine.load(data) else {
        return false;
    };
    let exports: Vec<(String, usize)> = verified
        .module()
        .exports
        .iter()
        .map(|e| (e.name.clone(), e.params.len()))
        .collect();
    engine.deploy(1, verified);
    deploy_peer(&mut engine);
    let mut state = StateCache::new(MemoryStorage::new());
    let env = BlockEnv {
        number: 9,
        timestamp: 1_700_000_000,
    };
    for pattern in 0..4usize {
        for (name, params) in &exports {
            let args = (0..*params)
                .map(|i| INTERESTING[(pattern * 5 + i * 3) % INTERESTING.len()])
                .collect();
            let tx = Transaction {
                caller: 2 + pattern as u128,
                contract: 1,
                function: name.clone(),
                args,
                gas_limit: FUZZ_GAS,
            };
            run_checked(&engine, &tx, &env, &mut state);
        }
    }
    true
}

/// Where the fuzz targets deploy the peer random modules' XCALLs reach
/// ([`crate::modules::peer_module`]): 2, one of the [`INTERESTING`] values, so register
/// values name it often.
pub const PEER: u128 = 2;

/// Deploys the peer at [`PEER`].
fn deploy_peer(engine: &mut Engine) {
    let peer = engine
        .verify(crate::modules::peer_module())
        .expect("the peer verifies");
    engine.deploy(PEER, peer);
}

/// Runs one transaction, committing it, and checks gas and revert invariants.
fn run_checked(
    engine: &Engine,
    tx: &Transaction,
    env: &BlockEnv,
    state: &mut StateCache<MemoryStorage>,
) -> Receipt {
    let before = state.storage().entries();
    let receipt = engine.execute(tx, env, state);
    state.commit_block().expect("memory storage commits");
    assert!(
        receipt.gas_used <= tx.gas_limit,
        "gas used {} above the limit {}",
        receipt.gas_used,
        tx.gas_limit
    );
    if receipt.status != Status::Ok {
        assert_eq!(
            state.storage().entries(),
            before,
            "a failed transaction left writes"
        );
        assert!(receipt.events.is_empty() && receipt.returns.is_empty());
        assert!(receipt.error.is_some());
    }
    receipt
}

/// A random valid module (every opcode of the table, drawn by [`crate::modules::build`]).
fn valid_module(u: &mut Unstructured<'_>) -> Result<Module> {
    let functions = u.int_in_range(1..=3)?;
    let mut sigs: Vec<Sig> = Vec::new();
    for _ in 0..functions {
        let params: u8 = u.int_in_range(0..=3)?;
        let returns: u8 = u.int_in_range(0..=2)?;
        // Now and then a wide frame, up to the 256 registers an operand can name (CALL's
        // static gas grows with the callee's frame).
        let registers: u16 = if u.ratio(1, 8)? {
            u.int_in_range(16..=256)?
        } else {
            u.int_in_range(4..=15)?
        };
        let arrays = (0..u.int_in_range(0..=2)?)
            .map(|_| u.int_in_range(1u32..=8))
            .collect::<Result<Vec<_>>>()?;
        sigs.push((
            params,
            returns,
            registers.max(params as u16 + returns as u16 + 1),
            arrays,
        ));
    }
    let constants = (0..u.int_in_range(0..=3)?)
        .map(|_| value(u))
        .collect::<Result<Vec<_>>>()?;
    let events = u.int_in_range(0..=2)?;
    let mut bodies = Vec::new();
    for _ in 0..functions {
        let len = u.int_in_range(1..=40)?;
        let body = (0..len)
            .map(|_| Ok::<RawInstr, _>((u.arbitrary()?, u.arbitrary()?, u.arbitrary()?)))
            .collect::<Result<Vec<_>>>()?;
        bodies.push(body);
    }
    Ok(build(&sigs, constants, events, &bodies))
}

fn calls(u: &mut Unstructured<'_>, module: &Module, contract: u128) -> Result<Vec<Transaction>> {
    let mut txs = Vec::new();
    for _ in 0..u.int_in_range(1..=4)? {
        let export = &module.exports[u.choose_index(module.exports.len())?];
        let args = (0..export.params.len())
            .map(|_| value(u))
            .collect::<Result<Vec<_>>>()?;
        txs.push(Transaction {
            caller: u.int_in_range(0..=3)?,
            contract,
            function: export.name.clone(),
            args,
            gas_limit: if u.ratio(1, 4)? {
                u.int_in_range(0..=2_000)?
            } else {
                FUZZ_GAS
            },
        });
    }
    Ok(txs)
}

/// Limits for one run: the defaults, or (one run in four) tight per-transaction limits,
/// so the event, write, memory and depth limits fail inside the generated programs.
fn run_limits(u: &mut Unstructured<'_>) -> Result<Limits> {
    let mut limits = Limits::default();
    if u.ratio(1, 4)? {
        limits.max_events_per_tx = u.int_in_range(0..=4)?;
        limits.max_storage_writes_per_tx = u.int_in_range(0..=8)?;
        limits.max_memory_words = u.int_in_range(0..=64)?;
        limits.max_call_depth = u.int_in_range(1..=8)?;
    }
    Ok(limits)
}

/// Target `jit_diff`: a random valid module drawn from the opcode table, called a few times
/// with random arguments and gas limits, in the interpreter and in the JIT, under the
/// default limits or tight ones: every receipt (status, returns, gas, events, error) and
/// the final state must be identical, and the JIT must really have compiled the module.
pub fn jit_diff(data: &[u8]) -> bool {
    let mut u = Unstructured::new(data);
    let Ok(limits) = run_limits(&mut u) else {
        return false;
    };
    let Ok(module) = valid_module(&mut u) else {
        return false;
    };
    let Ok(txs) = calls(&mut u, &module, 1) else {
        return false;
    };
    let verified = Engine::with_limits(limits.clone())
        .verify(module)
        .expect("the generator's modules verify");
    let env = BlockEnv {
        number: 3,
        timestamp: 1_000,
    };
    let mut outcomes = Vec::new();
    for mode in [Mode::Interp, Mode::Jit] {
        let mut engine = Engine::with_limits(limits.clone());
        engine.set_mode(mode);
        engine.deploy(1, verified.clone());
        deploy_peer(&mut engine);
        let mut state = StateCache::new(MemoryStorage::new());
        let receipts: Vec<Receipt> = txs
            .iter()
            .map(|tx| run_checked(&engine, tx, &env, &mut state))
            .collect();
        // A transaction that pays the base charge reaches the engine choice; from then on
        // the JIT must have compiled the module, or the engine quietly interpreted and this
        // compared the interpreter with itself.
        if mode == Mode::Jit
            && txs
                .iter()
                .any(|tx| tx.gas_limit >= strike_vm::runtime::gas::TX_BASE)
        {
            assert!(
                engine.jit_stats().modules >= 1,
                "the JIT compiled the module"
            );
        }
        outcomes.push((receipts, state.storage().entries()));
    }
    assert_eq!(outcomes[0].0, outcomes[1].0, "interpreter vs JIT receipts");
    assert_eq!(outcomes[0].1, outcomes[1].1, "interpreter vs JIT state");
    true
}

const RANDOM: u128 = 0xce13;

/// cells.stk's exports and how many arguments each takes.
const CELL_FUNCTIONS: [(&str, usize); 9] = [
    ("get", 1),
    ("set", 2),
    ("add", 2),
    ("copy", 2),
    ("add_then_read", 2),
    ("add_unless_odd", 2),
    ("burn", 2),
    ("add_huge", 1),
    ("add_capped", 2),
];

/// Target `block`: a random block over two copies of cells.stk (reads, writes, deltas,
/// bounded adds, reverts, overflows, out-of-gas) and a random valid module, on random keys,
/// run sequentially and by the parallel executor at a random thread count, task size and
/// delta setting: the receipts and the final state must be identical.
pub fn block(data: &[u8]) -> bool {
    let mut u = Unstructured::new(data);
    let Ok((txs, config)) = random_block(&mut u) else {
        return false;
    };
    let Ok(random) = valid_module(&mut u) else {
        return false;
    };
    let random = Engine::new()
        .verify(random)
        .expect("the generator's modules verify");
    let mut txs = txs;
    // Calls to the random module go where the fuzzer says, interleaved with the cells.
    if let Ok(extra) = calls(&mut u, random.module(), RANDOM) {
        for (i, tx) in extra.into_iter().enumerate() {
            let at = (i * 7 + 3).min(txs.len());
            txs.insert(at, tx);
        }
    }
    let mode = [Mode::Interp, Mode::Jit, Mode::Auto][data.len() % 3];
    let mut engine = Engine::new();
    engine.set_mode(mode);
    engine.deploy(CELLS, cells::module().clone());
    engine.deploy(OTHER, cells::module().clone());
    engine.deploy(RANDOM, random);
    deploy_peer(&mut engine);
    let env = BlockEnv {
        number: 7,
        timestamp: 1_000,
    };
    let mut sequential = genesis(&engine, 10);
    let expected =
        execute_block(&engine, &txs, &env, &mut sequential).expect("within the block limits");
    let expected_outcome = outcome(&expected, sequential);
    let mut parallel = genesis(&engine, 10);
    let (receipts, stats) = execute_block_parallel(&engine, &txs, &env, &mut parallel, &config)
        .expect("within the block limits");
    // The stall guard gives the right result, but a stall is a scheduler bug.
    assert_ne!(
        stats.fallback,
        Some(Fallback::Stalled),
        "the scheduler stalled"
    );
    assert_eq!(receipts, expected, "parallel vs sequential receipts");
    assert_eq!(
        outcome(&receipts, parallel),
        expected_outcome,
        "parallel vs sequential state"
    );
    true
}

fn random_block(u: &mut Unstructured<'_>) -> Result<(Vec<Transaction>, ParallelConfig)> {
    let keys: i128 = [2, 3, 10, 100][u.choose_index(4)?];
    let mut txs = Vec::new();
    for _ in 0..u.int_in_range(1..=120)? {
        let (function, params) = CELL_FUNCTIONS[u.choose_index(CELL_FUNCTIONS.len())?];
        let a = u.int_in_range(0..=keys - 1)?;
        let b = match function {
            "copy" => u.int_in_range(0..=keys - 1)?,
            "burn" => u.int_in_range(0..=200)?,
            _ => u.int_in_range(-5..=50)?,
        };
        txs.push(Transaction {
            caller: u.int_in_range(0..=5)?,
            contract: if u.ratio(9, 10)? { CELLS } else { OTHER },
            function: function.into(),
            args: [a, b][..params].to_vec(),
            gas_limit: if u.ratio(1, 8)? {
                u.int_in_range(100..=2_000)?
            } else {
                1_000_000
            },
        });
    }
    let config = ParallelConfig {
        threads: u.int_in_range(1..=8)?,
        speculate_alone: u.arbitrary()?,
        deltas: u.arbitrary()?,
        min_tasks: u.int_in_range(1..=4)?,
        task_txs: u.int_in_range(0..=6)?,
        ..ParallelConfig::default()
    };
    Ok((txs, config))
}

/// Target `inputs`: the other untrusted text the CLI reads: block files (JSON lines),
/// project manifests (`strike.toml`) and typed command-line values. A parsed value formats
/// back to text that parses to the same bits.
pub fn inputs(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut types = |_: &Path, function: &str| {
        Ok(match function.len() % 3 {
            0 => None,
            1 => Some(vec![ValueType::Fx, ValueType::Int]),
            _ => Some(vec![ValueType::Bool, ValueType::Address, ValueType::Fx]),
        })
    };
    let _ = strike::block::parse(Path::new("fuzz/block.jsonl"), &text, &mut types);
    let _ = strike::cli::Manifest::parse(&text);
    for line in text.lines().take(8) {
        for ty in [
            ValueType::Fx,
            ValueType::Int,
            ValueType::Bool,
            ValueType::Address,
        ] {
            if let Ok(bits) = strike_lang::values::parse(ty, line) {
                let shown = strike_lang::values::format(ty, bits);
                assert_eq!(
                    strike_lang::values::parse(ty, &shown),
                    Ok(bits),
                    "{ty:?} {line:?} formats as {shown:?}, which does not parse back"
                );
            }
        }
    }
}
