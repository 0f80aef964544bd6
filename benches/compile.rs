//! `cargo bench --bench compile`: compiler speed, and compiled code against hand-written.
//!
//! 1. Prints, for each function in `benches/compare/` and the Black-Scholes library, the
//!    instructions the compiler emits and the gas of one call, next to a hand-written
//!    `.sasm` of the same function.
//! 2. `compile/fused` and `compile/unfused`: source lines per second through the whole
//!    pipeline (lex, parse, check, lower, verify) over every `.stk` in the repository
//!    (stdlib, examples, tests, comparisons). Criterion reports lines/s as elements/s.
//! 3. `footprint/<contract>`: the footprint analysis alone (what `VerifiedModule::new`
//!    adds to verification, once per module) on the largest stdlib contracts, with their
//!    instruction counts printed.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use strike_lang::values;
use strike_lang::{compile, compile_files, files, Options};
use strike_vm::exec::{Engine, Transaction};
use strike_vm::isa::{assemble, Module};
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, StateCache};

fn root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

fn sources() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for dir in ["stdlib", "spec/examples", "tests/lang", "benches/compare"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        paths.sort();
        for p in paths {
            if p.extension().is_some_and(|e| e == "stk") {
                let text = std::fs::read_to_string(&p).expect("read source");
                out.push((p, text));
            }
        }
    }
    out
}

/// Gas of one call of `function` with `args` on a fresh state.
fn gas(module: &Module, function: &str, args: &[&str]) -> u64 {
    let mut engine = Engine::new();
    let verified = engine.verify(module.clone()).expect("verifies");
    let export = verified
        .module()
        .exports
        .iter()
        .find(|e| e.name == function)
        .expect("export")
        .clone();
    engine.deploy(1, verified);
    let args = export
        .params
        .iter()
        .zip(args)
        .map(|(&t, a)| values::parse(t, a).expect("argument"))
        .collect();
    let tx = Transaction {
        caller: 0xca11,
        contract: 1,
        function: function.into(),
        args,
        gas_limit: 10_000_000,
    };
    let mut state = StateCache::new(MemoryStorage::new());
    let r = engine.execute(&tx, &BlockEnv::default(), &mut state);
    r.gas_used
}

fn instructions(module: &Module, function: &str) -> usize {
    module
        .exports
        .iter()
        .find(|e| e.name == function)
        .map_or(0, |e| module.functions[e.function as usize].code.len())
}

/// A source, its hand-written assembly, and calls (function, arguments) to compare.
type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static [&'static str])],
);

fn compare() {
    let cases: &[Case] = &[
        (
            "stdlib/black_scholes.stk",
            "spec/examples/black_scholes.sasm",
            &[
                ("call", &["100", "105", "0.2", "0.05", "0.5"]),
                ("put", &["100", "105", "0.2", "0.05", "0.5"]),
            ],
        ),
        (
            "benches/compare/vault.stk",
            "benches/compare/vault.sasm",
            &[("deposit", &["2.5"]), ("balance", &["0xca11"])],
        ),
        (
            "benches/compare/loops.stk",
            "benches/compare/loops.sasm",
            &[("sum_squares", &["100"]), ("straddle", &["90", "100"])],
        ),
    ];
    println!("compiled vs hand-written (static instructions of the function; gas of one call)");
    println!(
        "{:<12} {:>10} {:>10} {:>10} {:>10}",
        "function", "instr stk", "instr sasm", "gas stk", "gas sasm"
    );
    for (stk, sasm, calls) in cases {
        let source = std::fs::read_to_string(root().join(stk)).expect("source");
        let compiled = compile(&source, Options::default())
            .expect("compiles")
            .module()
            .clone();
        let text = std::fs::read_to_string(root().join(sasm)).expect("assembly");
        let hand = assemble(&text).expect("assembles");
        for (function, args) in *calls {
            println!(
                "{:<12} {:>10} {:>10} {:>10} {:>10}",
                function,
                instructions(&compiled, function),
                instructions(&hand, function),
                gas(&compiled, function, args),
                gas(&hand, function, args),
            );
        }
        let total = |m: &Module| m.functions.iter().map(|f| f.code.len()).sum::<usize>();
        println!(
            "{:<12} {:>10} {:>10}   (whole module: {stk} vs {sasm})",
            "  all",
            total(&compiled),
            total(&hand)
        );
    }
}

/// Compiles one corpus file, its imports served from the corpus (no file reads): the
/// combined text compiled, and whether it compiled.
fn compile_one(
    corpus: &HashMap<String, String>,
    name: &str,
    text: &str,
    optimize: bool,
) -> (usize, bool) {
    let mut loader = |importer: &str, path: &str| {
        let full = files::resolve(importer, path).display().to_string();
        match corpus.get(&full) {
            Some(t) => Ok((full, t.clone())),
            None => Err(format!("{full} is not in the corpus")),
        }
    };
    let (sources, m) = compile_files(
        name,
        text,
        &mut loader,
        Options {
            optimize,
            ..Default::default()
        },
    );
    (sources.text().lines().count(), m.is_ok())
}

fn bench(c: &mut Criterion) {
    compare();
    let corpus: HashMap<String, String> = sources()
        .into_iter()
        .map(|(p, t)| (p.display().to_string(), t))
        .collect();
    let mut names: Vec<&String> = corpus.keys().collect();
    names.sort();
    // Lines compiled: an imported file counts each time a file imports it.
    let lines: usize = names
        .iter()
        .map(|n| {
            let (lines, ok) = compile_one(&corpus, n, &corpus[*n], true);
            assert!(ok, "{n} does not compile");
            lines
        })
        .sum();
    println!(
        "corpus: {} files, {lines} lines compiled (imports included)",
        corpus.len()
    );
    let mut g = c.benchmark_group("compile");
    g.throughput(Throughput::Elements(lines as u64));
    for (name, optimize) in [("fused", true), ("unfused", false)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                for name in &names {
                    black_box(compile_one(
                        &corpus,
                        name,
                        black_box(&corpus[*name]),
                        optimize,
                    ));
                }
            })
        });
    }
    g.finish();
    footprints(c);
}

/// The footprint analysis' cost per module.
fn footprints(c: &mut Criterion) {
    let mut g = c.benchmark_group("footprint");
    for name in ["perps.stk", "options_margin.stk", "vault.stk"] {
        let path = root().join("stdlib").join(name);
        let text = std::fs::read_to_string(&path).expect("stdlib contract");
        let shown = path.display().to_string();
        let (_, module) = compile_files(&shown, &text, &mut files::file_system, Options::default());
        let verified = module.expect("compiles");
        let instructions: usize = verified
            .module()
            .functions
            .iter()
            .map(|f| f.code.len())
            .sum();
        println!(
            "{name}: {} functions, {instructions} instructions",
            verified.module().functions.len()
        );
        g.bench_function(name.trim_end_matches(".stk"), |b| {
            b.iter(|| {
                black_box(strike_vm::isa::footprint::analyze(
                    black_box(verified.module()),
                    |f| verified.cfg(f),
                ))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
