//! The compiler against itself and the VM:
//!
//! - **Differential**: random well-typed contracts compiled with and without folding and
//!   fusion give the same status, error code, results, events and storage on the same calls
//!   (gas differs by design: that is what fusion saves). Out-of-gas runs are not compared.
//! - **Deterministic**: compiling twice gives the same bytes.
//! - **Never panics**: random and mutated sources through the whole pipeline (parse, check,
//!   lower, verify) give a module or diagnostics, never a panic and never an internal error.

use proptest::prelude::*;
use std::collections::BTreeSet;
use strike_lang::{compile, diag::codes, Options};
use strike_tests::stkgen::{Gen, PEER, PEER_SOURCE};
use strike_vm::exec::{Engine, Receipt, Transaction};
use strike_vm::isa::{Limits, VerifiedModule};
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, StateCache};

const CONTRACT: u128 = 0x100;
const OUT_OF_GAS: u32 = 10;

fn build(source: &str, optimize: bool, tests: bool) -> VerifiedModule {
    match compile(source, Options { optimize, tests }) {
        Ok(m) => m,
        Err(d) => {
            panic!("generated contract does not compile (optimize {optimize}): {d:#?}\n{source}")
        }
    }
}

/// Runs `main` with each argument list in turn on one state; the receipts and final storage.
/// A test file's module may call the test natives.
fn run(
    module: VerifiedModule,
    calls: &[Vec<i128>],
    tests: bool,
) -> (Vec<Receipt>, Vec<(u32, u128, i128)>) {
    let mut engine = Engine::with_limits(Limits {
        allow_test_natives: tests,
        ..Limits::default()
    });
    engine.deploy(CONTRACT, module);
    // The contract generated contracts call (their `Peer` interface).
    engine.deploy(PEER, build(PEER_SOURCE, true, false));
    let mut state = StateCache::new(MemoryStorage::new());
    let block = BlockEnv {
        number: 7,
        timestamp: 1_700_000_000,
    };
    let receipts = calls
        .iter()
        .map(|args| {
            let tx = Transaction {
                caller: 0xca11,
                contract: CONTRACT,
                function: "main".into(),
                args: args.clone(),
                gas_limit: 200_000,
            };
            engine.execute(&tx, &block, &mut state)
        })
        .collect();
    state.commit_block().expect("commit");
    let storage = state
        .storage()
        .entries()
        .into_iter()
        .map(|(s, v)| (s.space, s.key, v))
        .collect();
    (receipts, storage)
}

fn fx(whole: i64, frac: u64) -> i128 {
    ((whole as i128) << 64) | frac as i128
}

fn arg_lists() -> impl Strategy<Value = Vec<Vec<i128>>> {
    let fx_arg = prop_oneof![
        (-50i64..50, any::<u64>()).prop_map(|(w, f)| fx(w, f)),
        Just(0i128),
        Just(fx(1, 0)),
        any::<i128>(),
    ];
    let int_arg = prop_oneof![-5i128..8, any::<i128>()];
    prop::collection::vec(
        (fx_arg.clone(), fx_arg, int_arg, any::<bool>())
            .prop_map(|(a, b, n, flag)| vec![a, b, n, flag as i128]),
        1..4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 4000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn fused_and_unfused_code_agree(seed in any::<u64>(), calls in arg_lists()) {
        let mut gen = Gen::new(seed);
        let source = gen.contract();
        let tests = gen.test_file();
        let fused = build(&source, true, tests);
        let plain = build(&source, false, tests);
        prop_assert_eq!(
            build(&source, true, tests).module().encode(),
            fused.module().encode(),
            "compiling twice gave different bytes"
        );
        let (a, sa) = run(fused, &calls, tests);
        let (b, sb) = run(plain, &calls, tests);
        let gas_ran_out = |rs: &[Receipt]| {
            rs.iter().any(|r| r.error.as_ref().is_some_and(|e| e.code == OUT_OF_GAS))
        };
        if gas_ran_out(&a) || gas_ran_out(&b) {
            return Ok(());
        }
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            prop_assert_eq!(x.status, y.status, "call {}: status\n{}", i, source);
            prop_assert_eq!(
                x.error.as_ref().map(|e| e.code),
                y.error.as_ref().map(|e| e.code),
                "call {}: error code\n{}", i, source
            );
            prop_assert_eq!(&x.returns, &y.returns, "call {}: results\n{}", i, source);
            prop_assert_eq!(&x.events, &y.events, "call {}: events\n{}", i, source);
        }
        prop_assert_eq!(sa, sb, "final storage\n{}", source);
    }
}

/// The statement forms a program shows, by name: the walk matches every `Stmt` variant,
/// so a new statement form must be named here, and then the generator must produce it.
fn statement_forms(block: &strike_lang::ast::Block, forms: &mut BTreeSet<&'static str>) {
    use strike_lang::ast::{AssignOp, ExprKind, Stmt};
    for s in &block.stmts {
        let form = match s {
            Stmt::Let { names, value, .. } => match (names.len(), &value.kind) {
                (1, ExprKind::Array { .. }) => "let array",
                (1, _) => "let",
                _ => "let several",
            },
            Stmt::Assign {
                target, op, cap, ..
            } => match (&target.kind, op, cap) {
                (_, _, Some(_)) => "assign capped",
                (ExprKind::Field { .. }, AssignOp::Set, _) => "assign field =",
                (ExprKind::Field { .. }, _, _) => "assign field +=/-=",
                (ExprKind::Index { .. }, AssignOp::Set, _) => "assign index =",
                (ExprKind::Index { .. }, _, _) => "assign index +=/-=",
                (_, AssignOp::Set, _) => "assign =",
                (_, AssignOp::Add, _) => "assign +=",
                (_, AssignOp::Sub, _) => "assign -=",
            },
            Stmt::If {
                otherwise: Some(_), ..
            } => "if else",
            Stmt::If { .. } => "if",
            Stmt::While { .. } => "while",
            Stmt::For { .. } => "for",
            Stmt::Return { .. } => "return",
            Stmt::Require { .. } => "require",
            Stmt::Revert { .. } => "revert",
            Stmt::Emit { .. } => "emit",
            Stmt::Expr(_) => "call statement",
            Stmt::Error(_) => "error",
        };
        forms.insert(form);
        for b in s.blocks() {
            statement_forms(b, forms);
        }
    }
}

/// The builtins a program calls, and `.field`, `.method(..)` and `P(..)` for field reads,
/// interface calls and struct values.
fn builtins_called(e: &strike_lang::ast::Expr, out: &mut BTreeSet<String>) {
    use strike_lang::ast::ExprKind;
    match &e.kind {
        ExprKind::Call { func, .. } => {
            out.insert(func.name.clone());
        }
        ExprKind::Field { .. } => {
            out.insert(".field".into());
        }
        ExprKind::Method { base, .. } => {
            out.insert(".method(..)".into());
            if let ExprKind::Call { args, .. } = &base.kind {
                if args.first().is_some_and(|a| {
                    matches!(&a.kind, ExprKind::Call { func, .. } if func.name == "self_address")
                }) {
                    out.insert("re-entry".into());
                }
            }
        }
        _ => {}
    }
    for c in e.children() {
        builtins_called(c, out);
    }
}

/// The generator reaches every builtin of the table (natives and test natives included)
/// and every statement form: a feature it cannot reach is untested by the differential.
#[test]
fn the_generator_covers_every_builtin_and_statement_form() {
    use strike_lang::ast::Item;
    let (mut forms, mut called) = (BTreeSet::new(), BTreeSet::new());
    for seed in 0..400 {
        let source = Gen::new(seed).contract();
        let (file, errors) = strike_lang::parse(&source);
        assert!(errors.is_empty(), "{errors:?}\n{source}");
        for item in &file.items {
            let Item::Function(f) = item else { continue };
            statement_forms(&f.body, &mut forms);
            let mut stack = vec![&f.body];
            while let Some(b) = stack.pop() {
                for s in &b.stmts {
                    s.exprs()
                        .into_iter()
                        .for_each(|e| builtins_called(e, &mut called));
                    stack.extend(s.blocks());
                }
            }
        }
    }
    let missing: Vec<&str> = strike_lang::builtins::BUILTINS
        .iter()
        .map(|b| b.name)
        .filter(|n| !called.contains(*n))
        .collect();
    assert!(missing.is_empty(), "builtins never generated: {missing:?}");
    for form in [".field", ".method(..)", "P", "re-entry"] {
        assert!(called.contains(form), "never generated: {form}");
    }
    let all = [
        "let",
        "let several",
        "let array",
        "assign =",
        "assign +=",
        "assign -=",
        "assign capped",
        "assign index =",
        "assign index +=/-=",
        "if",
        "if else",
        "while",
        "for",
        "return",
        "require",
        "revert",
        "emit",
        "call statement",
        "assign field =",
        "assign field +=/-=",
    ];
    let missing: Vec<&&str> = all.iter().filter(|f| !forms.contains(**f)).collect();
    assert!(
        missing.is_empty(),
        "statement forms never generated: {missing:?}"
    );
}

/// A corpus of valid sources to mutate: generated contracts and the examples.
fn seeds() -> Vec<String> {
    let mut v: Vec<String> = (0..16).map(|s| Gen::new(s).contract()).collect();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for dir in ["stdlib", "spec/examples", "tests/lang"] {
        if let Ok(entries) = std::fs::read_dir(root.join(dir)) {
            let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
            paths.sort();
            for p in paths {
                if p.extension().is_some_and(|e| e == "stk") {
                    v.push(std::fs::read_to_string(&p).expect("read source"));
                }
            }
        }
    }
    v
}

fn compiles_or_diagnoses(source: &str) -> Result<(), TestCaseError> {
    for (optimize, tests) in [(true, false), (false, false), (true, true)] {
        if let Err(diags) = compile(source, Options { optimize, tests }) {
            prop_assert!(!diags.is_empty());
            prop_assert!(
                diags.iter().all(|d| d.code != codes::INTERNAL),
                "internal error on:\n{}\n{:#?}",
                source,
                diags
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 25_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn compiler_never_panics_on_mutated_source(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<prop::sample::Index>()), 1..6),
    ) {
        let corpus = seeds();
        let mut s: Vec<char> = pick.get(&corpus).chars().collect();
        const PIECES: &[&str] = &[
            "(", ")", "{", "}", ";", ",", "-", "!", "0", "1.5", "x", "fn ", "let ", "return ",
            "+=", "[", "]", "==", "&&", "map<int, fx>", "1e99", "0x", "\"", "/*", "emit ", "if ",
        ];
        for (at, kind, what) in edits {
            if s.is_empty() { break; }
            let i = at.index(s.len());
            match kind {
                0 => { s.remove(i); }
                1 => { let p = what.get(PIECES); for (k, c) in p.chars().enumerate() { s.insert(i + k, c); } }
                2 => { let j = what.index(s.len()); s.swap(i, j); }
                _ => { let j = (i + 1 + what.index(40)).min(s.len()); s.drain(i..j); }
            }
        }
        let source: String = s.into_iter().collect();
        compiles_or_diagnoses(&source)?;
    }

    #[test]
    fn compiler_never_panics_on_random_source(
        tokens in prop::collection::vec(prop::sample::select(vec![
            "fn", "pub", "let", "mut", "if", "else", "while", "for", "in", "..", "return",
            "require", "revert", "emit", "storage", "event", "map", "<", ">", "(", ")", "{",
            "}", "[", "]", ",", ";", ":", "->", "=", "+=", "-=", "+", "-", "*", "/", "%", "==",
            "!=", "<=", ">=", "&&", "||", "!", "x", "y", "f", "int", "fx", "bool", "address",
            "0", "1", "2.5", "1e-4", "true", "false", "exp", "mul_div", "\"m\"", "caller",
        ]), 0..80),
    ) {
        let source = tokens.join(" ");
        compiles_or_diagnoses(&source)?;
    }
}

#[test]
fn hostile_nesting_is_an_error_not_a_crash() {
    let deep = format!(
        "fn f() -> int {{ return {}1{}; }}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let chain = format!("fn f() -> int {{ return 1{}; }}", " + 1".repeat(200_000));
    let unary = format!("fn f() -> int {{ return {}1; }}", "-".repeat(300_000));
    let blocks = format!(
        "fn f() {{ {}{} }}",
        "if true { ".repeat(50_000),
        "}".repeat(50_000)
    );
    for src in [deep, chain, unary, blocks] {
        let Err(diags) = compile(&src, Options::default()) else {
            panic!("accepted a source beyond the limits");
        };
        assert_eq!(diags[0].code, codes::SYNTAX, "{:?}", diags[0]);
    }
    // Module-wide limits are compile errors (E0013), not internal errors.
    let many_fns: String = (0..4100).map(|i| format!("fn f{i}() {{}}\n")).collect();
    let many_events: String = (0..4100).map(|i| format!("event E{i}();\n")).collect();
    let long_name = format!("pub fn {}() {{}}", "a".repeat(300));
    for src in [many_fns, many_events, long_name] {
        let Err(diags) = compile(&src, Options::default()) else {
            panic!("accepted a contract beyond the VM's limits");
        };
        assert_eq!(diags[0].code, codes::LIMIT, "{:?}", diags[0]);
    }
    // Within the limits, deep code compiles.
    let ok = format!(
        "fn f() -> int {{ return {}1{}; }}",
        "(".repeat(60),
        ")".repeat(60)
    );
    assert!(compile(&ok, Options::default()).is_ok());
    let long = format!("fn f() -> int {{ return 1{}; }}", " + 1".repeat(500));
    assert!(compile(&long, Options::default()).is_ok());
}

fn ops_of(source: &str, optimize: bool, function: &str) -> Vec<strike_vm::isa::Opcode> {
    let m = compile(
        source,
        Options {
            optimize,
            ..Default::default()
        },
    )
    .expect("compiles");
    let e = m
        .module()
        .exports
        .iter()
        .find(|e| e.name == function)
        .expect("export")
        .function as usize;
    m.module().functions[e].code.iter().map(|i| i.op).collect()
}

#[test]
fn fusion_and_sadd_show_in_the_code() {
    use strike_vm::isa::Opcode::*;
    let src = "storage total: fx;\nstorage seen: fx;\n\
        pub fn add(x: fx) { total += x; seen += x; let s = seen; }\n\
        pub fn f(n: int, x: fx) -> fx { let mut s = 0.0; for i in 0..n { s = s + x * 0.5 / 4.0; } if s > 1.0 { return s; } return -s; }";
    let fused = ops_of(src, true, "add");
    // `total` is never read in `add`: SADD. `seen` is read: load, add, store.
    assert_eq!(
        fused.iter().filter(|&&o| o == StorageAdd).count(),
        1,
        "{fused:?}"
    );
    assert!(
        fused.contains(&StorageLoad) && fused.contains(&StorageStore),
        "{fused:?}"
    );
    let plain = ops_of(src, false, "add");
    assert!(!plain.contains(&StorageAdd), "{plain:?}");
    let fused = ops_of(src, true, "f");
    for op in [BranchLt, AddImm, MulConst] {
        assert!(fused.contains(&op), "{op:?} missing from {fused:?}");
    }
    assert!(!fused.contains(&Div), "x / 4.0 is MULK by 0.25: {fused:?}");
    let plain = ops_of(src, false, "f");
    for op in [BranchLt, BranchLe, AddImm, MulConst] {
        assert!(!plain.contains(&op), "{op:?} in unfused {plain:?}");
    }
    assert!(plain.len() > fused.len());
}
