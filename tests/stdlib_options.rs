//! stdlib/options.stk against mpmath (tests/data/options, from
//! tests/reference/gen_options_vectors.py): prices within 1e-15 × max(s, k), greeks within
//! 1e-13 × (1 + |greek|), Black-76 within 1e-15 × max(f, k); put-call parity; Hull's
//! example; bad inputs revert with code 1. Prints the worst error of each function relative
//! to its bound.

use std::path::PathBuf;
use strike_lang::{compile, Options};
use strike_tests::{fx_text as fx, read_data};
use strike_vm::exec::{Engine, Mode, Status, Transaction};
use strike_vm::math::Fx;
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, StateCache};

/// options.stk deployed twice, interpreted and compiled: every call runs in both and
/// their receipts must be identical.
struct Pricer {
    engine: Engine,
    state: StateCache<MemoryStorage>,
    jit: Engine,
}

impl Pricer {
    fn new() -> Self {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../stdlib/options.stk");
        let source = std::fs::read_to_string(path).expect("stdlib/options.stk");
        let module = compile(&source, Options::default()).expect("options.stk compiles");
        let mut engine = Engine::new();
        engine.set_mode(Mode::Interp);
        let mut jit = Engine::new();
        jit.set_mode(Mode::Jit);
        jit.deploy(1, module.clone());
        engine.deploy(1, module);
        Pricer {
            engine,
            state: StateCache::new(MemoryStorage::new()),
            jit,
        }
    }

    fn call(&mut self, function: &str, args: &[Fx]) -> Result<Fx, u32> {
        self.call_all(function, args).map(|r| r[0])
    }

    /// Every return value of the call, on both engines (which must agree).
    fn call_all(&mut self, function: &str, args: &[Fx]) -> Result<Vec<Fx>, u32> {
        let tx = Transaction {
            caller: 2,
            contract: 1,
            function: function.into(),
            args: args.iter().map(|a| a.to_bits()).collect(),
            gas_limit: 1_000_000,
        };
        let r = self
            .engine
            .execute(&tx, &BlockEnv::default(), &mut self.state);
        let compiled = self.jit.execute(&tx, &BlockEnv::default(), &mut self.state);
        assert_eq!(compiled, r, "{function}{args:?}: the JIT differs");
        assert_eq!(self.jit.jit_stats().modules, 1);
        match r.status {
            Status::Ok => Ok(r.returns.iter().map(|&v| Fx::from_bits(v)).collect()),
            _ => Err(r.error.map_or(0, |e| e.code)),
        }
    }
}

/// Fails listing the first 20 failures, if any.
fn assert_none(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}

/// |got - want| with `want` given as 40-digit decimal text, as an f64 (for reporting only;
/// the comparison itself is done on the exact difference below).
fn error(got: Fx, want: &str) -> f64 {
    // Parse the reference to the nearest fx: its rounding (2.7e-20) is far below every bound.
    let w: Fx = want.parse().unwrap_or_else(|_| panic!("{want}"));
    (got - w).abs().to_num::<f64>()
}

fn rows(name: &str) -> Vec<Vec<String>> {
    read_data("options", name)
        .into_iter()
        .map(|(_, row)| row)
        .collect()
}

const BSM: [&str; 10] = [
    "bs_call",
    "bs_put",
    "bs_delta_call",
    "bs_delta_put",
    "bs_gamma",
    "bs_vega",
    "bs_theta_call",
    "bs_theta_put",
    "bs_rho_call",
    "bs_rho_put",
];

#[test]
fn bsm_prices_and_greeks_are_within_their_bounds() {
    let mut p = Pricer::new();
    let data = rows("bsm");
    assert!(data.len() >= 2000, "{} rows", data.len());
    let mut worst = vec![(0.0f64, String::new()); BSM.len()];
    let mut failures = Vec::new();
    for row in &data {
        let args: Vec<Fx> = row[..6].iter().map(|t| fx(t)).collect();
        let scale = args[0].max(args[1]).to_num::<f64>();
        for (i, name) in BSM.iter().enumerate() {
            let got = match p.call(name, &args) {
                Ok(v) => v,
                Err(code) => {
                    failures.push(format!("{name}{:?}: error {code}", &row[..6]));
                    continue;
                }
            };
            let want = &row[6 + i];
            let bound = if i < 2 {
                1e-15 * scale
            } else {
                let w: f64 = want.parse().expect("reference");
                1e-13 * (1.0 + w.abs())
            };
            let e = error(got, want);
            let ratio = e / bound;
            if ratio > worst[i].0 {
                worst[i] = (ratio, format!("{:?} got {got} want {want}", &row[..6]));
            }
            if e > bound {
                failures.push(format!(
                    "{name}{:?}: got {got}, want {want}, error {e:e} > bound {bound:e}",
                    &row[..6]
                ));
            }
        }
    }
    println!("worst error / bound over {} rows:", data.len());
    for (name, (ratio, at)) in BSM.iter().zip(&worst) {
        println!("  {name:<14} {ratio:.3e}  at {at}");
    }
    assert_none(&failures);
}

/// bs_call_greeks and bs_put_greeks (one `bs_row_call` / `bs_row_put` instruction each)
/// against mpmath on every reference row, within the same bounds as the separate
/// functions, and bit for bit equal to those functions.
#[test]
fn greeks_rows_are_the_separate_functions_and_within_their_bounds() {
    let mut p = Pricer::new();
    let data = rows("bsm");
    // (row function, its six separate functions, their reference columns)
    let kinds = [
        (
            "bs_call_greeks",
            [
                "bs_call",
                "bs_delta_call",
                "bs_gamma",
                "bs_vega",
                "bs_theta_call",
                "bs_rho_call",
            ],
            [6, 8, 10, 11, 12, 14],
        ),
        (
            "bs_put_greeks",
            [
                "bs_put",
                "bs_delta_put",
                "bs_gamma",
                "bs_vega",
                "bs_theta_put",
                "bs_rho_put",
            ],
            [7, 9, 10, 11, 13, 15],
        ),
    ];
    let mut worst = [[0.0f64; 6]; 2];
    let mut failures = Vec::new();
    for row in &data {
        let args: Vec<Fx> = row[..6].iter().map(|t| fx(t)).collect();
        let scale = args[0].max(args[1]).to_num::<f64>();
        for (kind, (name, separate, columns)) in kinds.iter().enumerate() {
            let got = match p.call_all(name, &args) {
                Ok(v) => v,
                Err(code) => {
                    failures.push(format!("{name}{:?}: error {code}", &row[..6]));
                    continue;
                }
            };
            assert_eq!(got.len(), 6, "{name} returns six values");
            for i in 0..6 {
                let alone = p.call(separate[i], &args);
                assert_eq!(
                    Ok(got[i]),
                    alone,
                    "{name}{:?} entry {i} vs {}",
                    &row[..6],
                    separate[i]
                );
                let want = &row[columns[i]];
                let bound = if i == 0 {
                    1e-15 * scale
                } else {
                    let w: f64 = want.parse().expect("reference");
                    1e-13 * (1.0 + w.abs())
                };
                let e = error(got[i], want);
                worst[kind][i] = worst[kind][i].max(e / bound);
                if e > bound {
                    failures.push(format!(
                        "{name}{:?} entry {i}: got {}, want {want}, error {e:e} > {bound:e}",
                        &row[..6],
                        got[i]
                    ));
                }
            }
        }
    }
    println!(
        "worst error / bound of (price, delta, gamma, vega, theta, rho) over {} rows:",
        data.len()
    );
    for ((name, _, _), w) in kinds.iter().zip(&worst) {
        let w: Vec<String> = w.iter().map(|r| format!("{r:.3e}")).collect();
        println!("  {name:<15} {}", w.join("  "));
    }
    assert_none(&failures);
    // Bad inputs revert with the stdlib's code 1, as the separate functions do.
    for bad in [0usize, 1, 2, 5] {
        let mut a = [
            fx("100"),
            fx("100"),
            fx("1"),
            fx("0.05"),
            fx("0"),
            fx("0.2"),
        ];
        a[bad] = fx("0");
        assert_eq!(p.call("bs_call_greeks", &a), Err(1));
        assert_eq!(p.call("bs_put_greeks", &a), Err(1));
    }
}

#[test]
fn black76_prices_are_within_their_bound() {
    let mut p = Pricer::new();
    let mut worst = 0.0f64;
    for row in rows("black76") {
        let args: Vec<Fx> = row[..5].iter().map(|t| fx(t)).collect();
        let scale = args[0].max(args[1]).to_num::<f64>();
        for (i, name) in ["black76_call", "black76_put"].iter().enumerate() {
            let got = p
                .call(name, &args)
                .unwrap_or_else(|c| panic!("{name}{row:?}: error {c}"));
            let e = error(got, &row[5 + i]) / (1e-15 * scale);
            worst = worst.max(e);
            assert!(
                e <= 1.0,
                "{name}{:?}: got {got}, want {}",
                &row[..5],
                row[5 + i]
            );
        }
    }
    println!("black76 worst error / bound: {worst:.3e}");
}

#[test]
fn hulls_example_and_put_call_parity() {
    let mut p = Pricer::new();
    let args = [fx("42"), fx("40"), fx("0.5"), fx("0.1"), fx("0"), fx("0.2")];
    let call = p.call("bs_call", &args).expect("call");
    // Hull, Options, Futures and Other Derivatives, example 15.6: c = 4.76, p = 0.81.
    assert!(
        error(call, "4.759422392871533219808360516165333568542") < 1e-17,
        "{call}"
    );
    let put = p.call("bs_put", &args).expect("put");
    assert!(
        error(put, "0.8085993729000935830528433039210958958031") < 1e-17,
        "{put}"
    );
    // c - p = s e^(-qt) - k e^(-rt) on every reference row.
    for row in rows("bsm").iter().step_by(7) {
        let a: Vec<Fx> = row[..6].iter().map(|t| fx(t)).collect();
        let c = p.call("bs_call", &a).expect("call");
        let q = p.call("bs_put", &a).expect("put");
        let forward = a[0].to_num::<f64>() * (-a[4].to_num::<f64>() * a[2].to_num::<f64>()).exp()
            - a[1].to_num::<f64>() * (-a[3].to_num::<f64>() * a[2].to_num::<f64>()).exp();
        let scale = a[0].max(a[1]).to_num::<f64>();
        assert!(
            ((c - q).to_num::<f64>() - forward).abs() <= 1e-12 * scale,
            "{row:?}"
        );
    }
}

#[test]
fn bad_inputs_revert_with_code_1() {
    let mut p = Pricer::new();
    let good = [
        fx("100"),
        fx("100"),
        fx("1"),
        fx("0.05"),
        fx("0"),
        fx("0.2"),
    ];
    for bad in 0..6 {
        if bad == 3 || bad == 4 {
            continue; // r and q may be zero or negative
        }
        for v in ["0", "-1"] {
            let mut a = good;
            a[bad] = fx(v);
            for name in BSM {
                assert_eq!(p.call(name, &a), Err(1), "{name} with argument {bad} = {v}");
            }
        }
    }
}

#[test]
fn implied_vol_reprices_within_the_bound() {
    let mut p = Pricer::new();
    let (mut checked, mut worst) = (0, 0.0f64);
    let mut failures = Vec::new();
    for row in rows("bsm") {
        let a: Vec<Fx> = row[..6].iter().map(|t| fx(t)).collect();
        let (s, k) = (a[0], a[1]);
        let scale = s.max(k).to_num::<f64>();
        let vega: f64 = row[11].parse().expect("vega");
        for (put, (iv, pricer, col)) in [("iv_call", "bs_call", 6), ("iv_put", "bs_put", 7)]
            .into_iter()
            .enumerate()
        {
            let target = fx(&row[col]);
            let args = [target, a[0], a[1], a[2], a[3], a[4]];
            let result = p.call(iv, &args);
            if vega < 1e-8 * s.to_num::<f64>() {
                // Outside the bound's domain: any answer or a clean code, never a panic.
                assert!(
                    matches!(result, Ok(_) | Err(2) | Err(3)),
                    "{iv}{row:?}: {result:?}"
                );
                continue;
            }
            let sigma = match result {
                Ok(v) => v,
                Err(c) => {
                    failures.push(format!("{iv}{:?} (put {put}): error {c}", &row[..6]));
                    continue;
                }
            };
            let repriced = p
                .call(pricer, &[a[0], a[1], a[2], a[3], a[4], sigma])
                .expect("reprice");
            let e = (repriced - target).abs().to_num::<f64>() / (1e-15 * scale);
            worst = worst.max(e);
            checked += 1;
            if e > 1.0 {
                failures.push(format!(
                    "{iv}{:?}: sigma {sigma} reprices to {repriced}, target {target}",
                    &row[..6]
                ));
            }
        }
    }
    println!("implied vol: {checked} solves, worst repricing error / bound {worst:.3e}");
    assert!(checked >= 2000, "{checked}");
    assert_none(&failures);
}

#[test]
fn implied_vol_rejects_impossible_prices() {
    let mut p = Pricer::new();
    let (s, k, t, r, q) = (fx("100"), fx("90"), fx("1"), fx("0.05"), fx("0"));
    // Below intrinsic (s - k e^(-rt) = 14.39): code 2. At or above s: code 3.
    assert_eq!(p.call("iv_call", &[fx("10"), s, k, t, r, q]), Err(2));
    assert_eq!(p.call("iv_call", &[fx("0"), s, k, t, r, q]), Err(2));
    assert_eq!(p.call("iv_call", &[fx("100"), s, k, t, r, q]), Err(3));
    assert_eq!(p.call("iv_put", &[fx("-1"), s, k, t, r, q]), Err(2));
    assert_eq!(p.call("iv_put", &[fx("95"), s, k, t, r, q]), Err(3));
    assert_eq!(p.call("iv_call", &[fx("20"), s, fx("0"), t, r, q]), Err(1));
    // Hull's call price gives back sigma = 0.2.
    let sigma = p
        .call(
            "iv_call",
            &[
                fx("4.759422392871533219808360516165333568542"),
                fx("42"),
                fx("40"),
                fx("0.5"),
                fx("0.1"),
                fx("0"),
            ],
        )
        .expect("solves");
    assert!((sigma - fx("0.2")).abs() < fx("1e-15"), "{sigma}");
}

/// The textbooks' published figures, to the digits they print (half a unit in the last).
#[test]
fn hulls_and_haugs_published_examples() {
    let mut p = Pricer::new();
    let check = |p: &mut Pricer, f: &str, args: &[&str], printed: &str| {
        let a: Vec<Fx> = args.iter().map(|t| fx(t)).collect();
        let got = p.call(f, &a).unwrap_or_else(|c| panic!("{f}{args:?}: {c}"));
        let places = printed.split('.').nth(1).map_or(0, str::len) as i32;
        let half = 0.5 * 10f64.powi(-places);
        let want: f64 = printed.parse().expect("printed");
        assert!(
            (got.to_num::<f64>() - want).abs() <= half,
            "{f}{args:?} = {got}, published {printed}"
        );
    };
    // Hull, Options, Futures and Other Derivatives (9th ed.), example 15.6.
    let hull = ["42", "40", "0.5", "0.1", "0", "0.2"];
    check(&mut p, "bs_call", &hull, "4.76");
    check(&mut p, "bs_put", &hull, "0.81");
    // Hull, chapter 19 (the Greek letters): s 49, k 50, r 5%, sigma 20%, 20 weeks.
    let greeks = ["49", "50", "0.3846", "0.05", "0", "0.2"];
    check(&mut p, "bs_call", &greeks, "2.40");
    check(&mut p, "bs_delta_call", &greeks, "0.522");
    check(&mut p, "bs_gamma", &greeks, "0.066");
    check(&mut p, "bs_vega", &greeks, "12.1");
    check(&mut p, "bs_theta_call", &greeks, "-4.31");
    check(&mut p, "bs_rho_call", &greeks, "8.91");
    // Hull, example 18.8: a put on futures, f = k = 20, r 9%, 4 months, sigma 25%.
    check(
        &mut p,
        "black76_put",
        &["20", "20", "0.3333333333333333333", "0.09", "0.25"],
        "1.12",
    );
    // Haug, The Complete Guide to Option Pricing Formulas (2nd ed.), 1.1.2 (Merton 1973):
    // a put with dividend yield.
    check(
        &mut p,
        "bs_put",
        &["100", "95", "0.5", "0.1", "0.05", "0.2"],
        "2.4648",
    );
    // Haug 1.1.3 (Black 1976): f = k = 19, 9 months, r 10%, sigma 28%.
    let black = ["19", "19", "0.75", "0.1", "0.28"];
    check(&mut p, "black76_call", &black, "1.7011");
    check(&mut p, "black76_put", &black, "1.7011");
    // Hull's price gives back its volatility.
    let iv = p
        .call(
            "iv_call",
            &["4.759422392871533", "42", "40", "0.5", "0.1", "0"].map(fx),
        )
        .expect("iv");
    assert!((iv.to_num::<f64>() - 0.2).abs() < 1e-12, "{iv}");
}
