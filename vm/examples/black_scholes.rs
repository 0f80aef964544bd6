//! Prices a European call and put with Strike's fixed-point kernels (Black-Scholes).
//!
//!     cargo run --release -p strike-vm --example black_scholes -- SPOT STRIKE VOL RATE YEARS
//!
//! Arguments are decimal numbers, converted exactly (rounded to nearest 2^-64). Every step
//! is a deterministic I64F64 operation, so the printed prices are the same bits on every
//! machine.

use std::process::ExitCode;
use strike_vm::math::{self, Fx, MathError};

struct Quote {
    d1: Fx,
    d2: Fx,
    call: Fx,
    put: Fx,
    delta: Fx,
    vega: Fx,
}

fn price(spot: Fx, strike: Fx, vol: Fx, rate: Fx, years: Fx) -> Result<Quote, MathError> {
    use math::{div, exp, ln, mul, ncdf, npdf, sqrt};
    let vol_sqrt_t = mul(vol, sqrt(years)?)?;
    let half_var = mul(mul(vol, vol)?, Fx::from_num(0.5))?;
    let drift = mul(rate + half_var, years)?;
    let d1 = div(ln(div(spot, strike)?)? + drift, vol_sqrt_t)?;
    let d2 = d1 - vol_sqrt_t;
    let discounted = mul(strike, exp(-mul(rate, years)?)?)?;
    let call = mul(spot, ncdf(d1)?)? - mul(discounted, ncdf(d2)?)?;
    let put = mul(discounted, ncdf(-d2)?)? - mul(spot, ncdf(-d1)?)?;
    let delta = ncdf(d1)?;
    let vega = mul(mul(spot, npdf(d1)?)?, sqrt(years)?)?;
    Ok(Quote {
        d1,
        d2,
        call,
        put,
        delta,
        vega,
    })
}

fn parse(name: &str, text: &str) -> Result<Fx, String> {
    text.parse::<Fx>()
        .map_err(|e| format!("{name}: {text:?} is not a decimal number ({e})"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let defaults = ["100", "105", "0.2", "0.05", "0.5"];
    let args: Vec<&str> = if args.is_empty() {
        defaults.to_vec()
    } else if args.len() == 5 {
        args.iter().map(String::as_str).collect()
    } else {
        eprintln!("usage: black_scholes SPOT STRIKE VOL RATE YEARS   (e.g. 100 105 0.2 0.05 0.5)");
        return ExitCode::from(2);
    };
    let names = ["SPOT", "STRIKE", "VOL", "RATE", "YEARS"];
    let values: Result<Vec<Fx>, String> =
        names.iter().zip(&args).map(|(n, a)| parse(n, a)).collect();
    let v = match values {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if v[0] <= 0 || v[1] <= 0 || v[2] <= 0 || v[4] <= 0 {
        eprintln!("error: SPOT, STRIKE, VOL and YEARS must be positive");
        return ExitCode::from(2);
    }
    match price(v[0], v[1], v[2], v[3], v[4]) {
        Ok(q) => {
            println!(
                "Black-Scholes, S={} K={} vol={} r={} T={}",
                args[0], args[1], args[2], args[3], args[4]
            );
            println!("  d1    = {}", q.d1);
            println!("  d2    = {}", q.d2);
            println!("  call  = {}", q.call);
            println!("  put   = {}", q.put);
            println!("  delta = {}", q.delta);
            println!("  vega  = {}", q.vega);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
