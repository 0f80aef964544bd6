//! Which engine runs a call, and the compiled code an engine keeps: the tiering rule of
//! `Mode::Auto`, the cache of compiled modules shared by every contract deployed with the
//! same bytes and by every thread, and what it holds. Without the `jit` feature every
//! mode runs the interpreter.

use super::{Deployed, Engine, Mode};
use crate::interp;
use crate::interp::trace::{NoTrace, Tracer};
use crate::isa::VerifiedModule;
#[cfg(feature = "jit")]
use crate::jit;
use crate::runtime::{self, BlockEnv, Call, Execution, Host, Runtime, Shared, Stop, VmError};
use crate::state::{Address, TxState};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
#[cfg(feature = "jit")]
use std::sync::OnceLock;
use std::sync::{Arc, Mutex};

/// The engine is the host of every run: an XCALL finds its contract among the engine's and
/// runs it on the engine its mode picks for that contract.
impl Host for Engine {
    fn module(&self, address: Address) -> Option<&VerifiedModule> {
        self.contracts.get(&address).map(|d| &*d.module)
    }

    fn run<'r>(
        &self,
        address: Address,
        function: usize,
        rt: Runtime<'r, dyn TxState + 'r>,
        args: &[i128],
        tracer: Option<&mut dyn crate::runtime::hooks::DynTracer>,
    ) -> (Result<Vec<i128>, Stop>, u64) {
        let gas_left = rt.gas_left;
        let Some(deployed) = self.contracts.get(&address) else {
            return (Err(VmError::UnknownContract(address).into()), gas_left);
        };
        let call = Call {
            caller: rt.env.caller,
            contract: address,
            function,
            args,
            gas_limit: gas_left,
        };
        if let Some(t) = tracer {
            // Traces come from the interpreter, the reference, in every contract.
            return interp::execute(rt, &call, &mut crate::interp::trace::Nested(t));
        }
        #[cfg(feature = "jit")]
        if let Some(c) = self.pick(deployed) {
            return jit::execute(c, move || rt, &call);
        }
        let (result, left) = interp::execute(rt, &call, &mut NoTrace);
        self.count(deployed, gas_left - left);
        (result, left)
    }
}

/// When `Mode::Auto` compiles a module, and how much compiled code an engine keeps.
///
/// Auto compiles a module once the gas its calls have used in the interpreter, summed
/// over every transaction and thread, reaches `gas_per_instruction` times the module's
/// instruction count: when the time already spent interpreting it matches what compiling
/// it costs. Gas counts work, loop back-edges included (every iteration crosses a block
/// that charges gas), without a counter on the interpreter's hot path. The default comes
/// from `cargo bench --bench jit` on the development machine: compiling costs 28-52 µs
/// per instruction (options.stk, binomial.stk, a loop module), and compiled code saves
/// 0.7-1.6 ns per gas (bs_call 0.78, iv_call 0.71, the 1,000-step tree 1.02, the integer
/// loop 1.55), so compiling pays for itself after 17,000-74,000 gas per instruction.
///
/// Compile time grows faster than the instruction count for large functions with many
/// registers (measured under load: a 2,048-instruction function with 256 registers cost
/// 11-16x options.stk's time per instruction, a 65,536-instruction one about 40x), so a
/// contract could make the node compile far longer than its calls had paid for. Two rules
/// bound it: a module with a function over `max_function_instructions` stays interpreted,
/// and each function's instructions count `ceil(registers / 32)` times toward the
/// threshold. With them, the worst case measured (1,024 instructions, 32 registers)
/// compiles in about 2.9x options.stk's time per weighted instruction (spec/security.md),
/// and the stdlib's functions (at most 139 instructions, 25 registers) tier up as before.
/// Mode::Jit compiles on the first call whatever the gas: it is for tests and benches,
/// not for nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tiering {
    /// Interpreted gas per instruction of the module before it is compiled.
    pub gas_per_instruction: u64,
    /// Most bytes of machine code the engine holds; modules beyond stay interpreted.
    pub max_code_bytes: usize,
    /// Largest module (instructions, all functions) the JIT compiles, bounding compile
    /// time; larger modules stay interpreted.
    pub max_instructions: usize,
    /// Largest function (instructions) the JIT compiles; a module with a larger one stays
    /// interpreted (compile time per instruction grows with function size).
    pub max_function_instructions: usize,
}

impl Default for Tiering {
    fn default() -> Self {
        Tiering {
            gas_per_instruction: 32_000,
            max_code_bytes: 256 << 20,
            max_instructions: 1 << 20,
            max_function_instructions: 1024,
        }
    }
}

/// Compiled code for one module, shared by every contract deployed with the same bytes
/// and by every thread.
#[derive(Debug, Default)]
pub(super) struct CodeSlot {
    /// Gas used by interpreted calls into the module so far.
    gas: AtomicU64,
    #[cfg(feature = "jit")]
    compiled: OnceLock<Option<Arc<jit::Compiled>>>,
}

/// The engine's compiled modules, keyed by the module's bytes.
#[derive(Debug, Default)]
pub(super) struct CodeCache {
    pub(super) slots: Mutex<HashMap<Vec<u8>, Arc<CodeSlot>>>,
    code_bytes: AtomicUsize,
    modules: AtomicUsize,
    compile_nanos: AtomicU64,
}

/// What the JIT has compiled so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Modules compiled.
    pub modules: usize,
    /// Bytes of machine code held.
    pub code_bytes: usize,
    /// Total compile time, nanoseconds.
    pub compile_nanos: u64,
}

impl Engine {
    /// What the JIT has compiled so far.
    pub fn jit_stats(&self) -> JitStats {
        JitStats {
            modules: self.cache.modules.load(Ordering::Relaxed),
            code_bytes: self.cache.code_bytes.load(Ordering::Relaxed),
            compile_nanos: self.cache.compile_nanos.load(Ordering::Relaxed),
        }
    }

    /// Runs `call` of `deployed` as the transaction's entry, with `tracer`'s hooks on the
    /// interpreter when it traces; otherwise on the engine its mode picks: its compiled code when there
    /// is some (compiling it first under `Mode::Jit`), else the interpreter, whose gas
    /// counts toward compiling it under `Mode::Auto`.
    pub(super) fn run<T: TxState, R: Tracer>(
        &self,
        deployed: &Deployed,
        call: Call<'_>,
        block: &BlockEnv,
        state: &mut T,
        shared: &mut Shared,
        tracer: &mut R,
    ) -> Execution {
        let module = &deployed.module;
        // The entry's export is named by the transaction (see `Engine::call_path`).
        let export = u32::MAX;
        if R::ENABLED {
            // Traces come from the interpreter, the reference (the JIT has no hooks), in
            // every contract the transaction calls too.
            let rt = Runtime::new(
                module,
                &call,
                block,
                state,
                &self.limits,
                shared,
                Some(self),
                export,
            );
            let (result, gas_left) = interp::execute(rt, &call, tracer);
            let run = runtime::finish(result, gas_left, call.gas_limit, shared);
            tracer.finish(&run.halt, call.gas_limit - run.gas_used);
            return run;
        }
        #[cfg(feature = "jit")]
        if let Some(c) = self.pick(deployed) {
            let (entry, state) = (&mut *shared, state.as_dyn());
            let rt = move || {
                let (entry, state) = (entry, state);
                Runtime::new(
                    module,
                    &call,
                    block,
                    state,
                    &self.limits,
                    entry,
                    Some(self),
                    export,
                )
            };
            let (result, gas_left) = jit::execute(c, rt, &call);
            return runtime::finish(result, gas_left, call.gas_limit, shared);
        }
        let rt = Runtime::new(
            module,
            &call,
            block,
            state,
            &self.limits,
            shared,
            Some(self),
            export,
        );
        let (result, gas_left) = interp::execute(rt, &call, &mut NoTrace);
        self.count(deployed, call.gas_limit - gas_left);
        runtime::finish(result, gas_left, call.gas_limit, shared)
    }

    /// The compiled code to run `deployed` with, if its mode and heat say so.
    #[cfg(feature = "jit")]
    fn pick<'d>(&self, deployed: &'d Deployed) -> Option<&'d jit::Compiled> {
        match self.mode {
            Mode::Interp => None,
            Mode::Jit => self.compiled(deployed, true),
            Mode::Auto => self.compiled(deployed, false),
        }
    }

    /// Counts `gas` of interpreted work on `deployed` toward compiling it (`Mode::Auto`).
    fn count(&self, deployed: &Deployed, gas: u64) {
        if self.mode == Mode::Auto {
            let before = deployed.code.gas.fetch_add(gas, Ordering::Relaxed);
            let threshold = self
                .tiering
                .gas_per_instruction
                .saturating_mul(deployed.instructions);
            if before.saturating_add(gas) >= threshold {
                // Hot: compile now, for the next call.
                #[cfg(feature = "jit")]
                let _ = self.compiled(deployed, true);
            }
        }
    }

    /// The compiled code for `d`, compiling it now if `hot` and not yet tried.
    ///
    /// A borrow, not a clone of the `Arc`: threads of a parallel block would otherwise
    /// bounce its reference count between cores on every transaction.
    #[cfg(feature = "jit")]
    fn compiled<'d>(&self, d: &'d Deployed, hot: bool) -> Option<&'d jit::Compiled> {
        if let Some(done) = d.code.compiled.get() {
            return done.as_deref();
        }
        if !hot {
            return None;
        }
        d.code
            .compiled
            .get_or_init(|| {
                let m = d.module.module();
                let size: usize = m.functions.iter().map(|f| f.code.len()).sum();
                if size > self.tiering.max_instructions
                    || d.largest_function > self.tiering.max_function_instructions
                    || self.limits.max_call_depth > jit::MAX_JIT_CALL_DEPTH
                    || self.cache.code_bytes.load(Ordering::Relaxed) >= self.tiering.max_code_bytes
                {
                    return None;
                }
                let compiled = jit::compile(&d.module).ok()?;
                self.cache
                    .code_bytes
                    .fetch_add(compiled.code_bytes, Ordering::Relaxed);
                self.cache.modules.fetch_add(1, Ordering::Relaxed);
                let nanos: u128 = compiled.compile_times.iter().map(|t| t.as_nanos()).sum();
                self.cache
                    .compile_nanos
                    .fetch_add(nanos as u64, Ordering::Relaxed);
                Some(Arc::new(compiled))
            })
            .as_deref()
    }
}
