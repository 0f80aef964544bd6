//! The verifier: the only way to a [`VerifiedModule`], which both engines run without
//! re-checking anything a pass below guarantees.
//!
//! One pass per file, each opening with what it guarantees, run in this order:
//!
//! ```text
//! sizes      the module within every size limit decoding enforces
//! exports    names are identifiers; exports name real functions, once; debug entries point at code
//! per function:
//!   frame     registers 1..=256 holding the parameters; arrays within limits; some code
//!   operands  every operand within its role's bounds (opcode table): registers, windows,
//!             constants, events, arrays, callees and natives with their arities, RET's count
//!   cfg       jumps inside the function, nothing falls off the end; basic blocks + successors
//!   gas       static gas per basic block
//! ```
//!
//! The CFG and the block gas are handed on with the module ([`VerifiedModule::cfg`],
//! `block_gas`): the interpreter charges a block's gas on entry, the JIT builds its blocks
//! from the CFG, and nothing recomputes where blocks start.

mod cfg;
mod error;
mod exports;
mod frame;
mod gas;
mod operands;
mod sizes;

pub use cfg::{BasicBlock, Cfg};
pub use error::{VerifyError, VerifyErrorKind};
pub use exports::is_identifier;
pub use gas::{static_gas, CALL_REGISTERS_PER_GAS};

use super::footprint::{self, Footprint};
use super::limits::Limits;
use super::module::{Export, Module};
use hashbrown::HashMap;

/// What verification found out about one function, for the engines.
#[derive(Clone, Debug)]
struct Facts {
    cfg: Cfg,
    /// Per instruction: the static gas of the block starting there, or 0.
    block_gas: Vec<u32>,
    /// Where each array starts in the frame's memory (in elements), then the total.
    array_offsets: Vec<u32>,
}

/// A module that passed verification, with what the engines need precomputed.
#[derive(Clone, Debug)]
pub struct VerifiedModule {
    module: Module,
    functions: Vec<Facts>,
    /// Export name -> index into `module.exports`.
    exports: HashMap<String, usize>,
    /// Per function: what it may do to storage (see [`crate::isa::footprint`]).
    footprints: Vec<Footprint>,
}

fn function_facts(module: &Module, index: usize, limits: &Limits) -> Result<Facts, VerifyError> {
    let at = |(pc, kind)| VerifyError::at(index, Some(pc), kind);
    let f = module.functions.get(index).ok_or(VerifyError::module(
        VerifyErrorKind::FunctionOutOfRange(index as u32),
    ))?;
    let array_offsets =
        frame::check(f, limits).map_err(|kind| VerifyError::at(index, None, kind))?;
    operands::check(module, f, limits).map_err(at)?;
    let cfg = cfg::build(f).map_err(at)?;
    let block_gas = gas::per_block(module, f, &cfg).map_err(at)?;
    Ok(Facts {
        cfg,
        block_gas,
        array_offsets,
    })
}

impl VerifiedModule {
    /// Verifies `module` under `limits`: the passes above, in order.
    pub fn new(module: Module, limits: &Limits) -> Result<VerifiedModule, VerifyError> {
        sizes::check(&module, limits)?;
        let functions: Vec<Facts> = (0..module.functions.len())
            .map(|index| function_facts(&module, index, limits))
            .collect::<Result<_, _>>()?;
        let exports = exports::check(&module)?;
        let footprints = footprint::analyze(&module, |f: usize| {
            functions.get(f).map(|facts: &Facts| &facts.cfg)
        });
        Ok(VerifiedModule {
            module,
            functions,
            exports,
            footprints,
        })
    }

    /// The module.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Every function's footprint, by index: computed once, when the module is verified.
    pub fn footprints(&self) -> &[Footprint] {
        &self.footprints
    }

    /// The footprint of the export named `name`.
    pub fn export_footprint(&self, name: &str) -> Option<&Footprint> {
        self.export(name).and_then(|f| self.footprints.get(f))
    }

    /// The control-flow graph of `function`, as the verifier built it.
    pub fn cfg(&self, function: usize) -> Option<&Cfg> {
        self.functions.get(function).map(|f| &f.cfg)
    }

    #[inline]
    #[allow(
        clippy::indexing_slicing,
        reason = "crate-private: callers pass only verified CALL targets and entry functions that `check_arguments` found, both below the function count"
    )]
    fn facts(&self, function: usize) -> &Facts {
        &self.functions[function]
    }

    /// Static gas of the block starting at each instruction of `function` (0 where no
    /// block starts).
    #[inline]
    pub(crate) fn block_gas(&self, function: usize) -> &[u32] {
        &self.facts(function).block_gas
    }

    /// Where each of `function`'s arrays starts in its frame's memory (in elements), then
    /// one more entry: the frame's total.
    #[inline]
    pub(crate) fn array_offsets(&self, function: usize) -> &[u32] {
        &self.facts(function).array_offsets
    }

    /// Array elements a frame of `function` holds (all its arrays).
    #[inline]
    pub(crate) fn array_words(&self, function: usize) -> u32 {
        self.facts(function)
            .array_offsets
            .last()
            .copied()
            .unwrap_or(0)
    }

    /// The function an export name refers to.
    pub fn export(&self, name: &str) -> Option<usize> {
        self.export_entry(name).map(|e| e.function as usize)
    }

    /// The index in the module's exports of the export named `name`.
    pub fn export_index(&self, name: &str) -> Option<usize> {
        self.exports.get(name).copied()
    }

    /// The export named `name`, with its typed signature.
    pub fn export_entry(&self, name: &str) -> Option<&Export> {
        self.exports
            .get(name)
            .and_then(|&k| self.module.exports.get(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::{Export, Function, Instr, Opcode, ValueType};

    fn module(code: Vec<Instr>, registers: u16) -> Module {
        Module {
            constants: vec![7],
            functions: vec![Function {
                params: 1,
                returns: 1,
                registers,
                arrays: vec![],
                code,
            }],
            exports: vec![Export {
                name: "f".into(),
                function: 0,
                params: vec![ValueType::Int],
                returns: vec![ValueType::Int],
            }],
            ..Module::default()
        }
    }

    fn verify(m: Module) -> Result<VerifiedModule, VerifyErrorKind> {
        VerifiedModule::new(m, &Limits::default()).map_err(|e| e.kind)
    }

    #[test]
    fn accepts_a_loop_and_computes_block_gas() {
        use Opcode::*;
        // r1 = 0; loop: r1 += 1; if r1 < r0 goto loop; ret r1
        let code = vec![
            Instr::new(LoadInt, 1, 0, 0, 0),
            Instr::new(AddImm, 1, 1, 0, 1),
            Instr::new(BranchLt, 1, 0, 0, -2),
            Instr::new(Return, 1, 1, 0, 0),
        ];
        let v = verify(module(code, 2)).unwrap();
        assert_eq!(v.block_gas(0), &[1, 2, 0, 2]);
        assert_eq!(v.export("f"), Some(0));
    }

    #[test]
    fn rejects_each_violation() {
        use Opcode::*;
        use VerifyErrorKind::*;
        let ret = Instr::new(Return, 0, 1, 0, 0);
        assert_eq!(verify(module(vec![], 1)).unwrap_err(), EmptyFunction);
        assert_eq!(
            verify(module(vec![Instr::new(Mov, 0, 0, 0, 0)], 1)).unwrap_err(),
            FallsOffEnd
        );
        assert_eq!(
            verify(module(vec![Instr::new(Mov, 0, 1, 0, 0), ret], 1)).unwrap_err(),
            RegisterOutOfRange(1)
        );
        assert_eq!(
            verify(module(vec![Instr::new(LoadConst, 0, 0, 0, 1), ret], 1)).unwrap_err(),
            ConstantOutOfRange(1)
        );
        assert_eq!(
            verify(module(vec![Instr::new(Jump, 0, 0, 0, 5), ret], 1)).unwrap_err(),
            JumpOutOfRange(6)
        );
        assert_eq!(
            verify(module(vec![Instr::new(Jump, 0, 0, 0, -2), ret], 1)).unwrap_err(),
            JumpOutOfRange(-1)
        );
        assert_eq!(
            verify(module(vec![Instr::new(Call, 0, 1, 1, 3), ret], 1)).unwrap_err(),
            FunctionOutOfRange(3)
        );
        assert_eq!(
            verify(module(vec![Instr::new(Call, 0, 2, 1, 0), ret], 2)).unwrap_err(),
            CallArity { callee: 0 }
        );
        assert_eq!(
            verify(module(vec![Instr::new(Return, 0, 0, 0, 0)], 1)).unwrap_err(),
            ReturnArity
        );
        assert_eq!(
            verify(module(vec![Instr::new(Return, 1, 1, 0, 0)], 1)).unwrap_err(),
            RegisterOutOfRange(1)
        );
        // A zero-length range must still start at a register (found by the fuzz test).
        let mut m = module(vec![Instr::new(Return, 166, 0, 0, 0)], 8);
        m.functions[0].returns = 0;
        m.exports[0].returns.clear();
        assert_eq!(verify(m).unwrap_err(), RegisterOutOfRange(166));
        assert_eq!(
            verify(module(vec![Instr::new(Emit, 0, 1, 0, 0), ret], 1)).unwrap_err(),
            EventOutOfRange(0)
        );
        assert_eq!(
            verify(module(vec![ret], 0)).unwrap_err(),
            BadRegisterCount(0)
        );
        let mut m = module(vec![ret], 1);
        m.functions[0].params = 2;
        assert_eq!(verify(m).unwrap_err(), ParamsExceedRegisters);
        let mut m = module(vec![ret], 1);
        m.exports.push(m.exports[0].clone());
        assert_eq!(verify(m).unwrap_err(), DuplicateExport("f".into()));
    }
}
