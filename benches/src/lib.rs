//! Shared inputs and f64 baselines for Strike's criterion benches.
//!
//! Inputs come from a fixed xorshift stream so every run measures the same calls. f64 is
//! used here only to *choose* inputs and as the native baseline being compared against;
//! no Strike result is computed with it.

pub mod native;

use strike_vm::math::Fx;

/// Number of distinct inputs each bench cycles through.
pub const INPUTS: usize = 256;

/// A small deterministic generator (xorshift64*), so benches need no extra crates.
pub struct Stream(u64);

impl Stream {
    /// A stream seeded by a name, so each bench has its own fixed inputs.
    pub fn new(name: &str) -> Self {
        let seed = name.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        });
        Stream(seed | 1)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// Log-uniform in [lo, hi), lo > 0.
    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + (hi.ln() - lo.ln()) * self.unit()).exp()
    }
}

/// `INPUTS` values drawn by `draw`, as both f64 and the nearest Fx.
pub fn inputs(name: &str, mut draw: impl FnMut(&mut Stream) -> f64) -> (Vec<f64>, Vec<Fx>) {
    let mut s = Stream::new(name);
    let f: Vec<f64> = (0..INPUTS).map(|_| draw(&mut s)).collect();
    let x = f.iter().map(|&v| Fx::from_num(v)).collect();
    (f, x)
}

/// Standard normal CDF in f64 through erfc (the usual native implementation).
pub fn ncdf_f64(x: f64) -> f64 {
    0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// Standard normal density in f64.
pub fn npdf_f64(x: f64) -> f64 {
    const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
    INV_SQRT_2PI * (-0.5 * x * x).exp()
}

/// Inverse normal CDF in f64: Acklam's rational approximation refined by one Halley step
/// through erfc, which brings it to full double precision (the common native approach).
pub fn inv_ncdf_f64(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    const LOW: f64 = 0.02425;
    let tail = |q: f64| {
        let r = (-2.0 * q.ln()).sqrt();
        (((((C[0] * r + C[1]) * r + C[2]) * r + C[3]) * r + C[4]) * r + C[5])
            / ((((D[0] * r + D[1]) * r + D[2]) * r + D[3]) * r + 1.0)
    };
    let x = if p < LOW {
        tail(p)
    } else if p > 1.0 - LOW {
        -tail(1.0 - p)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    let e = ncdf_f64(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (0.5 * x * x).exp();
    x - u / (1.0 + 0.5 * x * u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f64_baselines_agree_with_strike() {
        use strike_vm::math;
        for i in 1..1000 {
            let p = i as f64 / 1000.0;
            let strike: f64 = math::inv_ncdf(Fx::from_num(p)).unwrap().to_num();
            assert!((inv_ncdf_f64(p) - strike).abs() < 1e-13, "p = {p}");
            let x = p * 10.0 - 5.0;
            let strike: f64 = math::ncdf(Fx::from_num(x)).unwrap().to_num();
            assert!((ncdf_f64(x) - strike).abs() < 1e-15, "x = {x}");
        }
    }
}
