//! Property tests of the math kernels: monotonicity across adjacent representable inputs,
//! the symmetry of ncdf, correct rounding of sqrt checked by squaring, the ordering of the
//! rounding modes, and that no input of any function panics.
//!
//! Case counts are large on purpose; the workspace's test profile is optimised, so this
//! whole file runs in seconds.

use proptest::prelude::*;
use strike_tests::mul_wide;
use strike_vm::math::{self, Fx, MathError, Rounding};

const ONE: i128 = 1 << 64;
const CASES: u32 = 100_000;

fn fx(raw: i128) -> Fx {
    Fx::from_bits(raw)
}

/// Raw bits whose magnitude is log-uniform (bit length uniform in 0..=max_bits), any sign.
fn log_uniform(max_bits: u32) -> impl Strategy<Value = i128> {
    (any::<u128>(), 0..=max_bits, any::<bool>()).prop_map(|(v, bits, neg)| {
        let m = if bits == 0 {
            0
        } else {
            (v >> (128 - bits)) as i128 & i128::MAX
        };
        if neg {
            -m
        } else {
            m
        }
    })
}

/// An input mixing the function's interesting range, log-uniform magnitudes and anything.
fn input(lo: i128, hi: i128) -> impl Strategy<Value = i128> {
    prop_oneof![4 => lo..hi, 2 => log_uniform(127), 1 => any::<i128>()]
}

/// f(x) <= f(x + 1 ulp) whenever both are defined, and over a short run of neighbours.
fn check_nondecreasing(f: fn(Fx) -> Result<Fx, MathError>, x: i128) -> Result<(), TestCaseError> {
    let mut prev: Option<Fx> = None;
    for k in 0..8i128 {
        let Some(xk) = x.checked_add(k) else { break };
        let cur = f(fx(xk)).ok();
        if let (Some(a), Some(b)) = (prev, cur) {
            prop_assert!(a <= b, "not monotone at raw {}: {} > {}", xk - 1, a, b);
        }
        prev = cur;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn exp_is_monotone(x in input(-47 * ONE, 45 * ONE)) {
        check_nondecreasing(math::exp, x)?;
    }

    #[test]
    fn ln_is_monotone(x in input(1, i128::MAX).prop_map(|v| v.max(1))) {
        check_nondecreasing(math::ln, x)?;
    }

    #[test]
    fn sqrt_is_monotone(x in input(0, i128::MAX).prop_map(|v| v.max(0))) {
        check_nondecreasing(math::sqrt, x)?;
    }

    #[test]
    fn ncdf_is_monotone(x in input(-11 * ONE, 11 * ONE)) {
        check_nondecreasing(math::ncdf, x)?;
    }

    #[test]
    fn ncdf_tails_are_monotone(x in (9 * ONE..19 * ONE / 2), neg in any::<bool>()) {
        // The rounding boundaries of the tails lie here: neighbours must never cross back.
        check_nondecreasing(math::ncdf, if neg { -x } else { x })?;
    }

    #[test]
    fn inv_ncdf_is_monotone(p in prop_oneof![1..ONE, (1i128..64).prop_map(|b| 1 << b)]) {
        check_nondecreasing(math::inv_ncdf, p)?;
    }

    #[test]
    fn ncdf_halves_sum_to_one(x in input(-11 * ONE, 11 * ONE)) {
        let (a, b) = (math::ncdf(fx(x)).unwrap(), math::ncdf(fx(x.saturating_neg())).unwrap());
        // Each side is within 1 ulp; by construction the sum is exactly 1.
        prop_assert_eq!(a.to_bits() + b.to_bits(), ONE, "x = {}", x);
    }

    #[test]
    fn npdf_is_even(x in input(-11 * ONE, 11 * ONE)) {
        prop_assert_eq!(math::npdf(fx(x)), math::npdf(fx(x.saturating_neg())));
    }

    #[test]
    fn sqrt_is_correctly_rounded_by_squaring(x in input(0, i128::MAX).prop_map(|v| v.max(0))) {
        // r = round(sqrt(x * 2^64)) (raw) iff (2r - 1)^2 <= 4 x 2^64 < (2r + 1)^2.
        let r = math::sqrt(fx(x)).unwrap().to_bits() as u128;
        let four_x = (x as u128 >> 62, (x as u128) << 66);
        let le = |a: (u128, u128), b: (u128, u128)| a.0 < b.0 || (a.0 == b.0 && a.1 <= b.1);
        if r > 0 {
            prop_assert!(le(mul_wide(2 * r - 1, 2 * r - 1), four_x), "root too large for raw {}", x);
        }
        prop_assert!(!le(mul_wide(2 * r + 1, 2 * r + 1), four_x), "root too small for raw {}", x);
    }

    #[test]
    fn exp_ln_round_trip_is_close(x in 1i128..i128::MAX) {
        // e^(ln x) within a relative 2^-58 of x (ln's 1/2 ulp, amplified by e^ln x = x).
        let y = math::exp(math::ln(fx(x)).unwrap()).unwrap().to_bits();
        let tolerance = (x >> 58).max(2);
        prop_assert!((y - x).abs() <= tolerance, "x = {}, exp(ln x) = {}", x, y);
    }

    #[test]
    fn inv_ncdf_inverts_ncdf(p in 1i128..ONE) {
        // Phi(Phi^-1(p)) is p to within Phi's slope times 1/2 ulp, plus Phi's own 1 ulp.
        let x = math::inv_ncdf(fx(p)).unwrap();
        let back = math::ncdf(x).unwrap().to_bits();
        prop_assert!((back - p).abs() <= 2, "p = {}, x = {}, Phi(x) = {}", p, x, back);
    }

    #[test]
    fn rounding_modes_bracket_each_other(a in log_uniform(127), b in log_uniform(127), c in log_uniform(127)) {
        let ops: [&dyn Fn(Rounding) -> Result<Fx, MathError>; 3] = [
            &|m| math::mul_rounded(fx(a), fx(b), m),
            &|m| math::div_rounded(fx(a), fx(b), m),
            &|m| math::mul_div_rounded(fx(a), fx(b), fx(c), m),
        ];
        for op in ops {
            if let (Ok(d), Ok(n), Ok(u)) = (op(Rounding::Down), op(Rounding::NearestEven), op(Rounding::Up)) {
                prop_assert!(d <= n && n <= u);
                prop_assert!(u.to_bits() - d.to_bits() <= 1);
            }
        }
        // mul_div by one is mul, and mul_div of a by one over c is div.
        for m in [Rounding::Down, Rounding::NearestEven, Rounding::Up] {
            prop_assert_eq!(math::mul_div_rounded(fx(a), fx(b), Fx::ONE, m), math::mul_rounded(fx(a), fx(b), m));
            prop_assert_eq!(math::mul_div_rounded(fx(a), Fx::ONE, fx(c), m), math::div_rounded(fx(a), fx(c), m));
        }
    }

    #[test]
    fn no_input_panics(a in any::<i128>(), b in any::<i128>(), c in any::<i128>()) {
        let (a, b, c) = (fx(a), fx(b), fx(c));
        for f in [math::exp, math::ln, math::sqrt, math::ncdf, math::npdf, math::inv_ncdf] {
            let _ = f(a);
        }
        let _ = math::pow(a, b);
        let _ = math::pow(a.abs(), b);
        for m in [Rounding::Down, Rounding::NearestEven, Rounding::Up] {
            let _ = math::mul_rounded(a, b, m);
            let _ = math::div_rounded(a, b, m);
            let _ = math::mul_div_rounded(a, b, c, m);
        }
    }
}

#[test]
fn exact_values() {
    assert_eq!(math::exp(Fx::ZERO), Ok(Fx::ONE));
    assert_eq!(math::ln(Fx::ONE), Ok(Fx::ZERO));
    assert_eq!(math::exp(Fx::ONE), Ok(math::consts::E));
    assert_eq!(math::ln(fx(2 * ONE)), Ok(math::consts::LN_2));
    assert_eq!(math::ln(fx(10 * ONE)), Ok(math::consts::LN_10));
    assert_eq!(math::sqrt(fx(2 * ONE)), Ok(math::consts::SQRT_2));
    assert_eq!(math::npdf(Fx::ZERO), Ok(math::consts::INV_SQRT_2PI));
    assert_eq!(math::ncdf(Fx::ZERO), Ok(fx(ONE / 2)));
    assert_eq!(math::inv_ncdf(fx(ONE / 2)), Ok(Fx::ZERO));
    assert_eq!(math::pow(fx(2 * ONE), fx(10 * ONE)), Ok(fx(1024 * ONE)));
    assert_eq!(math::pow(fx(i128::MAX), Fx::ONE), Ok(fx(i128::MAX)));
    assert_eq!(math::pow(fx(3 * ONE), Fx::ZERO), Ok(Fx::ONE));
}

#[test]
fn constants_are_correctly_rounded_where_fixed_truncates() {
    // e * 2^64 = 0x2_b7e151628aed2a6a_bf71...: rounding goes up, the fixed crate truncates.
    assert_eq!(math::consts::E.to_bits(), 0x2_b7e1_5162_8aed_2a6b);
    assert_eq!(Fx::E.to_bits() + 1, math::consts::E.to_bits());
    // pi * 2^64 = 0x3_243f6a8885a308d3_13...: here truncation and rounding agree.
    assert_eq!(Fx::PI, math::consts::PI);
}

#[test]
fn errors_and_limits() {
    use MathError::*;
    assert_eq!(math::ln(Fx::ZERO), Err(Domain));
    assert_eq!(math::ln(fx(-1)), Err(Domain));
    assert_eq!(math::sqrt(fx(-1)), Err(Domain));
    assert_eq!(math::pow(Fx::ZERO, Fx::ONE), Err(Domain));
    assert_eq!(math::inv_ncdf(Fx::ZERO), Err(Domain));
    assert_eq!(math::inv_ncdf(Fx::ONE), Err(Domain));
    assert_eq!(math::exp(fx(44 * ONE)), Err(Overflow));
    assert_eq!(math::exp(fx(i128::MIN)), Ok(Fx::ZERO));
    assert_eq!(math::div(Fx::ONE, Fx::ZERO), Err(DivisionByZero));
    assert_eq!(
        math::mul_div(Fx::ONE, Fx::ONE, Fx::ZERO),
        Err(DivisionByZero)
    );
    assert_eq!(math::mul(fx(i128::MAX), fx(2 * ONE)), Err(Overflow));
    assert_eq!(math::mul(fx(i128::MIN), Fx::ONE), Ok(fx(i128::MIN)));
    assert_eq!(math::div(fx(i128::MIN), fx(-ONE)), Err(Overflow));
    assert_eq!(math::ncdf(fx(i128::MIN)), Ok(Fx::ZERO));
    // pow at the top of the range: 2^63 is out of it, exactly, however it is reached.
    assert_eq!(math::pow(fx(2 * ONE), fx(63 * ONE)), Err(Overflow));
    assert_eq!(math::pow(fx(4 * ONE), fx(63 * ONE / 2)), Err(Overflow));
    assert_eq!(math::pow(fx(1 << 85), fx(3 * ONE)), Err(Overflow));
    assert_eq!(math::pow(fx(ONE / 2), fx(-63 * ONE)), Err(Overflow));
    assert_eq!(math::pow(fx(2 * ONE), fx(62 * ONE)), Ok(fx(1 << 126)));
    assert_eq!(math::pow(fx(ONE / 4), fx(32 * ONE)), Ok(fx(1)));
    assert_eq!(math::ncdf(fx(i128::MAX)), Ok(Fx::ONE));
    for e in [Overflow, DivisionByZero, Domain] {
        assert!(!e.to_string().is_empty());
    }
}
