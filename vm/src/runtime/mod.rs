//! The runtime: what both engines share. A run's context ([`Runtime`]: gas, environment,
//! storage, events, natives, array memory, limits), the dynamic gas rules ([`gas`]), and
//! what a run takes and produces ([`Call`], [`BlockEnv`], [`Execution`], [`Halt`],
//! [`Event`], [`VmError`], [`Stop`]).
//!
//! Every effect is written here once. The interpreter (`crate::interp`) and the JIT's
//! helpers (`crate::jit`) call it; neither re-implements a charge, a limit or a write, so
//! the engines agree on results, errors and gas by construction, and the differential
//! tests check the rest (what the JIT inlines).

mod calls;
mod context;
pub mod gas;
pub mod hooks;
mod outcome;

pub use calls::CallSite;
pub(crate) use calls::{Host, Shared};
#[cfg(feature = "jit")]
pub(crate) use context::index_out_of_bounds;
pub use context::Env;
pub(crate) use context::{element, finish, Runtime};
pub use outcome::{BlockEnv, Call, Event, Execution, Halt, SignatureMismatch, Stop, VmError};

use crate::isa::VerifiedModule;

/// The entry function's index and arity against the call. Every engine checks this first,
/// so a `Call` from an embedder that names no function is an error, never an index panic.
#[inline]
pub(crate) fn check_arguments(module: &VerifiedModule, call: &Call<'_>) -> Result<(), VmError> {
    let Some(function) = module.module().functions.get(call.function) else {
        return Err(VmError::UnknownFunction(format!(
            "function index {}",
            call.function
        )));
    };
    let params = function.params as usize;
    if call.args.len() != params {
        return Err(VmError::ArgumentCount {
            expected: params,
            given: call.args.len(),
        });
    }
    Ok(())
}
