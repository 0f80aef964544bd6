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
mod view;

use super::block::{run_in_order, BlockStats, Fallback};
use super::{Deployed, Engine, Receipt, Transaction};
use crate::interp::trace::NoTrace;
use crate::isa::{Binding, Export};
use crate::runtime::BlockEnv;
use crate::state::{Slot, StateCache, Storage};
use hashbrown::HashMap;
use plan::{Class, ExportPlan};
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

/// What the executor knows of a transaction before it runs.
#[derive(Clone, Copy)]
struct Info<'e> {
    class: Class,
    /// The owner's shard (owned transactions).
    shard: u32,
    /// None: no such contract or export (it fails in its receipt, touching nothing).
    target: Option<Target<'e>>,
}

/// A cheap, fixed mix of an owner and its contract to a shard (any function would do:
/// it only spreads work, never decides a result).
fn shard_of(contract: u128, owner: u128, shards: usize) -> u32 {
    let x = (owner ^ contract.rotate_left(64)) as u64 ^ ((owner >> 64) as u64);
    let h = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    ((u128::from(h) * shards as u128) >> 64) as u32
}

fn info<'e>(engine: &'e Engine, tx: &Transaction, shards: usize) -> Info<'e> {
    let Some((deployed, export, index)) = engine.resolve(tx) else {
        // A call to nothing callable touches no storage: it fails in its receipt on any
        // path, so it runs with the global ones.
        return Info {
            class: Class::Global,
            shard: 0,
            target: None,
        };
    };
    let Some(plan) = deployed.plan.export(index) else {
        return Info {
            class: Class::Barrier,
            shard: 0,
            target: None,
        };
    };
    let binding = Binding {
        caller: tx.caller,
        contract: tx.contract,
        args: &tx.args,
    };
    let class = plan.class(&binding);
    let shard = match class {
        Class::Owned(owner) => shard_of(tx.contract, owner, shards),
        _ => 0,
    };
    Info {
        class,
        shard,
        target: Some(Target {
            deployed,
            export,
            plan,
        }),
    }
}

/// Every transaction's [`Info`], the block cut in chunks over the threads.
fn classify<'e>(
    engine: &'e Engine,
    txs: &[Transaction],
    threads: usize,
    shards: usize,
) -> Vec<Info<'e>> {
    let chunk = txs.len().div_ceil(threads.max(1)).max(1024);
    if txs.len() <= chunk {
        return txs.iter().map(|tx| info(engine, tx, shards)).collect();
    }
    let parts: Vec<Vec<Info<'e>>> = std::thread::scope(|s| {
        let handles: Vec<_> = txs
            .chunks(chunk)
            .skip(1)
            .map(|part| {
                std::thread::Builder::new().spawn_scoped(s, move || {
                    part.iter()
                        .map(|tx| info(engine, tx, shards))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let first = txs
            .chunks(chunk)
            .next()
            .unwrap_or(&[])
            .iter()
            .map(|tx| info(engine, tx, shards))
            .collect();
        let mut parts = vec![first];
        for (k, h) in handles.into_iter().enumerate() {
            // A thread the OS refused, or one that failed, is done here instead.
            let part = h.ok().and_then(|h| h.join().ok()).unwrap_or_else(|| {
                txs.chunks(chunk)
                    .nth(k + 1)
                    .unwrap_or(&[])
                    .iter()
                    .map(|tx| info(engine, tx, shards))
                    .collect()
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
    let infos = classify(engine, txs, threads, shards);
    let mut receipts = Vec::with_capacity(txs.len());
    let mut i = 0;
    while i < txs.len() {
        let barrier = |k: usize| infos.get(k).is_some_and(|c| c.class == Class::Barrier);
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
        match seg.run(state) {
            Ok((r, owned, global)) => {
                stats.paths.owned += owned;
                stats.paths.global += global;
                receipts.extend(r);
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

type SegmentResult = Result<(Vec<Receipt>, u64, u64), Abandon>;

/// A worker's state and its receipts, by position in the segment.
type Finished = (Worker, Vec<(u32, Receipt)>);

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

    fn run<S: Storage + Sync>(&self, state: &mut StateCache<S>) -> SegmentResult {
        let (txs, infos) = (self.txs, self.infos);
        // 1. Owners, by shard, in block order.
        let mut shards: Vec<Vec<u32>> = vec![Vec::new(); self.shards];
        let mut owners_seen: Option<(u128, u128)> = None;
        let mut several = false;
        for (k, (tx, info)) in txs.iter().zip(infos).enumerate() {
            if let Class::Owned(owner) = info.class {
                if let Some(list) = shards.get_mut(info.shard as usize) {
                    list.push(k as u32);
                }
                match owners_seen {
                    None => owners_seen = Some((tx.contract, owner)),
                    Some(o) => several |= o != (tx.contract, owner),
                }
            }
        }
        let owned: u64 = shards.iter().map(|g| g.len() as u64).sum();
        let globals = txs.len() as u64 - owned;
        if !several {
            // One owner (or none): nothing to share out; block order, sequentially.
            let r = run_in_order(self.engine, txs, self.block, state);
            return Ok((r, owned, globals));
        }
        let mut slots: Vec<Option<Receipt>> = Vec::new();
        slots.resize_with(txs.len(), || None);
        // 2. Global transactions, in block order.
        let mut versions = Versions::default();
        {
            let mut view = GlobalView::new(state, &mut versions);
            for (k, (tx, info)) in txs.iter().zip(infos).enumerate() {
                if info.class != Class::Global {
                    continue;
                }
                view.next(
                    (self.offset + k) as u32,
                    tx.contract,
                    info.target.map(|t| t.plan),
                );
                let receipt = self.execute(tx, info.target, &mut view);
                if view.escaped.is_some() {
                    return Err(Abandon::Escape);
                }
                if let Some(s) = slots.get_mut(k) {
                    *s = Some(receipt);
                }
            }
        }
        // 3. Shards, largest first.
        shards.retain(|g| !g.is_empty());
        shards.sort_by_key(|g| std::cmp::Reverse(g.len()));
        let next = AtomicUsize::new(0);
        let escaped = AtomicBool::new(false);
        let done: Mutex<Vec<Finished>> = Mutex::new(Vec::new());
        let base: &StateCache<S> = state;
        let per_thread = (owned as usize / self.threads.max(1)).saturating_add(16);
        let work = || {
            let mut worker = Worker::default();
            let mut out: Vec<(u32, Receipt)> = Vec::with_capacity(per_thread);
            'shards: loop {
                let g = next.fetch_add(1, Ordering::Relaxed);
                let Some(list) = shards.get(g) else { break };
                for &k in list {
                    if escaped.load(Ordering::Relaxed) {
                        break 'shards;
                    }
                    let k = k as usize;
                    let (Some(tx), Some(info)) = (txs.get(k), infos.get(k)) else {
                        continue;
                    };
                    let (Class::Owned(owner), Some(target)) = (info.class, info.target) else {
                        continue;
                    };
                    let mut view = OwnedView {
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
                    if view.escaped.is_some() {
                        escaped.store(true, Ordering::Relaxed);
                        break 'shards;
                    }
                    out.push((k as u32, receipt));
                }
            }
            if let Ok(mut d) = done.lock() {
                d.push((worker, out));
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
        for (w, _) in &done {
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
        // Commit: owners' slots, the globals' last values, the totals' sums. The three
        // sets are disjoint (see the plan), so the order does not matter.
        let mut overlays = Vec::with_capacity(done.len());
        for (w, out) in done {
            for (k, r) in out {
                if let Some(s) = slots.get_mut(k as usize) {
                    *s = Some(r);
                }
            }
            overlays.push(w.overlay);
        }
        let receipts: Vec<Receipt> = slots
            .into_iter()
            .collect::<Option<_>>()
            .ok_or(Abandon::Escape)?;
        state.reserve(overlays.iter().map(|o| o.len()).sum());
        for overlay in overlays {
            for (slot, cell) in overlay {
                // Storage already answered these slots (read by the view), so a failure
                // is impossible; it would leave the slot as it was.
                if cell.dirty {
                    let _ = state.put(slot, cell.value);
                }
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
        Ok((receipts, owned, globals))
    }
}
