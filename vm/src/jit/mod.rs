//! The Cranelift JIT: every function of a verified module compiled to native code, with
//! exactly the interpreter's results, errors, gas, storage writes and events.
//!
//! How it keeps the interpreter's semantics (`crate::interp` is the reference):
//! - It runs in the same [`crate::runtime::Runtime`] as the interpreter (the first field
//!   of its context, `context.rs`): every storage access, event, native, array frame,
//!   charge and limit is the runtime's method, called through a helper (`helpers.rs`, one
//!   table), never re-implemented.
//! - Every pure opcode it does not inline calls the opcode table's own function
//!   (`crate::isa::semantics`); what it inlines (integer add, subtract, negate, abs,
//!   min/max, comparisons, bit operations, small int multiply, the fx multiply MUL/MULK
//!   by `math::mul`'s own fast path, moves, branches, array bounds) is checked against
//!   those functions by the differential tests.
//! - Its blocks are the verifier's CFG, and each block's static gas is charged where the
//!   verifier's table says, before the block's first instruction. Running out calls the
//!   runtime's charge, which leaves 0, so `gas_used` equals the limit.
//! - Calls are native calls between compiled functions, with the runtime's depth rule
//!   (frames including the entry, at most `Limits::max_call_depth`) checked before each.
//! - A helper never panics: it records why execution stops in the context and returns 1,
//!   and the compiled code returns at once.
//!
//! Safety: the JIT sees only verified modules, so every register, constant, jump, callee,
//! event and array index is in range, and it emits no memory access other than fixed
//! offsets of its own context, its own stack slots, the argument/result buffer its caller
//! sized from the callee's declaration, and elements of its frame's arrays after an
//! inline check that the index is below the array's length. Constants are data (i128
//! immediates), never addresses.
//! The machine code is freed when the [`Compiled`] value is dropped.

#![allow(unsafe_code)]

mod context;
mod helpers;
mod translate;

use crate::isa::VerifiedModule;
use crate::math::MathError;
use crate::runtime::{self, Call, Runtime, Stop, VmError};
use crate::state::TxState;
use context::Ctx;
use cranelift_codegen::ir::{types, AbiParam, FuncRef, UserFuncName};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module as _};
use std::time::{Duration, Instant};

/// Deepest call stack the JIT runs: compiled calls recurse on the native stack, so deeper
/// limits run in the interpreter (the results are the same).
pub const MAX_JIT_CALL_DEPTH: u32 = 256;

/// A compiled function: `(ctx, args_and_results)`, 0 on return, 1 on a stop recorded in
/// the context.
type JitFn = unsafe extern "C" fn(*mut Ctx<'static>, *mut i128) -> u32;

/// A module's functions in native code, with what compiling them cost.
pub struct Compiled {
    jit: Option<JITModule>,
    functions: Vec<JitFn>,
    /// Bytes of machine code.
    pub code_bytes: usize,
    /// Time spent compiling, per function, in function order.
    pub compile_times: Vec<Duration>,
}

// SAFETY: the code memory is immutable once finalised and only executed; `JITModule` is not
// touched again until it is freed in `drop`, which needs `&mut self`.
unsafe impl Send for Compiled {}
unsafe impl Sync for Compiled {}

impl Drop for Compiled {
    fn drop(&mut self) {
        if let Some(jit) = self.jit.take() {
            // SAFETY: no function pointer outlives `self` (they are only called through
            // `run`, which borrows `self`).
            unsafe { jit.free_memory() };
        }
    }
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field("functions", &self.functions.len())
            .field("code_bytes", &self.code_bytes)
            .finish()
    }
}

/// Why a module could not be compiled (it then runs in the interpreter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError(pub String);

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JIT compilation failed: {}", self.0)
    }
}

fn err(e: impl std::fmt::Display) -> CompileError {
    CompileError(e.to_string())
}

/// Compiles every function of `module`.
pub fn compile(module: &VerifiedModule) -> Result<Compiled, CompileError> {
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").map_err(err)?;
    flags.set("use_colocated_libcalls", "false").map_err(err)?;
    flags.set("is_pic", "false").map_err(err)?;
    // Cranelift's IR verifier re-checks every function the translator builds: in debug
    // builds (the tests) it guards the translator; in release it cost 7.7 M of the
    // instructions of compiling binomial.stk (callgrind) and checks nothing new.
    let verify = if cfg!(debug_assertions) {
        "true"
    } else {
        "false"
    };
    flags.set("enable_verifier", verify).map_err(err)?;
    let isa = cranelift_native::builder()
        .map_err(err)?
        .finish(settings::Flags::new(flags))
        .map_err(err)?;
    let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
    for (name, ptr) in helpers::symbols() {
        builder.symbol(name, ptr);
    }
    let mut jit = JITModule::new(builder);
    let ptr = jit.target_config().pointer_type();

    let mut sig = jit.make_signature();
    sig.params.push(AbiParam::new(ptr));
    sig.params.push(AbiParam::new(ptr));
    sig.returns.push(AbiParam::new(types::I32));
    let functions = &module.module().functions;
    let ids: Vec<FuncId> = (0..functions.len())
        .map(|i| {
            jit.declare_function(&format!("f{i}"), Linkage::Local, &sig)
                .map_err(err)
        })
        .collect::<Result<_, _>>()?;
    let helper_ids = helpers::declare(&mut jit, ptr)?;
    // The signatures of the entries to pure functions, by arity (inputs as 64-bit halves).
    let pure_signatures =
        [1, 2, 3].map(|n| helpers::signature(&jit, ptr, &vec![types::I64; 2 * n]));

    let frontend = jit.target_config();
    let mut ctx = jit.make_context();
    let mut fctx = FunctionBuilderContext::new();
    let mut code_bytes = 0;
    let mut compile_times = Vec::with_capacity(functions.len());
    for (index, &id) in ids.iter().enumerate() {
        let start = Instant::now();
        ctx.func.signature = sig.clone();
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let callees: Vec<FuncRef> = ids
                .iter()
                .map(|&f| jit.declare_func_in_func(f, b.func))
                .collect();
            let helper_refs = helper_ids.refs(&mut jit, b.func);
            let helpers = translate::Helpers {
                refs: &helper_refs,
                pure_signatures: &pure_signatures,
            };
            translate::Translator::translate(&mut b, module, index, ptr, &callees, helpers)?;
            b.seal_all_blocks();
            b.finalize(frontend);
        }
        jit.define_function(id, &mut ctx).map_err(err)?;
        code_bytes += ctx
            .compiled_code()
            .map_or(0, |c| c.code_info().total_size as usize);
        jit.clear_context(&mut ctx);
        compile_times.push(start.elapsed());
    }
    jit.finalize_definitions().map_err(err)?;
    let pointers = ids
        .iter()
        .map(|&id| {
            let p = jit.get_finalized_function(id);
            // SAFETY: every function was defined with `sig`, which is JitFn's ABI.
            unsafe { std::mem::transmute::<*const u8, JitFn>(p) }
        })
        .collect();
    Ok(Compiled {
        jit: Some(jit),
        functions: pointers,
        code_bytes,
        compile_times,
    })
}

/// Runs `call` in compiled code in `rt` (an entry's context, or a callee's that an XCALL
/// built): how it ended and the gas left; the same as `crate::interp::execute`.
///
/// Crate-private on purpose: `compiled` must have been compiled from `rt`'s module (the
/// engine keeps them together), since the compiled code trusts the module's verified shape.
/// A public safe function taking both could be handed a mismatched pair.
pub(crate) fn execute<'r>(
    compiled: &Compiled,
    rt: impl FnOnce() -> Runtime<'r, dyn TxState + 'r>,
    call: &Call<'_>,
) -> (Result<Vec<i128>, Stop>, u64) {
    // The context is built in place (`rt` makes the runtime inside it): measured, passing
    // a built runtime in cost about 90 instructions per transaction in copies.
    let mut ctx = Ctx {
        rt: rt(),
        depth: 1,
        max_depth: 0,
        tmp: [0; 2],
        mem: std::ptr::null_mut(),
        mem_top: 0,
        stop: None,
    };
    // The frames of the runs below count against the transaction's one frame limit.
    ctx.max_depth = ctx
        .rt
        .limits()
        .max_call_depth
        .saturating_sub(ctx.rt.outer_frames() as u32);
    let module = ctx.rt.module();
    let result = enter(compiled, module, call, &mut ctx);
    (result, ctx.rt.gas_left)
}

/// Calls the entry function's code with the arguments; its results or why it stopped.
#[inline(always)]
fn enter(
    compiled: &Compiled,
    module: &VerifiedModule,
    call: &Call<'_>,
    ctx: &mut Ctx<'_>,
) -> Result<Vec<i128>, Stop> {
    runtime::check_arguments(module, call)?;
    let (Some(entry), Some(&code)) = (
        module.module().functions.get(call.function),
        compiled.functions.get(call.function),
    ) else {
        return Err(VmError::UnknownFunction(format!("function index {}", call.function)).into());
    };
    let size = (entry.params as usize).max(entry.returns as usize).max(1);
    let mut buffer = vec![0i128; size];
    for (slot, &arg) in buffer.iter_mut().zip(call.args) {
        *slot = arg;
    }
    let ptr = (ctx as *mut Ctx<'_>).cast::<Ctx<'static>>();
    // SAFETY: the function was compiled from this verified module; the buffer holds the
    // parameters and room for the results; `ctx` is exclusively borrowed for the call and
    // outlives it, and the helpers only use it as their contract says.
    let status = unsafe { code(ptr, buffer.as_mut_ptr()) };
    match (status, ctx.stop.take()) {
        (0, _) => {
            buffer.truncate(entry.returns as usize);
            Ok(buffer)
        }
        (_, Some(stop)) => Err(stop),
        (_, None) => Err(MathError::Overflow.into()),
    }
}
