//! Transaction execution: the embedding API.
//!
//! ```
//! use strike_vm::exec::{Engine, Transaction, Status};
//! use strike_vm::runtime::BlockEnv;
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
mod code;
pub mod parallel;
pub mod sharded;

pub use block::{
    execute_block, receipts_digest, state_digest, BlockError, BlockStats, Fallback, Paths,
};
use code::{CodeCache, CodeSlot};
pub use code::{JitStats, Tiering};
pub use parallel::{execute_block_parallel, execute_block_stm, Executor, ParallelConfig};

use crate::interp::trace::{NoTrace, Tracer};
use crate::isa::{Export, Limits, Module, ModuleError, ValueType, VerifiedModule, VerifyError};
use crate::runtime::{gas, BlockEnv, Call, Event, Halt, Shared, VmError};
use crate::state::{Address, StateCache, Storage, TxState};
use hashbrown::HashMap;
use std::fmt;
use std::sync::Arc;

/// The receipt of a transaction that failed with `error` after `gas_used`.
fn fail(gas_used: u64, error: VmError) -> Receipt {
    Receipt {
        status: Status::Error,
        returns: Vec::new(),
        gas_used,
        events: Vec::new(),
        error: Some(ReceiptError {
            code: error.code() as u32,
            message: error.to_string(),
            path: Vec::new(),
        }),
    }
}

/// A transaction's contract, export and the export's index, if both exist.
pub(crate) type Found<'e> = Option<(&'e Deployed, &'e Export, usize)>;

/// Finds transactions' contracts and exports, remembering the last one found.
#[derive(Default)]
pub(crate) struct Resolver<'e> {
    last: Option<(Address, String, Found<'e>)>,
}

impl<'e> Resolver<'e> {
    /// What `tx` calls on `engine`.
    pub(crate) fn find(&mut self, engine: &'e Engine, tx: &Transaction) -> Found<'e> {
        if let Some((contract, function, found)) = &self.last {
            if *contract == tx.contract && *function == tx.function {
                return *found;
            }
        }
        let found = engine.resolve(tx);
        self.last = Some((tx.contract, tx.function.clone(), found));
        found
    }
}

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
    /// Human-readable explanation: for a revert, the message the failing contract's source
    /// gives its code (from its ABI), else `reverted with code N`.
    pub message: String,
    /// The call path from the transaction's export to where it failed, the failing
    /// contract and export last (one entry when the transaction's own contract failed;
    /// empty when it failed before running, e.g. an unknown contract).
    pub path: Vec<CallFrame>,
}

impl ReceiptError {
    /// The contract and export where the transaction failed, if it ran.
    pub fn failed_in(&self) -> Option<&CallFrame> {
        self.path.last()
    }
}

/// One contract on a call path: its address and the export it ran.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CallFrame {
    /// The contract.
    pub contract: Address,
    /// The export's name.
    pub function: String,
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

#[derive(Clone, Debug)]
pub(crate) struct Deployed {
    module: Arc<VerifiedModule>,
    code: Arc<CodeSlot>,
    /// Instructions in all its functions, each function's weighted by `ceil(registers /
    /// 32)` (see [`Tiering`]): what the Auto threshold multiplies.
    instructions: u64,
    /// How its exports take part in sharded blocks (from the module's footprints).
    plan: Arc<sharded::plan::Plan>,
    /// Instructions in its largest function.
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
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
        let plan = sharded::plan::Plan::new(&module);
        self.deploy_with_plan(address, module, plan);
    }

    /// Deploys `module` with footprints other than the ones the VM derives, one per
    /// function: only for tests of the run-time guard, which must catch every access
    /// outside a wrong footprint and fall back with the exact sequential results.
    #[doc(hidden)]
    pub fn deploy_with_footprints(
        &mut self,
        address: Address,
        module: VerifiedModule,
        footprints: &[crate::isa::Footprint],
    ) {
        let plan = sharded::plan::Plan::from_footprints(&module, footprints);
        self.deploy_with_plan(address, module, plan);
    }

    fn deploy_with_plan(
        &mut self,
        address: Address,
        module: VerifiedModule,
        plan: sharded::plan::Plan,
    ) {
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
                plan: Arc::new(plan),
            },
        );
    }

    /// The sharded-block plan of the contract at `address`.
    pub(crate) fn plan_of(&self, address: Address) -> Option<&sharded::plan::Plan> {
        self.contracts.get(&address).map(|d| &*d.plan)
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
        if tx.gas_limit < gas::TX_BASE {
            return fail(tx.gas_limit, VmError::OutOfGas);
        }
        let Some(deployed) = self.contracts.get(&tx.contract) else {
            return fail(gas::TX_BASE, VmError::UnknownContract(tx.contract));
        };
        let Some(export) = deployed.module.export_entry(&tx.function) else {
            return fail(gas::TX_BASE, VmError::UnknownFunction(tx.function.clone()));
        };
        self.execute_export(deployed, export, tx, block, state, tracer)
    }

    /// The deployed contract and export `tx` calls, if both exist, with the export's
    /// index in the module.
    pub(crate) fn resolve(&self, tx: &Transaction) -> Option<(&Deployed, &Export, usize)> {
        let deployed = self.contracts.get(&tx.contract)?;
        let index = deployed.module.export_index(&tx.function)?;
        let export = deployed.module.module().exports.get(index)?;
        Some((deployed, export, index))
    }

    /// [`Engine::execute_in`] through `resolver`, which remembers the last contract and
    /// export it found (blocks are mostly runs of calls to a few exports).
    pub(crate) fn execute_resolved<'e, T: TxState>(
        &'e self,
        resolver: &mut Resolver<'e>,
        tx: &Transaction,
        block: &BlockEnv,
        state: &mut T,
    ) -> Receipt {
        match resolver.find(self, tx) {
            Some((deployed, export, _)) => {
                self.execute_export(deployed, export, tx, block, state, &mut NoTrace)
            }
            None => self.execute_in(tx, block, state),
        }
    }

    /// [`Engine::execute_traced`] once `tx`'s contract and export are found.
    pub(crate) fn execute_export<T: TxState, R: Tracer>(
        &self,
        deployed: &Deployed,
        export: &Export,
        tx: &Transaction,
        block: &BlockEnv,
        state: &mut T,
        tracer: &mut R,
    ) -> Receipt {
        if tx.gas_limit < gas::TX_BASE {
            return fail(tx.gas_limit, VmError::OutOfGas);
        }
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
        let mut shared = Shared::default();
        state.begin_tx();
        let run = self.run(deployed, call, block, state, &mut shared, tracer);
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
                let path = self.call_path(&shared, &tx.function);
                let message = path
                    .last()
                    .and_then(|f| self.contracts.get(&f.contract))
                    .and_then(|d| d.module.module().abi.message(code))
                    .map_or_else(|| format!("reverted with code {code}"), str::to_string);
                Receipt {
                    status: Status::Revert,
                    returns: Vec::new(),
                    gas_used,
                    events: Vec::new(),
                    error: Some(ReceiptError {
                        code,
                        message,
                        path,
                    }),
                }
            }
            Halt::Error(e) => {
                state.revert_tx();
                let mut receipt = fail(gas_used, e);
                if let Some(error) = receipt.error.as_mut() {
                    error.path = self.call_path(&shared, &tx.function);
                }
                receipt
            }
        }
    }

    /// The call path where a transaction failed: the stack as the failure left it (a
    /// failing call is never popped), the entry's export being `entry`, the transaction's.
    fn call_path(&self, shared: &Shared, entry: &str) -> Vec<CallFrame> {
        shared
            .sites()
            .iter()
            .map(|site| CallFrame {
                contract: site.contract,
                function: match site.export {
                    u32::MAX => entry.to_string(),
                    k => self
                        .contracts
                        .get(&site.contract)
                        .and_then(|d| d.module.module().exports.get(k as usize))
                        .map_or_else(String::new, |e| e.name.clone()),
                },
            })
            .collect()
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
