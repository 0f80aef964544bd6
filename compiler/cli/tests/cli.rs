//! The `strike` binary end to end: outputs, JSON, batches, exit codes.
//!
//! These live in the compiler crate rather than tests/ because Cargo gives a binary's
//! path (CARGO_BIN_EXE_strike) only to its own package's integration tests.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../spec/examples/black_scholes.sasm"
);

fn strike(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_strike"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn strike");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("wait for strike")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn black_scholes_call_prices_exactly_with_its_gas() {
    let o = strike(
        &[
            "run", BS, "call", "100", "105", "0.2", "0.05", "0.5", "--json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0));
    // mpmath (40 digits): 4.581680167540001653782925513370505053842
    assert_eq!(
        stdout(&o).trim(),
        concat!(
            r#"{"status":"ok","returns":["4.5816801675400016459"],"gas_used":273,"#,
            // An assembled module has no ABI: its event's values are unnamed ints.
            r#""events":[{"contract":"0x100","name":"Priced","args":{"arg0":"84517081478201110919"}}],"#,
            r#""error":null}"#
        )
    );
}

#[test]
fn revert_out_of_gas_and_usage_errors_have_their_exit_codes() {
    let revert = strike(
        &[
            "run", BS, "call", "100", "105", "-0.2", "0.05", "0.5", "--json",
        ],
        None,
    );
    assert_eq!(revert.status.code(), Some(1));
    assert!(
        stdout(&revert).contains(r#""status":"revert""#) && stdout(&revert).contains(r#""code":1"#)
    );
    let gas = strike(
        &[
            "run",
            BS,
            "call",
            "100",
            "105",
            "0.2",
            "0.05",
            "0.5",
            "--gas-limit",
            "120",
            "--json",
        ],
        None,
    );
    assert_eq!(gas.status.code(), Some(1));
    assert!(stdout(&gas)
        .contains(r#""gas_used":120,"events":[],"error":{"code":10,"message":"out of gas","#));
    for bad in [
        vec!["run", BS, "call", "100", "abc", "0.2", "0.05", "0.5"],
        vec!["run", BS, "call", "100"],
        vec!["run", BS, "nope"],
        vec!["run", BS, "call", "1", "1", "1", "1", "1", "--repeat", "0"],
        vec!["frobnicate"],
    ] {
        let o = strike(&bad, None);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert!(!o.stderr.is_empty(), "{bad:?} printed no explanation");
        assert!(
            !String::from_utf8_lossy(&o.stderr).contains("panicked"),
            "{bad:?}"
        );
    }
    let missing = strike(&["run", "/nonexistent/x.sbc", "f"], None);
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn batch_gives_one_line_per_call_in_order() {
    let o = strike(
        &["run", BS, "call", "--batch", "-", "--json"],
        Some("100 105 0.2 0.05 0.5\n\n50 40 0.3 0.01 2\n"),
    );
    assert_eq!(o.status.code(), Some(0));
    let lines: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].contains("4.5816801675400016459"));
    assert!(lines[1].contains(r#""status":"ok""#));
}

#[test]
fn repeat_reports_nanoseconds_per_call() {
    let o = strike(
        &[
            "run", BS, "put", "100", "105", "0.2", "0.05", "0.5", "--json", "--repeat", "5",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains(r#""ns_per_call":{"median":"#));
}

#[test]
fn asm_then_disasm_then_asm_is_stable() {
    let dir = std::env::temp_dir().join(format!("strike-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let sbc = dir.join("bs.sbc");
    let sbc = sbc.to_str().expect("utf-8 path");
    assert_eq!(strike(&["asm", BS, "-o", sbc], None).status.code(), Some(0));
    let text = stdout(&strike(&["disasm", sbc], None));
    let sasm = dir.join("bs2.sasm");
    std::fs::write(&sasm, &text).expect("write");
    let sbc2 = dir.join("bs2.sbc");
    let out = strike(
        &[
            "asm",
            sasm.to_str().expect("utf-8"),
            "-o",
            sbc2.to_str().expect("utf-8"),
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(sbc).expect("read"),
        std::fs::read(&sbc2).expect("read")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn spec_prints_the_committed_opcodes_md() {
    let o = strike(&["spec"], None);
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../spec/OPCODES.md"
    ))
    .expect("read");
    assert_eq!(stdout(&o).trim_end(), committed.trim_end());
}

const BS_STK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../spec/examples/black_scholes.stk"
);

#[test]
fn run_compiles_stk_in_memory_and_prices_exactly() {
    let o = strike(
        &[
            "run", BS_STK, "call", "100", "105", "0.2", "0.05", "0.5", "--json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    // The same bits as the hand-written assembly (mpmath: 4.58168016754000165378...).
    assert!(
        stdout(&o).starts_with(r#"{"status":"ok","returns":["4.5816801675400016459"]"#),
        "{}",
        stdout(&o)
    );
    let revert = strike(
        &["run", BS_STK, "call", "100", "105", "0", "0.05", "0.5"],
        None,
    );
    assert_eq!(revert.status.code(), Some(1));
    assert!(
        stdout(&revert).starts_with("revert: [1]"),
        "{}",
        stdout(&revert)
    );
}

#[test]
fn build_writes_a_module_that_runs_and_disassembles_with_source() {
    let dir = std::env::temp_dir().join(format!("strike-build-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = dir.join("bs.sbc");
    let out_str = out.to_str().expect("utf-8 path");
    let o = strike(&["build", BS_STK, "-o", out_str], None);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let first = std::fs::read(&out).expect("module written");
    // Deterministic: building again gives the same bytes.
    assert_eq!(
        strike(&["build", BS_STK, "-o", out_str], None)
            .status
            .code(),
        Some(0)
    );
    assert_eq!(std::fs::read(&out).expect("module"), first);
    let run = strike(
        &["run", out_str, "call", "100", "105", "0.2", "0.05", "0.5"],
        None,
    );
    assert!(
        stdout(&run).starts_with("ok: 4.5816801675400016459"),
        "{}",
        stdout(&run)
    );
    // The .sbc next to no source: plain disassembly; with --source: lines interleaved.
    let plain = strike(&["disasm", out_str], None);
    assert!(!stdout(&plain).contains(" | "), "{}", stdout(&plain));
    let annotated = strike(&["disasm", out_str, "--source", BS_STK], None);
    assert!(
        stdout(&annotated).contains("|     let d2 = d1 - vol_sqrt_t;")
            || stdout(&annotated).contains("| let d2 = d1 - vol_sqrt_t;"),
        "{}",
        stdout(&annotated)
    );
    let from_source = strike(&["disasm", BS_STK], None);
    assert_eq!(stdout(&from_source), stdout(&annotated));
    // Unfused code is longer but gives the same price.
    let plain_out = dir.join("plain.sbc");
    let plain_str = plain_out.to_str().expect("utf-8 path");
    assert_eq!(
        strike(&["build", BS_STK, "--no-opt", "-o", plain_str], None)
            .status
            .code(),
        Some(0)
    );
    assert!(std::fs::read(&plain_out).expect("module").len() > first.len());
    let run = strike(
        &["run", plain_str, "call", "100", "105", "0.2", "0.05", "0.5"],
        None,
    );
    assert!(
        stdout(&run).starts_with("ok: 4.5816801675400016459"),
        "{}",
        stdout(&run)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compile_errors_are_pointed_coded_and_exit_1() {
    let dir = std::env::temp_dir().join(format!("strike-err-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = dir.join("typo.stk");
    std::fs::write(
        &src,
        "pub fn f(strike: fx) -> fx {\n    return ln(strke);\n}\n",
    )
    .expect("write");
    let path = src.to_str().expect("utf-8 path");
    for args in [
        vec!["check", path],
        vec!["build", path],
        vec!["run", path, "f", "1"],
        vec!["disasm", path],
    ] {
        let o = strike(&args, None);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("error[E0002]: no variable named `strke`"),
            "{err}"
        );
        assert!(err.contains(":2:15"), "{err}");
        assert!(
            err.contains("help: a variable with a similar name exists: `strike`"),
            "{err}"
        );
        assert!(err.contains("could not compile"), "{err}");
    }
    assert!(!dir.join("typo.sbc").exists(), "nothing written on error");
    let json = strike(&["check", path, "--json"], None);
    assert_eq!(json.status.code(), Some(1));
    assert!(stdout(&json)
        .starts_with(r#"{"code":"E0002","message":"no variable named `strke`","file":"#));
    let ok = strike(&["check", BS_STK], None);
    assert_eq!(ok.status.code(), Some(0));
    assert!(ok.stderr.is_empty());
    let missing = strike(&["build", "/nonexistent/x.stk"], None);
    assert_eq!(missing.status.code(), Some(1));
    let usage = strike(&["build"], None);
    assert_eq!(usage.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh folder under the target directory for files a test writes.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("lib")).expect("scratch folder");
    dir
}

#[test]
fn imports_join_files_and_errors_point_into_the_right_file() {
    let dir = scratch("imports");
    std::fs::write(
        dir.join("main.stk"),
        "import \"lib/a.stk\";\nimport \"lib/b.stk\";\npub fn f(x: fx) -> fx { return twice(x) + half(x); }\n",
    )
    .unwrap();
    // a imports b again (read once), b imports a back (a cycle is not an error).
    std::fs::write(
        dir.join("lib/a.stk"),
        "import \"b.stk\";\nfn twice(x: fx) -> fx { return x * 2.0; }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("lib/b.stk"),
        "import \"./a.stk\";\nfn half(x: fx) -> fx { return x / 2.0; }\n",
    )
    .unwrap();
    let main = dir.join("main.stk");
    let main = main.to_str().unwrap();
    let o = strike(&["run", main, "f", "3"], None);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o).lines().next(), Some("ok: 7.5"));
    let o = strike(&["disasm", main], None);
    assert!(stdout(&o).contains("return x / 2.0;"), "{}", stdout(&o));

    // A name defined in two files: both places are shown, each in its own file.
    std::fs::write(
        dir.join("lib/b.stk"),
        "fn twice(x: fx) -> fx { return x; }\nfn half(x: fx) -> fx { return x / 2.0; }\n",
    )
    .unwrap();
    let o = strike(&["check", main], None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("error[E0005]"), "{err}");
    assert!(err.contains("lib/a.stk:2:4"), "{err}");
    assert!(err.contains("lib/b.stk:1:4"), "{err}");

    // A missing file is E0015 at the import, with the reason.
    std::fs::write(dir.join("lib/b.stk"), "import \"nowhere.stk\";\n").unwrap();
    let o = strike(&["check", "--json", main], None);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out.contains(r#""code":"E0015","message":"cannot import \"nowhere.stk\"""#)
            && out.contains("lib/b.stk\",\"line\":1,\"column\":1"),
        "{out}"
    );
}

#[test]
fn a_batch_prices_the_stdlib_grid_in_one_process() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let options = format!("{root}/stdlib/options.stk");
    let grid = format!("{root}/stdlib/grids/bs_grid.txt");
    for f in ["bs_call", "bs_put", "bs_delta_call", "bs_vega"] {
        let o = strike(&["run", &options, f, "--batch", &grid, "--json"], None);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        let out = stdout(&o);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 36, "{out}");
        assert!(lines
            .iter()
            .all(|l| l.starts_with(r#"{"status":"ok","returns":[""#)));
    }
    // The at-the-money one-year call, as a single run prints it.
    let o = strike(
        &["run", &options, "bs_call", "--batch", &grid, "--json"],
        None,
    );
    let one = strike(
        &[
            "run", &options, "bs_call", "100", "100", "1", "0.05", "0.01", "0.2", "--json",
        ],
        None,
    );
    assert_eq!(stdout(&o).lines().nth(31), stdout(&one).lines().next());
}

/// Asserts that the command exited 0, showing its stderr otherwise.
fn succeeded(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `strike block --gen W` into a temporary file; returns its path.
fn generated(workload: &str, txs: &str, accounts: &str) -> std::path::PathBuf {
    let perps = concat!(env!("CARGO_MANIFEST_DIR"), "/../../stdlib/perps.stk");
    let o = strike(
        &[
            "block",
            "--gen",
            workload,
            "--txs",
            txs,
            "--accounts",
            accounts,
            "--perps",
            perps,
        ],
        None,
    );
    succeeded(&o);
    let dir = std::env::temp_dir().join(format!("strike-block-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{workload}-{txs}-{accounts}.jsonl"));
    std::fs::write(&path, o.stdout).expect("write block file");
    path
}

fn json_field<'a>(line: &'a str, key: &str) -> &'a str {
    let start = line.find(&format!("\"{key}\":")).expect(key) + key.len() + 3;
    let rest = &line[start..];
    let end = rest.find([',', '}']).expect("field end");
    rest[..end].trim_matches('"')
}

#[test]
fn block_digests_are_the_same_at_every_thread_count_for_every_workload() {
    for workload in ["independent", "hot-counter", "chain", "oracle-update"] {
        let file = generated(workload, "300", "100");
        let mut seen = None;
        for threads in ["1", "2", "3", "8"] {
            let o = strike(
                &[
                    "block",
                    file.to_str().expect("utf-8"),
                    "--threads",
                    threads,
                    "--json",
                ],
                None,
            );
            succeeded(&o);
            let line = stdout(&o);
            assert_eq!(
                json_field(&line, "transactions"),
                // The setup block: the feed's init, the market's, a price, the deposits.
                if workload == "chain" {
                    "304"
                } else if workload == "oracle-update" {
                    "404"
                } else {
                    "403"
                }
            );
            assert_eq!(json_field(&line, "failed"), "0", "{workload}: {line}");
            assert_eq!(json_field(&line, "reverted"), "0", "{workload}: {line}");
            let digests = (
                json_field(&line, "receipts_digest").to_string(),
                json_field(&line, "state_digest").to_string(),
            );
            assert_eq!(digests.0.len(), 64);
            match &seen {
                None => seen = Some(digests),
                Some(d) => assert_eq!(d, &digests, "{workload} at {threads} threads"),
            }
        }
    }
}

#[test]
fn block_text_output_names_the_executor_and_throughput() {
    let file = generated("independent", "50", "50");
    let o = strike(
        &["block", file.to_str().expect("utf-8"), "--threads", "1"],
        None,
    );
    let text = stdout(&o);
    assert!(
        text.starts_with("transactions: 103 in 2 blocks (ok 103, reverted 0, failed 0)\n"),
        "{text}"
    );
    assert!(
        text.contains("receipts digest: ") && text.contains("state digest: "),
        "{text}"
    );
    assert!(text.contains("tx/s), sequential, 1 thread"), "{text}");
}

#[test]
fn bad_block_files_are_reported_with_their_line() {
    let dir = std::env::temp_dir().join(format!("strike-badblock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let cases = [
        (
            "{\"deploy\":\"nope.stk\",\"address\":1}\n{\"from\":1,\"to\":1,\"call\":\"f\"}\n",
            ":1:",
            "nope.stk",
        ),
        (
            "\n{\"from\":1,\"to\":2,\"call\":\"f\",\"args\":[1],\"gas_limit\":-5}\n",
            ":2:",
            "gas_limit",
        ),
        ("{\"from\":1,\"to\":2,\"call\":\"f\"\n", ":1:", "not JSON"),
        (
            "{\"from\":1,\"to\":2,\"call\":\"f\",\"colour\":3}\n",
            ":1:",
            "unknown field \"colour\"",
        ),
        ("{\"block\":{\"number\":1}}\n", ":1:", "\"timestamp\""),
        ("[1,2]\n", ":1:", "must be a JSON object"),
        (
            "{\"from\":\"0xzz\",\"to\":2,\"call\":\"f\"}\n",
            ":1:",
            "\"from\"",
        ),
    ];
    for (i, (text, line, why)) in cases.iter().enumerate() {
        let path = dir.join(format!("bad{i}.jsonl"));
        std::fs::write(&path, text).expect("write");
        let o = strike(&["block", path.to_str().expect("utf-8")], None);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "case {i}: {err}");
        assert!(err.contains(line) && err.contains(why), "case {i}: {err}");
        assert!(!err.contains("panicked"), "case {i}: {err}");
    }
    // A call to an address with no contract is a failed receipt, not a bad file.
    let path = dir.join("nobody.jsonl");
    std::fs::write(&path, "{\"from\":1,\"to\":9,\"call\":\"f\",\"args\":[1]}\n").expect("write");
    let o = strike(&["block", path.to_str().expect("utf-8"), "--json"], None);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(json_field(&stdout(&o), "failed"), "1");
    let usage = strike(
        &["block", path.to_str().expect("utf-8"), "--threads", "0"],
        None,
    );
    assert_eq!(usage.status.code(), Some(2));
}
