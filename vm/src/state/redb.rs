//! [`RedbStorage`]: contract storage persisted in a redb database (embedded, ACID, pure
//! Rust), with named blobs beside it for what an embedder must commit together with the
//! state (deployed code, chain metadata).
//!
//! Guarantees: writes are staged in memory and [`Storage::commit`] applies all of them,
//! slots and blobs, in one redb write transaction with immediate durability, so after a
//! crash or a `kill -9` at any moment the file holds the state from before the commit or
//! from after it, never a mix. A zero value deletes its slot (absent and zero are the same
//! state). Reads see committed data only.
//!
//! A state file is untrusted input, and redb panics on some corrupt files instead of
//! returning an error (found by `compiler/tests/chain.rs`, which flips bits in a state
//! file). Every call into redb therefore runs under [`guarded`]: such a panic becomes a
//! [`StorageError`] naming the file as corrupt, and the storage refuses every later call,
//! since redb's own state may be inconsistent after it. [`in_backend_call`] lets a
//! process's panic hook stay quiet for those panics (the `strike` CLI installs one).

use super::{Slot, Storage, StorageError};
use redb::{Database, TableDefinition};
use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

thread_local! {
    static IN_BACKEND: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is inside a guarded redb call: a panic now will be caught and
/// returned as a [`StorageError`], so a panic hook need not report it.
pub fn in_backend_call() -> bool {
    IN_BACKEND.with(Cell::get)
}

/// Runs `f` (calls into redb), turning a panic into an error and poisoning `poisoned`.
fn guarded<T>(
    poisoned: &AtomicBool,
    f: impl FnOnce() -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    if poisoned.load(Ordering::SeqCst) {
        return Err(StorageError(
            "the state file is corrupt (an earlier read of it failed)".to_string(),
        ));
    }
    let outer = IN_BACKEND.with(|c| c.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    IN_BACKEND.with(|c| c.set(outer));
    result.unwrap_or_else(|payload| {
        poisoned.store(true, Ordering::SeqCst);
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(StorageError(format!(
            "the state file is corrupt: redb failed reading it ({why})"
        )))
    })
}

/// Slot key: contract (16 bytes), space (4), key (16), all big-endian, so the table's
/// order is [`Slot`]'s order. Value: the i128, little-endian.
const SLOTS: TableDefinition<[u8; 36], [u8; 16]> = TableDefinition::new("slots");
/// Named blobs for the embedder.
const BLOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("blobs");

fn err(what: &str, e: impl std::fmt::Display) -> StorageError {
    StorageError(format!("{what}: {e}"))
}

fn slot_key(slot: Slot) -> [u8; 36] {
    let mut k = [0u8; 36];
    k[..16].copy_from_slice(&slot.contract.to_be_bytes());
    k[16..20].copy_from_slice(&slot.space.to_be_bytes());
    k[20..].copy_from_slice(&slot.key.to_be_bytes());
    k
}

fn slot_of(k: &[u8; 36]) -> Slot {
    let mut contract = [0u8; 16];
    let mut space = [0u8; 4];
    let mut key = [0u8; 16];
    contract.copy_from_slice(&k[..16]);
    space.copy_from_slice(&k[16..20]);
    key.copy_from_slice(&k[20..]);
    Slot {
        contract: u128::from_be_bytes(contract),
        space: u32::from_be_bytes(space),
        key: u128::from_be_bytes(key),
    }
}

/// Storage in a redb file.
pub struct RedbStorage {
    db: Database,
    /// Set once redb panicked on this file: every later call fails.
    poisoned: AtomicBool,
    staged: Vec<(Slot, i128)>,
    staged_blobs: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for RedbStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStorage")
            .field("staged", &self.staged.len())
            .field("staged_blobs", &self.staged_blobs.len())
            .finish()
    }
}

impl RedbStorage {
    /// Opens the database at `path`, creating it if the file does not exist. Fails with a
    /// clear error if another process holds it open or the file is not a redb database.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let fresh = AtomicBool::new(false);
        let db = guarded(&fresh, || {
            let db = Database::create(path).map_err(|e| StorageError(e.to_string()))?;
            // Create the tables once, so readers never meet a missing table.
            let tx = db.begin_write().map_err(|e| err("begin write", e))?;
            tx.open_table(SLOTS).map_err(|e| err("open slots", e))?;
            tx.open_table(BLOBS).map_err(|e| err("open blobs", e))?;
            tx.commit().map_err(|e| err("commit", e))?;
            Ok(db)
        })
        .map_err(|e| StorageError(format!("{}: {}", path.display(), e.0)))?;
        Ok(RedbStorage {
            db,
            poisoned: AtomicBool::new(false),
            staged: Vec::new(),
            staged_blobs: Vec::new(),
        })
    }

    /// The committed blob `name`, if any.
    pub fn blob(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        guarded(&self.poisoned, || {
            let tx = self.db.begin_read().map_err(|e| err("begin read", e))?;
            let table = tx.open_table(BLOBS).map_err(|e| err("open blobs", e))?;
            let value = table.get(name).map_err(|e| err("read blob", e))?;
            Ok(value.map(|v| v.value().to_vec()))
        })
    }

    /// Every committed blob whose name starts with `prefix`, in name order.
    pub fn blobs(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        guarded(&self.poisoned, || self.blobs_unguarded(prefix))
    }

    fn blobs_unguarded(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let tx = self.db.begin_read().map_err(|e| err("begin read", e))?;
        let table = tx.open_table(BLOBS).map_err(|e| err("open blobs", e))?;
        let mut out = Vec::new();
        for item in table.range(prefix..).map_err(|e| err("read blobs", e))? {
            let (k, v) = item.map_err(|e| err("read blobs", e))?;
            if !k.value().starts_with(prefix) {
                break;
            }
            out.push((k.value().to_string(), v.value().to_vec()));
        }
        Ok(out)
    }

    /// Stages blob `name` = `value` for the next commit.
    pub fn stage_blob(&mut self, name: &str, value: Vec<u8>) {
        self.staged_blobs.push((name.to_string(), value));
    }

    /// Every committed slot of `contract` (all contracts if `None`), in slot order.
    pub fn entries(&self, contract: Option<u128>) -> Result<Vec<(Slot, i128)>, StorageError> {
        guarded(&self.poisoned, || self.entries_unguarded(contract))
    }

    fn entries_unguarded(&self, contract: Option<u128>) -> Result<Vec<(Slot, i128)>, StorageError> {
        let tx = self.db.begin_read().map_err(|e| err("begin read", e))?;
        let table = tx.open_table(SLOTS).map_err(|e| err("open slots", e))?;
        let (lo, hi) = match contract {
            Some(c) => {
                let lo = slot_key(Slot {
                    contract: c,
                    space: 0,
                    key: 0,
                });
                let hi = slot_key(Slot {
                    contract: c,
                    space: u32::MAX,
                    key: u128::MAX,
                });
                (lo, hi)
            }
            None => ([0u8; 36], [0xffu8; 36]),
        };
        let mut out = Vec::new();
        for item in table.range(lo..=hi).map_err(|e| err("read slots", e))? {
            let (k, v) = item.map_err(|e| err("read slots", e))?;
            out.push((slot_of(&k.value()), i128::from_le_bytes(v.value())));
        }
        Ok(out)
    }
}

impl Storage for RedbStorage {
    fn read(&self, slot: Slot) -> Result<i128, StorageError> {
        guarded(&self.poisoned, || {
            let tx = self.db.begin_read().map_err(|e| err("begin read", e))?;
            let table = tx.open_table(SLOTS).map_err(|e| err("open slots", e))?;
            let value = table.get(slot_key(slot)).map_err(|e| err("read slot", e))?;
            Ok(value.map_or(0, |v| i128::from_le_bytes(v.value())))
        })
    }

    fn write(&mut self, slot: Slot, value: i128) -> Result<(), StorageError> {
        self.staged.push((slot, value));
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StorageError> {
        guarded(&self.poisoned, || self.commit_unguarded())?;
        self.staged.clear();
        self.staged_blobs.clear();
        Ok(())
    }
}

impl RedbStorage {
    fn commit_unguarded(&self) -> Result<(), StorageError> {
        let tx = self.db.begin_write().map_err(|e| err("begin write", e))?;
        {
            let mut slots = tx.open_table(SLOTS).map_err(|e| err("open slots", e))?;
            for &(slot, value) in &self.staged {
                let key = slot_key(slot);
                if value == 0 {
                    slots.remove(key).map_err(|e| err("delete slot", e))?;
                } else {
                    slots
                        .insert(key, value.to_le_bytes())
                        .map_err(|e| err("write slot", e))?;
                }
            }
            let mut blobs = tx.open_table(BLOBS).map_err(|e| err("open blobs", e))?;
            for (name, value) in &self.staged_blobs {
                blobs
                    .insert(name.as_str(), value.as_slice())
                    .map_err(|e| err("write blob", e))?;
            }
        }
        // Dropping an uncommitted transaction aborts it: a failure here changes nothing.
        tx.commit().map_err(|e| err("commit", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_persist_across_reopen_and_zero_deletes() {
        let dir = std::env::temp_dir().join(format!("strike-redb-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.redb");
        let a = Slot {
            contract: 5,
            space: 1,
            key: u128::MAX,
        };
        let b = Slot {
            contract: 6,
            space: 0,
            key: 0,
        };
        {
            let mut s = RedbStorage::open(&path).unwrap();
            s.write(a, -7).unwrap();
            s.write(b, 9).unwrap();
            s.stage_blob("code/5", vec![1, 2, 3]);
            assert_eq!(s.read(a).unwrap(), 0, "staged writes are not visible");
            s.commit().unwrap();
            s.write(b, 0).unwrap();
            s.commit().unwrap();
        }
        let s = RedbStorage::open(&path).unwrap();
        assert_eq!(s.read(a).unwrap(), -7);
        assert_eq!(s.read(b).unwrap(), 0);
        assert_eq!(s.entries(None).unwrap(), vec![(a, -7)]);
        assert_eq!(s.entries(Some(6)).unwrap(), vec![]);
        assert_eq!(s.blob("code/5").unwrap(), Some(vec![1, 2, 3]));
        assert_eq!(s.blobs("code/").unwrap().len(), 1);
        assert_eq!(s.blob("code/6").unwrap(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
