//! The per-block state cache over a [`Storage`] backend.

use super::{Slot, Storage, StorageError};
use hashbrown::{HashMap, HashSet};

/// Whether an access was the transaction's first to its slot (cold) or a repeat (warm).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// First access to the slot in this transaction.
    Cold,
    /// The transaction touched the slot before.
    Warm,
}

impl Access {
    /// Records `slot` in a transaction's set of touched slots: cold if it is new there.
    #[inline]
    pub fn record(warm: &mut HashSet<Slot>, slot: Slot) -> Access {
        if warm.insert(slot) {
            Access::Cold
        } else {
            Access::Warm
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    /// The value in storage when the block began.
    original: i128,
    /// The value now.
    current: i128,
}

/// Read-through cache of slot values for one block, with a journal per transaction.
///
/// Use: `begin_tx`, then reads and writes, then `commit_tx` or `revert_tx`; after the
/// block's transactions, `commit_block` writes the changed slots back (in slot order) and
/// commits the backend.
#[derive(Debug)]
pub struct StateCache<S> {
    storage: S,
    slots: HashMap<Slot, Entry>,
    journal: Vec<(Slot, i128)>,
    warm: HashSet<Slot>,
}

impl<S: Storage> StateCache<S> {
    /// A cache over `storage`, empty.
    pub fn new(storage: S) -> Self {
        StateCache {
            storage,
            slots: HashMap::new(),
            journal: Vec::new(),
            warm: HashSet::new(),
        }
    }

    /// Starts a transaction: empties the journal and the warm set.
    pub fn begin_tx(&mut self) {
        self.journal.clear();
        self.warm.clear();
    }

    /// Records an access to `slot` by the current transaction: cold the first time.
    pub fn touch(&mut self, slot: Slot) -> Access {
        Access::record(&mut self.warm, slot)
    }

    fn entry(&mut self, slot: Slot) -> Result<&mut Entry, StorageError> {
        match self.slots.entry(slot) {
            hashbrown::hash_map::Entry::Occupied(e) => Ok(e.into_mut()),
            hashbrown::hash_map::Entry::Vacant(e) => {
                let v = self.storage.read(slot)?;
                Ok(e.insert(Entry {
                    original: v,
                    current: v,
                }))
            }
        }
    }

    /// The slot's current value (fetched from storage on the block's first access).
    pub fn read(&mut self, slot: Slot) -> Result<i128, StorageError> {
        Ok(self.entry(slot)?.current)
    }

    /// Sets the slot, journaling the previous value.
    pub fn write(&mut self, slot: Slot, value: i128) -> Result<(), StorageError> {
        let entry = self.entry(slot)?;
        let previous = entry.current;
        entry.current = value;
        self.journal.push((slot, previous));
        Ok(())
    }

    /// Sets the slot outside any transaction (no journal, no warmth): for an executor
    /// applying writes it has already validated, such as the parallel one's commit.
    pub fn put(&mut self, slot: Slot, value: i128) -> Result<(), StorageError> {
        self.put_with(slot, |_| value)
    }

    /// Sets the slot like [`StateCache::put`], given the value storage holds for it
    /// (`original`, which the caller read through [`StateCache::peek`]): a slot the cache
    /// does not hold yet is not read from storage again.
    pub fn put_known(&mut self, slot: Slot, original: i128, value: i128) {
        self.slots
            .entry(slot)
            .or_insert(Entry {
                original,
                current: original,
            })
            .current = value;
    }

    /// Adds `delta` to the slot (wrapping: the caller has validated the add), like
    /// [`StateCache::put`].
    pub fn put_add(&mut self, slot: Slot, delta: i128) -> Result<(), StorageError> {
        self.put_with(slot, |v| v.wrapping_add(delta))
    }

    fn put_with(&mut self, slot: Slot, f: impl FnOnce(i128) -> i128) -> Result<(), StorageError> {
        let entry = self.entry(slot)?;
        entry.current = f(entry.current);
        Ok(())
    }

    /// Makes room for `additional` more slots.
    pub fn reserve(&mut self, additional: usize) {
        self.slots.reserve(additional);
    }

    /// A journal position to return to with [`StateCache::revert_to`].
    pub fn checkpoint(&self) -> usize {
        self.journal.len()
    }

    /// Undoes every write since `checkpoint`, newest first.
    pub fn revert_to(&mut self, checkpoint: usize) {
        while self.journal.len() > checkpoint {
            if let Some((slot, previous)) = self.journal.pop() {
                if let Some(e) = self.slots.get_mut(&slot) {
                    e.current = previous;
                }
            }
        }
    }

    /// Keeps the transaction's writes.
    pub fn commit_tx(&mut self) {
        self.journal.clear();
    }

    /// Discards the transaction's writes.
    pub fn revert_tx(&mut self) {
        self.revert_to(0);
    }

    /// The slot's current value, without counting as an access (for inspection).
    pub fn peek(&self, slot: Slot) -> Result<i128, StorageError> {
        match self.slots.get(&slot) {
            Some(e) => Ok(e.current),
            None => self.storage.read(slot),
        }
    }

    /// Writes every changed slot back to storage, in slot order, and commits it.
    pub fn commit_block(&mut self) -> Result<(), StorageError> {
        let mut dirty: Vec<(Slot, i128)> = self
            .slots
            .iter()
            .filter(|(_, e)| e.current != e.original)
            .map(|(s, e)| (*s, e.current))
            .collect();
        dirty.sort_unstable_by_key(|(s, _)| *s);
        for &(slot, value) in &dirty {
            self.storage.write(slot, value)?;
        }
        self.storage.commit()?;
        for e in self.slots.values_mut() {
            e.original = e.current;
        }
        self.journal.clear();
        Ok(())
    }

    /// The backend.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The backend, to stage what the embedder commits with the block (see
    /// [`super::RedbStorage::stage_blob`]).
    pub fn storage_mut(&mut self) -> &mut S {
        &mut self.storage
    }

    /// Gives the backend back (uncommitted changes are dropped).
    pub fn into_storage(self) -> S {
        self.storage
    }
}

#[cfg(test)]
mod tests {
    use super::super::MemoryStorage;
    use super::*;

    const A: Slot = Slot {
        contract: 1,
        space: 0,
        key: 7,
    };
    const B: Slot = Slot {
        contract: 2,
        space: 0,
        key: 7,
    };

    #[test]
    fn journal_reverts_exactly_and_warmth_is_per_transaction() {
        let mut c = StateCache::new(MemoryStorage::new());
        c.begin_tx();
        assert_eq!(c.touch(A), Access::Cold);
        c.write(A, 5).unwrap();
        assert_eq!(c.touch(A), Access::Warm);
        assert_eq!(c.read(A).unwrap(), 5);
        c.commit_tx();
        c.begin_tx();
        assert_eq!(c.touch(A), Access::Cold, "warmth resets per transaction");
        c.write(A, 9).unwrap();
        let cp = c.checkpoint();
        c.write(B, 3).unwrap();
        c.write(A, 11).unwrap();
        c.revert_to(cp);
        assert_eq!((c.peek(A).unwrap(), c.peek(B).unwrap()), (9, 0));
        c.revert_tx();
        assert_eq!(c.peek(A).unwrap(), 5);
        c.commit_block().unwrap();
        assert_eq!(c.storage().entries(), vec![(A, 5)]);
    }
}
