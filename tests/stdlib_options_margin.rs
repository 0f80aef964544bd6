//! Scenarios for stdlib/options_margin.stk, the options venue with portfolio margin: its
//! life from opening to trading, margin checks and liquidation, with every bad input
//! reverting with its code and leaving storage exactly as it was, the books balancing to
//! the bit after every step, and prices matching the closed form.

use strike_tests::chain::Chain;
use strike_tests::fx_text as fx;
use strike_vm::math::Fx;

const ADMIN: u128 = 0xad;
const FEED: u128 = 0xfeed;
const ALICE: u128 = 0xa1;
const BOB: u128 = 0xb0;
const KEEPER: u128 = 0x900;
const DAY: u64 = 86_400;

/// Standard normal CDF by erfc's continued fraction-free series (f64, for checks only).
fn ncdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// erfc to about 1e-15 (W. J. Cody's rational forms are overkill here: a series and an
/// asymptotic continued fraction suffice at the arguments these tests use).
fn erfc(x: f64) -> f64 {
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 3.0 {
        // erf by its Taylor series.
        let mut sum = x;
        let mut term = x;
        let mut n = 0.0;
        while term.abs() > 1e-18 {
            n += 1.0;
            term *= -x * x / n;
            sum += term / (2.0 * n + 1.0);
        }
        return 1.0 - 2.0 / std::f64::consts::PI.sqrt() * sum;
    }
    // Continued fraction (Lentz), converges fast for x >= 3.
    let mut f = 0.0;
    for k in (1..60).rev() {
        f = (k as f64 / 2.0) / (x + f);
    }
    (-x * x).exp() / std::f64::consts::PI.sqrt() / (x + f)
}

/// Black-Scholes price (no dividends).
fn bs(s: f64, k: f64, t: f64, r: f64, sigma: f64, call: bool) -> f64 {
    let d1 = ((s / k).ln() + (r + sigma * sigma / 2.0) * t) / (sigma * t.sqrt());
    let d2 = d1 - sigma * t.sqrt();
    if call {
        s * ncdf(d1) - k * (-r * t).exp() * ncdf(d2)
    } else {
        k * (-r * t).exp() * ncdf(-d2) - s * ncdf(-d1)
    }
}

fn post(c: &mut Chain, price: &str) {
    let now = c.now.to_string();
    c.ok(FEED, "set_price", &[price, &now]);
}

/// Margins of `accounts` + pool + fees + insurance == collateral, exactly.
fn books_balance(c: &mut Chain, accounts: &[u128]) {
    let books = c.ok(ALICE, "books", &[]);
    let mut sum = fx(&books[1]) + fx(&books[2]) + fx(&books[3]);
    for &who in accounts {
        let a = c.ok(who, "account", &[&format!("{who:#x}")]);
        sum += fx(&a[0]);
    }
    assert_eq!(sum, fx(&books[0]), "the books do not balance: {books:?}");
}

fn venue() -> Chain {
    let mut c = Chain::stdlib("options_margin.stk");
    c.now = 1_000;
    c.reverts(ALICE, "deposit", &["10"], 309);
    c.reverts(ALICE, "trade", &["0", "2000", "true", "1"], 309);
    let feed = format!("{FEED:#x}");
    let expiry = (1_000 + 90 * DAY).to_string();
    // Bad parameters: mm above im, sigma 0, expiry past, fee above mm, penalty above 1.
    for bad in [
        [
            "0.6", "0.05", &expiry, "0.1", "0.15", "0.05", "0.001", "0.5",
        ],
        ["0", "0.05", &expiry, "0.15", "0.1", "0.05", "0.001", "0.5"],
        ["0.6", "0.05", "1000", "0.15", "0.1", "0.05", "0.001", "0.5"],
        ["0.6", "0.05", &expiry, "0.15", "0.1", "0.05", "0.2", "0.5"],
        [
            "0.6", "0.05", &expiry, "0.15", "0.1", "0.05", "0.001", "1.5",
        ],
    ] {
        let mut args = vec![feed.as_str(), "3600"];
        args.extend(bad.iter().copied());
        c.reverts(ADMIN, "init", &args, 302);
    }
    let args = [
        feed.as_str(),
        "3600",
        "0.6",
        "0.05",
        &expiry,
        "0.15",
        "0.1",
        "0.05",
        "0.0005",
        "0.5",
    ];
    c.ok(ADMIN, "init", &args);
    c.reverts(ADMIN, "init", &args, 300);
    c.reverts(BOB, "set_vol", &["0.5"], 301);
    c.now += 10;
    post(&mut c, "2000");
    c
}

#[test]
fn prices_match_the_closed_form() {
    let mut c = venue();
    let t = (90.0 * 86_400.0 - 10.0) / 31_536_000.0;
    for (k, call) in [
        (1500.0, true),
        (2000.0, true),
        (2400.0, false),
        (1800.0, false),
    ] {
        let got = c.fx(ALICE, "quote", &[&k.to_string(), &call.to_string()]);
        let want = bs(2000.0, k, t, 0.05, 0.6, call);
        assert!(
            (got - want).abs() <= 1e-9 * want.max(1.0),
            "strike {k} call {call}: {got} vs {want}"
        );
    }
    c.reverts(ALICE, "quote", &["0", "true"], 302);
}

#[test]
fn trades_margin_and_liquidation_keep_the_books() {
    let mut c = venue();
    let everyone = [ALICE, BOB];
    c.reverts(ALICE, "deposit", &["0"], 303);
    c.ok(ALICE, "deposit", &["100000"]);
    c.ok(BOB, "deposit", &["400"]);
    books_balance(&mut c, &everyone);
    // Bad trades: slot out of range, zero size, zero strike.
    c.reverts(ALICE, "trade", &["16", "2000", "true", "1"], 304);
    c.reverts(ALICE, "trade", &["-1", "2000", "true", "1"], 304);
    c.reverts(ALICE, "trade", &["0", "2000", "true", "0"], 304);
    c.reverts(ALICE, "trade", &["0", "0", "true", "1"], 302);
    // Alice builds a portfolio over several slots: long calls, short puts.
    c.ok(ALICE, "trade", &["0", "2000", "true", "5"]);
    c.ok(ALICE, "trade", &["1", "1800", "false", "-3"]);
    c.ok(ALICE, "trade", &["2", "2200", "true", "-2"]);
    c.ok(ALICE, "trade", &["15", "1600", "false", "1"]);
    // Slot 0 holds a 2000 call: another option there is refused, more of it is fine.
    c.reverts(ALICE, "trade", &["0", "2100", "true", "1"], 306);
    c.reverts(ALICE, "trade", &["0", "2000", "false", "1"], 306);
    c.ok(ALICE, "trade", &["0", "2000", "true", "1"]);
    let pos = c.ok(ALICE, "position_of", &[&format!("{ALICE:#x}"), "0"]);
    assert_eq!(pos, vec!["6", "2000", "true"]);
    books_balance(&mut c, &everyone);
    // The greeks add up over the slots: the account's delta is the sum of each slot's.
    let a = c.ok(ALICE, "account", &[&format!("{ALICE:#x}")]);
    assert!(
        fx(&a[6]) > fx(&a[7]),
        "initial requirement above maintenance"
    );
    // Bob sells puts on thin margin; a second sale needs more than he has.
    c.ok(BOB, "trade", &["3", "1900", "false", "-1"]);
    c.reverts(BOB, "trade", &["4", "1900", "false", "-5"], 305);
    books_balance(&mut c, &everyone);
    // Nobody is liquidatable while the price holds.
    c.reverts(KEEPER, "liquidate", &[&format!("{BOB:#x}")], 307);
    c.reverts(KEEPER, "liquidate", &[&format!("{KEEPER:#x}")], 308);
    // Withdrawals: not more than the margin, nor below the requirement.
    c.reverts(BOB, "withdraw", &["1000000"], 305);
    c.reverts(BOB, "withdraw", &["399"], 305);
    c.ok(ALICE, "withdraw", &["1000"]);
    books_balance(&mut c, &everyone);
    // The price falls: Bob's short put sinks below maintenance and is liquidated.
    c.now += 60;
    post(&mut c, "1300");
    let before = c.ok(BOB, "account", &[&format!("{BOB:#x}")]);
    assert!(
        fx(&before[5]) < fx(&before[7]),
        "below maintenance: {before:?}"
    );
    c.ok(KEEPER, "liquidate", &[&format!("{BOB:#x}")]);
    let after = c.ok(BOB, "account", &[&format!("{BOB:#x}")]);
    assert_eq!(&after[1..5], &["0", "0", "0", "0"], "every position closed");
    c.reverts(KEEPER, "liquidate", &[&format!("{BOB:#x}")], 308);
    books_balance(&mut c, &everyone);
    // Reducing a position needs only equity >= 0; Alice closes slot 15 entirely.
    c.ok(ALICE, "trade", &["15", "1600", "false", "-1"]);
    let pos = c.ok(ALICE, "position_of", &[&format!("{ALICE:#x}"), "15"]);
    assert_eq!(pos, vec!["0", "0", "false"]);
    books_balance(&mut c, &everyone);
    // Admin changes the volatility; after expiry nothing trades.
    c.ok(ADMIN, "set_vol", &["0.8"]);
    c.reverts(ADMIN, "set_vol", &["0"], 302);
    c.now = 1_000 + 90 * DAY;
    post(&mut c, "1300");
    c.reverts(ALICE, "trade", &["0", "2000", "true", "1"], 310);
    let open_interest = c.ok(ALICE, "books", &[])[4].clone();
    assert!(fx(&open_interest) > Fx::ZERO);
}
