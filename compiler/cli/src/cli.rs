//! The `strike` command line: build, check, run, disasm, asm, spec.
//!
//! Exit codes: 0 success; 1 a compile error, a revert, a failed call or an invalid input
//! file; 2 a usage error (bad flags or arguments). Every failure prints a clear message on
//! stderr (compile errors as pointed, coded diagnostics); nothing panics, not even a closed
//! stdout.

use crate::json;
use crate::load::{
    compile_file, compile_program, is_source, load, load_module, read_source,
    render_failure_sources, LoadFailure,
};
use crate::output::{color_stdout, fail, out, paint, set_color, ColorArg, Exit};
use strike_lang::values;
mod chain;
mod keys;
mod scaffold;
mod test;
mod trace;

pub use crate::load::{load_contract, render_failure};
pub use scaffold::Manifest;

use clap::{Args, Parser, Subcommand};
use std::io::{self, BufRead};
use std::path::{Path, PathBuf};
use std::time::Instant;
use strike_vm::exec::{Engine, Mode, Receipt, ReceiptError, Status, Transaction};
use strike_vm::isa::{disassemble_with_source, opcodes_markdown, Export, Module, ValueType};
use strike_vm::runtime::{BlockEnv, Event};
use strike_vm::state::{MemoryStorage, StateCache};

/// Strike: a VM and language for on-chain derivatives.
#[derive(Parser, Debug)]
#[command(name = "strike", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Colour in diagnostics and test results: auto (when the stream is a terminal and
    /// NO_COLOR is unset or empty), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Assemble a .sasm file into .sbc bytecode.
    Asm {
        /// The assembly source.
        file: PathBuf,
        /// Where to write the bytecode (default: FILE with the .sbc extension).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Compile a .stk source file into .sbc bytecode.
    Build {
        /// The source file.
        file: PathBuf,
        /// Where to write the bytecode (default: FILE with the .sbc extension).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Emit the plainest code: no constant folding or instruction fusion.
        #[arg(long)]
        no_opt: bool,
    },
    /// Print a module (.stk after compiling, .sbc, or .sasm after assembling) as assembly;
    /// with source lines interleaved when the source is known.
    Disasm {
        /// The module or source file.
        file: PathBuf,
        /// The .stk source of a .sbc module (default: FILE with the .stk extension, if any).
        #[arg(long)]
        source: Option<PathBuf>,
        /// For a .stk file: no constant folding or instruction fusion.
        #[arg(long)]
        no_opt: bool,
    },
    /// Print what each export of a contract may do to storage, as the VM derives it from
    /// the verified bytecode (spec/footprints.md), and how its transactions run in a
    /// parallel block: owned (by which key), global, or a barrier (and why).
    Footprint {
        /// The contract: .stk source (compiled in memory), .sasm or .sbc.
        file: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Print the opcode specification (spec/OPCODES.md).
    Spec,
    /// Print a contract's ABI as JSON: its exports (parameter and return names and types),
    /// events, revert codes with their messages, structs, imports and storage layout
    /// (spec/abi.md).
    Abi {
        /// The contract: .stk source (compiled in memory), .sasm or .sbc.
        file: PathBuf,
    },
    /// Print the events the chain in a state directory recorded, in block order.
    Logs(chain::LogsArgs),
    /// Print the receipt of a block's transaction in a state directory.
    Receipt(chain::ReceiptArgs),
    /// Deploy a contract into a persistent state directory; prints its address.
    Deploy(chain::DeployArgs),
    /// Call a deployed contract in a state directory: one transaction, committed
    /// atomically with the block counter.
    Call(chain::CallArgs),
    /// Print a state directory's contracts and storage.
    State(chain::StateArgs),
    /// Check a .stk source file: report every error, compiling but writing nothing.
    Check {
        /// The source file.
        file: PathBuf,
        /// One JSON object per diagnostic, on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Call an exported function on a fresh in-memory state.
    Run(RunArgs),
    /// Run the #[test] functions of .stk files, each on fresh state, in parallel; report
    /// pass or fail and gas (exit 1 when one fails).
    Test(test::TestArgs),
    /// Create a project: a manifest, a sample contract in src/, tests in tests/.
    New(scaffold::NewArgs),
    /// Print the ed25519 public key of a secret key as the two ints contracts take.
    Key(keys::KeyArgs),
    /// Sign a message of values with an ed25519 secret key; prints the four ints
    /// `ed25519_verify` takes.
    Sign(keys::SignArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Execute a block file (JSON lines: deploys, then blocks of transactions; see
    /// spec/block-format.md) sequentially or in parallel, printing digests of the receipts
    /// and the final state (the same at every thread count) and the throughput. With
    /// --gen, write a standard perps workload to stdout instead.
    Block(BlockArgs),
}

#[derive(Args, Debug)]
struct BlockArgs {
    /// The block file (not with --gen).
    #[arg(required_unless_present = "gen", conflicts_with = "gen")]
    file: Option<PathBuf>,
    /// Worker threads; 1 runs the sequential executor (default: the machine's cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Run SADD as a read and a write instead of a delta (to measure what deltas save;
    /// Block-STM only).
    #[arg(long)]
    no_deltas: bool,
    /// Compare thread counts side by side: run the file once per count in turn, REPEAT
    /// rounds, and report each count's fastest and median time and its speed-up over the
    /// first count (on a noisy machine, alternating runs keeps the comparison fair).
    /// Example: --compare 1,2,4.
    #[arg(long, value_name = "THREADS", value_delimiter = ',', conflicts_with = "threads",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    compare: Vec<u16>,
    /// Which parallel executor runs blocks with more than one thread (the results are the
    /// same).
    #[arg(long, value_enum, default_value_t = ExecutorArg::Sharded)]
    executor: ExecutorArg,
    /// Which engine runs the code (the results are the same).
    #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
    engine: EngineArg,
    /// Run the whole file N times, each on fresh state, and report the median and
    /// fastest times.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    repeat: u32,
    /// Write this standard workload (on stdlib/perps.stk or stdlib/options_margin.stk) as a
    /// block file to stdout.
    #[arg(long, value_enum, value_name = "WORKLOAD")]
    gen: Option<crate::block::Workload>,
    /// With --gen: transactions in the workload block.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    txs: u32,
    /// With --gen: distinct trading accounts.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    accounts: u32,
    /// With --gen: the perps contract the file deploys (written as an absolute path).
    #[arg(long, default_value = "stdlib/perps.stk")]
    perps: PathBuf,
    /// With --gen options-margin or liquidations: the options venue the file deploys
    /// (written as an absolute path).
    #[arg(long, default_value = "stdlib/options_margin.stk")]
    options: PathBuf,
}

/// `--executor`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ExecutorArg {
    /// Owner-sharded by footprints derived from the bytecode; barriers and what
    /// footprints cannot prove run in block order.
    Sharded,
    /// Block-STM: speculation over multi-version memory, for the whole block.
    Stm,
}

/// `--engine`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum EngineArg {
    /// The interpreter.
    Interp,
    /// The Cranelift JIT.
    Jit,
    /// The interpreter, then the JIT once hot.
    Auto,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The contract: .stk source (compiled in memory), .sasm or .sbc.
    file: PathBuf,
    /// The exported function to call.
    function: String,
    /// Arguments, parsed by the function's parameter types (fx as decimal text).
    #[arg(allow_negative_numbers = true)]
    args: Vec<String>,
    /// Gas limit of each call.
    #[arg(long, default_value_t = 10_000_000)]
    gas_limit: u64,
    /// Print one JSON object per call.
    #[arg(long)]
    json: bool,
    /// Read one call per line (whitespace-separated arguments; blank and # lines skipped) from FILE, or stdin for '-'.
    #[arg(long, value_name = "FILE", conflicts_with = "args")]
    batch: Option<String>,
    /// Run each call N times and report nanoseconds per call (median and minimum).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Which engine runs the code: the interpreter, the JIT (compiling on the first call),
    /// or auto (the interpreter until the contract is hot, then the JIT). Results and gas
    /// are the same in all three.
    #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
    engine: EngineArg,
    /// Caller address (decimal or 0x hex).
    #[arg(long, default_value = "0x1")]
    caller: String,
    /// Block number.
    #[arg(long, default_value_t = 1)]
    block: u64,
    /// Block timestamp, seconds.
    #[arg(long, default_value_t = 0)]
    timestamp: u64,
    #[command(flatten)]
    insight: Insight,
}

/// `--trace` and `--gas-profile`, for `run` and `call`.
#[derive(Args, Debug, Default)]
struct Insight {
    /// Write an execution trace to FILE: one JSON line per instruction, then a summary line
    /// (spec/trace.md). The trace is taken on the interpreter and is the same whichever
    /// --engine is chosen; with the JIT, the JIT's receipt is checked equal to it.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Write a flamegraph (SVG) of the call's gas by function and source line to FILE.
    #[arg(long, value_name = "FILE")]
    gas_profile: Option<PathBuf>,
}

impl Insight {
    fn wanted(&self) -> bool {
        self.trace.is_some() || self.gas_profile.is_some()
    }
}

/// Runs `tx` once more with the interpreter's trace hooks, for `--trace` and
/// `--gas-profile`, on `state`; checks its receipt against `expected` (the selected
/// engine's). Returns the traced receipt.
fn traced<T: strike_vm::state::TxState>(
    engine: &Engine,
    tx: &Transaction,
    block: &BlockEnv,
    state: &mut T,
    insight: &Insight,
    (labels, export): (&trace::Labels, &Export),
    expected: Option<&Receipt>,
) -> Result<Receipt, String> {
    let mut file = match &insight.trace {
        Some(p) => Some(trace::TraceFile::create(p)?),
        None => None,
    };
    let mut profile = trace::Profile::default();
    // Steps in contracts the transaction calls are named by those contracts' modules.
    let mut others: std::collections::HashMap<u128, trace::Labels> = Default::default();
    let receipt = {
        let mut recorder = strike_vm::interp::trace::Recorder::new(|step| {
            let labels = if step.contract == tx.contract {
                labels
            } else {
                others.entry(step.contract).or_insert_with(|| {
                    let name = format!("{:#x}", step.contract);
                    engine
                        .contract(step.contract)
                        .map(|m| trace::Labels::module(m.module(), &name))
                        .unwrap_or_default()
                })
            };
            if let Some(f) = file.as_mut() {
                f.line(&trace::step_json(&step, labels));
            }
            if insight.gas_profile.is_some() {
                profile.add(&step, labels);
            }
        });
        engine.execute_traced(tx, block, state, &mut recorder)
    };
    if let Some(want) = expected {
        if want != &receipt {
            return Err(format!(
                "the traced interpreter and the selected engine disagree (a VM bug; please report it): {receipt:?} vs {want:?}"
            ));
        }
    }
    if let Some(mut f) = file {
        f.line(&trace::summary_json(export, &receipt));
        let path = insight.trace.as_deref().unwrap_or(Path::new("-"));
        f.close().map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &insight.gas_profile {
        let title = format!("gas of {}: {} in all", export.name, receipt.gas_used);
        profile.write_svg(path, &title)?;
        eprintln!(
            "gas profile: {} ({} gas in instructions, {} base)",
            path.display(),
            profile.total(),
            strike_vm::runtime::gas::TX_BASE
        );
    }
    Ok(receipt)
}

/// The contract address `strike run` deploys to.
const CONTRACT: u128 = 0x100;

/// Writes the module's .sbc bytes to `target`.
fn write_module(module: &Module, target: PathBuf) -> Exit {
    match std::fs::write(&target, module.encode()) {
        Ok(()) => Exit::Success,
        Err(e) => fail(&format!("{}: {e}", target.display()), Exit::Failure),
    }
}

/// [`load`], with the names and source lines a trace or profile shows.
fn load_labeled(path: &Path) -> Result<(Module, trace::Labels), LoadFailure> {
    if is_source(path) {
        let (compiled, sources) = compile_program(path, Default::default())?;
        let labels = trace::Labels::compiled(&compiled, &sources);
        return Ok((compiled.module.module().clone(), labels));
    }
    let module = load_module(path).map_err(LoadFailure::Message)?;
    let source = path.with_extension("stk");
    let file = source.file_name().map(|f| f.to_string_lossy().into_owned());
    let labels = trace::Labels::module(&module, file.as_deref().unwrap_or("?"));
    Ok((module, labels))
}

/// Runs the command line `cli`.
pub fn main(cli: Cli) -> Exit {
    set_color(cli.color);
    match cli.command {
        Command::Test(args) => test::test(args),
        Command::New(args) => scaffold::new(args),
        Command::Key(args) => keys::key(args),
        Command::Sign(args) => keys::sign(args),
        Command::Completions { shell } => scaffold::completions(shell),
        Command::Spec => {
            out(opcodes_markdown().trim_end());
            Exit::Success
        }
        Command::Asm { file, output } => {
            let module = match load_module(&file) {
                Ok(m) => m,
                Err(e) => return fail(&e, Exit::Failure),
            };
            if let Err(e) = Engine::new().verify(module.clone()) {
                return fail(&format!("{}: {e}", file.display()), Exit::Failure);
            }
            write_module(
                &module,
                output.unwrap_or_else(|| file.with_extension("sbc")),
            )
        }
        Command::Build {
            file,
            output,
            no_opt,
        } => {
            let module = match compile_file(&file, !no_opt) {
                Ok((m, _)) => m,
                Err(e) => return e.report(),
            };
            write_module(
                &module,
                output.unwrap_or_else(|| file.with_extension("sbc")),
            )
        }
        Command::Footprint { file, json } => footprint(&file, json),
        Command::Disasm {
            file,
            source,
            no_opt,
        } => {
            let (module, text) = if is_source(&file) {
                match compile_file(&file, !no_opt) {
                    Ok((m, s)) => (m, Some(s)),
                    Err(e) => return e.report(),
                }
            } else {
                let module = match load_module(&file) {
                    Ok(m) => m,
                    Err(e) => return fail(&e, Exit::Failure),
                };
                let text = match &source {
                    Some(p) => match read_source(p) {
                        Ok(s) => Some(s),
                        Err(e) => return fail(&e, Exit::Failure),
                    },
                    None => read_source(&file.with_extension("stk")).ok(),
                };
                (module, text)
            };
            out(disassemble_with_source(&module, text.as_deref()).trim_end());
            Exit::Success
        }
        Command::Run(args) => run(args),
        Command::Deploy(args) => chain::deploy(args),
        Command::Call(args) => chain::call(args),
        Command::Logs(args) => chain::logs(args),
        Command::Receipt(args) => chain::receipt(args),
        Command::Abi { file } => match load(&file) {
            Ok(m) => {
                out(&crate::json::abi(&m).to_string());
                Exit::Success
            }
            Err(e) => e.report(),
        },
        Command::State(args) => chain::state(args),
        Command::Block(args) => block(args),
        Command::Check { file, json } => check(&file, json),
    }
}

/// `strike check`: parse and type-check; diagnostics on stderr (or JSON on stdout).
fn check(path: &Path, as_json: bool) -> Exit {
    let source = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => return fail(&format!("{}: {e}", path.display()), Exit::Failure),
    };
    let name = path.display().to_string();
    let (sources, _, diagnostics) =
        strike_lang::diagnose_files(&name, &source, &mut strike_lang::files::file_system);
    if as_json {
        let text = json::diagnostics(&sources, &diagnostics);
        if !text.is_empty() {
            out(text.trim_end());
        }
    } else if !diagnostics.is_empty() {
        eprint!("{}", render_failure_sources(&name, &sources, &diagnostics));
    }
    if diagnostics.is_empty() {
        Exit::Success
    } else {
        Exit::Failure
    }
}

fn run(args: RunArgs) -> Exit {
    let caller = match values::parse(strike_vm::isa::ValueType::Address, &args.caller) {
        Ok(c) => c as u128,
        Err(e) => return fail(&format!("--caller: {e}"), Exit::Usage),
    };
    if args.insight.wanted() && args.batch.is_some() {
        return fail(
            "--trace and --gas-profile follow one call: not with --batch",
            Exit::Usage,
        );
    }
    let (module, labels) = match load_labeled(&args.file) {
        Ok(m) => m,
        Err(e) => return e.report(),
    };
    let mut engine = Engine::new();
    engine.set_mode(engine_mode(args.engine));
    let verified = match engine.verify(module) {
        Ok(v) => v,
        Err(e) => return fail(&format!("{}: {e}", args.file.display()), Exit::Failure),
    };
    let export = match find_export(verified.module(), &args.function, "") {
        Ok(e) => e,
        Err(exit) => return exit,
    };
    engine.deploy(CONTRACT, verified);
    let block = BlockEnv {
        number: args.block,
        timestamp: args.timestamp,
    };
    let transaction = |argv: &[String]| -> Result<Transaction, String> {
        Ok(Transaction {
            caller,
            contract: CONTRACT,
            function: export.name.clone(),
            args: parse_args(&export, argv)?,
            gas_limit: args.gas_limit,
        })
    };
    let call = |argv: &[String]| -> Result<(Receipt, Option<(u128, u128)>), String> {
        let tx = transaction(argv)?;
        let mut times = Vec::with_capacity(args.repeat as usize);
        let mut receipt = None;
        for _ in 0..args.repeat {
            let mut state = StateCache::new(MemoryStorage::new());
            let start = Instant::now();
            let r = engine.execute(&tx, &block, &mut state);
            times.push(start.elapsed().as_nanos());
            receipt = Some(r);
        }
        times.sort_unstable();
        let timing = (args.repeat > 1).then(|| (times[times.len() / 2], times[0]));
        receipt
            .map(|r| (r, timing))
            .ok_or_else(|| "no run".to_string())
    };
    let mut exit = Exit::Success;
    // The selected engine's last receipt, which a trace is checked against.
    let mut last = None;
    let mut report = |argv: &[String], context: &str| match call(argv) {
        Ok((receipt, timing)) => {
            if receipt.status != Status::Ok {
                exit = Exit::Failure;
            }
            out(&render(&engine, &export, &receipt, timing, args.json));
            last = Some(receipt);
        }
        Err(e) => {
            exit = if args.batch.is_some() {
                Exit::Failure
            } else {
                Exit::Usage
            };
            let message = format!("{context}{e}");
            if args.json {
                let line = serde_json::json!({
                    "status": "error",
                    "returns": [],
                    "gas_used": 0,
                    "error": json::error(Some((2, &message))),
                });
                out(&line.to_string());
            }
            fail(&message, Exit::Failure);
        }
    };
    match &args.batch {
        None => {
            report(&args.args, "");
            if let (true, Some(expected), Ok(tx)) = (
                args.insight.wanted(),
                last.as_ref(),
                transaction(&args.args),
            ) {
                let result = traced(
                    &engine,
                    &tx,
                    &block,
                    &mut StateCache::new(MemoryStorage::new()),
                    &args.insight,
                    (&labels, &export),
                    Some(expected),
                );
                if let Err(e) = result {
                    return fail(&e, Exit::Failure);
                }
            }
        }
        Some(source) => {
            let reader: Box<dyn BufRead> = if source == "-" {
                Box::new(io::stdin().lock())
            } else {
                match std::fs::File::open(source) {
                    Ok(f) => Box::new(io::BufReader::new(f)),
                    Err(e) => return fail(&format!("{source}: {e}"), Exit::Usage),
                }
            };
            for (n, line) in reader.lines().enumerate() {
                let line = match line {
                    Ok(l) => l,
                    Err(e) => return fail(&format!("{source}: {e}"), Exit::Failure),
                };
                if line.trim().is_empty() || line.trim_start().starts_with('#') {
                    continue;
                }
                let argv: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
                report(&argv, &format!("batch line {}: ", n + 1));
            }
        }
    }
    let stats = engine.jit_stats();
    if stats.modules > 0 && !args.json {
        eprintln!(
            "jit: {} bytes of machine code, compiled in {} µs",
            stats.code_bytes,
            stats.compile_nanos / 1000
        );
    }
    exit
}

/// The export `name` of `module`, or a usage error listing the exports (`place` says where,
/// e.g. " at 0x...").
fn find_export(module: &Module, name: &str, place: &str) -> Result<Export, Exit> {
    match module.exports.iter().find(|e| e.name == name) {
        Some(e) => Ok(e.clone()),
        None => {
            let names: Vec<&str> = module.exports.iter().map(|e| e.name.as_str()).collect();
            Err(fail(
                &format!(
                    "no exported function {name:?}{place} (exports: {})",
                    names.join(", ")
                ),
                Exit::Usage,
            ))
        }
    }
}

fn parse_args(export: &Export, argv: &[String]) -> Result<Vec<i128>, String> {
    if argv.len() != export.params.len() {
        let types: Vec<&str> = export.params.iter().map(|t| t.name()).collect();
        return Err(format!(
            "{} takes {} arguments ({}), {} given",
            export.name,
            export.params.len(),
            types.join(", "),
            argv.len()
        ));
    }
    export
        .params
        .iter()
        .zip(argv)
        .enumerate()
        .map(|(i, (&ty, text))| {
            values::parse(ty, text).map_err(|e| format!("argument {} ({}): {e}", i + 1, ty.name()))
        })
        .collect()
}

/// An event's fields as (name, type, raw value): named and typed by the emitting
/// contract's ABI, or `arg0`.. as ints for a contract without one.
fn event_fields(engine: &Engine, e: &Event) -> Vec<(String, ValueType, i128)> {
    let decl = engine
        .contract(e.contract)
        .and_then(|m| m.module().abi.event(&e.name).cloned());
    e.values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let field = decl.as_ref().and_then(|d| d.fields.get(i));
            let name = field.map_or_else(|| format!("arg{i}"), |f| f.name.clone());
            let ty = field
                .and_then(|f| ValueType::from_name(&f.ty))
                .unwrap_or(ValueType::Int);
            (name, ty, v)
        })
        .collect()
}

/// An event as the CLI prints it: `event Opened(who: 0xa11ce, size: 2.5)`.
pub(crate) fn event_line(engine: &Engine, e: &Event) -> String {
    let fields: Vec<String> = event_fields(engine, e)
        .into_iter()
        .map(|(name, ty, v)| format!("{name}: {}", values::format(ty, v)))
        .collect();
    format!("event {}({})", e.name, fields.join(", "))
}

/// An event as JSON: `{"contract", "name", "args": {field: text}}`, values as the CLI
/// prints them (fx as exact decimal text).
pub(crate) fn event_json(engine: &Engine, e: &Event) -> serde_json::Value {
    let mut args = serde_json::Map::new();
    for (name, ty, v) in event_fields(engine, e) {
        args.insert(name, serde_json::Value::String(values::format(ty, v)));
    }
    serde_json::json!({
        "contract": format!("{:#x}", e.contract),
        "name": e.name,
        "args": args,
    })
}

/// A receipt's error as JSON: code, message, and where it failed with the call path.
pub(crate) fn error_json(error: Option<&ReceiptError>) -> serde_json::Value {
    let Some(e) = error else {
        return serde_json::Value::Null;
    };
    let mut v = json::error(Some((e.code, e.message.as_str())));
    if let (Some(object), Some(at)) = (v.as_object_mut(), e.failed_in()) {
        object.insert("contract".into(), format!("{:#x}", at.contract).into());
        object.insert("function".into(), at.function.clone().into());
        let path: Vec<serde_json::Value> = e
            .path
            .iter()
            .map(|f| {
                serde_json::json!({
                    "contract": format!("{:#x}", f.contract),
                    "function": f.function,
                })
            })
            .collect();
        object.insert("path".into(), path.into());
    }
    v
}

/// A receipt's error for people: `[1] size must be positive`, with the call path when
/// the failure was in a called contract.
fn error_text(e: &ReceiptError) -> String {
    let mut s = format!("[{}] {}", e.code, e.message);
    if e.path.len() > 1 {
        let path: Vec<String> = e
            .path
            .iter()
            .map(|f| format!("{:#x}.{}", f.contract, f.function))
            .collect();
        s.push_str(&format!("\n  in {}", path.join(" -> ")));
    }
    s
}

fn render(
    engine: &Engine,
    export: &Export,
    r: &Receipt,
    timing: Option<(u128, u128)>,
    as_json: bool,
) -> String {
    let returns: Vec<String> = export
        .returns
        .iter()
        .zip(&r.returns)
        .map(|(&t, &v)| values::format(t, v))
        .collect();
    if as_json {
        let status = match r.status {
            Status::Ok => "ok",
            Status::Revert => "revert",
            Status::Error => "error",
        };
        let returns: Vec<serde_json::Value> = export
            .returns
            .iter()
            .zip(&r.returns)
            .map(|(&t, &v)| json::typed(t, v))
            .collect();
        let events: Vec<serde_json::Value> =
            r.events.iter().map(|e| event_json(engine, e)).collect();
        let mut line = serde_json::json!({
            "status": status,
            "returns": returns,
            "gas_used": r.gas_used,
            "events": events,
            "error": error_json(r.error.as_ref()),
        });
        if let (Some((median, min)), Some(object)) = (timing, line.as_object_mut()) {
            object.insert(
                "ns_per_call".into(),
                serde_json::json!({ "median": median, "min": min }),
            );
        }
        line.to_string()
    } else {
        let mut s = match r.status {
            Status::Ok => format!("ok: {}", returns.join(" ")),
            _ => format!(
                "{}: {}",
                if r.status == Status::Revert {
                    "revert"
                } else {
                    "error"
                },
                r.error.as_ref().map_or(String::new(), error_text)
            ),
        };
        s.push_str(&format!("\ngas used: {}", r.gas_used));
        for e in &r.events {
            s.push('\n');
            s.push_str(&event_line(engine, e));
        }
        if let Some((median, min)) = timing {
            s.push_str(&format!("\nns per call: median {median}, min {min}"));
        }
        s
    }
}

fn engine_mode(arg: EngineArg) -> Mode {
    match arg {
        EngineArg::Interp => Mode::Interp,
        EngineArg::Jit => Mode::Jit,
        EngineArg::Auto => Mode::Auto,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn footprint(file: &Path, json: bool) -> Exit {
    use strike_vm::exec::sharded::plan::Plan;
    let module = match crate::load::load_contract(file) {
        Ok(m) => m,
        Err(e) => return fail(&e, Exit::Failure),
    };
    let verified = match Engine::new().verify(module) {
        Ok(v) => v,
        Err(e) => return fail(&format!("{}: {e}", file.display()), Exit::Failure),
    };
    let plan = Plan::new(&verified);
    let mut exports = Vec::new();
    for (index, e) in verified.module().exports.iter().enumerate() {
        let fp = verified.footprints().get(e.function as usize);
        let class = plan
            .export(index)
            .map_or_else(|| "barrier".to_string(), |p| p.template.to_string());
        exports.push((e.name.clone(), class, fp.cloned().unwrap_or_default()));
    }
    if json {
        let v: Vec<serde_json::Value> = exports
            .iter()
            .map(|(name, class, fp)| {
                serde_json::json!({
                    "export": name,
                    "class": class,
                    "opaque": fp.opaque,
                    "accesses": fp.accesses.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                })
            })
            .collect();
        out(&serde_json::json!({ "exports": v }).to_string());
        return Exit::Success;
    }
    for (name, class, fp) in &exports {
        out(&format!("{name}: {class}"));
        if fp.opaque {
            out("  any access (on a call cycle)");
        }
        for a in &fp.accesses {
            out(&format!("  {a}"));
        }
    }
    Exit::Success
}

/// The parallel executor's configuration that `args` ask for, at `threads` threads.
fn parallel_config(args: &BlockArgs, threads: usize) -> strike_vm::exec::ParallelConfig {
    strike_vm::exec::ParallelConfig {
        threads,
        deltas: !args.no_deltas,
        executor: match args.executor {
            ExecutorArg::Sharded => strike_vm::exec::Executor::Sharded,
            ExecutorArg::Stm => strike_vm::exec::Executor::Stm,
        },
        ..strike_vm::exec::ParallelConfig::default()
    }
}

/// `strike block FILE --compare 1,2,...`: the thread counts run in turn, every round.
fn compare(args: &BlockArgs, engine: &Engine, blocks: &[crate::block::Block]) -> Exit {
    use crate::block;
    use strike_vm::exec::{receipts_digest, state_digest, ParallelConfig};
    let configs: Vec<(usize, ParallelConfig)> = args
        .compare
        .iter()
        .map(|&t| {
            let threads = usize::from(t);
            (threads, parallel_config(args, threads))
        })
        .collect();
    let mut times: Vec<Vec<std::time::Duration>> = vec![Vec::new(); configs.len()];
    let mut digests: Vec<Option<(String, String)>> = vec![None; configs.len()];
    for _ in 0..args.repeat {
        for (k, (threads, config)) in configs.iter().enumerate() {
            let parallel = (*threads > 1).then_some(config);
            let start = Instant::now();
            let run = block::run(engine, blocks, parallel);
            let elapsed = start.elapsed();
            match run {
                Ok((receipts, state, _, _)) => {
                    if digests[k].is_none() {
                        digests[k] = Some((
                            hex(&receipts_digest(&receipts)),
                            hex(&state_digest(&state.storage().entries())),
                        ));
                    }
                }
                Err(e) => return fail(&e, Exit::Failure),
            }
            times[k].push(elapsed);
        }
    }
    for t in &mut times {
        t.sort();
    }
    let fastest = |k: usize| times[k].first().copied().unwrap_or_default();
    let median = |k: usize| {
        times[k]
            .get(times[k].len() / 2)
            .copied()
            .unwrap_or_default()
    };
    let base = fastest(0).as_secs_f64().max(1e-12);
    let same = digests.iter().all(|d| *d == digests[0]);
    if args.json {
        let runs: Vec<serde_json::Value> = configs
            .iter()
            .enumerate()
            .map(|(k, (threads, _))| {
                let (r, s) = digests[k].clone().unwrap_or_default();
                serde_json::json!({
                    "threads": threads,
                    "fastest_ns": fastest(k).as_nanos(),
                    "elapsed_ns": median(k).as_nanos(),
                    // A display figure, never a result.
                    "speedup": (base / fastest(k).as_secs_f64().max(1e-12) * 1000.0).round() / 1000.0,
                    "receipts_digest": r,
                    "state_digest": s,
                })
            })
            .collect();
        out(
            &serde_json::json!({ "same_digests": same, "rounds": args.repeat, "runs": runs })
                .to_string(),
        );
    } else {
        for (k, (threads, _)) in configs.iter().enumerate() {
            out(&format!(
                "{threads} thread{}: fastest {:.3} ms, median {:.3} ms, speed-up {:.2}x",
                if *threads == 1 { "" } else { "s" },
                fastest(k).as_secs_f64() * 1e3,
                median(k).as_secs_f64() * 1e3,
                base / fastest(k).as_secs_f64().max(1e-12)
            ));
        }
        out(&format!(
            "digests: {}",
            if same {
                "the same at every thread count"
            } else {
                "DIFFER"
            }
        ));
    }
    if same {
        Exit::Success
    } else {
        Exit::Failure
    }
}

fn block(args: BlockArgs) -> Exit {
    use crate::block;
    use strike_vm::exec::{receipts_digest, state_digest};
    if let Some(workload) = args.gen {
        let path = if workload.on_options() {
            &args.options
        } else {
            &args.perps
        };
        let contract = match std::fs::canonicalize(path) {
            Ok(p) => p,
            Err(e) => return fail(&format!("{}: {e}", path.display()), Exit::Failure),
        };
        let lines = block::generate(
            workload,
            &contract.display().to_string(),
            args.txs as usize,
            args.accounts as usize,
        );
        out(&lines.join("\n"));
        return Exit::Success;
    }
    let Some(path) = args.file.clone() else {
        return fail("a block file is needed (or --gen)", Exit::Usage);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => return fail(&format!("{}: {e}", path.display()), Exit::Failure),
    };
    let (engine, blocks) = match block::open(&path, &text, engine_mode(args.engine)) {
        Ok(x) => x,
        Err(e) => return fail(&e, Exit::Failure),
    };
    if !args.compare.is_empty() {
        return compare(&args, &engine, &blocks);
    }
    let threads = args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    let config = parallel_config(&args, threads);
    let parallel = (threads > 1).then_some(&config);
    let mut times = Vec::new();
    let mut result = None;
    for _ in 0..args.repeat {
        // The previous run's state and receipts are dropped before the clock starts.
        drop(result.take());
        let start = Instant::now();
        match block::run(&engine, &blocks, parallel) {
            Ok(r) => result = Some(r),
            Err(e) => return fail(&e, Exit::Failure),
        }
        times.push(start.elapsed());
    }
    let Some((receipts, state, stats, per_block)) = result else {
        return fail("nothing ran", Exit::Failure);
    };
    times.sort();
    let median = times[times.len() / 2];
    let fastest = times[0];
    let count = |s: Status| receipts.iter().filter(|r| r.status == s).count();
    let (ok, reverted, failed) = (
        count(Status::Ok),
        count(Status::Revert),
        count(Status::Error),
    );
    let receipts_hex = hex(&receipts_digest(&receipts));
    let state_hex = hex(&state_digest(&state.storage().entries()));
    let tps = receipts.len() as f64 / median.as_secs_f64().max(1e-9);
    let executor = match (threads, args.executor) {
        (1, _) => "sequential",
        (_, ExecutorArg::Sharded) => "sharded",
        (_, ExecutorArg::Stm) => "stm",
    };
    let fallback_name = |f: Option<strike_vm::exec::Fallback>| match f {
        None => "none",
        Some(strike_vm::exec::Fallback::OneThread) => "one-thread",
        Some(strike_vm::exec::Fallback::SmallBlock) => "small-block",
        Some(strike_vm::exec::Fallback::Aborts) => "aborts",
        Some(strike_vm::exec::Fallback::Stalled) => "stalled",
        Some(strike_vm::exec::Fallback::Escape) => "escape",
        Some(strike_vm::exec::Fallback::Totals) => "totals",
    };
    let fallback = fallback_name(stats.fallback);
    let paths = |s: &strike_vm::exec::BlockStats| {
        serde_json::json!({
            "owned": s.paths.owned,
            "global": s.paths.global,
            "barrier": s.paths.barrier,
            "fallback": s.paths.fallback,
        })
    };
    if args.json {
        let line = serde_json::json!({
            "transactions": receipts.len(),
            "blocks": blocks.len(),
            "ok": ok,
            "reverted": reverted,
            "failed": failed,
            "receipts_digest": receipts_hex,
            "state_digest": state_hex,
            "threads": threads,
            "executor": executor,
            "elapsed_ns": median.as_nanos(),
            "fastest_ns": fastest.as_nanos(),
            // Whole transactions per second: a display figure, never a result.
            "tx_per_second": tps.round() as u64,
            "tasks": stats.tasks,
            "executions": stats.executions,
            "validations": stats.validations,
            "fallback": fallback,
            "paths": paths(&stats),
            "escapes": stats.escapes,
            "per_block": per_block.iter().zip(&blocks).map(|(s, b)| serde_json::json!({
                "number": b.env.number,
                "transactions": s.transactions,
                "paths": paths(s),
                "escapes": s.escapes,
                "fallback": fallback_name(s.fallback),
            })).collect::<Vec<_>>(),
        });
        out(&line.to_string());
    } else {
        out(&format!(
            "transactions: {} in {} block{} (ok {ok}, reverted {reverted}, failed {failed})",
            receipts.len(),
            blocks.len(),
            if blocks.len() == 1 { "" } else { "s" }
        ));
        out(&format!("receipts digest: {receipts_hex}"));
        out(&format!("state digest: {state_hex}"));
        out(&format!(
            "elapsed: {:.3} ms{} ({tps:.0} tx/s), {executor}, {threads} thread{}",
            median.as_secs_f64() * 1e3,
            if args.repeat > 1 {
                format!(
                    " median of {}, fastest {:.3} ms",
                    args.repeat,
                    fastest.as_secs_f64() * 1e3
                )
            } else {
                String::new()
            },
            if threads == 1 { "" } else { "s" }
        ));
        if executor == "stm" {
            out(&format!(
                "tasks: {}, executions: {}, validations: {}, fallback: {fallback}",
                stats.tasks, stats.executions, stats.validations
            ));
        } else {
            out(&format!(
                "paths: owned {}, global {}, barrier {}, fallback {}; escapes: {}; fallback: {fallback}",
                stats.paths.owned,
                stats.paths.global,
                stats.paths.barrier,
                stats.paths.fallback,
                stats.escapes
            ));
        }
    }
    Exit::Success
}
