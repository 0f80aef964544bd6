//! Scenarios for stdlib/perps.stk, stdlib/vault.stk and stdlib/oracle.stk: the life of a
//! market from opening to liquidation and settlement, with every bad input reverting with
//! its code and leaving storage exactly as it was, and the books balancing to the bit.

use strike_tests::chain::{Chain, CONTRACT};
use strike_tests::fx_text as fx;
use strike_vm::math::Fx;

const ADMIN: u128 = 0xad;
/// The feed's updater (who posts prices).
const FEED: u128 = 0xfeed;
/// The shared feed contract (stdlib/oracle.stk) the markets call.
const FEED_CONTRACT: u128 = 0x00fe_edc0;
/// The options pricer (stdlib/options.stk, deployed once) the vault calls.
const PRICER: u128 = 0x9_0c0;
const ALICE: u128 = 0xa1;
const BOB: u128 = 0xb0;
const CAROL: u128 = 0xc4;
const DAVE: u128 = 0xda;
const DAY: u64 = 86_400;

fn sum(values: &[&str]) -> Fx {
    values.iter().fold(Fx::ZERO, |acc, v| acc + fx(v))
}

/// `value` within 1e-15 of `want`.
fn near(value: &str, want: &str) {
    assert!(
        (fx(value) - fx(want)).abs() <= fx("1e-15"),
        "{value} is not {want}"
    );
}

/// Posts `price` observed now.
fn post(c: &mut Chain, price: &str) {
    let now = c.now.to_string();
    c.ok(FEED, "set_price", &[price, &now]);
}

/// The shared feed, deployed and initialised (updater FEED, 60 s freshness).
fn with_feed(c: Chain, max_age: &str) -> Chain {
    let mut c = c.with("oracle.stk", FEED_CONTRACT);
    let updater = format!("{FEED:#x}");
    c.reverts(ADMIN, "oracle_init", &[&updater, "0"], 105);
    c.ok(ADMIN, "oracle_init", &[&updater, max_age]);
    c
}

fn perps() -> Chain {
    let mut c = with_feed(Chain::stdlib("perps.stk"), "60");
    // Nothing works before the market opens.
    c.reverts(ALICE, "deposit", &["10"], 209);
    c.reverts(ALICE, "trade", &["1"], 209);
    // Bad parameters: maintenance above initial, fee above maintenance, no max size.
    let feed = format!("{FEED_CONTRACT:#x}");
    for bad in [
        ["0.05", "0.1", "0.001", "0.02", "1", "1000"],
        ["0.1", "0.05", "0.06", "0.02", "1", "1000"],
        ["0.1", "0.05", "0.001", "0.02", "1", "0"],
        ["0.1", "0.05", "0.001", "0.06", "1", "1000"],
        ["1.5", "0.05", "0.001", "0.02", "1", "1000"],
    ] {
        let mut args = vec![feed.as_str()];
        args.extend(bad);
        c.reverts(ADMIN, "init", &args, 202);
    }
    let args = [&feed, "0.1", "0.05", "0.001", "0.02", "1", "1000"];
    c.ok(ADMIN, "init", &args);
    c.reverts(ADMIN, "init", &args, 200);
    c
}

/// margins of `who` + pool + insurance + fees == collateral, exactly.
fn assert_books_balance(c: &mut Chain, accounts: &[u128]) {
    let t = c.ok(ALICE, "totals", &[]);
    let mut margins = Fx::ZERO;
    for who in accounts {
        margins += fx(&c.ok(ALICE, "account", &[&format!("{who:#x}")])[0]);
    }
    assert_eq!(
        margins + sum(&[&t[3], &t[4], &t[5]]),
        fx(&t[0]),
        "margins {margins} + fees, pool, insurance {t:?}"
    );
}

#[test]
fn perps_trade_fund_liquidate_and_balance() {
    let mut c = perps();
    // No price yet: trades revert 102; only the updater posts prices.
    c.ok(ALICE, "deposit", &["1000"]);
    c.ok(BOB, "deposit", &["500"]);
    c.reverts(ALICE, "trade", &["1"], 102);
    let now = c.now.to_string();
    c.reverts(ALICE, "set_price", &["2000", &now], 101);
    c.reverts(FEED, "set_price", &["0", &now], 103);
    c.reverts(FEED, "set_price", &["2000", &(c.now + 1).to_string()], 103);
    post(&mut c, "2000");
    c.reverts(FEED, "set_price", &["2001", &now], 103);

    // Bad amounts and sizes.
    c.reverts(ALICE, "deposit", &["0"], 203);
    c.reverts(ALICE, "deposit", &["-5"], 203);
    c.reverts(ALICE, "trade", &["0"], 204);
    c.reverts(ALICE, "trade", &["1001"], 210);
    // Insufficient margin: 6 at 2000 needs 1200 of initial margin.
    c.reverts(ALICE, "trade", &["6"], 205);

    // Open: alice long 4, bob short 2.
    let r = c.call(ALICE, "trade", &["4"]);
    assert_eq!(r.events.len(), 1);
    assert_eq!(r.events[0].name, "Traded");
    // The fee, 4 × 2000 × 0.001, is 8 to within the rounding of 0.001 in binary.
    let a = c.ok(ALICE, "account", &["0xa1"]);
    assert_eq!(a[1..3], ["4", "2000"]);
    near(&a[0], "992");
    assert_eq!(a[0], a[3]);
    near(&a[4], "0.124");
    c.ok(BOB, "trade", &["-2"]);
    let t = c.ok(ALICE, "totals", &[]);
    assert_eq!(t[..3], ["1500", "4", "2"]);
    near(&t[3], "12");
    assert_books_balance(&mut c, &[ALICE, BOB]);

    // Stale price: trades and withdrawals with a position need a fresh one.
    c.now += 61;
    c.reverts(ALICE, "trade", &["1"], 102);
    c.reverts(ALICE, "withdraw", &["1"], 102);
    c.reverts(ALICE, "close", &[], 102);

    // Funding: admin only, within the maximum.
    post(&mut c, "1900");
    c.reverts(ALICE, "set_funding_rate", &["0.5"], 201);
    c.reverts(ADMIN, "set_funding_rate", &["2"], 202);
    c.ok(ADMIN, "set_funding_rate", &["0.5"]);
    c.now += DAY;
    post(&mut c, "1900");
    let (index, rate) = {
        let f = c.ok(ALICE, "funding", &[]);
        (fx(&f[0]), fx(&f[1]))
    };
    assert_eq!(rate, fx("0.5"));
    // 0.5 × 86400 / 31536000 = 0.00136986...
    assert!(
        (index - fx("0.001369863013698630137")).abs() < fx("1e-18"),
        "{index}"
    );

    // Withdrawing what the position needs: equity 592 - funding, initial margin 760.
    c.reverts(ALICE, "withdraw", &["100"], 205);
    // Increasing to 5 at 1900 needs 950 of margin: not there.
    c.reverts(ALICE, "trade", &["1"], 205);
    // Reducing by 1 realises -100 and pays funding on 4.
    c.ok(ALICE, "trade", &["-1"]);
    let a = c.ok(ALICE, "account", &["0xa1"]);
    assert_eq!(a[1..3], ["3", "2000"]);
    let expected = fx("992") - fx("7600") * index - fx("100") - fx("1.9");
    assert!(
        (fx(&a[0]) - expected).abs() < fx("1e-15"),
        "{a:?} {expected}"
    );
    assert_books_balance(&mut c, &[ALICE, BOB]);

    // At 1800 alice is above maintenance (equity ~279 > 270): not liquidatable.
    c.now += 1;
    post(&mut c, "1800");
    c.reverts(CAROL, "liquidate", &["0xa1"], 207);
    c.reverts(CAROL, "liquidate", &["0xca"], 208);
    // At 1790 she is below (equity ~249 < 268.5): she can no longer trade it down.
    c.now += 1;
    post(&mut c, "1790");
    c.reverts(ALICE, "trade", &["-1"], 206);
    c.reverts(ALICE, "close", &[], 206);
    let before = c.ok(ALICE, "account", &["0xa1"]);
    let equity = fx(&before[3]);
    let r = c.call(CAROL, "liquidate", &["0xa1"]);
    assert_eq!(r.events[0].name, "Liquidated");
    let penalty = fx("3") * fx("1790") * fx("0.02");
    let after = c.ok(ALICE, "account", &["0xa1"]);
    assert_eq!(after[1..], ["0", "0", &after[0], "0"]);
    assert_eq!(fx(&after[0]), equity - penalty);
    let t = c.ok(ALICE, "totals", &[]);
    assert_eq!((fx(&t[1]), fx(&t[5])), (Fx::ZERO, penalty));
    c.reverts(CAROL, "liquidate", &["0xa1"], 208);
    c.reverts(ALICE, "close", &[], 208);
    assert_books_balance(&mut c, &[ALICE, BOB]);

    // Bob, short 2 from 2000 with 496 of margin, is underwater at 2300: bad debt.
    c.now += 1;
    post(&mut c, "2300");
    let bob = c.ok(BOB, "account", &["0xb0"]);
    assert!(fx(&bob[3]) < Fx::ZERO, "{bob:?}");
    c.ok(CAROL, "liquidate", &["0xb0"]);
    let t = c.ok(ALICE, "totals", &[]);
    assert_eq!(
        fx(&t[5]),
        penalty + fx(&bob[3]),
        "insurance pays the bad debt"
    );
    assert_eq!(c.ok(BOB, "account", &["0xb0"]), ["0", "0", "0", "0", "0"]);
    assert_books_balance(&mut c, &[ALICE, BOB]);

    // Below maintenance, no trade against the position, not even a flip to a tiny
    // opposite one (which would need only that tiny position's initial margin).
    c.ok(CAROL, "deposit", &["130"]);
    c.ok(CAROL, "trade", &["0.5"]);
    c.now += 1;
    post(&mut c, "2100");
    let a = c.ok(CAROL, "account", &["0xc4"]);
    assert!(fx(&a[3]) < fx("0.5") * fx("2100") * fx("0.05"), "{a:?}");
    c.reverts(CAROL, "trade", &["-0.500001"], 206);
    c.reverts(CAROL, "trade", &["-0.6"], 206);
    c.ok(DAVE, "liquidate", &["0xc4"]);
    // A trade too small to carry a fee: at least 1e-6 of notional.
    c.reverts(CAROL, "trade", &["0.0000000001"], 204);
    c.now += 1;
    post(&mut c, "2300");

    // Dave profits: long 1 at 2300, closes at 2400, withdraws everything.
    c.ok(DAVE, "deposit", &["300"]);
    c.ok(DAVE, "trade", &["1"]);
    c.reverts(DAVE, "withdraw", &["100"], 205);
    c.now += 1;
    post(&mut c, "2400");
    c.ok(DAVE, "close", &[]);
    let d = c.ok(DAVE, "account", &["0xda"]);
    let funding_paid = fx("300") - fx("2.3") - fx("2.4") + fx("100") - fx(&d[0]);
    assert!(
        funding_paid > Fx::ZERO && funding_paid < fx("0.01"),
        "{d:?}"
    );
    c.reverts(
        DAVE,
        "withdraw",
        &[&(fx(&d[0]) + fx("0.000001")).to_string()],
        205,
    );
    c.ok(DAVE, "withdraw", &[&d[0]]);
    assert_eq!(c.ok(DAVE, "account", &["0xda"])[0], "0");
    // Flipping: alice long 0.1, then sells 0.3 to be short 0.2 at the new price.
    c.ok(ALICE, "trade", &["0.1"]);
    c.ok(ALICE, "trade", &["-0.3"]);
    let a = c.ok(ALICE, "account", &["0xa1"]);
    assert_eq!(a[1..3], ["-0.2", "2400"]);
    let t = c.ok(ALICE, "totals", &[]);
    assert_eq!(t[1..3], ["0", "0.2"]);
    assert_books_balance(&mut c, &[ALICE, BOB, CAROL, DAVE]);
}

/// Storage variable names of a stdlib file, in declaration order.
fn storage_names(file: &str) -> Vec<(u32, String)> {
    strike_tests::chain::compile_stdlib(file)
        .module()
        .abi
        .storage
        .iter()
        .map(|v| (v.space, v.name.clone()))
        .collect()
}

/// The storage variables `function` (and what it calls) loads, stores and adds to, from the
/// disassembly of the compiled contract.
fn accesses(listing: &str, names: &[(u32, String)], function: &str) -> [Vec<String>; 3] {
    let mut bodies: Vec<(String, Vec<&str>)> = Vec::new();
    for line in listing.lines() {
        if let Some(rest) = line.strip_prefix(".func ") {
            let name = rest.split('(').next().unwrap_or("").to_string();
            bodies.push((name, Vec::new()));
        } else if let Some((_, body)) = bodies.last_mut() {
            body.push(line.trim());
        }
    }
    let named = |callee: &str| -> usize {
        match callee.strip_prefix("$f") {
            Some(i) => i.parse().expect("function index"),
            None => bodies
                .iter()
                .position(|(n, _)| n == callee)
                .expect("callee"),
        }
    };
    let mut out: [Vec<String>; 3] = Default::default();
    let mut todo = vec![bodies.iter().position(|(n, _)| n == function).expect("fn")];
    let mut seen = std::collections::HashSet::new();
    while let Some(f) = todo.pop() {
        if !seen.insert(f) {
            continue;
        }
        for line in &bodies[f].1 {
            let mut words = line.split_whitespace();
            let op = words.next().unwrap_or("");
            let last = line.rsplit(", ").next().unwrap_or("");
            let kind = match op {
                "SLOAD" => 0,
                "SSTORE" => 1,
                "SADD" => 2,
                "CALL" => {
                    todo.push(named(last));
                    continue;
                }
                _ => continue,
            };
            let space: u32 = last.parse().expect("space");
            let name = names
                .iter()
                .find(|(s, _)| *s == space)
                .expect("a named space");
            out[kind].push(name.1.clone());
        }
    }
    for v in &mut out {
        v.sort();
        v.dedup();
    }
    out
}

#[test]
fn perps_trades_touch_only_their_account_and_commutative_totals() {
    let exe = env!("CARGO_MANIFEST_DIR").to_string() + "/../stdlib/perps.stk";
    let source = std::fs::read_to_string(&exe).unwrap();
    let (_, module) = strike_lang::compile_files(
        &exe,
        &source,
        &mut strike_lang::files::file_system,
        strike_lang::Options::default(),
    );
    let listing = strike_vm::isa::disassemble(module.expect("compiles").module());
    let names = storage_names("perps.stk");
    let account = [
        "accounts.margin",
        "accounts.size",
        "accounts.entry",
        "accounts.funding",
    ];
    let totals = [
        "collateral",
        "fees",
        "insurance",
        "oi_long",
        "oi_short",
        "pool",
    ];
    for f in ["trade", "close", "deposit", "withdraw", "liquidate"] {
        let [loads, stores, adds] = accesses(&listing, &names, f);
        assert!(
            stores.iter().all(|s| account.contains(&s.as_str())),
            "{f} stores {stores:?}"
        );
        assert!(
            adds.iter()
                .all(|s| totals.contains(&s.as_str()) || account.contains(&s.as_str())),
            "{f} adds to {adds:?}"
        );
        assert!(
            loads.iter().all(|s| !totals.contains(&s.as_str())),
            "{f} reads a total: {loads:?}"
        );
    }
    let [_, _, adds] = accesses(&listing, &names, "trade");
    assert_eq!(adds, ["fees", "oi_long", "oi_short", "pool"]);
}

const W1: u128 = 0x1;
const W2: u128 = 0x2;
const B1: u128 = 0xb1;
const B2: u128 = 0xb2;

/// A vault on a 30-day series; `call` with cap 20, else a put; strike 100.
fn vault(call: bool) -> (Chain, u64) {
    let mut c = with_feed(Chain::stdlib("vault.stk"), "3600").with("options.stk", PRICER);
    let feed = format!("{FEED_CONTRACT:#x}");
    let pricer = format!("{PRICER:#x}");
    let expiry = c.now + 30 * DAY;
    let e = expiry.to_string();
    let past = (c.now - 1).to_string();
    let kind = if call { "true" } else { "false" };
    c.reverts(W1, "deposit", &["10"], 312);
    for bad in [
        ["0", &e, kind, "20", "0.02", "0.5", "0.05", "0"],
        ["100", &past, kind, "20", "0.02", "0.5", "0.05", "0"],
        ["100", &e, "true", "0", "0.02", "0.5", "0.05", "0"],
        ["100", &e, kind, "20", "-0.1", "0.5", "0.05", "0"],
        ["100", &e, kind, "20", "0.02", "0", "0.05", "0"],
        ["100", &e, kind, "20", "0.02", "0.00001", "0.05", "0"],
        ["100", &e, kind, "20", "0.02", "11", "0.05", "0"],
        ["100", &e, kind, "20", "0.02", "0.5", "2", "0"],
    ] {
        let mut args = vec![feed.as_str(), pricer.as_str()];
        args.extend(bad);
        c.reverts(ADMIN, "init", &args, 302);
    }
    let args = [
        &feed, &pricer, "100", &e, kind, "20", "0.02", "0.5", "0.05", "0",
    ];
    c.ok(ADMIN, "init", &args);
    c.reverts(ADMIN, "init", &args, 300);
    (c, expiry)
}

#[test]
fn put_vault_sells_at_black_scholes_and_settles() {
    let (mut c, expiry) = vault(false);
    c.ok(W1, "deposit", &["1000"]);
    c.ok(W2, "deposit", &["600"]);
    c.reverts(W2, "withdraw", &["600.1"], 309);
    c.ok(W2, "withdraw", &["100"]);
    c.reverts(W1, "deposit", &["0"], 303);
    c.reverts(B1, "buy", &["1"], 102);
    post(&mut c, "95");

    // The premium is options.stk's bs_put at the vault's parameters, plus 2%.
    let t = format!("{}", fx(&(30 * DAY).to_string()) / fx("31536000"));
    let bs = fx(&c.ok(B1, "bs_put", &["95", "100", &t, "0.05", "0", "0.5"])[0]);
    let unit = fx(&c.ok(B1, "quote", &[])[0]);
    assert!(
        (unit - bs * fx("1.02")).abs() < fx("1e-15"),
        "{unit} vs {bs}"
    );

    // Capacity: 1500 of collateral secures 15 puts of strike 100.
    c.reverts(B1, "buy", &["0"], 303);
    c.reverts(B1, "buy", &["15.5"], 308);
    let paid = fx(&c.ok(B1, "buy", &["10"])[0]);
    assert!((paid - unit * fx("10")).abs() < fx("1e-15"));
    c.ok(B2, "buy", &["5"]);
    c.reverts(B2, "buy", &["0.001"], 308);
    // Once options are sold, the writers' collateral is locked until settlement.
    c.reverts(W1, "withdraw", &["1"], 313);
    c.reverts(W2, "deposit", &["1"], 313);
    c.reverts(ALICE, "set_pricing", &["0.6", "0.05", "0", "0.02"], 301);
    c.reverts(B1, "settle", &[], 305);
    c.reverts(B1, "claim", &[], 307);

    // After expiry: no sales, no deposits; settlement needs a fresh price from after it.
    c.now = expiry + 10;
    c.reverts(B1, "buy", &["1"], 304);
    c.reverts(W1, "deposit", &["1"], 304);
    c.reverts(B1, "settle", &[], 102);
    let before = (expiry - 5).to_string();
    c.ok(FEED, "set_price", &["90", &before]);
    c.reverts(B1, "settle", &[], 311);
    post(&mut c, "90");
    c.ok(B1, "settle", &[]);
    c.reverts(B1, "settle", &[], 306);
    assert_eq!(
        c.ok(B1, "series", &[]),
        [
            "100",
            &expiry.to_string(),
            "false",
            "20",
            "true",
            "90",
            "10"
        ]
    );

    // Buyers claim 10 per option, once; writers share what is left pro rata.
    assert_eq!(c.ok(B1, "claim", &[]), ["100"]);
    c.reverts(B1, "claim", &[], 310);
    assert_eq!(c.ok(B2, "claim", &[]), ["50"]);
    c.reverts(ALICE, "release", &[], 310);
    let premiums = fx(&c.ok(B1, "book", &[])[2]);
    let r1 = fx(&c.ok(W1, "release", &[])[0]);
    let r2 = fx(&c.ok(W2, "release", &[])[0]);
    c.reverts(W1, "release", &[], 310);
    let left = fx("1350") + premiums;
    assert!(
        r1 + r2 <= left && left - (r1 + r2) < fx("1e-17"),
        "{r1} {r2} {left}"
    );
    assert!((r1 - left * fx("2") / fx("3")).abs() < fx("1e-17"));
}

#[test]
fn far_out_of_the_money_options_are_not_free() {
    let (mut c, _) = vault(false);
    c.ok(W1, "deposit", &["1000"]);
    // A put struck at 100 with spot 400: the model price rounds to nothing.
    post(&mut c, "400");
    let unit = fx(&c.ok(B1, "quote", &[])[0]);
    let floor = fx("100") * fx("0.0001") * fx("1.02");
    assert!((unit - floor).abs() < fx("1e-15"), "{unit}");
    let paid = fx(&c.ok(B1, "buy", &["10"])[0]);
    assert!(paid >= fx("0.1"), "{paid}");
}

#[test]
fn capped_call_vault_prices_a_call_spread_and_pays_the_cap() {
    let (mut c, expiry) = vault(true);
    c.ok(W1, "deposit", &["100"]);
    post(&mut c, "110");
    let t = format!("{}", fx(&(30 * DAY).to_string()) / fx("31536000"));
    let low = fx(&c.ok(B1, "bs_call", &["110", "100", &t, "0.05", "0", "0.5"])[0]);
    let high = fx(&c.ok(B1, "bs_call", &["110", "120", &t, "0.05", "0", "0.5"])[0]);
    let unit = fx(&c.ok(B1, "quote", &[])[0]);
    assert!((unit - (low - high) * fx("1.02")).abs() < fx("1e-15"));
    // 100 of collateral secures 5 calls capped at 20.
    c.ok(W2, "deposit", &["30"]);
    c.reverts(W2, "withdraw", &["31"], 309);
    c.ok(W2, "withdraw", &["30"]);
    c.reverts(B1, "buy", &["6"], 308);
    c.ok(B1, "buy", &["5"]);
    c.reverts(W2, "deposit", &["30"], 313);
    c.reverts(W1, "withdraw", &["1"], 313);
    c.now = expiry;
    post(&mut c, "150");
    c.ok(B2, "settle", &[]);
    assert_eq!(c.ok(B1, "series", &[])[6], "20");
    assert_eq!(c.ok(B1, "claim", &[]), ["100"]);
    // The writer keeps the premiums only.
    let premiums = fx(&c.ok(B1, "book", &[])[2]);
    assert_eq!(fx(&c.ok(W1, "release", &[])[0]), premiums);
    c.reverts(W2, "release", &[], 310);
}

#[test]
fn oracle_alone_checks_updater_freshness_and_order() {
    let mut c = Chain::stdlib("oracle.stk");
    c.reverts(FEED, "set_price", &["1", "1"], 106);
    c.reverts(ADMIN, "oracle_init", &["0xfeed", "0"], 105);
    c.ok(ADMIN, "oracle_init", &["0xfeed", "60"]);
    c.reverts(ADMIN, "oracle_init", &["0xfeed", "60"], 104);
    c.reverts(ALICE, "price", &[], 102);
    assert_eq!(c.ok(ALICE, "price_info", &[]), ["0", "0"]);
    c.reverts(ADMIN, "set_price", &["5", "1"], 101);
    post(&mut c, "5");
    assert_eq!(c.ok(ALICE, "price", &[]), ["5"]);
    c.now += 60;
    assert_eq!(c.ok(ALICE, "price", &[]), ["5"]);
    c.now += 1;
    c.reverts(ALICE, "price", &[], 102);
    // Only the admin hands over the updater role.
    c.reverts(FEED, "set_updater", &["0xa1"], 101);
    c.ok(ADMIN, "set_updater", &["0xa1"]);
    let now = c.now.to_string();
    c.reverts(FEED, "set_price", &["6", &now], 101);
    c.ok(ALICE, "set_price", &["6", &now]);
    assert_eq!(c.ok(BOB, "price", &[]), ["6"]);
}

/// A small deterministic generator for the random market below.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A decimal in [lo, hi) with 4 places, as text.
    fn amount(&mut self, lo: f64, hi: f64) -> String {
        let steps = ((hi - lo) * 1e4) as u64;
        let v = lo + self.below(steps.max(1)) as f64 / 1e4;
        format!("{v:.4}")
    }
}

/// Thousands of random operations by five accounts, with prices that jump and go stale and
/// funding that changes sign: after every call the books balance to the bit, open interest
/// equals the sum of positions, no margin is negative, and every failed call leaves
/// storage exactly as it was.
#[test]
fn perps_random_operations_keep_the_books() {
    let mut c = perps();
    let accounts = [0xa1u128, 0xa2, 0xa3, 0xa4, 0xa5];
    let names = storage_names("perps.stk");
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut price = 2000.0f64;
    post(&mut c, "2000");
    let (mut ok, mut failed) = (0, 0);
    let mut done = std::collections::BTreeMap::new();
    for step in 0..3000 {
        let who = accounts[rng.below(5) as usize];
        let (f, args): (&str, Vec<String>) = match rng.below(100) {
            0..=9 => ("deposit", vec![rng.amount(-10.0, 800.0)]),
            10..=24 => ("withdraw", vec![rng.amount(-10.0, 1500.0)]),
            25..=64 => ("trade", vec![rng.amount(-3.0, 3.0)]),
            65..=69 => ("close", vec![]),
            70..=79 => {
                let victim = accounts[rng.below(5) as usize];
                ("liquidate", vec![format!("{victim:#x}")])
            }
            80..=84 => ("set_funding_rate", vec![rng.amount(-1.2, 1.2)]),
            _ => {
                // The price moves by up to ±8%, and time by up to 90 s (60 s is stale).
                c.now += 1 + rng.below(90);
                price *= 0.92 + rng.below(1600) as f64 / 1e4;
                if rng.below(4) > 0 {
                    post(&mut c, &format!("{price:.6}"));
                }
                continue;
            }
        };
        let caller = if f == "set_funding_rate" && rng.below(4) > 0 {
            ADMIN
        } else {
            who
        };
        let before = c.storage();
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = c.call(caller, f, &argv);
        if r.status == strike_vm::exec::Status::Ok {
            ok += 1;
            *done.entry(f).or_insert(0) += 1;
        } else {
            failed += 1;
            assert_eq!(c.storage(), before, "step {step}: failed {f}{args:?} wrote");
            continue;
        }
        let t: Vec<Fx> = c.ok(ALICE, "totals", &[]).iter().map(|v| fx(v)).collect();
        let margins = map_values(&c, &names, "accounts.margin");
        assert!(
            margins.iter().all(|m| *m >= Fx::ZERO),
            "step {step}: {margins:?}"
        );
        let margins = margins.iter().fold(Fx::ZERO, |a, m| a + *m);
        let (mut long, mut short) = (Fx::ZERO, Fx::ZERO);
        for size in map_values(&c, &names, "accounts.size") {
            if size > Fx::ZERO {
                long += size;
            } else {
                short -= size;
            }
        }
        assert_eq!(
            margins + t[3] + t[4] + t[5],
            t[0],
            "step {step}: {f}{args:?}: margins {margins:?} totals {t:?} diff {:?}",
            (margins + t[3] + t[4] + t[5] - t[0]).to_bits()
        );
        assert_eq!((long, short), (t[1], t[2]), "step {step}: open interest");
    }
    println!("succeeded {done:?}, failed {failed}");
    assert!(ok > 800 && failed > 300, "ok {ok}, failed {failed}");
    assert!(
        done.values().all(|&n| n >= 5) && done.len() == 6,
        "every operation succeeds sometimes: {done:?}"
    );
}

/// Every stored value of the map `name` (by its storage space).
fn map_values(c: &Chain, names: &[(u32, String)], name: &str) -> Vec<Fx> {
    let space = names
        .iter()
        .find(|(_, n)| n == name)
        .expect("storage name")
        .0;
    c.storage()
        .into_iter()
        .filter(|(slot, _)| slot.contract == CONTRACT && slot.space == space)
        .map(|(_, v)| Fx::from_bits(v))
        .collect()
}
