//! How each export of a deployed contract takes part in a sharded block, decided once at
//! deployment from the module's footprints (`crate::isa::footprint`).
//!
//! Storage spaces fall in two kinds, by how the module's exports key them:
//! - *keyed* spaces, keyed only by the caller or an argument: slot `(space, k)` belongs to
//!   owner `k`;
//! - *fixed* spaces, keyed only by constants: market parameters, prices, totals.
//!
//! A space keyed both ways is *mixed*: an owner's key could name a fixed slot. A fixed
//! slot that some export adds to (SADD, SADDCAP) is a *total*. Exports with an unknown
//! key (or one keyed by the contract's own address) are barriers, which always run alone,
//! so their accesses do not shape the spaces.
//!
//! An export is:
//! - **owned** when every keyed access uses the same owner once bound (the caller, or an
//!   argument: checked per transaction), it stores no fixed slot, and it reads fixed slots
//!   that are not totals; it may add to totals;
//! - **global** when it touches only fixed slots that are not totals, and adds nothing
//!   (an oracle update, a parameter change);
//! - a **barrier** otherwise: an unknown key, a mixed space, a call cycle, a read or a
//!   store of a total, keyed and fixed stores together.

use crate::isa::{Access, Binding, Footprint, Key, StorageOp, VerifiedModule};
use crate::state::Slot;
use hashbrown::HashMap;

/// Why an export cannot run on the owned or global path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarrierReason {
    /// Its footprint has an unknown key, or it lies on a call cycle.
    Unknown,
    /// It touches a space keyed both by owners and by constants.
    Mixed,
    /// It reads or stores a total (a slot other transactions add to).
    ReadsTotal,
    /// It stores both keyed and fixed slots.
    KeyedAndFixed,
}

/// An export's class, before binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Template {
    /// Owned by the value its keyed accesses' symbols bind to (all must agree).
    Owned {
        /// The distinct symbols keying its keyed accesses (none: it touches only fixed
        /// slots, reading parameters and adding to totals).
        owners: Vec<Key>,
    },
    /// Touches only non-total fixed slots, and stores some.
    Global,
    /// Runs in block order with nothing beside it.
    Barrier(BarrierReason),
}

impl std::fmt::Display for Template {
    /// The class as `strike footprint` and spec/footprints.md show it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Template::Owned { owners } if owners.is_empty() => write!(f, "owned (no owner key)"),
            Template::Owned { owners } => {
                let names: Vec<String> = owners.iter().map(|k| k.to_string()).collect();
                write!(f, "owned by {}", names.join(" = "))
            }
            Template::Global => write!(f, "global"),
            Template::Barrier(why) => write!(
                f,
                "barrier ({})",
                match why {
                    BarrierReason::Unknown => "an unknown key or a call cycle",
                    BarrierReason::Mixed => "a space keyed both by owners and by constants",
                    BarrierReason::ReadsTotal => "it reads or stores a total",
                    BarrierReason::KeyedAndFixed => "it stores keyed and fixed slots",
                }
            ),
        }
    }
}

/// What an export may touch in one space, for the run-time guard: the operations it may
/// apply to its owner's slot there, and per constant key the operations on that slot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpaceRule {
    /// Bit `op as u8` set: the operation is allowed on `(space, owner)`.
    pub owner_ops: u8,
    /// Constant keys with the operations allowed on them.
    pub fixed: Vec<(u128, u8)>,
}

/// One export's plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportPlan {
    /// Its class.
    pub template: Template,
    /// What it may touch per space, for the guard of owned and global transactions:
    /// indexed by space below [`DENSE_SPACES`] (the compiler numbers spaces from 0), then
    /// sorted by space, so the table is never larger than the export's accesses allow.
    dense: Vec<SpaceRule>,
    sparse: Vec<(u32, SpaceRule)>,
    /// It calls other contracts through view imports: its loads of their slots are
    /// allowed where their plans say no concurrent transaction can change the slot.
    pub calls_view: bool,
}

/// A contract's plan: one per export.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// By export index in the module.
    exports: Vec<ExportPlan>,
    /// The fixed slots (space, key) that a view call from another contract may read while
    /// this contract's transactions run beside it: keyed by a constant in a space no
    /// export keys by an owner, and not a total. Only global transactions store them
    /// (their writes are versioned by block position) and barriers (which run alone).
    readable: Vec<(u32, u128)>,
}

fn bit(op: StorageOp) -> u8 {
    1 << (op as u8)
}

impl Plan {
    /// The plan of `module`'s exports, from the footprints the VM derived.
    pub fn new(module: &VerifiedModule) -> Plan {
        Plan::from_footprints(module, module.footprints())
    }

    /// The plan of `module`'s exports from `footprints` (one per function). Only tests
    /// pass anything but the derived ones: a wrong footprint must be caught by the guard
    /// at run time, never trusted.
    pub fn from_footprints(module: &VerifiedModule, footprints: &[Footprint]) -> Plan {
        let opaque = Footprint {
            accesses: Vec::new(),
            opaque: true,
            calls_view: false,
        };
        let footprints: Vec<&Footprint> = module
            .module()
            .exports
            .iter()
            .map(|e| footprints.get(e.function as usize).unwrap_or(&opaque))
            .collect();
        // Only exports that can run beside others shape the spaces: one with an unknown
        // key is a barrier, always alone, so its accesses never meet a concurrent one.
        let mut keyed: HashMap<u32, ()> = HashMap::new();
        let mut fixed: HashMap<u32, ()> = HashMap::new();
        let mut totals: Vec<(u32, i128)> = Vec::new();
        for fp in footprints.iter().filter(|fp| fp.is_known()) {
            for a in &fp.accesses {
                match a.key {
                    Key::Caller | Key::Arg(_) => keyed.insert(a.space, ()),
                    Key::Const(c) => {
                        if matches!(a.op, StorageOp::Add | StorageOp::AddCapped) {
                            totals.push((a.space, c));
                        }
                        fixed.insert(a.space, ())
                    }
                    Key::Contract | Key::Any => None,
                };
            }
        }
        totals.sort_unstable();
        totals.dedup();
        let mixed = |s: u32| keyed.contains_key(&s) && fixed.contains_key(&s);
        let mut readable: Vec<(u32, u128)> = footprints
            .iter()
            .filter(|fp| fp.is_known())
            .flat_map(|fp| &fp.accesses)
            .filter_map(|a| match a.key {
                Key::Const(c)
                    if !mixed(a.space) && totals.binary_search(&(a.space, c)).is_err() =>
                {
                    Some((a.space, c as u128))
                }
                _ => None,
            })
            .collect();
        readable.sort_unstable();
        readable.dedup();
        let exports = footprints
            .iter()
            .map(|fp| {
                let template = classify(fp, &mixed, &totals);
                let mut rules = ExportPlan {
                    template,
                    dense: Vec::new(),
                    sparse: Vec::new(),
                    calls_view: fp.calls_view,
                };
                if fp.opaque {
                    return rules;
                }
                for a in &fp.accesses {
                    let Some(rule) = rules.rule_mut(a.space) else {
                        continue;
                    };
                    match a.key {
                        Key::Caller | Key::Arg(_) => rule.owner_ops |= bit(a.op),
                        Key::Const(c) => {
                            let key = c as u128;
                            match rule.fixed.iter_mut().find(|(k, _)| *k == key) {
                                Some((_, ops)) => *ops |= bit(a.op),
                                None => rule.fixed.push((key, bit(a.op))),
                            }
                        }
                        Key::Contract | Key::Any => {}
                    }
                }
                rules
            })
            .collect();
        Plan { exports, readable }
    }

    /// Whether a view call from another contract may read `(space, key)` of this one
    /// beside this contract's transactions (see [`Plan`]'s `readable`).
    pub fn readable(&self, space: u32, key: u128) -> bool {
        self.readable.binary_search(&(space, key)).is_ok()
    }

    /// The plan of the module's export with this index.
    pub fn export(&self, index: usize) -> Option<&ExportPlan> {
        self.exports.get(index)
    }
}

/// Spaces below this have their rule found by index; others by binary search. The
/// compiler numbers a contract's spaces from 0, so real contracts stay below it, and a
/// hostile module with large space numbers costs memory only in proportion to its code.
pub const DENSE_SPACES: u32 = 64;

fn classify(fp: &Footprint, mixed: &impl Fn(u32) -> bool, totals: &[(u32, i128)]) -> Template {
    let contract_key = fp.accesses.iter().any(|a| a.key == Key::Contract);
    if !fp.is_known() || contract_key {
        return Template::Barrier(BarrierReason::Unknown);
    }
    if fp.accesses.iter().any(|a| mixed(a.space)) {
        return Template::Barrier(BarrierReason::Mixed);
    }
    let is_total = |a: &Access| match a.key {
        Key::Const(c) => totals.binary_search(&(a.space, c)).is_ok(),
        _ => false,
    };
    let is_add = |a: &Access| matches!(a.op, StorageOp::Add | StorageOp::AddCapped);
    if fp.accesses.iter().any(|a| is_total(a) && !is_add(a)) {
        return Template::Barrier(BarrierReason::ReadsTotal);
    }
    let keyed = |a: &&Access| matches!(a.key, Key::Caller | Key::Arg(_));
    let fixed_store = fp
        .accesses
        .iter()
        .any(|a| !keyed(&a) && a.op == StorageOp::Store);
    let any_keyed = fp.accesses.iter().any(|a| keyed(&a));
    let any_add = fp.accesses.iter().any(is_add);
    if fixed_store {
        if any_keyed {
            return Template::Barrier(BarrierReason::KeyedAndFixed);
        }
        if any_add {
            // A global writer that also adds: its adds would need ordering against the
            // owned transactions' (rare: keep it simple and exact).
            return Template::Barrier(BarrierReason::ReadsTotal);
        }
        return Template::Global;
    }
    let mut owners: Vec<Key> = fp.accesses.iter().filter(keyed).map(|a| a.key).collect();
    owners.sort_unstable();
    owners.dedup();
    Template::Owned { owners }
}

/// How one transaction runs in a sharded block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// With its owner's other transactions, in block order, beside other owners.
    Owned(u128),
    /// Before the owned transactions, in block order among the global ones; owned
    /// transactions read its writes at their block position.
    Global,
    /// Alone, in block order.
    Barrier,
}

impl ExportPlan {
    /// The rule for `space`, if the export touches it.
    #[inline]
    pub fn rule(&self, space: u32) -> Option<&SpaceRule> {
        if space < DENSE_SPACES {
            return self.dense.get(space as usize);
        }
        self.sparse
            .binary_search_by_key(&space, |(s, _)| *s)
            .ok()
            .and_then(|i| self.sparse.get(i))
            .map(|(_, r)| r)
    }

    fn rule_mut(&mut self, space: u32) -> Option<&mut SpaceRule> {
        if space < DENSE_SPACES {
            let i = space as usize;
            if self.dense.len() <= i {
                self.dense.resize(i + 1, SpaceRule::default());
            }
            return self.dense.get_mut(i);
        }
        let i = match self.sparse.binary_search_by_key(&space, |(s, _)| *s) {
            Ok(i) => i,
            Err(i) => {
                self.sparse.insert(i, (space, SpaceRule::default()));
                i
            }
        };
        self.sparse.get_mut(i).map(|(_, r)| r)
    }

    /// The class of a call bound to `binding`: O(number of owner symbols).
    pub fn class(&self, binding: &Binding<'_>) -> Class {
        match &self.template {
            Template::Global => Class::Global,
            Template::Barrier(_) => Class::Barrier,
            Template::Owned { owners } => {
                let mut owner = None;
                for &k in owners {
                    match (binding.key(k), owner) {
                        (None, _) => return Class::Barrier,
                        (Some(v), None) => owner = Some(v),
                        (Some(v), Some(o)) if v != o => return Class::Barrier,
                        _ => {}
                    }
                }
                Class::Owned(owner.unwrap_or(binding.caller))
            }
        }
    }

    /// The guard: whether `op` on `slot` is inside this export's footprint for a
    /// transaction of `owner` (None for a global one) on `contract`.
    #[inline]
    pub fn allows(&self, op: StorageOp, slot: Slot, contract: u128, owner: Option<u128>) -> bool {
        if slot.contract != contract {
            return false;
        }
        let Some(rule) = self.rule(slot.space) else {
            return false;
        };
        let b = bit(op);
        if owner == Some(slot.key) && rule.owner_ops & b != 0 {
            return true;
        }
        rule.fixed
            .iter()
            .any(|&(k, ops)| k == slot.key && ops & b != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::{assemble, Limits};

    /// A space number far past the compiler's costs no table that large, and the guard
    /// still finds its rule.
    #[test]
    fn large_space_numbers_use_the_sparse_rules() {
        let m = assemble(
            ".func f() -> () regs 2 export\n\
             CALLER r0\n\
             SLOAD r1, r0, 2000000000\n\
             SSTORE r0, r1, 2000000000\n\
             SSTORE r0, r1, 3\n\
             RET r0, 0\n",
        )
        .expect("assembles");
        let v = VerifiedModule::new(m, &Limits::default()).expect("verifies");
        let plan = Plan::new(&v);
        let p = plan.export(0).expect("one export");
        assert_eq!(
            p.template,
            Template::Owned {
                owners: vec![Key::Caller]
            }
        );
        assert!(p.dense.len() <= DENSE_SPACES as usize && p.sparse.len() == 1);
        let slot = |space, key| Slot {
            contract: 9,
            space,
            key,
        };
        assert!(p.allows(StorageOp::Store, slot(2_000_000_000, 5), 9, Some(5)));
        assert!(p.allows(StorageOp::Load, slot(2_000_000_000, 5), 9, Some(5)));
        assert!(!p.allows(StorageOp::Add, slot(2_000_000_000, 5), 9, Some(5)));
        assert!(!p.allows(StorageOp::Store, slot(2_000_000_000, 6), 9, Some(5)));
        assert!(!p.allows(StorageOp::Store, slot(1_999_999_999, 5), 9, Some(5)));
        assert!(p.allows(StorageOp::Store, slot(3, 5), 9, Some(5)));
    }
}
