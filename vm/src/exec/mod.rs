//! Transaction execution: the embedding API.
//!
//! ```
//! use strike_vm::exec::{Engine, Transaction, Status};
//! use strike_vm::interp::BlockEnv;
//! use strike_vm::isa::{Export, Function, Instr, Module, Opcode, ValueType};
//! use strike_vm::state::{MemoryStorage, StateCache};
//!
//! // square(x: fx) -> fx, written as instructions: r1 = r0 * r0; ret r1
//! let module = Module {
//!     functions: vec![Function { params: 1, returns: 1, registers: 2, arrays: vec![], code: vec![
//!         Instr::new(Opcode::Mul, 1, 0, 0, 0),
//!         Instr::new(Opcode::Return, 1, 1, 0, 0),
//!     ]}],
//!     exports: vec![Export { name: "square".into(), function: 0,
//!                            params: vec![ValueType::Fx], returns: vec![ValueType::Fx] }],
//!     ..Module::default()
//! };
//! let mut engine = Engine::new();
//! let verified = engine.load(&module.encode())?;
//! engine.deploy(7, verified);
//! let mut state = StateCache::new(MemoryStorage::new());
//! let tx = Transaction { caller: 1, contract: 7, function: "square".into(),
//!                        args: vec![3 << 64], gas_limit: 10_000 };
//! let receipt = engine.execute(&tx, &BlockEnv::default(), &mut state);
//! assert_eq!(receipt.status, Status::Ok);
//! assert_eq!(receipt.returns, vec![9 << 64]);
//! # Ok::<(), strike_vm::exec::LoadError>(())
//! ```

mod block;
pub mod parallel;

pub use block::{execute_block, receipts_digest, state_digest, BlockError, BlockStats, Fallback};
pub use parallel::{execute_block_parallel, ParallelConfig};

use crate::interp::trace::{NoTrace, Tracer};
use crate::interp::{self, gas, BlockEnv, Call, Event, Halt, VmError};
use crate::isa::{Limits, Module, ModuleError, ValueType, VerifiedModule, VerifyError};
use crate::jit;
use crate::state::{Address, StateCache, Storage, TxState};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// A call to one exported function of a deployed contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    /// Who calls.
    pub caller: Address,
    /// The contract called.
    pub contract: Address,
    /// The export's name.
    pub function: String,
    /// Arguments as raw 128-bit values (fx as I64F64 bits).
    pub args: Vec<i128>,
    /// Most gas the transaction may use, the base charge included.
    pub gas_limit: u64,
}

/// How a transaction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Returned normally: its writes and events stand.
    Ok,
    /// Reverted on purpose (REVERT): no write or event survives.
    Revert,
    /// Failed (out of gas, math error, ...): no write or event survives.
    Error,
}

/// Why a transaction did not succeed, with a stable code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptError {
    /// The revert code for `Revert`, else the VM error's code.
    pub code: u32,
    /// Human-readable explanation.
    pub message: String,
}

/// What a transaction did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// How it ended.
    pub status: Status,
    /// Returned values (empty unless `Ok`).
    pub returns: Vec<i128>,
    /// Gas consumed, charged even when the transaction fails.
    pub gas_used: u64,
    /// Events emitted (empty unless `Ok`).
    pub events: Vec<Event>,
    /// Present unless `Ok`.
    pub error: Option<ReceiptError>,
}

/// Why bytes could not become a runnable module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The bytes are not a well-formed module.
    Decode(ModuleError),
    /// The module is well-formed but unsafe to run.
    Verify(VerifyError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Decode(e) => e.fmt(f),
            LoadError::Verify(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for LoadError {}

/// Which engine runs a contract's code. Every mode gives the same receipts, bit for bit
/// and gas for gas; they differ only in speed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Always the interpreter (the reference).
    Interp,
    /// Compile each module on its first call and run it compiled.
    Jit,
    /// Interpret until a module is hot (see [`Tiering`]), then run it compiled.
    #[default]
    Auto,
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
struct CodeSlot {
    /// Gas used by interpreted calls into the module so far.
    gas: AtomicU64,
    compiled: OnceLock<Option<Arc<jit::Compiled>>>,
}

/// The engine's compiled modules, keyed by the module's bytes.
#[derive(Debug, Default)]
struct CodeCache {
    slots: Mutex<HashMap<Vec<u8>, Arc<CodeSlot>>>,
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

#[derive(Clone, Debug)]
struct Deployed {
    module: Arc<VerifiedModule>,
    code: Arc<CodeSlot>,
    /// Instructions in all its functions, each function's weighted by `ceil(registers /
    /// 32)` (see [`Tiering`]): what the Auto threshold multiplies.
    instructions: u64,
    /// Instructions in its largest function.
    largest_function: usize,
}

/// Deployed contracts and the limits they run under. Shared across threads (`Sync`):
/// execution only reads it (and fills the shared compiled-code cache).
#[derive(Clone, Debug, Default)]
pub struct Engine {
    limits: Limits,
    contracts: HashMap<Address, Deployed>,
    mode: Mode,
    tiering: Tiering,
    cache: Arc<CodeCache>,
}

impl Engine {
    /// An engine with the default limits and no contracts.
    pub fn new() -> Self {
        Self::default()
    }

    /// An engine with custom limits.
    pub fn with_limits(limits: Limits) -> Self {
        Engine {
            limits,
            ..Engine::default()
        }
    }

    /// Sets which engine runs code (default [`Mode::Auto`]).
    pub fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
    }

    /// The engine mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Sets when `Mode::Auto` compiles, and the code-memory bound.
    pub fn set_tiering(&mut self, tiering: Tiering) {
        self.tiering = tiering;
    }

    /// What the JIT has compiled so far.
    pub fn jit_stats(&self) -> JitStats {
        JitStats {
            modules: self.cache.modules.load(Ordering::Relaxed),
            code_bytes: self.cache.code_bytes.load(Ordering::Relaxed),
            compile_nanos: self.cache.compile_nanos.load(Ordering::Relaxed),
        }
    }

    /// The compiled code for `d`, compiling it now if `hot` and not yet tried.
    ///
    /// A borrow, not a clone of the `Arc`: threads of a parallel block would otherwise
    /// bounce its reference count between cores on every transaction.
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

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Decodes and verifies untrusted `.sbc` bytes.
    pub fn load(&self, bytes: &[u8]) -> Result<VerifiedModule, LoadError> {
        let module = Module::decode_with(bytes, &self.limits).map_err(LoadError::Decode)?;
        self.verify(module)
    }

    /// Verifies a module built in memory.
    pub fn verify(&self, module: Module) -> Result<VerifiedModule, LoadError> {
        VerifiedModule::new(module, &self.limits).map_err(LoadError::Verify)
    }

    /// Makes `module` callable at `address` (replacing any contract there).
    pub fn deploy(&mut self, address: Address, module: VerifiedModule) {
        let bytes = module.module().encode();
        let code = self
            .cache
            .slots
            .lock()
            .map(|mut slots| slots.entry(bytes).or_default().clone())
            .unwrap_or_default();
        self.contracts.insert(
            address,
            Deployed {
                instructions: module
                    .module()
                    .functions
                    .iter()
                    .map(|f| f.code.len() as u64 * u64::from(f.registers.div_ceil(32)))
                    .sum(),
                largest_function: module
                    .module()
                    .functions
                    .iter()
                    .map(|f| f.code.len())
                    .max()
                    .unwrap_or(0),
                module: Arc::new(module),
                code,
            },
        );
    }

    /// The contract at `address`.
    pub fn contract(&self, address: Address) -> Option<&Arc<VerifiedModule>> {
        self.contracts.get(&address).map(|d| &d.module)
    }

    /// Runs `tx` against `state`: its writes stay in the cache if it succeeds and are rolled
    /// back otherwise. Never panics; every failure is in the receipt.
    pub fn execute<S: Storage>(
        &self,
        tx: &Transaction,
        block: &BlockEnv,
        state: &mut StateCache<S>,
    ) -> Receipt {
        self.execute_in(tx, block, state)
    }

    /// [`Engine::execute`] over any [`TxState`]: the sequential cache, or a speculative
    /// view of the parallel executor.
    pub fn execute_in<T: TxState>(
        &self,
        tx: &Transaction,
        block: &BlockEnv,
        state: &mut T,
    ) -> Receipt {
        self.execute_traced(tx, block, state, &mut NoTrace)
    }

    /// [`Engine::execute_in`] with `tracer`'s hooks around every instruction. A traced
    /// transaction always runs on the interpreter, the reference (the JIT has no
    /// per-instruction hooks); its receipt is the one every engine gives.
    pub fn execute_traced<T: TxState, R: Tracer>(
        &self,
        tx: &Transaction,
        block: &BlockEnv,
        state: &mut T,
        tracer: &mut R,
    ) -> Receipt {
        let fail = |gas_used, error: VmError| Receipt {
            status: Status::Error,
            returns: Vec::new(),
            gas_used,
            events: Vec::new(),
            error: Some(ReceiptError {
                code: error.code() as u32,
                message: error.to_string(),
            }),
        };
        if tx.gas_limit < gas::TX_BASE {
            return fail(tx.gas_limit, VmError::OutOfGas);
        }
        let Some(deployed) = self.contracts.get(&tx.contract) else {
            return fail(gas::TX_BASE, VmError::UnknownContract(tx.contract));
        };
        let module = &deployed.module;
        let Some(export) = module.export_entry(&tx.function) else {
            return fail(gas::TX_BASE, VmError::UnknownFunction(tx.function.clone()));
        };
        let function = export.function as usize;
        // Arguments are untrusted: a declared bool must be 0 or 1 (every other type accepts
        // all 128-bit values). The count is checked by the interpreter.
        let bad = export
            .params
            .iter()
            .zip(&tx.args)
            .position(|(t, &v)| *t == ValueType::Bool && !(0..=1).contains(&v));
        if let Some(index) = bad {
            return fail(gas::TX_BASE, VmError::ArgumentType { index });
        }
        let call = Call {
            caller: tx.caller,
            contract: tx.contract,
            function,
            args: &tx.args,
            gas_limit: tx.gas_limit - gas::TX_BASE,
        };
        state.begin_tx();
        let compiled = match self.mode {
            _ if R::ENABLED => None,
            Mode::Interp => None,
            Mode::Jit => self.compiled(deployed, true),
            Mode::Auto => self.compiled(deployed, false),
        };
        let run = match compiled {
            Some(c) => jit::run(c, module, call, block, state, &self.limits),
            None if R::ENABLED => {
                let run = interp::run_traced(module, call, block, state, &self.limits, tracer);
                tracer.finish(&run.halt, call.gas_limit - run.gas_used);
                run
            }
            None => {
                let run = interp::run(module, call, block, state, &self.limits);
                if self.mode == Mode::Auto {
                    let before = deployed.code.gas.fetch_add(run.gas_used, Ordering::Relaxed);
                    let threshold = self
                        .tiering
                        .gas_per_instruction
                        .saturating_mul(deployed.instructions);
                    if before.saturating_add(run.gas_used) >= threshold {
                        // Hot: compile now, for the next call.
                        let _ = self.compiled(deployed, true);
                    }
                }
                run
            }
        };
        let gas_used = gas::TX_BASE + run.gas_used;
        match run.halt {
            Halt::Return(returns) => {
                state.commit_tx();
                Receipt {
                    status: Status::Ok,
                    returns,
                    gas_used,
                    events: run.events,
                    error: None,
                }
            }
            Halt::Revert(code) => {
                state.revert_tx();
                Receipt {
                    status: Status::Revert,
                    returns: Vec::new(),
                    gas_used,
                    events: Vec::new(),
                    error: Some(ReceiptError {
                        code,
                        message: format!("reverted with code {code}"),
                    }),
                }
            }
            Halt::Error(e) => {
                state.revert_tx();
                fail(gas_used, e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bool_argument_must_be_0_or_1() {
        let mut engine = Engine::new();
        let module = crate::isa::assemble(".func f(bool) -> (bool) regs 1 export\n    RET r0, 1\n")
            .expect("assembles");
        let verified = engine.verify(module).expect("verifies");
        engine.deploy(1, verified);
        let mut state = StateCache::new(crate::state::MemoryStorage::new());
        let tx = |v| Transaction {
            caller: 0,
            contract: 1,
            function: "f".into(),
            args: vec![v],
            gas_limit: 1000,
        };
        let ok = engine.execute(&tx(1), &BlockEnv::default(), &mut state);
        assert_eq!((ok.status, ok.returns), (Status::Ok, vec![1]));
        let bad = engine.execute(&tx(7), &BlockEnv::default(), &mut state);
        assert_eq!(
            (bad.status, bad.error.map(|e| e.code)),
            (Status::Error, Some(16))
        );
    }

    #[test]
    fn engine_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Engine>();
        check::<VerifiedModule>();
        check::<Receipt>();
    }
}
