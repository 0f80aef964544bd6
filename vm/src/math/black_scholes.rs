//! The Black-Scholes-Merton row: a European option's price and its five greeks from one
//! evaluation of d1, d2, the normal CDF and density and the two discount factors.
//!
//! The row is exactly what `stdlib/options.stk` computes function by function (`bs_call`,
//! `bs_delta_call`, `bs_gamma`, `bs_vega`, `bs_theta_call`, `bs_rho_call` and the put
//! forms): the same formulas, the same operations in the same order, each `*` and `/` one
//! rounded [`mul`] or [`div`], each `+` and `-` exact (checked), so every entry has the
//! same bits as the stdlib function it replaces (tests/stdlib_options.rs checks this on
//! every reference row) and the same accuracy: the price within 1e-15 × max(s, k) and each
//! greek within 1e-13 × (1 + |greek|) of the exact value. What is shared is computed once:
//! sqrt t, d1 and d2, e^(-qt) and e^(-rt), N(d1), N(d2) and n(d1).
//!
//! Conventions (those of the stdlib): vega per 1.00 of volatility, theta per year as
//! calendar time passes (-dV/dt), rho per 1.00 of rate.

use super::normal::ncdf_npdf;
use super::{div, exp, ln, mul, ncdf, sqrt, Fx, MathError};

/// Which option the row prices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OptionKind {
    /// A European call.
    Call,
    /// A European put.
    Put,
}

/// Price and greeks of one option, in the stdlib's conventions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Row {
    /// The option's value.
    pub price: Fx,
    /// dV/ds.
    pub delta: Fx,
    /// d²V/ds².
    pub gamma: Fx,
    /// dV/dsigma, per 1.00 of volatility.
    pub vega: Fx,
    /// -dV/dt, per year.
    pub theta: Fx,
    /// dV/dr, per 1.00 of rate.
    pub rho: Fx,
}

impl Row {
    /// The six values in the order the stdlib returns them: price, delta, gamma, vega,
    /// theta, rho.
    pub fn to_array(self) -> [Fx; 6] {
        [
            self.price, self.delta, self.gamma, self.vega, self.theta, self.rho,
        ]
    }
}

fn add(a: Fx, b: Fx) -> Result<Fx, MathError> {
    a.checked_add(b).ok_or(MathError::Overflow)
}

fn sub(a: Fx, b: Fx) -> Result<Fx, MathError> {
    a.checked_sub(b).ok_or(MathError::Overflow)
}

fn neg(a: Fx) -> Result<Fx, MathError> {
    a.checked_neg().ok_or(MathError::Overflow)
}

/// The row of a `kind` option at spot `s`, strike `k`, `t` years to expiry, rate `r`,
/// dividend yield `q` and volatility `sigma`. s, k, t and sigma must be positive
/// ([`MathError::Domain`] otherwise); a value outside the I64F64 range is
/// [`MathError::Overflow`].
pub fn row(
    kind: OptionKind,
    s: Fx,
    k: Fx,
    t: Fx,
    r: Fx,
    q: Fx,
    sigma: Fx,
) -> Result<Row, MathError> {
    if s <= Fx::ZERO || k <= Fx::ZERO || t <= Fx::ZERO || sigma <= Fx::ZERO {
        return Err(MathError::Domain);
    }
    let two = Fx::from_bits(2 << 64);
    // bs_d1d2
    let root_t = sqrt(t)?;
    let vol_sqrt_t = mul(sigma, root_t)?;
    let drift = mul(add(sub(r, q)?, div(mul(sigma, sigma)?, two)?)?, t)?;
    let d1 = div(add(sub(ln(s)?, ln(k)?)?, drift)?, vol_sqrt_t)?;
    let d2 = sub(d1, vol_sqrt_t)?;
    // What every entry shares.
    let carry_factor = exp(mul(neg(q)?, t)?)?; // e^(-qt)
    let discount_factor = exp(mul(neg(r)?, t)?)?; // e^(-rt)
    let carry = mul(s, carry_factor)?;
    let discounted = mul(k, discount_factor)?;
    // N(d1), N(d2) for a call; N(-d1), N(-d2) for a put; n(d1) = n(-d1) from the same
    // e^(-d1^2/2) as N(+-d1).
    let (n1, density, n2) = match kind {
        OptionKind::Call => {
            let (n1, density) = ncdf_npdf(d1);
            (n1, density, ncdf(d2)?)
        }
        OptionKind::Put => {
            let (n1, density) = ncdf_npdf(neg(d1)?);
            (n1, density, ncdf(neg(d2)?)?)
        }
    };
    // bs_gamma, bs_vega: the same for calls and puts.
    let gamma = div(mul(carry_factor, density)?, mul(mul(s, sigma)?, root_t)?)?;
    let vega = mul(mul(carry, density)?, root_t)?;
    let decay = neg(div(mul(mul(carry, density)?, sigma)?, mul(two, root_t)?)?)?;
    let kt_discount = mul(mul(k, t)?, discount_factor)?;
    Ok(match kind {
        OptionKind::Call => Row {
            price: sub(mul(carry, n1)?, mul(discounted, n2)?)?,
            delta: mul(carry_factor, n1)?,
            gamma,
            vega,
            theta: add(
                sub(decay, mul(mul(r, discounted)?, n2)?)?,
                mul(mul(q, carry)?, n1)?,
            )?,
            rho: mul(kt_discount, n2)?,
        },
        OptionKind::Put => Row {
            price: sub(mul(discounted, n2)?, mul(carry, n1)?)?,
            delta: neg(mul(carry_factor, n1)?)?,
            gamma,
            vega,
            theta: sub(
                add(decay, mul(mul(r, discounted)?, n2)?)?,
                mul(mul(q, carry)?, n1)?,
            )?,
            rho: neg(mul(kt_discount, n2)?)?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fx(v: f64) -> Fx {
        Fx::from_num(v)
    }

    #[test]
    fn hulls_example() {
        // Hull, example 15.6: s 42, k 40, t 0.5, r 0.1, sigma 0.2: c = 4.7594, p = 0.8086.
        let at = |kind| {
            row(
                kind,
                fx(42.0),
                fx(40.0),
                fx(0.5),
                fx(0.1),
                Fx::ZERO,
                fx(0.2),
            )
        };
        let (call, put) = (at(OptionKind::Call).unwrap(), at(OptionKind::Put).unwrap());
        assert!((call.price.to_num::<f64>() - 4.759_422_392_871_533).abs() < 1e-15);
        assert!((put.price.to_num::<f64>() - 0.808_599_372_900_093_6).abs() < 1e-15);
        assert!((call.delta.to_num::<f64>() - 0.779_131_290_942_668_9).abs() < 1e-15);
        assert!((put.delta.to_num::<f64>() + 0.220_868_709_057_331_06).abs() < 1e-15);
        assert_eq!(call.gamma, put.gamma);
        assert_eq!(call.vega, put.vega);
    }

    #[test]
    fn bad_arguments_are_domain_errors_never_panics() {
        let one = fx(1.0);
        for bad in [Fx::ZERO, fx(-1.0)] {
            for at in [0, 1, 2, 5] {
                let mut a = [one; 6];
                a[at] = bad;
                assert_eq!(
                    row(OptionKind::Call, a[0], a[1], a[2], a[3], a[4], a[5]),
                    Err(MathError::Domain)
                );
            }
        }
        // Extremes give a value or an error, never a panic.
        for v in [Fx::MIN, Fx::MAX, Fx::from_bits(1), fx(1e9)] {
            for kind in [OptionKind::Call, OptionKind::Put] {
                let _ = row(kind, v.saturating_abs(), one, one, v, v, one);
                let _ = row(
                    kind,
                    one,
                    v.saturating_abs(),
                    v.saturating_abs(),
                    one,
                    one,
                    v,
                );
            }
        }
    }
}
