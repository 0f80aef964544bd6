//! Contract storage: the [`Storage`] trait embedders implement, an in-memory backend, a
//! persistent one on redb ([`RedbStorage`]), and
//! the per-block [`StateCache`] the interpreter reads and writes through.
//!
//! Guarantees: the cache is read-through (a slot is fetched from storage at most once per
//! block); every write inside a transaction is journaled, so [`StateCache::revert_tx`]
//! restores exactly the state before the transaction; warm/cold status is per transaction
//! and depends only on the transaction's own accesses, never on what the cache holds.

mod cache;
mod memory;
#[cfg(feature = "redb")]
mod redb;
mod tx;

pub use cache::{Access, StateCache};
pub use memory::MemoryStorage;
#[cfg(feature = "redb")]
pub use redb::{in_backend_call, RedbStorage};
pub use tx::{add_outcome, add_to, AddOutcome, AddResult, TxState};

use std::fmt;

/// A contract or account id.
pub type Address = u128;

/// One storage slot: a 128-bit key in one of a contract's storage spaces. The compiler
/// gives every storage variable its own space (a scalar uses key 0; a map's keys are its
/// entries), so variables never collide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot {
    /// The contract that owns the slot.
    pub contract: Address,
    /// The storage space within the contract (the SLOAD/SSTORE/SADD immediate).
    pub space: u32,
    /// The key within the space.
    pub key: u128,
}

/// A failure of the storage backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageError(pub String);

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "storage backend error: {}", self.0)
    }
}

impl std::error::Error for StorageError {}

/// The embedder's storage: slot values (0 when never written), written back in batches.
pub trait Storage {
    /// The value of `slot`, 0 if it was never written.
    fn read(&self, slot: Slot) -> Result<i128, StorageError>;
    /// Stages a write; it takes effect at the next [`Storage::commit`].
    fn write(&mut self, slot: Slot, value: i128) -> Result<(), StorageError>;
    /// Makes the staged writes durable, all or none.
    fn commit(&mut self) -> Result<(), StorageError>;
}
