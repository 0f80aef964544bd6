//! A chain for scenario tests: compiles a stdlib contract from its file (with its imports),
//! deploys it, and runs calls from chosen callers at chosen times, with arguments and
//! results as text in the contract's declared types. Contracts it calls (a shared feed, a
//! pricer) are deployed beside it with [`Chain::with`]; a call of a function the main
//! contract does not export goes to the first of them that does. Every call commits its
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

/// Compiles stdlib/`name` (optimised), with its imports.
pub fn compile_stdlib(name: &str) -> strike_vm::isa::VerifiedModule {
    let path = stdlib_path(name);
    let text = std::fs::read_to_string(&path).expect("stdlib file");
    let shown = path.display().to_string();
    let (_, module) = compile_files(&shown, &text, &mut files::file_system, Options::default());
    module.unwrap_or_else(|d| panic!("{name} does not compile: {d:#?}"))
}

/// A deployed contract, its state and the clock.
pub struct Chain {
    engine: Engine,
    state: StateCache<MemoryStorage>,
    jit: Engine,
    jit_state: StateCache<MemoryStorage>,
    exports: Vec<Export>,
    /// The contracts deployed beside the main one: address and exports.
    others: Vec<(u128, Vec<Export>)>,
    /// Block timestamp for the next call, seconds.
    pub now: u64,
    /// Block number for the next call.
    pub block: u64,
}

impl Chain {
    /// Compiles stdlib/`name` (optimised) and deploys it at [`CONTRACT`].
    pub fn stdlib(name: &str) -> Self {
        let module = compile_stdlib(name);
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
            others: Vec::new(),
            now: 1_700_000_000,
            block: 1,
        }
    }

    /// Deploys stdlib/`name` at `at` too: a contract the main one calls.
    pub fn with(mut self, name: &str, at: u128) -> Self {
        let module = compile_stdlib(name);
        self.others.push((at, module.module().exports.clone()));
        self.jit.deploy(at, module.clone());
        self.engine.deploy(at, module);
        self
    }

    /// The contract's entry points, in declaration order.
    pub fn exports(&self) -> &[Export] {
        &self.exports
    }

    /// The contract a call of `function` goes to, and its export.
    fn route(&self, function: &str) -> (u128, &Export) {
        std::iter::once((CONTRACT, &self.exports))
            .chain(self.others.iter().map(|(a, e)| (*a, e)))
            .find_map(|(a, exports)| exports.iter().find(|e| e.name == function).map(|e| (a, e)))
            .unwrap_or_else(|| panic!("no export {function}"))
    }

    fn export(&self, function: &str) -> &Export {
        self.route(function).1
    }

    /// Runs `function(args)` from `caller`: the receipt.
    pub fn call(&mut self, caller: u128, function: &str, args: &[&str]) -> Receipt {
        let (contract, export) = self.route(function);
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
            contract,
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
        assert!(
            self.jit.jit_stats().modules >= 1,
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
