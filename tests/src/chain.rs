//! A one-contract chain for scenario tests: compiles a stdlib contract from its file (with
//! its imports), deploys it, and runs calls from chosen callers at chosen times, with
//! arguments and results as text in the contract's declared types. Every call commits its
//! block, so the storage after each call can be compared whole.
//!
//! Every call runs twice, on two copies of the chain: one interpreted, one compiled by the
//! JIT. Their receipts and storage must be identical after every call.

use std::path::PathBuf;
use strike_lang::values;
use strike_lang::{compile_files, files, Options};
use strike_vm::exec::{Engine, Mode, Receipt, Status, Transaction};
use strike_vm::isa::Export;
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, Slot, StateCache};

/// The address the contract is deployed at.
pub const CONTRACT: u128 = 0xc0;

/// Path of a file in stdlib/.
pub fn stdlib_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("stdlib")
        .join(name)
}

/// A deployed contract, its state and the clock.
pub struct Chain {
    engine: Engine,
    state: StateCache<MemoryStorage>,
    jit: Engine,
    jit_state: StateCache<MemoryStorage>,
    exports: Vec<Export>,
    /// Block timestamp for the next call, seconds.
    pub now: u64,
    /// Block number for the next call.
    pub block: u64,
}

impl Chain {
    /// Compiles stdlib/`name` (optimised) and deploys it at [`CONTRACT`].
    pub fn stdlib(name: &str) -> Self {
        let path = stdlib_path(name);
        let text = std::fs::read_to_string(&path).expect("stdlib file");
        let shown = path.display().to_string();
        let (_, module) = compile_files(&shown, &text, &mut files::file_system, Options::default());
        let module = module.unwrap_or_else(|d| panic!("{name} does not compile: {d:#?}"));
        let exports = module.module().exports.clone();
        let mut engine = Engine::new();
        engine.set_mode(Mode::Interp);
        let mut jit = Engine::new();
        jit.set_mode(Mode::Jit);
        jit.deploy(CONTRACT, module.clone());
        engine.deploy(CONTRACT, module);
        Chain {
            engine,
            state: StateCache::new(MemoryStorage::new()),
            jit,
            jit_state: StateCache::new(MemoryStorage::new()),
            exports,
            now: 1_700_000_000,
            block: 1,
        }
    }

    /// The contract's entry points, in declaration order.
    pub fn exports(&self) -> &[Export] {
        &self.exports
    }

    fn export(&self, function: &str) -> &Export {
        self.exports
            .iter()
            .find(|e| e.name == function)
            .unwrap_or_else(|| panic!("no export {function}"))
    }

    /// Runs `function(args)` from `caller`: the receipt.
    pub fn call(&mut self, caller: u128, function: &str, args: &[&str]) -> Receipt {
        let export = self.export(function);
        assert_eq!(
            export.params.len(),
            args.len(),
            "{function}: argument count"
        );
        let args = export
            .params
            .iter()
            .zip(args)
            .map(|(&t, a)| values::parse(t, a).unwrap_or_else(|e| panic!("{function}: {e}")))
            .collect();
        let tx = Transaction {
            caller,
            contract: CONTRACT,
            function: function.to_string(),
            args,
            gas_limit: 10_000_000,
        };
        let env = BlockEnv {
            number: self.block,
            timestamp: self.now,
        };
        let r = self.engine.execute(&tx, &env, &mut self.state);
        self.state.commit_block().expect("commit");
        let compiled = self.jit.execute(&tx, &env, &mut self.jit_state);
        self.jit_state.commit_block().expect("commit");
        assert_eq!(compiled, r, "{function}: the JIT's receipt differs");
        assert_eq!(
            self.jit_state.storage().entries(),
            self.state.storage().entries(),
            "{function}: the JIT's storage differs"
        );
        assert_eq!(
            self.jit.jit_stats().modules,
            1,
            "the JIT compiled the contract"
        );
        self.block += 1;
        r
    }

    /// The results of `r` as text, in `function`'s declared types.
    pub fn shown(&self, function: &str, r: &Receipt) -> Vec<String> {
        self.export(function)
            .returns
            .iter()
            .zip(&r.returns)
            .map(|(&t, &raw)| values::format(t, raw))
            .collect()
    }

    /// Runs a call that must succeed: its results as text.
    pub fn ok(&mut self, caller: u128, function: &str, args: &[&str]) -> Vec<String> {
        let r = self.call(caller, function, args);
        assert_eq!(
            r.status,
            Status::Ok,
            "{function}({args:?}) from {caller:#x}: {:?}",
            r.error
        );
        self.shown(function, &r)
    }

    /// Runs a call that must succeed and return one fx: its value.
    pub fn fx(&mut self, caller: u128, function: &str, args: &[&str]) -> f64 {
        let v = self.ok(caller, function, args);
        v[0].parse().expect("fx result")
    }

    /// Runs a call that must revert with `code`, and checks that it changed no storage.
    pub fn reverts(&mut self, caller: u128, function: &str, args: &[&str], code: u32) {
        let before = self.storage();
        let r = self.call(caller, function, args);
        assert_eq!(
            (r.status, r.error.as_ref().map(|e| e.code)),
            (Status::Revert, Some(code)),
            "{function}({args:?}) from {caller:#x}: {:?}",
            r.error
        );
        assert!(r.events.is_empty());
        assert_eq!(
            self.storage(),
            before,
            "{function}({args:?}) reverted but changed storage"
        );
    }

    /// Every storage slot, sorted.
    pub fn storage(&self) -> Vec<(Slot, i128)> {
        let mut all = self.state.storage().entries();
        all.sort_by_key(|(s, _)| (s.contract, s.space, s.key));
        all
    }
}
