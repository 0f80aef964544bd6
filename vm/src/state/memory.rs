//! An in-memory [`Storage`] backend, for tests, the CLI and embedders that keep state
//! themselves.

use super::{Slot, Storage, StorageError};
use hashbrown::HashMap;

/// Storage held in memory. Writes are staged and applied together by `commit`.
#[derive(Clone, Debug, Default)]
pub struct MemoryStorage {
    committed: HashMap<Slot, i128>,
    staged: Vec<(Slot, i128)>,
}

impl MemoryStorage {
    /// Empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every committed non-zero slot, sorted, for inspection and tests.
    pub fn entries(&self) -> Vec<(Slot, i128)> {
        let mut v: Vec<_> = self
            .committed
            .iter()
            .filter(|(_, v)| **v != 0)
            .map(|(s, v)| (*s, *v))
            .collect();
        v.sort();
        v
    }
}

impl Storage for MemoryStorage {
    fn read(&self, slot: Slot) -> Result<i128, StorageError> {
        Ok(self.committed.get(&slot).copied().unwrap_or(0))
    }

    fn write(&mut self, slot: Slot, value: i128) -> Result<(), StorageError> {
        self.staged.push((slot, value));
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StorageError> {
        for (slot, value) in self.staged.drain(..) {
            if value == 0 {
                self.committed.remove(&slot);
            } else {
                self.committed.insert(slot, value);
            }
        }
        Ok(())
    }
}
