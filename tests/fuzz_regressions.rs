//! Every input the fuzzers ever failed on, replayed through the same checks
//! (`strike_tests::fuzz`), so a fixed finding stays fixed: `tests/fuzz/regressions/TARGET/`
//! holds one file per finding, named after what it found (see spec/security.md). The
//! targets' seeds (the stdlib, the example and test contracts, compiled or not) and a few
//! hundred deterministic pseudo-random inputs run too, so each check also runs in CI
//! between fuzzing campaigns.

use std::path::{Path, PathBuf};
use strike_lang::Options;
use strike_tests::fuzz;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The files of `dir`, sorted (a missing directory has none).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.expect("readable directory entry").path())
            .filter(|p| p.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

fn replay<T>(target: &str, check: fn(&[u8]) -> T) -> usize {
    let dir = root().join("tests/fuzz/regressions").join(target);
    let files = files_in(&dir);
    for path in &files {
        let data = std::fs::read(path).expect("readable regression input");
        eprintln!("replaying {}", path.display());
        check(&data);
    }
    files.len()
}

/// Every .stk file the project ships or tests with.
fn sources() -> Vec<PathBuf> {
    [
        "stdlib",
        "stdlib/tests",
        "spec/examples",
        "tests/lang",
        "tests/ui",
        "tests/block",
    ]
    .iter()
    .flat_map(|d| files_in(&root().join(d)))
    .filter(|p| p.extension().is_some_and(|e| e == "stk" || e == "sasm"))
    .collect()
}

/// Deterministic pseudo-random byte strings (xorshift), for the structure-aware targets.
fn pseudo_random(count: usize, len: usize) -> Vec<Vec<u8>> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..count)
        .map(|_| {
            (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect()
        })
        .collect()
}

#[test]
fn compile_findings_and_seeds() {
    replay("compile", fuzz::compile);
    for path in sources() {
        fuzz::compile(&std::fs::read(&path).expect("readable source"));
    }
}

/// The compiled stdlib, the module and execute targets' seeds.
fn compiled_seeds() -> Vec<Vec<u8>> {
    sources()
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "stk"))
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).expect("readable source");
            let (_, compiled) = strike_lang::compile_files(
                &p.display().to_string(),
                &text,
                &mut strike_lang::files::file_system,
                Options::default(),
            );
            compiled.ok().map(|m| m.module().encode())
        })
        .collect()
}

#[test]
fn module_findings_and_seeds() {
    replay("module", fuzz::module);
    let seeds = compiled_seeds();
    assert!(seeds.len() >= 8, "the stdlib and examples compile");
    for seed in &seeds {
        assert!(fuzz::module(seed), "a compiled module decodes");
        // Every single-byte corruption of the header and first instructions.
        for at in 0..seed.len().min(96) {
            let mut bad = seed.clone();
            bad[at] ^= 0x5a;
            let _ = fuzz::module(&bad);
        }
    }
}

#[test]
fn execute_findings_and_seeds() {
    replay("execute", fuzz::execute);
    for seed in compiled_seeds() {
        assert!(fuzz::execute(&seed), "a compiled module verifies and runs");
    }
}

#[test]
fn jit_diff_findings_and_random_programs() {
    replay("jit_diff", fuzz::jit_diff);
    let ran = pseudo_random(200, 600)
        .iter()
        .filter(|data| fuzz::jit_diff(data))
        .count();
    assert!(ran >= 190, "only {ran} of 200 inputs drew a whole program");
}

#[test]
fn block_findings_and_random_blocks() {
    replay("block", fuzz::block);
    let ran = pseudo_random(40, 1200)
        .iter()
        .filter(|data| fuzz::block(data))
        .count();
    assert!(ran >= 36, "only {ran} of 40 inputs drew a whole block");
}

#[test]
fn inputs_findings() {
    replay("inputs", fuzz::inputs);
    fuzz::inputs(b"0.05\n-1e-4\n0x7fffffffffffffffffffffffffffffff\ntrue\n340282366920938463463374607431768211455\n{\"deploy\":\"a.stk\",\"address\":1}\n");
    fuzz::inputs(
        b"[project]\nname = \"demo\"\nversion = \"0.1.0\"\nsrc = \"src\"\ntests = \"tests\"\n",
    );
}
