//! Execution traces: one [`Step`] per executed instruction, from the interpreter.
//!
//! The interpreter is generic over a [`Tracer`]; [`NoTrace`] compiles every hook away, so
//! untraced execution pays nothing. [`Recorder`] turns the hooks into [`Step`]s for the
//! CLI's `--trace` (JSON lines, `spec/trace.md`), `--gas-profile` and `--gas-report`.
//!
//! Gas is shown per instruction. The interpreter charges a basic block's static gas when it
//! enters the block; a step shows instead the gas left *as if* each instruction paid its own
//! static gas when it ran (`gas`), and what the instruction cost (`gas_cost`: its static
//! gas plus any dynamic charge). The two accounts agree at every block boundary and at the
//! end, so the costs of a run's steps sum to its gas used. When a block's static charge does
//! not fit, its first instruction is the last step: its cost is the block's charge and its
//! error is out of gas.
//!
//! Calls between contracts are followed: an XCALL's step ends when the callee starts (its
//! cost is its static and dynamic charge), the callee's steps follow with its contract's
//! address and the depth continuing from the caller's, and the caller's steps resume after
//! it. A traced transaction runs every contract on the interpreter.
//!
//! Registers are those of the instruction's own frame. CALL reads its arguments, RET and
//! EMIT their values, NATIVE its arguments and writes its results; a CALL's results show
//! up as the caller's registers at its next steps.

use crate::isa::{Effect, Instr, Opcode};
use crate::runtime::Halt;
use crate::state::Slot;

pub(crate) use crate::runtime::hooks::Nested;
pub use crate::runtime::hooks::{At, DynTracer, NoTrace, Tracer};

/// A storage slot an instruction touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StorageAccess {
    /// The slot.
    pub slot: Slot,
    /// Its value before the instruction.
    pub before: i128,
    /// Its value after.
    pub after: i128,
}

/// Why the run stopped at a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepError {
    /// The revert code, or the VM error's code.
    pub code: u32,
    /// What happened.
    pub message: String,
}

/// One executed instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The contract it ran in.
    pub contract: crate::state::Address,
    /// Call depth, 1 for the entry function, counting every contract's frames.
    pub depth: usize,
    /// Function index.
    pub function: usize,
    /// Index of the instruction in its function.
    pub pc: usize,
    /// The opcode.
    pub op: Opcode,
    /// Gas left before it, counting static gas per instruction (see the module docs).
    pub gas: u64,
    /// Its static gas plus its dynamic charges.
    pub gas_cost: u64,
    /// Registers read, with their values.
    pub reads: Vec<(u8, i128)>,
    /// Registers written, with their values before and after.
    pub writes: Vec<(u8, i128, i128)>,
    /// The storage slot it touched.
    pub storage: Option<StorageAccess>,
    /// Set on the last step when the run reverted or failed there.
    pub error: Option<StepError>,
}

/// The registers `instr` reads and writes in its own frame, from its operand roles (see the
/// module docs): a CALL's results land when its callee returns, so its step shows none.
pub fn registers(instr: Instr) -> (Vec<u8>, Vec<u8>) {
    let writes = match instr.op.info().effect {
        Effect::Call => Vec::new(),
        _ => instr.writes().collect(),
    };
    (instr.reads().collect(), writes)
}

/// Turns the hooks into [`Step`]s, handing each to `sink` as it completes.
pub struct Recorder<F: FnMut(Step)> {
    sink: F,
    pending: Option<Step>,
    /// Per frame on the stack: static gas its current block was charged that its
    /// instructions have not yet run (so not yet counted under the per-instruction account).
    owed: Vec<u64>,
    /// Gas left once the pending instruction's block was charged.
    body_gas: u64,
    /// The pending instruction starts a block whose charge does not fit.
    charge_fails: bool,
    block_gas: u64,
    /// The pending instruction's own static gas.
    static_gas: u64,
    written: Vec<u8>,
}

impl<F: FnMut(Step)> Recorder<F> {
    /// A recorder that hands every step to `sink`.
    pub fn new(sink: F) -> Self {
        Recorder {
            sink,
            pending: None,
            owed: Vec::new(),
            body_gas: 0,
            charge_fails: false,
            block_gas: 0,
            static_gas: 0,
            written: Vec::new(),
        }
    }
}

impl<F: FnMut(Step)> Tracer for Recorder<F> {
    const ENABLED: bool = true;

    fn before(&mut self, at: &At, regs: &[i128], storage: Option<(Slot, i128)>) {
        // Frames deeper than this one have returned; their blocks ended with their RET.
        self.owed.resize(at.depth.max(1), 0);
        let gas = at.gas_left.saturating_add(self.owed.iter().sum::<u64>());
        let fixed = at.static_gas;
        self.static_gas = fixed;
        if let Some(owed) = self.owed.last_mut() {
            if at.block_gas != 0 {
                *owed = at.block_gas;
            }
            *owed = owed.saturating_sub(fixed);
        }
        self.block_gas = at.block_gas;
        self.charge_fails = at.gas_left < at.block_gas;
        self.body_gas = at.gas_left.saturating_sub(at.block_gas);
        let value = |r: u8| regs.get(r as usize).copied().unwrap_or(0);
        let (reads, writes) = registers(at.instr);
        self.written = writes;
        self.pending = Some(Step {
            contract: at.contract,
            depth: at.depth,
            function: at.function,
            pc: at.pc,
            op: at.instr.op,
            gas,
            gas_cost: 0,
            reads: reads.into_iter().map(|r| (r, value(r))).collect(),
            writes: self.written.iter().map(|&r| (r, value(r), 0)).collect(),
            storage: storage.map(|(slot, before)| StorageAccess {
                slot,
                before,
                after: before,
            }),
            error: None,
        });
    }

    fn after(&mut self, regs: &[i128], gas_left: u64, storage: Option<i128>) {
        let Some(mut step) = self.pending.take() else {
            return;
        };
        step.gas_cost = self.static_gas + self.body_gas.saturating_sub(gas_left);
        for w in &mut step.writes {
            w.2 = regs.get(w.0 as usize).copied().unwrap_or(0);
        }
        if let (Some(access), Some(now)) = (&mut step.storage, storage) {
            access.after = now;
        }
        (self.sink)(step);
    }

    /// Completes the XCALL's step: its cost is what it was charged before its callee ran.
    fn call_start(&mut self, gas_left: u64) {
        if let Some(mut step) = self.pending.take() {
            step.gas_cost = self.static_gas + self.body_gas.saturating_sub(gas_left);
            (self.sink)(step);
        }
    }

    /// Completes the callee's last step (its entry function's RET, which ends its run).
    fn call_end(&mut self, gas_left: u64) {
        if let Some(mut step) = self.pending.take() {
            step.gas_cost = self.static_gas + self.body_gas.saturating_sub(gas_left);
            (self.sink)(step);
        }
    }

    /// Completes the last step from how the run ended and the gas it left.
    fn finish(&mut self, halt: &Halt, gas_left: u64) {
        let Some(mut step) = self.pending.take() else {
            return;
        };
        step.gas_cost = if self.charge_fails {
            self.block_gas
        } else {
            self.static_gas + self.body_gas.saturating_sub(gas_left)
        };
        step.error = match halt {
            Halt::Return(_) => None,
            Halt::Revert(code) => Some(StepError {
                code: *code,
                message: format!("reverted with code {code}"),
            }),
            Halt::Error(e) => Some(StepError {
                code: u32::from(e.code()),
                message: e.to_string(),
            }),
        };
        (self.sink)(step);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::{Engine, Transaction};
    use crate::runtime::BlockEnv;
    use crate::state::{MemoryStorage, StateCache};

    const PROGRAM: &str = "\
.func main() -> (int) regs 3 export
    LOADI r0, 5
    CALL r0, 1, 1, double
    ADDI r0, r0, 1
    RET r0, 1
.func double(int) -> (int) regs 2
    SSTORE r0, r0, 0
    SLOAD r1, r0, 0
    ADD r1, r1, r0
    RET r1, 1
";

    fn setup(gas_limit: u64) -> (Engine, Transaction) {
        let mut engine = Engine::new();
        let module = crate::isa::assemble(PROGRAM).expect("assembles");
        engine.deploy(1, engine.verify(module).expect("verifies"));
        let tx = Transaction {
            caller: 2,
            contract: 1,
            function: "main".into(),
            args: vec![],
            gas_limit,
        };
        (engine, tx)
    }

    fn trace(gas_limit: u64) -> (crate::exec::Receipt, Vec<Step>) {
        let (engine, tx) = setup(gas_limit);
        let mut steps = Vec::new();
        let mut state = StateCache::new(MemoryStorage::new());
        let mut recorder = Recorder::new(|s| steps.push(s));
        let receipt = engine.execute_traced(&tx, &BlockEnv::default(), &mut state, &mut recorder);
        (receipt, steps)
    }

    #[test]
    fn per_instruction_gas_adds_up_across_a_call_inside_a_block() {
        let (receipt, steps) = trace(10_000);
        let untraced = {
            let (engine, tx) = setup(10_000);
            let mut state = StateCache::new(MemoryStorage::new());
            engine.execute(&tx, &BlockEnv::default(), &mut state)
        };
        assert_eq!(receipt, untraced);
        assert_eq!(receipt.returns, vec![11]);
        let ops: Vec<Opcode> = steps.iter().map(|s| s.op).collect();
        use Opcode::*;
        assert_eq!(
            ops,
            [
                LoadInt,
                Call,
                StorageStore,
                StorageLoad,
                Add,
                Return,
                AddImm,
                Return
            ]
        );
        assert_eq!(steps[0].gas, 10_000 - crate::runtime::gas::TX_BASE);
        for w in steps.windows(2) {
            assert_eq!(w[1].gas, w[0].gas - w[0].gas_cost, "{:?}", w[1]);
        }
        let total: u64 = steps.iter().map(|s| s.gas_cost).sum();
        assert_eq!(total + crate::runtime::gas::TX_BASE, receipt.gas_used);
        // The cold SSTORE pays its dynamic charge; the SLOAD after it is warm.
        assert_eq!(steps[2].gas_cost, 2 + 4 + 100);
        assert_eq!(steps[3].gas_cost, 2 + 3);
        let store = steps[2].storage.expect("touches storage");
        assert_eq!((store.slot.key, store.before, store.after), (5, 0, 5));
        assert_eq!(steps[4].writes, vec![(1, 5, 10)]);
        assert_eq!(steps[4].reads, vec![(1, 5), (0, 5)]);
        assert_eq!((steps[2].depth, steps[6].depth), (2, 1));
        assert!(steps.iter().all(|s| s.error.is_none()));
    }

    #[test]
    fn out_of_gas_ends_the_trace_at_the_block_that_does_not_fit() {
        // Enough for main's first block and the callee's arrays-free entry, not the store.
        let (receipt, steps) = trace(crate::runtime::gas::TX_BASE + 10);
        assert_eq!(receipt.error.as_ref().map(|e| e.code), Some(10));
        let last = steps.last().expect("steps");
        assert_eq!(last.error.as_ref().map(|e| e.code), Some(10));
        assert!(steps.iter().rev().skip(1).all(|s| s.error.is_none()));
    }
}
