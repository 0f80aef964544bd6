//! The context compiled code runs with: the shared [`Runtime`] first, then what only the
//! JIT needs. Compiled code reads and writes the fields below at the offsets `OFF_*`,
//! computed from the layout itself, and nothing else of it.

use crate::runtime::{Runtime, Stop};
use crate::state::TxState;
use std::mem::offset_of;

/// What compiled functions and helpers receive as their first argument.
#[repr(C)]
pub(crate) struct Ctx<'a> {
    /// The run's context, the one both engines use: gas, environment, storage, events,
    /// array memory. Helpers call its methods; compiled code reads and writes its gas and
    /// reads its environment in place.
    pub rt: Runtime<'a, dyn TxState + 'a>,
    /// Frames on the call stack, the entry included.
    pub depth: u32,
    /// `Limits::max_call_depth`.
    pub max_depth: u32,
    /// A helper's result, as (low, high) 64-bit halves.
    pub tmp: [u64; 2],
    /// The elements of the runtime's array memory (moved only by the `enter_arrays` helper,
    /// after which compiled code reloads it).
    pub mem: *mut i128,
    /// Elements of memory in use: the end of the innermost frame's arrays.
    pub mem_top: u64,
    /// Why execution stopped, once a helper has recorded it.
    pub stop: Option<Stop>,
}

type Static = Ctx<'static>;

pub(crate) const OFF_GAS: i32 =
    (offset_of!(Static, rt) + offset_of!(Runtime<'static, dyn TxState>, gas_left)) as i32;
pub(crate) const OFF_ENV: i32 =
    (offset_of!(Static, rt) + offset_of!(Runtime<'static, dyn TxState>, env)) as i32;
pub(crate) const OFF_CALLER: i32 = OFF_ENV + offset_of!(crate::runtime::Env, caller) as i32;
pub(crate) const OFF_CONTRACT: i32 = OFF_ENV + offset_of!(crate::runtime::Env, contract) as i32;
pub(crate) const OFF_NUMBER: i32 = OFF_ENV + offset_of!(crate::runtime::Env, number) as i32;
pub(crate) const OFF_TIMESTAMP: i32 = OFF_ENV + offset_of!(crate::runtime::Env, timestamp) as i32;
pub(crate) const OFF_DEPTH: i32 = offset_of!(Static, depth) as i32;
pub(crate) const OFF_MAX_DEPTH: i32 = offset_of!(Static, max_depth) as i32;
pub(crate) const OFF_TMP: i32 = offset_of!(Static, tmp) as i32;
pub(crate) const OFF_MEM: i32 = offset_of!(Static, mem) as i32;
pub(crate) const OFF_MEM_TOP: i32 = offset_of!(Static, mem_top) as i32;

impl Ctx<'_> {
    /// Records a helper's outcome: a value to `tmp` (status 0), or why execution stops
    /// (status 1).
    #[inline(always)]
    pub fn finish(&mut self, r: Result<i128, Stop>) -> u32 {
        match r {
            Ok(v) => {
                self.tmp = [v as u64, (v >> 64) as u64];
                0
            }
            Err(stop) => {
                self.stop = Some(stop);
                1
            }
        }
    }
}
