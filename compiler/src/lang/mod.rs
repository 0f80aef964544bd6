//! The Strike language: lexer, grammar, syntax tree, checker, diagnostics and code
//! generator. [`compile`] turns source text into a verified module or every diagnostic;
//! [`diagnose`] reports them all without keeping the code. Neither ever panics.

pub mod ast;
pub mod check;
pub mod diag;
pub mod lexer;
pub mod lower;
mod parse;

pub use check::{check, Program, Signature, SlotType, Type};
pub use diag::Diagnostic;
pub use lower::Options;
pub use parse::{parse, SyntaxError, MAX_NESTING, MAX_STATEMENT_TOKENS};
use strike_vm::exec::Engine;
use strike_vm::isa::{Module, VerifiedModule};

/// Compiles `source` to a verified module, or returns every diagnostic in source order.
/// The same source and options always give the same bytes.
pub fn compile(source: &str, opts: Options) -> Result<VerifiedModule, Vec<Diagnostic>> {
    let (file, program, diags) = front_end(source);
    if !diags.is_empty() {
        return Err(diags);
    }
    let module: Module = lower::lower(&file, &program, source, opts)?;
    Engine::new().verify(module).map_err(|e| {
        vec![Diagnostic::new(
            diag::codes::INTERNAL,
            format!("internal compiler error: the generated code does not verify ({e})"),
            ast::Span::default(),
            "while compiling this file",
        )
        .note("this is a bug in the Strike compiler; please report it with the source file")]
    })
}

/// Parses and checks: the tree, the declarations and the front end's diagnostics.
fn front_end(source: &str) -> (ast::SourceFile, Program, Vec<Diagnostic>) {
    let (file, syntax) = parse(source);
    let (program, mut diags) = check(&file);
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
    (file, program, diags)
}

/// Every diagnostic of `source` (syntax, types, then code generation), in source order,
/// with the declarations the checker found.
pub fn diagnose(source: &str) -> (Program, Vec<Diagnostic>) {
    let (file, program, diags) = front_end(source);
    if !diags.is_empty() {
        return (program, diags);
    }
    let diags = match lower::lower(&file, &program, source, Options::default()) {
        Ok(_) => Vec::new(),
        Err(d) => d,
    };
    (program, diags)
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
        let json = diag::render_json("f.stk", "fn f() -> fx { return 2; }", &d);
        assert!(json.starts_with(r#"{"code":"E0003","message":"expected fx, found int","file":"f.stk","line":1,"column":23"#), "{json}");
    }
}
