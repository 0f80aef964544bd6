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
use std::sync::Mutex;

/// What one task left in one slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// The slot's value after the task.
    Value(i128),
    /// An amount added to whatever the slot held before the task (SADD).
    Delta(i128),
    /// The task's last incarnation wrote here and is being re-executed. Holds the delta
    /// that incarnation wrote (0 for a value), still counted in the slot's bounds.
    Estimate(i128),
}

impl Cell {
    /// The amount this cell counts in its slot's delta sums.
    fn delta(self) -> i128 {
        match self {
            Cell::Delta(d) | Cell::Estimate(d) => d,
            Cell::Value(_) => 0,
        }
    }
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

/// Every task's cell for one slot, and bounds on what any task can see there.
///
/// The bounds make an add's outcome cheap to decide on a hot counter: whatever a task
/// reads is some value written below it (or storage's), plus a subset of the deltas
/// between, so it lies in `[min(lo, base) + neg, max(hi, base) + pos]`. `hi`/`lo` only
/// widen; `pos`/`neg` are the exact sums of the current cells' positive and negative
/// deltas (estimates keep their last delta until replaced).
#[derive(Default)]
struct Versions {
    /// (task, cell), sorted by task: most slots have one writer, and tasks mostly
    /// finish in order, so a sorted vector beats a tree.
    cells: Vec<(usize, Cell)>,
    values: Option<(i128, i128)>,
    pos: i128,
    neg: i128,
    /// The sums overflowed once: the bounds are never used for this slot again.
    unbounded: bool,
}

impl Versions {
    /// Puts `cell` at `idx`; returns whether the bounds widened.
    fn put(&mut self, idx: usize, cell: Cell) -> bool {
        let (pos, neg, values) = (self.pos, self.neg, self.values);
        match self.cells.binary_search_by_key(&idx, |(t, _)| *t) {
            Ok(i) => {
                let old = std::mem::replace(&mut self.cells[i].1, cell);
                self.take(old.delta());
            }
            Err(i) => self.cells.insert(i, (idx, cell)),
        }
        let d = cell.delta();
        let sum = if d > 0 { &mut self.pos } else { &mut self.neg };
        match sum.checked_add(d) {
            Some(v) => *sum = v,
            None => self.unbounded = true,
        }
        if let Cell::Value(v) = cell {
            let (lo, hi) = self.values.unwrap_or((v, v));
            self.values = Some((lo.min(v), hi.max(v)));
        }
        self.pos > pos || self.neg < neg || self.values != values
    }

    /// Removes a delta's contribution (never overflows: it was added before).
    fn take(&mut self, d: i128) {
        if d > 0 {
            self.pos -= d;
        } else {
            self.neg -= d;
        }
    }

    fn remove(&mut self, idx: usize) {
        if let Ok(i) = self.cells.binary_search_by_key(&idx, |(t, _)| *t) {
            let (_, c) = self.cells.remove(i);
            self.take(c.delta());
        }
    }

    /// The add's outcome when the bounds decide it for every value a task could see.
    fn add_outcome_bounded(
        &self,
        base: i128,
        before: i128,
        delta: i128,
        cap: Option<i128>,
    ) -> Option<bool> {
        if self.unbounded {
            return None;
        }
        let (lo, hi) = self
            .values
            .map_or((base, base), |(lo, hi)| (lo.min(base), hi.max(base)));
        let shift = before.checked_add(delta)?;
        let low = lo.checked_add(self.neg)?.checked_add(shift)?;
        let high = hi.checked_add(self.pos)?.checked_add(shift)?;
        // Every value V a task can see lies in [low, high] - shift; the add succeeds
        // (no overflow at V + before or at V + before + delta) for all of them when the
        // four corner sums fit.
        lo.checked_add(self.neg)?.checked_add(before)?;
        hi.checked_add(self.pos)?.checked_add(before)?;
        match cap {
            None => Some(true),
            Some(c) if high <= c => Some(true),
            Some(c) if low > c => Some(false),
            Some(_) => None,
        }
    }
}

/// The multi-version store of one block.
pub struct MvMemory {
    shards: Vec<Mutex<HashMap<Slot, Versions>>>,
    /// Each task's latest writes, sorted by slot.
    written: Vec<Mutex<Vec<(Slot, Cell)>>>,
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
            let below = versions.cells.partition_point(|(t, _)| *t < idx);
            for &(writer, ref cell) in versions.cells[..below].iter().rev() {
                match *cell {
                    // Wrapping: a speculative fold may combine deltas that never meet in
                    // the final order; validation discards any result built on one.
                    Cell::Value(v) => return Resolved::Value(v.wrapping_add(deltas)),
                    Cell::Delta(d) => deltas = deltas.wrapping_add(d),
                    Cell::Estimate(_) => return Resolved::Blocked(writer),
                }
            }
        }
        Resolved::Base(deltas)
    }

    /// An add's outcome for any task, when the slot's bounds decide it (see
    /// [`Versions`]): no need to fold the deltas below the task or to wait on estimates.
    pub fn add_outcome_bounded(
        &self,
        slot: Slot,
        base: i128,
        before: i128,
        delta: i128,
        cap: Option<i128>,
    ) -> Option<bool> {
        match lock(&self.shards[shard(&slot)]).get(&slot) {
            Some(v) => v.add_outcome_bounded(base, before, delta, cap),
            None => Versions::default().add_outcome_bounded(base, before, delta, cap),
        }
    }

    /// Stores task `idx`'s writes and reads from its latest incarnation, removing what its
    /// previous incarnation wrote elsewhere. Returns whether it wrote a slot its previous
    /// incarnation did not (tasks above must then be validated again).
    pub fn record(&self, idx: usize, mut writes: Vec<(Slot, Cell)>, reads: Vec<Read>) -> bool {
        let previous = std::mem::take(&mut *lock(&self.written[idx]));
        writes.sort_unstable_by_key(|(s, _)| *s);
        let mut new_location = false;
        for &(slot, cell) in &writes {
            if previous.binary_search_by_key(&slot, |(s, _)| *s).is_err() {
                new_location = true;
            }
            // A widened bound may change a bounded decision above: revalidate them too.
            new_location |= lock(&self.shards[shard(&slot)])
                .entry(slot)
                .or_default()
                .put(idx, cell);
        }
        for (slot, _) in previous {
            if writes.binary_search_by_key(&slot, |(s, _)| *s).is_err() {
                if let Some(v) = lock(&self.shards[shard(&slot)]).get_mut(&slot) {
                    v.remove(idx);
                }
            }
        }
        *lock(&self.written[idx]) = writes;
        *lock(&self.reads[idx]) = reads;
        new_location
    }

    /// Marks task `idx`'s writes as estimates (its incarnation was aborted).
    pub fn convert_writes_to_estimates(&self, idx: usize) {
        let written = lock(&self.written[idx]).clone();
        for (slot, _) in written {
            if let Some(v) = lock(&self.shards[shard(&slot)]).get_mut(&slot) {
                if let Ok(i) = v.cells.binary_search_by_key(&idx, |(t, _)| *t) {
                    let c = &mut v.cells[i].1;
                    *c = Cell::Estimate(c.delta());
                }
            }
        }
    }

    /// Whether every read of task `idx` would still see the same: the values it read, and
    /// the outcomes of its adds. `base` gives a slot's value in storage.
    pub fn validate(&self, idx: usize, base: &dyn Fn(Slot) -> Option<i128>) -> bool {
        let reads = lock(&self.reads[idx]);
        reads.iter().all(|read| {
            if let Read::Add {
                slot,
                before,
                delta,
                cap,
                ok,
            } = *read
            {
                if let Some(b) = base(slot) {
                    if let Some(outcome) = self.add_outcome_bounded(slot, b, before, delta, cap) {
                        return outcome == ok;
                    }
                }
            }
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
    pub fn final_writes(&mut self, idx: usize) -> Vec<(Slot, Cell)> {
        std::mem::take(
            self.written[idx]
                .get_mut()
                .unwrap_or_else(|p| p.into_inner()),
        )
    }
}
