//! Footprint soundness: every storage access of every execution lies inside the footprint
//! the VM derived from the bytecode, bound to the transaction's caller, contract and
//! arguments. Checked over random verified modules (every opcode), random contracts from
//! the source generator, and every stdlib contract (the standard block workloads on perps
//! and the options venue, and random calls to every export of every stdlib file).

use proptest::prelude::*;
use std::path::Path;
use strike::block::{generate, open, Workload};
use strike_lang::{compile_files, files, Options};
use strike_tests::chain::stdlib_path;
use strike_tests::rng::Rng;
use strike_tests::stkgen::Gen;
use strike_vm::exec::{Engine, Mode, Transaction};
use strike_vm::isa::{Binding, StorageOp, ValueType, VerifiedModule};
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{Access, AddResult, MemoryStorage, Slot, StateCache, StorageError, TxState};

/// A state that records every access the engine makes.
struct Recorder {
    inner: StateCache<MemoryStorage>,
    seen: Vec<(StorageOp, Slot)>,
}

impl TxState for Recorder {
    fn as_dyn(&mut self) -> &mut dyn TxState {
        self
    }

    fn begin_tx(&mut self) {
        self.inner.begin_tx();
    }
    fn touch(&mut self, slot: Slot) -> Access {
        self.inner.touch(slot)
    }
    fn read(&mut self, slot: Slot) -> Result<i128, StorageError> {
        self.seen.push((StorageOp::Load, slot));
        self.inner.read(slot)
    }
    fn write(&mut self, slot: Slot, value: i128) -> Result<(), StorageError> {
        self.seen.push((StorageOp::Store, slot));
        self.inner.write(slot, value)
    }
    fn add(&mut self, slot: Slot, delta: i128, cap: Option<i128>) -> AddResult {
        let op = if cap.is_some() {
            StorageOp::AddCapped
        } else {
            StorageOp::Add
        };
        self.seen.push((op, slot));
        TxState::add(&mut self.inner, slot, delta, cap)
    }
    fn commit_tx(&mut self) {
        self.inner.commit_tx();
    }
    fn revert_tx(&mut self) {
        self.inner.revert_tx();
    }
}

/// Runs `txs` in order and checks every access against the footprint; returns how many
/// accesses were checked.
fn check(engine: &Engine, txs: &[Transaction], env: &BlockEnv, state: &mut Recorder) -> usize {
    let mut checked = 0;
    for tx in txs {
        state.seen.clear();
        engine.execute_in(tx, env, state);
        let Some(module) = engine.contract(tx.contract) else {
            assert!(state.seen.is_empty());
            continue;
        };
        let Some(fp) = module.export_footprint(&tx.function) else {
            assert!(state.seen.is_empty());
            continue;
        };
        let binding = Binding {
            caller: tx.caller,
            contract: tx.contract,
            args: &tx.args,
        };
        for &(op, slot) in &state.seen {
            if slot.contract != tx.contract {
                // Another contract's slot: only a view call's load (the VM refuses a view
                // callee's writes; the executors check the slot against that contract's
                // plan when it is read).
                assert!(
                    fp.calls_view && op == StorageOp::Load,
                    "{}: {op:?} on {slot:?} of another contract without a view call",
                    tx.function
                );
                checked += 1;
                continue;
            }
            assert!(
                fp.allows(op, slot, &binding),
                "{}({:?}) from {:#x}: {op:?} on {slot:?} is outside its footprint {fp:?}",
                tx.function,
                tx.args,
                tx.caller
            );
            checked += 1;
        }
    }
    checked
}

fn recorder() -> Recorder {
    Recorder {
        inner: StateCache::new(MemoryStorage::new()),
        seen: Vec::new(),
    }
}

/// A random argument of type `t`: small values (likely keys), then anything.
fn arg(rng: &mut Rng, t: ValueType) -> i128 {
    match (t, rng.below(4)) {
        (ValueType::Bool, _) => rng.below(2) as i128,
        (_, 0) => rng.wide(),
        (ValueType::Fx, _) => (rng.below(2000) as i128 - 500) << 60,
        _ => rng.below(8) as i128,
    }
}

/// `calls` random calls to random exports of `module` (deployed at 0xc0) from a few
/// callers, on one evolving state.
fn random_calls(module: VerifiedModule, seed: u64, calls: usize) -> usize {
    let exports = module.module().exports.clone();
    let mut engine = Engine::new();
    engine.set_mode(Mode::Interp);
    engine.deploy(0xc0, module);
    let mut rng = Rng(seed);
    let mut state = recorder();
    let mut checked = 0;
    for i in 0..calls {
        let e = &exports[rng.below(exports.len() as u64) as usize];
        let tx = Transaction {
            caller: rng.below(4) as u128,
            contract: 0xc0,
            function: e.name.clone(),
            args: e.params.iter().map(|&t| arg(&mut rng, t)).collect(),
            gas_limit: 200_000,
        };
        let env = BlockEnv {
            number: 1 + i as u64,
            timestamp: 1_000 + 10 * i as u64,
        };
        checked += check(&engine, &[tx], &env, &mut state);
    }
    checked
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn random_modules_stay_inside_their_footprints(
        module in strike_tests::modules::valid_module(),
        seed in any::<u64>(),
    ) {
        let verified = VerifiedModule::new(module, &strike_vm::isa::Limits::default())
            .expect("valid_module verifies");
        random_calls(verified, seed, 12);
    }
}

#[test]
fn generated_contracts_stay_inside_their_footprints() {
    let mut checked = 0;
    for seed in 0..150u64 {
        let mut gen = Gen::new(seed);
        let source = gen.contract();
        let Ok(module) = strike_lang::compile(&source, Options::default()) else {
            continue;
        };
        checked += random_calls(module, seed, 20);
    }
    assert!(checked > 1_000, "only {checked} accesses checked");
}

/// Every .stk file in stdlib/, sorted.
fn stdlib_files() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stdlib");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("stdlib/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".stk"))
        .collect();
    names.sort();
    names
}

fn compile_stdlib(name: &str) -> VerifiedModule {
    let path = stdlib_path(name);
    let text = std::fs::read_to_string(&path).expect("stdlib file");
    let shown = path.display().to_string();
    let (_, module) = compile_files(&shown, &text, &mut files::file_system, Options::default());
    module.unwrap_or_else(|d| panic!("{name} does not compile: {d:#?}"))
}

#[test]
fn every_stdlib_contract_stays_inside_its_footprints() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stdlib");
    let names = stdlib_files();
    assert!(names.len() >= 8, "{names:?}");
    for (k, name) in names.iter().enumerate() {
        let module = compile_stdlib(name);
        let stores = module.footprints().iter().any(|f| !f.accesses.is_empty());
        let checked = random_calls(module, k as u64, 600);
        assert!(checked > 0 || !stores, "{name}: nothing checked");
    }
    // The workloads reach deep into perps and the options venue (trades, liquidations).
    for workload in [
        Workload::Independent,
        Workload::OracleUpdate,
        Workload::OptionsMargin,
        Workload::Liquidations,
    ] {
        let path =
            std::fs::canonicalize(dir.join(workload.contract_file())).expect("stdlib contract");
        let text = generate(workload, &path.display().to_string(), 200, 20).join("\n");
        let (engine, blocks) = open(Path::new("w.jsonl"), &text, Mode::Interp).expect("loads");
        let mut state = recorder();
        let mut checked = 0;
        for b in &blocks {
            checked += check(&engine, &b.transactions, &b.env, &mut state);
            state.inner.commit_block().expect("commits");
        }
        assert!(checked > 2_000, "{workload:?}: {checked}");
    }
}

/// What the analysis proves for perps: a trade touches only its caller's entries (and
/// reads fixed slots, adds to totals); a liquidation only its argument's.
#[test]
fn perps_footprints_name_their_owner() {
    use strike_vm::isa::Key;
    let module = compile_stdlib("perps.stk");
    for (export, owner) in [("trade", Key::Caller), ("liquidate", Key::Arg(0))] {
        let fp = module.export_footprint(export).expect("export");
        assert!(fp.is_known(), "{export}: {fp:?}");
        for a in &fp.accesses {
            match a.op {
                StorageOp::Store => assert_eq!(a.key, owner, "{export} stores {a:?}"),
                _ => assert!(
                    a.key == owner || matches!(a.key, Key::Const(_)),
                    "{export}: {a:?}"
                ),
            }
        }
    }
}

const BEGIN: &str = "<!-- footprints:begin -->";
const END: &str = "<!-- footprints:end -->";

/// spec/footprints.md's table of every stdlib export's class is the code's.
#[test]
fn the_documented_classes_are_the_derived_ones() {
    use strike_vm::exec::sharded::plan::Plan;
    let names = stdlib_files();
    let mut table = String::from("| contract | export | class |\n|---|---|---|\n");
    for name in &names {
        let module = compile_stdlib(name);
        let plan = Plan::new(&module);
        for (index, e) in module.module().exports.iter().enumerate() {
            let export = plan.export(index).expect("a plan per export");
            let mut class = export.template.to_string();
            if export.calls_view {
                class.push_str(", view calls");
            }
            table.push_str(&format!("| {name} | {} | {class} |\n", e.name));
        }
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/footprints.md");
    let text = std::fs::read_to_string(&path).expect("spec/footprints.md");
    let start = text.find(BEGIN).expect("begin marker") + BEGIN.len();
    let end = text.find(END).expect("end marker");
    let fresh = format!("{}\n{table}{}", &text[..start], &text[end..]);
    if fresh != text {
        if std::env::var_os("STRIKE_BLESS").is_some() {
            std::fs::write(&path, fresh).expect("write spec/footprints.md");
        } else {
            panic!(
                "spec/footprints.md: the classes table differs from the code:\n{table}\n\
                 run STRIKE_BLESS=1 cargo test -p strike-tests --test footprints"
            );
        }
    }
}
