//! What a transaction sees in a sharded block, and the run-time guard.
//!
//! - [`GlobalView`]: a global transaction, in the pre-pass: it reads the block's starting
//!   state under the writes of the global transactions before it, and its writes become
//!   [`Versions`] that owned transactions read at their block position.
//! - [`OwnedView`]: an owned transaction, on its worker thread: its owner's slots live in
//!   the thread's overlay (owners never share a slot, so one overlay serves all the owners
//!   a thread runs); fixed slots are read from the versions or the starting state; adds to
//!   totals are kept as deltas in the thread's [`Totals`], never read.
//!
//! Every access is checked against the transaction's footprint (its export's plan, bound
//! to its owner): one outside it stops the transaction with a storage error (no contract
//! can catch it) and marks the view escaped, and the executor runs the segment again in
//! block order. Warm/cold status is per transaction, as in [`crate::state::StateCache`].

use super::plan::ExportPlan;
use crate::exec::Engine;
use crate::isa::StorageOp;
use crate::state::{
    add_outcome, Access, AddOutcome, AddResult, Slot, StateCache, Storage, StorageError, TxState,
};
use hashbrown::hash_map::Entry;
use hashbrown::{HashMap, HashSet};

/// The global transactions' writes, per slot, in block order: `(transaction index, value)`.
#[derive(Debug, Default)]
pub struct Versions {
    map: HashMap<Slot, Vec<(u32, i128)>>,
}

impl Versions {
    /// The slot's value as the global transactions left it before transaction `tx`.
    #[inline]
    pub fn before(&self, slot: Slot, tx: u32) -> Option<i128> {
        if self.map.is_empty() {
            return None;
        }
        let list = self.map.get(&slot)?;
        let n = list.partition_point(|&(i, _)| i < tx);
        n.checked_sub(1).and_then(|k| list.get(k)).map(|&(_, v)| v)
    }

    fn latest(&self, slot: Slot) -> Option<i128> {
        self.map.get(&slot).and_then(|l| l.last()).map(|&(_, v)| v)
    }

    /// Each written slot with its last value.
    pub fn finals(&self) -> impl Iterator<Item = (Slot, i128)> + '_ {
        self.map
            .iter()
            .filter_map(|(s, l)| l.last().map(|&(_, v)| (*s, v)))
    }
}

/// Whether a transaction whose export has `plan` may load `slot` of another contract: the
/// export calls other contracts through view imports, and the slot's own contract lists
/// it as readable beside its transactions (`Plan::readable`). Its value is then read as
/// any fixed slot is: from the global transactions' versions at the transaction's block
/// position, or the block's starting state.
#[inline]
fn foreign_load(engine: &Engine, plan: &ExportPlan, op: StorageOp, slot: Slot) -> bool {
    op == StorageOp::Load
        && plan.calls_view
        && engine
            .plan_of(slot.contract)
            .is_some_and(|p| p.readable(slot.space, slot.key))
}

fn escape(slot: Slot) -> StorageError {
    StorageError(format!(
        "access to slot (space {}, key {}) outside the transaction's footprint",
        slot.space, slot.key
    ))
}

/// The pre-pass view of global transactions.
pub struct GlobalView<'a, S> {
    engine: &'a Engine,
    base: &'a StateCache<S>,
    versions: &'a mut Versions,
    plan: Option<&'a ExportPlan>,
    contract: u128,
    tx: u32,
    writes: Vec<(Slot, i128)>,
    warm: HashSet<Slot>,
    /// The first access outside the footprint, if any.
    pub escaped: Option<Slot>,
}

impl<'a, S: Storage> GlobalView<'a, S> {
    /// A view over `base` that records into `versions`, for transactions of `engine`'s
    /// contracts.
    pub fn new(engine: &'a Engine, base: &'a StateCache<S>, versions: &'a mut Versions) -> Self {
        GlobalView {
            engine,
            base,
            versions,
            plan: None,
            contract: 0,
            tx: 0,
            writes: Vec::new(),
            warm: HashSet::new(),
            escaped: None,
        }
    }

    /// Sets the transaction about to run.
    pub fn next(&mut self, tx: u32, contract: u128, plan: Option<&'a ExportPlan>) {
        self.tx = tx;
        self.contract = contract;
        self.plan = plan;
    }

    fn check(&mut self, op: StorageOp, slot: Slot) -> Result<(), StorageError> {
        match self.plan {
            Some(p)
                if p.allows(op, slot, self.contract, None)
                    || (slot.contract != self.contract
                        && foreign_load(self.engine, p, op, slot)) =>
            {
                Ok(())
            }
            _ => {
                self.escaped.get_or_insert(slot);
                Err(escape(slot))
            }
        }
    }
}

impl<S: Storage> TxState for GlobalView<'_, S> {
    fn as_dyn(&mut self) -> &mut dyn TxState {
        self
    }

    fn begin_tx(&mut self) {
        self.writes.clear();
        self.warm.clear();
    }
    fn touch(&mut self, slot: Slot) -> Access {
        Access::record(&mut self.warm, slot)
    }
    fn read(&mut self, slot: Slot) -> Result<i128, StorageError> {
        self.check(StorageOp::Load, slot)?;
        if let Some(&(_, v)) = self.writes.iter().rev().find(|(s, _)| *s == slot) {
            return Ok(v);
        }
        match self.versions.latest(slot) {
            Some(v) => Ok(v),
            None => self.base.peek(slot),
        }
    }
    fn write(&mut self, slot: Slot, value: i128) -> Result<(), StorageError> {
        self.check(StorageOp::Store, slot)?;
        self.writes.push((slot, value));
        Ok(())
    }
    fn add(&mut self, slot: Slot, _delta: i128, _cap: Option<i128>) -> AddResult {
        // A global export adds nothing (see the plan): any add is outside its footprint.
        self.escaped.get_or_insert(slot);
        Err(escape(slot))
    }
    fn commit_tx(&mut self) {
        let tx = self.tx;
        for (slot, value) in self.writes.drain(..) {
            let list = self.versions.map.entry(slot).or_default();
            match list.last_mut() {
                Some(last) if last.0 == tx => last.1 = value,
                _ => list.push((tx, value)),
            }
        }
    }
    fn revert_tx(&mut self) {
        self.writes.clear();
    }
}

/// One total's adds on one thread: what the fold needs to prove every add's outcome is
/// the one block order gives, whatever the order the threads ran them in.
#[derive(Clone, Copy, Debug)]
pub struct Total {
    /// Sum of every positive delta attempted (None: it left the i128 range).
    pub up: Option<i128>,
    /// Sum of every negative delta attempted (None: it left the i128 range).
    pub down: Option<i128>,
    /// The lowest cap of any capped add.
    pub cap: Option<i128>,
    /// Every add was speculated to succeed.
    pub all_added: bool,
    /// Sum of the deltas of transactions that succeeded (wrapping; exact when the bounds
    /// hold).
    pub committed: i128,
}

impl Default for Total {
    fn default() -> Self {
        Total {
            up: Some(0),
            down: Some(0),
            cap: None,
            all_added: true,
            committed: 0,
        }
    }
}

impl Total {
    /// Folds another thread's figures into these.
    pub fn merge(&mut self, o: &Total) {
        self.up = self.up.zip(o.up).and_then(|(a, b)| a.checked_add(b));
        self.down = self.down.zip(o.down).and_then(|(a, b)| a.checked_add(b));
        self.cap = match (self.cap, o.cap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.all_added &= o.all_added;
        self.committed = self.committed.wrapping_add(o.committed);
    }

    /// Whether every add succeeds in every order from `start`: then block order gives
    /// exactly the speculated outcomes (all succeeded), and the sum is `committed`.
    pub fn proven(&self, start: i128) -> bool {
        let high = self.up.and_then(|u| start.checked_add(u));
        let low = self.down.and_then(|d| start.checked_add(d));
        self.all_added
            && low.is_some()
            && match (high, self.cap) {
                (None, _) => false,
                (Some(h), Some(c)) => h <= c,
                (Some(_), None) => true,
            }
    }
}

/// An owner slot in a worker's overlay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    /// Its value now.
    pub value: i128,
    /// Its value in the starting state, when the worker read it (so the commit need not
    /// ask storage again).
    pub original: Option<i128>,
    /// Written by a transaction (else only read from the starting state, and cached).
    pub dirty: bool,
}

/// A worker thread's state, reused by every owned transaction it runs.
#[derive(Default)]
pub struct Worker {
    /// Its owners' slots as their transactions left them (or as read: clean).
    pub overlay: HashMap<Slot, Cell>,
    /// Every slot that became dirty, once (it may be clean again after a revert).
    pub dirty: Vec<Slot>,
    /// Its totals, with their starting values (few: searched in order).
    pub totals: Vec<(Slot, i128, Total)>,
    /// Fixed slots' starting values, cached.
    fixed: HashMap<Slot, i128>,
    journal: Vec<(Slot, Option<Cell>)>,
    pending: Vec<(usize, i128)>,
    warm: HashSet<Slot>,
}

impl Worker {
    /// A worker expecting about `txs` transactions (sizes its overlay once).
    pub fn with_capacity(txs: usize) -> Self {
        Worker {
            overlay: HashMap::with_capacity(txs.min(1 << 20)),
            dirty: Vec::with_capacity(txs.min(1 << 20)),
            ..Worker::default()
        }
    }
}

/// The view of one owned transaction.
pub struct OwnedView<'a, S> {
    /// The engine whose contracts run (for the plans of contracts a view call reads).
    pub engine: &'a Engine,
    /// The starting state.
    pub base: &'a StateCache<S>,
    /// The global transactions' writes.
    pub versions: &'a Versions,
    /// The thread's state.
    pub worker: &'a mut Worker,
    /// The transaction's plan.
    pub plan: &'a ExportPlan,
    /// Its contract.
    pub contract: u128,
    /// Its owner.
    pub owner: u128,
    /// Its index in the block.
    pub tx: u32,
    /// The first access outside the footprint, if any.
    pub escaped: Option<Slot>,
}

/// Where an allowed access lands.
enum Scope {
    Owner,
    Fixed,
}

impl<S: Storage> OwnedView<'_, S> {
    #[inline]
    fn scope(&mut self, op: StorageOp, slot: Slot) -> Result<Scope, StorageError> {
        if slot.contract == self.contract && slot.key == self.owner {
            if let Some(rule) = self.plan.rule(slot.space) {
                if rule.owner_ops & (1 << op as u8) != 0 {
                    return Ok(Scope::Owner);
                }
            }
        }
        // Owned transactions store no fixed slot (the plan): only loads and adds.
        if op != StorageOp::Store && self.plan.allows(op, slot, self.contract, None) {
            return Ok(Scope::Fixed);
        }
        if slot.contract != self.contract && foreign_load(self.engine, self.plan, op, slot) {
            return Ok(Scope::Fixed);
        }
        self.escaped.get_or_insert(slot);
        Err(escape(slot))
    }

    #[inline]
    fn owner_value(&mut self, slot: Slot) -> Result<i128, StorageError> {
        match self.worker.overlay.entry(slot) {
            Entry::Occupied(e) => Ok(e.get().value),
            Entry::Vacant(e) => {
                let value = self.base.peek(slot)?;
                // Cached clean; no journal entry needed (a revert keeps a correct cache).
                e.insert(Cell {
                    value,
                    original: Some(value),
                    dirty: false,
                });
                Ok(value)
            }
        }
    }

    fn set(&mut self, slot: Slot, value: i128) {
        let previous = match self.worker.overlay.entry(slot) {
            Entry::Occupied(mut e) => {
                let previous = *e.get();
                e.insert(Cell {
                    value,
                    original: previous.original,
                    dirty: true,
                });
                Some(previous)
            }
            Entry::Vacant(e) => {
                e.insert(Cell {
                    value,
                    original: None,
                    dirty: true,
                });
                None
            }
        };
        if !previous.is_some_and(|c| c.dirty) {
            self.worker.dirty.push(slot);
        }
        self.worker.journal.push((slot, previous));
    }

    /// The index of `slot` in the worker's totals (added with its starting value).
    fn total(&mut self, slot: Slot) -> Result<usize, StorageError> {
        if let Some(i) = self.worker.totals.iter().position(|(s, _, _)| *s == slot) {
            return Ok(i);
        }
        let start = self.base.peek(slot)?;
        self.worker.totals.push((slot, start, Total::default()));
        Ok(self.worker.totals.len() - 1)
    }
}

impl<S: Storage> TxState for OwnedView<'_, S> {
    fn as_dyn(&mut self) -> &mut dyn TxState {
        self
    }

    fn begin_tx(&mut self) {
        self.worker.journal.clear();
        self.worker.pending.clear();
        self.worker.warm.clear();
    }
    #[inline]
    fn touch(&mut self, slot: Slot) -> Access {
        Access::record(&mut self.worker.warm, slot)
    }
    #[inline]
    fn read(&mut self, slot: Slot) -> Result<i128, StorageError> {
        match self.scope(StorageOp::Load, slot)? {
            Scope::Owner => self.owner_value(slot),
            Scope::Fixed => {
                if let Some(v) = self.versions.before(slot, self.tx) {
                    return Ok(v);
                }
                if let Some(&v) = self.worker.fixed.get(&slot) {
                    return Ok(v);
                }
                let v = self.base.peek(slot)?;
                self.worker.fixed.insert(slot, v);
                Ok(v)
            }
        }
    }
    #[inline]
    fn write(&mut self, slot: Slot, value: i128) -> Result<(), StorageError> {
        self.scope(StorageOp::Store, slot)?;
        self.set(slot, value);
        Ok(())
    }
    fn add(&mut self, slot: Slot, delta: i128, cap: Option<i128>) -> AddResult {
        let op = if cap.is_some() {
            StorageOp::AddCapped
        } else {
            StorageOp::Add
        };
        match self.scope(op, slot)? {
            Scope::Owner => {
                let value = self.owner_value(slot)?;
                let outcome = add_outcome(value, 0, delta, cap);
                if outcome == AddOutcome::Added {
                    self.set(slot, value + delta);
                }
                Ok(outcome)
            }
            Scope::Fixed => {
                // A total: speculate on its starting value plus this transaction's own
                // earlier deltas; the fold proves the outcome for block order, or the
                // segment runs again.
                let i = self.total(slot)?;
                let before: i128 = self
                    .worker
                    .pending
                    .iter()
                    .filter(|(k, _)| *k == i)
                    .fold(0i128, |a, (_, d)| a.wrapping_add(*d));
                let Some((_, start, t)) = self.worker.totals.get_mut(i) else {
                    return Err(escape(slot));
                };
                let outcome = add_outcome(*start, before, delta, cap);
                if delta >= 0 {
                    t.up = t.up.and_then(|u| u.checked_add(delta));
                } else {
                    t.down = t.down.and_then(|d| d.checked_add(delta));
                }
                if let Some(c) = cap {
                    t.cap = Some(t.cap.map_or(c, |old| old.min(c)));
                }
                if outcome == AddOutcome::Added {
                    self.worker.pending.push((i, delta));
                } else {
                    t.all_added = false;
                }
                Ok(outcome)
            }
        }
    }
    fn commit_tx(&mut self) {
        let Worker {
            totals, pending, ..
        } = &mut *self.worker;
        for (i, delta) in pending.drain(..) {
            if let Some((_, _, t)) = totals.get_mut(i) {
                t.committed = t.committed.wrapping_add(delta);
            }
        }
        self.worker.journal.clear();
    }
    fn revert_tx(&mut self) {
        while let Some((slot, previous)) = self.worker.journal.pop() {
            match previous {
                Some(c) => self.worker.overlay.insert(slot, c),
                None => self.worker.overlay.remove(&slot),
            };
        }
        self.worker.pending.clear();
    }
}
