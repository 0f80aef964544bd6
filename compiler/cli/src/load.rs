//! Loading contracts from files: `.stk` source compiled with what it imports (failures as
//! rendered diagnostics), `.sbc` bytecode recognised by its magic, `.sasm` assembly. Every
//! subcommand and `strike block` load through here.

use crate::output::{color_stderr, fail, Exit};
use std::path::Path;
use strike_lang::{files, Compiled, Diagnostic, Options, Sources};
use strike_vm::isa::{assemble, Module, MAGIC};

/// Why a file could not be loaded.
pub enum LoadFailure {
    /// One line, printed after `error: `.
    Message(String),
    /// Compile errors, already rendered as diagnostics.
    Diagnostics(String),
}

impl LoadFailure {
    pub fn report(self) -> Exit {
        match self {
            LoadFailure::Message(m) => fail(&m, Exit::Failure),
            LoadFailure::Diagnostics(text) => {
                eprint!("{text}");
                Exit::Failure
            }
        }
    }
}

/// What `strike build`, `check`, `run` and `disasm` print on stderr for a file that does not
/// compile: each diagnostic, then a summary line.
pub fn render_failure(name: &str, source: &str, diags: &[Diagnostic]) -> String {
    render_failure_sources(name, &Sources::single(name, source), diags)
}

/// [`render_failure`] for a contract of several files (the root `name` and its imports).
pub fn render_failure_sources(name: &str, sources: &Sources, diags: &[Diagnostic]) -> String {
    let mut text = strike_lang::diag::render_sources_colored(sources, diags, color_stderr());
    text.push_str(&format!(
        "error: could not compile {name}: {} error{}\n",
        diags.len(),
        if diags.len() == 1 { "" } else { "s" }
    ));
    text
}

/// Compiles the .stk file `path` and what it imports: its module and combined source text
/// (which its debug lines count), or its rendered diagnostics.
pub fn compile_file(path: &Path, optimize: bool) -> Result<(Module, String), LoadFailure> {
    let opts = Options {
        optimize,
        ..Default::default()
    };
    compile_program(path, opts).map(|(c, s)| (c.module.module().clone(), s.text().to_string()))
}

/// The combined text of the .stk file `path` and what it imports (for `disasm --source`).
pub fn read_source(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path.display().to_string();
    let (sources, ..) = files::gather(&name, &text, &mut files::file_system);
    Ok(sources.text().to_string())
}

pub fn is_source(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "stk")
}

/// Loads a contract for `strike block`: [`load`] with its failure as one message.
pub fn load_contract(path: &Path) -> Result<Module, String> {
    load(path).map_err(|e| match e {
        LoadFailure::Message(m) => m,
        LoadFailure::Diagnostics(d) => d.trim_end().to_string(),
    })
}

/// Compiles the .stk file `path` and what it imports, keeping names and tests.
pub fn compile_program(path: &Path, opts: Options) -> Result<(Compiled, Sources), LoadFailure> {
    let source = std::fs::read_to_string(path)
        .map_err(|e| LoadFailure::Message(format!("{}: {e}", path.display())))?;
    let name = path.display().to_string();
    let (sources, result) =
        strike_lang::compile_program(&name, &source, &mut files::file_system, opts);
    match result {
        Ok(c) => Ok((c, sources)),
        Err(diags) => Err(LoadFailure::Diagnostics(render_failure_sources(
            &name, &sources, &diags,
        ))),
    }
}

/// Loads a module: compiles .stk source, decodes .sbc bytes (recognised by their magic),
/// or assembles .sasm text.
pub fn load(path: &Path) -> Result<Module, LoadFailure> {
    if is_source(path) {
        return compile_file(path, true).map(|(m, _)| m);
    }
    load_module(path).map_err(LoadFailure::Message)
}

/// Reads a module from .sbc bytes (recognised by their magic) or .sasm text.
pub fn load_module(path: &Path) -> Result<Module, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.starts_with(&MAGIC) {
        Module::decode(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    } else {
        let text = String::from_utf8(bytes).map_err(|_| {
            format!(
                "{}: neither a .sbc module nor UTF-8 assembly",
                path.display()
            )
        })?;
        assemble(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}
