//! Calls between deployed contracts (XCALL through interfaces) and structs, end to end:
//! compiled from source, run on the interpreter and on the JIT, which must give the same
//! receipts bit for bit. Every rule of `Runtime::call_contract` is exercised: one gas
//! meter, the depth limit, re-entrancy refused, view calls that cannot write, missing
//! contracts and exports, signatures checked when the call runs, a callee's failure
//! failing the whole transaction with the call path, and its revert message.

use strike_lang::{compile, Options};
use strike_vm::exec::{Engine, Mode, Receipt, Status, Transaction};
use strike_vm::isa::{assemble, VerifiedModule};
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, StateCache};

const FEED: u128 = 0xfeed;
const MARKET: u128 = 0x3a7;
const ALICE: u128 = 0xa11ce;

const FEED_SRC: &str = r#"
interface Market {
    fn open(size: fx) -> fx;
}
storage last: fx;
event Set(price: fx);

pub fn set(p: fx) {
    require(p > 0.0, 7, "price must be positive");
    last = p;
    emit Set(p);
}

pub fn price() -> fx {
    return last;
}

/// Calls back into the market that called it: re-entrancy, refused by the VM.
pub fn reenter(market: address) -> fx {
    return Market(market).open(1.0);
}

/// Recursion inside one contract is frames, not contract calls: allowed.
pub fn depth(n: int) -> int {
    if n == 0 {
        return 0;
    }
    return depth(n - 1) + 1;
}
"#;

const MARKET_SRC: &str = r#"
interface Feed {
    view fn price() -> fx;
    fn set(p: fx);
    view fn set_in_view(p: fx);
    fn reenter(market: address) -> fx;
    fn missing() -> fx;
    fn depth(n: int) -> int;
}
interface WrongFeed {
    fn price() -> int;
}
struct Position {
    size: fx,
    entry: fx,
}
storage feed: address;
storage positions: map<address, Position>;
storage opened: int;
event Opened(who: address, size: fx, at: fx);

pub fn init(f: address) {
    feed = f;
}

pub fn open(size: fx) -> fx {
    require(size > 0.0, 1, "size must be positive");
    let p = Feed(feed).price();
    positions[caller()].size += size;
    positions[caller()].entry = p;
    opened += 1;
    emit Opened(caller(), size, p);
    return p;
}

pub fn position(who: address) -> Position {
    return positions[who];
}

pub fn notional(who: address) -> fx {
    let pos = positions[who];
    return pos.size * pos.entry;
}

pub fn set_position(who: address, pos: Position) {
    positions[who] = pos;
}

pub fn shifted(who: address, by: fx) -> Position {
    let mut pos = positions[who];
    pos.entry = pos.entry + by;
    return pos;
}

pub fn built(a: fx, b: fx) -> fx {
    let p = Position(a, b);
    return p.size - p.entry;
}

/// Writes, then sets the feed: a feed revert undoes this write too.
pub fn write_then_set(p: fx) {
    opened += 100;
    Feed(feed).set(p);
}

pub fn set_in_view(p: fx) {
    Feed(feed).set_in_view(p);
}

pub fn reenter() -> fx {
    return Feed(feed).reenter(self_address());
}

pub fn missing() -> fx {
    return Feed(feed).missing();
}

pub fn wrong_type() -> int {
    return WrongFeed(feed).price();
}

pub fn nobody(at: address) -> fx {
    return Feed(at).price();
}

pub fn deep(n: int) -> int {
    return Feed(feed).depth(n);
}
"#;

fn module(src: &str) -> VerifiedModule {
    compile(src, Options::default()).unwrap_or_else(|d| panic!("{d:?}"))
}

/// The two contracts on an engine of `mode` (the feed's `set_in_view` export is its
/// `set`, so a view import of a writing function can be tried).
fn engine(mode: Mode) -> Engine {
    let mut e = Engine::new();
    e.set_mode(mode);
    let feed = FEED_SRC.replace(
        "pub fn price() -> fx {",
        "pub fn set_in_view(p: fx) {\n    last = p;\n}\n\npub fn price() -> fx {",
    );
    e.deploy(FEED, module(&feed));
    e.deploy(MARKET, module(MARKET_SRC));
    e
}

struct Run {
    engine: Engine,
    state: StateCache<MemoryStorage>,
}

impl Run {
    fn new(mode: Mode) -> Run {
        let mut r = Run {
            engine: engine(mode),
            state: StateCache::new(MemoryStorage::new()),
        };
        assert_eq!(r.call(MARKET, "init", &[FEED as i128]).status, Status::Ok);
        assert_eq!(r.call(FEED, "set", &[fx("101.5")]).status, Status::Ok);
        r
    }

    fn call_from(&mut self, from: u128, to: u128, f: &str, args: &[i128]) -> Receipt {
        let tx = Transaction {
            caller: from,
            contract: to,
            function: f.into(),
            args: args.to_vec(),
            gas_limit: 1_000_000,
        };
        self.engine
            .execute(&tx, &BlockEnv::default(), &mut self.state)
    }

    fn call(&mut self, to: u128, f: &str, args: &[i128]) -> Receipt {
        self.call_from(ALICE, to, f, args)
    }
}

/// The fx bits of decimal `x`.
fn fx(x: &str) -> i128 {
    strike_tests::fx_text(x).to_bits()
}

/// Runs `script` on the interpreter and on the JIT; the receipts must be identical.
fn both(script: impl Fn(&mut Run) -> Vec<Receipt>) -> Vec<Receipt> {
    let interp = script(&mut Run::new(Mode::Interp));
    let jit = script(&mut Run::new(Mode::Jit));
    assert_eq!(interp, jit, "the interpreter and the JIT differ");
    interp
}

fn code(r: &Receipt) -> Option<u32> {
    r.error.as_ref().map(|e| e.code)
}

#[test]
fn a_market_reads_a_shared_feed_and_stores_a_struct() {
    let rs = both(|r| {
        vec![
            r.call(MARKET, "open", &[fx("2.5")]),
            r.call(MARKET, "open", &[fx("0.5")]),
            r.call(MARKET, "position", &[ALICE as i128]),
            r.call(MARKET, "notional", &[ALICE as i128]),
            r.call(MARKET, "shifted", &[ALICE as i128, fx("0.5")]),
            r.call(MARKET, "built", &[fx("3.0"), fx("1.0")]),
            r.call(MARKET, "set_position", &[7, fx("1.0"), fx("2.0")]),
            r.call(MARKET, "position", &[7]),
        ]
    });
    assert_eq!(rs[0].returns, vec![fx("101.5")]);
    assert_eq!(rs[0].events.len(), 1);
    assert_eq!(rs[0].events[0].contract, MARKET);
    assert_eq!(
        rs[0].events[0].values,
        vec![ALICE as i128, fx("2.5"), fx("101.5")]
    );
    assert_eq!(
        rs[2].returns,
        vec![fx("3.0"), fx("101.5")],
        "size added, entry set"
    );
    assert_eq!(rs[3].returns, vec![fx("304.5")]);
    assert_eq!(rs[4].returns, vec![fx("3.0"), fx("102.0")]);
    assert_eq!(rs[5].returns, vec![fx("2.0")]);
    assert_eq!(rs[7].returns, vec![fx("1.0"), fx("2.0")]);
}

#[test]
fn a_callee_revert_fails_the_whole_transaction_with_its_message_and_path() {
    let rs = both(|r| {
        vec![
            r.call(MARKET, "write_then_set", &[0]),
            // The market's own write was undone with the feed's revert.
            r.call(MARKET, "write_then_set", &[fx("3.0")]),
            r.call(FEED, "price", &[]),
        ]
    });
    let e = rs[0].error.as_ref().expect("an error");
    assert_eq!((rs[0].status, e.code), (Status::Revert, 7));
    assert_eq!(e.message, "price must be positive");
    let path: Vec<(u128, &str)> = e
        .path
        .iter()
        .map(|f| (f.contract, f.function.as_str()))
        .collect();
    assert_eq!(path, vec![(MARKET, "write_then_set"), (FEED, "set")]);
    assert!(rs[0].events.is_empty());
    // The second call's events: the feed's, by the feed.
    assert_eq!(rs[1].events.len(), 1);
    assert_eq!(rs[1].events[0].contract, FEED);
    assert_eq!(rs[2].returns, vec![fx("3.0")]);
    // The market's own revert: its own message, a path of one.
    let own = both(|r| vec![r.call(MARKET, "open", &[0])]);
    let e = own[0].error.as_ref().expect("an error");
    assert_eq!((e.code, e.message.as_str()), (1, "size must be positive"));
    assert_eq!(e.path.len(), 1);
}

#[test]
fn reentrancy_is_refused_and_recursion_inside_a_contract_is_not() {
    let rs = both(|r| {
        vec![
            r.call(MARKET, "reenter", &[]),
            r.call(MARKET, "deep", &[50]),
        ]
    });
    assert_eq!((rs[0].status, code(&rs[0])), (Status::Error, Some(23)));
    let e = rs[0].error.as_ref().expect("error");
    assert!(e.message.contains("re-entrancy"), "{}", e.message);
    assert_eq!(
        e.path.iter().map(|f| f.contract).collect::<Vec<_>>(),
        vec![MARKET, FEED]
    );
    assert_eq!(rs[1].returns, vec![50]);
}

#[test]
fn view_calls_cannot_write_and_signatures_are_checked_when_the_call_runs() {
    let rs = both(|r| {
        vec![
            r.call(MARKET, "set_in_view", &[fx("1.0")]),
            r.call(MARKET, "missing", &[]),
            r.call(MARKET, "wrong_type", &[]),
            r.call(MARKET, "nobody", &[0x404]),
            r.call(MARKET, "nobody", &[MARKET as i128]),
        ]
    });
    assert_eq!(code(&rs[0]), Some(27), "{:?}", rs[0].error);
    assert_eq!(code(&rs[1]), Some(25), "{:?}", rs[1].error);
    assert_eq!(code(&rs[2]), Some(26), "{:?}", rs[2].error);
    let m = &rs[2].error.as_ref().expect("error").message;
    assert!(m.contains("() -> (fx)") && m.contains("() -> (int)"), "{m}");
    assert_eq!(code(&rs[3]), Some(14), "{:?}", rs[3].error);
    assert_eq!(code(&rs[4]), Some(23), "calling yourself is re-entry");
}

/// A chain of contracts each calling the next: 8 on the stack run, a 9th is refused;
/// gas is one meter, so a callee that runs out leaves the whole transaction out of gas.
#[test]
fn depth_is_limited_and_gas_is_one_meter() {
    let hop = |next: u128| {
        format!(
            "interface Next {{ fn hop(n: int) -> int; }}\n\
             pub fn hop(n: int) -> int {{\n    if n == 0 {{ return 0; }}\n    \
             return Next(to_address({next})).hop(n - 1) + 1;\n}}\n\
             pub fn spin() {{\n    while true {{ }}\n}}\n"
        )
    };
    for mode in [Mode::Interp, Mode::Jit] {
        let mut e = Engine::new();
        e.set_mode(mode);
        for k in 1..=10u128 {
            e.deploy(k, module(&hop(k + 1)));
        }
        let mut state = StateCache::new(MemoryStorage::new());
        let mut call = |f: &str, n: i128, gas: u64| {
            let tx = Transaction {
                caller: ALICE,
                contract: 1,
                function: f.into(),
                args: if f == "hop" { vec![n] } else { vec![] },
                gas_limit: gas,
            };
            e.execute(&tx, &BlockEnv::default(), &mut state)
        };
        let ok = call("hop", 7, 1_000_000);
        assert_eq!(
            (ok.status, ok.returns.clone()),
            (Status::Ok, vec![7]),
            "{mode:?}"
        );
        let too_deep = call("hop", 8, 1_000_000);
        assert_eq!(code(&too_deep), Some(24), "{mode:?}: {:?}", too_deep.error);
        assert_eq!(too_deep.error.as_ref().map(|e| e.path.len()), Some(8));
        let spin = call("spin", 0, 50_000);
        assert_eq!((code(&spin), spin.gas_used), (Some(10), 50_000));
    }
}

/// A hostile callee (assembled, no compiler) that returns 7 for a declared bool: the
/// caller's code assumes 0 or 1, so the call fails rather than hand it over.
#[test]
fn a_callee_returning_a_bad_bool_is_a_signature_error() {
    let callee = assemble(".func flag() -> (bool) regs 1 export\n    LOADI r0, 7\n    RET r0, 1\n")
        .expect("assembles");
    let caller = module(
        "interface Flag { fn flag() -> bool; }\npub fn get(at: address) -> bool {\n    return Flag(at).flag();\n}\n",
    );
    for mode in [Mode::Interp, Mode::Jit] {
        let mut e = Engine::new();
        e.set_mode(mode);
        let v = e.verify(callee.clone()).expect("verifies");
        e.deploy(2, v);
        e.deploy(1, caller.clone());
        let tx = Transaction {
            caller: ALICE,
            contract: 1,
            function: "get".into(),
            args: vec![2],
            gas_limit: 100_000,
        };
        let r = e.execute(
            &tx,
            &BlockEnv::default(),
            &mut StateCache::new(MemoryStorage::new()),
        );
        assert_eq!(code(&r), Some(26), "{mode:?}: {:?}", r.error);
    }
}

/// Each field of a stored struct is its own space: var n, field f at n | (f + 1) << 16.
/// Adding a field at the end moves nothing; inserting a variable before others does, and
/// the layout check names it.
#[test]
fn struct_fields_have_their_own_spaces_and_upgrades_are_checked() {
    let v1 =
        "struct P { a: fx, b: fx }\nstorage x: fx;\nstorage ps: map<address, P>;\npub fn f() {}\n";
    let v2 = "struct P { a: fx, b: fx, c: int }\nstorage x: fx;\nstorage ps: map<address, P>;\nstorage y: int;\npub fn f() {}\n";
    let v3 = "struct P { a: fx, b: fx }\nstorage y: int;\nstorage x: fx;\nstorage ps: map<address, P>;\npub fn f() {}\n";
    let abi = |s: &str| module(s).module().abi.clone();
    let (a1, a2, a3) = (abi(v1), abi(v2), abi(v3));
    let spaces: Vec<(&str, u32)> = a1
        .storage
        .iter()
        .map(|v| (v.name.as_str(), v.space))
        .collect();
    assert_eq!(
        spaces,
        vec![("x", 0), ("ps.a", 1 | 1 << 16), ("ps.b", 1 | 2 << 16)]
    );
    assert!(
        a2.layout_conflicts(&a1).is_empty(),
        "{:?}",
        a2.layout_conflicts(&a1)
    );
    let conflicts = a3.layout_conflicts(&a1);
    assert!(
        conflicts
            .iter()
            .any(|c| c.contains("`x` moved from space 0 to space 1")),
        "{conflicts:?}"
    );
}

/// `+=` on one field of a stored struct stays the commutative SADD (the function never
/// reads that field), so parallel positions do not conflict on it.
#[test]
fn a_field_add_stays_a_commutative_add() {
    let m = module(
        "struct P { size: fx, entry: fx }\nstorage ps: map<address, P>;\npub fn add(d: fx) {\n    ps[caller()].size += d;\n}\n",
    );
    let text = strike_vm::isa::disassemble(m.module());
    assert!(text.contains("SADD"), "{text}");
}

/// A traced transaction follows its calls: the callee's steps carry the callee's address
/// and a depth below the caller's, the per-instruction gas account still adds up to the
/// receipt's gas, and the receipt is the untraced one.
#[test]
fn traces_follow_calls_across_contracts() {
    use strike_vm::interp::trace::{Recorder, Step};
    let mut run = Run::new(Mode::Jit);
    let tx = Transaction {
        caller: ALICE,
        contract: MARKET,
        function: "open".into(),
        args: vec![fx("2.5")],
        gas_limit: 1_000_000,
    };
    let mut steps: Vec<Step> = Vec::new();
    let mut traced_state = StateCache::new(MemoryStorage::new());
    // The same history on a second state: init and a price.
    for (to, f, args) in [
        (MARKET, "init", vec![FEED as i128]),
        (FEED, "set", vec![fx("101.5")]),
    ] {
        let t = Transaction {
            caller: ALICE,
            contract: to,
            function: f.into(),
            args,
            gas_limit: 1_000_000,
        };
        run.engine
            .execute(&t, &BlockEnv::default(), &mut traced_state);
    }
    let traced = {
        let mut recorder = Recorder::new(|s| steps.push(s));
        run.engine
            .execute_traced(&tx, &BlockEnv::default(), &mut traced_state, &mut recorder)
    };
    let plain = run.call(MARKET, "open", &[fx("2.5")]);
    assert_eq!(traced, plain);
    let callee: Vec<&Step> = steps.iter().filter(|s| s.contract == FEED).collect();
    assert!(!callee.is_empty());
    assert!(callee.iter().all(|s| s.depth == 2));
    let xcall = steps
        .iter()
        .position(|s| s.op == strike_vm::isa::Opcode::CallContract)
        .expect("an XCALL step");
    assert_eq!(steps[xcall].gas_cost, 100, "static 20 + dynamic 80");
    assert_eq!(steps[xcall + 1].contract, FEED);
    for w in steps.windows(2) {
        assert_eq!(w[1].gas, w[0].gas - w[0].gas_cost, "{:?}", w[1]);
    }
    let total: u64 = steps.iter().map(|s| s.gas_cost).sum();
    assert_eq!(total + strike_vm::runtime::gas::TX_BASE, traced.gas_used);
}

/// Storage spaces stay distinct and valid however large the contract: past 2^16 storage
/// declarations the compiler reports a limit (E0013) instead of letting a variable's space
/// meet a field's. A struct of 2^15 fields is refused too (a declaration that long already
/// exceeds the parser's statement limit, E0001, before the struct limit could apply).
#[test]
fn storage_layout_limits_are_diagnosed() {
    let mut many = String::new();
    for i in 0..(1 << 16) + 1 {
        many.push_str(&format!("storage s{i}: fx;\n"));
    }
    let d = strike_lang::diagnose(&many).1;
    assert!(d.iter().any(|d| d.code == "E0013"), "{:?}", d.first());
    let mut wide = String::from("struct W {\n");
    for i in 0..(1 << 15) {
        wide.push_str(&format!("    f{i}: fx,\n"));
    }
    wide.push_str("}\nstorage w: W;\n");
    let d = strike_lang::diagnose(&wide).1;
    assert!(
        d.iter().any(|d| d.code == "E0013" || d.code == "E0001"),
        "{:?}",
        d.first()
    );
}

/// A struct in an event is its fields: `emit Moved(pos)` carries each field, and the ABI
/// names them `pos.size`, `pos.entry`.
#[test]
fn an_event_field_can_be_a_struct() {
    let m = module(
        "struct P { size: fx, entry: fx }\nevent Moved(who: address, pos: P);\nstorage ps: map<address, P>;\n\
         pub fn f() {\n    ps[caller()].size = 2.0;\n    let p = ps[caller()];\n    emit Moved(caller(), p);\n}\n",
    );
    let names: Vec<&str> = m.module().abi.events[0]
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["who", "pos.size", "pos.entry"]);
    let mut e = Engine::new();
    e.deploy(MARKET, m);
    let tx = Transaction {
        caller: ALICE,
        contract: MARKET,
        function: "f".into(),
        args: vec![],
        gas_limit: 100_000,
    };
    let r = e.execute(
        &tx,
        &BlockEnv::default(),
        &mut StateCache::new(MemoryStorage::new()),
    );
    assert_eq!(r.events[0].values, vec![ALICE as i128, fx("2.0"), 0]);
}
