//! [`TxState`]: the state a running transaction sees. The interpreter and the JIT reach
//! storage only through it, so the same engines run over the sequential [`StateCache`] and
//! over the parallel executor's speculative views (`crate::exec::parallel`).

use super::{Access, Slot, StateCache, Storage, StorageError};

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
    /// SADD: adds `delta` to the slot. `Ok(false)` (and nothing written) when the sum
    /// leaves the i128 range. A view that keeps deltas apart (the parallel executor) need
    /// not read the slot's value to do this.
    fn add(&mut self, slot: Slot, delta: i128) -> Result<bool, StorageError>;
    /// Keeps the transaction's writes.
    fn commit_tx(&mut self);
    /// Discards the transaction's writes.
    fn revert_tx(&mut self);
}

impl<S: Storage> TxState for StateCache<S> {
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
    fn add(&mut self, slot: Slot, delta: i128) -> Result<bool, StorageError> {
        match StateCache::read(self, slot)?.checked_add(delta) {
            Some(sum) => StateCache::write(self, slot, sum).map(|()| true),
            None => Ok(false),
        }
    }
    fn commit_tx(&mut self) {
        StateCache::commit_tx(self)
    }
    fn revert_tx(&mut self) {
        StateCache::revert_tx(self)
    }
}
