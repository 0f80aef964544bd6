//! The `jit` bench's native baselines: the same algorithms as the `.stk` programs it runs,
//! written in Rust twice, once in `Fx` with the VM's own kernels and the language's
//! operator semantics (each `*` a rounded `math::mul`, each `+` a checked add), so that
//! the results are bit for bit the VM's (the bench asserts it), and once in f64.

use crate::{ncdf_f64, npdf_f64};
use strike_vm::math::{self, Fx, MathError};

type R = Result<Fx, MathError>;

fn add(a: Fx, b: Fx) -> R {
    a.checked_add(b).ok_or(MathError::Overflow)
}
fn sub(a: Fx, b: Fx) -> R {
    a.checked_sub(b).ok_or(MathError::Overflow)
}
fn neg(a: Fx) -> R {
    a.checked_neg().ok_or(MathError::Overflow)
}
fn fx(text: &str) -> Fx {
    text.parse().unwrap_or(Fx::ZERO)
}
fn int(n: i128) -> R {
    Fx::checked_from_num(n).ok_or(MathError::Overflow)
}

/// stdlib/options.stk's `bs_d1d2`, in Fx.
fn d1d2(s: Fx, k: Fx, t: Fx, r: Fx, q: Fx, sigma: Fx) -> Result<(Fx, Fx), MathError> {
    let vol_sqrt_t = math::mul(sigma, math::sqrt(t)?)?;
    let half_var = math::div(math::mul(sigma, sigma)?, Fx::from_num(2))?;
    let drift = math::mul(add(sub(r, q)?, half_var)?, t)?;
    let d1 = math::div(add(sub(math::ln(s)?, math::ln(k)?)?, drift)?, vol_sqrt_t)?;
    Ok((d1, sub(d1, vol_sqrt_t)?))
}

/// stdlib/options.stk's `bs_call`, in Fx.
pub fn bs_call_fx(s: Fx, k: Fx, t: Fx, r: Fx, q: Fx, sigma: Fx) -> R {
    let (d1, d2) = d1d2(s, k, t, r, q, sigma)?;
    let carry = math::mul(s, math::exp(math::mul(neg(q)?, t)?)?)?;
    let disc = math::mul(k, math::exp(math::mul(neg(r)?, t)?)?)?;
    sub(
        math::mul(carry, math::ncdf(d1)?)?,
        math::mul(disc, math::ncdf(d2)?)?,
    )
}

/// stdlib/options.stk's `bs_vega`, in Fx.
fn bs_vega_fx(s: Fx, k: Fx, t: Fx, r: Fx, q: Fx, sigma: Fx) -> R {
    let (d1, _) = d1d2(s, k, t, r, q, sigma)?;
    let carry = math::mul(s, math::exp(math::mul(neg(q)?, t)?)?)?;
    math::mul(math::mul(carry, math::npdf(d1)?)?, math::sqrt(t)?)
}

/// stdlib/options.stk's `iv_call` (`bs_implied` for a call), in Fx.
pub fn iv_call_fx(target: Fx, s: Fx, k: Fx, t: Fx, r: Fx, q: Fx) -> R {
    let carry = math::mul(s, math::exp(math::mul(neg(q)?, t)?)?)?;
    let discounted = math::mul(k, math::exp(math::mul(neg(r)?, t)?)?)?;
    let floor = sub(carry, discounted)?.max(Fx::ZERO);
    let ten = Fx::from_num(10);
    if target <= floor || target >= bs_call_fx(s, k, t, r, q, ten)? {
        return Err(MathError::Domain);
    }
    let tolerance = math::mul(s.max(k), fx("0.0000000000000001"))?;
    let (mut lo, mut hi) = (Fx::ZERO, ten);
    let guess = math::mul(
        math::div(target, s)?,
        math::sqrt(math::div(fx("6.283185307179586476925"), t)?)?,
    )?;
    let mut sigma = guess.max(fx("0.01")).min(Fx::from_num(5));
    for _ in 0..100 {
        let diff = sub(bs_call_fx(s, k, t, r, q, sigma)?, target)?;
        if diff.abs() <= tolerance {
            break;
        }
        if diff > Fx::ZERO {
            hi = sigma;
        } else {
            lo = sigma;
        }
        let mut next = math::div(add(lo, hi)?, Fx::from_num(2))?;
        let vega = bs_vega_fx(s, k, t, r, q, sigma)?;
        if vega > Fx::ZERO && diff.abs() < math::mul(vega, sub(hi, lo)?)? {
            let newton = sub(sigma, math::div(diff, vega)?)?;
            if newton > lo && newton < hi {
                next = newton;
            }
        }
        if next == sigma {
            break;
        }
        sigma = next;
    }
    Ok(sigma)
}

/// stdlib/binomial.stk's `american_put`, in Fx (steps 1..=2048).
pub fn american_put_fx(s: Fx, k: Fx, t: Fx, r: Fx, q: Fx, sigma: Fx, steps: usize) -> R {
    let n = steps as i128;
    let dt = math::div(t, int(n)?)?;
    let up = math::mul(sigma, math::sqrt(dt)?)?;
    let u = math::exp(up)?;
    let d = math::exp(neg(up)?)?;
    let p = math::div(sub(math::exp(math::mul(sub(r, q)?, dt)?)?, d)?, sub(u, d)?)?;
    let disc = math::exp(math::mul(neg(r)?, dt)?)?;
    let pu = math::mul(disc, p)?;
    let pd = math::mul(disc, sub(Fx::ONE, p)?)?;
    let mut spot = vec![Fx::ZERO; 2 * steps + 1];
    for (e, x) in spot.iter_mut().enumerate() {
        *x = math::mul(s, math::exp(math::mul(up, int(e as i128 - n)?)?)?)?;
    }
    let mut v: Vec<Fx> = (0..=steps)
        .map(|j| sub(k, spot[2 * j]).map(|x| x.max(Fx::ZERO)))
        .collect::<Result<_, _>>()?;
    for i in (0..steps).rev() {
        let mut e = steps - i;
        for j in 0..=i {
            let cont = add(math::mul(pu, v[j + 1])?, math::mul(pd, v[j])?)?;
            v[j] = cont.max(sub(k, spot[e])?);
            e += 2;
        }
    }
    Ok(v[0])
}

/// The same American put in f64.
pub fn american_put_f64(s: f64, k: f64, t: f64, r: f64, q: f64, sigma: f64, steps: usize) -> f64 {
    let n = steps as f64;
    let dt = t / n;
    let up = sigma * dt.sqrt();
    let (u, d) = (up.exp(), (-up).exp());
    let p = (((r - q) * dt).exp() - d) / (u - d);
    let disc = (-r * dt).exp();
    let (pu, pd) = (disc * p, disc * (1.0 - p));
    let spot: Vec<f64> = (0..=2 * steps)
        .map(|e| s * (up * (e as f64 - n)).exp())
        .collect();
    let mut v: Vec<f64> = (0..=steps).map(|j| (k - spot[2 * j]).max(0.0)).collect();
    for i in (0..steps).rev() {
        let mut e = steps - i;
        for j in 0..=i {
            v[j] = (pu * v[j + 1] + pd * v[j]).max(k - spot[e]);
            e += 2;
        }
    }
    v[0]
}

/// stdlib/options.stk's `bs_call_greeks`: the VM's own row (`bs_row_call`), in Fx.
pub fn bs_call_greeks_fx(
    s: Fx,
    k: Fx,
    t: Fx,
    r: Fx,
    q: Fx,
    sigma: Fx,
) -> Result<[Fx; 6], MathError> {
    use strike_vm::math::black_scholes::{row, OptionKind};
    row(OptionKind::Call, s, k, t, r, q, sigma).map(|row| row.to_array())
}

/// `bs_call_greeks` in f64: price, delta, gamma, vega, theta, rho of a call, the shared
/// values computed once.
pub fn bs_call_greeks_f64(s: f64, k: f64, t: f64, r: f64, q: f64, sigma: f64) -> [f64; 6] {
    let root_t = t.sqrt();
    let vt = sigma * root_t;
    let d1 = (s.ln() - k.ln() + (r - q + sigma * sigma / 2.0) * t) / vt;
    let d2 = d1 - vt;
    let (carry_factor, discount_factor) = ((-q * t).exp(), (-r * t).exp());
    let (carry, discounted) = (s * carry_factor, k * discount_factor);
    let (n1, n2, density) = (ncdf_f64(d1), ncdf_f64(d2), npdf_f64(d1));
    [
        carry * n1 - discounted * n2,
        carry_factor * n1,
        carry_factor * density / (s * vt),
        carry * density * root_t,
        -(carry * density * sigma / (2.0 * root_t)) - r * discounted * n2 + q * carry * n1,
        k * t * discount_factor * n2,
    ]
}

/// `bs_call` in f64.
pub fn bs_call_f64(s: f64, k: f64, t: f64, r: f64, q: f64, sigma: f64) -> f64 {
    let vt = sigma * t.sqrt();
    let d1 = (s.ln() - k.ln() + (r - q + sigma * sigma / 2.0) * t) / vt;
    s * (-q * t).exp() * ncdf_f64(d1) - k * (-r * t).exp() * ncdf_f64(d1 - vt)
}

/// `iv_call`'s algorithm in f64 (the same bracket, guess, tolerance and steps).
pub fn iv_call_f64(target: f64, s: f64, k: f64, t: f64, r: f64, q: f64) -> f64 {
    let tolerance = s.max(k) * 1e-16;
    let (mut lo, mut hi) = (0.0, 10.0);
    let mut sigma = (target / s * (std::f64::consts::TAU / t).sqrt()).clamp(0.01, 5.0);
    for _ in 0..100 {
        let diff = bs_call_f64(s, k, t, r, q, sigma) - target;
        if diff.abs() <= tolerance {
            break;
        }
        if diff > 0.0 {
            hi = sigma;
        } else {
            lo = sigma;
        }
        let mut next = (lo + hi) / 2.0;
        let vt = sigma * t.sqrt();
        let d1 = (s.ln() - k.ln() + (r - q + sigma * sigma / 2.0) * t) / vt;
        let vega = s * (-q * t).exp() * npdf_f64(d1) * t.sqrt();
        if vega > 0.0 && diff.abs() < vega * (hi - lo) {
            let newton = sigma - diff / vega;
            if newton > lo && newton < hi {
                next = newton;
            }
        }
        if next == sigma {
            break;
        }
        sigma = next;
    }
    sigma
}

/// benches/compare/loops.stk's `sum_squares`, with the VM's checked i128 arithmetic.
pub fn sum_squares_i128(n: i128) -> Option<i128> {
    let mut s: i128 = 0;
    let mut i: i128 = 0;
    while i < n {
        s = s.checked_add(i.checked_mul(i)?)?;
        i += 1;
    }
    Some(s)
}

/// `sum_squares` in f64.
pub fn sum_squares_f64(n: i128) -> f64 {
    let mut s = 0.0;
    let mut i = 0.0;
    while i < n as f64 {
        s += i * i;
        i += 1.0;
    }
    s
}
