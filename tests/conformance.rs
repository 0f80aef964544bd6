//! Runs the conformance vectors in spec/vectors/*.vec (format in spec/vectors/README.md)
//! and checks that every opcode has at least one.

use std::collections::BTreeSet;
use std::path::PathBuf;
use strike_vm::exec::{Engine, Mode, Status, Transaction};
use strike_vm::isa::{assemble, Opcode};
use strike_vm::math::Fx;
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, Slot, StateCache, Storage};

const CONTRACT: u128 = 0x100;

#[derive(Default, Debug)]
struct Vector {
    file: String,
    name: String,
    line: usize,
    call: Vec<String>,
    gas_limit: u64,
    expect: Vec<String>,
    gas: Option<u64>,
    pre: Vec<(u32, u128, i128)>,
    storage: Vec<(u32, u128, i128)>,
    events: Vec<Vec<String>>,
    source: String,
    /// Contracts deployed beside it (`--- peer ADDRESS`): address and assembly.
    peers: Vec<(u128, String)>,
}

/// `pre|storage SPACE KEY VALUE`.
fn slot_value(words: &[String]) -> (u32, u128, i128) {
    let word = |i: usize| strike_tests::int(words.get(i).map_or("missing", String::as_str));
    (word(1) as u32, word(2) as u128, word(3))
}

fn vectors() -> Vec<Vector> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("spec/vectors exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "vec"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&path).expect("read vector file");
        let mut current: Option<Vector> = None;
        let mut in_source = false;
        for (i, line) in text.lines().enumerate() {
            if let Some(name) = line.strip_prefix("=== ") {
                out.extend(current.take());
                current = Some(Vector {
                    file: file.clone(),
                    name: name.trim().to_string(),
                    line: i + 1,
                    gas_limit: 1_000_000,
                    ..Vector::default()
                });
                in_source = false;
                continue;
            }
            let Some(v) = current.as_mut() else { continue };
            if let Some(peer) = line.strip_prefix("--- peer ") {
                let address = strike_tests::int(peer.trim()) as u128;
                v.peers.push((address, String::new()));
                in_source = true;
                continue;
            }
            if in_source {
                let text = match v.peers.last_mut() {
                    Some((_, text)) => text,
                    None => &mut v.source,
                };
                text.push_str(line);
                text.push('\n');
                continue;
            }
            let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
            match words.first().map(String::as_str) {
                None => {}
                Some(w) if w.starts_with('#') => {}
                Some("call") => v.call = words[1..].to_vec(),
                Some("gas-limit") => v.gas_limit = words[1].parse().expect("gas-limit"),
                Some("expect") => v.expect = words[1..].to_vec(),
                Some("gas") => v.gas = Some(words[1].parse().expect("gas")),
                Some("pre") => v.pre.push(slot_value(&words)),
                Some("storage") => v.storage.push(slot_value(&words)),
                Some("event") => v.events.push(words[1..].to_vec()),
                Some("---") => in_source = true,
                Some(other) => panic!("{file}:{}: unknown vector directive {other}", i + 1),
            }
        }
        out.extend(current);
    }
    out
}

/// Runs one vector in one engine mode; Err explains the mismatch.
fn check(v: &Vector, mode: Mode) -> Result<(), String> {
    let mut engine = Engine::new();
    engine.set_mode(mode);
    let module = match assemble(&v.source)
        .map_err(|e| e.to_string())
        .and_then(|m| engine.verify(m).map_err(|e| e.to_string()))
    {
        Ok(m) => m,
        Err(e) if v.expect.first().map(String::as_str) == Some("invalid-module") => {
            let _ = e;
            return Ok(());
        }
        Err(e) => return Err(format!("module does not load: {e}")),
    };
    if v.expect.first().map(String::as_str) == Some("invalid-module") {
        return Err("expected an invalid module, but it verified".into());
    }
    let export = module
        .module()
        .exports
        .iter()
        .find(|e| Some(&e.name) == v.call.first())
        .cloned()
        .ok_or("the call names no export")?;
    let args = export
        .params
        .iter()
        .zip(&v.call[1..])
        .map(|(&t, a)| strike_lang::values::parse(t, a))
        .collect::<Result<Vec<_>, _>>()?;
    let mut storage = MemoryStorage::new();
    for &(space, key, value) in &v.pre {
        storage
            .write(
                Slot {
                    contract: CONTRACT,
                    space,
                    key,
                },
                value,
            )
            .map_err(|e| e.to_string())?;
    }
    storage.commit().map_err(|e| e.to_string())?;
    engine.deploy(CONTRACT, module);
    for (address, text) in &v.peers {
        let peer = assemble(text)
            .map_err(|e| e.to_string())
            .and_then(|m| engine.verify(m).map_err(|e| e.to_string()))
            .map_err(|e| format!("peer {address:#x} does not load: {e}"))?;
        engine.deploy(*address, peer);
    }
    let mut state = StateCache::new(storage);
    let tx = Transaction {
        caller: 0xCA11,
        contract: CONTRACT,
        function: export.name.clone(),
        args,
        gas_limit: v.gas_limit,
    };
    let r = engine.execute(
        &tx,
        &BlockEnv {
            number: 7,
            timestamp: 1_700_000_000,
        },
        &mut state,
    );
    if mode == Mode::Jit && engine.jit_stats().modules < 1 {
        return Err(format!(
            "the JIT did not compile the module: {:?}",
            strike_vm::jit::compile(engine.contract(CONTRACT).expect("deployed")).err()
        ));
    }
    let got_returns: Vec<String> = export
        .returns
        .iter()
        .zip(&r.returns)
        .map(|(&t, &x)| strike_lang::values::format(t, x))
        .collect();
    let expect: Vec<&str> = v.expect.iter().map(String::as_str).collect();
    // An expected value is typed text, raw:0x<hex> for exact bits, or near:VALUE:TOL for an
    // fx within TOL of VALUE (both decimal: a reference value that is not itself an fx).
    let matches = |want: &[&str]| {
        want.len() == r.returns.len()
            && want
                .iter()
                .zip(&got_returns)
                .zip(&r.returns)
                .all(|((w, text), &raw)| {
                    if let Some(hex) = w.strip_prefix("raw:") {
                        strike_tests::int(hex) == raw
                    } else if let Some(near) = w.strip_prefix("near:") {
                        let (value, tolerance) = near.split_once(':').expect("near:VALUE:TOL");
                        let value: Fx = value.parse().expect("near: a decimal value");
                        let tolerance: Fx = tolerance.parse().expect("near: a decimal tolerance");
                        raw.abs_diff(value.to_bits()) <= tolerance.to_bits().unsigned_abs()
                    } else {
                        w == text
                    }
                })
    };
    let ok = match expect.as_slice() {
        ["ok", values @ ..] => r.status == Status::Ok && matches(values),
        ["revert", code] => {
            r.status == Status::Revert
                && r.error.as_ref().map(|e| e.code.to_string()) == Some(code.to_string())
        }
        ["error", code] => {
            r.status == Status::Error
                && r.error.as_ref().map(|e| e.code.to_string()) == Some(code.to_string())
        }
        other => return Err(format!("bad expect line {other:?}")),
    };
    if !ok {
        return Err(format!(
            "expected {:?}, got {:?} {:?} {:?}",
            v.expect, r.status, got_returns, r.error
        ));
    }
    if let Some(gas) = v.gas {
        if r.gas_used != gas {
            return Err(format!("expected gas {gas}, used {}", r.gas_used));
        }
    } else {
        return Err("every executed vector states its gas".into());
    }
    let events: Vec<Vec<String>> = r
        .events
        .iter()
        .map(|e| {
            std::iter::once(e.name.clone())
                .chain(e.values.iter().map(|x| x.to_string()))
                .collect()
        })
        .collect();
    if events != v.events {
        return Err(format!("expected events {:?}, got {events:?}", v.events));
    }
    state.commit_block().map_err(|e| e.to_string())?;
    let after: Vec<(u32, u128, i128)> = state
        .storage()
        .entries()
        .into_iter()
        .map(|(s, x)| (s.space, s.key, x))
        .collect();
    let mut want = v.storage.clone();
    want.sort();
    if after != want {
        return Err(format!("expected storage {want:?}, found {after:?}"));
    }
    Ok(())
}

#[test]
fn conformance_vectors_pass_and_cover_every_opcode() {
    let all = vectors();
    assert!(all.len() >= Opcode::ALL.len(), "only {} vectors", all.len());
    let mut failures = Vec::new();
    let mut covered = BTreeSet::new();
    for v in &all {
        // The interpreter is the reference; the JIT must give the same receipt, gas and
        // storage on every vector.
        for mode in [Mode::Interp, Mode::Jit] {
            if let Err(e) = check(v, mode) {
                failures.push(format!("{}:{} {} ({mode:?}): {e}", v.file, v.line, v.name));
            }
        }
        for word in v.source.split_whitespace() {
            if let Some(op) = Opcode::from_mnemonic(word) {
                covered.insert(op);
            }
        }
    }
    let missing: Vec<&str> = Opcode::ALL
        .iter()
        .filter(|op| !covered.contains(op))
        .map(|op| op.info().mnemonic)
        .collect();
    println!(
        "conformance: {} vectors, {} failed",
        all.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "failing vectors:\n{}",
        failures.join("\n")
    );
    assert!(missing.is_empty(), "opcodes without a vector: {missing:?}");
}
