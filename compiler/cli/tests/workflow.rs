//! The developer workflow through the built binary: traces, gas profiles, `strike test`
//! with its gas report, `strike new`, completions, colour, and the oracle's signed prices
//! on a persistent chain with a real ed25519 key.

use ed25519_dalek::{Signer, SigningKey};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn strike_in(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_strike"));
    c.args(args).current_dir(dir).env_remove("NO_COLOR");
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().expect("run strike")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn strike(args: &[&str]) -> Output {
    strike_in(&repo(), args, &[])
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strike-flow-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

const CONTRACT: &str = "
storage total: int;
storage owner: address;

fn square(x: int) -> int {
    return x * x;
}

pub fn sum_squares(n: int) -> int {
    require(n >= 0, 9, \"n must not be negative\");
    let mut s = 0;
    for i in 0..n {
        s = s + square(i);
    }
    total = s;
    return s;
}

pub fn digest(x: int) -> (int, int) {
    let (h, l) = sha256(x);
    return h, l;
}
";

fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("trace written")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[test]
fn the_trace_is_the_same_on_every_engine_and_adds_up_to_the_gas_used() {
    let dir = scratch("trace");
    let file = dir.join("c.stk");
    std::fs::write(&file, CONTRACT).unwrap();
    let mut traces = Vec::new();
    for engine in ["interp", "jit", "auto"] {
        let trace = dir.join(format!("{engine}.jsonl"));
        let o = strike(&[
            "run",
            file.to_str().unwrap(),
            "sum_squares",
            "4",
            "--engine",
            engine,
            "--trace",
            trace.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{:?}", text(&o));
        traces.push(std::fs::read(&trace).unwrap());
    }
    assert_eq!(traces[0], traces[1], "interp and jit traces differ");
    assert_eq!(traces[0], traces[2], "interp and auto traces differ");

    let lines = json_lines(&dir.join("interp.jsonl"));
    let (summary, steps) = lines.split_last().unwrap();
    assert_eq!(summary["output"][0], "14");
    assert_eq!(summary["pass"], true);
    assert!(summary["error"].is_null());
    let gas_used = summary["gasUsed"].as_u64().unwrap();
    let costs: u64 = steps.iter().map(|s| s["gasCost"].as_u64().unwrap()).sum();
    assert_eq!(costs + 50, gas_used, "step costs plus the 50 base");
    for w in steps.windows(2) {
        assert_eq!(
            w[1]["gas"].as_u64().unwrap(),
            w[0]["gas"].as_u64().unwrap() - w[0]["gasCost"].as_u64().unwrap()
        );
    }
    // square runs at depth 2, four times; the store touches slot (space 0, key 0).
    let calls = steps.iter().filter(|s| s["opName"] == "CALL").count();
    assert_eq!(calls, 4);
    assert!(steps
        .iter()
        .any(|s| s["depth"] == 2 && s["function"] == "square"));
    let store = steps.iter().find(|s| s["opName"] == "SSTORE").unwrap();
    assert_eq!(store["storage"]["after"], "14");
    assert_eq!(store["storage"]["before"], "0");
    assert_eq!(store["source"]["line"], 15);
    let mul = steps.iter().find(|s| s["opName"] == "IMUL").unwrap();
    assert_eq!(mul["reads"].as_array().unwrap().len(), 2);
    assert_eq!(mul["writes"].as_array().unwrap().len(), 1);
}

#[test]
fn a_revert_ends_the_trace_with_its_error() {
    let dir = scratch("revert");
    let file = dir.join("c.stk");
    std::fs::write(&file, CONTRACT).unwrap();
    let trace = dir.join("t.jsonl");
    let o = strike(&[
        "run",
        file.to_str().unwrap(),
        "sum_squares",
        "-1",
        "--engine",
        "jit",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let lines = json_lines(&trace);
    let (summary, steps) = lines.split_last().unwrap();
    assert_eq!(summary["pass"], false);
    assert_eq!(summary["error"]["code"], 9);
    assert_eq!(steps.last().unwrap()["opName"], "REVERT");
    assert_eq!(steps.last().unwrap()["error"]["code"], 9);
    // A trace file that cannot be written is an error, not a panic.
    let o = strike(&[
        "run",
        file.to_str().unwrap(),
        "sum_squares",
        "2",
        "--trace",
        dir.join("no/such/dir/t.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("error:"));
}

#[test]
fn the_gas_profile_is_a_flamegraph_by_function_and_line() {
    let dir = scratch("profile");
    let file = dir.join("c.stk");
    std::fs::write(&file, CONTRACT).unwrap();
    let svg = dir.join("gas.svg");
    let o = strike(&[
        "run",
        file.to_str().unwrap(),
        "sum_squares",
        "5",
        "--gas-profile",
        svg.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{:?}", text(&o));
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.starts_with("<?xml"), "an SVG");
    assert!(
        picture.contains("square (c.stk:6)"),
        "the callee at its line"
    );
    assert!(
        picture.contains("sum_squares (c.stk:15)"),
        "the store's line"
    );
}

#[test]
fn the_natives_are_the_standard_algorithms() {
    let dir = scratch("natives");
    let file = dir.join("c.stk");
    std::fs::write(&file, CONTRACT).unwrap();
    let o = strike(&["run", file.to_str().unwrap(), "digest", "97"]);
    let (out, _) = text(&o);
    // sha256 of the 16 big-endian bytes of 97, split into two big-endian ints.
    use sha2::Digest;
    let d = sha2::Sha256::digest(97i128.to_be_bytes());
    let hi = i128::from_be_bytes(d[..16].try_into().unwrap());
    let lo = i128::from_be_bytes(d[16..].try_into().unwrap());
    assert_eq!(out.lines().next(), Some(format!("ok: {hi} {lo}").as_str()));
}

#[test]
fn test_builtins_never_reach_a_deployable_module() {
    let dir = scratch("testonly");
    let file = dir.join("t.stk");
    std::fs::write(
        &file,
        "fn helper() { set_time(5); }\n#[test]\nfn t() { helper(); }\npub fn f() -> int { return 1; }\n",
    )
    .unwrap();
    let o = strike(&["run", file.to_str().unwrap(), "f"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("E0017"), "{:?}", text(&o));
    let o = strike(&["test", file.to_str().unwrap()]);
    assert!(o.status.success(), "{:?}", text(&o));
    // Bytecode that calls a test native does not verify outside `strike test`.
    let asm = dir.join("k.sasm");
    std::fs::write(
        &asm,
        ".func f() -> (int, int) regs 2 export\n    NATIVE r0, 0, 2, test_key\n    RET r0, 2\n",
    )
    .unwrap();
    let o = strike(&["run", asm.to_str().unwrap(), "f"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("test-only"), "{:?}", text(&o));
}

const TESTS: &str = "
storage n: int;

pub fn bump(by: int) {
    require(by > 0, 5, \"positive\");
    n += by;
}

#[test]
fn bumps_add_up() {
    bump(2);
    bump(3);
    require(n == 5, 1, \"sum\");
}

#[test(expect_revert = 5)]
fn zero_reverts() {
    bump(0);
}

#[test(expect_revert = 5)]
fn wrongly_expects_a_revert() {
    bump(1);
}

#[test]
fn fails_on_purpose() {
    require(false, 42, \"always\");
}

#[test]
fn each_test_starts_from_fresh_state() {
    require(n == 0, 1, \"fresh\");
    set_caller(to_address(9));
    require(caller() == to_address(9), 2, \"caller set\");
    set_time(77);
    require(now() == 77, 3, \"time set\");
}
";

#[test]
fn strike_test_reports_each_test_and_fails_the_run_when_one_fails() {
    let dir = scratch("tests");
    let file = dir.join("t.stk");
    std::fs::write(&file, TESTS).unwrap();
    let o = strike(&["test", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let (out, err) = text(&o);
    assert!(err.contains("running 5 tests"), "{err}");
    let line = |name: &str| {
        out.lines()
            .find(|l| l.contains(&format!("::{name} ")))
            .unwrap_or_else(|| panic!("{name} in {out}"))
            .to_string()
    };
    assert!(line("bumps_add_up").contains("... ok (gas "));
    assert!(line("zero_reverts").contains("... ok"));
    assert!(
        line("wrongly_expects_a_revert").contains("FAILED (gas "),
        "{out}"
    );
    assert!(line("wrongly_expects_a_revert").ends_with("expected a revert with code 5, returned"));
    assert!(
        line("fails_on_purpose").contains("FAILED") && line("fails_on_purpose").contains("code 42")
    );
    assert!(line("each_test_starts_from_fresh_state").contains("... ok"));
    assert!(out.contains("test result: FAILED. 3 passed; 2 failed; 0 filtered out"));

    // --filter, and the same results on one thread and on many.
    let o = strike(&["test", file.to_str().unwrap(), "--filter", "bump"]);
    assert!(o.status.success());
    assert!(text(&o).0.contains("1 passed; 0 failed; 4 filtered out"));
    let one = text(&strike(&[
        "test",
        file.to_str().unwrap(),
        "--threads",
        "1",
        "--json",
    ]))
    .0;
    let many = text(&strike(&[
        "test",
        file.to_str().unwrap(),
        "--threads",
        "8",
        "--json",
    ]))
    .0;
    let results = |s: &str| {
        s.lines()
            .filter(|l| l.contains("\"test\""))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(results(&one), results(&many));
    // The JIT runs the test builtins (caller, time) with the same results and gas.
    let jit = text(&strike(&[
        "test",
        file.to_str().unwrap(),
        "--engine",
        "jit",
        "--json",
    ]))
    .0;
    assert_eq!(results(&one), results(&jit));
    let parsed: Vec<serde_json::Value> = one
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(parsed.len(), 6);
    assert_eq!(parsed[0]["test"], "bumps_add_up");
    assert_eq!(parsed[0]["pass"], true);
    assert_eq!(parsed[5]["failed"], 2);

    // Gas per test is production gas: the test's own transaction, base included.
    let run = strike(&[
        "test",
        file.to_str().unwrap(),
        "--filter",
        "bumps",
        "--json",
    ]);
    let gas = serde_json::from_str::<serde_json::Value>(text(&run).0.lines().next().unwrap())
        .unwrap()["gas"]
        .as_u64()
        .unwrap();
    assert!(
        gas > 50 + 110,
        "the base and a cold storage add at least: {gas}"
    );
}

#[test]
fn the_gas_report_lists_each_function_called() {
    let o = strike(&["test", "stdlib/tests", "--gas-report"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("12 passed; 0 failed"), "{out}");
    let row = out
        .lines()
        .find(|l| l.starts_with("| push_price "))
        .unwrap_or_else(|| panic!("no push_price row in {out}"));
    let cells: Vec<&str> = row
        .split('|')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(cells[1], "5", "five accepted signed updates: {row}");
    let (min, max): (u64, u64) = (cells[2].parse().unwrap(), cells[5].parse().unwrap());
    assert!(min >= 16_000 && min <= max, "{row}");
    assert!(
        !out.contains("| a_signed_price_is_accepted_from_anyone"),
        "tests are not rows"
    );
}

#[test]
fn a_new_project_tests_green_out_of_the_box() {
    let dir = scratch("new");
    let o = strike_in(&dir, &["new", "options_desk"], &[]);
    assert!(o.status.success(), "{:?}", text(&o));
    let root = dir.join("options_desk");
    for f in [
        "strike.toml",
        "src/options_desk.stk",
        "tests/options_desk_test.stk",
    ] {
        assert!(root.join(f).is_file(), "{f}");
    }
    let o = strike_in(&root, &["test"], &[]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("4 passed; 0 failed"), "{out}");
    // Results on stdout, progress on stderr.
    assert!(err.contains("running 4 tests") && !out.contains("running"));
    assert_eq!(
        strike_in(&dir, &["new", "options_desk"], &[]).status.code(),
        Some(1)
    );
    assert_eq!(
        strike_in(&dir, &["new", "9lives"], &[]).status.code(),
        Some(2)
    );
    assert_eq!(
        strike_in(&dir, &["new", "../x"], &[]).status.code(),
        Some(2)
    );
}

#[test]
fn completions_and_colour() {
    for shell in ["bash", "zsh", "fish"] {
        let o = strike(&["completions", shell]);
        assert!(o.status.success());
        let (out, _) = text(&o);
        assert!(
            out.contains("strike") && out.contains("gas-report"),
            "{shell}"
        );
    }
    assert_eq!(strike(&["completions", "tcsh"]).status.code(), Some(2));

    let dir = scratch("colour");
    let file = dir.join("bad.stk");
    std::fs::write(&file, "pub fn f() -> int { return 1.0; }\n").unwrap();
    let f = file.to_str().unwrap();
    let esc = |o: &Output| text(o).1.contains('\u{1b}');
    assert!(esc(&strike(&["check", f, "--color", "always"])));
    assert!(!esc(&strike(&["check", f, "--color", "never"])));
    // Not a terminal: auto means none.
    assert!(!esc(&strike(&["check", f])));
    assert!(!esc(&strike_in(
        &repo(),
        &["check", f, "--color", "auto"],
        &[("NO_COLOR", "1")]
    )));
    assert_eq!(
        strike(&["check", f, "--color", "sometimes"]).status.code(),
        Some(2)
    );
}

/// The signed message of oracle_feed.stk: domain tag, feed address, price bits, time.
fn oracle_message(feed: u128, price_bits: i128, at: i128) -> Vec<u8> {
    [0x5354524b2d4f5243i128, feed as i128, price_bits, at]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect()
}

fn ints(bytes: &[u8]) -> Vec<String> {
    bytes
        .chunks(16)
        .map(|c| i128::from_be_bytes(c.try_into().unwrap()).to_string())
        .collect()
}

#[test]
fn signed_prices_on_a_persistent_chain_with_a_real_key() {
    let dir = scratch("oracle");
    let state = dir.join("state");
    let state = state.to_str().unwrap();
    let o = strike(&[
        "deploy",
        "stdlib/oracle.stk",
        "--state",
        state,
        "--from",
        "0xa",
    ]);
    assert!(o.status.success(), "{:?}", text(&o));
    let feed_text = text(&o).0.trim().to_string();
    let feed = u128::from_str_radix(feed_text.trim_start_matches("0x"), 16).unwrap();
    let call = |from: &str, args: &[&str], time: &str| {
        let mut a = vec!["call", feed_text.as_str()];
        a.extend_from_slice(args);
        a.extend_from_slice(&[
            "--state",
            state,
            "--from",
            from,
            "--timestamp",
            time,
            "--json",
        ]);
        let o = strike(&a);
        let v: serde_json::Value = serde_json::from_str(text(&o).0.trim()).expect("json");
        (o.status.code(), v)
    };
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let public = ints(key.verifying_key().as_bytes());
    // `strike key` and `strike sign` give what the key gives.
    let secret = "07".repeat(32);
    assert_eq!(text(&strike(&["key", &secret])).0.trim(), public.join(" "));
    let signed = text(&strike(&[
        "sign",
        &secret,
        "0x5354524b2d4f5243",
        &format!("address:{feed_text}"),
        "fx:101.25",
        "int:990",
    ]))
    .0;
    let price_bits: i128 = 101 * (1 << 64) + (1 << 62); // 101.25
    assert_eq!(
        signed.trim(),
        ints(&key.sign(&oracle_message(feed, price_bits, 990)).to_bytes()).join(" ")
    );
    assert_eq!(strike(&["sign", "abc", "1"]).status.code(), Some(2));
    assert_eq!(strike(&["sign", &secret, "money:1"]).status.code(), Some(2));
    assert_eq!(call("0xa", &["oracle_init", "0xb", "60"], "900").0, Some(0));
    assert_eq!(
        call("0xa", &["set_signer", &public[0], &public[1]], "900").0,
        Some(0)
    );

    let signature = key.sign(&oracle_message(feed, price_bits, 990)).to_bytes();
    let sig = ints(&signature);
    let push = |price: &str, at: &str, sig: &[String], time: &str| {
        let mut args = vec!["push_price", price, at];
        args.extend(sig.iter().map(String::as_str));
        call("0xc", &args, time)
    };
    let (code, v) = push("101.25", "990", &sig, "1000");
    assert_eq!(code, Some(0), "{v}");
    let (_, v) = call("0xc", &["price"], "1000");
    assert_eq!(v["returns"][0], "101.25");
    // Replayed: the same signed update again.
    let (code, v) = push("101.25", "990", &sig, "1001");
    assert_eq!((code, v["error"]["code"].as_u64()), (Some(1), Some(103)));
    // Tampered price, same signature.
    let (code, v) = push("101.5", "990", &sig, "1001");
    assert_eq!((code, v["error"]["code"].as_u64()), (Some(1), Some(107)));
    // Signed by another key.
    let other = SigningKey::from_bytes(&[8u8; 32]);
    let forged = ints(
        &other
            .sign(&oracle_message(feed, price_bits, 995))
            .to_bytes(),
    );
    let (code, v) = push("101.25", "995", &forged, "1001");
    assert_eq!((code, v["error"]["code"].as_u64()), (Some(1), Some(107)));
    // Stale: observed 61 s before the block.
    let stale = ints(&key.sign(&oracle_message(feed, price_bits, 995)).to_bytes());
    let (code, v) = push("101.25", "995", &stale, "1056");
    assert_eq!((code, v["error"]["code"].as_u64()), (Some(1), Some(102)));
    // The same update within its window is accepted, and the state keeps it.
    let (code, _) = push("101.25", "995", &stale, "1055");
    assert_eq!(code, Some(0));
    let o = strike(&["state", state, &feed_text, "--json"]);
    assert!(text(&o).0.contains("995"), "{:?}", text(&o));
    // The signer's key is the one registered: a call traced on the chain shows the verify.
    let trace = dir.join("push.jsonl");
    let fresh = ints(&key.sign(&oracle_message(feed, price_bits, 1100)).to_bytes());
    let mut args = vec!["call", feed_text.as_str(), "push_price", "101.25", "1100"];
    args.extend(fresh.iter().map(String::as_str));
    args.extend_from_slice(&[
        "--state",
        state,
        "--from",
        "0xc",
        "--timestamp",
        "1100",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    let o = strike(&args);
    assert!(o.status.success(), "{:?}", text(&o));
    let lines = json_lines(&trace);
    let native = lines
        .iter()
        .find(|s| s["opName"] == "NATIVE")
        .expect("NATIVE step");
    assert!(native["gasCost"].as_u64().unwrap() >= 16_000);
    assert_eq!(native["writes"][0]["after"], "1");
}
