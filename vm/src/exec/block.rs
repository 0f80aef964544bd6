//! Block execution, the sequential reference: transactions one by one in block order over
//! one [`StateCache`], a receipt each. Also the digests that identify a block's outcome,
//! so two executions (sequential and parallel, or two machines) compare by 32 bytes.
//!
//! Guarantees: the digests depend only on the receipts (in order) and on the state's
//! slot values, never on hash-map order, thread timing or the engine that ran the code.

use super::{Engine, Receipt, Status, Transaction};
use crate::runtime::BlockEnv;
use crate::state::{Slot, StateCache, Storage};
use sha2::{Digest, Sha256};

/// Why a block was not run at all (nothing in `state` changes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockError {
    /// More transactions than `Limits::max_block_transactions`.
    TooManyTransactions {
        /// Transactions in the block.
        given: usize,
        /// The limit.
        limit: u32,
    },
}

impl std::fmt::Display for BlockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlockError::TooManyTransactions { given, limit } => write!(
                f,
                "the block has {given} transactions; at most {limit} are allowed"
            ),
        }
    }
}

impl std::error::Error for BlockError {}

/// Checks a block against the engine's block limits before any of it runs.
pub(crate) fn check_block(engine: &Engine, txs: &[Transaction]) -> Result<(), BlockError> {
    let limit = engine.limits().max_block_transactions;
    if txs.len() > limit as usize {
        return Err(BlockError::TooManyTransactions {
            given: txs.len(),
            limit,
        });
    }
    Ok(())
}

/// Runs `txs` in order; each one's writes stay in `state` if it succeeds. The caller
/// commits the block with [`StateCache::commit_block`]. A block over the engine's limits
/// is refused whole.
pub fn execute_block<S: Storage>(
    engine: &Engine,
    txs: &[Transaction],
    block: &BlockEnv,
    state: &mut StateCache<S>,
) -> Result<Vec<Receipt>, BlockError> {
    check_block(engine, txs)?;
    Ok(run_in_order(engine, txs, block, state))
}

/// The sequential execution itself, for blocks already checked.
pub(crate) fn run_in_order<S: Storage>(
    engine: &Engine,
    txs: &[Transaction],
    block: &BlockEnv,
    state: &mut StateCache<S>,
) -> Vec<Receipt> {
    let mut resolver = super::Resolver::default();
    txs.iter()
        .map(|tx| engine.execute_resolved(&mut resolver, tx, block, state))
        .collect()
}

/// Why the parallel executor ran a block sequentially.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// One thread: nothing to run side by side (see `ParallelConfig::speculate_alone`).
    OneThread,
    /// Too few tasks for parallel execution to pay off.
    SmallBlock,
    /// Speculation kept aborting (the block is mostly one dependency chain).
    Aborts,
    /// Workers found nothing to do for 2 s while the block was unfinished. A safety net:
    /// the scheduler should never stall, and if it does the block still gets its exact
    /// sequential result, only later.
    Stalled,
    /// The owner-sharded executor ran a segment again in block order: an access outside
    /// a transaction's footprint.
    Escape,
    /// The owner-sharded executor ran a segment again in block order: adds to a total
    /// whose outcomes in block order it could not prove (near a cap or the i128 range).
    Totals,
}

/// How many transactions took each path of the owner-sharded executor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Paths {
    /// Run with their owner's other transactions, beside other owners.
    pub owned: u64,
    /// Global writers, run first in block order (their writes versioned).
    pub global: u64,
    /// Barriers, run alone in block order.
    pub barrier: u64,
    /// Run again in block order after their segment could not be committed.
    pub fallback: u64,
}

/// How a block's execution went, for reports and benches (never part of its outcome).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockStats {
    /// Transactions in the block.
    pub transactions: usize,
    /// Tasks they were grouped into (adjacent transactions of one sender form one task).
    pub tasks: usize,
    /// Task executions, every incarnation counted (== tasks when nothing aborted).
    pub executions: u64,
    /// Validations run.
    pub validations: u64,
    /// Set when the block ran sequentially instead (or, owner-sharded, a segment of it).
    pub fallback: Option<Fallback>,
    /// Owner-sharded: transactions per path.
    pub paths: Paths,
    /// Owner-sharded: accesses outside a footprint that sent a segment back.
    pub escapes: u64,
}

impl BlockStats {
    /// Adds another block's figures (a run of several blocks); the first fallback stays.
    pub fn add(&mut self, other: &BlockStats) {
        self.transactions += other.transactions;
        self.tasks += other.tasks;
        self.executions += other.executions;
        self.validations += other.validations;
        self.fallback = self.fallback.or(other.fallback);
        self.paths.owned += other.paths.owned;
        self.paths.global += other.paths.global;
        self.paths.barrier += other.paths.barrier;
        self.paths.fallback += other.paths.fallback;
        self.escapes += other.escapes;
    }
}

fn put(h: &mut Sha256, v: i128) {
    h.update(v.to_le_bytes());
}

/// SHA-256 over every receipt in order: status, error code, gas, returns and events
/// (contract, name, values), each length-prefixed.
pub fn receipts_digest(receipts: &[Receipt]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((receipts.len() as u64).to_le_bytes());
    for r in receipts {
        h.update([match r.status {
            Status::Ok => 0u8,
            Status::Revert => 1,
            Status::Error => 2,
        }]);
        h.update(r.error.as_ref().map_or(0, |e| e.code).to_le_bytes());
        h.update(r.gas_used.to_le_bytes());
        h.update((r.returns.len() as u64).to_le_bytes());
        for &v in &r.returns {
            put(&mut h, v);
        }
        h.update((r.events.len() as u64).to_le_bytes());
        for e in &r.events {
            put(&mut h, e.contract as i128);
            h.update((e.name.len() as u64).to_le_bytes());
            h.update(e.name.as_bytes());
            h.update((e.values.len() as u64).to_le_bytes());
            for &v in &e.values {
                put(&mut h, v);
            }
        }
    }
    h.finalize().into()
}

/// SHA-256 over storage's non-zero slots, sorted by slot (a zero slot and an absent one
/// are the same state).
pub fn state_digest(entries: &[(Slot, i128)]) -> [u8; 32] {
    let mut sorted: Vec<&(Slot, i128)> = entries.iter().filter(|(_, v)| *v != 0).collect();
    sorted.sort_unstable_by_key(|(s, _)| *s);
    let mut h = Sha256::new();
    h.update((sorted.len() as u64).to_le_bytes());
    for (s, v) in sorted {
        put(&mut h, s.contract as i128);
        h.update(s.space.to_le_bytes());
        put(&mut h, s.key as i128);
        put(&mut h, *v);
    }
    h.finalize().into()
}
