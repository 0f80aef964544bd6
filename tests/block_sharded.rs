//! The owner-sharded executor equals the sequential one, byte for byte (every receipt and
//! the final state), at 1, 2, 3, 4, 8 and 16 threads:
//! - on every standard workload of `strike block --gen`, small;
//! - on property-generated blocks over tests/block/venue.stk mixing owned, global,
//!   barrier and would-be-escaping transactions, adds to totals that flip a cap,
//!   overflow or revert afterwards, and out-of-gas;
//! - with hand-made wrong footprints (an access removed), which the run-time guard must
//!   catch, falling back to block order with the exact sequential result.

use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;
use strike::block::{generate, open, run, Workload};
use strike_lang::Options;
use strike_tests::cells::outcome;
use strike_vm::exec::{
    execute_block, execute_block_parallel, BlockStats, Engine, Executor, Mode, ParallelConfig,
    Receipt, Transaction,
};
use strike_vm::isa::{Footprint, Key, StorageOp, VerifiedModule};
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, StateCache};

const THREADS: [usize; 6] = [1, 2, 3, 4, 8, 16];

fn config(threads: usize, executor: Executor) -> ParallelConfig {
    ParallelConfig {
        threads,
        speculate_alone: true,
        executor,
        ..ParallelConfig::default()
    }
}

#[test]
fn every_standard_workload_equals_sequential() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stdlib");
    for workload in [
        Workload::Independent,
        Workload::HotCounter,
        Workload::Chain,
        Workload::OracleUpdate,
        Workload::OptionsMargin,
        Workload::Liquidations,
    ] {
        let path =
            std::fs::canonicalize(root.join(workload.contract_file())).expect("stdlib contract");
        let text = generate(workload, &path.display().to_string(), 240, 24).join("\n");
        let (engine, blocks) = open(Path::new("w.jsonl"), &text, Mode::Jit).expect("loads");
        let (r, s, _, _) = run(&engine, &blocks, None).expect("runs");
        let expected = outcome(&r, s);
        let ok = r.iter().filter(|r| r.error.is_none()).count();
        assert!(
            ok * 5 > r.len(),
            "{workload:?}: too few transactions succeed"
        );
        for threads in THREADS {
            for executor in [Executor::Sharded, Executor::Stm] {
                let c = config(threads, executor);
                let (r2, s2, stats, _) = run(&engine, &blocks, Some(&c)).expect("runs");
                assert_eq!(r2, r, "{workload:?} {executor:?} at {threads} threads");
                assert_eq!(outcome(&r2, s2), expected, "{workload:?} at {threads}");
                if executor == Executor::Sharded {
                    // Every workload is owned and global transactions only: footprints
                    // predict it all, and nothing falls back.
                    assert_eq!(stats.paths.barrier, 0, "{workload:?}: {stats:?}");
                    assert_eq!(stats.paths.fallback, 0, "{workload:?}: {stats:?}");
                    assert!(stats.paths.owned > 0 && stats.paths.global > 0);
                }
            }
        }
    }
}

const VENUE: u128 = 0x7e;

fn venue() -> &'static VerifiedModule {
    static MODULE: OnceLock<VerifiedModule> = OnceLock::new();
    MODULE.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/block/venue.stk");
        let text = std::fs::read_to_string(path).expect("tests/block/venue.stk");
        strike_lang::compile(&text, Options::default()).expect("venue.stk compiles")
    })
}

fn engine(mode: Mode, wrong: Option<(&str, usize)>) -> Engine {
    let mut engine = Engine::new();
    engine.set_mode(mode);
    let module = venue().clone();
    match wrong {
        None => engine.deploy(VENUE, module),
        Some((export, drop)) => {
            // A hand-made wrong footprint: the export's with one access removed.
            let mut footprints: Vec<Footprint> = module.footprints().to_vec();
            let f = module.export(export).expect("export");
            let fp = &mut footprints[f];
            assert!(!fp.accesses.is_empty());
            let k = drop % fp.accesses.len();
            fp.accesses.remove(k);
            engine.deploy_with_footprints(VENUE, module, &footprints);
        }
    }
    engine
}

const FUNCTIONS: [&str; 12] = [
    "set_limit",
    "deposit",
    "spend",
    "bump",
    "huge",
    "add_then_revert",
    "burn",
    "seize",
    "read_total",
    "transfer",
    "point",
    "steal",
];

#[derive(Clone, Debug)]
struct Op {
    function: usize,
    caller: u128,
    a: i128,
    b: i128,
    gas_limit: u64,
}

fn op() -> impl Strategy<Value = Op> {
    (
        prop_oneof![
            // Mostly owned transactions, so segments are long; every kind appears.
            1 => Just(0usize),
            6 => Just(1usize),
            6 => Just(2usize),
            3 => Just(3usize),
            1 => Just(4usize),
            2 => Just(5usize),
            2 => Just(6usize),
            2 => Just(7usize),
            1 => Just(8usize),
            2 => Just(9usize),
            1 => Just(10usize),
            1 => Just(11usize),
        ],
        0u128..12,
        -5i128..40,
        0i128..12,
        prop_oneof![8 => Just(1_000_000u64), 1 => 100u64..3_000],
    )
        .prop_map(|(function, caller, a, b, gas_limit)| Op {
            function,
            caller,
            a,
            b,
            gas_limit,
        })
}

fn transactions(ops: &[Op]) -> Vec<Transaction> {
    ops.iter()
        .map(|o| {
            let name = FUNCTIONS[o.function];
            let args = match name {
                "read_total" | "huge" | "steal" => vec![],
                "seize" | "point" => vec![o.b],
                "transfer" => vec![o.b, o.a],
                "add_then_revert" => vec![o.a, i128::from(o.b % 3 == 0)],
                "burn" => vec![o.a.abs() * 5],
                _ => vec![o.a],
            };
            Transaction {
                caller: o.caller,
                contract: VENUE,
                function: name.into(),
                args,
                gas_limit: o.gas_limit,
            }
        })
        .collect()
}

fn genesis(engine: &Engine) -> StateCache<MemoryStorage> {
    let mut state = StateCache::new(MemoryStorage::new());
    let seed: Vec<Transaction> = std::iter::once(Transaction {
        caller: 1,
        contract: VENUE,
        function: "set_limit".into(),
        args: vec![25],
        gas_limit: 1_000_000,
    })
    .chain((0..12).map(|who| Transaction {
        caller: who,
        contract: VENUE,
        function: "deposit".into(),
        args: vec![100],
        gas_limit: 1_000_000,
    }))
    .collect();
    execute_block(engine, &seed, &BlockEnv::default(), &mut state).expect("a small block");
    state.commit_block().expect("memory storage commits");
    state
}

/// Runs `txs` sequentially and sharded at every thread count; returns the sharded
/// figures of the last run.
fn check(engine: &Engine, txs: &[Transaction]) -> (Vec<Receipt>, BlockStats) {
    let env = BlockEnv {
        number: 3,
        timestamp: 100,
    };
    let mut sequential = genesis(engine);
    let expected = execute_block(engine, txs, &env, &mut sequential).expect("in limits");
    let expected_outcome = outcome(&expected, sequential);
    let mut last = BlockStats::default();
    for threads in THREADS {
        let mut state = genesis(engine);
        let c = config(threads, Executor::Sharded);
        let (receipts, stats) =
            execute_block_parallel(engine, txs, &env, &mut state, &c).expect("in limits");
        assert_eq!(receipts, expected, "receipts at {threads} threads");
        assert_eq!(outcome(&receipts, state), expected_outcome, "at {threads}");
        assert_eq!(
            stats.paths.owned + stats.paths.global + stats.paths.barrier + stats.paths.fallback,
            txs.len() as u64
        );
        last = stats;
    }
    (expected, last)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn mixed_blocks_equal_sequential(ops in prop::collection::vec(op(), 1..160)) {
        check(&engine(Mode::Interp, None), &transactions(&ops));
    }

    #[test]
    fn wrong_footprints_are_caught(
        ops in prop::collection::vec(op(), 1..120),
        victim in 0usize..FUNCTIONS.len(),
        drop in 0usize..8,
    ) {
        check(&engine(Mode::Interp, Some((FUNCTIONS[victim], drop))), &transactions(&ops));
    }
}

/// A deterministic escape: `spend`'s footprint without its read of the limit. Every
/// spend escapes; the guard stops it and the segment runs again in block order.
#[test]
fn an_escape_is_counted_and_falls_back() {
    let module = venue();
    let spend = module.export("spend").expect("spend");
    let fp = &module.footprints()[spend];
    let read_limit = fp
        .accesses
        .iter()
        .position(|a| a.op == StorageOp::Load && matches!(a.key, Key::Const(_)))
        .expect("spend reads the limit");
    let engine = engine(Mode::Jit, Some(("spend", read_limit)));
    let txs: Vec<Transaction> = (0..40u128)
        .map(|i| Transaction {
            caller: i % 12,
            contract: VENUE,
            function: if i % 4 == 3 { "spend" } else { "deposit" }.into(),
            args: vec![(i % 7) as i128],
            gas_limit: 1_000_000,
        })
        .collect();
    let (_, stats) = check(&engine, &txs);
    assert!(stats.escapes > 0, "{stats:?}");
    // All but the first (run in order before a second owner appeared) fell back.
    assert_eq!(stats.paths.fallback, txs.len() as u64 - 1, "{stats:?}");
}

/// Capped adds that flip part way, and a sum near overflow: the pre-sum cannot prove
/// them, so the segment runs in block order; the sequential result stands.
#[test]
fn totals_near_a_cap_or_overflow_fall_back_exactly() {
    let engine = engine(Mode::Interp, None);
    let mut txs: Vec<Transaction> = (0..50u128)
        .map(|i| Transaction {
            caller: i % 9,
            contract: VENUE,
            function: "bump".into(),
            args: vec![if i % 10 == 9 { -4 } else { 3 }],
            gas_limit: 1_000_000,
        })
        .collect();
    let (receipts, stats) = check(&engine, &txs);
    assert!(receipts.iter().any(|r| r.error.is_some()), "the cap bites");
    assert!(stats.paths.fallback > 0, "{stats:?}");
    txs.truncate(10);
    for t in &mut txs {
        t.function = "huge".into();
        t.args.clear();
    }
    let (receipts, _) = check(&engine, &txs);
    assert!(
        receipts.iter().any(|r| r.error.is_some()),
        "the sum overflows"
    );
}

/// The class each export gets from its footprint, as `strike footprint` prints it: the
/// contract built to escape (a key read from storage) is a barrier, never owned.
#[test]
fn venue_exports_are_classified_as_designed() {
    use strike_vm::exec::sharded::plan::{BarrierReason, Plan, Template};
    let module = venue();
    let plan = Plan::new(module);
    let template = |name: &str| {
        let index = module
            .module()
            .exports
            .iter()
            .position(|e| e.name == name)
            .expect("export");
        plan.export(index).expect("plan").template.clone()
    };
    assert_eq!(template("set_limit"), Template::Global);
    assert_eq!(
        template("deposit"),
        Template::Owned {
            owners: vec![Key::Caller]
        }
    );
    assert_eq!(
        template("seize"),
        Template::Owned {
            owners: vec![Key::Arg(0)]
        }
    );
    assert_eq!(
        template("transfer"),
        Template::Owned {
            owners: vec![Key::Caller, Key::Arg(0)]
        }
    );
    assert_eq!(
        template("read_total"),
        Template::Barrier(BarrierReason::ReadsTotal)
    );
    assert_eq!(template("steal"), Template::Barrier(BarrierReason::Unknown));
}
