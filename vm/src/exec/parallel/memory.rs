//! Multi-version memory: for every storage slot, the value (or delta) each task wrote in
//! its latest incarnation, so a task reads exactly what the tasks before it in block order
//! would have left.
//!
//! Guarantees: a read by task `i` sees the highest task below `i` that wrote the slot, with
//! every delta between folded in; an ESTIMATE (the writes of an aborted incarnation, kept
//! as markers until it runs again) is reported as a dependency, never read as a value;
//! validation re-resolves every read of a task and compares outcomes, so it fails exactly
//! when something the task's result depends on changed.

use crate::state::{add_outcome, AddOutcome, Slot};
use hashbrown::HashMap;
use smallvec::SmallVec;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
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
    /// The task read `slot` and saw `value`; `base` is `Some(d)` when that was storage's
    /// value plus deltas `d` (storage does not change during the block, so seeing the same
    /// deltas again means seeing the same value).
    Value {
        slot: Slot,
        value: i128,
        base: Option<i128>,
    },
    /// The task's unbounded adds to `slot` all succeeded: the slot's value before the task
    /// plus each of the task's running sums (between `min` and `max`) fitted in i128.
    Adds { slot: Slot, min: i128, max: i128 },
    /// One add of `delta` on top of the task's own earlier deltas `before` (capped, or
    /// failed), with its outcome. Only the outcome is checked: another task's delta that
    /// leaves it unchanged is no conflict.
    Add {
        slot: Slot,
        before: i128,
        delta: i128,
        cap: Option<i128>,
        outcome: AddOutcome,
    },
}

impl Read {
    /// The slot the read depends on.
    pub fn slot(&self) -> Slot {
        match *self {
            Read::Value { slot, .. } | Read::Adds { slot, .. } | Read::Add { slot, .. } => slot,
        }
    }
}

/// The outcome of that add for every value in `seen` (inclusive bounds), when they all
/// agree.
pub fn add_outcome_within(
    seen: (i128, i128),
    before: i128,
    delta: i128,
    cap: Option<i128>,
) -> Option<AddOutcome> {
    let (lo, hi) = seen;
    // V + before and V + before + delta are monotone in V: the corners decide overflow.
    let low = lo.checked_add(before)?.checked_add(delta)?;
    let high = hi.checked_add(before)?.checked_add(delta)?;
    match cap {
        None => Some(AddOutcome::Added),
        Some(c) if high <= c => Some(AddOutcome::Added),
        Some(c) if low > c => Some(AddOutcome::OverCap),
        Some(_) => None,
    }
}

/// Whether `V + x` fits in i128 for every V in `seen` and x in `min..=max`.
pub fn fits_within(seen: (i128, i128), min: i128, max: i128) -> bool {
    seen.0.checked_add(min).is_some() && seen.1.checked_add(max).is_some()
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
    cells: SmallVec<[(usize, Cell); 1]>,
    values: Option<(i128, i128)>,
    pos: i128,
    neg: i128,
    /// The sums overflowed once: the bounds are never used for this slot again.
    unbounded: bool,
}

impl Versions {
    /// Puts `cell` at `idx`; returns whether the bounds widened.
    #[allow(
        clippy::indexing_slicing,
        reason = "`i` is the position `binary_search_by_key` just found in `cells`"
    )]
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

    /// Removes a delta's contribution. A delta whose addition overflowed was never added
    /// (the sums are then unbounded anyway): subtracting it can overflow in turn, which
    /// keeps the sums unbounded rather than wrapping.
    fn take(&mut self, d: i128) {
        let sum = if d > 0 { &mut self.pos } else { &mut self.neg };
        match sum.checked_sub(d) {
            Some(v) => *sum = v,
            None => self.unbounded = true,
        }
    }

    fn remove(&mut self, idx: usize) {
        if let Ok(i) = self.cells.binary_search_by_key(&idx, |(t, _)| *t) {
            let (_, c) = self.cells.remove(i);
            self.take(c.delta());
        }
    }

    /// Bounds on the value any task can see before it, given storage's `base`.
    fn bounds(&self, base: i128) -> Option<(i128, i128)> {
        if self.unbounded {
            return None;
        }
        let (lo, hi) = self
            .values
            .map_or((base, base), |(lo, hi)| (lo.min(base), hi.max(base)));
        Some((lo.checked_add(self.neg)?, hi.checked_add(self.pos)?))
    }
}

/// The multi-version store of one block.
pub struct MvMemory {
    shards: Vec<Mutex<HashMap<Slot, Versions>>>,
    /// For each hash bucket of slots, the lowest task that ever wrote a slot there
    /// (`u32::MAX`: none). A read by task `i` of a slot whose bucket says `>= i` needs
    /// no lock: nothing below `i` wrote it. Only ever lowered, so it stays a lower bound.
    writers: Vec<AtomicU32>,
    /// Each task's latest writes.
    written: Vec<Mutex<Vec<(Slot, Cell)>>>,
    reads: Vec<Mutex<Vec<Read>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn hash(slot: &Slot) -> u64 {
    let k = slot.key as u64 ^ (slot.key >> 64) as u64;
    k.wrapping_add(slot.contract as u64 ^ (slot.contract >> 64) as u64)
        .wrapping_add(u64::from(slot.space) << 32)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// A task index for the writers table (blocks have far fewer than 2^32 tasks; a larger
/// index saturates, which only loses the lock-free shortcut).
fn task_u32(idx: usize) -> u32 {
    u32::try_from(idx).unwrap_or(u32::MAX - 1)
}

fn shard(h: u64) -> usize {
    (h >> 58) as usize % SHARDS
}

impl MvMemory {
    /// Empty memory for `tasks` tasks of `txs` transactions in all.
    pub fn new(tasks: usize, txs: usize) -> Self {
        // Small enough to stay in cache and to cost little to set up per block (a
        // collision only costs a locked lookup).
        let buckets = (txs.saturating_mul(8))
            .clamp(1 << 10, 1 << 17)
            .next_power_of_two();
        MvMemory {
            // Room for about two written slots per transaction, so the maps seldom grow
            // under a lock without costing page faults to set up every block.
            shards: (0..SHARDS)
                .map(|_| Mutex::new(HashMap::with_capacity(txs * 2 / SHARDS + 4)))
                .collect(),
            writers: (0..buckets).map(|_| AtomicU32::new(u32::MAX)).collect(),
            written: (0..tasks).map(|_| Mutex::new(Vec::new())).collect(),
            reads: (0..tasks).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "`writers` has a power-of-two length 2^bits (bits in 10..=17, see `new`), and the index is the hash's next `bits` bits, below 2^bits"
    )]
    fn bucket(&self, h: u64) -> &AtomicU32 {
        // The shard uses the top 6 bits; the bucket the bits below them.
        let bits = self.writers.len().trailing_zeros();
        &self.writers[((h << 6) >> (64 - bits)) as usize]
    }

    /// `slot` as task `idx` sees it.
    #[allow(
        clippy::indexing_slicing,
        reason = "`shard()` is taken modulo SHARDS, the length of `shards`; `below` is a `partition_point` of `cells`, at most its length"
    )]
    pub fn resolve(&self, slot: Slot, idx: usize) -> Resolved {
        let h = hash(&slot);
        if self.bucket(h).load(SeqCst) as usize >= idx {
            return Resolved::Base(0);
        }
        let shard = lock(&self.shards[shard(h)]);
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

    /// Bounds on the value any task can see in `slot` before it (see [`Versions`]), given
    /// storage's value `base`; `None` when they leave i128.
    #[allow(
        clippy::indexing_slicing,
        reason = "`shard()` is taken modulo SHARDS, the length of `shards`"
    )]
    pub fn bounds(&self, slot: Slot, base: i128) -> Option<(i128, i128)> {
        let h = hash(&slot);
        if self.bucket(h).load(SeqCst) == u32::MAX {
            return Some((base, base));
        }
        match lock(&self.shards[shard(h)]).get(&slot) {
            Some(v) => v.bounds(base),
            None => Some((base, base)),
        }
    }

    /// Stores task `idx`'s writes and reads from its latest incarnation, removing what its
    /// previous incarnation wrote elsewhere. Returns whether it wrote a slot its previous
    /// incarnation did not, or widened a slot's bounds (tasks above must then be validated
    /// again).
    #[allow(
        clippy::indexing_slicing,
        reason = "`idx` is a task index the scheduler handed out, below `tasks`, the length of `written` and `reads`; `shard()` is taken modulo SHARDS"
    )]
    pub fn record(&self, idx: usize, mut writes: Vec<(Slot, Cell)>, reads: Vec<Read>) -> bool {
        let mut previous = std::mem::take(&mut *lock(&self.written[idx]));
        let mut new_location = false;
        if previous.is_empty() {
            new_location = !writes.is_empty();
        } else {
            writes.sort_unstable_by_key(|(s, _)| *s);
            previous.sort_unstable_by_key(|(s, _)| *s);
        }
        for &(slot, cell) in &writes {
            if !previous.is_empty() && previous.binary_search_by_key(&slot, |(s, _)| *s).is_err() {
                new_location = true;
            }
            let h = hash(&slot);
            // Lowered before the cell exists: a reader that misses it here finds the cell
            // when it is validated, after this task's execution is reported.
            self.bucket(h).fetch_min(task_u32(idx), SeqCst);
            // A widened bound may change a bounded decision above: revalidate them too.
            new_location |= lock(&self.shards[shard(h)])
                .entry(slot)
                .or_default()
                .put(idx, cell);
        }
        for (slot, _) in previous {
            if writes.binary_search_by_key(&slot, |(s, _)| *s).is_err() {
                if let Some(v) = lock(&self.shards[shard(hash(&slot))]).get_mut(&slot) {
                    v.remove(idx);
                }
            }
        }
        *lock(&self.written[idx]) = writes;
        *lock(&self.reads[idx]) = reads;
        new_location
    }

    /// Marks task `idx`'s writes as estimates (its incarnation was aborted).
    #[allow(
        clippy::indexing_slicing,
        reason = "`idx` is a task index below `tasks` (the length of `written`); `shard()` is modulo SHARDS; `i` comes from `binary_search_by_key` on `cells`"
    )]
    pub fn convert_writes_to_estimates(&self, idx: usize) {
        let written = lock(&self.written[idx]).clone();
        for (slot, _) in written {
            if let Some(v) = lock(&self.shards[shard(hash(&slot))]).get_mut(&slot) {
                if let Ok(i) = v.cells.binary_search_by_key(&idx, |(t, _)| *t) {
                    let c = &mut v.cells[i].1;
                    *c = Cell::Estimate(c.delta());
                }
            }
        }
    }

    /// Whether every read of task `idx` would still see the same: the values it read, and
    /// the outcomes of its adds. `base` gives a slot's value in storage.
    #[allow(
        clippy::indexing_slicing,
        reason = "`idx` is a task index below `tasks`, the length of `reads`"
    )]
    pub fn validate(&self, idx: usize, base: &dyn Fn(Slot) -> Option<i128>) -> bool {
        let reads = lock(&self.reads[idx]);
        reads.iter().all(|read| {
            let slot = read.slot();
            // Adds first try the bounds, which need neither the deltas below nor a wait.
            let seen = match *read {
                Read::Value { .. } => None,
                Read::Adds { .. } | Read::Add { .. } => {
                    base(slot).and_then(|b| self.bounds(slot, b))
                }
            };
            if let Some(seen) = seen {
                match *read {
                    Read::Adds { min, max, .. } if fits_within(seen, min, max) => return true,
                    Read::Add {
                        before,
                        delta,
                        cap,
                        outcome,
                        ..
                    } => {
                        if let Some(now) = add_outcome_within(seen, before, delta, cap) {
                            return now == outcome;
                        }
                    }
                    _ => {}
                }
            }
            let now = match self.resolve(slot, idx) {
                Resolved::Value(v) => v,
                Resolved::Base(d) => {
                    if let Read::Value {
                        base: Some(seen), ..
                    } = *read
                    {
                        // Storage is fixed during the block: the same deltas on it give the
                        // same value, and other deltas another value.
                        return seen == d;
                    }
                    match base(slot) {
                        Some(b) => b.wrapping_add(d),
                        None => return false,
                    }
                }
                Resolved::Blocked(_) => return false,
            };
            match *read {
                Read::Value { value, .. } => now == value,
                Read::Adds { min, max, .. } => fits_within((now, now), min, max),
                Read::Add {
                    before,
                    delta,
                    cap,
                    outcome,
                    ..
                } => add_outcome(now, before, delta, cap) == outcome,
            }
        })
    }

    /// The writes of task `idx`'s final incarnation, for the commit.
    #[allow(
        clippy::indexing_slicing,
        reason = "`idx` ranges over 0..tasks, the length of `written`"
    )]
    pub fn final_writes(&mut self, idx: usize) -> Vec<(Slot, Cell)> {
        std::mem::take(
            self.written[idx]
                .get_mut()
                .unwrap_or_else(|p| p.into_inner()),
        )
    }
}
