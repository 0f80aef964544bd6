//! stdlib/binomial.stk against the exact value of the same tree (mpmath, 50 digits, from
//! tests/reference/gen_binomial_vectors.py): within 1e-15 × max(s, k) for 1 to 1,000
//! steps, under both engines (every call runs interpreted and compiled; see
//! `strike_tests::chain`). Also Hull's published 5-step American put, convergence to
//! Black-Scholes, the American call without dividends equal to the European one, and the
//! revert codes.

use strike_tests::chain::Chain;
use strike_tests::{fx_text as fx, read_data};
use strike_vm::exec::Status;
use strike_vm::math::Fx;

fn rows() -> Vec<Vec<String>> {
    read_data("options", "binomial")
        .into_iter()
        .map(|(_, row)| row)
        .collect()
}

fn value(c: &mut Chain, function: &str, args: &[&str]) -> Fx {
    let r = c.call(1, function, args);
    assert_eq!(r.status, Status::Ok, "{function}{args:?}: {:?}", r.error);
    Fx::from_bits(r.returns[0])
}

#[test]
fn trees_match_the_exact_tree() {
    let mut c = Chain::stdlib("binomial.stk");
    let rows = rows();
    assert!(rows.len() >= 40);
    let mut worst = 0f64;
    let mut failures = Vec::new();
    for row in &rows {
        let args: Vec<&str> = row[1..8].iter().map(String::as_str).collect();
        let got = value(&mut c, &row[0], &args);
        let bound = fx(&row[1]).max(fx(&row[2])).to_num::<f64>() * 1e-15;
        let err = (got - fx(&row[8])).abs().to_num::<f64>();
        worst = worst.max(err / bound);
        if err > bound {
            failures.push(format!("{row:?}: got {got}, error {err:e} > {bound:e}"));
        }
    }
    println!(
        "binomial trees vs the exact tree: worst error / bound = {worst:.3e} over {} rows",
        rows.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn published_and_limiting_values() {
    let mut c = Chain::stdlib("binomial.stk");
    // Hull, Options, Futures, and Other Derivatives: the 5-step American put, 4.49.
    let hull = value(
        &mut c,
        "american_put",
        &["50", "50", "0.4166666666666667", "0.1", "0", "0.4", "5"],
    );
    assert!((hull.to_num::<f64>() - 4.49).abs() < 0.005, "{hull}");
    // 1,000 steps: within 0.01 of Black-Scholes (Hull's example, 4.7594223929).
    let tree = value(
        &mut c,
        "binomial_call",
        &["42", "40", "0.5", "0.1", "0", "0.2", "1000"],
    );
    assert!(
        (tree.to_num::<f64>() - 4.759_422_392_9).abs() < 0.01,
        "{tree}"
    );
    // Without dividends an American call is never exercised early: the same bits.
    for steps in ["1", "7", "300"] {
        let args = ["100", "95", "1", "0.05", "0", "0.3", steps];
        assert_eq!(
            value(&mut c, "american_call", &args),
            value(&mut c, "binomial_call", &args)
        );
    }
    // Early exercise is worth something for a deep put.
    let args = ["80", "100", "1", "0.08", "0", "0.2", "200"];
    assert!(value(&mut c, "american_put", &args) > value(&mut c, "binomial_put", &args));
}

#[test]
fn bad_inputs_revert() {
    let mut c = Chain::stdlib("binomial.stk");
    c.reverts(
        1,
        "american_put",
        &["0", "50", "1", "0.1", "0", "0.4", "5"],
        1,
    );
    c.reverts(
        1,
        "american_put",
        &["50", "50", "1", "0.1", "0", "0", "5"],
        1,
    );
    c.reverts(
        1,
        "american_put",
        &["50", "50", "1", "0.1", "0", "0.4", "0"],
        4,
    );
    c.reverts(
        1,
        "american_call",
        &["50", "50", "1", "0.1", "0", "0.4", "2049"],
        4,
    );
    // sigma sqrt(dt) = 0.0001 cannot carry a drift of 0.1: p > 1.
    c.reverts(
        1,
        "binomial_put",
        &["50", "50", "1", "0.1", "0", "0.0001", "1"],
        5,
    );
}
