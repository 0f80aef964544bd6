//! Random well-typed `.stk` contracts, for the compiler's differential and no-panic tests.
//!
//! A contract has storage (an fx, an int, a map), an event, a private helper returning two
//! values and a public `main(a: fx, b: fx, n: int, flag: bool) -> (fx, int, bool)`. Bodies
//! mix every statement and expression form of the language: lets, assignments to locals and
//! storage (`=`, `+=`, `-=`), if/else, bounded for and while loops, require, revert, emit,
//! calls with several results, every builtin, and literals of every shape. Loops are
//! bounded so that runs end; values are left free to overflow or leave a builtin's domain,
//! since reverts must agree too.

/// A small deterministic generator (SplitMix64).
pub struct Gen {
    state: u64,
    locals: Vec<(String, Ty, bool)>,
    next_name: usize,
    depth_budget: u32,
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
            state: seed,
            locals: Vec::new(),
            next_name: 0,
            depth_budget: 0,
        }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
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

    fn fresh(&mut self) -> String {
        self.next_name += 1;
        format!("v{}", self.next_name)
    }

    /// An expression of type `ty`.
    pub fn expr(&mut self, ty: Ty, depth: u32) -> String {
        let leaf = depth == 0 || self.chance(30);
        match ty {
            Ty::Fx => {
                if leaf {
                    return match self.below(5) {
                        0 | 1 => self.var(Ty::Fx).unwrap_or_else(|| "0.25".into()),
                        2 => "sfx".into(),
                        3 if self.chance(50) => format!("m[{}]", self.expr(Ty::Int, 0)),
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
                    0..=3 => {
                        let op = self.pick(&["+", "-", "*", "/"]);
                        format!("({} {op} {})", self.expr(Ty::Fx, d), self.expr(Ty::Fx, d))
                    }
                    4 => format!("-{}", self.expr(Ty::Fx, d)),
                    5 => {
                        let f =
                            self.pick(&["exp", "ln", "sqrt", "ncdf", "npdf", "inv_ncdf", "abs"]);
                        format!("{f}({})", self.expr(Ty::Fx, d))
                    }
                    6 => {
                        let f = self.pick(&[
                            "pow", "mul_down", "mul_up", "div_down", "div_up", "min", "max",
                        ]);
                        format!("{f}({}, {})", self.expr(Ty::Fx, d), self.expr(Ty::Fx, d))
                    }
                    7 => {
                        let f = self.pick(&["mul_div", "mul_div_down", "mul_div_up"]);
                        format!(
                            "{f}({}, {}, {})",
                            self.expr(Ty::Fx, d),
                            self.expr(Ty::Fx, d),
                            self.expr(Ty::Fx, d)
                        )
                    }
                    8 => format!("to_fx({})", self.expr(Ty::Int, d)),
                    9 => format!("m[{}]", self.expr(Ty::Int, d)),
                    _ => self.expr(Ty::Fx, 0),
                }
            }
            Ty::Int => {
                if leaf {
                    return match self.below(6) {
                        0 | 1 => self.var(Ty::Int).unwrap_or_else(|| "n".into()),
                        2 => "sint".into(),
                        3 => self.pick(&["now()", "block()", "n"]).into(),
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
                    0..=3 => {
                        let op = self.pick(&["+", "-", "*", "/", "%"]);
                        format!("({} {op} {})", self.expr(Ty::Int, d), self.expr(Ty::Int, d))
                    }
                    4 => format!("-{}", self.expr(Ty::Int, d)),
                    5 => format!("abs({})", self.expr(Ty::Int, d)),
                    6 => {
                        let f = self.pick(&["min", "max"]);
                        format!("{f}({}, {})", self.expr(Ty::Int, d), self.expr(Ty::Int, d))
                    }
                    7 => format!("to_int({})", self.expr(Ty::Fx, d)),
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
                match self.below(6) {
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
                    _ => format!("({} == {})", self.expr(Ty::Bool, d), self.expr(Ty::Bool, d)),
                }
            }
        }
    }

    fn any_ty(&mut self) -> Ty {
        [Ty::Fx, Ty::Int, Ty::Bool][self.below(3)]
    }

    fn ty_name(ty: Ty) -> &'static str {
        match ty {
            Ty::Fx => "fx",
            Ty::Int => "int",
            Ty::Bool => "bool",
        }
    }

    /// Statements of a block at nesting `level`, appended to `out`.
    fn block(&mut self, out: &mut String, level: u32, in_main: bool) {
        let scope = self.locals.len();
        let n = 1 + self.below(5);
        let indent = "    ".repeat(level as usize + 1);
        for _ in 0..n {
            let d = self.depth_budget;
            match self.below(16) {
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
                    if let Some((name, ty)) = mutable.get(self.below(mutable.len().max(1))).cloned()
                    {
                        let op = if ty == Ty::Bool {
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
                    out.push_str(&format!("{indent}{target} {op} {value};\n"));
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
                _ => {
                    let ty = self.any_ty();
                    let name = self.fresh();
                    let value = self.expr(ty, d);
                    out.push_str(&format!("{indent}let {name} = {value};\n"));
                    self.locals.push((name, ty, false));
                }
            }
        }
        self.locals.truncate(scope);
    }

    /// A whole contract.
    pub fn contract(&mut self) -> String {
        self.depth_budget = 1 + self.below(3) as u32;
        let mut s = String::from(
            "storage sfx: fx;\nstorage sint: int;\nstorage m: map<int, fx>;\nevent Moved(amount: fx, count: int);\n\n",
        );
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
        s
    }
}
