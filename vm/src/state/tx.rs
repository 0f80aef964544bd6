//! [`TxState`]: the state a running transaction sees. The interpreter and the JIT reach
//! storage only through it, so the same engines run over the sequential [`StateCache`] and
//! over the parallel executor's speculative views (`crate::exec::parallel`).

use super::{Access, Slot, StateCache, Storage, StorageError};

/// What a storage add did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddOutcome {
    /// The sum was stored.
    Added,
    /// The sum leaves the i128 range: nothing stored.
    Overflow,
    /// The sum is above the cap: nothing stored.
    OverCap,
}

/// The outcome of adding `delta` to a slot holding `value` plus `before` (a parallel
/// task's own earlier deltas; 0 otherwise) under an optional `cap`.
pub fn add_outcome(value: i128, before: i128, delta: i128, cap: Option<i128>) -> AddOutcome {
    match value.checked_add(before).and_then(|v| v.checked_add(delta)) {
        None => AddOutcome::Overflow,
        Some(sum) if cap.is_some_and(|c| sum > c) => AddOutcome::OverCap,
        Some(_) => AddOutcome::Added,
    }
}

/// What [`TxState::add`] returns.
pub type AddResult = Result<AddOutcome, StorageError>;

/// Adds `delta` to `slot`, known to hold `value`, under `cap`: writes the sum only when
/// the outcome is [`AddOutcome::Added`].
pub fn add_to<T: TxState + ?Sized>(
    state: &mut T,
    slot: Slot,
    value: i128,
    delta: i128,
    cap: Option<i128>,
) -> AddResult {
    let outcome = add_outcome(value, 0, delta, cap);
    if outcome == AddOutcome::Added {
        state.write(slot, value + delta)?;
    }
    Ok(outcome)
}

/// One transaction's window on contract storage.
///
/// Contract: `begin_tx` starts a transaction (empty journal, every slot cold); `commit_tx`
/// keeps its writes, `revert_tx` discards them all. Warm/cold status depends only on the
/// transaction's own accesses.
pub trait TxState {
    /// Starts a transaction.
    fn begin_tx(&mut self);
    /// Records an access to `slot`: cold the first time in this transaction.
    fn touch(&mut self, slot: Slot) -> Access;
    /// The slot's current value.
    fn read(&mut self, slot: Slot) -> Result<i128, StorageError>;
    /// Sets the slot.
    fn write(&mut self, slot: Slot, value: i128) -> Result<(), StorageError>;
    /// SADD (`cap` None) and SADDCAP: adds `delta` to the slot unless the sum leaves the
    /// i128 range or exceeds `cap` (then nothing is written). A view that keeps deltas
    /// apart (the parallel executor) need not read the slot's value to do this.
    fn add(&mut self, slot: Slot, delta: i128, cap: Option<i128>) -> AddResult;
    /// Keeps the transaction's writes.
    fn commit_tx(&mut self);
    /// Discards the transaction's writes.
    fn revert_tx(&mut self);
    /// This state as a trait object (a contract called from a run sees the same state).
    fn as_dyn(&mut self) -> &mut dyn TxState;
}

impl<S: Storage> TxState for StateCache<S> {
    fn as_dyn(&mut self) -> &mut dyn TxState {
        self
    }

    fn begin_tx(&mut self) {
        StateCache::begin_tx(self)
    }
    fn touch(&mut self, slot: Slot) -> Access {
        StateCache::touch(self, slot)
    }
    fn read(&mut self, slot: Slot) -> Result<i128, StorageError> {
        StateCache::read(self, slot)
    }
    fn write(&mut self, slot: Slot, value: i128) -> Result<(), StorageError> {
        StateCache::write(self, slot, value)
    }
    fn add(&mut self, slot: Slot, delta: i128, cap: Option<i128>) -> AddResult {
        let value = StateCache::read(self, slot)?;
        add_to(self, slot, value, delta, cap)
    }
    fn commit_tx(&mut self) {
        StateCache::commit_tx(self)
    }
    fn revert_tx(&mut self) {
        StateCache::revert_tx(self)
    }
}
