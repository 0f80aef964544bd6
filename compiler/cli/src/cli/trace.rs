//! What the CLI makes of an execution trace (`strike_vm::interp::trace`): JSON lines for
//! `--trace` (format in spec/trace.md), a flamegraph of gas for `--gas-profile`, and gas
//! per function for `strike test --gas-report`.

use crate::json;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use strike_lang::values;
use strike_vm::exec::{Receipt, Status};
use strike_vm::interp::trace::Step;
use strike_vm::isa::{Export, Module};

/// Names and source lines for a module's code.
#[derive(Default)]
pub struct Labels {
    /// Function names, by index.
    names: Vec<String>,
    /// Per function, per pc: the source file (base name) and line, if known.
    lines: Vec<Vec<Option<(String, u32)>>>,
}

impl Labels {
    /// From a compiled contract: real names, and lines in the files they come from.
    pub fn compiled(compiled: &strike_lang::Compiled, sources: &strike_lang::Sources) -> Self {
        let text = sources.text();
        let starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(k, _)| k + 1))
            .collect();
        let place = |line: u32| {
            let offset = *starts.get((line as usize).checked_sub(1)?)?;
            let (file, l, _) = sources.position(offset);
            let base = std::path::Path::new(file)
                .file_name()
                .map_or(file.to_string(), |b| b.to_string_lossy().into_owned());
            Some((base, l))
        };
        Labels::build(compiled.module.module(), compiled.names.clone(), place)
    }

    /// From a module alone: exported names (others as `f<index>`) and its debug lines,
    /// which count lines of the source it was compiled from, called `file`.
    pub fn module(module: &Module, file: &str) -> Self {
        let mut names: Vec<String> = (0..module.functions.len())
            .map(|k| format!("f{k}"))
            .collect();
        for e in module.exports.iter().rev() {
            if let Some(n) = names.get_mut(e.function as usize) {
                *n = e.name.clone();
            }
        }
        Labels::build(module, names, |line| Some((file.to_string(), line)))
    }

    fn build(
        module: &Module,
        names: Vec<String>,
        place: impl Fn(u32) -> Option<(String, u32)>,
    ) -> Self {
        let mut lines: Vec<Vec<Option<(String, u32)>>> = module
            .functions
            .iter()
            .map(|f| vec![None; f.code.len()])
            .collect();
        for d in &module.debug {
            if let Some(slot) = lines
                .get_mut(d.function as usize)
                .and_then(|f| f.get_mut(d.pc as usize))
            {
                *slot = place(d.line);
            }
        }
        // An instruction without an entry belongs to the line of the one before it.
        for f in &mut lines {
            for k in 1..f.len() {
                if f[k].is_none() {
                    f[k] = f[k - 1].clone();
                }
            }
        }
        Labels { names, lines }
    }

    fn name(&self, function: usize) -> &str {
        self.names.get(function).map_or("?", String::as_str)
    }

    fn line(&self, function: usize, pc: usize) -> Option<&(String, u32)> {
        self.lines.get(function)?.get(pc)?.as_ref()
    }
}

/// One step as a JSON line (spec/trace.md).
pub fn step_json(step: &Step, labels: &Labels) -> String {
    let reads: Vec<Value> = step
        .reads
        .iter()
        .map(|&(r, v)| json!({ "r": r, "value": json::raw(v) }))
        .collect();
    let writes: Vec<Value> = step
        .writes
        .iter()
        .map(|&(r, b, a)| json!({ "r": r, "before": json::raw(b), "after": json::raw(a) }))
        .collect();
    let storage = step.storage.as_ref().map(|s| {
        json!({
            "contract": format!("{:#x}", s.slot.contract),
            "space": s.slot.space,
            "key": json::raw(s.slot.key as i128),
            "before": json::raw(s.before),
            "after": json::raw(s.after),
        })
    });
    let source = labels
        .line(step.function, step.pc)
        .map(|(file, l)| json!({ "file": file, "line": l }));
    json!({
        "contract": format!("{:#x}", step.contract),
        "pc": step.pc,
        "op": step.op as u8,
        "opName": step.op.info().mnemonic,
        "gas": step.gas,
        "gasCost": step.gas_cost,
        "depth": step.depth,
        "function": labels.name(step.function),
        "source": source,
        "reads": reads,
        "writes": writes,
        "storage": storage,
        "error": json::error(step.error.as_ref().map(|e| (e.code, e.message.as_str()))),
    })
    .to_string()
}

/// The summary line that ends a trace.
pub fn summary_json(export: &Export, receipt: &Receipt) -> String {
    let output: Vec<String> = export
        .returns
        .iter()
        .zip(&receipt.returns)
        .map(|(&t, &v)| values::format(t, v))
        .collect();
    json!({
        "output": output,
        "gasUsed": receipt.gas_used,
        "pass": receipt.status == Status::Ok,
        "error": json::error(receipt.error.as_ref().map(|e| (e.code, e.message.as_str()))),
    })
    .to_string()
}

/// Writes steps as JSON lines to a file, remembering the first write error.
pub struct TraceFile {
    out: std::io::BufWriter<std::fs::File>,
    error: Option<std::io::Error>,
}

impl TraceFile {
    /// Creates (or truncates) `path`.
    pub fn create(path: &std::path::Path) -> Result<Self, String> {
        let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(TraceFile {
            out: std::io::BufWriter::new(file),
            error: None,
        })
    }

    /// Appends one line.
    pub fn line(&mut self, text: &str) {
        if self.error.is_none() {
            if let Err(e) = writeln!(self.out, "{text}") {
                self.error = Some(e);
            }
        }
    }

    /// Flushes; the first error, if any.
    pub fn close(mut self) -> Result<(), std::io::Error> {
        match self.error.take() {
            Some(e) => Err(e),
            None => self.out.flush(),
        }
    }
}

/// Gas by call stack, for a flamegraph: each step's cost goes to the stack of functions
/// (each caller at the line of its call) ending in the step's function and line.
#[derive(Default)]
pub struct Profile {
    folded: BTreeMap<String, u64>,
    /// The frames below the current one, as "name (file:line)" of their calls.
    callers: Vec<String>,
}

impl Profile {
    fn frame(labels: &Labels, function: usize, pc: usize) -> String {
        // `;` separates frames in the folded format; names and files hold none.
        match labels.line(function, pc) {
            Some((file, l)) => format!("{} ({file}:{l})", labels.name(function)),
            None => labels.name(function).to_string(),
        }
    }

    /// Adds a step.
    pub fn add(&mut self, step: &Step, labels: &Labels) {
        let below = step.depth.saturating_sub(1);
        self.callers.truncate(below);
        while self.callers.len() < below {
            self.callers.push("?".into());
        }
        let here = Profile::frame(labels, step.function, step.pc);
        let mut stack = self.callers.join(";");
        if !stack.is_empty() {
            stack.push(';');
        }
        stack.push_str(&here);
        *self.folded.entry(stack).or_default() += step.gas_cost;
        if matches!(
            step.op,
            strike_vm::isa::Opcode::Call | strike_vm::isa::Opcode::CallContract
        ) {
            self.callers.push(here);
        }
    }

    /// Total gas profiled.
    pub fn total(&self) -> u64 {
        self.folded.values().sum()
    }

    /// Writes the flamegraph as SVG.
    pub fn write_svg(&self, path: &std::path::Path, title: &str) -> Result<(), String> {
        let lines: Vec<String> = self
            .folded
            .iter()
            .filter(|(_, &gas)| gas > 0)
            .map(|(stack, gas)| format!("{stack} {gas}"))
            .collect();
        let mut options = inferno::flamegraph::Options::default();
        options.title = title.to_string();
        options.count_name = "gas".to_string();
        options.deterministic = true;
        let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        inferno::flamegraph::from_lines(&mut options, lines.iter().map(String::as_str), &mut out)
            .and_then(|()| out.flush())
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Gas per call of each function: what a call cost from its first instruction to its RET
/// (callees included).
#[derive(Default)]
pub struct GasReport {
    calls: HashMap<String, Vec<u64>>,
    /// Open frames: function and the gas left (per-instruction account) at its entry.
    open: Vec<(usize, u64)>,
}

impl GasReport {
    /// Adds a step.
    pub fn add(&mut self, step: &Step, labels: &Labels) {
        self.open.truncate(step.depth);
        if self.open.len() < step.depth {
            self.open.push((step.function, step.gas));
        }
        if step.op == strike_vm::isa::Opcode::Return {
            if let Some((f, entry)) = self.open.pop() {
                let used = entry.saturating_sub(step.gas.saturating_sub(step.gas_cost));
                self.calls
                    .entry(labels.name(f).to_string())
                    .or_default()
                    .push(used);
            }
        }
    }

    /// Merges another report into this one.
    pub fn merge(&mut self, other: GasReport) {
        for (name, mut gas) in other.calls {
            self.calls.entry(name).or_default().append(&mut gas);
        }
    }

    /// Rows sorted by name: (function, calls, min, mean, median, max); `skip` names left out.
    pub fn rows(&self, skip: &[String]) -> Vec<(String, usize, u64, u64, u64, u64)> {
        let mut rows: Vec<_> = self
            .calls
            .iter()
            .filter(|(name, _)| !skip.contains(name))
            .map(|(name, gas)| {
                let mut g = gas.clone();
                g.sort_unstable();
                let n = g.len();
                let mean = g.iter().sum::<u64>() / n as u64;
                let median = if n % 2 == 1 {
                    g[n / 2]
                } else {
                    (g[n / 2 - 1] + g[n / 2]) / 2
                };
                (name.clone(), n, g[0], mean, median, g[n - 1])
            })
            .collect();
        rows.sort();
        rows
    }
}
