//! `cargo bench --bench math`: ns per call of every math kernel, side by side with the
//! native f64 equivalent, in the same run. Each iteration is one call on the next of 256
//! fixed inputs spread over the function's typical range. `benches/summarize.py` turns the
//! results into the table (median ns, ratio to f64) quoted in the docs.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use strike_benches::{inputs, inv_ncdf_f64, ncdf_f64, npdf_f64, INPUTS};
use strike_vm::math::{self, Fx};

fn pair(
    c: &mut Criterion,
    name: &str,
    fx_inputs: &[Fx],
    f64_inputs: &[f64],
    strike: impl Fn(Fx) -> Fx,
    native: impl Fn(f64) -> f64,
) {
    let mut group = c.benchmark_group(name);
    let mut i = 0;
    group.bench_function("strike", |b| {
        b.iter(|| {
            i = (i + 1) % INPUTS;
            strike(black_box(fx_inputs[i]))
        })
    });
    group.bench_function("f64", |b| {
        b.iter(|| {
            i = (i + 1) % INPUTS;
            native(black_box(f64_inputs[i]))
        })
    });
    group.finish();
}

fn unary(c: &mut Criterion) {
    let (f, x) = inputs("exp", |s| s.uniform(-20.0, 20.0));
    pair(c, "exp", &x, &f, |v| math::exp(v).unwrap(), f64::exp);
    let (f, x) = inputs("ln", |s| s.log_uniform(1e-6, 1e6));
    pair(c, "ln", &x, &f, |v| math::ln(v).unwrap(), f64::ln);
    let (f, x) = inputs("sqrt", |s| s.log_uniform(1e-6, 1e12));
    pair(c, "sqrt", &x, &f, |v| math::sqrt(v).unwrap(), f64::sqrt);
    let (f, x) = inputs("npdf", |s| s.uniform(-5.0, 5.0));
    pair(c, "npdf", &x, &f, |v| math::npdf(v).unwrap(), npdf_f64);
    let (f, x) = inputs("ncdf", |s| s.uniform(-5.0, 5.0));
    pair(c, "ncdf", &x, &f, |v| math::ncdf(v).unwrap(), ncdf_f64);
    let (f, x) = inputs("inv_ncdf", |s| s.uniform(1e-4, 1.0 - 1e-4));
    pair(
        c,
        "inv_ncdf",
        &x,
        &f,
        |v| math::inv_ncdf(v).unwrap(),
        inv_ncdf_f64,
    );
}

fn binary(c: &mut Criterion) {
    let (xf, xs) = inputs("pow-x", |s| s.log_uniform(0.1, 10.0));
    let (yf, ys) = inputs("pow-y", |s| s.uniform(-5.0, 5.0));
    let (af, a) = inputs("arith-a", |s| {
        s.log_uniform(1e-3, 1e6) * if s.unit() < 0.5 { -1.0 } else { 1.0 }
    });
    let (bf, b) = inputs("arith-b", |s| s.log_uniform(1e-3, 1e6));
    let (cf, cs) = inputs("arith-c", |s| s.log_uniform(1e-1, 1e6));
    let mut run = |name: &str, strike: &dyn Fn(usize) -> Fx, native: &dyn Fn(usize) -> f64| {
        let mut group = c.benchmark_group(name);
        let mut i = 0;
        group.bench_function("strike", |bch| {
            bch.iter(|| {
                i = (i + 1) % INPUTS;
                strike(black_box(i))
            })
        });
        group.bench_function("f64", |bch| {
            bch.iter(|| {
                i = (i + 1) % INPUTS;
                native(black_box(i))
            })
        });
        group.finish();
    };
    run("pow", &|i| math::pow(xs[i], ys[i]).unwrap(), &|i| {
        xf[i].powf(yf[i])
    });
    run("mul", &|i| math::mul(a[i], b[i]).unwrap(), &|i| {
        af[i] * bf[i]
    });
    run("mul_down", &|i| math::mul_down(a[i], b[i]).unwrap(), &|i| {
        af[i] * bf[i]
    });
    run("div", &|i| math::div(a[i], b[i]).unwrap(), &|i| {
        af[i] / bf[i]
    });
    run(
        "mul_div",
        &|i| math::mul_div(a[i], b[i], cs[i]).unwrap(),
        &|i| af[i] * bf[i] / cf[i],
    );
}

criterion_group! {
    name = benches;
    // 22 benches: short windows keep a full run near two minutes; the estimates are stable
    // to a few percent at these call costs.
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = unary, binary
}
criterion_main!(benches);
