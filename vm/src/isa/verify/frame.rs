//! Pass 3, each function's frame. Guarantees: the function has at least one instruction;
//! its register count is in 1..=256 and holds its parameters; its arrays are non-empty,
//! at most `Limits::max_arrays` and hold at most `Limits::max_array_words` elements in all.
//! Returns where each array starts in the frame's memory, then the frame's total.

use super::error::VerifyErrorKind;
use crate::isa::{Function, Limits};

/// Checks `f`'s header; returns its array offsets (one more entry than arrays: the total).
pub(super) fn check(f: &Function, limits: &Limits) -> Result<Vec<u32>, VerifyErrorKind> {
    if f.code.is_empty() {
        return Err(VerifyErrorKind::EmptyFunction);
    }
    if f.registers == 0 || f.registers > 256 {
        return Err(VerifyErrorKind::BadRegisterCount(f.registers));
    }
    if u16::from(f.params) > f.registers {
        return Err(VerifyErrorKind::ParamsExceedRegisters);
    }
    let words: u64 = f.arrays.iter().map(|&n| u64::from(n)).sum();
    if f.arrays.len() > limits.max_arrays as usize
        || f.arrays.contains(&0)
        || words > u64::from(limits.max_array_words)
    {
        return Err(VerifyErrorKind::BadArrays);
    }
    let mut offsets = Vec::with_capacity(f.arrays.len() + 1);
    let mut total = 0u32;
    offsets.push(0);
    for &n in &f.arrays {
        total += n; // at most max_array_words (a u32), checked above
        offsets.push(total);
    }
    Ok(offsets)
}
