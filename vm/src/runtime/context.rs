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

use super::gas;
use super::outcome::{BlockEnv, Call, Event, Execution, Halt, Stop, VmError};
use crate::isa::{EnvValue, Limits, StorageOp, VerifiedModule};
use crate::native::{self, Native};
use crate::state::{Access, AddOutcome, Slot, TxState};

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
    events: Vec<Event>,
    /// Storage writes so far (see `Limits::max_storage_writes_per_tx`).
    writes: u32,
    /// The arrays of every frame on the stack, each frame's after its caller's.
    pub(crate) memory: Vec<i128>,
}

#[cold]
fn out_of_gas() -> Stop {
    Stop::Error(VmError::OutOfGas)
}

impl<'a, T: TxState + ?Sized> Runtime<'a, T> {
    /// The context of `call` in `block`, writing to `state`.
    pub(crate) fn new(
        module: &'a VerifiedModule,
        call: &Call<'_>,
        block: &BlockEnv,
        state: &'a mut T,
        limits: &'a Limits,
    ) -> Self {
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
            events: Vec::new(),
            writes: 0,
            memory: Vec::new(),
        }
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
        if frames >= self.limits.max_call_depth as usize {
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
        let cold = self.state.touch(slot) == Access::Cold;
        self.charge(gas::STORE_BASE + if cold { gas::STORE_COLD } else { 0 })?;
        if self.writes >= self.limits.max_storage_writes_per_tx {
            return Err(Stop::Error(VmError::WriteLimit {
                limit: self.limits.max_storage_writes_per_tx,
            }));
        }
        self.writes += 1;
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
        self.charge(gas::EMIT_BASE + gas::EMIT_PER_VALUE * values.len() as u64)?;
        if self.events.len() >= self.limits.max_events_per_tx as usize {
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
        self.events.push(Event {
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
        native::run(n, args, out, &mut env).map_err(VmError::Native)?;
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
        if total > u64::from(self.limits.max_memory_words) {
            return Err(Stop::Error(VmError::MemoryLimit {
                words: total,
                limit: self.limits.max_memory_words,
            }));
        }
        self.memory.truncate(top);
        self.memory.resize(total as usize, 0);
        Ok(total as usize)
    }

    /// How the run ended, with its gas and (only when it returned) its events.
    pub(crate) fn finish(self, result: Result<Vec<i128>, Stop>, gas_limit: u64) -> Execution {
        let halt = match result {
            Ok(values) => Halt::Return(values),
            Err(stop) => stop.into(),
        };
        let events = match halt {
            Halt::Return(_) => self.events,
            _ => Vec::new(),
        };
        Execution {
            halt,
            gas_used: gas_limit - self.gas_left,
            events,
        }
    }
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
