//! `cargo bench -p strike-benches --bench block`: the sequential block executor against
//! the parallel ones, side by side in one run, on the six standard workloads that
//! `strike block --gen` writes (2,000 transactions over 1,000 accounts, the JIT engine,
//! fresh state each iteration, the setup block included in every timing): four on perps,
//! two on the options venue.
//!
//! Per workload: `sequential`; `sharded_N` (owner-sharded by footprints, the default) and
//! `stm_N` (Block-STM) for N = 2 and 4; `sharded_1_machinery` and `stm_1_machinery` (each
//! executor's machinery alone on one thread: its overhead); and for the independent and
//! hot-counter blocks `ceiling_2_split`: not an executor but a ceiling, each half of the
//! accounts run by its own thread over its own state with no coordination. Before timing,
//! every configuration is checked to give the sequential receipts and state, and its paths
//! (owned, global, barrier, fallback) are printed. The figures at 20,000 transactions are
//! the CLI's (`strike block FILE --threads N --json --repeat R`, README).

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::Path;
use std::time::Duration;
use strike::block::{generate, open, Block, Workload};
use strike_vm::exec::{
    execute_block, receipts_digest, state_digest, BlockStats, Engine, Executor, Mode,
    ParallelConfig, Receipt, Transaction,
};
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, StateCache};

const TXS: usize = 2000;
const ACCOUNTS: usize = 1000;

fn load(workload: Workload) -> (Engine, Vec<Block>) {
    let contract = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../stdlib")
        .join(workload.contract_file());
    let contract = std::fs::canonicalize(contract).expect("stdlib contract");
    let text = generate(workload, &contract.display().to_string(), TXS, ACCOUNTS).join("\n");
    open(Path::new("workload.jsonl"), &text, Mode::Jit).expect("workload loads")
}

/// Runs every block; `None` runs the sequential executor.
fn run(
    engine: &Engine,
    blocks: &[Block],
    config: Option<&ParallelConfig>,
) -> (Vec<Receipt>, StateCache<MemoryStorage>, BlockStats) {
    let (r, s, stats, _) =
        strike::block::run(engine, blocks, config).expect("runs and commits in memory");
    (r, s, stats)
}

fn digests(r: &[Receipt], s: &StateCache<MemoryStorage>) -> ([u8; 32], [u8; 32]) {
    (receipts_digest(r), state_digest(&s.storage().entries()))
}

type Half = Vec<(BlockEnv, Vec<Transaction>)>;

/// The transactions of every block split by caller parity, for [`ceiling_split`].
fn split_halves(blocks: &[Block]) -> Vec<Half> {
    (0..2u128)
        .map(|half| {
            blocks
                .iter()
                .map(|b| {
                    let txs = b.transactions.iter().filter(|t| t.caller % 2 == half);
                    (b.env, txs.cloned().collect())
                })
                .collect()
        })
        .collect()
}

/// Two threads, each running one half's blocks sequentially over its own fresh state:
/// the uncoordinated ceiling.
fn ceiling_split(engine: &Engine, halves: &[Half]) {
    std::thread::scope(|s| {
        for half in halves {
            s.spawn(move || {
                let mut state = StateCache::new(MemoryStorage::new());
                for (env, txs) in half {
                    execute_block(engine, txs, env, &mut state).expect("within the block limits");
                    state.commit_block().expect("memory storage commits");
                }
            });
        }
    });
}

fn bench(c: &mut Criterion) {
    let workloads = [
        ("independent", Workload::Independent),
        ("hot_counter", Workload::HotCounter),
        ("chain", Workload::Chain),
        ("oracle_update", Workload::OracleUpdate),
        ("options_margin", Workload::OptionsMargin),
        ("liquidations", Workload::Liquidations),
    ];
    for (name, workload) in workloads {
        let (engine, blocks) = load(workload);
        let (r, s, _) = run(&engine, &blocks, None);
        let expected = digests(&r, &s);
        let config = |threads, executor, speculate_alone| ParallelConfig {
            threads,
            executor,
            speculate_alone,
            ..ParallelConfig::default()
        };
        let mut configs: Vec<(String, ParallelConfig)> = Vec::new();
        for threads in [2, 4] {
            configs.push((
                format!("sharded_{threads}"),
                config(threads, Executor::Sharded, false),
            ));
            configs.push((
                format!("stm_{threads}"),
                config(threads, Executor::Stm, false),
            ));
        }
        // What each executor's machinery itself costs, run on one thread (by default one
        // thread takes the sequential path).
        configs.push((
            "sharded_1_machinery".into(),
            config(1, Executor::Sharded, true),
        ));
        configs.push(("stm_1_machinery".into(), config(1, Executor::Stm, true)));
        for (label, config) in &configs {
            let (r, s, stats) = run(&engine, &blocks, Some(config));
            assert_eq!(digests(&r, &s), expected, "{name} {label} differs");
            eprintln!(
                "{name} {label}: paths {:?}, escapes {}, {} tasks, {} executions, {} validations, fallback {:?}",
                stats.paths,
                stats.escapes,
                stats.tasks,
                stats.executions,
                stats.validations,
                stats.fallback
            );
        }
        let mut group = c.benchmark_group(format!("block_{name}"));
        group.bench_function("sequential", |b| b.iter(|| run(&engine, &blocks, None)));
        if matches!(workload, Workload::Independent | Workload::HotCounter) {
            // Not an executor: a ceiling. The accounts split in two halves, each run by
            // its own thread over its own state with no coordination at all (the shared
            // totals come out wrong). No 2-thread executor can beat this on this machine.
            let halves = split_halves(&blocks);
            group.bench_function("ceiling_2_split", |b| {
                b.iter(|| ceiling_split(&engine, &halves))
            });
        }
        for (label, config) in &configs {
            group.bench_function(label.as_str(), |b| {
                b.iter(|| run(&engine, &blocks, Some(config)))
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    targets = bench
}
criterion_main!(benches);
