//! The persistent local chain: `strike deploy`, `strike call` and `strike state` over a
//! state directory holding one redb database ([`RedbStorage`]).
//!
//! Guarantees: each command commits at most once, in one redb transaction (the call's
//! storage writes together with the block counter, or the deployed code together with the
//! deployer's nonce), so a crash or `kill -9` leaves the state as it was before the command
//! or after it. A transaction that reverts or fails still advances the block counter and
//! leaves storage as it was. Bad input (addresses, arguments, a state directory that is
//! not one) is an error message and exit code, never a panic.

use super::{fail, find_export, load, out, parse_args, render, Exit};
use clap::Args;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use strike_lang::values;
use strike_lang::Type;
use strike_vm::exec::{Engine, Status, Transaction};
use strike_vm::isa::{Abi, Module, ValueType};
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{RedbStorage, Slot, StateCache, Storage};

/// The database file inside a state directory.
const DB_FILE: &str = "state.redb";

/// `strike deploy`.
#[derive(Args, Debug)]
pub struct DeployArgs {
    /// The contract: .stk source (compiled), .sasm or .sbc.
    file: PathBuf,
    /// The state directory (created if missing).
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// The deployer's address (decimal or 0x hex).
    #[arg(long, default_value = "0x1")]
    from: String,
    /// Replace the code of the contract at this address instead of deploying a new one,
    /// keeping its storage: refused when the new storage layout would move or retype a
    /// variable the old one stores (its values would be lost or misread).
    #[arg(long, value_name = "ADDRESS")]
    upgrade: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// `strike call`.
#[derive(Args, Debug)]
pub struct CallArgs {
    /// The contract's address, as `strike deploy` printed it.
    address: String,
    /// The exported function to call.
    function: String,
    /// Arguments, parsed by the function's parameter types (fx as decimal text).
    #[arg(allow_negative_numbers = true)]
    args: Vec<String>,
    /// The state directory.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// The caller's address (decimal or 0x hex).
    #[arg(long, default_value = "0x1")]
    from: String,
    /// Gas limit.
    #[arg(long, default_value_t = 10_000_000)]
    gas_limit: u64,
    /// Block timestamp in seconds (default: now, never before the previous block's).
    #[arg(long)]
    timestamp: Option<u64>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    insight: super::Insight,
}

/// `strike logs`.
#[derive(Args, Debug)]
pub struct LogsArgs {
    /// The state directory.
    dir: PathBuf,
    /// Only events emitted by this contract.
    address: Option<String>,
    /// Only events with this name.
    #[arg(long)]
    event: Option<String>,
    /// Only blocks from this number on.
    #[arg(long, default_value_t = 0)]
    from_block: u64,
    /// One JSON object per event, one per line.
    #[arg(long)]
    json: bool,
}

/// `strike receipt`.
#[derive(Args, Debug)]
pub struct ReceiptArgs {
    /// The state directory.
    dir: PathBuf,
    /// The block number (each `strike call` is one block).
    block: u64,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// `strike state`.
#[derive(Args, Debug)]
pub struct StateArgs {
    /// The state directory.
    dir: PathBuf,
    /// Only this contract.
    address: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn address(text: &str, what: &str) -> Result<u128, String> {
    values::parse(ValueType::Address, text)
        .map(|v| v as u128)
        .map_err(|e| format!("{what}: {e}"))
}

fn code_key(a: u128) -> String {
    format!("code/{a:#034x}")
}

/// The blob naming the source file a contract was deployed from.
fn name_key(addr: u128) -> String {
    format!("name/{addr:#034x}")
}

fn u64_blob(s: &RedbStorage, name: &str) -> Result<u64, String> {
    match s.blob(name).map_err(|e| e.to_string())? {
        None => Ok(0),
        Some(b) => <[u8; 8]>::try_from(b.as_slice())
            .map(u64::from_le_bytes)
            .map_err(|_| format!("corrupt state: blob {name} is not 8 bytes")),
    }
}

/// Opens the state in `dir`; `create` makes the directory and database if missing.
fn open(dir: &Path, create: bool) -> Result<RedbStorage, String> {
    let path = dir.join(DB_FILE);
    if !path.exists() {
        if !create {
            return Err(format!(
                "no state in {}: deploy a contract first (strike deploy FILE --state {})",
                dir.display(),
                dir.display()
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    RedbStorage::open(&path).map_err(|e| e.to_string())
}

fn type_named(name: &str) -> Option<ValueType> {
    [Type::Int, Type::Fx, Type::Bool, Type::Address]
        .into_iter()
        .find(|t| t.name() == name)
        .map(Type::value_type)
}

/// `strike deploy`: stores the verified code at a new address derived from the deployer
/// and its nonce, and prints the address.
pub fn deploy(args: DeployArgs) -> Exit {
    let from = match address(&args.from, "--from") {
        Ok(a) => a,
        Err(e) => return fail(&e, Exit::Usage),
    };
    let module = match load(&args.file) {
        Ok(m) => m,
        Err(e) => return e.report(),
    };
    let engine = Engine::new();
    if let Err(e) = engine.verify(module.clone()) {
        return fail(&format!("{}: {e}", args.file.display()), Exit::Failure);
    }
    let mut storage = match open(&args.state, true) {
        Ok(s) => s,
        Err(e) => return fail(&e, Exit::Failure),
    };
    let nonce_key = format!("nonce/{from:#034x}");
    let nonce = match u64_blob(&storage, &nonce_key) {
        Ok(n) => n,
        Err(e) => return fail(&e, Exit::Failure),
    };
    let upgrade = match args.upgrade.as_deref().map(|a| address(a, "--upgrade")) {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(e)) => return fail(&e, Exit::Usage),
    };
    let addr = match upgrade {
        Some(a) => {
            let old = match deployed(&storage, a) {
                Ok(m) => m,
                Err(e) => return fail(&e, Exit::Failure),
            };
            let conflicts = module.abi.layout_conflicts(&old.abi);
            if !conflicts.is_empty() {
                return fail(
                    &format!(
                        "refusing to upgrade {a:#x}: the new storage layout would move its data\n  {}\n  (add new variables after the existing ones, and new fields at the end of a struct)",
                        conflicts.join("\n  ")
                    ),
                    Exit::Failure,
                );
            }
            a
        }
        None => {
            let mut h = Sha256::new();
            h.update(b"strike.deploy");
            h.update(from.to_be_bytes());
            h.update(nonce.to_be_bytes());
            let digest: [u8; 32] = h.finalize().into();
            let mut first = [0u8; 16];
            first.copy_from_slice(&digest[..16]);
            u128::from_be_bytes(first)
        }
    };
    let name = args
        .file
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    storage.stage_blob(&code_key(addr), module.encode());
    storage.stage_blob(&name_key(addr), name.clone().into_bytes());
    if upgrade.is_none() {
        storage.stage_blob(&nonce_key, (nonce + 1).to_le_bytes().to_vec());
    }
    if let Err(e) = storage.commit() {
        return fail(&e.to_string(), Exit::Failure);
    }
    if args.json {
        let line = serde_json::json!({
            "address": format!("{addr:#x}"),
            "name": name,
            "from": format!("{from:#x}"),
            "nonce": nonce,
        });
        out(&line.to_string());
    } else {
        out(&format!("{addr:#x}"));
    }
    Exit::Success
}

/// The deployed module at `addr`.
fn deployed(storage: &RedbStorage, addr: u128) -> Result<Module, String> {
    let bytes = storage
        .blob(&code_key(addr))
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no contract at {addr:#x} in this state"))?;
    Module::decode(&bytes).map_err(|e| format!("corrupt code at {addr:#x}: {e}"))
}

/// An engine with every contract of the state deployed (a call may reach any of them).
fn engine(storage: &RedbStorage) -> Result<Engine, String> {
    let mut engine = Engine::new();
    for (key, _) in storage.blobs("code/").map_err(|e| e.to_string())? {
        let addr = address(&key["code/".len()..], "code")?;
        let module = deployed(storage, addr)?;
        let verified = engine
            .verify(module)
            .map_err(|e| format!("code at {addr:#x}: {e}"))?;
        engine.deploy(addr, verified);
    }
    Ok(engine)
}

/// The blob holding block `n`'s receipt (one transaction per block on this chain); the
/// zero-padded hex keeps them in block order.
fn receipt_key(n: u64) -> String {
    format!("receipt/{n:016x}")
}

/// What the chain stores of a transaction: its block, call, status, gas, returns, error
/// and typed events, as `strike receipt --json` prints it.
fn receipt_record(
    engine: &Engine,
    tx: &Transaction,
    export: &strike_vm::isa::Export,
    r: &strike_vm::exec::Receipt,
    block: &BlockEnv,
) -> serde_json::Value {
    let status = match r.status {
        Status::Ok => "ok",
        Status::Revert => "revert",
        Status::Error => "error",
    };
    let args: Vec<serde_json::Value> = export
        .params
        .iter()
        .zip(&tx.args)
        .map(|(&t, &v)| crate::json::typed(t, v))
        .collect();
    let returns: Vec<serde_json::Value> = export
        .returns
        .iter()
        .zip(&r.returns)
        .map(|(&t, &v)| crate::json::typed(t, v))
        .collect();
    let events: Vec<serde_json::Value> = r
        .events
        .iter()
        .map(|e| super::event_json(engine, e))
        .collect();
    serde_json::json!({
        "block": block.number,
        "timestamp": block.timestamp,
        "from": format!("{:#x}", tx.caller),
        "contract": format!("{:#x}", tx.contract),
        "function": tx.function,
        "args": args,
        "status": status,
        "gas_used": r.gas_used,
        "returns": returns,
        "events": events,
        "error": super::error_json(r.error.as_ref()),
    })
}

/// `strike call`: one transaction as one block, committed with the block counter.
pub fn call(args: CallArgs) -> Exit {
    let (to, from) = match (
        address(&args.address, "address"),
        address(&args.from, "--from"),
    ) {
        (Ok(t), Ok(f)) => (t, f),
        (Err(e), _) | (_, Err(e)) => return fail(&e, Exit::Usage),
    };
    let storage = match open(&args.state, false) {
        Ok(s) => s,
        Err(e) => return fail(&e, Exit::Failure),
    };
    let engine = match engine(&storage) {
        Ok(e) => e,
        Err(e) => return fail(&e, Exit::Failure),
    };
    let Some(verified) = engine.contract(to).cloned() else {
        return fail(
            &format!("no contract at {to:#x} in this state"),
            Exit::Failure,
        );
    };
    let export = match find_export(verified.module(), &args.function, &format!(" at {to:#x}")) {
        Ok(e) => e,
        Err(exit) => return exit,
    };
    let raw = match parse_args(&export, &args.args) {
        Ok(r) => r,
        Err(e) => return fail(&e, Exit::Usage),
    };
    let name = storage
        .blob(&name_key(to))
        .ok()
        .flatten()
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    let labels = super::trace::Labels::module(verified.module(), name.as_deref().unwrap_or("?"));
    let (number, last_time) = match (
        u64_blob(&storage, "chain/block"),
        u64_blob(&storage, "chain/time"),
    ) {
        (Ok(n), Ok(t)) => (n, t),
        (Err(e), _) | (_, Err(e)) => return fail(&e, Exit::Failure),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let block = BlockEnv {
        number: number + 1,
        timestamp: args.timestamp.unwrap_or(now.max(last_time)),
    };
    let tx = Transaction {
        caller: from,
        contract: to,
        function: export.name.clone(),
        args: raw,
        gas_limit: args.gas_limit,
    };
    let mut state = StateCache::new(storage);
    let receipt = if args.insight.wanted() {
        // The traced run is the interpreter's, the reference: it is the transaction
        // committed, so the trace shows exactly what the state records.
        let traced = super::traced(
            &engine,
            &tx,
            &block,
            &mut state,
            &args.insight,
            (&labels, &export),
            None,
        );
        match traced {
            Ok(r) => r,
            Err(e) => return fail(&e, Exit::Failure),
        }
    } else {
        engine.execute(&tx, &block, &mut state)
    };
    let record = receipt_record(&engine, &tx, &export, &receipt, &block);
    let chain = state.storage_mut();
    chain.stage_blob("chain/block", block.number.to_le_bytes().to_vec());
    chain.stage_blob("chain/time", block.timestamp.to_le_bytes().to_vec());
    chain.stage_blob(&receipt_key(block.number), record.to_string().into_bytes());
    if let Err(e) = state.commit_block() {
        return fail(&e.to_string(), Exit::Failure);
    }
    out(&render(&engine, &export, &receipt, None, args.json));
    if receipt.status == Status::Ok {
        Exit::Success
    } else {
        Exit::Failure
    }
}

/// One storage variable's entry, as `strike state` shows it.
struct Shown {
    name: String,
    key: Option<String>,
    value: String,
}

/// Names and formats `slots` of one contract by the storage layout of its ABI (raw
/// without one).
fn show(abi: Option<&Abi>, slots: &[(Slot, i128)]) -> Vec<Shown> {
    slots
        .iter()
        .map(|&(slot, value)| {
            let var = abi.and_then(|a| a.storage.iter().find(|v| v.space == slot.space));
            let raw = || Shown {
                name: format!("space {}", slot.space),
                key: Some(format!("{:#x}", slot.key)),
                value: value.to_string(),
            };
            let Some(var) = var else {
                return raw();
            };
            match var
                .ty
                .strip_prefix("map<")
                .and_then(|t| t.strip_suffix('>'))
            {
                None => match type_named(&var.ty) {
                    Some(t) if slot.key == 0 => Shown {
                        name: var.name.clone(),
                        key: None,
                        value: values::format(t, value),
                    },
                    _ => raw(),
                },
                Some(kv) => {
                    let (k, v) = kv.split_once(',').unwrap_or((kv, ""));
                    match (type_named(k.trim()), type_named(v.trim())) {
                        (Some(kt), Some(vt)) => Shown {
                            name: var.name.clone(),
                            key: Some(values::format(kt, slot.key as i128)),
                            value: values::format(vt, value),
                        },
                        _ => raw(),
                    }
                }
            }
        })
        .collect()
}

/// `strike state`: every contract (or one) with its name and storage, readably.
pub fn state(args: StateArgs) -> Exit {
    let only = match args.address.as_deref().map(|a| address(a, "address")) {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(e)) => return fail(&e, Exit::Usage),
    };
    let storage = match open(&args.dir, false) {
        Ok(s) => s,
        Err(e) => return fail(&e, Exit::Failure),
    };
    let contracts = match storage.blobs("code/") {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string(), Exit::Failure),
    };
    let mut addrs: Vec<u128> = contracts
        .iter()
        .filter_map(|(k, _)| address(&k["code/".len()..], "code").ok())
        .collect();
    if let Some(a) = only {
        if !addrs.contains(&a) {
            return fail(
                &format!("no contract at {a:#x} in this state"),
                Exit::Failure,
            );
        }
        addrs = vec![a];
    }
    let (block, time) = (
        u64_blob(&storage, "chain/block").unwrap_or(0),
        u64_blob(&storage, "chain/time").unwrap_or(0),
    );
    let mut text = vec![format!("block {block}, timestamp {time}")];
    let mut objects = Vec::new();
    for a in addrs {
        let blob = |kind: &str| -> Option<String> {
            storage
                .blob(&format!("{kind}/{a:#034x}"))
                .ok()
                .flatten()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        };
        let name = blob("name").unwrap_or_default();
        let slots = match storage.entries(Some(a)) {
            Ok(s) => s,
            Err(e) => return fail(&e.to_string(), Exit::Failure),
        };
        let abi = deployed(&storage, a).ok().map(|m| m.abi);
        let shown = show(abi.as_ref(), &slots);
        text.push(format!("contract {a:#x} ({name})"));
        if shown.is_empty() {
            text.push("  (empty storage)".into());
        }
        let mut entries = Vec::new();
        for s in &shown {
            let lhs = match &s.key {
                Some(k) => format!("{}[{k}]", s.name),
                None => s.name.clone(),
            };
            text.push(format!("  {lhs} = {}", s.value));
            entries.push(serde_json::json!({
                "name": s.name,
                "key": s.key,
                "value": s.value,
            }));
        }
        objects.push(serde_json::json!({
            "address": format!("{a:#x}"),
            "name": name,
            "storage": entries,
        }));
    }
    if args.json {
        let line = serde_json::json!({
            "block": block,
            "timestamp": time,
            "contracts": objects,
        });
        out(&line.to_string());
    } else {
        out(&text.join("\n"));
    }
    Exit::Success
}

/// Every receipt the chain in `dir` recorded, in block order.
fn receipts(dir: &Path) -> Result<Vec<serde_json::Value>, String> {
    let storage = open(dir, false)?;
    let mut out = Vec::new();
    for (key, bytes) in storage.blobs("receipt/").map_err(|e| e.to_string())? {
        let record: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("corrupt state: {key} is not a receipt ({e})"))?;
        out.push(record);
    }
    out.sort_by_key(|r| r["block"].as_u64().unwrap_or(0));
    Ok(out)
}

/// An event record (from a stored receipt) as the CLI prints it.
fn event_text(e: &serde_json::Value) -> String {
    let args: Vec<String> = e["args"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    format!(
        "event {}({})",
        e["name"].as_str().unwrap_or_default(),
        args.join(", ")
    )
}

/// `strike logs`: the events of every successful call, filtered, in block order.
pub fn logs(args: LogsArgs) -> Exit {
    let only = match args.address.as_deref().map(|a| address(a, "address")) {
        None => None,
        Some(Ok(a)) => Some(format!("{a:#x}")),
        Some(Err(e)) => return fail(&e, Exit::Usage),
    };
    let records = match receipts(&args.dir) {
        Ok(r) => r,
        Err(e) => return fail(&e, Exit::Failure),
    };
    let mut lines = Vec::new();
    for r in &records {
        let block = r["block"].as_u64().unwrap_or(0);
        if block < args.from_block {
            continue;
        }
        for e in r["events"].as_array().into_iter().flatten() {
            if only.as_deref().is_some_and(|a| e["contract"] != a)
                || args.event.as_deref().is_some_and(|n| e["name"] != n)
            {
                continue;
            }
            if args.json {
                let mut e = e.clone();
                if let Some(o) = e.as_object_mut() {
                    o.insert("block".into(), block.into());
                }
                lines.push(e.to_string());
            } else {
                lines.push(format!(
                    "block {block} {}: {}",
                    e["contract"].as_str().unwrap_or_default(),
                    event_text(e)
                ));
            }
        }
    }
    if !lines.is_empty() {
        out(&lines.join("\n"));
    }
    Exit::Success
}

/// `strike receipt`: what block `n`'s transaction did.
pub fn receipt(args: ReceiptArgs) -> Exit {
    let storage = match open(&args.dir, false) {
        Ok(s) => s,
        Err(e) => return fail(&e, Exit::Failure),
    };
    let bytes = match storage.blob(&receipt_key(args.block)) {
        Ok(Some(b)) => b,
        Ok(None) => {
            let last = u64_blob(&storage, "chain/block").unwrap_or(0);
            return fail(
                &format!(
                    "no receipt for block {} (the chain has blocks 1 to {last})",
                    args.block
                ),
                Exit::Failure,
            );
        }
        Err(e) => return fail(&e.to_string(), Exit::Failure),
    };
    let r: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => return fail(&format!("corrupt receipt: {e}"), Exit::Failure),
    };
    if args.json {
        out(&r.to_string());
        return Exit::Success;
    }
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let list = |v: &serde_json::Value| -> String {
        v.as_array()
            .map(|a| a.iter().map(text).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    let mut lines = vec![
        format!(
            "block {} at {}: {} called {}.{}({})",
            r["block"],
            r["timestamp"],
            text(&r["from"]),
            text(&r["contract"]),
            text(&r["function"]),
            list(&r["args"])
        ),
        match r["status"].as_str() {
            Some("ok") => format!("ok: {}", list(&r["returns"])),
            status => format!(
                "{}: [{}] {}",
                status.unwrap_or("error"),
                r["error"]["code"],
                text(&r["error"]["message"])
            ),
        },
        format!("gas used: {}", r["gas_used"]),
    ];
    if let Some(path) = r["error"]["path"].as_array().filter(|p| p.len() > 1) {
        let p: Vec<String> = path
            .iter()
            .map(|f| format!("{}.{}", text(&f["contract"]), text(&f["function"])))
            .collect();
        lines.push(format!("  in {}", p.join(" -> ")));
    }
    for e in r["events"].as_array().into_iter().flatten() {
        lines.push(event_text(e));
    }
    out(&lines.join("\n"));
    Exit::Success
}
