//! The owner-sharded executor: parallel blocks from footprints, without speculation.
//!
//! Each transaction's class comes from its export's [`plan::Plan`] bound to its caller and
//! arguments, in O(owner symbols): **owned** by one key, **global** (writes only fixed,
//! non-total slots: an oracle update), or a **barrier**. The block is cut at barriers into
//! segments; each barrier runs alone, in block order, on the sequential executor. A
//! segment runs in three steps:
//!
//! 1. the global transactions run first, in block order, on a [`view::GlobalView`]; their
//!    writes become versions, which an owned transaction reads at its own block position,
//!    so it sees exactly the values block order gives it;
//! 2. owners are handed to threads largest first; a thread runs each owner's transactions
//!    in block order on its [`view::OwnedView`]: no multi-version memory, no validation.
//!    Owners never share a slot, and owned transactions never read what another
//!    transaction of the segment writes (fixed slots are written only by global ones, and
//!    totals are only added to);
//! 3. the fold proves every add to a total had the outcome block order gives it (see
//!    [`view::Total::proven`]: every delta of the segment, in any order, stays in range
//!    and under the lowest cap); then the threads' overlays, the versions and the totals'
//!    sums are committed.
//!
//! Every access is guarded against the footprint: an access outside it (a wrong plan), or
//! a fold that cannot be proven (capped adds near their cap, sums near overflow), discards
//! the segment's work, which touched nothing yet, and runs the segment again on the
//! sequential executor. Results are always the sequential executor's.

pub mod plan;
mod slots;
mod view;

use super::block::{run_in_order, BlockStats, Fallback};
use super::{Deployed, Engine, Found, Receipt, Resolver, Transaction};
use crate::interp::trace::NoTrace;
use crate::isa::{Binding, Export};
use crate::runtime::BlockEnv;
use crate::state::{Slot, StateCache, Storage};
use hashbrown::HashMap;
use plan::{Class, ExportPlan};
use slots::Slots;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use view::{GlobalView, OwnedView, Total, Versions, Worker};

/// Owners are spread over this many shards per thread; shards are handed to threads
/// largest first, so a heavy owner does not leave a thread idle at the end.
const SHARDS_PER_THREAD: usize = 8;

/// How a segment ended when it could not be committed.
enum Abandon {
    /// An access outside its transaction's footprint.
    Escape,
    /// An add to a total whose block-order outcome could not be proven.
    Totals,
}

/// A transaction's contract, export and plan, found once.
#[derive(Clone, Copy)]
struct Target<'e> {
    deployed: &'e Deployed,
    export: &'e Export,
    plan: &'e ExportPlan,
}

/// How a transaction runs, without its owner (recomputed, in O(1), by the worker).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Owned,
    Global,
    Barrier,
}

/// What the executor knows of a transaction before it runs: 16 bytes, because every
/// pass over a block of them is a pass over memory.
#[derive(Clone, Copy)]
struct Info<'e> {
    /// None: no such contract or export (it fails in its receipt, touching nothing).
    deployed: Option<&'e Deployed>,
    /// The export's index in the module.
    export: u32,
    /// The owner's shard (owned transactions).
    shard: u16,
    kind: Kind,
}

impl<'e> Info<'e> {
    fn target(&self) -> Option<Target<'e>> {
        let deployed = self.deployed?;
        let index = self.export as usize;
        Some(Target {
            deployed,
            export: deployed.module.module().exports.get(index)?,
            plan: deployed.plan.export(index)?,
        })
    }
}

/// A cheap, fixed mix of an owner and its contract to a shard (any function would do:
/// it only spreads work, never decides a result).
fn shard_of(contract: u128, owner: u128, shards: usize) -> u16 {
    let x = (owner ^ contract.rotate_left(64)) as u64 ^ ((owner >> 64) as u64);
    let h = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    ((u128::from(h) * shards as u128) >> 64) as u16
}

/// [`Info`] of each of `txs`.
fn infos<'e>(engine: &'e Engine, txs: &[Transaction], shards: usize) -> Vec<Info<'e>> {
    let mut resolver = Resolver::default();
    txs.iter()
        .map(|tx| info(resolver.find(engine, tx), tx, shards))
        .collect()
}

/// The symbols' values in `tx`.
fn binding(tx: &Transaction) -> Binding<'_> {
    Binding {
        caller: tx.caller,
        contract: tx.contract,
        args: &tx.args,
    }
}

fn info<'e>(found: Found<'e>, tx: &Transaction, shards: usize) -> Info<'e> {
    let mut info = Info {
        deployed: None,
        export: 0,
        shard: 0,
        // A call to nothing callable touches no storage: it fails in its receipt on any
        // path, so it runs with the global ones.
        kind: Kind::Global,
    };
    let Some((deployed, _, index)) = found else {
        return info;
    };
    let Some(plan) = deployed.plan.export(index) else {
        info.kind = Kind::Barrier;
        return info;
    };
    info.deployed = Some(deployed);
    info.export = index as u32;
    info.kind = match plan.class(&binding(tx)) {
        Class::Owned(owner) => {
            info.shard = shard_of(tx.contract, owner, shards);
            Kind::Owned
        }
        Class::Global => Kind::Global,
        Class::Barrier => Kind::Barrier,
    };
    info
}

/// Every transaction's [`Info`], the block cut in chunks over the threads.
fn classify<'e>(
    engine: &'e Engine,
    txs: &[Transaction],
    threads: usize,
    shards: usize,
) -> Vec<Info<'e>> {
    // A thread costs tens of microseconds to start: worth it only for a long block.
    let chunk = txs.len().div_ceil(threads.max(1)).max(8192);
    if txs.len() <= chunk {
        return infos(engine, txs, shards);
    }
    let parts: Vec<Vec<Info<'e>>> = std::thread::scope(|s| {
        let handles: Vec<_> = txs
            .chunks(chunk)
            .skip(1)
            .map(|part| {
                std::thread::Builder::new().spawn_scoped(s, move || infos(engine, part, shards))
            })
            .collect();
        let first = infos(engine, txs.chunks(chunk).next().unwrap_or(&[]), shards);
        let mut parts = vec![first];
        for (k, h) in handles.into_iter().enumerate() {
            // A thread the OS refused, or one that failed, is done here instead.
            let part = h.ok().and_then(|h| h.join().ok()).unwrap_or_else(|| {
                infos(engine, txs.chunks(chunk).nth(k + 1).unwrap_or(&[]), shards)
            });
            parts.push(part);
        }
        parts
    });
    parts.into_iter().flatten().collect()
}

/// Runs `txs` (already checked against the block limits) with the result of the
/// sequential executor, on `threads` threads (at least 1: then it runs the machinery on
/// the calling thread).
pub(crate) fn run<S: Storage + Sync>(
    engine: &Engine,
    txs: &[Transaction],
    block: &BlockEnv,
    state: &mut StateCache<S>,
    threads: usize,
    stats: &mut BlockStats,
) -> Vec<Receipt> {
    let threads = threads.max(1);
    let shards = threads.saturating_mul(SHARDS_PER_THREAD).clamp(1, 4096);
    let mut receipts = Vec::with_capacity(txs.len());
    // The block runs in order as it is classified, each transaction while it is still in
    // the cache, until a second owner appears: until then there is nothing to share out
    // (a block of barriers, or one account's chain of trades, pays no pass ahead).
    let mut first = 0;
    let mut resolver = Resolver::default();
    let mut only_owner: Option<(u128, u128)> = None;
    for tx in txs {
        let info = info(resolver.find(engine, tx), tx, shards);
        let target = info.target();
        match info.kind {
            Kind::Barrier => stats.paths.barrier += 1,
            Kind::Global => stats.paths.global += 1,
            Kind::Owned => {
                let owner = target.and_then(|t| match t.plan.class(&binding(tx)) {
                    Class::Owned(o) => Some((tx.contract, o)),
                    _ => None,
                });
                if only_owner.is_some_and(|o| Some(o) != owner) {
                    break;
                }
                only_owner = owner;
                stats.paths.owned += 1;
            }
        }
        receipts.push(match target {
            Some(t) => engine.execute_export(t.deployed, t.export, tx, block, state, &mut NoTrace),
            None => engine.execute(tx, block, state),
        });
        first += 1;
    }
    let txs = txs.get(first..).unwrap_or(&[]);
    let infos = classify(engine, txs, threads, shards);
    let mut i = 0;
    while i < txs.len() {
        let barrier = |k: usize| infos.get(k).is_some_and(|c| c.kind == Kind::Barrier);
        let start = i;
        if barrier(i) {
            while barrier(i) {
                i += 1;
            }
            let run = txs.get(start..i).unwrap_or(&[]);
            stats.paths.barrier += run.len() as u64;
            receipts.extend(run_in_order(engine, run, block, state));
            continue;
        }
        while i < txs.len() && !barrier(i) {
            i += 1;
        }
        let seg = Segment {
            engine,
            txs: txs.get(start..i).unwrap_or(&[]),
            infos: infos.get(start..i).unwrap_or(&[]),
            offset: start,
            block,
            threads,
            shards,
        };
        match seg.run(state, &mut receipts) {
            Ok((owned, global)) => {
                stats.paths.owned += owned;
                stats.paths.global += global;
            }
            Err(why) => {
                if matches!(why, Abandon::Escape) {
                    stats.escapes += 1;
                }
                stats.fallback.get_or_insert(match why {
                    Abandon::Escape => Fallback::Escape,
                    Abandon::Totals => Fallback::Totals,
                });
                stats.paths.fallback += seg.txs.len() as u64;
                receipts.extend(run_in_order(engine, seg.txs, block, state));
            }
        }
    }
    receipts
}

/// A run of transactions without a barrier, at block positions `offset..`.
struct Segment<'a, 'e> {
    engine: &'e Engine,
    txs: &'a [Transaction],
    infos: &'a [Info<'e>],
    offset: usize,
    block: &'a BlockEnv,
    threads: usize,
    shards: usize,
}

/// Owned and global transactions run, or why the segment must run again in block order.
type SegmentResult = Result<(u64, u64), Abandon>;

/// A worker's state once its shards ran.
type Finished = Worker;

impl Segment<'_, '_> {
    fn execute<T: crate::state::TxState>(
        &self,
        tx: &Transaction,
        target: Option<Target<'_>>,
        state: &mut T,
    ) -> Receipt {
        match target {
            Some(t) => self.engine.execute_export(
                t.deployed,
                t.export,
                tx,
                self.block,
                state,
                &mut NoTrace,
            ),
            None => self.engine.execute_in(tx, self.block, state),
        }
    }

    /// Runs the segment and appends its receipts to `out`; on an error nothing was
    /// committed or appended.
    fn run<S: Storage + Sync>(
        &self,
        state: &mut StateCache<S>,
        out: &mut Vec<Receipt>,
    ) -> SegmentResult {
        let (txs, infos) = (self.txs, self.infos);
        // 1. Owners, by shard, in block order.
        let mut shards: Vec<(usize, Vec<u32>)> =
            (0..self.shards).map(|s| (s, Vec::new())).collect();
        for (k, info) in infos.iter().enumerate() {
            if info.kind == Kind::Owned {
                if let Some((_, list)) = shards.get_mut(usize::from(info.shard)) {
                    list.push(k as u32);
                }
            }
        }
        let owned: u64 = shards.iter().map(|(_, g)| g.len() as u64).sum();
        let globals = txs.len() as u64 - owned;
        if shards.iter().filter(|(_, g)| !g.is_empty()).count() < 2 {
            // All owners in one shard (one owner, or none): nothing to share out; block
            // order, sequentially.
            out.extend(run_in_order(self.engine, txs, self.block, state));
            return Ok((owned, globals));
        }
        // Every receipt goes straight to its block position, from the thread that ran it;
        // on an error the placeholders are cut off again.
        let start = out.len();
        out.resize_with(start + txs.len(), placeholder);
        let result = self.run_shared(
            state,
            &mut shards,
            out.get_mut(start..).unwrap_or(&mut []),
            owned,
        );
        if result.is_err() {
            out.truncate(start);
        }
        result.map(|()| (owned, globals))
    }

    /// [`Segment::run`] once owned transactions are in `shards` and `out` holds one
    /// placeholder per transaction.
    fn run_shared<S: Storage + Sync>(
        &self,
        state: &mut StateCache<S>,
        shards: &mut Vec<(usize, Vec<u32>)>,
        out: &mut [Receipt],
        owned: u64,
    ) -> Result<(), Abandon> {
        let (txs, infos) = (self.txs, self.infos);
        let slots = Slots::new(out);
        // 2. Global transactions, in block order.
        let mut versions = Versions::default();
        {
            let mut view = GlobalView::new(self.engine, state, &mut versions);
            for (k, (tx, info)) in txs.iter().zip(infos).enumerate() {
                if info.kind != Kind::Global {
                    continue;
                }
                let target = info.target();
                view.next(
                    (self.offset + k) as u32,
                    tx.contract,
                    target.map(|t| t.plan),
                );
                let receipt = self.execute(tx, target, &mut view);
                if view.escaped.is_some() || slots.put(k, receipt).is_err() {
                    return Err(Abandon::Escape);
                }
            }
        }
        // 3. Shards, largest first.
        shards.retain(|(_, g)| !g.is_empty());
        shards.sort_by_key(|(_, g)| std::cmp::Reverse(g.len()));
        let next = AtomicUsize::new(0);
        let escaped = AtomicBool::new(false);
        let done: Mutex<Vec<Finished>> = Mutex::new(Vec::new());
        let base: &StateCache<S> = state;
        let per_worker = (owned as usize / self.threads.max(1)).saturating_add(64);
        let work = || {
            let mut worker = Worker::with_capacity(per_worker);
            'shards: loop {
                let g = next.fetch_add(1, Ordering::Relaxed);
                let Some((_, list)) = shards.get(g) else {
                    break;
                };
                for &k in list {
                    if escaped.load(Ordering::Relaxed) {
                        break 'shards;
                    }
                    let k = k as usize;
                    let (Some(tx), Some(info)) = (txs.get(k), infos.get(k)) else {
                        continue;
                    };
                    let Some(target) = info.target() else {
                        continue;
                    };
                    let Class::Owned(owner) = target.plan.class(&binding(tx)) else {
                        continue;
                    };
                    let mut view = OwnedView {
                        engine: self.engine,
                        base,
                        versions: &versions,
                        worker: &mut worker,
                        plan: target.plan,
                        contract: tx.contract,
                        owner,
                        tx: (self.offset + k) as u32,
                        escaped: None,
                    };
                    let receipt = self.execute(tx, Some(target), &mut view);
                    if view.escaped.is_some() || slots.put(k, receipt).is_err() {
                        escaped.store(true, Ordering::Relaxed);
                        break 'shards;
                    }
                }
            }
            if let Ok(mut d) = done.lock() {
                d.push(worker);
            }
        };
        let helpers = self.threads.clamp(1, shards.len().max(1)) - 1;
        std::thread::scope(|s| {
            for _ in 0..helpers {
                // A failed spawn (the OS refused a thread) just means fewer helpers.
                if std::thread::Builder::new().spawn_scoped(s, work).is_err() {
                    break;
                }
            }
            work();
        });
        if escaped.load(Ordering::Relaxed) {
            return Err(Abandon::Escape);
        }
        let done = done.into_inner().unwrap_or_else(|p| p.into_inner());
        // 4. The fold: every total's adds proven for block order.
        let mut totals: HashMap<Slot, (i128, Total)> = HashMap::new();
        for w in &done {
            for (slot, start, t) in &w.totals {
                totals
                    .entry(*slot)
                    .or_insert((*start, Total::default()))
                    .1
                    .merge(t);
            }
        }
        if totals.values().any(|(start, t)| !t.proven(*start)) {
            return Err(Abandon::Totals);
        }
        if !slots.all_written() {
            // Impossible (every transaction ran exactly once); never commit half.
            return Err(Abandon::Escape);
        }
        let overlays: Vec<_> = done.into_iter().map(|w| (w.overlay, w.dirty)).collect();
        // Commit: owners' slots, the globals' last values, the totals' sums. The three
        // sets are disjoint (see the plan), so the order does not matter.
        state.reserve(overlays.iter().map(|(_, d)| d.len()).sum());
        for (overlay, dirty) in overlays {
            for slot in dirty {
                let Some(cell) = overlay.get(&slot).filter(|c| c.dirty) else {
                    continue;
                };
                // The view read the slot from the starting state, so storage need not be
                // asked again; a slot only written asks storage (which answers: a failure
                // would leave the slot as it was).
                let _ = match cell.original {
                    Some(original) => {
                        state.put_known(slot, original, cell.value);
                        Ok(())
                    }
                    None => state.put(slot, cell.value),
                };
            }
        }
        for (slot, value) in versions.finals() {
            let _ = state.put(slot, value);
        }
        for (slot, (_, t)) in totals {
            if t.committed != 0 {
                let _ = state.put_add(slot, t.committed);
            }
        }
        Ok(())
    }
}

/// What a receipt slot holds until its transaction's receipt replaces it (no heap).
fn placeholder() -> Receipt {
    Receipt {
        status: super::Status::Ok,
        returns: Vec::new(),
        gas_used: 0,
        events: Vec::new(),
        error: None,
    }
}
