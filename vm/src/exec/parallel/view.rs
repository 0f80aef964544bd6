//! [`SpecView`]: what one incarnation of a task sees. Reads fall through the task's own
//! overlay to the multi-version memory and then to the block's starting state; writes stay
//! in the overlay until the incarnation ends; SADD keeps a delta without reading the slot.
//!
//! Guarantees: every read of the state before the task is recorded for validation; a read
//! of an estimate stops the incarnation (as a storage error, which no contract can catch)
//! and names the task it depends on; transactions inside the task revert exactly, as with
//! [`crate::state::StateCache`], and warm/cold status is per transaction.

use super::memory::{add_outcome, Cell, MvMemory, Read, Resolved};
use crate::state::{Access, Slot, StateCache, Storage, StorageError, TxState};
use hashbrown::{HashMap, HashSet};

/// A slot as the task's own transactions left it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Local {
    /// Its value is known (read or written by the task); `written` if the task set it.
    Known { value: i128, written: bool },
    /// Only deltas so far: the task added this much, without reading the slot.
    Delta(i128),
}

/// One incarnation's view of the state.
pub struct SpecView<'a, S> {
    memory: &'a MvMemory,
    base: &'a StateCache<S>,
    idx: usize,
    deltas: bool,
    local: HashMap<Slot, Local>,
    journal: Vec<(Slot, Option<Local>)>,
    warm: HashSet<Slot>,
    reads: Vec<Read>,
    /// The task whose estimate stopped this incarnation.
    pub blocked: Option<usize>,
}

impl<'a, S: Storage> SpecView<'a, S> {
    /// The view of task `idx`; `deltas` false makes SADD a plain read and write.
    pub fn new(memory: &'a MvMemory, base: &'a StateCache<S>, idx: usize, deltas: bool) -> Self {
        SpecView {
            memory,
            base,
            idx,
            deltas,
            local: HashMap::with_capacity(32),
            journal: Vec::with_capacity(32),
            warm: HashSet::with_capacity(32),
            reads: Vec::with_capacity(32),
            blocked: None,
        }
    }

    /// The slot's value before the task (unrecorded).
    fn before_task(&mut self, slot: Slot) -> Result<i128, StorageError> {
        match self.memory.resolve(slot, self.idx) {
            Resolved::Value(v) => Ok(v),
            Resolved::Base(d) => Ok(self.base.peek(slot)?.wrapping_add(d)),
            Resolved::Blocked(writer) => {
                self.blocked = Some(writer);
                Err(StorageError(format!(
                    "speculative read of slot {slot:?} waits on task {writer}"
                )))
            }
        }
    }

    fn set(&mut self, slot: Slot, local: Local) {
        let previous = self.local.insert(slot, local);
        self.journal.push((slot, previous));
    }

    /// The incarnation's writes and reads.
    pub fn finish(self) -> (Vec<(Slot, Cell)>, Vec<Read>) {
        let writes = self
            .local
            .into_iter()
            .filter_map(|(slot, l)| match l {
                Local::Known {
                    value,
                    written: true,
                } => Some((slot, Cell::Value(value))),
                Local::Known { written: false, .. } => None,
                Local::Delta(d) => Some((slot, Cell::Delta(d))),
            })
            .collect();
        (writes, self.reads)
    }
}

impl<S: Storage> TxState for SpecView<'_, S> {
    fn begin_tx(&mut self) {
        self.journal.clear();
        self.warm.clear();
    }

    fn touch(&mut self, slot: Slot) -> Access {
        if self.warm.insert(slot) {
            Access::Cold
        } else {
            Access::Warm
        }
    }

    fn read(&mut self, slot: Slot) -> Result<i128, StorageError> {
        match self.local.get(&slot).copied() {
            Some(Local::Known { value, .. }) => Ok(value),
            Some(Local::Delta(d)) => {
                let base = self.before_task(slot)?;
                self.reads.push(Read::Value { slot, value: base });
                let value = base.wrapping_add(d);
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
                let value = self.before_task(slot)?;
                self.reads.push(Read::Value { slot, value });
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

    fn add(&mut self, slot: Slot, delta: i128) -> Result<bool, StorageError> {
        self.bounded_add(slot, delta, None)
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

impl<S: Storage> SpecView<'_, S> {
    /// SADD with an optional cap: records only the outcome's dependency on the state
    /// before the task, and keeps the sum as a delta.
    pub fn bounded_add(
        &mut self,
        slot: Slot,
        delta: i128,
        cap: Option<i128>,
    ) -> Result<bool, StorageError> {
        let before = match self.local.get(&slot).copied() {
            Some(Local::Known { value, .. }) => {
                return Ok(match value.checked_add(delta) {
                    Some(sum) if cap.is_none_or(|c| sum <= c) => {
                        self.write(slot, sum)?;
                        true
                    }
                    _ => false,
                });
            }
            Some(Local::Delta(d)) => d,
            None => 0,
        };
        if !self.deltas {
            // Plain read-modify-write: the read is recorded whole.
            self.read(slot)?;
            return self.bounded_add(slot, delta, cap);
        }
        // On a hot counter the slot's bounds usually decide the outcome without folding
        // the deltas below (or waiting on estimates); otherwise read the exact value.
        let stored = self.base.peek(slot)?;
        let (ok, base) = match self
            .memory
            .add_outcome_bounded(slot, stored, before, delta, cap)
        {
            Some(ok) => (ok, None),
            None => {
                let base = self.before_task(slot)?;
                (add_outcome(base, before, delta, cap), Some(base))
            }
        };
        self.reads.push(Read::Add {
            slot,
            before,
            delta,
            cap,
            ok,
        });
        if ok {
            match before.checked_add(delta) {
                Some(sum) => self.set(slot, Local::Delta(sum)),
                None => {
                    // The deltas alone leave the i128 range (the base brings the sum back):
                    // fall back to a recorded read of the base.
                    let base = match base {
                        Some(b) => b,
                        None => self.before_task(slot)?,
                    };
                    self.reads.push(Read::Value { slot, value: base });
                    let value = base.wrapping_add(before).wrapping_add(delta);
                    self.write(slot, value)?;
                }
            }
        }
        Ok(ok)
    }
}
