//! Pass 1, sizes. Guarantees: the module is within every size limit that decoding enforces
//! (functions, instructions per function, constants, exports, events, debug entries, name
//! length, bytes of code and constants), so a module built through the Rust API gets the
//! same bounds as one decoded from bytes.

use super::error::VerifyError;
use crate::isa::{Limits, Module, WORD};

fn at_most(what: &'static str, count: usize, limit: u32) -> Result<(), VerifyError> {
    let limit = limit as usize;
    if count > limit {
        return Err(VerifyError::over(what, count, limit));
    }
    Ok(())
}

/// Checks every module-wide size against `limits`.
pub(super) fn check(module: &Module, limits: &Limits) -> Result<(), VerifyError> {
    at_most("functions", module.functions.len(), limits.max_functions)?;
    at_most("constants", module.constants.len(), limits.max_constants)?;
    at_most("exports", module.exports.len(), limits.max_exports)?;
    at_most("events", module.events.len(), limits.max_events)?;
    at_most(
        "debug entries",
        module.debug.len(),
        limits.max_debug_entries,
    )?;
    for f in &module.functions {
        at_most("instructions", f.code.len(), limits.max_code_len)?;
    }
    for name in module.exports.iter().map(|e| &e.name).chain(&module.events) {
        at_most("name bytes", name.len(), limits.max_name_len)?;
    }
    // What the module's encoding takes at least (8 bytes per instruction, 16 per constant):
    // a module built in Rust gets the bound a decoded one has from `max_module_bytes`.
    let instructions: usize = module.functions.iter().map(|f| f.code.len()).sum();
    let least = instructions
        .saturating_mul(WORD)
        .saturating_add(module.constants.len().saturating_mul(16));
    let limit = limits.max_module_bytes;
    if least > limit {
        return Err(VerifyError::over(
            "bytes of code and constants",
            least,
            limit,
        ));
    }
    Ok(())
}
