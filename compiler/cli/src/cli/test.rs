//! `strike test`: runs the `#[test]` functions of .stk files.
//!
//! Each test is one transaction calling the test function on a fresh in-memory state with
//! the contract deployed at 0x100, caller 0x1, block 1 and timestamp 0 (the test builtins
//! `set_caller` and `set_time` change the last two). A test passes when it returns, or,
//! with `#[test(expect_revert = CODE)]`, when it reverts with exactly CODE. Gas is the
//! production schedule's. Tests run on worker threads; the report is in a fixed order
//! (files by path, tests in source order), whatever the scheduling.

use super::{engine_mode, fail, out, trace, EngineArg, Exit, LoadFailure};
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use strike_vm::exec::{Engine, Receipt, Status, Transaction};
use strike_vm::isa::Limits;
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, StateCache};

/// `strike test`.
#[derive(Args, Debug)]
pub struct TestArgs {
    /// A .stk file or a directory searched for .stk files (default: the project's src/
    /// and tests/ when strike.toml is here, else the current directory).
    path: Option<PathBuf>,
    /// Run only tests whose name (or file::name) contains this text.
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// One JSON object per test, then a summary object, on stdout.
    #[arg(long)]
    json: bool,
    /// After the results, print gas per call of each function the tests called: calls,
    /// min, mean, median, max (callees included).
    #[arg(long)]
    gas_report: bool,
    /// Worker threads (default: the machine's cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// Gas limit of each test.
    #[arg(long, default_value_t = 1_000_000_000)]
    gas_limit: u64,
    /// Which engine runs the tests (results and gas are the same; --gas-report runs the
    /// interpreter).
    #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
    engine: EngineArg,
}

/// The address tests deploy their contract to.
const CONTRACT: u128 = 0x100;
/// The default caller of a test.
const CALLER: u128 = 0x1;

/// One file's tests, compiled.
struct Suite {
    file: String,
    engine: Engine,
    labels: trace::Labels,
    tests: Vec<strike_lang::TestCase>,
}

/// One test's outcome.
struct Outcome {
    suite: usize,
    test: usize,
    receipt: Receipt,
    report: Option<trace::GasReport>,
}

/// Finds the .stk files to test: `path` itself, or those under it (sorted; hidden
/// directories and `target` skipped).
fn discover(path: &Path, found: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_file() {
        found.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        let skip = name.is_none_or(|n| n.starts_with('.') || n == "target");
        if skip {
            continue;
        }
        if p.is_dir() {
            discover(&p, found)?;
        } else if p.extension().is_some_and(|e| e == "stk") {
            found.push(p);
        }
    }
    Ok(())
}

/// Where to look when no path is given: the manifest's source and test directories, or
/// the current directory.
fn default_roots() -> Result<Vec<PathBuf>, String> {
    let manifest = Path::new(super::scaffold::MANIFEST);
    if !manifest.exists() {
        return Ok(vec![PathBuf::from(".")]);
    }
    let m = super::scaffold::Manifest::read(manifest)?;
    Ok([m.src, m.tests]
        .into_iter()
        .map(PathBuf::from)
        .filter(|p| p.exists())
        .collect())
}

fn outcome_text(expect: Option<u32>, r: &Receipt) -> (bool, String) {
    let got = match (&r.status, &r.error) {
        (Status::Ok, _) => "returned".to_string(),
        (Status::Revert, Some(e)) => format!("reverted with code {}", e.code),
        (_, Some(e)) => format!("failed: {} (error {})", e.message, e.code),
        (_, None) => "failed".to_string(),
    };
    match expect {
        None => (r.status == Status::Ok, got),
        Some(code) => {
            let pass =
                r.status == Status::Revert && r.error.as_ref().is_some_and(|e| e.code == code);
            let text = if pass {
                got
            } else {
                format!("expected a revert with code {code}, {got}")
            };
            (pass, text)
        }
    }
}

/// `strike test`.
pub fn test(args: TestArgs) -> Exit {
    let roots = match &args.path {
        Some(p) => vec![p.clone()],
        None => match default_roots() {
            Ok(r) => r,
            Err(e) => return fail(&e, Exit::Failure),
        },
    };
    let mut files = Vec::new();
    for root in &roots {
        if let Err(e) = discover(root, &mut files) {
            return fail(&e, Exit::Usage);
        }
    }
    // Compile every file that declares a test; a file that fails to compile fails the run.
    let mut suites = Vec::new();
    let mut broken = 0;
    let mut filtered = 0;
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            broken += 1;
            super::fail(&format!("{}: cannot read", path.display()), Exit::Failure);
            continue;
        };
        if !text.contains("#[test") {
            continue;
        }
        let opts = strike_lang::Options {
            tests: true,
            ..Default::default()
        };
        let (compiled, sources) = match super::compile_program(path, opts) {
            Ok(c) => c,
            Err(LoadFailure::Message(m)) => {
                broken += 1;
                super::fail(&m, Exit::Failure);
                continue;
            }
            Err(LoadFailure::Diagnostics(d)) => {
                broken += 1;
                eprint!("{d}");
                continue;
            }
        };
        let file = path.display().to_string();
        let all = compiled.tests.len();
        let tests: Vec<_> = compiled
            .tests
            .iter()
            .filter(|t| {
                args.filter
                    .as_deref()
                    .is_none_or(|f| t.name.contains(f) || format!("{file}::{}", t.name).contains(f))
            })
            .cloned()
            .collect();
        filtered += all - tests.len();
        let labels = trace::Labels::compiled(&compiled, &sources);
        let mut engine = Engine::with_limits(Limits {
            allow_test_natives: true,
            ..Limits::default()
        });
        engine.set_mode(engine_mode(args.engine));
        engine.deploy(CONTRACT, compiled.module);
        suites.push(Suite {
            file,
            engine,
            labels,
            tests,
        });
    }
    let cases: Vec<(usize, usize)> = suites
        .iter()
        .enumerate()
        .flat_map(|(s, suite)| (0..suite.tests.len()).map(move |t| (s, t)))
        .collect();
    let threads = args
        .threads
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .min(cases.len().max(1));
    eprintln!(
        "running {} test{} from {} file{} on {threads} thread{}",
        cases.len(),
        if cases.len() == 1 { "" } else { "s" },
        suites.len(),
        if suites.len() == 1 { "" } else { "s" },
        if threads == 1 { "" } else { "s" }
    );
    if suites.is_empty() && broken == 0 {
        let places: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
        eprintln!(
            "warning: no #[test] functions in the .stk files under {}",
            places.join(", ")
        );
    }
    let start = Instant::now();
    let next = AtomicUsize::new(0);
    let run_case = |(s, t): (usize, usize)| -> Outcome {
        let suite = &suites[s];
        let tx = Transaction {
            caller: CALLER,
            contract: CONTRACT,
            function: suite.tests[t].name.clone(),
            args: Vec::new(),
            gas_limit: args.gas_limit,
        };
        let block = BlockEnv {
            number: 1,
            timestamp: 0,
        };
        let mut state = StateCache::new(MemoryStorage::new());
        if args.gas_report {
            let mut report = trace::GasReport::default();
            let receipt = {
                let mut recorder = strike_vm::interp::trace::Recorder::new(|step| {
                    report.add(&step, &suite.labels);
                });
                suite
                    .engine
                    .execute_traced(&tx, &block, &mut state, &mut recorder)
            };
            Outcome {
                suite: s,
                test: t,
                receipt,
                report: Some(report),
            }
        } else {
            Outcome {
                suite: s,
                test: t,
                receipt: suite.engine.execute(&tx, &block, &mut state),
                report: None,
            }
        }
    };
    let mut outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&case) = cases.get(k) else { break };
                        done.push(run_case(case));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    outcomes.sort_by_key(|o| (o.suite, o.test));
    let elapsed = start.elapsed();
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut report = trace::GasReport::default();
    for o in outcomes {
        let suite = &suites[o.suite];
        let case = &suite.tests[o.test];
        let (pass, text) = outcome_text(case.expect_revert, &o.receipt);
        if pass {
            passed += 1;
        } else {
            failed += 1;
        }
        if let Some(r) = o.report {
            report.merge(r);
        }
        if args.json {
            let line = serde_json::json!({
                "file": suite.file,
                "test": case.name,
                "pass": pass,
                "gas": o.receipt.gas_used,
                "expect_revert": case.expect_revert,
                "outcome": text,
            });
            out(&line.to_string());
        } else {
            let verdict = if pass {
                super::paint("ok", "32", super::color_stdout())
            } else {
                super::paint("FAILED", "1;31", super::color_stdout())
            };
            let detail = if pass {
                String::new()
            } else {
                format!(": {text}")
            };
            out(&format!(
                "test {}::{} ... {verdict} (gas {}){detail}",
                suite.file, case.name, o.receipt.gas_used
            ));
        }
    }
    let ok = failed == 0 && broken == 0;
    if args.json {
        let line = serde_json::json!({
            "passed": passed,
            "failed": failed,
            "filtered_out": filtered,
            "files_not_compiled": broken,
            // Milliseconds as seconds with three decimals: a display figure.
            "seconds": elapsed.as_millis() as f64 / 1e3,
        });
        out(&line.to_string());
    } else {
        out(&format!(
            "\ntest result: {}. {passed} passed; {failed} failed; {filtered} filtered out; {broken} file{} not compiled; finished in {:.2}s",
            if ok { "ok" } else { "FAILED" },
            if broken == 1 { "" } else { "s" },
            elapsed.as_secs_f64()
        ));
    }
    if args.gas_report {
        let tests: Vec<String> = suites
            .iter()
            .flat_map(|s| s.tests.iter().map(|t| t.name.clone()))
            .collect();
        let rows = report.rows(&tests);
        if args.json {
            for (name, calls, min, mean, median, max) in rows {
                let line = serde_json::json!({
                    "function": name,
                    "calls": calls,
                    "min": min,
                    "mean": mean,
                    "median": median,
                    "max": max,
                });
                out(&line.to_string());
            }
        } else {
            out("\ngas report: gas per call, callees included (calls that reverted are not counted)");
            let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(8).max(8);
            out(&format!(
                "| {:<width$} | {:>6} | {:>8} | {:>8} | {:>8} | {:>8} |",
                "function", "calls", "min", "mean", "median", "max"
            ));
            out(&format!(
                "|{}|{}|{}|{}|{}|{}|",
                "-".repeat(width + 2),
                "-".repeat(8),
                "-".repeat(10),
                "-".repeat(10),
                "-".repeat(10),
                "-".repeat(10)
            ));
            for (name, calls, min, mean, median, max) in rows {
                out(&format!(
                    "| {name:<width$} | {calls:>6} | {min:>8} | {mean:>8} | {median:>8} | {max:>8} |"
                ));
            }
        }
    }
    if ok {
        Exit::Success
    } else {
        Exit::Failure
    }
}
