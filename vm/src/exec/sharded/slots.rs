//! [`Slots`]: a slice that several threads fill, each element at most once, with no
//! shuffling afterwards. The owner-sharded executor writes each receipt straight to its
//! block position from whichever thread ran it: collecting them per thread and reordering
//! them cost two more passes over every receipt, which cachegrind showed to be the
//! executor's largest source of cache misses.
//!
//! Safety does not rest on the caller: every index has a claim flag, swapped atomically
//! before the write, so two writes to one index are impossible (the second is refused),
//! whatever the caller does.
#![allow(unsafe_code)]

use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};

/// Write-once access to the elements of a slice, shared between threads.
pub struct Slots<'a, T> {
    ptr: *mut T,
    claimed: Vec<AtomicBool>,
    _slice: PhantomData<&'a mut [T]>,
}

// SAFETY: `Slots` only moves `T` values into the slice (from any thread, hence `T: Send`);
// it never hands out references to elements, and two threads never write one element
// (the claim flags), so sharing `&Slots` is sound.
unsafe impl<T: Send> Sync for Slots<'_, T> {}
// SAFETY: as above; the exclusive borrow of the slice moves with it.
unsafe impl<T: Send> Send for Slots<'_, T> {}

impl<'a, T> Slots<'a, T> {
    /// Write access to the elements of `slice`, none written yet.
    pub fn new(slice: &'a mut [T]) -> Self {
        Slots {
            ptr: slice.as_mut_ptr(),
            claimed: (0..slice.len()).map(|_| AtomicBool::new(false)).collect(),
            _slice: PhantomData,
        }
    }

    /// Replaces element `index` with `value`, unless it was written already or is out of
    /// range (then `value` comes back).
    pub fn put(&self, index: usize, value: T) -> Result<(), T> {
        let Some(flag) = self.claimed.get(index) else {
            return Err(value);
        };
        if flag.swap(true, Ordering::AcqRel) {
            return Err(value);
        }
        // SAFETY: `index` is in bounds (it has a flag, one per element); this thread
        // alone won its flag, so no other write to the element happens, before or after;
        // the slice is exclusively borrowed for `'a`, so nothing reads it meanwhile. The
        // old value is dropped here, on the writing thread.
        unsafe {
            drop(std::ptr::replace(self.ptr.add(index), value));
        }
        Ok(())
    }

    /// Whether every element was written.
    pub fn all_written(&self) -> bool {
        self.claimed.iter().all(|f| f.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_element_is_written_once_from_any_thread() {
        let mut v = vec![0u64; 1000];
        {
            let slots = Slots::new(&mut v);
            std::thread::scope(|s| {
                for t in 0..4u64 {
                    let slots = &slots;
                    s.spawn(move || {
                        for i in (t as usize..1000).step_by(4) {
                            assert!(slots.put(i, i as u64 * 10 + t).is_ok());
                        }
                    });
                }
            });
            assert!(slots.all_written());
            assert_eq!(slots.put(3, 7), Err(7), "a second write is refused");
            assert_eq!(slots.put(1000, 7), Err(7), "out of range is refused");
        }
        assert!(v
            .iter()
            .enumerate()
            .all(|(i, &x)| x == i as u64 * 10 + (i as u64 % 4)));
    }
}
