//! The functions compiled code calls, declared once in the `helpers!` table below: each
//! row is the helper itself, from which the table derives its symbol, its Cranelift
//! signature, its declaration in the JIT module and its reference from every function.
//! Pure opcodes the JIT does not inline have one entry each (`pure_entry`), generated from
//! the opcode table: each calls its opcode's own function, resolved at compile time.
//!
//! Every helper is an `unsafe extern "C" fn` whose first argument is the context and whose
//! result is 0 to go on or 1 after recording in `ctx.stop` why execution stops (a value it
//! computes goes to `ctx.tmp`). Each does its work through the shared runtime
//! ([`crate::runtime::Runtime`]) or the opcode table's semantics, never by a rule of its own,
//! and never panics.
//!
//! # Safety (the contract of every helper)
//! Compiled code is the only caller. `ctx` points at the live [`Ctx`] that `super::run`
//! created for this execution; it stays valid and is not otherwise borrowed for the
//! duration of the call (compiled code holds no Rust reference to it). Pointer arguments
//! point into the calling function's own stack slot, as each helper's doc says.

use super::context::Ctx;
use super::CompileError;
use crate::isa::{semantics::Pure, Opcode, StorageOp};
use crate::math::MathError;
use crate::runtime::{self, Stop};
use cranelift_codegen::ir::{types, AbiParam, FuncRef, Function, Signature};
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Linkage, Module as _};

/// A 128-bit value from the two 64-bit halves compiled code passes.
fn join(lo: u64, hi: u64) -> i128 {
    ((u128::from(hi) << 64) | u128::from(lo)) as i128
}

/// The context behind `ctx`.
///
/// # Safety
/// The helpers' contract (module docs): `ctx` is the live context, not otherwise borrowed.
unsafe fn context<'c>(ctx: *mut Ctx<'static>) -> &'c mut Ctx<'static> {
    // SAFETY: the caller's guarantee.
    unsafe { &mut *ctx }
}

/// The function of the pure opcode with byte `op`, if it is one (for const evaluation).
const fn pure(op: u8) -> Option<Pure> {
    match Opcode::from_byte(op) {
        Some(op) => op.pure(),
        None => None,
    }
}

/// Compiled code's entry to the pure opcode with byte `OP` and one input: the table's
/// function, resolved at compile time (so called directly and inlined), its result to
/// `ctx.tmp`. One instance per opcode (`pure_entry`).
///
/// # Safety
/// The helpers' contract (module docs).
unsafe extern "C" fn pure1<const OP: u8>(ctx: *mut Ctx<'static>, xl: u64, xh: u64) -> u32 {
    // SAFETY: the helpers' contract.
    let c = unsafe { context(ctx) };
    let r = match const { pure(OP) } {
        Some(Pure::Unary(f)) => f(join(xl, xh)),
        _ => Err(MathError::Domain),
    };
    c.finish(r.map_err(Stop::from))
}

/// As [`pure1`], for two inputs.
///
/// # Safety
/// The helpers' contract (module docs).
unsafe extern "C" fn pure2<const OP: u8>(
    ctx: *mut Ctx<'static>,
    xl: u64,
    xh: u64,
    yl: u64,
    yh: u64,
) -> u32 {
    // SAFETY: the helpers' contract.
    let c = unsafe { context(ctx) };
    let r = match const { pure(OP) } {
        Some(Pure::Binary(f)) => f(join(xl, xh), join(yl, yh)),
        _ => Err(MathError::Domain),
    };
    c.finish(r.map_err(Stop::from))
}

/// As [`pure1`], for three inputs (MULDIV and its roundings).
///
/// # Safety
/// The helpers' contract (module docs).
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn pure3<const OP: u8>(
    ctx: *mut Ctx<'static>,
    xl: u64,
    xh: u64,
    yl: u64,
    yh: u64,
    zl: u64,
    zh: u64,
) -> u32 {
    // SAFETY: the helpers' contract.
    let c = unsafe { context(ctx) };
    let r = match const { pure(OP) } {
        Some(Pure::Ternary(f)) => f(join(xl, xh), join(yl, yh), join(zl, zh)),
        _ => Err(MathError::Domain),
    };
    c.finish(r.map_err(Stop::from))
}

type Entry1 = unsafe extern "C" fn(*mut Ctx<'static>, u64, u64) -> u32;
type Entry2 = unsafe extern "C" fn(*mut Ctx<'static>, u64, u64, u64, u64) -> u32;
type Entry3 = unsafe extern "C" fn(*mut Ctx<'static>, u64, u64, u64, u64, u64, u64) -> u32;

macro_rules! pure_entries {
    ($($name:ident)*) => {
        /// The address of compiled code's entry to pure opcode `op`'s function (its
        /// parameters: the context, then each input as two 64-bit halves), or None when
        /// `op` is not pure. Generated for every opcode of the table.
        pub(super) fn pure_entry(op: Opcode) -> Option<*const u8> {
            match op {
                $( Opcode::$name => {
                    const OP: u8 = Opcode::$name as u8;
                    match Opcode::$name.pure() {
                        Some(Pure::Unary(_)) => Some(pure1::<OP> as Entry1 as *const u8),
                        Some(Pure::Binary(_)) => Some(pure2::<OP> as Entry2 as *const u8),
                        Some(Pure::Ternary(_)) => Some(pure3::<OP> as Entry3 as *const u8),
                        None => None,
                    }
                } )*
            }
        }
    };
}

crate::isa::for_each_opcode!(pure_entries);

/// A parameter's Cranelift type, from its Rust type.
trait Abi {
    fn ty(ptr: types::Type) -> types::Type;
}
impl Abi for u32 {
    fn ty(_: types::Type) -> types::Type {
        types::I32
    }
}
impl Abi for u64 {
    fn ty(_: types::Type) -> types::Type {
        types::I64
    }
}
impl Abi for *mut i128 {
    fn ty(ptr: types::Type) -> types::Type {
        ptr
    }
}

/// A signature of pointer-sized context, then `params`, returning i32.
pub(super) fn signature(jit: &JITModule, ptr: types::Type, params: &[types::Type]) -> Signature {
    let mut s = jit.make_signature();
    s.params.push(AbiParam::new(ptr));
    s.params.extend(params.iter().map(|&t| AbiParam::new(t)));
    s.returns.push(AbiParam::new(types::I32));
    s
}

macro_rules! helpers {
    ($( $(#[$doc:meta])* fn $name:ident($ctx:ident $(, $arg:ident: $ty:ty)*) $body:block )*) => {
        $(
            $(#[$doc])*
            ///
            /// # Safety
            /// The helpers' contract (module docs).
            unsafe extern "C" fn $name($ctx: *mut Ctx<'static> $(, $arg: $ty)*) -> u32 $body
        )*

        /// The helpers' symbol names and addresses, for the JIT builder.
        pub(super) fn symbols() -> Vec<(&'static str, *const u8)> {
            vec![$(
                (
                    concat!("strike_", stringify!($name)),
                    $name as unsafe extern "C" fn(*mut Ctx<'static> $(, $ty)*) -> u32 as *const u8,
                ),
            )*]
        }

        /// The helpers declared in a JIT module.
        pub(super) struct Ids {
            $( $name: FuncId, )*
        }

        /// The helpers referenced from one function.
        pub(super) struct Refs {
            $( pub $name: FuncRef, )*
        }

        /// Declares every helper with its signature.
        pub(super) fn declare(jit: &mut JITModule, ptr: types::Type) -> Result<Ids, CompileError> {
            Ok(Ids {
                $( $name: {
                    let sig = signature(jit, ptr, &[$(<$ty as Abi>::ty(ptr)),*]);
                    jit.declare_function(concat!("strike_", stringify!($name)), Linkage::Import, &sig)
                        .map_err(super::err)?
                }, )*
            })
        }

        impl Ids {
            /// References to every helper from `func`.
            pub(super) fn refs(&self, jit: &mut JITModule, func: &mut Function) -> Refs {
                Refs { $( $name: jit.declare_func_in_func(self.$name, func), )* }
            }
        }
    };
}

helpers! {
    /// SLOAD of `(self, space, key)`: the runtime's charge and read; the value to `tmp`.
    fn load(ctx, space: u32, kl: u64, kh: u64) {
        // SAFETY: the helpers' contract.
        let c = unsafe { context(ctx) };
        let r = c.rt.load(space, join(kl, kh));
        c.finish(r)
    }

    /// SSTORE (`mode` 0), SADD (1) or SADDCAP (2, with the cap in `ctx.tmp`, stored there
    /// by the caller: the arguments are full): the runtime's charge, limit and write.
    fn store(ctx, space: u32, mode: u32, kl: u64, kh: u64, vl: u64, vh: u64) {
        // SAFETY: the helpers' contract.
        let c = unsafe { context(ctx) };
        let cap = join(c.tmp[0], c.tmp[1]);
        let op = match mode {
            0 => StorageOp::Store,
            1 => StorageOp::Add,
            _ => StorageOp::AddCapped,
        };
        let r = c.rt.store(op, space, join(kl, kh), join(vl, vh), cap).map(|()| 0);
        c.finish(r)
    }

    /// EMIT of event `event` with the `n` values at `values` (the caller's stack slot).
    fn emit(ctx, event: u32, values: *mut i128, n: u32) {
        // SAFETY: the helpers' contract.
        let c = unsafe { context(ctx) };
        // SAFETY: compiled code stored `n` values at `values`, its own stack slot.
        let values = unsafe { std::slice::from_raw_parts(values, n as usize) };
        let r = c.rt.emit(event, values).map(|()| 0);
        c.finish(r)
    }

    /// NATIVE `id` on the `n` arguments at `values` (the caller's stack slot, which holds
    /// room for the larger of arguments and results); its results overwrite them.
    fn native(ctx, id: u32, values: *mut i128, n: u32) {
        // SAFETY: the helpers' contract.
        let c = unsafe { context(ctx) };
        let mut out = crate::native::Results::default();
        // SAFETY: compiled code stored `n` arguments at `values`, its own stack slot.
        let args = unsafe { std::slice::from_raw_parts(values, n as usize) };
        let r = c.rt.native(id, args, &mut out).map(|results| {
            for (k, v) in out.iter().take(results).enumerate() {
                // SAFETY: the slot holds max(n, results) values (the verifier bounds
                // `results` by the window, which the translator sized the slot for).
                unsafe { values.add(k).write(*v) };
            }
            0
        });
        c.finish(r)
    }

    /// XCALL of import `import` with the `n` values at `values` (the callee's address, then
    /// its arguments, in the caller's stack slot, which holds room for the larger of the
    /// window and the results): the runtime's call, from a run with `ctx.depth` frames; the
    /// results overwrite the values.
    fn xcall(ctx, import: u32, values: *mut i128, n: u32) {
        // SAFETY: the helpers' contract.
        let c = unsafe { context(ctx) };
        // SAFETY: compiled code stored `n` values at `values`, its own stack slot.
        let window = unsafe { std::slice::from_raw_parts(values, n as usize) };
        let depth = c.depth as usize;
        let r = c.rt.call_contract(import, window, depth, None).map(|results| {
            for (k, v) in results.iter().enumerate() {
                // SAFETY: the slot holds max(n, results) values (the verifier matched the
                // result count to the import's and the window, which the translator sized
                // the slot for).
                unsafe { values.add(k).write(*v) };
            }
            0
        });
        c.finish(r)
    }

    /// Entering a frame of `function`: the runtime's array charge, limit and zeroing at the
    /// top of memory. `ctx.tmp` gets the frame's first element; `ctx.mem` the memory's
    /// (possibly moved) elements.
    fn enter_arrays(ctx, function: u32) {
        // SAFETY: the helpers' contract.
        let c = unsafe { context(ctx) };
        let old = c.mem_top as usize;
        let r = c.rt.enter_arrays(function as usize, old).map(|top| {
            c.mem_top = top as u64;
            old as i128
        });
        c.mem = c.rt.memory.as_mut_ptr();
        c.finish(r)
    }

    /// ALOAD or ASTORE with `index` outside an array of `length` elements.
    fn index_error(ctx, length: u32, il: u64, ih: u64) {
        // SAFETY: the helpers' contract.
        let c = unsafe { context(ctx) };
        c.finish(Err(runtime::index_out_of_bounds(join(il, ih), length)))
    }

    /// REVERT with `code`.
    fn revert(ctx, code: u32) {
        // SAFETY: the helpers' contract.
        let c = unsafe { context(ctx) };
        c.finish(Err(Stop::Revert(code)))
    }

    /// An inlined add, subtract, negate or absolute value overflowed.
    fn overflow(ctx) {
        // SAFETY: the helpers' contract.
        let c = unsafe { context(ctx) };
        c.finish(Err(MathError::Overflow.into()))
    }

    /// A block's static charge `gas`, which compiled code found does not fit: the
    /// runtime's rule leaves 0 gas and stops.
    fn charge(ctx, gas: u64) {
        // SAFETY: the helpers' contract.
        let c = unsafe { context(ctx) };
        let r = c.rt.charge(gas).map(|()| 0);
        c.finish(r)
    }

    /// A CALL with `ctx.depth` frames on the stack, which compiled code found one too
    /// many: the runtime's depth rule.
    fn call_depth(ctx) {
        // SAFETY: the helpers' contract.
        let c = unsafe { context(ctx) };
        let r = c.rt.check_depth(c.depth as usize).map(|()| 0);
        c.finish(r)
    }
}
