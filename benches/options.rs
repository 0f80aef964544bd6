//! `cargo bench -p strike-benches --bench options`: ns per call of stdlib/options.stk's
//! `bs_call`, `bs_put`, every greek and `iv_call`, each a whole transaction through
//! `Engine::execute` in the interpreter (argument checks, gas, the call, the receipt), side
//! by side with the same formula in native Rust f64 in the same run. Each iteration prices
//! the next of 256 fixed option inputs (s, k in [1, 10^4] near the money, t in [1 day,
//! 5 years], sigma in [0.01, 3], r in [-0.02, 0.2], q in [0, 0.1]).

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::path::Path;
use strike_benches::{ncdf_f64, npdf_f64, Stream, INPUTS};
use strike_lang::{compile, Options};
use strike_vm::exec::{Engine, Status, Transaction};
use strike_vm::math::Fx;
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, StateCache};

/// s, k, t, r, q, sigma.
type Case = [f64; 6];

fn cases() -> Vec<Case> {
    let mut s = Stream::new("options");
    (0..INPUTS)
        .map(|_| {
            let spot = s.log_uniform(1.0, 1e4);
            let strike = spot * s.log_uniform(0.7, 1.4);
            [
                spot,
                strike,
                s.log_uniform(1.0 / 365.0, 5.0),
                s.uniform(-0.02, 0.2),
                s.uniform(0.0, 0.1),
                s.log_uniform(0.01, 3.0),
            ]
        })
        .collect()
}

/// The same formulas as stdlib/options.stk, in f64.
fn native(which: usize, [s, k, t, r, q, v]: Case) -> f64 {
    let vt = v * t.sqrt();
    let d1 = (s.ln() - k.ln() + (r - q + v * v / 2.0) * t) / vt;
    let d2 = d1 - vt;
    let carry = s * (-q * t).exp();
    let disc = k * (-r * t).exp();
    match which {
        0 => carry * ncdf_f64(d1) - disc * ncdf_f64(d2),
        1 => disc * ncdf_f64(-d2) - carry * ncdf_f64(-d1),
        2 => (-q * t).exp() * ncdf_f64(d1),
        3 => -((-q * t).exp() * ncdf_f64(-d1)),
        4 => (-q * t).exp() * npdf_f64(d1) / (s * vt),
        5 => carry * npdf_f64(d1) * t.sqrt(),
        6 => {
            -(carry * npdf_f64(d1) * v / (2.0 * t.sqrt())) - r * disc * ncdf_f64(d2)
                + q * carry * ncdf_f64(d1)
        }
        7 => {
            -(carry * npdf_f64(d1) * v / (2.0 * t.sqrt())) + r * disc * ncdf_f64(-d2)
                - q * carry * ncdf_f64(-d1)
        }
        8 => k * t * (-r * t).exp() * ncdf_f64(d2),
        _ => -(k * t * (-r * t).exp() * ncdf_f64(-d2)),
    }
}

fn bench(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stdlib/options.stk");
    let source = std::fs::read_to_string(path).expect("stdlib/options.stk");
    let module = compile(&source, Options::default()).expect("options.stk compiles");
    let mut engine = Engine::new();
    // The BSM functions, in declaration order (the order `native` numbers them).
    let functions: Vec<String> = module
        .module()
        .exports
        .iter()
        .filter(|e| e.name.starts_with("bs_"))
        .map(|e| e.name.clone())
        .collect();
    assert_eq!(functions.len(), 10, "{functions:?}");
    engine.deploy(1, module);
    let mut state = StateCache::new(MemoryStorage::new());
    let block = BlockEnv::default();
    let cases = cases();
    let fx_args: Vec<Vec<i128>> = cases
        .iter()
        .map(|c| c.iter().map(|&x| Fx::from_num(x).to_bits()).collect())
        .collect();
    for (which, name) in functions.iter().enumerate() {
        let txs: Vec<Transaction> = fx_args
            .iter()
            .map(|args| Transaction {
                caller: 2,
                contract: 1,
                function: name.clone(),
                args: args.clone(),
                gas_limit: 1_000_000,
            })
            .collect();
        // Every input prices in the VM, and agrees with f64 to its precision.
        for (tx, case) in txs.iter().zip(&cases) {
            let r = engine.execute(tx, &block, &mut state);
            assert_eq!(r.status, Status::Ok, "{name}{case:?}: {:?}", r.error);
            let got = Fx::from_bits(r.returns[0]).to_num::<f64>();
            let want = native(which, *case);
            assert!(
                (got - want).abs() <= 1e-6 * (1.0 + want.abs()),
                "{name}{case:?}: {got} vs f64 {want}"
            );
        }
        let mut g = c.benchmark_group(name.as_str());
        let mut i = 0;
        g.bench_function("strike", |b| {
            b.iter(|| {
                i = (i + 1) % INPUTS;
                engine.execute(black_box(&txs[i]), &block, &mut state)
            })
        });
        g.bench_function("f64", |b| {
            b.iter(|| {
                i = (i + 1) % INPUTS;
                native(which, black_box(cases[i]))
            })
        });
        g.finish();
    }
    // Implied volatility, in the VM alone (a native solver would take its own number of
    // steps, so a ratio would compare iteration counts, not arithmetic): the inputs whose
    // f64 call price the solver can invert.
    let ivs: Vec<Transaction> = cases
        .iter()
        .map(|case| {
            let price = native(0, *case);
            let mut args = vec![Fx::from_num(price).to_bits()];
            args.extend(case[..5].iter().map(|&x| Fx::from_num(x).to_bits()));
            Transaction {
                caller: 2,
                contract: 1,
                function: "iv_call".into(),
                args,
                gas_limit: 1_000_000,
            }
        })
        .filter(|tx| engine.execute(tx, &block, &mut state).status == Status::Ok)
        .collect();
    assert!(ivs.len() > INPUTS / 2, "{} solvable", ivs.len());
    let n = ivs.len();
    let mut g = c.benchmark_group("iv_call");
    let mut i = 0;
    g.bench_function("strike", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            engine.execute(black_box(&ivs[i]), &block, &mut state)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
