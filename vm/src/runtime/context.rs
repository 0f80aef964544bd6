//! [`Runtime`]: the transaction context both engines run in. Every effect an instruction
//! can have beyond its registers is one method here, written once: gas charging, storage
//! loads, stores and adds (warm/cold charges and the write limit), events (charge and
//! limit), natives (their dynamic gas and the test natives' changes to the environment),
//! the frame arrays' memory (charge and limit), the call-depth rule and how a run ends.
//! The interpreter calls these methods directly; the JIT's helpers call the same methods
//! through its context, which holds a `Runtime` as its first field.
//!
//! Guarantees: no method panics; every failure is a [`Stop`] with the state of the
//! transaction's writes left to the caller (the executor reverts them); gas is charged
//! before the work it pays for, and running out leaves `gas_left` at 0.

use super::calls::{CallSite, Host, Shared};
use super::gas;
use super::hooks::DynTracer;
use super::outcome::{BlockEnv, Call, Event, Execution, Halt, SignatureMismatch, Stop, VmError};
use crate::isa::{EnvValue, Limits, StorageOp, ValueType, VerifiedModule};
use crate::native::{self, Native};
use crate::state::{Access, AddOutcome, Address, Slot, TxState};

/// The environment instructions read: who calls, which contract runs, the block. The test
/// natives may change the caller and the timestamp for the rest of the run.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Env {
    /// The transaction's caller (CALLER).
    pub caller: u128,
    /// The executing contract (SELF), owner of the storage touched.
    pub contract: u128,
    /// The block number (BLOCK).
    pub number: u64,
    /// The block timestamp (TIME).
    pub timestamp: u64,
}

/// One run's context: gas, environment, storage, events and array memory.
///
/// `repr(C)` with `gas_left` and `env` first: compiled code reads and writes them at fixed
/// offsets (`crate::jit`), whatever the storage type.
#[repr(C)]
pub struct Runtime<'a, T: TxState + ?Sized> {
    /// Gas left for the instructions.
    pub(crate) gas_left: u64,
    /// What CALLER, SELF, BLOCK and TIME read.
    pub(crate) env: Env,
    module: &'a VerifiedModule,
    limits: &'a Limits,
    state: &'a mut T,
    /// What every run of the transaction shares: events, the write count, the stack of
    /// contracts (this run's on top), where a failure happened.
    shared: &'a mut Shared,
    /// The other deployed contracts, for XCALL (None: a run with no contracts to call).
    host: Option<&'a dyn Host>,
    /// A view call is running (here or below): no storage write, no event.
    view: bool,
    /// The arrays of every frame of this run, each frame's after its caller's.
    pub(crate) memory: Vec<i128>,
}

#[cold]
fn out_of_gas() -> Stop {
    Stop::Error(VmError::OutOfGas)
}

impl<'a, T: TxState + ?Sized> Runtime<'a, T> {
    /// The context of `call` in `block`, writing to `state`: the transaction's entry run,
    /// whose XCALLs find their contracts through `host`. Pushes the entry onto `shared`'s
    /// stack of contracts (as `export`).
    #[allow(
        clippy::too_many_arguments,
        reason = "each is one of the run's distinct inputs; a struct of them would only rename the list"
    )]
    #[inline]
    pub(crate) fn new(
        module: &'a VerifiedModule,
        call: &Call<'_>,
        block: &BlockEnv,
        state: &'a mut T,
        limits: &'a Limits,
        shared: &'a mut Shared,
        host: Option<&'a dyn Host>,
        export: u32,
    ) -> Self {
        shared.entry = Some(CallSite {
            contract: call.contract,
            export,
        });
        Runtime {
            gas_left: call.gas_limit,
            env: Env {
                caller: call.caller,
                contract: call.contract,
                number: block.number,
                timestamp: block.timestamp,
            },
            module,
            limits,
            state,
            shared,
            host,
            view: false,
            memory: Vec::new(),
        }
    }

    /// Frames of the runs below this one on the transaction's stack (a CALL's depth
    /// counts them: the limit is the transaction's, whichever contracts its frames are in).
    #[inline]
    pub(crate) fn outer_frames(&self) -> usize {
        self.shared.outer_frames
    }

    /// XCALL of import `import` with `window` (the callee's address, then its arguments),
    /// from a run with `frames` frames on its stack: the call charge; the depth and
    /// re-entrancy rules; the callee, its export and the export's signature against the
    /// import's; then the callee's run on its own storage, with this run's gas, as a view if
    /// the import (or a caller) is one. Returns its results. A failure anywhere below fails
    /// this run too, and the first to fail records the call path.
    pub(crate) fn call_contract(
        &mut self,
        import: u32,
        window: &[i128],
        frames: usize,
        mut tracer: Option<&mut dyn DynTracer>,
    ) -> Result<Vec<i128>, Stop> {
        self.charge(gas::CALL_CONTRACT)?;
        let module = self.module.module();
        // The verifier admitted the index and the window (the address, then the arguments).
        let (Some(import), Some((&address, args))) =
            (module.imports.get(import as usize), window.split_first())
        else {
            return Err(VmError::UnknownFunction(format!("import {import}")).into());
        };
        let address = address as Address;
        if self.shared.depth() >= self.limits.max_contract_depth as usize {
            return Err(VmError::ContractDepth {
                limit: self.limits.max_contract_depth,
            }
            .into());
        }
        if self.shared.on_stack(address) {
            return Err(VmError::Reentrancy { contract: address }.into());
        }
        let host = self.host.ok_or(VmError::UnknownContract(address))?;
        let callee = host
            .module(address)
            .ok_or(VmError::UnknownContract(address))?;
        let missing = || VmError::UnknownExport {
            contract: address,
            name: import.name.clone(),
        };
        let index = callee.export_index(&import.name).ok_or_else(missing)?;
        let export = callee.module().exports.get(index).ok_or_else(missing)?;
        if export.params != import.params || export.returns != import.returns {
            return Err(VmError::CallSignature(Box::new(SignatureMismatch {
                contract: address,
                name: import.name.clone(),
                expected: signature(&import.params, &import.returns),
                found: signature(&export.params, &export.returns),
            }))
            .into());
        }
        // The callee's entry frame is one more frame of the transaction.
        self.check_depth(frames)?;
        self.shared.calls.push(CallSite {
            contract: address,
            export: index as u32,
        });
        let words = self.memory.len() as u64;
        self.shared.outer_frames += frames;
        self.shared.outer_words += words;
        let child = Runtime {
            gas_left: self.gas_left,
            env: Env {
                caller: self.env.contract,
                contract: address,
                number: self.env.number,
                timestamp: self.env.timestamp,
            },
            module: callee,
            limits: self.limits,
            state: self.state.as_dyn(),
            shared: &mut *self.shared,
            host: Some(host),
            view: self.view || import.view,
            memory: Vec::new(),
        };
        if let Some(t) = tracer.as_deref_mut() {
            t.dyn_call_start(self.gas_left);
        }
        let function = export.function as usize;
        // Each use reborrows the tracer for that call alone (a trait object behind `&mut`
        // shortens its lifetime only through a coercion, not inside an Option).
        let hooks = tracer.as_deref_mut().map(|t| t as &mut dyn DynTracer);
        let (result, gas_left) = host.run(address, function, child, args, hooks);
        self.gas_left = gas_left;
        if let (Some(t), Ok(_)) = (tracer, &result) {
            t.dyn_call_end(gas_left);
        }
        self.shared.outer_frames -= frames;
        self.shared.outer_words -= words;
        let result = result.and_then(|values| {
            // A callee's bool must be 0 or 1, as the caller's code assumes.
            let bad = import
                .returns
                .iter()
                .zip(&values)
                .any(|(t, &v)| *t == ValueType::Bool && !(0..=1).contains(&v));
            if bad || values.len() != import.returns.len() {
                return Err(Stop::Error(VmError::CallSignature(Box::new(
                    SignatureMismatch {
                        contract: address,
                        name: import.name.clone(),
                        expected: signature(&import.params, &import.returns),
                        found: "a return value outside its type".into(),
                    },
                ))));
            }
            Ok(values)
        });
        // A failure leaves the callee on the stack: the transaction fails, and the stack
        // is then the path to where it did.
        if result.is_ok() {
            self.shared.calls.pop();
        }
        result
    }

    /// The limits in force.
    #[inline]
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub(crate) fn limits(&self) -> &'a Limits {
        self.limits
    }

    /// The module running.
    #[inline]
    pub(crate) fn module(&self) -> &'a VerifiedModule {
        self.module
    }

    /// Charges `gas` (static or dynamic) by the one rule, [`gas::charge`].
    #[inline]
    pub(crate) fn charge(&mut self, gas: u64) -> Result<(), Stop> {
        gas::charge(&mut self.gas_left, gas).map_err(|_| out_of_gas())
    }

    /// CALLER, SELF, BLOCK, TIME and GASLEFT.
    #[inline]
    pub(crate) fn env(&self, value: EnvValue) -> i128 {
        match value {
            EnvValue::Caller => self.env.caller as i128,
            EnvValue::Contract => self.env.contract as i128,
            EnvValue::BlockNumber => i128::from(self.env.number),
            EnvValue::Timestamp => i128::from(self.env.timestamp),
            EnvValue::GasLeft => i128::from(self.gas_left),
        }
    }

    /// A CALL with `frames` frames on the stack (the entry's included): allowed while
    /// fewer than `Limits::max_call_depth`.
    #[inline]
    pub(crate) fn check_depth(&self, frames: usize) -> Result<(), Stop> {
        if frames + self.shared.outer_frames >= self.limits.max_call_depth as usize {
            return Err(Stop::Error(VmError::CallDepth));
        }
        Ok(())
    }

    /// The slot `(executing contract, space, key)`.
    #[inline]
    pub(crate) fn slot(&self, space: u32, key: i128) -> Slot {
        Slot {
            contract: self.env.contract,
            space,
            key: key as u128,
        }
    }

    /// A slot's value as it is now, for traces (charges nothing, touches nothing).
    pub(crate) fn peek(&mut self, slot: Slot) -> i128 {
        self.state.read(slot).unwrap_or(0)
    }

    /// SLOAD: the warm or cold charge, then the read.
    #[inline]
    pub(crate) fn load(&mut self, space: u32, key: i128) -> Result<i128, Stop> {
        let slot = self.slot(space, key);
        let cold = self.state.touch(slot) == Access::Cold;
        self.charge(if cold {
            gas::SLOAD_COLD
        } else {
            gas::SLOAD_WARM
        })?;
        Ok(self.state.read(slot)?)
    }

    /// SSTORE (`value`), SADD (`value` is the delta) and SADDCAP (the delta, under `cap`):
    /// the write charge (cold on a first touch), the write limit, then the write. An add
    /// whose sum leaves the i128 range or exceeds the cap writes nothing and fails.
    #[inline]
    pub(crate) fn store(
        &mut self,
        op: StorageOp,
        space: u32,
        key: i128,
        value: i128,
        cap: i128,
    ) -> Result<(), Stop> {
        let slot = self.slot(space, key);
        if self.view {
            return Err(view_write(self.env.contract));
        }
        let cold = self.state.touch(slot) == Access::Cold;
        self.charge(gas::STORE_BASE + if cold { gas::STORE_COLD } else { 0 })?;
        if self.shared.writes >= self.limits.max_storage_writes_per_tx {
            return Err(Stop::Error(VmError::WriteLimit {
                limit: self.limits.max_storage_writes_per_tx,
            }));
        }
        self.shared.writes += 1;
        let outcome = match op {
            StorageOp::Store | StorageOp::Load => {
                self.state.write(slot, value)?;
                AddOutcome::Added
            }
            StorageOp::Add => self.state.add(slot, value, None)?,
            StorageOp::AddCapped => self.state.add(slot, value, Some(cap))?,
        };
        match outcome {
            AddOutcome::Added => Ok(()),
            AddOutcome::Overflow => Err(crate::math::MathError::Overflow.into()),
            AddOutcome::OverCap => Err(Stop::Error(VmError::CapExceeded { cap })),
        }
    }

    /// EMIT of event `event` with `values`: the charge, the per-transaction event limit,
    /// then the event.
    pub(crate) fn emit(&mut self, event: u32, values: &[i128]) -> Result<(), Stop> {
        if self.view {
            return Err(view_write(self.env.contract));
        }
        self.charge(gas::EMIT_BASE + gas::EMIT_PER_VALUE * values.len() as u64)?;
        if self.shared.events.len() >= self.limits.max_events_per_tx as usize {
            return Err(Stop::Error(VmError::EventLimit {
                limit: self.limits.max_events_per_tx,
            }));
        }
        let name = self
            .module
            .module()
            .events
            .get(event as usize)
            .cloned()
            .unwrap_or_default();
        self.shared.events.push(Event {
            contract: self.env.contract,
            name,
            values: values.to_vec(),
        });
        Ok(())
    }

    /// NATIVE `id` on `args`: its dynamic gas (a function of the argument count), then
    /// the native, whose results go to `out`; returns how many. The test natives change
    /// the caller and timestamp later instructions read.
    pub(crate) fn native(
        &mut self,
        id: u32,
        args: &[i128],
        out: &mut native::Results,
    ) -> Result<usize, Stop> {
        // The verifier admitted the id and count; an unknown one could only be a verifier bug.
        let n = Native::from_id(id)
            .ok_or_else(|| VmError::UnknownFunction(format!("native {id:#x}")))?;
        self.charge(n.gas(args.len() as u8))?;
        let mut env = native::Env {
            caller: self.env.caller,
            timestamp: self.env.timestamp,
        };
        native::run(n, args, out, &mut env).map_err(|fault| match fault {
            native::Fault::Argument(e) => VmError::Native(e),
            native::Fault::Math(e) => VmError::Math(e),
        })?;
        self.env.caller = env.caller;
        self.env.timestamp = env.timestamp;
        Ok(usize::from(n.info().results))
    }

    /// Entering a frame of `function` whose arrays start at element `top` of the memory:
    /// the arrays' charge and the memory limit, then the arrays zeroed. Returns the new
    /// top. A function without arrays costs and changes nothing.
    pub(crate) fn enter_arrays(&mut self, function: usize, top: usize) -> Result<usize, Stop> {
        let words = u64::from(self.module.array_words(function));
        if words == 0 {
            return Ok(top);
        }
        self.charge(words * gas::ARRAY_WORD)?;
        let total = top as u64 + words;
        if total + self.shared.outer_words > u64::from(self.limits.max_memory_words) {
            return Err(Stop::Error(VmError::MemoryLimit {
                words: total + self.shared.outer_words,
                limit: self.limits.max_memory_words,
            }));
        }
        self.memory.truncate(top);
        self.memory.resize(total as usize, 0);
        Ok(total as usize)
    }
}

/// How a transaction's entry run ended with `gas_left` of `gas_limit`: its gas and (only
/// when it returned) the events of every run in it.
#[inline]
pub(crate) fn finish(
    result: Result<Vec<i128>, Stop>,
    gas_left: u64,
    gas_limit: u64,
    shared: &mut Shared,
) -> Execution {
    let halt = match result {
        Ok(values) => Halt::Return(values),
        Err(stop) => stop.into(),
    };
    let events = match halt {
        Halt::Return(_) => std::mem::take(&mut shared.events),
        _ => Vec::new(),
    };
    Execution {
        halt,
        gas_used: gas_limit - gas_left,
        events,
    }
}

/// A signature as messages write it: `(fx, int) -> (bool)`.
fn signature(params: &[ValueType], returns: &[ValueType]) -> String {
    use crate::isa::abi::type_names;
    format!("({}) -> ({})", type_names(params), type_names(returns))
}

/// A store, add or emit inside a view call.
#[cold]
fn view_write(contract: Address) -> Stop {
    Stop::Error(VmError::ViewWrite { contract })
}

/// Where element `index` of array `array` lies in the memory, for a frame whose arrays
/// start at `base` and whose array offsets are `offsets` (from the verifier); out of
/// bounds is an error. ALOAD and ASTORE in the interpreter; the JIT inlines this check and
/// raises the same error.
#[inline]
pub(crate) fn element(
    offsets: &[u32],
    base: usize,
    array: usize,
    index: i128,
) -> Result<usize, Stop> {
    let (start, end) = match (offsets.get(array), offsets.get(array + 1)) {
        (Some(&s), Some(&e)) => (s, e),
        _ => (0, 0),
    };
    let length = end.saturating_sub(start);
    if index < 0 || index >= i128::from(length) {
        return Err(index_out_of_bounds(index, length));
    }
    Ok(base + start as usize + index as usize)
}

/// ALOAD or ASTORE at `index` of an array of `length` elements, outside it.
#[cold]
pub(crate) fn index_out_of_bounds(index: i128, length: u32) -> Stop {
    Stop::Error(VmError::IndexOutOfBounds { index, length })
}
