//! Multi-version memory: for every storage slot, the value (or delta) each task wrote in
//! its latest incarnation, so a task reads exactly what the tasks before it in block order
//! would have left.
//!
//! Guarantees: a read by task `i` sees the highest task below `i` that wrote the slot, with
//! every delta between folded in; an ESTIMATE (the writes of an aborted incarnation, kept
//! as markers until it runs again) is reported as a dependency, never read as a value;
//! validation re-resolves every read of a task and compares outcomes, so it fails exactly
//! when something the task's result depends on changed.

use crate::state::Slot;
use hashbrown::HashMap;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// What one task left in one slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// The slot's value after the task.
    Value(i128),
    /// An amount added to whatever the slot held before the task (SADD).
    Delta(i128),
    /// The task's last incarnation wrote here and is being re-executed.
    Estimate,
}

/// The slot's value as seen just before some task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// A task below wrote a value: this is it, with later deltas folded in.
    Value(i128),
    /// No task below wrote a value: storage's value plus this sum of deltas.
    Base(i128),
    /// Task `.0` below holds an estimate: the reader depends on it.
    Blocked(usize),
}

/// One dependency of a task's result on the state before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// The task read `slot` and saw `value`.
    Value { slot: Slot, value: i128 },
    /// The task added `delta` to `slot` on top of its own earlier deltas `before`, with
    /// outcome `ok` (no overflow, and within `cap` for a bounded add). Only the outcome is
    /// checked: another task's delta that leaves it unchanged is no conflict.
    Add {
        slot: Slot,
        before: i128,
        delta: i128,
        cap: Option<i128>,
        ok: bool,
    },
}

impl Read {
    /// The slot the read depends on.
    pub fn slot(&self) -> Slot {
        match *self {
            Read::Value { slot, .. } | Read::Add { slot, .. } => slot,
        }
    }
}

/// Whether an add of `delta` to a slot holding `base` plus `before` succeeds: no i128
/// overflow and, with a cap, a result no greater than the cap.
pub fn add_outcome(base: i128, before: i128, delta: i128, cap: Option<i128>) -> bool {
    match base.checked_add(before).and_then(|v| v.checked_add(delta)) {
        Some(v) => cap.is_none_or(|c| v <= c),
        None => false,
    }
}

const SHARDS: usize = 64;

type Versions = BTreeMap<usize, Cell>;

/// The multi-version store of one block.
pub struct MvMemory {
    shards: Vec<Mutex<HashMap<Slot, Versions>>>,
    written: Vec<Mutex<Vec<Slot>>>,
    reads: Vec<Mutex<Vec<Read>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn shard(slot: &Slot) -> usize {
    let k = slot.key as u64 ^ (slot.key >> 64) as u64;
    let h = k
        .wrapping_add(slot.contract as u64)
        .wrapping_add(u64::from(slot.space) << 32)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 58) as usize % SHARDS
}

impl MvMemory {
    /// Empty memory for `tasks` tasks.
    pub fn new(tasks: usize) -> Self {
        MvMemory {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            written: (0..tasks).map(|_| Mutex::new(Vec::new())).collect(),
            reads: (0..tasks).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    /// `slot` as task `idx` sees it.
    pub fn resolve(&self, slot: Slot, idx: usize) -> Resolved {
        let shard = lock(&self.shards[shard(&slot)]);
        let mut deltas: i128 = 0;
        if let Some(versions) = shard.get(&slot) {
            for (&writer, cell) in versions.range(..idx).rev() {
                match *cell {
                    // Wrapping: a speculative fold may combine deltas that never meet in
                    // the final order; validation discards any result built on one.
                    Cell::Value(v) => return Resolved::Value(v.wrapping_add(deltas)),
                    Cell::Delta(d) => deltas = deltas.wrapping_add(d),
                    Cell::Estimate => return Resolved::Blocked(writer),
                }
            }
        }
        Resolved::Base(deltas)
    }

    /// Stores task `idx`'s writes and reads from its latest incarnation, removing what its
    /// previous incarnation wrote elsewhere. Returns whether it wrote a slot its previous
    /// incarnation did not (tasks above must then be validated again).
    pub fn record(&self, idx: usize, writes: Vec<(Slot, Cell)>, reads: Vec<Read>) -> bool {
        let mut previous = std::mem::take(&mut *lock(&self.written[idx]));
        previous.sort_unstable();
        let mut now: Vec<Slot> = writes.iter().map(|(s, _)| *s).collect();
        now.sort_unstable();
        let mut new_location = false;
        for (slot, cell) in writes {
            if previous.binary_search(&slot).is_err() {
                new_location = true;
            }
            lock(&self.shards[shard(&slot)])
                .entry(slot)
                .or_default()
                .insert(idx, cell);
        }
        for slot in previous {
            if now.binary_search(&slot).is_err() {
                if let Some(v) = lock(&self.shards[shard(&slot)]).get_mut(&slot) {
                    v.remove(&idx);
                }
            }
        }
        *lock(&self.written[idx]) = now;
        *lock(&self.reads[idx]) = reads;
        new_location
    }

    /// Marks task `idx`'s writes as estimates (its incarnation was aborted).
    pub fn convert_writes_to_estimates(&self, idx: usize) {
        let written = lock(&self.written[idx]).clone();
        for slot in written {
            if let Some(v) = lock(&self.shards[shard(&slot)]).get_mut(&slot) {
                v.insert(idx, Cell::Estimate);
            }
        }
    }

    /// Whether every read of task `idx` would still see the same: the values it read, and
    /// the outcomes of its adds. `base` gives a slot's value in storage.
    pub fn validate(&self, idx: usize, base: &dyn Fn(Slot) -> Option<i128>) -> bool {
        let reads = lock(&self.reads[idx]);
        reads.iter().all(|read| {
            let now = match self.resolve(read.slot(), idx) {
                Resolved::Value(v) => v,
                Resolved::Base(d) => match base(read.slot()) {
                    Some(b) => b.wrapping_add(d),
                    None => return false,
                },
                Resolved::Blocked(_) => return false,
            };
            match *read {
                Read::Value { value, .. } => now == value,
                Read::Add {
                    before,
                    delta,
                    cap,
                    ok,
                    ..
                } => add_outcome(now, before, delta, cap) == ok,
            }
        })
    }

    /// The writes of task `idx`'s final incarnation, for the commit.
    pub fn final_writes(&self, idx: usize) -> Vec<(Slot, Cell)> {
        let written = lock(&self.written[idx]).clone();
        written
            .into_iter()
            .filter_map(|slot| {
                let shard = lock(&self.shards[shard(&slot)]);
                shard.get(&slot)?.get(&idx).map(|c| (slot, *c))
            })
            .collect()
    }
}
