//! Parallel block execution (Block-STM and the owner-sharded executor) equals
//! sequential, byte for byte: every receipt (status,
//! returns, gas, events in order, error) and the final state, at 1, 2, 3, 4, 8 and 16
//! threads (more threads than the machine's cores force interleavings), repeated, with
//! tasks of one transaction and of several, over property-generated blocks on 2, 10, 100
//! and 1,000 keys mixing reads, writes, deltas, bounded adds (SADDCAP), reverts,
//! overflows and out-of-gas.

use proptest::prelude::*;
use strike_tests::cells::{self, genesis, outcome, CELLS, OTHER};
use strike_vm::exec::{
    execute_block, execute_block_parallel, Engine, Executor, Mode, ParallelConfig, Transaction,
};
use strike_vm::runtime::BlockEnv;

fn engine(mode: Mode) -> Engine {
    let mut engine = Engine::new();
    engine.set_mode(mode);
    engine.deploy(CELLS, cells::module().clone());
    engine.deploy(OTHER, cells::module().clone());
    engine
}

/// One transaction of a random block: (function, caller, first key, second key or
/// amount, gas limit).
#[derive(Clone, Debug)]
struct Op {
    function: usize,
    caller: u128,
    contract: u128,
    a: i128,
    b: i128,
    gas_limit: u64,
}

const FUNCTIONS: [&str; 9] = [
    "get",
    "set",
    "add",
    "copy",
    "add_then_read",
    "add_unless_odd",
    "burn",
    "add_huge",
    "add_capped",
];

fn op(keys: i128) -> impl Strategy<Value = Op> {
    (
        0..FUNCTIONS.len(),
        0u128..6,
        prop::bool::weighted(0.9),
        0..keys,
        0..keys,
        -5i128..50,
        prop_oneof![8 => Just(1_000_000u64), 1 => 100u64..2_000],
    )
        .prop_map(move |(function, caller, main, a, k2, small, gas_limit)| {
            let b = match FUNCTIONS[function] {
                "copy" => k2,
                "burn" => small.abs() * 4,
                _ => small,
            };
            Op {
                function,
                caller,
                contract: if main { CELLS } else { OTHER },
                a,
                b,
                gas_limit,
            }
        })
}

fn transactions(ops: &[Op]) -> Vec<Transaction> {
    ops.iter()
        .map(|o| Transaction {
            caller: o.caller,
            contract: o.contract,
            function: FUNCTIONS[o.function].into(),
            args: match FUNCTIONS[o.function] {
                "get" | "add_huge" => vec![o.a],
                _ => vec![o.a, o.b],
            },
            gas_limit: o.gas_limit,
        })
        .collect()
}

fn check_block(engine: &Engine, keys: i128, txs: &[Transaction], deltas: bool) {
    let env = BlockEnv {
        number: 7,
        timestamp: 1_000,
    };
    let mut sequential = genesis(engine, keys);
    let expected_receipts =
        execute_block(engine, txs, &env, &mut sequential).expect("within the block limits");
    let expected = outcome(&expected_receipts, sequential);
    // Block-STM with the automatic task size twice (timing differs between runs), then
    // tasks of one transaction (the most interleavings) and of six (several senders per
    // task); then the owner-sharded executor, twice.
    let runs = [
        (Executor::Stm, 0),
        (Executor::Stm, 0),
        (Executor::Stm, 1),
        (Executor::Stm, 6),
        (Executor::Sharded, 0),
        (Executor::Sharded, 0),
    ];
    for threads in [1, 2, 3, 4, 8, 16] {
        for (executor, task_txs) in runs {
            let mut state = genesis(engine, keys);
            let config = ParallelConfig {
                threads,
                deltas,
                min_tasks: 2,
                task_txs,
                speculate_alone: true,
                executor,
                ..ParallelConfig::default()
            };
            let (receipts, _) = execute_block_parallel(engine, txs, &env, &mut state, &config)
                .expect("within the block limits");
            assert_eq!(
                receipts, expected_receipts,
                "{executor:?}: receipts at {threads} threads, tasks of {task_txs}"
            );
            assert_eq!(
                outcome(&receipts, state),
                expected,
                "digests at {threads} threads"
            );
        }
    }
}

fn blocks(keys: i128, max_len: usize) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(keys), 1..max_len)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn parallel_equals_sequential_on_2_keys(ops in blocks(2, 120), deltas: bool) {
        check_block(&engine(Mode::Interp), 2, &transactions(&ops), deltas);
    }

    #[test]
    fn parallel_equals_sequential_on_10_keys(ops in blocks(10, 200), deltas: bool) {
        check_block(&engine(Mode::Interp), 10, &transactions(&ops), deltas);
    }

    #[test]
    fn parallel_equals_sequential_on_100_keys(ops in blocks(100, 300), deltas: bool) {
        check_block(&engine(Mode::Auto), 100, &transactions(&ops), deltas);
    }

    #[test]
    fn parallel_equals_sequential_on_1000_keys(ops in blocks(1000, 400), deltas: bool) {
        check_block(&engine(Mode::Jit), 1000, &transactions(&ops), deltas);
    }
}

/// The bounded add's hard case: every transaction adds to one cell under a cap, so the
/// outcome flips from success to failure part way through the block; which transactions
/// fail must be exactly the sequential ones, at every thread count and task size.
#[test]
fn bounded_adds_fail_exactly_where_sequential_ones_do() {
    let engine = engine(Mode::Jit);
    let txs: Vec<Transaction> = (0..300u128)
        .map(|i| Transaction {
            caller: 1000 + i,
            contract: CELLS,
            function: "add_capped".into(),
            args: vec![7, if i % 10 == 9 { -3 } else { 1 }],
            gas_limit: 1_000_000,
        })
        .collect();
    for deltas in [true, false] {
        check_block(&engine, 10, &txs, deltas);
    }
    // And the sequential result is what the cap says: the cell starts at 21 and stops
    // where one more add would pass 60, reopening room only after each -3.
    let mut state = genesis(&engine, 10);
    let receipts = execute_block(&engine, &txs, &BlockEnv::default(), &mut state)
        .expect("within the block limits");
    let failed = receipts.iter().filter(|r| r.error.is_some()).count();
    assert!((100..250).contains(&failed), "{failed} bounded adds failed");
    assert!(receipts
        .iter()
        .filter_map(|r| r.error.as_ref())
        .all(|e| e.code == 19));
}

/// One thread takes the sequential path by default (reported as such), with the same
/// result as the speculative machinery run alone.
#[test]
fn one_thread_runs_the_sequential_path_unless_asked_to_speculate() {
    use strike_vm::exec::Fallback;
    let engine = engine(Mode::Interp);
    let txs: Vec<Transaction> = (0..40i128)
        .map(|i| Transaction {
            caller: 7 + (i % 5) as u128,
            contract: CELLS,
            function: "add_capped".into(),
            args: vec![i % 3, i],
            gas_limit: 1_000_000,
        })
        .collect();
    let env = BlockEnv::default();
    let mut results = Vec::new();
    for speculate_alone in [false, true] {
        let config = ParallelConfig {
            threads: 1,
            speculate_alone,
            ..ParallelConfig::default()
        };
        let mut state = genesis(&engine, 3);
        let (receipts, stats) = execute_block_parallel(&engine, &txs, &env, &mut state, &config)
            .expect("within the block limits");
        let expected = if speculate_alone {
            None
        } else {
            Some(Fallback::OneThread)
        };
        assert_eq!(stats.fallback, expected);
        results.push(outcome(&receipts, state));
    }
    assert_eq!(results[0], results[1]);
}

/// An embedder's thread count is not trusted to be one the OS can give: a million threads
/// (more than tasks, and more than the OS allows) gives the sequential result, no panic.
#[test]
fn an_absurd_thread_count_still_gives_the_sequential_result() {
    let engine = engine(Mode::Interp);
    let txs: Vec<Transaction> = (0..40u128)
        .map(|i| Transaction {
            caller: i,
            contract: CELLS,
            function: "add".into(),
            args: vec![(i % 5) as i128, 1],
            gas_limit: 1_000_000,
        })
        .collect();
    let env = BlockEnv::default();
    let mut sequential = genesis(&engine, 5);
    let expected = execute_block(&engine, &txs, &env, &mut sequential).expect("small block");
    let mut state = genesis(&engine, 5);
    let config = ParallelConfig {
        threads: 1_000_000,
        task_txs: 1,
        min_tasks: 2,
        ..ParallelConfig::default()
    };
    let (receipts, _) =
        execute_block_parallel(&engine, &txs, &env, &mut state, &config).expect("small block");
    assert_eq!(receipts, expected);
    assert_eq!(outcome(&receipts, state), outcome(&expected, sequential));
}
