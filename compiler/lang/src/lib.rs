//! # strike-lang
//!
//! The Strike contract language as a library: lexer, grammar, syntax tree, checker,
//! diagnostics, source map and code generator, for the `strike` CLI and for embedders that
//! compile `.stk` at run time. [`compile`] turns source text into a verified module or
//! every diagnostic; [`diagnose`] reports them all without keeping the code. Neither ever
//! panics. It depends on `strike-vm` without its JIT or storage backends, and on nothing of
//! a command line.

pub mod abi;
pub mod ast;
pub mod builtins;
pub mod check;
pub mod diag;
pub mod files;
pub mod lexer;
pub mod lower;
mod parse;
pub mod source;
pub mod structs;
pub mod types;
pub mod values;

pub use check::{check, Program, Signature, SlotType, Type};
pub use diag::Diagnostic;
pub use lower::Options;
pub use parse::{parse, parse_at, SyntaxError, MAX_NESTING, MAX_STATEMENT_TOKENS};
pub use source::Sources;
use strike_vm::exec::Engine;
use strike_vm::isa::VerifiedModule;

/// Compiles `source` to a verified module, or returns every diagnostic in source order.
/// The same source and options always give the same bytes. Source held in memory has no
/// files to import: an `import` is an error (E0015); use [`compile_files`] for files.
pub fn compile(source: &str, opts: Options) -> Result<VerifiedModule, Vec<Diagnostic>> {
    compile_files("<source>", source, &mut files::no_files, opts).1
}

/// Compiles the contract whose root file is `name` with text `source`, reading what it
/// imports through `loader` (e.g. [`files::file_system`]). Returns its files (for rendering
/// diagnostics and debug lines, which index their combined text) and the module or every
/// diagnostic.
pub fn compile_files(
    name: &str,
    source: &str,
    loader: &mut files::Loader<'_>,
    opts: Options,
) -> (Sources, Result<VerifiedModule, Vec<Diagnostic>>) {
    let (sources, compiled) = compile_program(name, source, loader, opts);
    (sources, compiled.map(|c| c.module))
}

/// A compiled contract with what tools need beyond the module: its functions' names and
/// its tests.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The verified module.
    pub module: VerifiedModule,
    /// Every function's name, by function index.
    pub names: Vec<String>,
    /// The `#[test]` functions compiled (with `Options::tests`), in source order.
    pub tests: Vec<TestCase>,
}

/// One `#[test]` function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCase {
    /// Its name, also its export's.
    pub name: String,
    /// The revert code `#[test(expect_revert = CODE)]` expects; None: it must return.
    pub expect_revert: Option<u32>,
}

/// [`compile_files`], keeping the functions' names and the tests.
pub fn compile_program(
    name: &str,
    source: &str,
    loader: &mut files::Loader<'_>,
    opts: Options,
) -> (Sources, Result<Compiled, Vec<Diagnostic>>) {
    let Front {
        sources,
        original,
        file,
        program,
        diags,
    } = front_end(name, source, loader);
    if !diags.is_empty() {
        return (sources, Err(diags));
    }
    let functions: Vec<&ast::FnDecl> = file
        .items
        .iter()
        .filter_map(|i| match i {
            ast::Item::Function(f) if opts.tests || !f.is_test() => Some(f),
            _ => None,
        })
        .collect();
    let names = functions.iter().map(|f| f.name.name.clone()).collect();
    let tests = functions
        .iter()
        .filter(|f| f.is_test())
        .map(|f| TestCase {
            name: f.name.name.clone(),
            expect_revert: f.expected_revert().and_then(|code| {
                check::literal(&ast::Expr::new(
                    ast::ExprKind::Int(code.to_string()),
                    ast::Span::default(),
                ))
                .flatten()
                .and_then(|v| u32::try_from(v).ok())
            }),
        })
        .collect();
    let mut module = match lower::lower(&file, &program, sources.text(), opts) {
        Ok(m) => m,
        Err(d) => return (sources, Err(d)),
    };
    module.abi = abi::build(&original, &file, &program, &module.exports);
    let limits = strike_vm::isa::Limits {
        allow_test_natives: opts.tests,
        ..Default::default()
    };
    let verified = Engine::with_limits(limits).verify(module).map_err(|e| {
        vec![Diagnostic::new(
            diag::codes::INTERNAL,
            format!("internal compiler error: the generated code does not verify ({e})"),
            ast::Span::default(),
            "while compiling this file",
        )
        .note("this is a bug in the Strike compiler; please report it with the source file")]
    });
    let compiled = verified.map(|module| Compiled {
        module,
        names,
        tests,
    });
    (sources, compiled)
}

/// Reads, parses and checks: the files, the merged tree, the declarations and the front
/// end's diagnostics in source order.
/// What the front end makes of a contract: its files, the file as written, the file after
/// `structs::desugar` (what was checked), the checker's answer and every diagnostic.
struct Front {
    sources: Sources,
    original: ast::SourceFile,
    file: ast::SourceFile,
    program: Program,
    diags: Vec<Diagnostic>,
}

fn front_end(name: &str, source: &str, loader: &mut files::Loader<'_>) -> Front {
    let (sources, mut file, syntax, mut diags) = files::gather(name, source, loader);
    let original = file.clone();
    diags.extend(structs::desugar(&mut file));
    file.number();
    let (program, checked) = check(&file);
    diags.extend(checked);
    for e in syntax {
        let mut d = Diagnostic::new(diag::codes::SYNTAX, e.message.clone(), e.span, "here");
        if !e.expected.is_empty() {
            let shown: Vec<&str> = e.expected.iter().take(8).map(String::as_str).collect();
            let more = if e.expected.len() > 8 { ", ..." } else { "" };
            d = d.note(format!("expected one of: {}{more}", shown.join(", ")));
        }
        diags.push(d);
    }
    diags.sort_by_key(|d| (d.span.start, d.span.end));
    Front {
        sources,
        original,
        file,
        program,
        diags,
    }
}

/// Every diagnostic of `source` (syntax, types, then code generation), in source order,
/// with the declarations the checker found. In-memory source: an `import` is an error.
pub fn diagnose(source: &str) -> (Program, Vec<Diagnostic>) {
    let (_, program, diags) = diagnose_files("<source>", source, &mut files::no_files);
    (program, diags)
}

/// [`diagnose`] for a contract read from files, with its files.
pub fn diagnose_files(
    name: &str,
    source: &str,
    loader: &mut files::Loader<'_>,
) -> (Sources, Program, Vec<Diagnostic>) {
    let Front {
        sources,
        file,
        program,
        diags,
        ..
    } = front_end(name, source, loader);
    if !diags.is_empty() {
        return (sources, program, diags);
    }
    let opts = Options {
        tests: true,
        ..Options::default()
    };
    let diags = match lower::lower(&file, &program, sources.text(), opts) {
        Ok(_) => Vec::new(),
        Err(d) => d,
    };
    (sources, program, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(src: &str) -> Vec<&'static str> {
        diagnose(src).1.iter().map(|d| d.code).collect()
    }

    #[test]
    fn a_well_typed_contract_has_no_diagnostics() {
        let src = r#"
storage total: fx;
storage owed: map<address, fx>;
event Paid(who: address, amount: fx);
pub fn pay(amount: fx) -> fx {
    require(amount > 0.0, 1, "positive");
    let (lo, hi) = bounds(amount);
    let mut x = max(lo, min(hi, amount));
    total += x;
    owed[caller()] -= x;
    emit Paid(caller(), x);
    for i in 0..3 { x = x * 0.5; }
    if x > 1.0 { return x; } else { return to_fx(now()) * 1e-9; }
}
fn bounds(a: fx) -> (fx, fx) { return mul_div(a, 0.5, 2.0), sqrt(abs(a)); }
"#;
        let (_, diags) = diagnose(src);
        assert!(diags.is_empty(), "{diags:#?}");
    }

    #[test]
    fn each_rule_has_its_code() {
        assert_eq!(codes("fn f() -> fx { return y; }"), vec!["E0002"]);
        assert_eq!(codes("fn f() -> fx { return 2; }"), vec!["E0003"]);
        assert_eq!(codes("fn f(a: float) { }"), vec!["E0004"]);
        assert_eq!(codes("fn f() { } fn f() { }"), vec!["E0005"]);
        assert_eq!(
            codes("fn f() -> fx { return exp(1.0, 2.0); }"),
            vec!["E0006"]
        );
        assert_eq!(codes("fn f() { let x = 1; x = 2; }"), vec!["E0007"]);
        assert_eq!(
            codes("fn f() -> fx { return 10000000000000000000.0; }"),
            vec!["E0008"]
        );
        assert_eq!(
            codes("fn f(a: bool) -> int { if a { return 1; } }"),
            vec!["E0009"]
        );
        assert_eq!(codes("fn f() -> int { return 1, 2; }"), vec!["E0010"]);
        assert_eq!(
            codes("storage m: map<int, fx>; fn f() -> fx { return m; }"),
            vec!["E0011"]
        );
        assert_eq!(codes("fn f() { let x = ; }"), vec!["E0001"]);
        // A duplicate's body is checked against its own parameters: one error, not a cascade.
        assert_eq!(
            codes("fn f(a: fx) -> fx { return a; } fn f(b: int) -> int { return b + 1; }"),
            vec!["E0005"]
        );
        assert_eq!(
            codes("fn f(a: float, b: int) -> int { return b; }"),
            vec!["E0004"]
        );
        assert_eq!(codes("import \"x.stk\"; fn f() { }"), vec!["E0015"]);
    }

    #[test]
    fn help_points_at_the_fix() {
        let (_, d) = diagnose("fn f() -> fx { return 2; }");
        assert!(d[0].help.as_deref().unwrap_or("").contains("2.0"));
        let out = diag::render("f.stk", "fn f() -> fx { return 2; }", &d);
        assert!(
            out.contains("error[E0003]: expected fx, found int"),
            "{out}"
        );
        assert!(out.contains("f.stk:1:23"), "{out}");
    }
}
