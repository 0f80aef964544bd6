//! The compiler's constant folder against the VM: for every pure opcode a program can
//! fold (operators and the builtin table's opcode builtins), an expression of literals is
//! compiled with folding and the same expression of parameters is run by the VM; the two
//! must agree on every value, and on every error (a fold that would fail is left to fail
//! at run time, with the same error). A fold that succeeds must leave no instruction of
//! its opcode behind: the test cannot pass by not folding.

use std::collections::BTreeSet;
use strike_lang::builtins::{Lowering, Params, BUILTINS};
use strike_lang::{compile, values, Options, Type};
use strike_tests::rng::Rng;
use strike_vm::exec::{Engine, Receipt, Transaction};
use strike_vm::isa::{Opcode, ValueType, VerifiedModule};
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, StateCache};

/// Values for the operands.
trait Values {
    fn value(&mut self, ty: Type) -> i128;
}

impl Values for Rng {
    /// A value of `ty`: edges, small and large magnitudes, and values near the math
    /// kernels' domain boundaries.
    fn value(&mut self, ty: Type) -> i128 {
        let wide = self.wide();
        match ty {
            Type::Bool => (self.bits() & 1) as i128,
            Type::Int | Type::Address => match self.below(6) {
                0 => [0, 1, -1, i128::MIN, i128::MAX][self.below(5) as usize],
                1 => self.below(21) as i128 - 10,
                2 => wide >> self.below(127),
                3 => (self.bits() as i64) as i128,
                _ => wide,
            },
            Type::Fx => match self.below(7) {
                0 => [0, 1 << 64, -(1 << 64), i128::MIN, i128::MAX, 1, -1][self.below(7) as usize],
                1 => (self.below(81) as i128 - 40) << 63,
                2 => wide >> (64 + self.below(64)),
                3 => (self.below(1 << 20) as i128) << 40,
                4 => (self.bits() as i64) as i128,
                5 => (1 << 64) - self.below(1 << 40) as i128,
                _ => wide >> self.below(128),
            },
        }
    }
}

fn value_type(t: Type) -> ValueType {
    t.value_type()
}

/// `v` of type `ty` as a source literal that reads back to the same bits.
fn literal(ty: Type, v: i128) -> String {
    match ty {
        Type::Bool => (v != 0).to_string(),
        Type::Fx => {
            // The shortest text that reads back; an fx literal needs its point.
            let text = values::format(ValueType::Fx, v);
            let point = if text.contains('.') { "" } else { ".0" };
            format!("({text}{point})")
        }
        Type::Int => format!("({v})"),
        Type::Address => format!("to_address({v})"),
    }
}

/// One foldable operation: an expression of operands `$0`, `$1`, ... of the given types,
/// its result type, and the opcode folding it must compute.
struct Case {
    op: Opcode,
    template: String,
    operands: Vec<Type>,
    result: Type,
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut case = |op, template: &str, operands: Vec<Type>, result| {
        out.push(Case {
            op,
            template: template.to_string(),
            operands,
            result,
        })
    };
    use Type::{Bool, Fx, Int};
    for (ty, ops) in [
        (
            Int,
            vec![
                ("+", Opcode::Add),
                ("-", Opcode::Sub),
                ("*", Opcode::IntMul),
                ("/", Opcode::IntDiv),
                ("%", Opcode::IntRem),
            ],
        ),
        (
            Fx,
            vec![
                ("+", Opcode::Add),
                ("-", Opcode::Sub),
                ("*", Opcode::Mul),
                ("/", Opcode::Div),
            ],
        ),
    ] {
        for (symbol, op) in ops {
            case(op, &format!("$0 {symbol} $1"), vec![ty, ty], ty);
        }
        for (symbol, op) in [
            ("==", Opcode::Eq),
            ("!=", Opcode::Ne),
            ("<", Opcode::Lt),
            ("<=", Opcode::Le),
            (">", Opcode::Lt),
            (">=", Opcode::Le),
        ] {
            case(op, &format!("$0 {symbol} $1"), vec![ty, ty], Bool);
        }
        let zero = if ty == Fx { "0.0" } else { "0" };
        case(Opcode::Neg, &format!("-($0 + {zero})"), vec![ty], ty);
    }
    case(Opcode::Not, "!($0 == $1)", vec![Bool, Bool], Bool);
    case(Opcode::Eq, "$0 == $1", vec![Bool, Bool], Bool);
    // Every builtin that is one pure instruction, from the table.
    for b in BUILTINS {
        let Lowering::Op(op) = b.lowering else {
            continue;
        };
        if !op.is_pure() {
            continue;
        }
        let args = |n: usize| {
            (0..n)
                .map(|k| format!("${k}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match b.params {
            Params::Fixed(ps) if !ps.is_empty() => case(
                op,
                &format!("{}({})", b.name, args(ps.len())),
                ps.to_vec(),
                b.returns[0],
            ),
            Params::SameNumber(n) => {
                for ty in [Int, Fx] {
                    case(op, &format!("{}({})", b.name, args(n)), vec![ty; n], ty);
                }
            }
            _ => {}
        }
    }
    out
}

fn build(source: &str) -> VerifiedModule {
    compile(source, Options::default()).unwrap_or_else(|d| panic!("{d:#?}\n{source}"))
}

fn call(module: VerifiedModule, function: &str, args: Vec<i128>) -> Receipt {
    let mut engine = Engine::new();
    engine.deploy(1, module);
    let tx = Transaction {
        caller: 2,
        contract: 1,
        function: function.into(),
        args,
        gas_limit: 1_000_000,
    };
    engine.execute(
        &tx,
        &BlockEnv::default(),
        &mut StateCache::new(MemoryStorage::new()),
    )
}

fn fill(template: &str, operands: &[String]) -> String {
    let mut s = template.to_string();
    for (k, o) in operands.iter().enumerate().rev() {
        s = s.replace(&format!("${k}"), o);
    }
    s
}

#[test]
fn folded_constants_equal_what_the_vm_computes() {
    let mut rng = Rng(0xf01d);
    let mut covered = BTreeSet::new();
    let mut folded = 0;
    for case in cases() {
        covered.insert(case.op);
        let result = case.result.name();
        let params: Vec<String> = case
            .operands
            .iter()
            .enumerate()
            .map(|(k, t)| format!("p{k}: {}", t.name()))
            .collect();
        let names: Vec<String> = (0..case.operands.len()).map(|k| format!("p{k}")).collect();
        let run_time = build(&format!(
            "pub fn g({}) -> {result} {{ return {}; }}",
            params.join(", "),
            fill(&case.template, &names)
        ));
        for _ in 0..300 {
            let vals: Vec<i128> = case.operands.iter().map(|&t| rng.value(t)).collect();
            let literals: Vec<String> = case
                .operands
                .iter()
                .zip(&vals)
                .map(|(&t, &v)| literal(t, v))
                .collect();
            let source = format!(
                "pub fn f() -> {result} {{ return {}; }}",
                fill(&case.template, &literals)
            );
            let compiled = build(&source);
            let code = compiled.module().functions[0].code.clone();
            let at_compile_time = call(compiled, "f", vec![]);
            let at_run_time = call(run_time.clone(), "g", vals.clone());
            let seen = (
                at_compile_time.status,
                at_compile_time.returns.clone(),
                at_compile_time.error.as_ref().map(|e| e.code),
            );
            let want = (
                at_run_time.status,
                at_run_time.returns.clone(),
                at_run_time.error.as_ref().map(|e| e.code),
            );
            assert_eq!(seen, want, "{source} against g{vals:?}");
            if at_compile_time.error.is_none() {
                folded += 1;
                assert!(
                    code.iter().all(|i| i.op != case.op),
                    "{source} was not folded: {code:?}"
                );
                let shown = values::format(value_type(case.result), at_compile_time.returns[0]);
                assert!(!shown.is_empty());
            }
        }
    }
    // Every pure opcode a program can write is folded here. The rest are constant and
    // immediate encodings the compiler emits itself, and the bit operations, which no
    // expression writes (`&&`/`||` fold by short-circuit before any opcode).
    let not_written = [
        Opcode::LoadInt,
        Opcode::LoadFx,
        Opcode::LoadConst,
        Opcode::AddImm,
        Opcode::AddConst,
        Opcode::MulConst,
        Opcode::And,
        Opcode::Or,
        Opcode::Xor,
    ];
    for &op in Opcode::ALL {
        if op.is_pure() && !not_written.contains(&op) {
            assert!(covered.contains(&op), "{op:?} is never folded by this test");
        }
    }
    assert!(folded > 10_000, "only {folded} folds succeeded");
}
