//! The persistent local chain through the built binary: `strike deploy`, `call` and
//! `state`, their errors, and atomicity under `kill -9`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn strike(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strike"))
        .args(args)
        .output()
        .expect("run strike")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strike-chain-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

const VAULT: &str = "
storage total: fx;
storage balances: map<address, fx>;

pub fn deposit(amount: fx) {
    require(amount > 0.0, 7, \"amount must be positive\");
    balances[caller()] += amount;
    total += amount;
}

pub fn total_of() -> fx {
    return total;
}
";

fn deploy(dir: &Path, file: &Path, from: &str) -> String {
    let o = strike(&[
        "deploy",
        file.to_str().unwrap(),
        "--state",
        dir.join("state").to_str().unwrap(),
        "--from",
        from,
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "deploy failed: {err}");
    let addr = out.trim().to_string();
    assert!(addr.starts_with("0x"), "{addr}");
    addr
}

fn state_json(dir: &Path) -> serde_json::Value {
    let o = strike(&["state", dir.join("state").to_str().unwrap(), "--json"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "state failed: {err}");
    serde_json::from_str(&out).expect("state --json is JSON")
}

#[test]
fn deploy_call_and_state_persist_across_processes() {
    let dir = scratch("vault");
    let file = dir.join("vault.stk");
    std::fs::write(&file, VAULT).unwrap();
    let st = dir.join("state");
    let st = st.to_str().unwrap();
    let addr = deploy(&dir, &file, "0x1");
    // Addresses come from the deployer and its nonce: the next deploy gets another one.
    assert_ne!(deploy(&dir, &file, "0x1"), addr);

    for (from, amount) in [("0x7", "2.5"), ("0x8", "1"), ("0x7", "0.25")] {
        let o = strike(&[
            "call", &addr, "deposit", amount, "--state", st, "--from", from,
        ]);
        assert!(o.status.success(), "{:?}", text(&o));
    }
    let o = strike(&["call", &addr, "total_of", "--state", st, "--json"]);
    let (out, _) = text(&o);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["returns"][0], "3.75");

    // A revert exits 1, changes no storage, and still takes a block.
    let o = strike(&[
        "call", &addr, "deposit", "-1", "--state", st, "--from", "0x9",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).0.contains("revert"), "{:?}", text(&o));

    let (out, _) = text(&strike(&["state", st, &addr]));
    assert!(out.contains("total = 3.75"), "{out}");
    assert!(out.contains("balances[0x7] = 2.75"), "{out}");
    assert!(out.contains("balances[0x8] = 1"), "{out}");
    assert!(out.contains("vault.stk"), "{out}");
    let v = state_json(&dir);
    assert_eq!(v["block"], 5, "four calls and a revert: {v}");
    let contracts = v["contracts"].as_array().unwrap();
    assert_eq!(contracts.len(), 2);
    let ours = contracts.iter().find(|c| c["address"] == addr).unwrap();
    assert_eq!(ours["storage"].as_array().unwrap().len(), 3, "{ours}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = scratch("errors");
    let file = dir.join("vault.stk");
    std::fs::write(&file, VAULT).unwrap();
    let st = dir.join("state");
    let st = st.to_str().unwrap();
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["state", st], 1, "no state in"),
        (
            vec!["call", "0x5", "deposit", "1", "--state", st],
            1,
            "no state in",
        ),
    ];
    for (args, code, needle) in &cases {
        let o = strike(args);
        assert_eq!(o.status.code(), Some(*code), "{args:?}: {:?}", text(&o));
        assert!(text(&o).1.contains(needle), "{args:?}: {:?}", text(&o));
    }
    let addr = deploy(&dir, &file, "0x1");
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["call", "0x5", "deposit", "1", "--state", st],
            1,
            "no contract at 0x5",
        ),
        (
            vec!["call", "zz", "deposit", "1", "--state", st],
            2,
            "address",
        ),
        (
            vec!["call", &addr, "steal", "--state", st],
            2,
            "no exported function",
        ),
        (
            vec!["call", &addr, "deposit", "lots", "--state", st],
            2,
            "lots",
        ),
        (
            vec!["call", &addr, "deposit", "1", "--state", st, "--from", "-"],
            2,
            "--from",
        ),
        (vec!["state", st, "0x5"], 1, "no contract at 0x5"),
    ];
    for (args, code, needle) in &cases {
        let o = strike(args);
        assert_eq!(o.status.code(), Some(*code), "{args:?}: {:?}", text(&o));
        assert!(text(&o).1.contains(needle), "{args:?}: {:?}", text(&o));
    }
    // Not a database: refused, and left alone.
    let junk = dir.join("junk");
    std::fs::create_dir_all(&junk).unwrap();
    std::fs::write(junk.join("state.redb"), b"not a database").unwrap();
    let o = strike(&["state", junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    assert_eq!(
        std::fs::read(junk.join("state.redb")).unwrap(),
        b"not a database"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const CELLS: &str = "
storage counter: int;
storage cells: map<int, int>;

/// Writes the next counter value into n cells: a half-done commit would show two values.
pub fn bump(n: int) {
    let c = counter + 1;
    counter = c;
    for i in 0..n {
        cells[i] = c;
    }
}
";

/// Every cell holds the counter (or there is neither): the state after some whole number
/// of calls.
fn consistent(dir: &Path, n: usize) -> i64 {
    let v = state_json(dir);
    let storage = v["contracts"][0]["storage"].as_array().unwrap().clone();
    let counter = storage
        .iter()
        .find(|e| e["name"] == "counter")
        .map_or(0, |e| e["value"].as_str().unwrap().parse::<i64>().unwrap());
    let cells: Vec<&serde_json::Value> = storage.iter().filter(|e| e["name"] == "cells").collect();
    if counter == 0 {
        assert!(cells.is_empty(), "cells without a counter");
    } else {
        assert_eq!(cells.len(), n, "counter {counter}");
        for c in cells {
            assert_eq!(c["value"], counter.to_string(), "a cell from another call");
        }
    }
    counter
}

#[test]
fn kill_9_leaves_the_state_before_or_after_a_call() {
    const N: usize = 3000;
    let dir = scratch("kill");
    let file = dir.join("cells.stk");
    std::fs::write(&file, CELLS).unwrap();
    let addr = deploy(&dir, &file, "0x1");
    let st = dir.join("state");
    let n = N.to_string();
    let (mut interrupted, mut before) = (0, 0);
    for round in 0..16u64 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_strike"))
            .args(["call", &addr, "bump", &n, "--state", st.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn strike");
        // Spread the kills over start-up, execution and the commit.
        std::thread::sleep(Duration::from_millis(round * 5 % 45));
        if child.try_wait().expect("poll").is_none() {
            interrupted += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let counter = consistent(&dir, N);
        assert!(counter >= before, "the counter went back");
        before = counter;
    }
    assert!(interrupted > 0, "no kill landed while a call ran");
    // The state still works: a whole call commits on top of whatever survived.
    let o = strike(&["call", &addr, "bump", &n, "--state", st.to_str().unwrap()]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(consistent(&dir, N), before + 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A state directory is untrusted input too: corrupt its redb file at random places (a
/// fixed-seed generator, 1 to 8 flipped bits each time, mostly in bytes that hold data)
/// and every `strike state` and `strike call` must end with exit 0 or a clear error
/// (exit 1), never a panic. Code read from the file is verified again before it runs.
/// (Before the storage layer caught redb's panics, this found five kinds: UTF-8 unwraps
/// in table names and string keys, bitmap slice bounds, an `unreachable!`.)
#[test]
fn a_corrupt_state_file_is_an_error_or_a_clean_read_never_a_panic() {
    let dir = scratch("corrupt");
    let file = dir.join("vault.stk");
    std::fs::write(&file, VAULT).expect("write source");
    let addr = deploy(&dir, &file, "0xa1");
    let state = dir.join("state");
    let call = strike(&[
        "call",
        "--state",
        state.to_str().unwrap(),
        &addr,
        "deposit",
        "5",
        "--from",
        "0xb2",
    ]);
    assert!(call.status.success(), "{:?}", text(&call));
    let db = std::fs::read_dir(&state)
        .expect("state dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "redb"))
        .expect("a redb file");
    let original = std::fs::read(&db).expect("read db");
    // Bytes of the sparse pages: b-tree pages and table definitions, where corruption
    // reaches redb's decoding (the dense pages are mostly allocator state).
    let page_fill: Vec<usize> = original
        .chunks(4096)
        .map(|p| p.iter().filter(|&&b| b != 0).count())
        .collect();
    let data: Vec<usize> = (0..original.len())
        .filter(|&i| original[i] != 0 && page_fill[i / 4096] < 3000)
        .collect();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    let (mut clean, mut errors) = (0, 0);
    for _ in 0..40 {
        let mut bytes = original.clone();
        for _ in 0..1 + next(8) {
            let at = if next(5) < 4 {
                data[next(data.len())]
            } else {
                next(bytes.len())
            };
            bytes[at] ^= 1 << next(8);
        }
        std::fs::write(&db, &bytes).expect("write corrupt db");
        for args in [
            vec!["state", state.to_str().unwrap()],
            vec![
                "call",
                "--state",
                state.to_str().unwrap(),
                &addr,
                "total_of",
            ],
        ] {
            let o = strike(&args);
            let (_, err) = text(&o);
            assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
            if o.status.code() == Some(1) {
                assert!(err.starts_with("error: "), "{args:?}: {err}");
            }
            match o.status.code() {
                Some(0) => clean += 1,
                Some(1) => errors += 1,
                other => panic!("{args:?} exited {other:?}: {err}"),
            }
        }
    }
    eprintln!("corrupt state files: {clean} clean reads, {errors} clear errors");
    assert_eq!(clean + errors, 80);
}

/// The README's walkthrough of two contracts: a market calling a feed deployed once, a
/// failure in the feed reported with its path, typed events and revert messages, receipts
/// and logs kept with their blocks, the ABI, and an upgrade that would move data refused.
#[test]
fn two_contracts_a_feed_and_a_market_that_calls_it() {
    let dir = scratch("two");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/examples");
    let state = dir.join("state");
    let state = state.to_str().unwrap();
    let feed = deploy(&dir, &root.join("feed.stk"), "0x1");
    let market = deploy(&dir, &root.join("market.stk"), "0x1");
    let call = |from: &str, to: &str, args: &[&str]| {
        let mut all = vec!["call", to];
        all.extend(args);
        all.extend(["--state", state, "--from", from]);
        text(&strike(&all)).0
    };
    assert!(call("0xad", &feed, &["init"]).starts_with("ok"));
    assert!(call("0x1", &market, &["init", &feed]).starts_with("ok"));
    let early = call("0xa11ce", &market, &["open", "2.5"]);
    assert!(
        early.starts_with("revert: [4] no price yet\n")
            && early.contains(&format!("in {market}.open -> {feed}.price")),
        "{early}"
    );
    call("0xad", &feed, &["set", "101.5"]);
    let opened = call("0xa11ce", &market, &["open", "2.5"]);
    assert!(
        opened.starts_with("ok: 101.5\n")
            && opened.contains("event Opened(who: 0xa11ce, size: 2.5, at: 101.5)"),
        "{opened}"
    );
    let o = strike(&["call", &market, "open", "0", "--state", state, "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(r["error"]["code"], 1);
    assert_eq!(r["error"]["message"], "size must be positive");
    assert_eq!(r["error"]["function"], "open");
    let logs = text(&strike(&["logs", state])).0;
    assert_eq!(
        logs.trim(),
        format!(
            "block 4 {feed}: event Posted(price: 101.5)\n\
             block 5 {market}: event Opened(who: 0xa11ce, size: 2.5, at: 101.5)"
        )
    );
    let o = strike(&["logs", state, &market, "--event", "Opened", "--json"]);
    let e: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(e["args"]["size"], "2.5");
    assert_eq!(e["block"], 5);
    let receipt = text(&strike(&["receipt", state, "3"])).0;
    assert!(receipt.contains("revert: [4] no price yet"), "{receipt}");
    let o = strike(&["receipt", state, "99"]);
    assert_eq!(o.status.code(), Some(1));
    let abi: serde_json::Value =
        serde_json::from_slice(&strike(&["abi", root.join("market.stk").to_str().unwrap()]).stdout)
            .expect("abi is JSON");
    assert_eq!(abi["functions"][2]["returns"][0]["type"], "Position");
    assert_eq!(abi["errors"][0]["message"], "size must be positive");
    // An upgrade that inserts a variable before the others would move their data.
    let moved = dir.join("moved.stk");
    let source = std::fs::read_to_string(root.join("market.stk")).expect("read");
    std::fs::write(
        &moved,
        source.replace(
            "storage feed: address;",
            "storage paused: bool;\nstorage feed: address;",
        ),
    )
    .expect("write");
    let upgrade = |file: &Path| {
        strike(&[
            "deploy",
            file.to_str().unwrap(),
            "--state",
            state,
            "--upgrade",
            &market,
        ])
    };
    let o = upgrade(&moved);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("`feed` moved from space 0 to space 1"),
        "{err}"
    );
    // Adding a field at the end of the struct moves nothing: accepted, data kept.
    let grown = dir.join("grown.stk");
    std::fs::write(
        &grown,
        source.replace("    entry: fx,\n}", "    entry: fx,\n    opened: int,\n}"),
    )
    .expect("write");
    let o = upgrade(&grown);
    assert!(o.status.success(), "{}", text(&o).1);
    let pos = call("0x1", &market, &["position", "0xa11ce"]);
    assert!(pos.starts_with("ok: 2.5 101.5 0\n"), "{pos}");
}
