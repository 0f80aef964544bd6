//! `strike block`: block files (JSON lines; the format is in spec/block-format.md), their
//! execution by the sequential or the parallel executor, and the standard perps workloads
//! that `strike block --gen` writes.
//!
//! Guarantees: a malformed file is reported with its line number and never panics; the
//! digests printed depend only on the file, never on the thread count or the engine.

use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use strike_lang::values;
use strike_vm::exec::{
    execute_block, execute_block_parallel, BlockError, BlockStats, Engine, Mode, ParallelConfig,
    Receipt, Transaction,
};
use strike_vm::isa::{Module, ValueType};
use strike_vm::runtime::BlockEnv;
use strike_vm::state::Address;
use strike_vm::state::{MemoryStorage, StateCache};

/// Gas limit of a transaction line without `gas_limit`.
pub const DEFAULT_GAS_LIMIT: u64 = 10_000_000;

/// A contract to deploy before the first block.
pub struct Deploy {
    /// Where it lives.
    pub address: Address,
    /// The file it came from (relative paths resolved against the block file's folder).
    pub path: PathBuf,
    /// Line in the block file.
    pub line: usize,
}

/// One block: its environment and transactions, in order.
pub struct Block {
    /// Number and timestamp.
    pub env: BlockEnv,
    /// The transactions.
    pub transactions: Vec<Transaction>,
}

/// A parsed block file.
pub struct BlockFile {
    /// Contracts, in file order.
    pub deploys: Vec<Deploy>,
    /// Blocks, in file order.
    pub blocks: Vec<Block>,
}

fn address(v: &Value, what: &str) -> Result<Address, String> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(format!("{what} must be an address (a number or a string)")),
    };
    values::parse(ValueType::Address, &text)
        .map(|a| a as u128)
        .map_err(|e| format!("{what}: {e}"))
}

fn unsigned(v: &Value, what: &str) -> Result<u64, String> {
    v.as_u64()
        .ok_or_else(|| format!("{what} must be a whole number from 0 to 2^64-1"))
}

fn object<'v>(v: &'v Value, what: &str) -> Result<&'v Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{what} must be a JSON object"))
}

fn only(obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), String> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "unknown field {k:?} (expected {})",
            allowed.join(", ")
        )),
        None => Ok(()),
    }
}

/// Gives the parameter types of a function of the contract loaded from a path.
pub type TypesOf<'a> = dyn FnMut(&Path, &str) -> Result<Option<Vec<ValueType>>, String> + 'a;

/// Parses the text of a block file at `path`. `types` gives an export's parameter types
/// for a deployed path (so arguments parse as the contract declares them); calls to
/// anything else keep integer arguments and fail in their receipts, as on a chain.
pub fn parse(path: &Path, text: &str, types: &mut TypesOf<'_>) -> Result<BlockFile, String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = BlockFile {
        deploys: Vec::new(),
        blocks: Vec::new(),
    };
    let mut deployed: Vec<(Address, PathBuf)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let at = |e: String| format!("{}:{line}: {e}", path.display());
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(trimmed).map_err(|e| at(format!("not JSON: {e}")))?;
        let obj = object(&v, "a line").map_err(at)?;
        if let Some(target) = obj.get("deploy") {
            only(obj, &["deploy", "address"]).map_err(at)?;
            if !file.blocks.is_empty() {
                return Err(at("contracts are deployed before the first block".into()));
            }
            let p = target
                .as_str()
                .ok_or_else(|| at("\"deploy\" must be a file path".into()))?;
            let addr = address(
                obj.get("address")
                    .ok_or_else(|| at("a deploy line needs \"address\"".into()))?,
                "\"address\"",
            )
            .map_err(at)?;
            if deployed.iter().any(|(a, _)| *a == addr) {
                return Err(at(format!("a contract is already deployed at {addr:#x}")));
            }
            let full = dir.join(p);
            // Load it now, so a contract that does not load is reported at its line.
            types(&full, "").map_err(at)?;
            deployed.push((addr, full.clone()));
            file.deploys.push(Deploy {
                address: addr,
                path: full,
                line,
            });
        } else if let Some(b) = obj.get("block") {
            only(obj, &["block"]).map_err(at)?;
            let b = object(b, "\"block\"").map_err(at)?;
            only(b, &["number", "timestamp"]).map_err(at)?;
            let field = |k: &str| match b.get(k) {
                Some(v) => unsigned(v, &format!("\"{k}\"")),
                None => Err(format!("\"block\" needs \"{k}\"")),
            };
            file.blocks.push(Block {
                env: BlockEnv {
                    number: field("number").map_err(at)?,
                    timestamp: field("timestamp").map_err(at)?,
                },
                transactions: Vec::new(),
            });
        } else {
            only(obj, &["from", "to", "call", "args", "gas_limit"]).map_err(at)?;
            let need = |k: &str| {
                obj.get(k)
                    .ok_or_else(|| at(format!("a transaction line needs \"{k}\"")))
            };
            let caller = address(need("from")?, "\"from\"").map_err(at)?;
            let contract = address(need("to")?, "\"to\"").map_err(at)?;
            let function = need("call")?
                .as_str()
                .ok_or_else(|| at("\"call\" must be a function name".into()))?
                .to_string();
            let args = match obj.get("args") {
                None => Vec::new(),
                Some(Value::Array(a)) => a.clone(),
                Some(_) => return Err(at("\"args\" must be an array".into())),
            };
            let gas_limit = match obj.get("gas_limit") {
                None => DEFAULT_GAS_LIMIT,
                Some(v) => unsigned(v, "\"gas_limit\"").map_err(at)?,
            };
            let declared = match deployed.iter().find(|(a, _)| *a == contract) {
                Some((_, p)) => types(p, &function).map_err(at)?,
                None => None,
            };
            if let Some(t) = &declared {
                if t.len() != args.len() {
                    return Err(at(format!(
                        "{function} takes {} arguments, {} given",
                        t.len(),
                        args.len()
                    )));
                }
            }
            let args = args
                .iter()
                .enumerate()
                .map(|(k, a)| {
                    let ty = declared.as_ref().map_or(ValueType::Int, |t| t[k]);
                    let text = match a {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => {
                            return Err(format!("argument {} must be a string or a number", k + 1))
                        }
                    };
                    values::parse(ty, &text)
                        .map_err(|e| format!("argument {} ({}): {e}", k + 1, ty.name()))
                })
                .collect::<Result<Vec<i128>, String>>()
                .map_err(at)?;
            if file.blocks.is_empty() {
                file.blocks.push(Block {
                    env: BlockEnv {
                        number: 1,
                        timestamp: 0,
                    },
                    transactions: Vec::new(),
                });
            }
            if let Some(b) = file.blocks.last_mut() {
                b.transactions.push(Transaction {
                    caller,
                    contract,
                    function,
                    args,
                    gas_limit,
                });
            }
        }
    }
    Ok(file)
}

/// Reads a block file: loads and verifies its contracts (.stk, .sbc or .sasm) into an
/// engine running in `mode`, and returns it with the blocks.
pub fn open(path: &Path, text: &str, mode: Mode) -> Result<(Engine, Vec<Block>), String> {
    let mut modules: Vec<(PathBuf, Module)> = Vec::new();
    let mut load = |p: &Path| -> Result<Module, String> {
        if let Some((_, m)) = modules.iter().find(|(q, _)| q == p) {
            return Ok(m.clone());
        }
        let m = crate::load::load_contract(p)?;
        modules.push((p.to_path_buf(), m.clone()));
        Ok(m)
    };
    let file = parse(path, text, &mut |p, f| load(p).map(|m| export_types(&m, f)))?;
    let mut engine = Engine::new();
    engine.set_mode(mode);
    for d in &file.deploys {
        let verified = load(&d.path).and_then(|m| {
            engine
                .verify(m)
                .map_err(|e| format!("{}: {e}", d.path.display()))
        });
        match verified {
            Ok(v) => engine.deploy(d.address, v),
            Err(e) => return Err(format!("{}:{}: cannot deploy: {e}", path.display(), d.line)),
        }
    }
    Ok((engine, file.blocks))
}

/// What [`run`] returns: every receipt, the state, the summed figures and each block's.
pub type RunResult = (
    Vec<Receipt>,
    StateCache<MemoryStorage>,
    BlockStats,
    Vec<BlockStats>,
);

/// Runs `blocks` in order on fresh in-memory state, committing each: sequentially when
/// `parallel` is `None`. Returns every receipt, the state and the figures, or why a block
/// could not run (over the engine's limits) or commit.
pub fn run(
    engine: &Engine,
    blocks: &[Block],
    parallel: Option<&ParallelConfig>,
) -> Result<RunResult, String> {
    let mut state = StateCache::new(MemoryStorage::new());
    let mut receipts = Vec::new();
    let mut stats = BlockStats::default();
    let mut per_block = Vec::with_capacity(blocks.len());
    for (i, b) in blocks.iter().enumerate() {
        let txs = &b.transactions;
        let refused = |e: BlockError| format!("block {} (number {}): {e}", i + 1, b.env.number);
        match parallel {
            None => {
                receipts.extend(execute_block(engine, txs, &b.env, &mut state).map_err(refused)?);
                let s = BlockStats {
                    transactions: txs.len(),
                    tasks: txs.len(),
                    executions: txs.len() as u64,
                    ..BlockStats::default()
                };
                stats.add(&s);
                per_block.push(s);
            }
            Some(config) => {
                let (r, s) = execute_block_parallel(engine, txs, &b.env, &mut state, config)
                    .map_err(refused)?;
                receipts.extend(r);
                stats.add(&s);
                per_block.push(s);
            }
        }
        state.commit_block().map_err(|e| e.to_string())?;
    }
    Ok((receipts, state, stats, per_block))
}

/// The parameter types of `function` in `module`, if it exports it.
pub fn export_types(module: &Module, function: &str) -> Option<Vec<ValueType>> {
    module
        .exports
        .iter()
        .find(|e| e.name == function)
        .map(|e| e.params.clone())
}

/// The standard workloads: four on stdlib/perps.stk, two on stdlib/options_margin.stk.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// Each transaction a trade by a different account (alternating buys and sells).
    Independent,
    /// Every transaction a buy by a different account: each one moves the open-interest
    /// total (and fees, pool), a hot counter that only deltas keep conflict-free.
    HotCounter,
    /// One account trading again and again: a single dependency chain.
    Chain,
    /// Independent trades with an oracle price update half way through the block.
    OracleUpdate,
    /// The options venue: every account holds 4 option positions; each transaction opens
    /// or closes one more and re-checks the account's portfolio margin by valuing all its
    /// positions (Black-Scholes prices and greeks at the oracle price).
    OptionsMargin,
    /// The options venue: thinly margined short puts, a price drop, then liquidations
    /// (every account once, then attempts that find nothing), each paying the one
    /// insurance fund.
    Liquidations,
}

impl Workload {
    /// Whether the workload runs on the options venue (else on perps).
    pub fn on_options(self) -> bool {
        matches!(self, Workload::OptionsMargin | Workload::Liquidations)
    }

    /// The stdlib file of the contract it runs on.
    pub fn contract_file(self) -> &'static str {
        if self.on_options() {
            "options_margin.stk"
        } else {
            "perps.stk"
        }
    }
}

/// The market's address in generated files.
pub const MARKET: u128 = 0xe0;
/// The shared price feed's address (stdlib/oracle.stk) in the perps workloads.
pub const FEED: u128 = 0xfe;
/// The admin and oracle updater.
pub const ADMIN: u128 = 0xad;
/// The first trader; trader i is `TRADER + i`.
pub const TRADER: u128 = 0x1000;

/// The first keeper (liquidator); keeper i is `KEEPER + i`.
pub const KEEPER: u128 = 0x900;

fn tx_line(from: u128, call: &str, args: &[&str]) -> String {
    tx_to(MARKET, from, call, args)
}

fn tx_to(to: u128, from: u128, call: &str, args: &[&str]) -> String {
    serde_json::json!({
        "from": format!("{from:#x}"),
        "to": format!("{to:#x}"),
        "call": call,
        "args": args,
        "gas_limit": 1_000_000,
    })
    .to_string()
}

fn block_line(number: u64, timestamp: u64) -> String {
    serde_json::json!({ "block": { "number": number, "timestamp": timestamp } }).to_string()
}

/// The JSON lines of `workload`: deploy `contract` (perps or the options venue, as
/// [`Workload::on_options`] says; a path as it should appear in the file), a setup block
/// (init, a price, deposits and, for options, opening positions), then the workload's
/// block of `txs` transactions over `accounts` accounts.
pub fn generate(workload: Workload, contract: &str, txs: usize, accounts: usize) -> Vec<String> {
    let accounts = accounts.max(1);
    if workload.on_options() {
        return generate_options(workload, contract, txs, accounts);
    }
    let perps = contract;
    // The shared feed beside the market: stdlib/oracle.stk, next to perps.stk.
    let feed_file = std::path::Path::new(perps)
        .with_file_name("oracle.stk")
        .display()
        .to_string();
    let deploy_feed = serde_json::json!({ "deploy": feed_file, "address": format!("{FEED:#x}") });
    let deploy = serde_json::json!({ "deploy": perps, "address": format!("{MARKET:#x}") });
    let mut out = vec![
        deploy_feed.to_string(),
        deploy.to_string(),
        block_line(1, 1000),
    ];
    let admin = format!("{ADMIN:#x}");
    let feed = format!("{FEED:#x}");
    out.push(tx_to(FEED, ADMIN, "oracle_init", &[&admin, "3600"]));
    out.push(tx_line(
        ADMIN,
        "init",
        &[&feed, "0.1", "0.05", "0.001", "0.02", "1", "1000000"],
    ));
    out.push(tx_to(FEED, ADMIN, "set_price", &["2000", "1000"]));
    let used = match workload {
        Workload::Chain => 1,
        _ => accounts,
    };
    for i in 0..used {
        out.push(tx_line(TRADER + i as u128, "deposit", &["1000000"]));
    }
    out.push(block_line(2, 1010));
    for i in 0..txs {
        let (who, delta) = match workload {
            Workload::Chain => (0, if i.is_multiple_of(2) { "1.5" } else { "-1" }),
            Workload::HotCounter => (i % accounts, "0.25"),
            Workload::Independent
            | Workload::OracleUpdate
            | Workload::OptionsMargin
            | Workload::Liquidations => {
                let round = i / accounts;
                (
                    i % accounts,
                    if (i + round).is_multiple_of(2) {
                        "1"
                    } else {
                        "-1"
                    },
                )
            }
        };
        if workload == Workload::OracleUpdate && i == txs / 2 {
            out.push(tx_to(FEED, ADMIN, "set_price", &["2010.5", "1005"]));
        }
        out.push(tx_line(TRADER + who as u128, "trade", &[delta]));
    }
    out
}

/// Three months after the setup block.
const EXPIRY: u64 = 1000 + 90 * 86_400;

/// The option workloads on stdlib/options_margin.stk.
fn generate_options(workload: Workload, venue: &str, txs: usize, accounts: usize) -> Vec<String> {
    let deploy = serde_json::json!({ "deploy": venue, "address": format!("{MARKET:#x}") });
    let mut out = vec![deploy.to_string(), block_line(1, 1000)];
    let admin = format!("{ADMIN:#x}");
    let expiry = EXPIRY.to_string();
    out.push(tx_line(
        ADMIN,
        "init",
        &[
            &admin, "3600", "0.6", "0.05", &expiry, "0.15", "0.1", "0.05", "0.0005", "0.5",
        ],
    ));
    out.push(tx_line(ADMIN, "set_price", &["2000", "1000"]));
    let trade = |who: usize, slot: usize, strike: usize, call: bool, size: &str| {
        tx_line(
            TRADER + who as u128,
            "trade",
            &[
                &slot.to_string(),
                &strike.to_string(),
                if call { "true" } else { "false" },
                size,
            ],
        )
    };
    // Option k of an account's book (k >= 4: opened by the workload).
    let option = |who: usize, k: usize| -> (usize, bool, &'static str) {
        let strike = 1500 + 100 * ((who + k) % 10);
        let call = (who + k).is_multiple_of(2);
        let size = if k.is_multiple_of(3) { "-1" } else { "1" };
        (strike, call, size)
    };
    if workload == Workload::OptionsMargin {
        for who in 0..accounts {
            out.push(tx_line(TRADER + who as u128, "deposit", &["1000000"]));
            for k in 0..4 {
                let (strike, call, size) = option(who, k);
                out.push(trade(who, k, strike, call, size));
            }
        }
        out.push(block_line(2, 1010));
        for i in 0..txs {
            let (who, round) = (i % accounts, i / accounts);
            // Rounds open slots 4, 5, ...; every third round closes the slot the round
            // before opened.
            let (k, closing) = if round % 3 == 2 {
                (4 + (round - 1) % 12, true)
            } else {
                (4 + round % 12, false)
            };
            let (strike, call, size) = option(who, k);
            let size = match (closing, size) {
                (false, s) => s,
                (true, "1") => "-1",
                (true, _) => "1",
            };
            out.push(trade(who, k, strike, call, size));
        }
    } else {
        for who in 0..accounts {
            let margin = 250 + 100 * (who % 5);
            out.push(tx_line(
                TRADER + who as u128,
                "deposit",
                &[&margin.to_string()],
            ));
            out.push(trade(who, 0, 1900, false, "-1"));
        }
        out.push(block_line(2, 1010));
        out.push(tx_line(ADMIN, "set_price", &["1250", "1005"]));
        for i in 0..txs {
            let target = format!("{:#x}", TRADER + (i % accounts) as u128);
            out.push(tx_line(KEEPER + (i % 16) as u128, "liquidate", &[&target]));
        }
    }
    out
}
