//! `cargo bench -p strike-benches --bench jit`: the interpreter against the JIT against
//! native Rust, side by side in one run, on four programs written in `.stk`:
//!
//! - `bs_call`: stdlib/options.stk's Black-Scholes call (straight-line math kernels);
//! - `bs_call_greeks`: its price and five greeks, one `bs_row_call` instruction;
//! - `american_put_1000`: stdlib/binomial.stk's 1,000-step CRR tree for an American put
//!   (500,500 nodes: two fx multiplies, an add, a max and three array accesses each);
//! - `iv_call`: stdlib/options.stk's implied-volatility solve (Newton in a bracket);
//! - `sum_squares_10000`: benches/compare/loops.stk's tight integer loop.
//!
//! Each is timed as a whole transaction through `Engine::execute` with `Mode::Interp` and
//! with `Mode::Jit` (compiled once, before timing), and as native Rust: the same algorithm
//! in `Fx` with the VM's kernels (`native_fx`; the bench first checks that it returns the
//! VM's exact bits) and in f64 (`native_f64`). Before timing, it prints the JIT's compile
//! time and machine-code size for every function of the three modules.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;
use strike_benches::native;
use strike_benches::Stream;
use strike_lang::{compile, Options};
use strike_vm::exec::{Engine, Mode, Status, Transaction};
use strike_vm::isa::VerifiedModule;
use strike_vm::math::Fx;
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, StateCache};

const CASES: usize = 64;

fn module(relative: &str) -> VerifiedModule {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    let source = std::fs::read_to_string(&path).expect("source file");
    compile(&source, Options::default()).expect("compiles")
}

fn fx(x: f64) -> i128 {
    Fx::from_num(x).to_bits()
}

struct Vm {
    engine: Engine,
    state: StateCache<MemoryStorage>,
    block: BlockEnv,
}

impl Vm {
    fn new(mode: Mode) -> Vm {
        let mut engine = Engine::new();
        engine.set_mode(mode);
        engine.deploy(1, module("../stdlib/options.stk"));
        engine.deploy(2, module("../stdlib/binomial.stk"));
        engine.deploy(3, module("compare/loops.stk"));
        Vm {
            engine,
            state: StateCache::new(MemoryStorage::new()),
            block: BlockEnv::default(),
        }
    }
    fn run(&mut self, tx: &Transaction) -> i128 {
        let r = self.engine.execute(tx, &self.block, &mut self.state);
        assert_eq!(r.status, Status::Ok, "{}: {:?}", tx.function, r.error);
        r.returns[0]
    }
}

fn tx(contract: u128, function: &str, args: Vec<i128>) -> Transaction {
    Transaction {
        caller: 9,
        contract,
        function: function.into(),
        args,
        gas_limit: 100_000_000,
    }
}

/// Compile time and code size of every function, per module.
fn report_compile_times() {
    for (name, path) in [
        ("options.stk", "../stdlib/options.stk"),
        ("binomial.stk", "../stdlib/binomial.stk"),
        ("loops.stk", "compare/loops.stk"),
    ] {
        let m = module(path);
        let compiled = strike_vm::jit::compile(&m).expect("JIT compiles");
        let total: Duration = compiled.compile_times.iter().sum();
        eprintln!(
            "jit compile {name}: {} functions, {} bytes of machine code, {:.2} ms",
            compiled.compile_times.len(),
            compiled.code_bytes,
            total.as_secs_f64() * 1e3
        );
        let names = |i: usize| {
            m.module()
                .exports
                .iter()
                .find(|e| e.function as usize == i)
                .map_or(format!("f{i} (internal)"), |e| e.name.clone())
        };
        for (i, t) in compiled.compile_times.iter().enumerate() {
            let code = m.module().functions[i].code.len();
            eprintln!(
                "    {:<16} {:>4} instructions  {:>7.1} µs",
                names(i),
                code,
                t.as_secs_f64() * 1e6
            );
        }
    }
}

fn bench(c: &mut Criterion) {
    report_compile_times();
    let mut interp = Vm::new(Mode::Interp);
    let mut jit = Vm::new(Mode::Jit);
    let mut s = Stream::new("jit");
    let options: Vec<[f64; 6]> = (0..CASES)
        .map(|_| {
            let spot = s.log_uniform(10.0, 1e3);
            [
                spot,
                spot * s.log_uniform(0.8, 1.25),
                s.log_uniform(0.05, 2.0),
                s.uniform(0.0, 0.1),
                s.uniform(0.0, 0.05),
                s.log_uniform(0.1, 0.8),
            ]
        })
        .collect();

    // bs_call
    let calls: Vec<Transaction> = options
        .iter()
        .map(|o| tx(1, "bs_call", o.iter().map(|&x| fx(x)).collect()))
        .collect();
    for (t, o) in calls.iter().zip(&options) {
        let x: Vec<Fx> = t.args.iter().map(|&b| Fx::from_bits(b)).collect();
        let want = native::bs_call_fx(x[0], x[1], x[2], x[3], x[4], x[5]).expect("prices");
        assert_eq!(interp.run(t), want.to_bits(), "bs_call{o:?}: native Fx");
        assert_eq!(jit.run(t), want.to_bits(), "bs_call{o:?}: JIT");
    }
    let mut g = c.benchmark_group("jit/bs_call");
    let mut i = 0;
    g.bench_function("interp", |b| {
        b.iter(|| {
            i = (i + 1) % CASES;
            interp.run(black_box(&calls[i]))
        })
    });
    g.bench_function("jit", |b| {
        b.iter(|| {
            i = (i + 1) % CASES;
            jit.run(black_box(&calls[i]))
        })
    });
    let fx_options: Vec<Vec<Fx>> = calls
        .iter()
        .map(|t| t.args.iter().map(|&b| Fx::from_bits(b)).collect())
        .collect();
    g.bench_function("native_fx", |b| {
        b.iter(|| {
            i = (i + 1) % CASES;
            let x = black_box(&fx_options[i]);
            native::bs_call_fx(x[0], x[1], x[2], x[3], x[4], x[5])
        })
    });
    g.bench_function("native_f64", |b| {
        b.iter(|| {
            i = (i + 1) % CASES;
            let [s, k, t, r, q, v] = black_box(options[i]);
            native::bs_call_f64(s, k, t, r, q, v)
        })
    });
    g.finish();

    // bs_call_greeks: the whole row (price and five greeks) in one instruction.
    let rows: Vec<Transaction> = options
        .iter()
        .map(|o| tx(1, "bs_call_greeks", o.iter().map(|&x| fx(x)).collect()))
        .collect();
    for (t, o) in rows.iter().zip(&options) {
        let x: Vec<Fx> = t.args.iter().map(|&b| Fx::from_bits(b)).collect();
        let want = native::bs_call_greeks_fx(x[0], x[1], x[2], x[3], x[4], x[5]).expect("prices");
        assert_eq!(
            interp.run(t),
            want[0].to_bits(),
            "bs_call_greeks{o:?}: native Fx"
        );
        assert_eq!(jit.run(t), want[0].to_bits(), "bs_call_greeks{o:?}: JIT");
    }
    let mut g = c.benchmark_group("jit/bs_call_greeks");
    g.bench_function("interp", |b| {
        b.iter(|| {
            i = (i + 1) % CASES;
            interp.run(black_box(&rows[i]))
        })
    });
    g.bench_function("jit", |b| {
        b.iter(|| {
            i = (i + 1) % CASES;
            jit.run(black_box(&rows[i]))
        })
    });
    g.bench_function("native_fx", |b| {
        b.iter(|| {
            i = (i + 1) % CASES;
            let x = black_box(&fx_options[i]);
            native::bs_call_greeks_fx(x[0], x[1], x[2], x[3], x[4], x[5])
        })
    });
    g.bench_function("native_f64", |b| {
        b.iter(|| {
            i = (i + 1) % CASES;
            let [s, k, t, r, q, v] = black_box(options[i]);
            native::bs_call_greeks_f64(s, k, t, r, q, v)
        })
    });
    g.finish();

    // The 1,000-step American put: four inputs.
    const STEPS: usize = 1000;
    let trees: Vec<Transaction> = options[..4]
        .iter()
        .map(|o| {
            let mut args: Vec<i128> = o.iter().map(|&x| fx(x)).collect();
            args.push(STEPS as i128);
            tx(2, "american_put", args)
        })
        .collect();
    for t in &trees {
        let x: Vec<Fx> = t.args[..6].iter().map(|&b| Fx::from_bits(b)).collect();
        let want = native::american_put_fx(x[0], x[1], x[2], x[3], x[4], x[5], STEPS).unwrap();
        assert_eq!(interp.run(t), want.to_bits(), "american_put: native Fx");
        assert_eq!(jit.run(t), want.to_bits(), "american_put: JIT");
    }
    let mut g = c.benchmark_group("jit/american_put_1000");
    g.sample_size(20);
    let mut i = 0;
    g.bench_function("interp", |b| {
        b.iter(|| {
            i = (i + 1) % trees.len();
            interp.run(black_box(&trees[i]))
        })
    });
    g.bench_function("jit", |b| {
        b.iter(|| {
            i = (i + 1) % trees.len();
            jit.run(black_box(&trees[i]))
        })
    });
    g.bench_function("native_fx", |b| {
        b.iter(|| {
            i = (i + 1) % trees.len();
            let x = black_box(&fx_options[i]);
            native::american_put_fx(x[0], x[1], x[2], x[3], x[4], x[5], STEPS)
        })
    });
    g.bench_function("native_f64", |b| {
        b.iter(|| {
            i = (i + 1) % trees.len();
            let [s, k, t, r, q, v] = black_box(options[i]);
            native::american_put_f64(s, k, t, r, q, v, STEPS)
        })
    });
    g.finish();

    // Implied volatility of each option's own (VM) price.
    let ivs: Vec<Transaction> = calls
        .iter()
        .map(|t| {
            let price = interp.run(t);
            let mut args = vec![price];
            args.extend_from_slice(&t.args[..5]);
            tx(1, "iv_call", args)
        })
        .collect();
    let iv_f64: Vec<[f64; 6]> = ivs
        .iter()
        .map(|t| {
            let x: Vec<f64> = t.args.iter().map(|&b| Fx::from_bits(b).to_num()).collect();
            [x[0], x[1], x[2], x[3], x[4], x[5]]
        })
        .collect();
    let iv_fx: Vec<Vec<Fx>> = ivs
        .iter()
        .map(|t| t.args.iter().map(|&b| Fx::from_bits(b)).collect())
        .collect();
    for (t, x) in ivs.iter().zip(&iv_fx) {
        let want = native::iv_call_fx(x[0], x[1], x[2], x[3], x[4], x[5]).expect("solves");
        assert_eq!(interp.run(t), want.to_bits(), "iv_call: native Fx");
        assert_eq!(jit.run(t), want.to_bits(), "iv_call: JIT");
    }
    let mut g = c.benchmark_group("jit/iv_call");
    let mut i = 0;
    g.bench_function("interp", |b| {
        b.iter(|| {
            i = (i + 1) % CASES;
            interp.run(black_box(&ivs[i]))
        })
    });
    g.bench_function("jit", |b| {
        b.iter(|| {
            i = (i + 1) % CASES;
            jit.run(black_box(&ivs[i]))
        })
    });
    g.bench_function("native_fx", |b| {
        b.iter(|| {
            i = (i + 1) % CASES;
            let x = black_box(&iv_fx[i]);
            native::iv_call_fx(x[0], x[1], x[2], x[3], x[4], x[5])
        })
    });
    g.bench_function("native_f64", |b| {
        b.iter(|| {
            i = (i + 1) % CASES;
            let [p, s, k, t, r, q] = black_box(iv_f64[i]);
            native::iv_call_f64(p, s, k, t, r, q)
        })
    });
    g.finish();

    // The tight integer loop.
    const N: i128 = 10_000;
    let sum = tx(3, "sum_squares", vec![N]);
    let want = native::sum_squares_i128(N).expect("fits");
    assert_eq!(interp.run(&sum), want);
    assert_eq!(jit.run(&sum), want);
    let mut g = c.benchmark_group("jit/sum_squares_10000");
    g.bench_function("interp", |b| b.iter(|| interp.run(black_box(&sum))));
    g.bench_function("jit", |b| b.iter(|| jit.run(black_box(&sum))));
    g.bench_function("native_fx", |b| {
        b.iter(|| native::sum_squares_i128(black_box(N)))
    });
    g.bench_function("native_f64", |b| {
        b.iter(|| native::sum_squares_f64(black_box(N)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
