//! Random well-typed `.stk` contracts, for the compiler's differential and no-panic tests.
//!
//! A contract has storage (an fx, an int, a map), an event, a private helper returning two
//! values and a public `main(a: fx, b: fx, n: int, flag: bool) -> (fx, int, bool)`. Bodies
//! mix every statement form of the language (lets of one value, of several results and of
//! arrays; assignments to locals, array elements, storage and map entries with `=`, `+=`,
//! `-=` and `capped`; if/else, bounded for and while loops, require, revert, emit, return,
//! calls for their effect) and every builtin, drawn from the builtin table itself
//! (`strike_lang::builtins::BUILTINS`), so a builtin added there is generated here without
//! a change. Natives appear as values, as several results bound by `let`, and as
//! statements whose results are discarded. Some contracts are test files (with a `#[test]`
//! function), where the test builtins are drawn too; they build with `Options::tests`.
//! Loops are bounded so that runs end; values are left free to overflow or leave a
//! builtin's domain, since reverts must agree too.
//!
//! Structs and calls between contracts: every contract declares a struct `P`, stored as a
//! scalar (`sp`) and as map values (`ps`), read and written field by field, bound whole,
//! built with `P(..)`, stored whole; and an interface `Peer` whose functions it calls at
//! [`PEER`] (where harnesses deploy [`PEER_SOURCE`]) as values, as several results and as
//! statements, including re-entry attempts: a call of its own address, and a peer `bump`
//! that calls back into `main` (both fail with the re-entrancy error, alike everywhere).

use crate::rng::Rng;
use strike_lang::builtins::{Builtin, Params, BUILTINS};
use strike_lang::Type;

/// Where harnesses deploy [`PEER_SOURCE`], the contract generated contracts call.
pub const PEER: u128 = 0x9ee7;

/// The peer: the functions of the generated contracts' `Peer` interface. `bump(k, d)` with
/// k = 3 calls back into its caller's `main`: a re-entry the VM refuses.
pub const PEER_SOURCE: &str = "interface Back {
    fn main(a: fx, b: fx, n: int, flag: bool) -> (fx, int, bool);
}
storage pm: map<int, fx>;
event Bumped(k: int, d: fx);

pub fn get(k: int) -> fx {
    return pm[k] + to_fx(k);
}

pub fn bump(k: int, d: fx) {
    pm[k] += d;
    emit Bumped(k, d);
    if k == 3 {
        Back(caller()).main(1.0, 2.0, 3, true);
    }
}

pub fn pair() -> (fx, int) {
    return pm[1], 7;
}
";

/// What every generated contract declares for structs and calls.
const DECLARATIONS: &str = "struct P {
    x: fx,
    c: int,
}
storage ps: map<int, P>;
storage sp: P;
interface Peer {
    view fn get(k: int) -> fx;
    fn bump(k: int, d: fx);
    view fn pair() -> (fx, int);
}
";

/// A random contract generator.
pub struct Gen {
    rng: Rng,
    locals: Vec<(String, Ty, bool)>,
    /// Arrays in scope: name, element type, length, mutable.
    arrays: Vec<(String, Ty, u32, bool)>,
    /// Struct `P` locals in scope: name, mutable.
    structs: Vec<(String, bool)>,
    next_name: usize,
    depth_budget: u32,
    /// Whether the contract is a test file (the test builtins are allowed).
    test_file: bool,
}

/// The value types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// fx
    Fx,
    /// int
    Int,
    /// bool
    Bool,
    /// address
    Address,
}

impl Ty {
    fn of(t: Type) -> Ty {
        match t {
            Type::Fx => Ty::Fx,
            Type::Int => Ty::Int,
            Type::Bool => Ty::Bool,
            Type::Address => Ty::Address,
        }
    }
}

const FX_LITERALS: &[&str] = &[
    "0.0", "1.0", "2.0", "0.5", "0.05", "1e-4", "3.25", "100.0", "1e3", "0.1", "2.5e-3", "1_000.5",
    "9.0", "0.999", "7.125", "1e-18", "4e9",
];
const INT_LITERALS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "7",
    "9",
    "10",
    "100",
    "1_000",
    "0xff",
    "65536",
    "4294967296",
    "170141183460469231731687303715884105727",
];

impl Gen {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Gen {
            rng: Rng(seed),
            locals: Vec::new(),
            arrays: Vec::new(),
            structs: Vec::new(),
            next_name: 0,
            depth_budget: 0,
            test_file: false,
        }
    }

    /// Whether the last contract generated is a test file: build it with
    /// `Options { tests: true, .. }` and run it where test natives are allowed.
    pub fn test_file(&self) -> bool {
        self.test_file
    }

    fn below(&mut self, n: usize) -> usize {
        self.rng.below(n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.rng.bits() % 100 < percent
    }

    fn pick<'s>(&mut self, xs: &[&'s str]) -> &'s str {
        xs[self.below(xs.len())]
    }

    fn var(&mut self, ty: Ty) -> Option<String> {
        let names: Vec<String> = self
            .locals
            .iter()
            .filter(|(_, t, _)| *t == ty)
            .map(|(n, _, _)| n.clone())
            .collect();
        if names.is_empty() {
            None
        } else {
            Some(names[self.below(names.len())].clone())
        }
    }

    fn array(&mut self, ty: Ty, mutable: bool) -> Option<(String, u32)> {
        let found: Vec<(String, u32)> = self
            .arrays
            .iter()
            .filter(|a| a.1 == ty && (a.3 || !mutable))
            .map(|a| (a.0.clone(), a.2))
            .collect();
        if found.is_empty() {
            None
        } else {
            Some(found[self.below(found.len())].clone())
        }
    }

    fn fresh(&mut self) -> String {
        self.next_name += 1;
        format!("v{}", self.next_name)
    }

    /// Whether `b` may be generated in this contract.
    fn allowed(&self, b: &Builtin) -> bool {
        self.test_file || !b.test_only()
    }

    /// A builtin returning exactly `results`, if any is allowed.
    fn builtin_returning(
        &mut self,
        results: impl Fn(&Builtin) -> bool,
    ) -> Option<&'static Builtin> {
        let found: Vec<&'static Builtin> = BUILTINS
            .iter()
            .filter(|b| self.allowed(b) && results(b))
            .collect();
        if found.is_empty() {
            None
        } else {
            Some(found[self.below(found.len())])
        }
    }

    /// A call of builtin `b` with arguments of its parameter types; for a builtin of
    /// numbers (abs, min, max), of type `number`.
    fn builtin_call(&mut self, b: &Builtin, number: Ty, depth: u32) -> String {
        let args: Vec<String> = match b.params {
            Params::Fixed(ps) => ps.iter().map(|&t| self.expr(Ty::of(t), depth)).collect(),
            Params::SameNumber(n) => (0..n).map(|_| self.expr(number, depth)).collect(),
            Params::Native(fixed) => {
                let mut args: Vec<String> =
                    fixed.iter().map(|&t| self.expr(Ty::of(t), depth)).collect();
                if b.takes_message() {
                    for _ in 0..1 + self.below(3) {
                        let ty = self.any_ty();
                        args.push(self.expr(ty, depth.min(1)));
                    }
                }
                args
            }
        };
        format!("{}({})", b.name, args.join(", "))
    }

    /// A call of a builtin returning one value of type `ty`, if one is allowed.
    fn builtin_value(&mut self, ty: Ty, depth: u32) -> Option<String> {
        let b = self.builtin_returning(|b| match b.params {
            Params::SameNumber(_) => matches!(ty, Ty::Int | Ty::Fx),
            _ => b.returns.len() == 1 && Ty::of(b.returns[0]) == ty,
        })?;
        Some(self.builtin_call(b, ty, depth))
    }

    /// An expression of type `ty`.
    pub fn expr(&mut self, ty: Ty, depth: u32) -> String {
        let leaf = depth == 0 || self.chance(30);
        match ty {
            Ty::Fx => {
                if leaf {
                    return match self.below(6) {
                        0 | 1 => self.var(Ty::Fx).unwrap_or_else(|| "0.25".into()),
                        2 => "sfx".into(),
                        3 if self.chance(50) => format!("m[{}]", self.expr(Ty::Int, 0)),
                        4 => match self.array(Ty::Fx, false) {
                            Some((a, len)) => format!("{a}[{}]", self.index(len)),
                            None => "sfx".into(),
                        },
                        _ => {
                            let lit = self.pick(FX_LITERALS).to_string();
                            if self.chance(20) {
                                format!("-{lit}")
                            } else {
                                lit
                            }
                        }
                    };
                }
                let d = depth - 1;
                match self.below(12) {
                    10 => self.field(Ty::Fx, d),
                    11 => format!("{}.get({})", self.peer(), self.expr(Ty::Int, d)),
                    0..=3 => {
                        let op = self.pick(&["+", "-", "*", "/"]);
                        format!("({} {op} {})", self.expr(Ty::Fx, d), self.expr(Ty::Fx, d))
                    }
                    4 => format!("-{}", self.expr(Ty::Fx, d)),
                    5..=7 => self
                        .builtin_value(Ty::Fx, d)
                        .unwrap_or_else(|| "0.5".into()),
                    8 => format!("m[{}]", self.expr(Ty::Int, d)),
                    _ => self.expr(Ty::Fx, 0),
                }
            }
            Ty::Int => {
                if leaf {
                    return match self.below(6) {
                        0 | 1 => self.var(Ty::Int).unwrap_or_else(|| "n".into()),
                        2 => "sint".into(),
                        3 => match self.array(Ty::Int, false) {
                            Some((a, len)) if self.chance(50) => {
                                format!("{a}[{}]", self.index(len))
                            }
                            _ => self.pick(&["now()", "block()", "n"]).into(),
                        },
                        _ => {
                            let lit = self.pick(INT_LITERALS).to_string();
                            if self.chance(20) {
                                format!("-{lit}")
                            } else {
                                lit
                            }
                        }
                    };
                }
                let d = depth - 1;
                match self.below(10) {
                    9 => self.field(Ty::Int, d),
                    0..=3 => {
                        let op = self.pick(&["+", "-", "*", "/", "%"]);
                        format!("({} {op} {})", self.expr(Ty::Int, d), self.expr(Ty::Int, d))
                    }
                    4 => format!("-{}", self.expr(Ty::Int, d)),
                    5..=7 => self.builtin_value(Ty::Int, d).unwrap_or_else(|| "n".into()),
                    _ => self.expr(Ty::Int, 0),
                }
            }
            Ty::Bool => {
                if leaf {
                    return match self.below(4) {
                        0 => self.var(Ty::Bool).unwrap_or_else(|| "flag".into()),
                        1 => self.pick(&["true", "false"]).into(),
                        _ => {
                            let op = self.pick(&["<", "<=", ">", ">=", "==", "!="]);
                            format!("({} {op} {})", self.expr(Ty::Int, 0), self.expr(Ty::Int, 0))
                        }
                    };
                }
                let d = depth - 1;
                match self.below(8) {
                    0 | 1 => {
                        let t = if self.chance(50) { Ty::Fx } else { Ty::Int };
                        let op = self.pick(&["<", "<=", ">", ">=", "==", "!="]);
                        format!("({} {op} {})", self.expr(t, d), self.expr(t, d))
                    }
                    2 | 3 => {
                        let op = self.pick(&["&&", "||"]);
                        format!(
                            "({} {op} {})",
                            self.expr(Ty::Bool, d),
                            self.expr(Ty::Bool, d)
                        )
                    }
                    4 => format!("!{}", self.expr(Ty::Bool, d)),
                    5 => {
                        let op = self.pick(&["==", "!="]);
                        format!(
                            "({} {op} {})",
                            self.expr(Ty::Address, d),
                            self.expr(Ty::Address, d)
                        )
                    }
                    6 => self
                        .builtin_value(Ty::Bool, d)
                        .unwrap_or_else(|| "flag".into()),
                    _ => format!("({} == {})", self.expr(Ty::Bool, d), self.expr(Ty::Bool, d)),
                }
            }
            Ty::Address => {
                if leaf {
                    return self.var(Ty::Address).unwrap_or_else(|| "caller()".into());
                }
                self.builtin_value(Ty::Address, depth - 1)
                    .unwrap_or_else(|| "self_address()".into())
            }
        }
    }

    /// A field of a `P` value: of a struct local, a map entry or the stored scalar.
    fn field(&mut self, ty: Ty, depth: u32) -> String {
        let f = if ty == Ty::Fx { "x" } else { "c" };
        match self.below(3) {
            0 if !self.structs.is_empty() => {
                let k = self.below(self.structs.len());
                format!("{}.{f}", self.structs[k].0)
            }
            1 => format!("ps[{}].{f}", self.expr(Ty::Int, depth.min(1))),
            _ => format!("sp.{f}"),
        }
    }

    /// The peer, as an interface value: mostly the deployed peer, sometimes this contract
    /// itself (a re-entry, refused), sometimes an address with no contract.
    fn peer(&mut self) -> String {
        match self.below(10) {
            0 => "Peer(self_address())".into(),
            1 => "Peer(to_address(77))".into(),
            _ => format!("Peer(to_address({PEER}))"),
        }
    }

    /// An array index: in bounds mostly, sometimes not (the access then reverts).
    fn index(&mut self, len: u32) -> String {
        if self.chance(85) {
            format!("{}", self.below(len as usize))
        } else {
            self.expr(Ty::Int, 0)
        }
    }

    fn any_ty(&mut self) -> Ty {
        [Ty::Fx, Ty::Int, Ty::Bool, Ty::Address][self.below(4)]
    }

    fn ty_name(ty: Ty) -> &'static str {
        match ty {
            Ty::Fx => "fx",
            Ty::Int => "int",
            Ty::Bool => "bool",
            Ty::Address => "address",
        }
    }

    /// Statements of a block at nesting `level`, appended to `out`.
    fn block(&mut self, out: &mut String, level: u32, in_main: bool) {
        let scope = (self.locals.len(), self.arrays.len(), self.structs.len());
        let n = 1 + self.below(5);
        let indent = "    ".repeat(level as usize + 1);
        for _ in 0..n {
            let d = self.depth_budget;
            match self.below(27) {
                22 => {
                    // A struct bound whole: from a map entry, the scalar or built.
                    let name = self.fresh();
                    let mutable = self.chance(50);
                    let value = match self.below(3) {
                        0 => format!("ps[{}]", self.expr(Ty::Int, 1)),
                        1 => "sp".to_string(),
                        _ => format!("P({}, {})", self.expr(Ty::Fx, d), self.expr(Ty::Int, d)),
                    };
                    out.push_str(&format!(
                        "{indent}let {}{name} = {value};\n",
                        if mutable { "mut " } else { "" }
                    ));
                    self.structs.push((name, mutable));
                }
                23 => {
                    // One field assigned: of the stored scalar, a map entry or a local.
                    let (f, ty) = if self.chance(50) {
                        ("x", Ty::Fx)
                    } else {
                        ("c", Ty::Int)
                    };
                    let mutable: Vec<String> = self
                        .structs
                        .iter()
                        .filter(|s| s.1)
                        .map(|s| s.0.clone())
                        .collect();
                    let target = match self.below(3) {
                        0 if !mutable.is_empty() => mutable[self.below(mutable.len())].clone(),
                        1 => format!("ps[{}]", self.expr(Ty::Int, 1)),
                        _ => "sp".to_string(),
                    };
                    let op = self.pick(&["=", "+=", "-="]);
                    let value = self.expr(ty, d);
                    out.push_str(&format!("{indent}{target}.{f} {op} {value};\n"));
                }
                24 => {
                    // A whole struct stored: a local, the scalar or a built value.
                    let value = match self.below(3) {
                        0 if !self.structs.is_empty() => {
                            let k = self.below(self.structs.len());
                            self.structs[k].0.clone()
                        }
                        1 => "sp".to_string(),
                        _ => format!("P({}, {})", self.expr(Ty::Fx, d), self.expr(Ty::Int, d)),
                    };
                    let target = if self.chance(60) {
                        format!("ps[{}]", self.expr(Ty::Int, 1))
                    } else {
                        "sp".to_string()
                    };
                    out.push_str(&format!("{indent}{target} = {value};\n"));
                }
                25 => {
                    // A call of the peer for its effect (a write and an event there; a
                    // call back into this contract when k = 3).
                    let peer = self.peer();
                    let k = self.pick(&["1", "2", "3", "n"]);
                    let v = self.expr(Ty::Fx, d);
                    out.push_str(&format!("{indent}{peer}.bump({k}, {v});\n"));
                }
                26 => {
                    // Several results of a call of the peer.
                    let (x, y) = (self.fresh(), self.fresh());
                    let peer = self.peer();
                    out.push_str(&format!("{indent}let ({x}, {y}) = {peer}.pair();\n"));
                    self.locals.push((x, Ty::Fx, false));
                    self.locals.push((y, Ty::Int, false));
                }
                0..=2 => {
                    let ty = self.any_ty();
                    let name = self.fresh();
                    let mutable = self.chance(60);
                    let value = self.expr(ty, d);
                    let annot = if self.chance(30) {
                        format!(": {}", Self::ty_name(ty))
                    } else {
                        String::new()
                    };
                    out.push_str(&format!(
                        "{indent}let {}{name}{annot} = {value};\n",
                        if mutable { "mut " } else { "" }
                    ));
                    self.locals.push((name, ty, mutable));
                }
                3 | 4 => {
                    let mutable: Vec<(String, Ty)> = self
                        .locals
                        .iter()
                        .filter(|l| l.2)
                        .map(|l| (l.0.clone(), l.1))
                        .collect();
                    if let Some((name, ty)) = mutable.get(self.below(mutable.len())).cloned() {
                        let op = if matches!(ty, Ty::Bool | Ty::Address) {
                            "="
                        } else {
                            self.pick(&["=", "+=", "-="])
                        };
                        let value = self.expr(ty, d);
                        out.push_str(&format!("{indent}{name} {op} {value};\n"));
                    }
                }
                5 | 15 => {
                    let (target, ty) = match self.below(3) {
                        0 => ("sfx".to_string(), Ty::Fx),
                        1 => ("sint".to_string(), Ty::Int),
                        _ => (format!("m[{}]", self.expr(Ty::Int, 1)), Ty::Fx),
                    };
                    let op = self.pick(&["=", "+=", "-="]);
                    let value = self.expr(ty, d);
                    let cap = if op != "=" && self.chance(30) {
                        format!(" capped {}", self.expr(ty, 1))
                    } else {
                        String::new()
                    };
                    out.push_str(&format!("{indent}{target} {op} {value}{cap};\n"));
                }
                6 | 7 if level < 3 => {
                    let cond = self.expr(Ty::Bool, d);
                    out.push_str(&format!("{indent}if {cond} {{\n"));
                    self.block(out, level + 1, in_main);
                    if self.chance(60) {
                        out.push_str(&format!("{indent}}} else {{\n"));
                        self.block(out, level + 1, in_main);
                    }
                    out.push_str(&format!("{indent}}}\n"));
                }
                8 if level < 3 => {
                    let var = self.fresh();
                    let start = self.pick(&["0", "1", "-2", "n", "min(n, 3)"]);
                    let end = self.pick(&["0", "3", "5", "min(n, 6)", "max(-n, 2)"]);
                    out.push_str(&format!("{indent}for {var} in {start}..{end} {{\n"));
                    self.locals.push((var, Ty::Int, false));
                    self.block(out, level + 1, in_main);
                    self.locals.pop();
                    out.push_str(&format!("{indent}}}\n"));
                }
                9 if level < 3 => {
                    let counter = self.fresh();
                    let cond = self.expr(Ty::Bool, 1);
                    out.push_str(&format!(
                        "{indent}let mut {counter} = 0;\n{indent}while {counter} < 4 && {cond} {{\n{indent}    {counter} += 1;\n"
                    ));
                    self.block(out, level + 1, in_main);
                    out.push_str(&format!("{indent}}}\n"));
                }
                10 => {
                    let cond = self.expr(Ty::Bool, d);
                    let code = 1 + self.below(50);
                    out.push_str(&format!("{indent}require({cond}, {code}, \"checked\");\n"));
                }
                11 => {
                    let (a, b) = (self.expr(Ty::Fx, d), self.expr(Ty::Int, d));
                    out.push_str(&format!("{indent}emit Moved({a}, {b});\n"));
                }
                12 if in_main => {
                    let (x, y) = (self.fresh(), self.fresh());
                    let (a, b) = (self.expr(Ty::Fx, d), self.expr(Ty::Int, d));
                    out.push_str(&format!("{indent}let ({x}, {y}) = helper({a}, {b});\n"));
                    self.locals.push((x, Ty::Fx, false));
                    self.locals.push((y, Ty::Int, false));
                }
                13 if level > 0 && self.chance(30) => {
                    if in_main {
                        let (a, b, c) = (
                            self.expr(Ty::Fx, d),
                            self.expr(Ty::Int, d),
                            self.expr(Ty::Bool, d),
                        );
                        out.push_str(&format!("{indent}return {a}, {b}, {c};\n"));
                    } else {
                        let (a, b) = (self.expr(Ty::Fx, d), self.expr(Ty::Int, d));
                        out.push_str(&format!("{indent}return {a}, {b};\n"));
                    }
                }
                14 if level > 0 && self.chance(20) => {
                    out.push_str(&format!("{indent}revert({});\n", 100 + self.below(10)));
                }
                16 => {
                    // Several results of a builtin, bound by name.
                    if let Some(b) = self.builtin_returning(|b| b.returns.len() >= 2) {
                        let call = self.builtin_call(b, Ty::Int, d);
                        let names: Vec<String> = b.returns.iter().map(|_| self.fresh()).collect();
                        out.push_str(&format!("{indent}let ({}) = {call};\n", names.join(", ")));
                        for (name, &t) in names.into_iter().zip(b.returns) {
                            self.locals.push((name, Ty::of(t), false));
                        }
                    }
                }
                17 => {
                    // A call for its effect: a builtin (its results, if any, dropped: the
                    // shape of the NATIVE clobber miscompile), or the helper.
                    if in_main && self.chance(25) {
                        let (a, b) = (self.expr(Ty::Fx, d), self.expr(Ty::Int, d));
                        out.push_str(&format!("{indent}helper({a}, {b});\n"));
                    } else if let Some(b) = if self.chance(50) {
                        // Half the time one that returns nothing (in a test file: the
                        // test natives set_caller and set_time, reachable only here).
                        self.builtin_returning(|b| b.returns.is_empty())
                    } else {
                        None
                    }
                    .or_else(|| self.builtin_returning(|_| true))
                    {
                        let call = self.builtin_call(b, Ty::Int, d);
                        out.push_str(&format!("{indent}{call};\n"));
                    } else {
                        let call = self.expr(Ty::Fx, d.max(1));
                        out.push_str(&format!("{indent}let {} = {call};\n", self.fresh()));
                    }
                }
                18 => {
                    // A local array, filled.
                    let ty = [Ty::Fx, Ty::Int][self.below(2)];
                    let name = self.fresh();
                    let len = 1 + self.below(6) as u32;
                    let mutable = self.chance(70);
                    let fill = self.expr(ty, 1);
                    out.push_str(&format!(
                        "{indent}let {}{name} = [{fill}; {len}];\n",
                        if mutable { "mut " } else { "" }
                    ));
                    self.arrays.push((name, ty, len, mutable));
                }
                19 => {
                    // An array element assigned.
                    let ty = [Ty::Fx, Ty::Int][self.below(2)];
                    if let Some((a, len)) = self.array(ty, true) {
                        let op = self.pick(&["=", "+=", "-="]);
                        let (i, v) = (self.index(len), self.expr(ty, d));
                        out.push_str(&format!("{indent}{a}[{i}] {op} {v};\n"));
                    }
                }
                20 => {
                    // Constants loaded after a call that wrote its window (the miscompile
                    // of issue 20 forgot NATIVE's further result registers).
                    if let Some(b) = self.builtin_returning(|b| b.returns.len() >= 2) {
                        let call = self.builtin_call(b, Ty::Int, 0);
                        let (x, y) = (self.fresh(), self.fresh());
                        let (p, q) = (self.pick(INT_LITERALS), self.pick(INT_LITERALS));
                        out.push_str(&format!(
                            "{indent}{call};\n{indent}let {x} = {p};\n{indent}let {y} = {q};\n"
                        ));
                        self.locals.push((x, Ty::Int, false));
                        self.locals.push((y, Ty::Int, false));
                    }
                }
                _ => {
                    let ty = self.any_ty();
                    let name = self.fresh();
                    let value = self.expr(ty, d);
                    out.push_str(&format!("{indent}let {name} = {value};\n"));
                    self.locals.push((name, ty, false));
                }
            }
        }
        self.locals.truncate(scope.0);
        self.arrays.truncate(scope.1);
        self.structs.truncate(scope.2);
    }

    /// A whole contract.
    pub fn contract(&mut self) -> String {
        self.depth_budget = 1 + self.below(3) as u32;
        self.test_file = self.chance(25);
        self.arrays.clear();
        self.structs.clear();
        let mut s = String::from(
            "storage sfx: fx;\nstorage sint: int;\nstorage m: map<int, fx>;\nevent Moved(amount: fx, count: int);\n",
        );
        s.push_str(DECLARATIONS);
        s.push('\n');
        // The helper: (a: fx, n: int) -> (fx, int).
        self.locals = vec![
            ("a".into(), Ty::Fx, false),
            ("k".into(), Ty::Int, false),
            ("n".into(), Ty::Int, false),
            ("flag".into(), Ty::Bool, false),
        ];
        s.push_str(
            "fn helper(a: fx, n: int) -> (fx, int) {\n    let k = n;\n    let flag = k > 0;\n",
        );
        self.block(&mut s, 0, false);
        let (a, b) = (self.expr(Ty::Fx, 1), self.expr(Ty::Int, 1));
        s.push_str(&format!("    return {a}, {b};\n}}\n\n"));
        self.locals = vec![
            ("a".into(), Ty::Fx, false),
            ("b".into(), Ty::Fx, false),
            ("n".into(), Ty::Int, false),
            ("flag".into(), Ty::Bool, false),
        ];
        s.push_str("pub fn main(a: fx, b: fx, n: int, flag: bool) -> (fx, int, bool) {\n");
        self.block(&mut s, 0, true);
        let (a, b, c) = (
            self.expr(Ty::Fx, 2),
            self.expr(Ty::Int, 2),
            self.expr(Ty::Bool, 2),
        );
        s.push_str(&format!("    return {a}, {b}, {c};\n}}\n"));
        if self.test_file {
            s.push_str("\n#[test]\nfn runs() {\n    main(1.5, 0.5, 3, true);\n}\n");
        }
        s
    }
}
