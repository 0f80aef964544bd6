//! Pass 4, operands. Guarantees, for every instruction of a function, by the roles the
//! opcode table gives its fields: every register operand (read, written, a key, MULDIV's
//! r[d]) is below the function's register count, and so is every window `r[a..a+n]`
//! (CALL's, NATIVE's, RET's, EMIT's; `a` itself even when `n` is 0); every constant, event,
//! function and array index exists; every CALL passes exactly the callee's parameter count
//! and receives exactly its return count; every RET returns exactly the function's return
//! count; every XCALL names an import and passes its address and
//! exactly its parameter count, receiving exactly its return count; every NATIVE names a native of the table (a test-only one only under
//! `Limits::allow_test_natives`) with an argument and result count it takes; every EMIT
//! carries at most `Limits::max_event_values` values. Jump targets are the CFG pass's.

use super::error::VerifyErrorKind;
use crate::isa::{Effect, Function, Instr, Limits, Module, Role};
use crate::native::Native;

/// Checks every operand of `f`; the error comes with its instruction's index.
pub(super) fn check(
    module: &Module,
    f: &Function,
    limits: &Limits,
) -> Result<(), (usize, VerifyErrorKind)> {
    for (pc, &instr) in f.code.iter().enumerate() {
        instruction(module, f, limits, instr).map_err(|kind| (pc, kind))?;
    }
    Ok(())
}

fn instruction(
    module: &Module,
    f: &Function,
    limits: &Limits,
    instr: Instr,
) -> Result<(), VerifyErrorKind> {
    let regs = u32::from(f.registers);
    let register = |r: u32| {
        if r < regs {
            Ok(())
        } else {
            Err(VerifyErrorKind::RegisterOutOfRange(r))
        }
    };
    let roles = instr.op.operands();
    for (role, value) in [
        (roles.a, instr.a),
        (roles.b, instr.b),
        (roles.c, instr.c),
        (roles.imm, instr.d()),
    ] {
        if matches!(role, Role::Read | Role::Write | Role::Key) {
            register(u32::from(value))?;
        }
    }
    let imm = instr.imm as u32;
    let args = instr.field(Role::Args).unwrap_or(0) as u8;
    let results = instr.field(Role::Results).unwrap_or(0) as u8;
    match roles.imm {
        Role::Const if imm as usize >= module.constants.len() => {
            return Err(VerifyErrorKind::ConstantOutOfRange(imm));
        }
        Role::Array if imm as usize >= f.arrays.len() => {
            return Err(VerifyErrorKind::ArrayOutOfRange(imm));
        }
        Role::Function => {
            let callee = module
                .functions
                .get(imm as usize)
                .ok_or(VerifyErrorKind::FunctionOutOfRange(imm))?;
            if callee.params != args || callee.returns != results {
                return Err(VerifyErrorKind::CallArity { callee: imm });
            }
        }
        Role::Native => {
            let native = Native::from_id(imm)
                .filter(|n| limits.allow_test_natives || !n.info().test_only)
                .ok_or(VerifyErrorKind::UnknownNative(imm))?;
            if !native.accepts(args) || native.info().results != results {
                return Err(VerifyErrorKind::NativeArity(imm));
            }
        }
        Role::Import => {
            let import = module
                .imports
                .get(imm as usize)
                .ok_or(VerifyErrorKind::ImportOutOfRange(imm))?;
            if import.params.len() + 1 != usize::from(args)
                || import.returns.len() != usize::from(results)
            {
                return Err(VerifyErrorKind::ImportArity(imm));
            }
        }
        Role::Event => {
            if imm as usize >= module.events.len() {
                return Err(VerifyErrorKind::EventOutOfRange(imm));
            }
            if u32::from(args) > limits.max_event_values {
                return Err(VerifyErrorKind::TooManyEventValues(args));
            }
        }
        _ => {}
    }
    if matches!(instr.op.info().effect, Effect::Return) && args != f.returns {
        return Err(VerifyErrorKind::ReturnArity);
    }
    if roles.a == Role::Window {
        // r[a .. a + n]: a is a register even when n = 0, and the range ends inside.
        let (a, n) = (u32::from(instr.a), u32::from(args.max(results)));
        if a >= regs || a + n > regs {
            return Err(VerifyErrorKind::RegisterOutOfRange((a + n).max(a + 1) - 1));
        }
    }
    Ok(())
}
