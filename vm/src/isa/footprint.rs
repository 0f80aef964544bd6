//! Footprints: what each function of a verified module may do to storage, derived from its
//! bytecode (never from the compiler, which the VM does not trust).
//!
//! A [`Footprint`] lists storage accesses: the operation (load, store, add, capped add), the
//! storage space (the instruction's immediate) and the key as a symbol over the call: the
//! caller, the executing contract, one of the function's arguments, or a constant. A key
//! the analysis does not follow (read from storage, computed by arithmetic, returned by a
//! call or a native, merged from two different symbols) is [`Key::Any`]; a function on a
//! call cycle is [`Footprint::opaque`] (it may touch anything).
//!
//! The analysis is a forward data-flow over the verifier's CFG with a flat lattice per
//! register (unset, one symbol, unknown): registers start as the arguments and zeros (a
//! frame is zeroed on entry), MOV copies a symbol, LOADI/LOADFX/LOADK make constants,
//! CALLER and SELF make the environment symbols, and every other write makes the register
//! unknown. A CALL adds the callee's footprint with its arguments replaced by the caller's
//! symbols for the window. Accesses are collected from every reachable instruction, so the
//! footprint covers every path (it may list accesses a run never makes, never the reverse).
//!
//! Guarantee (tested over random modules and every stdlib contract): every storage access
//! of every execution of an export lies inside its footprint instantiated with the
//! transaction's caller, contract and arguments ([`Footprint::allows`]).

use super::opcode::{Effect, EnvValue, Opcode, StorageOp};
use super::{Module, Role};
use crate::isa::Cfg;
use crate::state::{Address, Slot};

/// A storage key as a symbol over the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// The transaction's caller.
    Caller,
    /// The executing contract's address.
    Contract,
    /// The function's argument with this index.
    Arg(u8),
    /// A constant.
    Const(i128),
    /// Anything: the analysis does not know the key.
    Any,
}

impl std::fmt::Display for Key {
    /// How footprints name keys (spec/footprints.md): `caller`, `self`, `arg0`..,
    /// the constant in decimal, `?` for unknown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Caller => write!(f, "caller"),
            Key::Contract => write!(f, "self"),
            Key::Arg(i) => write!(f, "arg{i}"),
            Key::Const(c) => write!(f, "{c}"),
            Key::Any => write!(f, "?"),
        }
    }
}

impl std::fmt::Display for Access {
    /// `load space 3 key caller`, and so on.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = match self.op {
            StorageOp::Load => "load",
            StorageOp::Store => "store",
            StorageOp::Add => "add",
            StorageOp::AddCapped => "add-capped",
        };
        write!(f, "{op} space {} key {}", self.space, self.key)
    }
}

/// One storage access a function may make: `op` on key `key` of space `space`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Access {
    /// Load, store, add or capped add.
    pub op: StorageOp,
    /// The storage space (SLOAD/SSTORE/SADD/SADDCAP's immediate).
    pub space: u32,
    /// The key.
    pub key: Key,
}

/// What a function may do to its contract's storage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Every access it may make, sorted, without repeats.
    pub accesses: Vec<Access>,
    /// It may make any access at all (it lies on a call cycle, or calls one that does,
    /// or calls another contract through an import that is not a view).
    pub opaque: bool,
    /// It calls other contracts through view imports (here or in a function it calls).
    /// A view callee writes nothing (the VM refuses it); what it reads is another
    /// contract's storage, which this footprint cannot name: the executors check each such
    /// read when it happens, against the callee contract's own plan (only slots no
    /// concurrent transaction can change are allowed; any other is an escape).
    pub calls_view: bool,
}

/// The concrete values a footprint's symbols take in one transaction.
#[derive(Clone, Copy, Debug)]
pub struct Binding<'a> {
    /// The caller.
    pub caller: Address,
    /// The contract.
    pub contract: Address,
    /// The arguments.
    pub args: &'a [i128],
}

impl Binding<'_> {
    /// The key a symbol names in this transaction; `None` for [`Key::Any`] and for an
    /// argument the transaction does not have.
    pub fn key(&self, key: Key) -> Option<u128> {
        match key {
            Key::Caller => Some(self.caller),
            Key::Contract => Some(self.contract),
            Key::Arg(i) => self.args.get(usize::from(i)).map(|&v| v as u128),
            Key::Const(c) => Some(c as u128),
            Key::Any => None,
        }
    }
}

impl Footprint {
    /// Whether every key is known: no [`Key::Any`], not opaque.
    pub fn is_known(&self) -> bool {
        !self.opaque && self.accesses.iter().all(|a| a.key != Key::Any)
    }

    /// Whether `op` on `slot` lies inside the footprint bound to `binding` (an access in
    /// another contract never does).
    pub fn allows(&self, op: StorageOp, slot: Slot, binding: &Binding<'_>) -> bool {
        if slot.contract != binding.contract {
            return false;
        }
        self.opaque
            || self.accesses.iter().any(|a| {
                a.op == op
                    && a.space == slot.space
                    && (a.key == Key::Any || binding.key(a.key) == Some(slot.key))
            })
    }

    fn add(&mut self, access: Access) {
        self.accesses.push(access);
    }

    fn finish(&mut self) {
        self.accesses.sort_unstable();
        self.accesses.dedup();
    }
}

/// A register's abstract value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    /// Not yet reached.
    Unset,
    /// Exactly this symbol on every path.
    Is(Key),
    /// Unknown.
    Any,
}

impl Val {
    fn join(self, other: Val) -> Val {
        match (self, other) {
            (Val::Unset, v) | (v, Val::Unset) => v,
            (Val::Is(a), Val::Is(b)) if a == b => self,
            _ => Val::Any,
        }
    }

    fn key(self) -> Key {
        match self {
            Val::Is(k) => k,
            Val::Unset | Val::Any => Key::Any,
        }
    }
}

/// Work (instruction and register visits) the analysis may do for one module; past it,
/// the functions not yet summarized are opaque. A hostile module cannot make verification
/// slow: the cost is bounded whatever its code (real contracts use a few thousand).
pub const MODULE_WORK: u64 = 1 << 24;
/// Register-by-block cells one function's table may hold (8 MiB); a larger function is
/// opaque.
pub const FUNCTION_CELLS: usize = 1 << 18;
/// Distinct accesses one footprint may list; a function with more is opaque.
pub const MAX_ACCESSES: usize = 4096;

/// The footprint of every function of `module`, by index. `cfg(f)` is function `f`'s CFG
/// (the verifier's), so this runs only on verified modules. Callees are summarized before
/// their callers, with an explicit stack (no recursion, whatever the call depth).
#[allow(
    clippy::indexing_slicing,
    reason = "`f`, `root` and every CALL target are function indices the verifier checked; `state` and `out` have one entry per function; `pc` is checked against the code length"
)]
pub fn analyze<'c>(module: &Module, cfg: impl Fn(usize) -> Option<&'c Cfg>) -> Vec<Footprint> {
    let n = module.functions.len();
    let mut state = vec![State::Todo; n];
    let mut out = vec![Footprint::default(); n];
    let mut budget = MODULE_WORK;
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in 0..n {
        if state[root] != State::Todo {
            continue;
        }
        state[root] = State::Running;
        stack.push((root, 0));
        while let Some(&(f, pc)) = stack.last() {
            let code = &module.functions[f].code;
            let mut next = pc;
            let mut callee = None;
            while next < code.len() {
                let instr = code[next];
                next += 1;
                if instr.op == Opcode::Call {
                    let c = instr.imm as usize;
                    if c < n && state[c] == State::Todo {
                        callee = Some(c);
                        break;
                    }
                }
            }
            if let Some(top) = stack.last_mut() {
                top.1 = next;
            }
            if let Some(c) = callee {
                state[c] = State::Running;
                stack.push((c, 0));
                continue;
            }
            stack.pop();
            let mut fp = Footprint::default();
            match cfg(f) {
                Some(cfg) if budget > 0 => {
                    flow(module, f, cfg, &state, &out, &mut fp, &mut budget);
                }
                _ => fp.opaque = true,
            }
            fp.finish();
            if fp.opaque || fp.accesses.len() > MAX_ACCESSES {
                fp.accesses.clear();
                fp.opaque = true;
            }
            out[f] = fp;
            state[f] = State::Done;
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Todo,
    Running,
    Done,
}

/// The data-flow over `f`'s CFG to a fixed point, then one pass collecting accesses,
/// charging `budget`; a function too large or out of budget is opaque.
#[allow(
    clippy::indexing_slicing,
    reason = "registers and windows are below the frame size, blocks and successors index the CFG's own blocks, CALL targets are verified function indices: all checked by the verifier"
)]
fn flow(
    module: &Module,
    f: usize,
    cfg: &Cfg,
    state: &[State],
    out: &[Footprint],
    fp: &mut Footprint,
    budget: &mut u64,
) {
    let function = &module.functions[f];
    let regs = usize::from(function.registers);
    let blocks = cfg.blocks();
    if blocks.is_empty() {
        return;
    }
    if blocks.len().saturating_mul(regs.max(1)) > FUNCTION_CELLS {
        fp.opaque = true;
        return;
    }
    let mut spend = |cost: usize| -> bool {
        *budget = budget.saturating_sub(cost as u64);
        *budget > 0
    };
    let mut entry = vec![vec![Val::Unset; regs]; blocks.len()];
    entry[0] = (0..regs)
        .map(|r| {
            if r < usize::from(function.params) {
                Val::Is(Key::Arg(r as u8))
            } else {
                Val::Is(Key::Const(0))
            }
        })
        .collect();
    let mut work: Vec<usize> = vec![0];
    let mut queued = vec![false; blocks.len()];
    queued[0] = true;
    let mut regs_now = Vec::with_capacity(regs);
    while let Some(b) = work.pop() {
        queued[b] = false;
        let block = &blocks[b];
        if !spend(regs + (block.end - block.start) + block.successors.len() * regs) {
            fp.opaque = true;
            return;
        }
        regs_now.clear();
        regs_now.extend_from_slice(&entry[b]);
        for pc in block.start..block.end {
            step(module, function.code[pc], &mut regs_now, state, out, None);
        }
        for &s in &block.successors {
            let mut changed = false;
            for (slot, &v) in entry[s].iter_mut().zip(&regs_now) {
                let joined = slot.join(v);
                if joined != *slot {
                    *slot = joined;
                    changed = true;
                }
            }
            if changed && !queued[s] {
                queued[s] = true;
                work.push(s);
            }
        }
    }
    for (b, block) in blocks.iter().enumerate() {
        if entry[b].iter().all(|v| *v == Val::Unset) && b != 0 {
            continue; // unreachable
        }
        regs_now.clear();
        regs_now.extend_from_slice(&entry[b]);
        for pc in block.start..block.end {
            let instr = function.code[pc];
            let callee_accesses = match instr.op {
                Opcode::Call => out.get(instr.imm as usize).map_or(0, |c| c.accesses.len()),
                _ => 0,
            };
            if !spend(regs + 1 + callee_accesses) {
                fp.opaque = true;
                return;
            }
            step(module, instr, &mut regs_now, state, out, Some(fp));
        }
    }
}

/// One instruction's effect on the abstract registers; with `fp`, also its accesses.
#[allow(
    clippy::indexing_slicing,
    reason = "register operands, windows, constants and CALL targets were checked by the verifier"
)]
fn step(
    module: &Module,
    instr: crate::isa::Instr,
    regs: &mut [Val],
    state: &[State],
    out: &[Footprint],
    fp: Option<&mut Footprint>,
) {
    let reg = |r: u8| regs[usize::from(r)];
    let info = instr.op.info();
    let written = match info.effect {
        Effect::Storage(op) => {
            let key_reg = instr.field(Role::Key).unwrap_or(0) as u8;
            let key = reg(key_reg).key();
            if let Some(fp) = fp {
                fp.add(Access {
                    op,
                    space: instr.imm as u32,
                    key,
                });
            }
            Val::Any
        }
        Effect::Env(EnvValue::Caller) => Val::Is(Key::Caller),
        Effect::Env(EnvValue::Contract) => Val::Is(Key::Contract),
        Effect::Pure(_) => match instr.op {
            Opcode::Mov => reg(instr.b),
            Opcode::LoadInt => Val::Is(Key::Const(i128::from(instr.imm))),
            Opcode::LoadFx => Val::Is(Key::Const(i128::from(instr.imm) << 64)),
            Opcode::LoadConst => module
                .constants
                .get(instr.imm as usize)
                .map_or(Val::Any, |&c| Val::Is(Key::Const(c))),
            _ => Val::Any,
        },
        Effect::Call => {
            if let Some(fp) = fp {
                let callee = instr.imm as usize;
                let window = usize::from(instr.a);
                let args = usize::from(instr.b);
                if state[callee] != State::Done || out[callee].opaque {
                    fp.opaque = true;
                } else {
                    fp.calls_view |= out[callee].calls_view;
                    for a in &out[callee].accesses {
                        let key = match a.key {
                            Key::Arg(i) if usize::from(i) < args => {
                                regs[window + usize::from(i)].key()
                            }
                            Key::Arg(_) => Key::Any,
                            k => k,
                        };
                        fp.add(Access { key, ..*a });
                    }
                }
            }
            Val::Any
        }
        Effect::CallContract => {
            // The callee's storage is another contract's, which a footprint of this one
            // cannot name. A view callee writes nothing: its reads are checked when they
            // happen (see `Footprint::calls_view`). Any other callee may write anything:
            // the function is opaque (the executors run it as a barrier, in block order).
            if let Some(fp) = fp {
                let view = module
                    .imports
                    .get(instr.imm as usize)
                    .is_some_and(|i| i.view);
                if view {
                    fp.calls_view = true;
                } else {
                    fp.opaque = true;
                }
            }
            Val::Any
        }
        _ => Val::Any,
    };
    for r in instr.writes() {
        regs[usize::from(r)] = written;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::{assemble, Limits, VerifiedModule};

    fn footprints(src: &str) -> Vec<Footprint> {
        let m = assemble(src).expect("assembles");
        let v = VerifiedModule::new(m, &Limits::default()).expect("verifies");
        v.footprints().to_vec()
    }

    fn acc(op: StorageOp, space: u32, key: Key) -> Access {
        Access { op, space, key }
    }

    #[test]
    fn keys_follow_caller_arguments_constants_and_calls() {
        let fp = footprints(
            ".func f(int) -> () regs 4 export\n\
             CALLER r1\n\
             SLOAD r2, r1, 3\n\
             SSTORE r1, r2, 3\n\
             LOADI r3, 0\n\
             SADD r3, r2, 5\n\
             MOV r2, r0\n\
             CALL r2, 1, 0, g\n\
             RET r0, 0\n\
             .func g(int) -> () regs 2\n\
             SLOAD r1, r0, 4\n\
             SSTORE r1, r1, 6\n\
             RET r0, 0\n",
        );
        assert_eq!(
            fp[0].accesses,
            vec![
                acc(StorageOp::Load, 3, Key::Caller),
                acc(StorageOp::Load, 4, Key::Arg(0)),
                acc(StorageOp::Store, 3, Key::Caller),
                acc(StorageOp::Store, 6, Key::Any),
                acc(StorageOp::Add, 5, Key::Const(0)),
            ]
        );
        assert!(!fp[0].opaque && !fp[0].is_known());
    }

    /// A function too large to analyse cheaply (20,001 blocks of 256 registers) is opaque,
    /// not slow; a small one beside it is still analysed.
    #[test]
    fn a_huge_function_is_opaque() {
        use crate::isa::{Export, Function, Instr, Module, ValueType};
        let branches = (0..20_000).map(|_| Instr::new(Opcode::JumpIfZero, 0, 0, 0, 0));
        let huge = Function {
            params: 1,
            returns: 0,
            registers: 256,
            arrays: vec![],
            code: branches
                .chain([Instr::new(Opcode::Return, 0, 0, 0, 0)])
                .collect(),
        };
        let small = Function {
            params: 1,
            returns: 0,
            registers: 2,
            arrays: vec![],
            code: vec![
                Instr::new(Opcode::StorageLoad, 1, 0, 0, 4),
                Instr::new(Opcode::Return, 0, 0, 0, 0),
            ],
        };
        let export = |name: &str, function| Export {
            name: name.into(),
            function,
            params: vec![ValueType::Int],
            returns: vec![],
        };
        let m = Module {
            functions: vec![huge, small],
            exports: vec![export("huge", 0), export("small", 1)],
            ..Module::default()
        };
        let v = VerifiedModule::new(m, &Limits::default()).expect("verifies");
        assert!(v.footprints()[0].opaque);
        assert_eq!(
            v.footprints()[1].accesses,
            vec![acc(StorageOp::Load, 4, Key::Arg(0))]
        );
    }

    #[test]
    fn a_key_that_differs_between_paths_is_any_and_recursion_is_opaque() {
        let fp = footprints(
            ".func f(int) -> () regs 3 export\n\
             CALLER r1\n\
             JZ r0, @skip\n\
             MOV r1, r0\n\
             skip:\n\
             SLOAD r2, r1, 0\n\
             RET r0, 0\n\
             .func g() -> () regs 1 export\n\
             CALL r0, 0, 0, g\n\
             RET r0, 0\n",
        );
        assert_eq!(fp[0].accesses, vec![acc(StorageOp::Load, 0, Key::Any)]);
        assert!(fp[1].opaque);
    }
}
