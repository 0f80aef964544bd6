//! The functions compiled code calls: the `crate::math` kernels, storage, events and the
//! ways execution stops. Each takes the context first, never panics, and returns 0 to go
//! on or 1 after recording why execution stops (its result, if any, goes to `ctx.tmp`).

use super::{signature, Ctx};
use crate::interp::{add_result, gas, Event, VmError};
use crate::isa::{Limits, Opcode, VerifiedModule};
use crate::math::{self, Fx, MathError};
use crate::state::{Access, Slot, TxState};
use cranelift_codegen::ir::{types, FuncRef, Function};
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Linkage, Module as _};

/// Why execution stopped.
pub(crate) enum Stop {
    Revert(u32),
    Error(VmError),
}

/// What the helpers reach through `Ctx::host`.
pub(crate) struct Host<'a> {
    pub state: &'a mut dyn TxState,
    pub module: &'a VerifiedModule,
    pub limits: &'a Limits,
    /// The arrays of every frame on the stack; `Ctx::mem` points at its elements.
    pub memory: Vec<i128>,
    pub events: Vec<Event>,
    /// Storage writes so far (see `Limits::max_storage_writes_per_tx`).
    pub writes: u32,
    pub stop: Option<Stop>,
}

fn join(lo: u64, hi: u64) -> i128 {
    ((u128::from(hi) << 64) | u128::from(lo)) as i128
}

/// # Safety
/// `ctx` is the live context of the running compiled code.
unsafe fn parts<'c>(ctx: *mut Ctx) -> (&'c mut Ctx, &'c mut Host<'static>) {
    // SAFETY: the caller's guarantee; `host` points at the `Host` that `run` keeps alive.
    unsafe {
        let c = &mut *ctx;
        let h = &mut *c.host;
        (c, h)
    }
}

fn finish(ctx: &mut Ctx, host: &mut Host<'_>, r: Result<i128, VmError>) -> u32 {
    match r {
        Ok(v) => {
            ctx.tmp = [v as u64, (v >> 64) as u64];
            0
        }
        Err(e) => {
            host.stop = Some(Stop::Error(e));
            1
        }
    }
}

fn fx(bits: i128) -> Fx {
    Fx::from_bits(bits)
}

fn op(byte: u32) -> Option<Opcode> {
    u8::try_from(byte).ok().and_then(Opcode::from_byte)
}

/// One-operand math, by opcode byte.
extern "C" fn math1(ctx: *mut Ctx, code: u32, lo: u64, hi: u64) -> u32 {
    // SAFETY: called only by compiled code with its context.
    let (c, h) = unsafe { parts(ctx) };
    let x = join(lo, hi);
    let r: Result<i128, MathError> = match op(code) {
        Some(Opcode::Exp) => math::exp(fx(x)).map(Fx::to_bits),
        Some(Opcode::Ln) => math::ln(fx(x)).map(Fx::to_bits),
        Some(Opcode::Sqrt) => math::sqrt(fx(x)).map(Fx::to_bits),
        Some(Opcode::Ncdf) => math::ncdf(fx(x)).map(Fx::to_bits),
        Some(Opcode::Npdf) => math::npdf(fx(x)).map(Fx::to_bits),
        Some(Opcode::InvNcdf) => math::inv_ncdf(fx(x)).map(Fx::to_bits),
        Some(Opcode::IntToFx) => x.checked_mul(1 << 64).ok_or(MathError::Overflow),
        _ => Err(MathError::Domain),
    };
    finish(c, h, r.map_err(VmError::Math))
}

/// Two-operand math, by opcode byte.
extern "C" fn math2(ctx: *mut Ctx, code: u32, xl: u64, xh: u64, yl: u64, yh: u64) -> u32 {
    // SAFETY: called only by compiled code with its context.
    let (c, h) = unsafe { parts(ctx) };
    let (x, y) = (join(xl, xh), join(yl, yh));
    let r: Result<i128, MathError> = match op(code) {
        Some(Opcode::IntMul) => x.checked_mul(y).ok_or(MathError::Overflow),
        Some(Opcode::IntDiv) | Some(Opcode::IntRem) if y == 0 => Err(MathError::DivisionByZero),
        Some(Opcode::IntDiv) => x.checked_div(y).ok_or(MathError::Overflow),
        Some(Opcode::IntRem) => x.checked_rem(y).ok_or(MathError::Overflow),
        Some(Opcode::Mul) | Some(Opcode::MulConst) => math::mul(fx(x), fx(y)).map(Fx::to_bits),
        Some(Opcode::MulDown) => math::mul_down(fx(x), fx(y)).map(Fx::to_bits),
        Some(Opcode::MulUp) => math::mul_up(fx(x), fx(y)).map(Fx::to_bits),
        Some(Opcode::Div) => math::div(fx(x), fx(y)).map(Fx::to_bits),
        Some(Opcode::DivDown) => math::div_down(fx(x), fx(y)).map(Fx::to_bits),
        Some(Opcode::DivUp) => math::div_up(fx(x), fx(y)).map(Fx::to_bits),
        Some(Opcode::Pow) => math::pow(fx(x), fx(y)).map(Fx::to_bits),
        _ => Err(MathError::Domain),
    };
    finish(c, h, r.map_err(VmError::Math))
}

/// mul_div in its three roundings, by opcode byte.
#[allow(clippy::too_many_arguments)]
extern "C" fn math3(
    ctx: *mut Ctx,
    code: u32,
    xl: u64,
    xh: u64,
    yl: u64,
    yh: u64,
    zl: u64,
    zh: u64,
) -> u32 {
    // SAFETY: called only by compiled code with its context.
    let (c, h) = unsafe { parts(ctx) };
    let (x, y, z) = (fx(join(xl, xh)), fx(join(yl, yh)), fx(join(zl, zh)));
    let r = match op(code) {
        Some(Opcode::MulDiv) => math::mul_div(x, y, z),
        Some(Opcode::MulDivDown) => math::mul_div_down(x, y, z),
        Some(Opcode::MulDivUp) => math::mul_div_up(x, y, z),
        _ => Err(MathError::Domain),
    };
    finish(c, h, r.map(Fx::to_bits).map_err(VmError::Math))
}

/// Charges `g` by the interpreter's rule.
fn charge(c: &mut Ctx, g: u64) -> Result<(), VmError> {
    crate::interp::charge(&mut c.gas_left, g)
}

fn slot(c: &Ctx, space: u32, key: i128) -> Slot {
    Slot {
        contract: (u128::from(c.contract[1]) << 64) | u128::from(c.contract[0]),
        space,
        key: key as u128,
    }
}

/// SLOAD: the interpreter's warm/cold charge, then the read.
extern "C" fn sload(ctx: *mut Ctx, space: u32, lo: u64, hi: u64) -> u32 {
    // SAFETY: called only by compiled code with its context.
    let (c, h) = unsafe { parts(ctx) };
    let s = slot(c, space, join(lo, hi));
    let cold = h.state.touch(s) == Access::Cold;
    let r = charge(
        c,
        if cold {
            gas::SLOAD_COLD
        } else {
            gas::SLOAD_WARM
        },
    )
    .and_then(|()| h.state.read(s).map_err(VmError::Storage));
    finish(c, h, r)
}

/// SSTORE (`mode` 0), SADD (1) or SADDCAP (2, with the cap in `ctx.tmp`, stored there
/// by the caller: the arguments are full).
extern "C" fn sstore(
    ctx: *mut Ctx,
    space: u32,
    mode: u32,
    kl: u64,
    kh: u64,
    vl: u64,
    vh: u64,
) -> u32 {
    // SAFETY: called only by compiled code with its context.
    let (c, h) = unsafe { parts(ctx) };
    let cap = join(c.tmp[0], c.tmp[1]);
    let s = slot(c, space, join(kl, kh));
    let v = join(vl, vh);
    let cold = h.state.touch(s) == Access::Cold;
    let r = charge(c, gas::STORE_BASE + if cold { gas::STORE_COLD } else { 0 }).and_then(|()| {
        crate::interp::count_write(&mut h.writes, h.limits)?;
        match mode {
            0 => h.state.write(s, v).map_err(VmError::Storage)?,
            1 => add_result(h.state.add(s, v, None).map_err(VmError::Storage)?, 0)?,
            _ => add_result(h.state.add(s, v, Some(cap)).map_err(VmError::Storage)?, cap)?,
        }
        Ok(0)
    });
    finish(c, h, r)
}

/// EMIT: the charge, then the event with `n` values read from `values`.
extern "C" fn emit(ctx: *mut Ctx, event: u32, values: *const i128, n: u32) -> u32 {
    // SAFETY: called only by compiled code with its context.
    let (c, h) = unsafe { parts(ctx) };
    let r = charge(c, gas::EMIT_BASE + gas::EMIT_PER_VALUE * u64::from(n)).and_then(|()| {
        crate::interp::check_event(h.events.len(), h.limits)?;
        // SAFETY: the compiled code stored `n` values at `values` (its own stack slot).
        let values = unsafe { std::slice::from_raw_parts(values, n as usize) }.to_vec();
        let name = h
            .module
            .module()
            .events
            .get(event as usize)
            .cloned()
            .unwrap_or_default();
        h.events.push(Event {
            contract: (u128::from(c.contract[1]) << 64) | u128::from(c.contract[0]),
            name,
            values,
        });
        Ok(0)
    });
    finish(c, h, r)
}

/// NATIVE: the interpreter's rule (`interp::native`) on the `n` arguments at `values`,
/// whose results overwrite them. The test natives change the caller and time in `ctx`,
/// where CALLER and TIME read them.
#[allow(
    clippy::indexing_slicing,
    reason = "`results` is the native's result count, at most 4, the length of `Results`"
)]
extern "C" fn native(ctx: *mut Ctx, id: u32, values: *mut i128, n: u32) -> u32 {
    // SAFETY: called only by compiled code with its context.
    let (c, h) = unsafe { parts(ctx) };
    // SAFETY: the compiled code's stack slot holds max(n, results) values at `values`.
    let args = unsafe { std::slice::from_raw_parts(values, n as usize) };
    let mut env = crate::native::Env {
        caller: join(c.caller[0], c.caller[1]) as u128,
        timestamp: c.timestamp,
    };
    let mut out = crate::native::Results::default();
    let r = crate::interp::native(id as i32, args, &mut out, &mut env, &mut c.gas_left);
    let r = r.map(|results| {
        // SAFETY: as above; the verifier bounds `results` by the slot's size.
        let slot = unsafe { std::slice::from_raw_parts_mut(values, results) };
        slot.copy_from_slice(&out[..results]);
        c.caller = [env.caller as u64, (env.caller >> 64) as u64];
        c.timestamp = env.timestamp;
        0
    });
    finish(c, h, r)
}

/// Entering a frame of `function`: the interpreter's array charge and memory limit, then
/// its arrays zeroed at the top of memory. `ctx.tmp` gets the frame's first element.
extern "C" fn enter_arrays(ctx: *mut Ctx, function: u32) -> u32 {
    // SAFETY: called only by compiled code with its context.
    let (c, h) = unsafe { parts(ctx) };
    let old = c.mem_top as usize;
    let r =
        crate::interp::enter_arrays(h.module, function as usize, old, &mut c.gas_left, h.limits)
            .map(|top| {
                h.memory.truncate(old);
                h.memory.resize(top, 0);
                c.mem = h.memory.as_mut_ptr();
                c.mem_top = top as u64;
                old as i128
            });
    finish(c, h, r)
}

/// ALOAD or ASTORE out of bounds.
extern "C" fn index_error(ctx: *mut Ctx, length: u32, lo: u64, hi: u64) -> u32 {
    // SAFETY: called only by compiled code with its context.
    let (_, h) = unsafe { parts(ctx) };
    h.stop = Some(Stop::Error(VmError::IndexOutOfBounds {
        index: join(lo, hi),
        length,
    }));
    1
}

extern "C" fn revert(ctx: *mut Ctx, code: u32) -> u32 {
    // SAFETY: called only by compiled code with its context.
    let (_, h) = unsafe { parts(ctx) };
    h.stop = Some(Stop::Revert(code));
    1
}

extern "C" fn math_error(ctx: *mut Ctx, code: u32) -> u32 {
    // SAFETY: called only by compiled code with its context.
    let (_, h) = unsafe { parts(ctx) };
    let e = if code == 2 {
        MathError::DivisionByZero
    } else {
        MathError::Overflow
    };
    h.stop = Some(Stop::Error(VmError::Math(e)));
    1
}

extern "C" fn out_of_gas(ctx: *mut Ctx) -> u32 {
    // SAFETY: called only by compiled code with its context.
    let (_, h) = unsafe { parts(ctx) };
    h.stop = Some(Stop::Error(VmError::OutOfGas));
    1
}

extern "C" fn call_depth(ctx: *mut Ctx) -> u32 {
    // SAFETY: called only by compiled code with its context.
    let (_, h) = unsafe { parts(ctx) };
    h.stop = Some(Stop::Error(VmError::CallDepth));
    1
}

type M1 = extern "C" fn(*mut Ctx, u32, u64, u64) -> u32;
type M2 = extern "C" fn(*mut Ctx, u32, u64, u64, u64, u64) -> u32;
type M3 = extern "C" fn(*mut Ctx, u32, u64, u64, u64, u64, u64, u64) -> u32;
type St = extern "C" fn(*mut Ctx, u32, u32, u64, u64, u64, u64) -> u32;
type Em = extern "C" fn(*mut Ctx, u32, *const i128, u32) -> u32;
type Nt = extern "C" fn(*mut Ctx, u32, *mut i128, u32) -> u32;
type C1 = extern "C" fn(*mut Ctx, u32) -> u32;
type C0 = extern "C" fn(*mut Ctx) -> u32;

/// The helpers' symbol names and addresses, for the JIT builder.
pub(crate) fn symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("strike_math1", math1 as M1 as *const u8),
        ("strike_math2", math2 as M2 as *const u8),
        ("strike_math3", math3 as M3 as *const u8),
        ("strike_sload", sload as M1 as *const u8),
        ("strike_sstore", sstore as St as *const u8),
        ("strike_emit", emit as Em as *const u8),
        ("strike_revert", revert as C1 as *const u8),
        ("strike_math_error", math_error as C1 as *const u8),
        ("strike_out_of_gas", out_of_gas as C0 as *const u8),
        ("strike_call_depth", call_depth as C0 as *const u8),
        ("strike_enter_arrays", enter_arrays as C1 as *const u8),
        ("strike_index_error", index_error as M1 as *const u8),
        ("strike_native", native as Nt as *const u8),
    ]
}

/// The helpers declared in a JIT module.
pub(crate) struct Ids {
    ids: [FuncId; 13],
}

/// The helpers referenced from one function.
pub(crate) struct Refs {
    pub math1: FuncRef,
    pub math2: FuncRef,
    pub math3: FuncRef,
    pub sload: FuncRef,
    pub sstore: FuncRef,
    pub emit: FuncRef,
    pub revert: FuncRef,
    pub math_error: FuncRef,
    pub out_of_gas: FuncRef,
    pub call_depth: FuncRef,
    pub enter_arrays: FuncRef,
    pub index_error: FuncRef,
    pub native: FuncRef,
}

/// Declares every helper with its signature.
pub(crate) fn declare(jit: &mut JITModule, ptr: types::Type) -> Result<Ids, super::CompileError> {
    let (i32t, i64t) = (types::I32, types::I64);
    let sigs = [
        ("strike_math1", vec![i32t, i64t, i64t]),
        ("strike_math2", vec![i32t, i64t, i64t, i64t, i64t]),
        (
            "strike_math3",
            vec![i32t, i64t, i64t, i64t, i64t, i64t, i64t],
        ),
        ("strike_sload", vec![i32t, i64t, i64t]),
        ("strike_sstore", vec![i32t, i32t, i64t, i64t, i64t, i64t]),
        ("strike_emit", vec![i32t, ptr, i32t]),
        ("strike_revert", vec![i32t]),
        ("strike_math_error", vec![i32t]),
        ("strike_out_of_gas", vec![]),
        ("strike_call_depth", vec![]),
        ("strike_enter_arrays", vec![i32t]),
        ("strike_index_error", vec![i32t, i64t, i64t]),
        ("strike_native", vec![i32t, ptr, i32t]),
    ];
    let mut ids = Vec::with_capacity(sigs.len());
    for (name, params) in sigs {
        let sig = signature(jit, ptr, &params);
        ids.push(
            jit.declare_function(name, Linkage::Import, &sig)
                .map_err(super::err)?,
        );
    }
    Ok(Ids {
        ids: ids
            .try_into()
            .map_err(|_| super::CompileError("helper count".into()))?,
    })
}

impl Ids {
    /// References to every helper from `func`.
    pub(crate) fn refs(&self, jit: &mut JITModule, func: &mut Function) -> Refs {
        // One reference per declared helper, in `symbols` order; the array's length makes
        // a missing or extra helper a compile error.
        let [math1, math2, math3, sload, sstore, emit, revert, math_error, out_of_gas, call_depth, enter_arrays, index_error, native] =
            self.ids.map(|id| jit.declare_func_in_func(id, func));
        Refs {
            math1,
            math2,
            math3,
            sload,
            sstore,
            emit,
            revert,
            math_error,
            out_of_gas,
            call_depth,
            enter_arrays,
            index_error,
            native,
        }
    }
}
