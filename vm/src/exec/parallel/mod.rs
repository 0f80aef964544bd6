//! Parallel block execution in the style of Block-STM (Gelashvili et al., "Block-STM:
//! Scaling Blockchain Execution by Turning Ordering Curse to a Performance Blessing",
//! PPoPP 2023), with commutative deltas for SADD.
//!
//! The pipeline:
//! 1. adjacent transactions of one sender become one *task* (they usually depend on each
//!    other; running them as one avoids a chain of aborts);
//! 2. worker threads take tasks from the collaborative [`scheduler::Scheduler`] and run
//!    them speculatively against a [`view::SpecView`] over the [`memory::MvMemory`];
//! 3. a task's reads are validated after every lower task settles; a failed validation
//!    turns its writes into estimates and re-executes it;
//! 4. when the scheduler is done, the final incarnations' writes are applied to the
//!    [`StateCache`] in block order.
//!
//! Guarantees: the receipts and the state are exactly those of [`super::execute_block`]
//! (the sequential reference), whatever the thread count or timing: every result comes
//! from a task's final incarnation, whose reads were all validated against the final
//! writes of the tasks before it. A speculative run on inconsistent state is only a
//! wasted run: the engines never panic, gas bounds every loop, and a read of an estimate
//! stops the run. Small blocks, and blocks whose speculation keeps aborting, run
//! sequentially instead ([`Fallback`]).

mod memory;
mod scheduler;
mod view;

use super::block::{check_block, run_in_order, BlockError, BlockStats, Fallback};
use super::{Engine, Receipt, Transaction};
use crate::runtime::BlockEnv;
use crate::state::{Slot, StateCache, Storage};
use memory::{Cell, MvMemory};
use scheduler::{Scheduler, Task};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use view::{Scratch, SpecView};

/// How the parallel executor runs a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParallelConfig {
    /// Worker threads. With 1, the block runs on the sequential executor (speculation
    /// has nothing to overlap; Aptos' Block-STM does the same) unless `speculate_alone`.
    pub threads: usize,
    /// Run the speculative machinery even on one thread (on the calling thread): for
    /// tests, and to measure the machinery's own cost.
    pub speculate_alone: bool,
    /// SADD as a commutative delta (true), or as a read and a write (false, to measure
    /// what deltas save).
    pub deltas: bool,
    /// Blocks of fewer tasks than this run sequentially.
    pub min_tasks: usize,
    /// Speculation is abandoned for sequential execution once task executions exceed
    /// `abort_factor` times the task count (plus a small allowance).
    pub abort_factor: u64,
    /// Most transactions per task (a sender's adjacent transactions are never split);
    /// 0 picks a size from the block and the thread count (see [`task_size`]).
    pub task_txs: usize,
    /// Which parallel executor runs the block.
    pub executor: Executor,
}

/// The parallel executors. Both give exactly the sequential executor's results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Executor {
    /// Owner-sharded by footprints (see `crate::exec::sharded`); barriers and what
    /// footprints cannot prove run in block order.
    #[default]
    Sharded,
    /// Block-STM over the whole block (speculation with multi-version memory).
    Stm,
}

/// The task size for `txs` transactions on `threads` threads: about 16 tasks per thread,
/// at most 64 transactions each. Big tasks pay the multi-version bookkeeping once for
/// what their transactions share (an oracle price read by every trade is read and
/// validated once per task, and a task's deltas to one total are one delta); enough
/// tasks per thread keep every thread busy when some must run again.
pub fn task_size(txs: usize, threads: usize) -> usize {
    (txs / threads.max(1).saturating_mul(16)).clamp(1, 64)
}

impl Default for ParallelConfig {
    fn default() -> Self {
        ParallelConfig {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            deltas: true,
            min_tasks: 4,
            abort_factor: 3,
            task_txs: 0,
            speculate_alone: false,
            executor: Executor::default(),
        }
    }
}

/// Tasks as ranges of `txs`: adjacent transactions, up to `size` of them, except that
/// adjacent transactions with the same caller (which usually depend on each other) always
/// share a task.
#[allow(
    clippy::indexing_slicing,
    reason = "a group exists only after the first transaction, so `i >= 1` when `txs[i - 1]` is read"
)]
fn group(txs: &[Transaction], size: usize) -> Vec<Range<usize>> {
    let mut groups: Vec<Range<usize>> = Vec::new();
    for (i, tx) in txs.iter().enumerate() {
        match groups.last_mut() {
            Some(g) if g.len() < size || txs[i - 1].caller == tx.caller => g.end = i + 1,
            _ => groups.push(i..i + 1),
        }
    }
    groups
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Shared<'a, S> {
    engine: &'a Engine,
    txs: &'a [Transaction],
    block: &'a BlockEnv,
    base: &'a StateCache<S>,
    groups: Vec<Range<usize>>,
    memory: MvMemory,
    scheduler: Scheduler,
    receipts: Vec<Mutex<Vec<Receipt>>>,
    config: ParallelConfig,
    executions: AtomicU64,
    validations: AtomicU64,
    abandoned: AtomicBool,
    stalled: AtomicBool,
}

/// How long a worker may find no task, while the block is unfinished, before the block is
/// run sequentially instead: a safety net against a scheduler stall (see [`Fallback`]).
const STALL: Duration = Duration::from_secs(2);

impl<S: Storage + Sync> Shared<'_, S> {
    /// Runs one incarnation of task `idx`; returns the follow-up task.
    #[allow(
        clippy::indexing_slicing,
        reason = "`idx` is a task index below `tasks`, the length of `groups` and `receipts`; each group is a range inside `txs` (built by `group`)"
    )]
    fn execute(&self, idx: usize, incarnation: u32, scratch: &mut Scratch) -> Option<Task> {
        loop {
            let n = self.executions.fetch_add(1, Ordering::Relaxed) + 1;
            let limit = self
                .config
                .abort_factor
                .saturating_mul(self.groups.len() as u64)
                .saturating_add(64);
            if n > limit {
                self.abandoned.store(true, Ordering::SeqCst);
                return None;
            }
            let txs = &self.txs[self.groups[idx].clone()];
            let mut view = SpecView::new(
                &self.memory,
                self.base,
                idx,
                txs.len(),
                self.config.deltas,
                scratch,
            );
            let mut receipts = Vec::with_capacity(self.groups[idx].len());
            for tx in txs {
                receipts.push(self.engine.execute_in(tx, self.block, &mut view));
                if view.blocked.is_some() {
                    break;
                }
            }
            if let Some(blocking) = view.blocked {
                if self.scheduler.add_dependency(idx, blocking) {
                    return None;
                }
                // The blocking task finished meanwhile: run again now.
                continue;
            }
            let (writes, reads) = view.finish();
            let wrote_new = self.memory.record(idx, writes, reads);
            *lock(&self.receipts[idx]) = receipts;
            return self.scheduler.finish_execution(idx, incarnation, wrote_new);
        }
    }

    /// Validates task `idx`'s incarnation; returns the follow-up task.
    fn validate(&self, idx: usize, incarnation: u32) -> Option<Task> {
        self.validations.fetch_add(1, Ordering::Relaxed);
        let base = |slot| self.base.peek(slot).ok();
        let valid = self.memory.validate(idx, &base);
        let aborted = !valid && self.scheduler.try_validation_abort(idx, incarnation);
        if aborted {
            self.memory.convert_writes_to_estimates(idx);
        }
        self.scheduler.finish_validation(idx, aborted)
    }

    fn work(&self) {
        let mut task = None;
        let mut scratch = Scratch::default();
        let mut idle: u64 = 0;
        let mut idle_since = None;
        while !self.scheduler.done() && !self.abandoned.load(Ordering::Relaxed) {
            task = match task {
                Some(Task::Execute(idx, inc)) => self.execute(idx, inc, &mut scratch),
                Some(Task::Validate(idx, inc)) => self.validate(idx, inc),
                None => {
                    let next = self.scheduler.next_task();
                    if next.is_some() {
                        idle = 0;
                        idle_since = None;
                    } else {
                        idle += 1;
                        if idle < 64 {
                            std::hint::spin_loop();
                        } else {
                            // Give the core to a thread with work (threads may outnumber
                            // cores), and watch for a stall.
                            std::thread::yield_now();
                            let since = *idle_since.get_or_insert_with(Instant::now);
                            if idle.is_multiple_of(256) && since.elapsed() > STALL {
                                self.stalled.store(true, Ordering::SeqCst);
                                self.abandoned.store(true, Ordering::SeqCst);
                            }
                        }
                    }
                    next
                }
            };
        }
    }
}

/// Runs `txs` in parallel with the result of [`execute_block`]: the same receipts, and
/// the same writes left in `state` (the caller commits the block). `config.executor`
/// picks the executor; with one thread the block runs sequentially unless
/// `config.speculate_alone`.
pub fn execute_block_parallel<S: Storage + Sync>(
    engine: &Engine,
    txs: &[Transaction],
    block: &BlockEnv,
    state: &mut StateCache<S>,
    config: &ParallelConfig,
) -> Result<(Vec<Receipt>, BlockStats), BlockError> {
    match config.executor {
        Executor::Stm => execute_block_stm(engine, txs, block, state, config),
        Executor::Sharded => {
            check_block(engine, txs)?;
            let mut stats = BlockStats {
                transactions: txs.len(),
                tasks: txs.len(),
                executions: txs.len() as u64,
                ..BlockStats::default()
            };
            if config.threads <= 1 && !config.speculate_alone {
                stats.fallback = Some(Fallback::OneThread);
                return Ok((run_in_order(engine, txs, block, state), stats));
            }
            let receipts =
                super::sharded::run(engine, txs, block, state, config.threads, &mut stats);
            Ok((receipts, stats))
        }
    }
}

/// Runs `txs` with Block-STM, with the result of [`execute_block`].
pub fn execute_block_stm<S: Storage + Sync>(
    engine: &Engine,
    txs: &[Transaction],
    block: &BlockEnv,
    state: &mut StateCache<S>,
    config: &ParallelConfig,
) -> Result<(Vec<Receipt>, BlockStats), BlockError> {
    check_block(engine, txs)?;
    let size = match config.task_txs {
        0 => task_size(txs.len(), config.threads),
        n => n,
    };
    let groups = group(txs, size);
    let mut stats = BlockStats {
        transactions: txs.len(),
        tasks: groups.len(),
        ..BlockStats::default()
    };
    if config.threads <= 1 && !config.speculate_alone {
        stats.fallback = Some(Fallback::OneThread);
        stats.executions = groups.len() as u64;
        return Ok((run_in_order(engine, txs, block, state), stats));
    }
    if groups.len() < config.min_tasks.max(2) {
        stats.fallback = Some(Fallback::SmallBlock);
        stats.executions = groups.len() as u64;
        return Ok((run_in_order(engine, txs, block, state), stats));
    }
    let tasks = groups.len();
    let shared = Shared {
        engine,
        txs,
        block,
        base: &*state,
        memory: MvMemory::new(tasks, txs.len()),
        scheduler: Scheduler::new(tasks),
        receipts: (0..tasks).map(|_| Mutex::new(Vec::new())).collect(),
        groups,
        config: *config,
        executions: AtomicU64::new(0),
        validations: AtomicU64::new(0),
        abandoned: AtomicBool::new(false),
        stalled: AtomicBool::new(false),
    };
    // More threads than tasks only wait; and an embedder's thread count is not trusted to
    // be one the OS can give (std's `spawn` panics when it cannot), so the calling thread
    // works too and a failed spawn just means fewer helpers.
    let threads = config.threads.clamp(1, tasks.max(1));
    std::thread::scope(|s| {
        for _ in 1..threads {
            let helper = std::thread::Builder::new().spawn_scoped(s, || shared.work());
            if helper.is_err() {
                break;
            }
        }
        shared.work();
    });
    stats.executions = shared.executions.load(Ordering::Relaxed);
    stats.validations = shared.validations.load(Ordering::Relaxed);
    if shared.abandoned.load(Ordering::SeqCst) {
        stats.fallback = Some(if shared.stalled.load(Ordering::SeqCst) {
            Fallback::Stalled
        } else {
            Fallback::Aborts
        });
        return Ok((run_in_order(engine, txs, block, state), stats));
    }
    let Shared {
        mut memory,
        receipts,
        ..
    } = shared;
    let mut all = Vec::with_capacity(txs.len());
    let finals: Vec<Vec<(Slot, Cell)>> = (0..tasks).map(|idx| memory.final_writes(idx)).collect();
    state.reserve(finals.iter().map(Vec::len).sum());
    for (writes, r) in finals.into_iter().zip(receipts) {
        for (slot, cell) in writes {
            // Storage already answered every slot a task wrote (or the task's own write
            // needed no read), so these cannot fail; a failure leaves the slot as is.
            let _ = match cell {
                Cell::Value(v) => state.put(slot, v),
                Cell::Delta(d) => state.put_add(slot, d),
                Cell::Estimate(_) => continue,
            };
        }
        all.extend(r.into_inner().unwrap_or_else(|p| p.into_inner()));
    }
    Ok((all, stats))
}
