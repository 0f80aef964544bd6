//! [`SpecView`]: what one incarnation of a task sees. Reads fall through the task's own
//! overlay to the multi-version memory and then to the block's starting state; writes stay
//! in the overlay until the incarnation ends; SADD keeps a delta without reading the slot.
//!
//! Guarantees: every read of the state before the task is recorded for validation; a read
//! of an estimate stops the incarnation (as a storage error, which no contract can catch)
//! and names the task it depends on; transactions inside the task revert exactly, as with
//! [`crate::state::StateCache`], and warm/cold status is per transaction.

use super::memory::{add_outcome_within, Cell, MvMemory, Read, Resolved};
use crate::state::{
    add_outcome, add_to, Access, AddOutcome, AddResult, Slot, StateCache, Storage, StorageError,
    TxState,
};
use hashbrown::{HashMap, HashSet};

/// A slot as the task's own transactions left it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Local {
    /// Its value is known (read or written by the task); `written` if the task set it.
    Known { value: i128, written: bool },
    /// Only deltas so far: the task added `sum` without reading the slot. `seen` bounds
    /// the slot's value before the task, as the memory knew it at the first add; `read`
    /// is the index of the task's [`Read::Adds`] record for the slot, if any.
    Delta {
        sum: i128,
        seen: (i128, i128),
        read: Option<usize>,
    },
}

/// A worker thread's buffers, reused by every incarnation it runs: a fresh map per
/// incarnation cost more in allocation and page faults than the lookups themselves.
#[derive(Default)]
pub struct Scratch {
    local: HashMap<Slot, Local>,
    journal: Vec<(Slot, Option<Local>)>,
    warm: HashSet<Slot>,
}

/// One incarnation's view of the state.
pub struct SpecView<'a, S> {
    memory: &'a MvMemory,
    base: &'a StateCache<S>,
    idx: usize,
    deltas: bool,
    local: &'a mut HashMap<Slot, Local>,
    journal: &'a mut Vec<(Slot, Option<Local>)>,
    warm: &'a mut HashSet<Slot>,
    reads: Vec<Read>,
    /// The task whose estimate stopped this incarnation.
    pub blocked: Option<usize>,
}

impl<'a, S: Storage> SpecView<'a, S> {
    /// The view of task `idx`, of `txs` transactions, in the worker's `scratch`; `deltas`
    /// false makes SADD a plain read and write.
    pub fn new(
        memory: &'a MvMemory,
        base: &'a StateCache<S>,
        idx: usize,
        txs: usize,
        deltas: bool,
        scratch: &'a mut Scratch,
    ) -> Self {
        scratch.local.clear();
        scratch.journal.clear();
        scratch.warm.clear();
        SpecView {
            memory,
            base,
            idx,
            deltas,
            local: &mut scratch.local,
            journal: &mut scratch.journal,
            warm: &mut scratch.warm,
            reads: Vec::with_capacity(txs.saturating_mul(8).clamp(32, 4096)),
            blocked: None,
        }
    }

    /// The slot's value before the task (unrecorded), and the deltas on storage's value it
    /// is, if it is one.
    fn before_task(&mut self, slot: Slot) -> Result<(i128, Option<i128>), StorageError> {
        match self.memory.resolve(slot, self.idx) {
            Resolved::Value(v) => Ok((v, None)),
            Resolved::Base(d) => Ok((self.base.peek(slot)?.wrapping_add(d), Some(d))),
            Resolved::Blocked(writer) => {
                self.blocked = Some(writer);
                Err(StorageError(format!(
                    "speculative read of slot {slot:?} waits on task {writer}"
                )))
            }
        }
    }

    /// The slot's value before the task, recorded for validation.
    fn read_before(&mut self, slot: Slot) -> Result<i128, StorageError> {
        let (value, base) = self.before_task(slot)?;
        self.reads.push(Read::Value { slot, value, base });
        Ok(value)
    }

    fn set(&mut self, slot: Slot, local: Local) {
        let previous = self.local.insert(slot, local);
        self.journal.push((slot, previous));
    }

    /// The incarnation's writes and reads.
    pub fn finish(self) -> (Vec<(Slot, Cell)>, Vec<Read>) {
        let writes = self
            .local
            .drain()
            .filter_map(|(slot, l)| match l {
                Local::Known {
                    value,
                    written: true,
                } => Some((slot, Cell::Value(value))),
                Local::Known { written: false, .. } => None,
                Local::Delta { sum, .. } => Some((slot, Cell::Delta(sum))),
            })
            .collect();
        (writes, self.reads)
    }
}

impl<S: Storage> TxState for SpecView<'_, S> {
    fn as_dyn(&mut self) -> &mut dyn TxState {
        self
    }

    fn begin_tx(&mut self) {
        self.journal.clear();
        self.warm.clear();
    }

    fn touch(&mut self, slot: Slot) -> Access {
        Access::record(self.warm, slot)
    }

    fn read(&mut self, slot: Slot) -> Result<i128, StorageError> {
        match self.local.get(&slot).copied() {
            Some(Local::Known { value, .. }) => Ok(value),
            Some(Local::Delta { sum, .. }) => {
                let value = self.read_before(slot)?.wrapping_add(sum);
                self.set(
                    slot,
                    Local::Known {
                        value,
                        written: true,
                    },
                );
                Ok(value)
            }
            None => {
                let value = self.read_before(slot)?;
                self.set(
                    slot,
                    Local::Known {
                        value,
                        written: false,
                    },
                );
                Ok(value)
            }
        }
    }

    fn write(&mut self, slot: Slot, value: i128) -> Result<(), StorageError> {
        self.set(
            slot,
            Local::Known {
                value,
                written: true,
            },
        );
        Ok(())
    }

    /// SADD and SADDCAP: records only the outcome's dependency on the state before the
    /// task, and keeps the sum as a delta.
    fn add(&mut self, slot: Slot, delta: i128, cap: Option<i128>) -> AddResult {
        let (before, seen, read) = match self.local.get(&slot).copied() {
            Some(Local::Known { value, .. }) => return add_to(self, slot, value, delta, cap),
            Some(Local::Delta { sum, seen, read }) => (sum, Some(seen), read),
            None => (0, None, None),
        };
        if !self.deltas {
            // Plain read-modify-write: the read is recorded whole.
            self.read(slot)?;
            return self.add(slot, delta, cap);
        }
        // On a hot counter the slot's bounds usually decide the outcome without folding
        // the deltas below (or waiting on estimates); otherwise read the exact value.
        let seen = match seen {
            Some(seen) => Some(seen),
            None => self.memory.bounds(slot, self.base.peek(slot)?),
        };
        let decided = seen.and_then(|s| add_outcome_within(s, before, delta, cap));
        let (outcome, seen, exact) = match (decided, seen) {
            (Some(outcome), Some(seen)) => (outcome, seen, None),
            _ => {
                let (value, _) = self.before_task(slot)?;
                let outcome = add_outcome(value, before, delta, cap);
                (outcome, (value, value), Some(value))
            }
        };
        let sum = before.checked_add(delta);
        let mut read = read;
        match (cap, outcome, sum) {
            (None, AddOutcome::Added, Some(sum)) => {
                let (lo, hi) = (before.min(sum), before.max(sum));
                match read.and_then(|i| self.reads.get_mut(i)) {
                    Some(Read::Adds { slot: s, min, max }) if *s == slot => {
                        *min = (*min).min(lo);
                        *max = (*max).max(hi);
                    }
                    _ => {
                        read = Some(self.reads.len());
                        self.reads.push(Read::Adds {
                            slot,
                            min: lo,
                            max: hi,
                        });
                    }
                }
            }
            _ => self.reads.push(Read::Add {
                slot,
                before,
                delta,
                cap,
                outcome,
            }),
        }
        if outcome == AddOutcome::Added {
            match sum {
                Some(sum) => self.set(slot, Local::Delta { sum, seen, read }),
                None => {
                    // The deltas alone leave the i128 range (the value before the task
                    // brings the sum back): fall back to a recorded read of it.
                    let value = match exact {
                        Some(v) => v,
                        None => self.before_task(slot)?.0,
                    };
                    self.reads.push(Read::Value {
                        slot,
                        value,
                        base: None,
                    });
                    self.write(slot, value.wrapping_add(before).wrapping_add(delta))?;
                }
            }
        }
        Ok(outcome)
    }

    fn commit_tx(&mut self) {
        self.journal.clear();
    }

    fn revert_tx(&mut self) {
        while let Some((slot, previous)) = self.journal.pop() {
            match previous {
                Some(l) => self.local.insert(slot, l),
                None => self.local.remove(&slot),
            };
        }
    }
}
