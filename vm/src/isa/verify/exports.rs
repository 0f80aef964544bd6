//! Pass 2, names and the module's tables. Guarantees: every export and event name is an
//! identifier, and so is every import's interface and function name; every export names an existing function with a signature of its arity, and
//! export names are unique and non-empty; every debug entry points at a real instruction.
//! Returns the export index the engine looks names up in.

use super::error::{VerifyError, VerifyErrorKind};
use crate::isa::Module;
use hashbrown::HashMap;

/// Is `name` an identifier: `[A-Za-z_][A-Za-z0-9_]*`?
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks names, exports and debug entries; returns export name -> index into `exports`.
pub(super) fn check(module: &Module) -> Result<HashMap<String, usize>, VerifyError> {
    for name in module.exports.iter().map(|e| &e.name).chain(&module.events) {
        if !is_identifier(name) {
            return Err(VerifyError::module(VerifyErrorKind::BadName(name.clone())));
        }
    }
    let mut exports = HashMap::new();
    for (k, e) in module.exports.iter().enumerate() {
        let ok = !e.name.is_empty()
            && module.functions.get(e.function as usize).is_some_and(|f| {
                f.params as usize == e.params.len() && f.returns as usize == e.returns.len()
            });
        if !ok {
            return Err(VerifyError::module(VerifyErrorKind::BadExport(
                e.name.clone(),
            )));
        }
        if exports.insert(e.name.clone(), k).is_some() {
            return Err(VerifyError::module(VerifyErrorKind::DuplicateExport(
                e.name.clone(),
            )));
        }
    }
    for i in &module.imports {
        if !is_identifier(&i.name) || !is_identifier(&i.interface) {
            return Err(VerifyError::module(VerifyErrorKind::BadImport(
                i.name.clone(),
            )));
        }
    }
    for d in &module.debug {
        let ok = module
            .functions
            .get(d.function as usize)
            .is_some_and(|f| (d.pc as usize) < f.code.len());
        if !ok {
            return Err(VerifyError::module(VerifyErrorKind::BadDebugEntry));
        }
    }
    Ok(exports)
}
