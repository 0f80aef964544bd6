//! Code generation: a checked syntax tree in, a verified-ready [`Module`] out.
//!
//! One pass over each function, in the manner of Lua 5.4's compiler:
//!
//! - **Registers.** Parameters are r0..; every `let` binds the next free register for the
//!   rest of its block (locals never move); temporaries are a stack above the locals,
//!   freed as soon as the instruction that reads them is emitted. Results are written
//!   straight to their destination: `let x = a * b` is one `MUL`, a call's result lands in
//!   the register that needs it.
//! - **Folding.** An operation whose operands are all known at compile time is computed
//!   here with the VM's own math ([`fold`]), exactly as the opcode would at run time; if it
//!   would fail (overflow, division by zero, a domain error) it is left to run and revert.
//! - **Fusion** (when [`Options::optimize`]; always within one statement, so inside one
//!   basic block, never across a label): a comparison feeding a branch becomes one
//!   compare-and-branch (`BLT`, `BLE`, `BEQ`, `BNE`); a constant operand becomes an
//!   immediate form (`ADDI`, `ADDK`, `MULK`, `LOADI`, `LOADFX`); a move is elided by writing
//!   the result in place; `s += d` on storage becomes the commutative `SADD` when the function
//!   never otherwise reads `s`.
//!   Without it every constant is loaded into a register, every comparison is
//!   materialised then tested with `JZ`/`JNZ`, every result goes through a temporary and a
//!   `MOV`, and nothing is folded: the differential test runs both and compares.
//!
//! `(a * b) / c` on fx is *not* rewritten to `MULDIV`: one rounding instead of two, and no
//! overflow of the intermediate product, give different results. Programs ask for the
//! single rounding with `mul_div(a, b, c)`.
//!
//! Evaluation order is the source's: operands left to right, a map key before the value
//! assigned to it, a `for` loop's bounds once, start then end. Every instruction gets a debug
//! entry with the line and column of the expression or statement that produced it.

use super::ast::*;
use super::check::{array_length, literal, native_builtin, Program, SlotType, Type};
use super::diag::{codes, Diagnostic, Lines};
use std::collections::{HashMap, HashSet};
use strike_vm::isa::{DebugEntry, Export, Function, Instr, Limits, Module, Opcode, ValueType};
use strike_vm::math::{self, Fx};

/// Code generation choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Fold constants and fuse instructions (the default). Off, the compiler emits the
    /// plainest correct code, for the differential test and for reading.
    pub optimize: bool,
    /// Compile the `#[test]` functions too, each exported under its name (for `strike
    /// test`). Off, they are left out, so no deployed module holds a test or a test builtin.
    pub tests: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            optimize: true,
            tests: false,
        }
    }
}

/// An operand: a value in a register, or a value known at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    Reg(u16),
    Const(i128),
}

/// Computes `op` on known operands with the VM's semantics; None when it would fail (the
/// instruction is then emitted, to fail at run time) or is not a pure value operation.
pub fn fold(op: Opcode, x: &[i128]) -> Option<i128> {
    use Opcode::*;
    let f = |i: usize| Fx::from_bits(x[i]);
    let m = |r: Result<Fx, math::MathError>| r.ok().map(Fx::to_bits);
    Some(match (op, x.len()) {
        (Add, 2) => x[0].checked_add(x[1])?,
        (Sub, 2) => x[0].checked_sub(x[1])?,
        (Neg, 1) => x[0].checked_neg()?,
        (IntMul, 2) => x[0].checked_mul(x[1])?,
        (IntDiv, 2) => x[0].checked_div(x[1])?,
        (IntRem, 2) => x[0].checked_rem(x[1])?,
        (Abs, 1) => x[0].checked_abs()?,
        (Min, 2) => x[0].min(x[1]),
        (Max, 2) => x[0].max(x[1]),
        (Mul, 2) => m(math::mul(f(0), f(1)))?,
        (MulDown, 2) => m(math::mul_down(f(0), f(1)))?,
        (MulUp, 2) => m(math::mul_up(f(0), f(1)))?,
        (Div, 2) => m(math::div(f(0), f(1)))?,
        (DivDown, 2) => m(math::div_down(f(0), f(1)))?,
        (DivUp, 2) => m(math::div_up(f(0), f(1)))?,
        (MulDiv, 3) => m(math::mul_div(f(0), f(1), f(2)))?,
        (MulDivDown, 3) => m(math::mul_div_down(f(0), f(1), f(2)))?,
        (MulDivUp, 3) => m(math::mul_div_up(f(0), f(1), f(2)))?,
        (Exp, 1) => m(math::exp(f(0)))?,
        (Ln, 1) => m(math::ln(f(0)))?,
        (Sqrt, 1) => m(math::sqrt(f(0)))?,
        (Pow, 2) => m(math::pow(f(0), f(1)))?,
        (Ncdf, 1) => m(math::ncdf(f(0)))?,
        (Npdf, 1) => m(math::npdf(f(0)))?,
        (InvNcdf, 1) => m(math::inv_ncdf(f(0)))?,
        (IntToFx, 1) => x[0].checked_mul(1 << 64)?,
        (FxToInt, 1) => x[0] >> 64,
        (Eq, 2) => (x[0] == x[1]) as i128,
        (Ne, 2) => (x[0] != x[1]) as i128,
        (Lt, 2) => (x[0] < x[1]) as i128,
        (Le, 2) => (x[0] <= x[1]) as i128,
        (Not, 1) => (x[0] == 0) as i128,
        (Mov, 1) => x[0],
        _ => return None,
    })
}

/// The opcode and arity of a builtin with a fixed opcode.
fn builtin_op(name: &str) -> Option<Opcode> {
    use Opcode::*;
    Some(match name {
        "exp" => Exp,
        "ln" => Ln,
        "sqrt" => Sqrt,
        "ncdf" => Ncdf,
        "npdf" => Npdf,
        "inv_ncdf" => InvNcdf,
        "pow" => Pow,
        "mul_down" => MulDown,
        "mul_up" => MulUp,
        "div_down" => DivDown,
        "div_up" => DivUp,
        "mul_div" => MulDiv,
        "mul_div_down" => MulDivDown,
        "mul_div_up" => MulDivUp,
        "to_fx" => IntToFx,
        "to_int" => FxToInt,
        "to_address" => Mov,
        "abs" => Abs,
        "min" => Min,
        "max" => Max,
        "caller" => Caller,
        "self_address" => SelfAddress,
        "now" => Timestamp,
        "block" => BlockNumber,
        _ => return None,
    })
}

fn value_type(t: Type) -> ValueType {
    t.value_type()
}

/// A function being compiled: what the module needs to know about it.
struct FnInfo {
    index: u32,
    params: Vec<Type>,
    returns: Vec<Type>,
}

struct Local {
    name: String,
    reg: u16,
    /// For an array, the element type.
    ty: Type,
    mutable: bool,
    /// An array: its index among the function's arrays (`reg` is then unused).
    array: Option<u32>,
}

/// A jump waiting for its label.
struct Fixup {
    pc: usize,
    label: usize,
}

struct ModuleGen<'a> {
    program: &'a Program,
    functions: HashMap<&'a str, FnInfo>,
    constants: Vec<i128>,
    constant_index: HashMap<i128, i32>,
    opts: Options,
    limits: Limits,
    diags: Vec<Diagnostic>,
}

struct FnGen<'m, 'a> {
    m: &'m mut ModuleGen<'a>,
    lines: &'a Lines<'a>,
    code: Vec<Instr>,
    positions: Vec<(u32, u32)>,
    pos: (u32, u32),
    scopes: Vec<Vec<Local>>,
    top: u16,
    max_regs: u32,
    labels: Vec<Option<usize>>,
    /// Per label: whether any emitted jump targets it (so code after it is reachable).
    jumped: Vec<bool>,
    fixups: Vec<Fixup>,
    reachable: bool,
    returns: Vec<Type>,
    /// Storage variables this function reads (their `+=` cannot become SADD).
    read_storage: HashSet<String>,
    /// The first span where a limit was exceeded.
    overflow: Option<(Span, String)>,
    /// Registers holding a known constant since the start of the current basic block.
    known: HashMap<u16, i128>,
    /// The function's arrays, by length.
    arrays: Vec<u32>,
    /// Loops around the statement being lowered.
    loop_depth: u32,
}

impl<'a> ModuleGen<'a> {
    fn constant(&mut self, v: i128) -> i32 {
        if let Some(&i) = self.constant_index.get(&v) {
            return i;
        }
        let i = self.constants.len() as i32;
        self.constants.push(v);
        self.constant_index.insert(v, i);
        i
    }
}

/// Storage variables read (other than as the target of `+=`/`-=`/`=`) anywhere in `body`.
fn storage_reads(body: &Block, out: &mut HashSet<String>) {
    fn expr(e: &Expr, locals: &[HashSet<String>], out: &mut HashSet<String>) {
        match &e.kind {
            ExprKind::Var(id) if !locals.iter().any(|s| s.contains(&id.name)) => {
                out.insert(id.name.clone());
            }
            ExprKind::Index { base, index } => {
                out.insert(base.name.clone());
                expr(index, locals, out);
            }
            ExprKind::Call { args, .. } => {
                for a in args {
                    expr(a, locals, out);
                }
            }
            ExprKind::Unary { expr: x, .. } => expr(x, locals, out),
            ExprKind::Array { fill, .. } => expr(fill, locals, out),
            ExprKind::Binary { lhs, rhs, .. } => {
                expr(lhs, locals, out);
                expr(rhs, locals, out);
            }
            _ => {}
        }
    }
    fn block(b: &Block, locals: &mut Vec<HashSet<String>>, out: &mut HashSet<String>) {
        locals.push(HashSet::new());
        for s in &b.stmts {
            match s {
                Stmt::Let { names, value, .. } => {
                    expr(value, locals, out);
                    if let Some(scope) = locals.last_mut() {
                        scope.extend(names.iter().map(|n| n.name.clone()));
                    }
                }
                Stmt::Assign {
                    target, value, cap, ..
                } => {
                    match &target.kind {
                        // Assigning (`=`, `+=`, `-=`) does not read the old value in source.
                        ExprKind::Index { index, .. } => expr(index, locals, out),
                        ExprKind::Var(_) => {}
                        _ => expr(target, locals, out),
                    }
                    expr(value, locals, out);
                    if let Some(cap) = cap {
                        expr(cap, locals, out);
                    }
                }
                Stmt::If {
                    cond,
                    then,
                    otherwise,
                    ..
                } => {
                    expr(cond, locals, out);
                    block(then, locals, out);
                    if let Some(o) = otherwise {
                        block(o, locals, out);
                    }
                }
                Stmt::While { cond, body, .. } => {
                    expr(cond, locals, out);
                    block(body, locals, out);
                }
                Stmt::For {
                    var,
                    start,
                    end,
                    body,
                    ..
                } => {
                    expr(start, locals, out);
                    expr(end, locals, out);
                    let mut scope = HashSet::new();
                    scope.insert(var.name.clone());
                    locals.push(scope);
                    block(body, locals, out);
                    locals.pop();
                }
                Stmt::Return { values, .. } => values.iter().for_each(|v| expr(v, locals, out)),
                Stmt::Require { cond, code, .. } => {
                    expr(cond, locals, out);
                    expr(code, locals, out);
                }
                Stmt::Revert { code, .. } => expr(code, locals, out),
                Stmt::Emit { args, .. } => args.iter().for_each(|a| expr(a, locals, out)),
                Stmt::Expr(e) => expr(e, locals, out),
                Stmt::Error(_) => {}
            }
        }
        locals.pop();
    }
    block(body, &mut Vec::new(), out);
}

impl FnGen<'_, '_> {
    fn opt(&self) -> bool {
        self.m.opts.optimize
    }

    fn at(&mut self, span: Span) {
        self.pos = self.lines.position(span.start);
    }

    fn emit(&mut self, i: Instr) {
        if self.reachable {
            self.code.push(i);
            self.positions.push(self.pos);
        }
        // Forget what this instruction overwrites: the registers its roles say it writes.
        for r in i.writes() {
            self.known.remove(&u16::from(r));
        }
        if matches!(i.op, Opcode::Return | Opcode::Revert | Opcode::Jump) {
            self.reachable = false;
        }
    }

    fn reg(&self, r: u16) -> u8 {
        r as u8
    }

    fn alloc(&mut self, span: Span) -> u16 {
        let r = self.top;
        self.top = self.top.saturating_add(1);
        self.max_regs = self.max_regs.max(self.top as u32);
        if self.top as u32 > 256 && self.overflow.is_none() {
            self.overflow = Some((
                span,
                "this function needs more than the VM's 256 registers".into(),
            ));
        }
        r
    }

    /// Whether `d` is the topmost temporary (no local lives in it, nothing above it), so
    /// that intermediate results may be built in it.
    fn is_top_temp(&self, d: u16) -> bool {
        d + 1 == self.top && !self.scopes.iter().flatten().any(|l| l.reg == d)
    }

    /// When optimizing and every value is a local, in consecutive registers: the first.
    fn consecutive_locals(&self, values: &[Expr]) -> Option<u16> {
        if !self.opt() {
            return None;
        }
        let mut regs = values.iter().map(|v| match &v.kind {
            ExprKind::Var(id) => self.lookup(&id.name).map(|(r, _)| r),
            _ => None,
        });
        let first = regs.next()??;
        for (i, r) in regs.enumerate() {
            if r? != first + 1 + i as u16 {
                return None;
            }
        }
        Some(first)
    }

    fn new_label(&mut self) -> usize {
        self.labels.push(None);
        self.jumped.push(false);
        self.labels.len() - 1
    }

    fn bind(&mut self, label: usize) {
        // A label starts a basic block: nothing is known about registers here.
        self.known.clear();
        let here = self.code.len();
        self.labels[label] = Some(here);
        if self.jumped[label] {
            self.reachable = true;
        }
    }

    fn jump_instr(&mut self, op: Opcode, a: u16, b: u16, label: usize) {
        if !self.reachable {
            return;
        }
        self.fixups.push(Fixup {
            pc: self.code.len(),
            label,
        });
        self.jumped[label] = true;
        let (a, b) = (self.reg(a), self.reg(b));
        self.emit(Instr::new(op, a, b, 0, 0));
    }

    fn lookup(&self, name: &str) -> Option<(u16, Type)> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|l| l.name == name)
            .map(|l| (l.reg, l.ty))
    }

    fn declare(&mut self, name: &str, reg: u16, ty: Type, mutable: bool) {
        if let Some(s) = self.scopes.last_mut() {
            s.push(Local {
                name: name.to_string(),
                reg,
                ty,
                mutable,
                array: None,
            });
        }
    }

    /// The array a name refers to (the innermost local of that name, if an array): its
    /// index and element type.
    fn array(&self, name: &str) -> Option<(u32, Type)> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|l| l.name == name)
            .and_then(|l| Some((l.array?, l.ty)))
    }

    /// `let name = [fill; length];`: a new array of the frame, filled. The VM zeroes a
    /// frame's arrays on entry, so a zero fill outside any loop (which runs once per call)
    /// emits nothing; otherwise a loop stores the fill into every element.
    fn let_array(&mut self, name: &str, value: &Expr, mutable: bool) {
        let ExprKind::Array { fill, length, .. } = &value.kind else {
            return;
        };
        let len = array_length(length).unwrap_or(1);
        let index = self.arrays.len() as u32;
        self.arrays.push(len);
        let ty = self.type_of(fill);
        let zero = self.const_value(fill, true) == Some(0);
        if !(zero && self.loop_depth == 0) {
            let saved = self.top;
            let v = self.operand_reg(fill);
            let i = self.alloc(value.span);
            let n = self.alloc(value.span);
            self.at(value.span);
            self.load_const(i, 0, Type::Int);
            self.load_const(n, len as i128, Type::Int);
            let top = self.new_label();
            self.bind(top);
            let (vr, ir) = (self.reg(v), self.reg(i));
            self.emit(Instr::new(Opcode::ArrayStore, vr, ir, 0, index as i32));
            self.emit(Instr::new(Opcode::AddImm, ir, ir, 0, 1));
            self.jump_instr(Opcode::BranchLt, i, n, top);
            self.top = saved;
        }
        if let Some(s) = self.scopes.last_mut() {
            s.push(Local {
                name: name.to_string(),
                reg: 0,
                ty,
                mutable,
                array: Some(index),
            });
        }
    }

    /// The register of `e` if it is a local that can never change (a parameter, a plain
    /// `let`, a loop variable outside its own loop's step).
    fn immutable_local(&self, e: &Expr) -> Option<u16> {
        let ExprKind::Var(id) = &e.kind else {
            return None;
        };
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|l| l.name == id.name)
            .filter(|l| !l.mutable)
            .map(|l| l.reg)
    }

    fn storage(&self, name: &str) -> Option<(u32, SlotType)> {
        self.m
            .program
            .storage
            .iter()
            .position(|(n, _)| n == name)
            .map(|i| (i as u32, self.m.program.storage[i].1))
    }

    // ---- types (the checker has accepted the program, so these are total)

    fn type_of(&self, e: &Expr) -> Type {
        match &e.kind {
            ExprKind::Int(_) => Type::Int,
            ExprKind::Fx(_) => Type::Fx,
            ExprKind::Bool(_) => Type::Bool,
            ExprKind::Var(id) => match self.lookup(&id.name) {
                Some((_, t)) => t,
                None => match self.storage(&id.name) {
                    Some((_, SlotType::Value(t))) => t,
                    _ => Type::Int,
                },
            },
            ExprKind::Index { base, .. } => match self.array(&base.name) {
                Some((_, t)) => t,
                None => match self.storage(&base.name) {
                    Some((_, SlotType::Map(_, v))) => v,
                    _ => Type::Int,
                },
            },
            ExprKind::Array { fill, .. } => self.type_of(fill),
            ExprKind::Call { func, args } => match func.name.as_str() {
                "abs" | "min" | "max" => args.first().map_or(Type::Int, |a| self.type_of(a)),
                "to_int" | "now" | "block" => Type::Int,
                "caller" | "to_address" | "self_address" => Type::Address,
                n if builtin_op(n).is_some() => Type::Fx,
                n if native_builtin(n).is_some() => native_builtin(n)
                    .and_then(|(_, _, r)| r.first().copied())
                    .unwrap_or(Type::Int),
                n => self
                    .m
                    .functions
                    .get(n)
                    .and_then(|f| f.returns.first().copied())
                    .unwrap_or(Type::Int),
            },
            ExprKind::Unary { op, expr } => match op {
                UnaryOp::Not => Type::Bool,
                UnaryOp::Neg => self.type_of(expr),
            },
            ExprKind::Binary { op, lhs, .. } => match op {
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => self.type_of(lhs),
                _ => Type::Bool,
            },
            ExprKind::Error => Type::Int,
        }
    }

    // ---- constants

    /// The value of a literal, or of an expression folded from literals (optimizing only
    /// for the latter).
    fn constant(&self, e: &Expr) -> Option<i128> {
        self.const_value(e, self.opt())
    }

    /// The value of `e` if it is a literal or, when `fold`, computable from literals.
    fn const_value(&self, e: &Expr, fold_ops: bool) -> Option<i128> {
        let constant = |x: &Expr| self.const_value(x, fold_ops);
        if let Some(v) = literal(e) {
            return v;
        }
        match &e.kind {
            _ if !fold_ops => None,
            ExprKind::Unary { op, expr } => {
                let v = constant(expr)?;
                match op {
                    UnaryOp::Neg => fold(Opcode::Neg, &[v]),
                    UnaryOp::Not => fold(Opcode::Not, &[v]),
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let ty = self.type_of(lhs);
                match op {
                    BinOp::And | BinOp::Or => {
                        // Short-circuit: the right side only matters when the left does not decide.
                        let l = constant(lhs)?;
                        if (*op == BinOp::And) == (l == 0) {
                            Some(l)
                        } else {
                            constant(rhs)
                        }
                    }
                    _ => {
                        let (a, b) = (constant(lhs)?, constant(rhs)?);
                        let (opcode, swap) = binary_opcode(*op, ty);
                        let (x, y) = if swap { (b, a) } else { (a, b) };
                        fold(opcode, &[x, y])
                    }
                }
            }
            ExprKind::Call { func, args } => {
                let op = builtin_op(&func.name)?;
                if args.is_empty() {
                    return None;
                }
                let vals: Option<Vec<i128>> = args.iter().map(constant).collect();
                fold(op, &vals?)
            }
            _ => None,
        }
    }

    /// Loads a known value into register `d`, in the cheapest form.
    fn load_const(&mut self, d: u16, v: i128, ty: Type) {
        if self.opt() && self.known.get(&d) == Some(&v) {
            // Already there, loaded earlier in this basic block.
            return;
        }
        self.load_const_fresh(d, v, ty);
        if self.opt() {
            self.known.insert(d, v);
        }
    }

    fn load_const_fresh(&mut self, d: u16, v: i128, ty: Type) {
        let dr = self.reg(d);
        if ty != Type::Fx {
            if let Ok(imm) = i32::try_from(v) {
                self.emit(Instr::new(Opcode::LoadInt, dr, 0, 0, imm));
                return;
            }
        } else if v & ((1 << 64) - 1) == 0 {
            if let Ok(imm) = i32::try_from(v >> 64) {
                self.emit(Instr::new(Opcode::LoadFx, dr, 0, 0, imm));
                return;
            }
        }
        let k = self.m.constant(v);
        self.emit(Instr::new(Opcode::LoadConst, dr, 0, 0, k));
    }

    /// The expression as an operand: a local's register as is, a constant as a constant, or
    /// anything else evaluated into a new temporary (which the caller frees by resetting
    /// `top`).
    fn operand(&mut self, e: &Expr) -> Val {
        if let Some(v) = self.constant(e) {
            return Val::Const(v);
        }
        if let ExprKind::Var(id) = &e.kind {
            if let Some((r, _)) = self.lookup(&id.name) {
                if self.opt() {
                    return Val::Reg(r);
                }
                let t = self.alloc(e.span);
                self.at(e.span);
                let (tr, rr) = (self.reg(t), self.reg(r));
                self.emit(Instr::new(Opcode::Mov, tr, rr, 0, 0));
                return Val::Reg(t);
            }
        }
        let t = self.alloc(e.span);
        self.eval_into(e, t);
        Val::Reg(t)
    }

    /// The operand in a register (constants loaded into a new temporary).
    fn operand_reg(&mut self, e: &Expr) -> u16 {
        match self.operand(e) {
            Val::Reg(r) => r,
            Val::Const(v) => {
                let t = self.alloc(e.span);
                self.at(e.span);
                let ty = self.type_of(e);
                self.load_const(t, v, ty);
                t
            }
        }
    }

    /// Evaluates `e` into register `d`. `d` is either a fresh temporary or a local that the
    /// expression's last instruction may overwrite (every operand is read first).
    fn eval_into(&mut self, e: &Expr, d: u16) {
        let saved = self.top;
        if let Some(v) = self.constant(e) {
            self.at(e.span);
            let ty = self.type_of(e);
            self.load_const(d, v, ty);
            return;
        }
        let dr = self.reg(d);
        match &e.kind {
            ExprKind::Var(id) => {
                if let Some((r, _)) = self.lookup(&id.name) {
                    if r != d {
                        self.at(e.span);
                        let rr = self.reg(r);
                        self.emit(Instr::new(Opcode::Mov, dr, rr, 0, 0));
                    }
                } else if let Some((space, _)) = self.storage(&id.name) {
                    let k = self.alloc(e.span);
                    self.at(e.span);
                    self.load_const(k, 0, Type::Int);
                    let kr = self.reg(k);
                    self.emit(Instr::new(Opcode::StorageLoad, dr, kr, 0, space as i32));
                }
            }
            ExprKind::Index { base, index } => {
                let k = self.operand_reg(index);
                if let Some((array, _)) = self.array(&base.name) {
                    self.at(e.span);
                    let kr = self.reg(k);
                    self.emit(Instr::new(Opcode::ArrayLoad, dr, kr, 0, array as i32));
                } else if let Some((space, _)) = self.storage(&base.name) {
                    self.at(e.span);
                    let kr = self.reg(k);
                    self.emit(Instr::new(Opcode::StorageLoad, dr, kr, 0, space as i32));
                }
            }
            ExprKind::Unary { op, expr } => {
                let x = self.operand_reg(expr);
                self.at(e.span);
                let xr = self.reg(x);
                let opcode = match op {
                    UnaryOp::Neg => Opcode::Neg,
                    UnaryOp::Not => Opcode::Not,
                };
                self.emit(Instr::new(opcode, dr, xr, 0, 0));
            }
            ExprKind::Binary { op, lhs, rhs } => match op {
                BinOp::And | BinOp::Or => {
                    // d = lhs; if it decides, skip the right side; else d = rhs.
                    let t = if self.is_top_temp(d) {
                        d
                    } else {
                        self.alloc(e.span)
                    };
                    self.eval_into(lhs, t);
                    let end = self.new_label();
                    self.at(e.span);
                    let jump = if *op == BinOp::And {
                        Opcode::JumpIfZero
                    } else {
                        Opcode::JumpIfNonZero
                    };
                    self.jump_instr(jump, t, 0, end);
                    self.eval_into(rhs, t);
                    self.bind(end);
                    if t != d {
                        let tr = self.reg(t);
                        self.emit(Instr::new(Opcode::Mov, dr, tr, 0, 0));
                    }
                }
                _ => self.binary(*op, lhs, rhs, d, e.span),
            },
            ExprKind::Call { func, args } => self.call_into(func, args, d, e.span),
            ExprKind::Int(_)
            | ExprKind::Fx(_)
            | ExprKind::Bool(_)
            | ExprKind::Array { .. }
            | ExprKind::Error => {}
        }
        self.top = saved;
    }

    /// `d = lhs op rhs` for arithmetic and comparisons.
    fn binary(&mut self, op: BinOp, lhs: &Expr, rhs: &Expr, d: u16, span: Span) {
        let ty = self.type_of(lhs);
        let (opcode, swap) = binary_opcode(op, ty);
        let plain = matches!(lhs.kind, ExprKind::Var(_)) || self.constant(lhs).is_some();
        let a = if self.opt() && !plain && self.is_top_temp(d) {
            // Build the left operand in the destination itself: one register fewer.
            self.eval_into(lhs, d);
            Val::Reg(d)
        } else {
            self.operand(lhs)
        };
        let b = self.operand(rhs);
        self.at(span);
        let dr = self.reg(d);
        // Immediate forms: x + c, c + x, x - c, x * c, c * x (fx).
        if self.opt() {
            let imm = match (opcode, a, b) {
                (Opcode::Add, Val::Reg(x), Val::Const(c))
                | (Opcode::Add, Val::Const(c), Val::Reg(x)) => Some((Opcode::Add, x, c)),
                (Opcode::Sub, Val::Reg(x), Val::Const(c)) => {
                    c.checked_neg().map(|n| (Opcode::Add, x, n))
                }
                (Opcode::Mul, Val::Reg(x), Val::Const(c))
                | (Opcode::Mul, Val::Const(c), Val::Reg(x)) => Some((Opcode::Mul, x, c)),
                // x / 2^k (k = 0..=62) is x * 2^-k: the same rounding of the same exact
                // quotient, and neither can fail. MULK costs 2 gas where DIV costs 6.
                (Opcode::Div, Val::Reg(x), Val::Const(c))
                    if c > 0
                        && c.count_ones() == 1
                        && c.trailing_zeros() >= 64
                        && c.trailing_zeros() <= 126 =>
                {
                    Some((Opcode::Mul, x, 1i128 << (128 - c.trailing_zeros())))
                }
                _ => None,
            };
            if let Some((kind, x, c)) = imm {
                let xr = self.reg(x);
                if kind == Opcode::Add && ty == Type::Int && i32::try_from(c).is_ok() {
                    self.emit(Instr::new(Opcode::AddImm, dr, xr, 0, c as i32));
                } else {
                    let k = self.m.constant(c);
                    let op = if kind == Opcode::Add {
                        Opcode::AddConst
                    } else {
                        Opcode::MulConst
                    };
                    self.emit(Instr::new(op, dr, xr, 0, k));
                }
                return;
            }
        }
        let a = self.materialize(a, lhs);
        let b = self.materialize(b, rhs);
        let (x, y) = if swap { (b, a) } else { (a, b) };
        let (xr, yr) = (self.reg(x), self.reg(y));
        self.at(span);
        self.emit(Instr::new(opcode, dr, xr, yr, 0));
    }

    fn materialize(&mut self, v: Val, e: &Expr) -> u16 {
        match v {
            Val::Reg(r) => r,
            Val::Const(c) => {
                let t = self.alloc(e.span);
                self.at(e.span);
                let ty = self.type_of(e);
                self.load_const(t, c, ty);
                t
            }
        }
    }

    /// A call of a builtin or a function of the contract, its (single) result into `d`.
    fn call_into(&mut self, func: &Ident, args: &[Expr], d: u16, span: Span) {
        let dr = self.reg(d);
        if let Some(op) = builtin_op(&func.name) {
            let regs: Vec<u16> = args.iter().map(|a| self.operand_reg(a)).collect();
            self.at(span);
            let r = |i: usize| regs.get(i).map_or(0, |&x| x as u8);
            let instr = match args.len() {
                0 => Instr::new(op, dr, 0, 0, 0),
                1 => Instr::new(op, dr, r(0), 0, 0),
                2 => Instr::new(op, dr, r(0), r(1), 0),
                _ => Instr::new(op, dr, r(0), r(1), r(2) as i32),
            };
            self.emit(instr);
            return;
        }
        // A window at the top of the stack: arguments in, results out.
        let base = if self.is_top_temp(d) { d } else { self.top };
        self.call_window(func, args, base, span);
        if base != d {
            let br = self.reg(base);
            self.emit(Instr::new(Opcode::Mov, dr, br, 0, 0));
        }
    }

    /// Evaluates the arguments into `base..`, calls, leaves the results at `base..`.
    /// Returns how many results.
    fn call_window(&mut self, func: &Ident, args: &[Expr], base: u16, span: Span) -> usize {
        let (op, index, nret) = match self.m.functions.get(func.name.as_str()) {
            Some(f) => (Opcode::Call, f.index, f.returns.len()),
            None => match native_builtin(&func.name) {
                Some((native, _, results)) => {
                    if native.info().test_only && !self.m.opts.tests {
                        self.m.diags.push(
                            Diagnostic::new(
                                codes::TEST_USE,
                                format!(
                                    "`{}` is a test builtin: this file builds only under `strike test`",
                                    func.name
                                ),
                                func.span,
                                "test only",
                            )
                            .help("deploy the contract without its tests: keep them in a file that imports it"),
                        );
                    }
                    (Opcode::Native, native.info().id, results.len())
                }
                None => return 0,
            },
        };
        self.top = base;
        for a in args {
            let r = self.alloc(a.span);
            self.eval_into(a, r);
        }
        while (self.top as usize) < base as usize + nret.max(1) {
            self.alloc(span);
        }
        self.at(span);
        let br = self.reg(base);
        self.emit(Instr::new(
            op,
            br,
            args.len() as u8,
            nret as u8,
            index as i32,
        ));
        nret
    }

    /// Jumps to `label` when `e` (a bool) equals `when`; falls through otherwise.
    fn branch(&mut self, e: &Expr, when: bool, label: usize) {
        let saved = self.top;
        if let Some(v) = self.constant(e) {
            if (v != 0) == when {
                self.at(e.span);
                self.jump_instr(Opcode::Jump, 0, 0, label);
            }
            return;
        }
        match &e.kind {
            ExprKind::Unary {
                op: UnaryOp::Not,
                expr,
            } if self.opt() => self.branch(expr, !when, label),
            ExprKind::Binary { op, lhs, rhs } if matches!(op, BinOp::And | BinOp::Or) => {
                // `a && b` jumps when false if either is false; when true only if both are.
                let decides_on_false = *op == BinOp::And;
                if when != decides_on_false {
                    self.branch(lhs, when, label);
                    self.branch(rhs, when, label);
                } else {
                    let skip = self.new_label();
                    self.branch(lhs, !when, skip);
                    self.branch(rhs, when, label);
                    self.bind(skip);
                }
            }
            ExprKind::Binary { op, lhs, rhs }
                if self.opt()
                    && matches!(
                        op,
                        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
                    ) =>
            {
                let a = self.operand_reg(lhs);
                let b = self.operand_reg(rhs);
                // Normalise to "jump if x OP y" with OP one of == != < <=.
                use BinOp::*;
                let cmp = if when {
                    *op
                } else {
                    match op {
                        Eq => Ne,
                        Ne => Eq,
                        Lt => Ge,
                        Le => Gt,
                        Gt => Le,
                        Ge => Lt,
                        other => *other,
                    }
                };
                let (opcode, x, y) = match cmp {
                    Eq => (Opcode::BranchEq, a, b),
                    Ne => (Opcode::BranchNe, a, b),
                    Lt => (Opcode::BranchLt, a, b),
                    Le => (Opcode::BranchLe, a, b),
                    Gt => (Opcode::BranchLt, b, a),
                    _ => (Opcode::BranchLe, b, a),
                };
                self.at(e.span);
                self.jump_instr(opcode, x, y, label);
            }
            _ => {
                let r = self.operand_reg(e);
                self.at(e.span);
                let op = if when {
                    Opcode::JumpIfNonZero
                } else {
                    Opcode::JumpIfZero
                };
                self.jump_instr(op, r, 0, label);
            }
        }
        self.top = saved;
    }

    /// Evaluates `e` into a fresh temporary and moves it to `d` (when `d` is a live local
    /// that the evaluation might read after writing), or straight into `d`.
    fn assign_local(&mut self, e: &Expr, d: u16) {
        let single_root = matches!(
            e.kind,
            ExprKind::Var(_)
                | ExprKind::Index { .. }
                | ExprKind::Unary { .. }
                | ExprKind::Int(_)
                | ExprKind::Fx(_)
                | ExprKind::Bool(_)
        ) || matches!(&e.kind, ExprKind::Binary { op, .. } if !matches!(op, BinOp::And | BinOp::Or))
            || matches!(&e.kind, ExprKind::Call { func, .. } if builtin_op(&func.name).is_some());
        if self.opt() && single_root {
            self.eval_into(e, d);
        } else {
            let saved = self.top;
            let t = self.alloc(e.span);
            self.eval_into(e, t);
            self.at(e.span);
            let (dr, tr) = (self.reg(d), self.reg(t));
            self.emit(Instr::new(Opcode::Mov, dr, tr, 0, 0));
            self.top = saved;
        }
    }

    fn block(&mut self, b: &Block) {
        self.scopes.push(Vec::new());
        let saved = self.top;
        for s in &b.stmts {
            if !self.reachable {
                break;
            }
            self.stmt(s);
        }
        self.top = saved;
        self.scopes.pop();
    }

    fn revert_code(&mut self, code: &Expr) -> i32 {
        // Codes are constant expressions (`-1` is one), folded even when not optimizing.
        match self.const_value(code, true) {
            Some(v) if (0..=u32::MAX as i128).contains(&v) => v as u32 as i32,
            _ => {
                self.m.diags.push(
                    Diagnostic::new(
                        codes::REVERT_CODE,
                        "a revert code must be a constant from 0 to 4294967295",
                        code.span,
                        "not a constant in range",
                    )
                    .note("the code is the REVERT instruction's immediate"),
                );
                0
            }
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        let saved = self.top;
        match s {
            Stmt::Let {
                names,
                value,
                span,
                mutable,
                ..
            } => {
                if names.len() == 1 && matches!(value.kind, ExprKind::Array { .. }) {
                    self.let_array(&names[0].name, value, *mutable);
                    self.top = saved;
                    return;
                }
                if names.len() == 1 {
                    let ty = self.type_of(value);
                    let d = self.alloc(*span);
                    self.eval_into(value, d);
                    self.top = d + 1;
                    self.declare(&names[0].name, d, ty, *mutable);
                    return;
                }
                if let ExprKind::Call { func, args } = &value.kind {
                    let base = self.top;
                    let n = self.call_window(func, args, base, value.span);
                    let types = match self.m.functions.get(func.name.as_str()) {
                        Some(f) => f.returns.clone(),
                        None => native_builtin(&func.name)
                            .map(|(_, _, r)| r.to_vec())
                            .unwrap_or_default(),
                    };
                    self.top = base + n as u16;
                    for (i, (name, ty)) in names.iter().zip(types).enumerate() {
                        self.declare(&name.name, base + i as u16, ty, *mutable);
                    }
                }
                return;
            }
            Stmt::Assign {
                target,
                op,
                value,
                cap,
                span,
            } => self.assign(target, *op, value, cap.as_ref(), *span),
            Stmt::If {
                cond,
                then,
                otherwise,
                ..
            } => {
                let else_label = self.new_label();
                self.branch(cond, false, else_label);
                self.block(then);
                match otherwise {
                    Some(o) => {
                        let end = self.new_label();
                        self.at(o.span);
                        self.jump_instr(Opcode::Jump, 0, 0, end);
                        self.bind(else_label);
                        self.block(o);
                        self.bind(end);
                    }
                    None => self.bind(else_label),
                }
            }
            Stmt::While { cond, body, .. } => {
                // Rotated: jump to the test at the bottom, one branch per iteration.
                let (top_label, test) = (self.new_label(), self.new_label());
                self.at(cond.span);
                self.jump_instr(Opcode::Jump, 0, 0, test);
                self.bind(top_label);
                self.reachable = true;
                self.loop_depth += 1;
                self.block(body);
                self.loop_depth -= 1;
                self.bind(test);
                self.reachable = true;
                self.branch(cond, true, top_label);
            }
            Stmt::For {
                var,
                start,
                end,
                body,
                span,
            } => {
                let i = self.alloc(*span);
                self.eval_into(start, i);
                // The end is evaluated once; a local that cannot change is used in place.
                let n = match self.immutable_local(end).filter(|_| self.opt()) {
                    Some(r) => r,
                    None => {
                        let n = self.alloc(*span);
                        self.eval_into(end, n);
                        n
                    }
                };
                let (top_label, test) = (self.new_label(), self.new_label());
                self.at(*span);
                self.jump_instr(Opcode::Jump, 0, 0, test);
                self.bind(top_label);
                self.reachable = true;
                self.scopes.push(Vec::new());
                self.declare(&var.name, i, Type::Int, false);
                self.loop_depth += 1;
                self.block(body);
                self.loop_depth -= 1;
                self.scopes.pop();
                self.at(var.span);
                let ir = self.reg(i);
                if self.opt() {
                    self.emit(Instr::new(Opcode::AddImm, ir, ir, 0, 1));
                } else {
                    let one = self.alloc(var.span);
                    let or = self.reg(one);
                    self.emit(Instr::new(Opcode::LoadInt, or, 0, 0, 1));
                    self.emit(Instr::new(Opcode::Add, ir, ir, or, 0));
                }
                self.bind(test);
                self.reachable = true;
                self.at(*span);
                if self.opt() {
                    self.jump_instr(Opcode::BranchLt, i, n, top_label);
                } else {
                    let t = self.alloc(*span);
                    let (tr, ir, nr) = (self.reg(t), self.reg(i), self.reg(n));
                    self.emit(Instr::new(Opcode::Lt, tr, ir, nr, 0));
                    self.jump_instr(Opcode::JumpIfNonZero, t, 0, top_label);
                }
            }
            Stmt::Return { values, span } => {
                if values.is_empty() {
                    self.at(*span);
                    self.emit(Instr::new(Opcode::Return, 0, 0, 0, 0));
                } else if values.len() == 1 {
                    let r = self.operand_reg(&values[0]);
                    self.at(*span);
                    let rr = self.reg(r);
                    self.emit(Instr::new(Opcode::Return, rr, 1, 0, 0));
                } else if let Some(first) = self.consecutive_locals(values) {
                    // Already side by side in registers: return them where they are.
                    self.at(*span);
                    let fr = self.reg(first);
                    self.emit(Instr::new(Opcode::Return, fr, values.len() as u8, 0, 0));
                } else {
                    let base = self.top;
                    for v in values {
                        let r = self.alloc(v.span);
                        self.eval_into(v, r);
                    }
                    self.at(*span);
                    let br = self.reg(base);
                    self.emit(Instr::new(Opcode::Return, br, values.len() as u8, 0, 0));
                }
            }
            Stmt::Require {
                cond, code, span, ..
            } => {
                let code = self.revert_code(code);
                let ok = self.new_label();
                self.branch(cond, true, ok);
                self.at(*span);
                self.emit(Instr::new(Opcode::Revert, 0, 0, 0, code));
                self.bind(ok);
            }
            Stmt::Revert { code, span, .. } => {
                let code = self.revert_code(code);
                self.at(*span);
                self.emit(Instr::new(Opcode::Revert, 0, 0, 0, code));
            }
            Stmt::Emit { event, args, span } => {
                let index = self
                    .m
                    .program
                    .events
                    .iter()
                    .position(|(n, _)| *n == event.name)
                    .unwrap_or(0);
                if args.len() > self.m.limits.max_event_values as usize {
                    self.m.diags.push(Diagnostic::new(
                        codes::LIMIT,
                        format!(
                            "an event carries at most {} values, this one {}",
                            self.m.limits.max_event_values,
                            args.len()
                        ),
                        *span,
                        "too many values",
                    ));
                }
                let base = match self.consecutive_locals(args) {
                    // EMIT only reads its window: values already side by side stay put.
                    Some(first) => first,
                    None => {
                        let base = self.top;
                        for a in args {
                            let r = self.alloc(a.span);
                            self.eval_into(a, r);
                        }
                        if self.top == base {
                            self.alloc(*span);
                        }
                        base
                    }
                };
                self.at(*span);
                let br = self.reg(base);
                self.emit(Instr::new(
                    Opcode::Emit,
                    br,
                    args.len() as u8,
                    0,
                    index as i32,
                ));
            }
            Stmt::Expr(e) => {
                if let ExprKind::Call { func, args } = &e.kind {
                    if builtin_op(&func.name).is_some() {
                        // Evaluated for its possible revert; the value is dropped.
                        let t = self.alloc(e.span);
                        self.eval_into(e, t);
                    } else {
                        let base = self.top;
                        self.call_window(func, args, base, e.span);
                    }
                } else {
                    let t = self.alloc(e.span);
                    self.eval_into(e, t);
                }
            }
            Stmt::Error(_) => {}
        }
        self.top = saved;
    }

    fn assign(
        &mut self,
        target: &Expr,
        op: AssignOp,
        value: &Expr,
        cap: Option<&Expr>,
        span: Span,
    ) {
        // A local.
        if let ExprKind::Var(id) = &target.kind {
            if let Some((r, _)) = self.lookup(&id.name) {
                match op {
                    AssignOp::Set => self.assign_local(value, r),
                    AssignOp::Add | AssignOp::Sub => {
                        let bin = if op == AssignOp::Add {
                            BinOp::Add
                        } else {
                            BinOp::Sub
                        };
                        self.binary(bin, target, value, r, span);
                    }
                }
                return;
            }
        }
        // An array element: the index is evaluated once.
        if let ExprKind::Index { base, index } = &target.kind {
            if let Some((array, ty)) = self.array(&base.name) {
                let k = self.operand_reg(index);
                let kr = self.reg(k);
                let a = array as i32;
                if op == AssignOp::Set {
                    let v = self.operand_reg(value);
                    self.at(span);
                    let vr = self.reg(v);
                    self.emit(Instr::new(Opcode::ArrayStore, vr, kr, 0, a));
                } else {
                    let old = self.alloc(target.span);
                    self.at(target.span);
                    let or = self.reg(old);
                    self.emit(Instr::new(Opcode::ArrayLoad, or, kr, 0, a));
                    let v = self.operand_reg(value);
                    self.at(span);
                    let vr = self.reg(v);
                    let bin = if op == AssignOp::Add {
                        BinOp::Add
                    } else {
                        BinOp::Sub
                    };
                    let (opcode, _) = binary_opcode(bin, ty);
                    self.emit(Instr::new(opcode, or, or, vr, 0));
                    self.emit(Instr::new(Opcode::ArrayStore, or, kr, 0, a));
                }
                return;
            }
        }
        // Storage: a scalar (key 0) or a map entry.
        let (name, key) = match &target.kind {
            ExprKind::Var(id) => (id.name.as_str(), None),
            ExprKind::Index { base, index } => (base.name.as_str(), Some(index.as_ref())),
            _ => return,
        };
        let Some((space, _)) = self.storage(name) else {
            return;
        };
        let space = space as i32;
        let k = match key {
            Some(k) => self.operand_reg(k),
            None => {
                let k = self.alloc(target.span);
                self.at(target.span);
                self.load_const(k, 0, Type::Int);
                k
            }
        };
        let kr = self.reg(k);
        if op == AssignOp::Set {
            let v = self.operand_reg(value);
            self.at(span);
            let vr = self.reg(v);
            self.emit(Instr::new(Opcode::StorageStore, kr, vr, 0, space));
            return;
        }
        // `s -= d` is `s += -d` (so it can be commutative): -d reverts for the minimum value.
        let delta = |g: &mut Self| -> u16 {
            let negate = op == AssignOp::Sub;
            match g.operand(value) {
                Val::Const(c) if g.opt() && (!negate || c.checked_neg().is_some()) => {
                    let t = g.alloc(value.span);
                    g.at(value.span);
                    let ty = g.type_of(value);
                    g.load_const(t, if negate { -c } else { c }, ty);
                    t
                }
                v => {
                    let r = g.materialize(v, value);
                    if negate {
                        let t = g.alloc(value.span);
                        g.at(value.span);
                        let (tr, rr) = (g.reg(t), g.reg(r));
                        g.emit(Instr::new(Opcode::Neg, tr, rr, 0, 0));
                        t
                    } else {
                        r
                    }
                }
            }
        };
        if let Some(cap) = cap {
            // Always SADDCAP (commutative in a parallel block, like SADD): the cap check
            // needs the value, which the VM reads itself.
            let d = delta(self);
            let c = self.operand_reg(cap);
            self.at(span);
            let (dr, cr) = (self.reg(d), self.reg(c));
            self.emit(Instr::new(Opcode::StorageAddCapped, kr, dr, cr, space));
        } else if self.opt() && !self.read_storage.contains(name) {
            let d = delta(self);
            self.at(span);
            let dr = self.reg(d);
            self.emit(Instr::new(Opcode::StorageAdd, kr, dr, 0, space));
        } else {
            let old = self.alloc(target.span);
            self.at(target.span);
            let or = self.reg(old);
            self.emit(Instr::new(Opcode::StorageLoad, or, kr, 0, space));
            let d = delta(self);
            self.at(span);
            let dr = self.reg(d);
            self.emit(Instr::new(Opcode::Add, or, or, dr, 0));
            self.emit(Instr::new(Opcode::StorageStore, kr, or, 0, space));
        }
    }
}

/// The opcode of a binary operator on operands of type `ty`, and whether the operands are
/// swapped (`a > b` is `b < a`).
fn binary_opcode(op: BinOp, ty: Type) -> (Opcode, bool) {
    let fx = ty == Type::Fx;
    match op {
        BinOp::Add => (Opcode::Add, false),
        BinOp::Sub => (Opcode::Sub, false),
        BinOp::Mul => (if fx { Opcode::Mul } else { Opcode::IntMul }, false),
        BinOp::Div => (if fx { Opcode::Div } else { Opcode::IntDiv }, false),
        BinOp::Rem => (Opcode::IntRem, false),
        BinOp::Eq => (Opcode::Eq, false),
        BinOp::Ne => (Opcode::Ne, false),
        BinOp::Lt => (Opcode::Lt, false),
        BinOp::Le => (Opcode::Le, false),
        BinOp::Gt => (Opcode::Lt, true),
        BinOp::Ge => (Opcode::Le, true),
        // Handled by short-circuit code; And/Or on booleans as a fallback.
        BinOp::And => (Opcode::And, false),
        BinOp::Or => (Opcode::Or, false),
    }
}

/// The module-wide limits the verifier and decoder enforce, as diagnostics at the
/// declaration that crosses them.
fn check_module_limits(
    file: &SourceFile,
    module: &Module,
    limits: &Limits,
    diags: &mut Vec<Diagnostic>,
) {
    let mut limit = |span: Span, message: String| {
        diags.push(
            Diagnostic::new(codes::LIMIT, message, span, "beyond the limit")
                .help("split the contract into several contracts"),
        );
    };
    let (mut functions, mut exports, mut events) = (0u32, 0u32, 0u32);
    for item in &file.items {
        let (name, counter, max, what) = match item {
            Item::Function(f) => {
                functions += 1;
                if functions == limits.max_functions + 1 {
                    limit(
                        f.name.span,
                        format!("a contract has at most {} functions", limits.max_functions),
                    );
                }
                if !f.public {
                    continue;
                }
                (
                    &f.name,
                    &mut exports,
                    limits.max_exports,
                    "public functions",
                )
            }
            Item::Event(e) => (&e.name, &mut events, limits.max_events, "events"),
            _ => continue,
        };
        *counter += 1;
        if *counter == max + 1 {
            limit(name.span, format!("a contract has at most {max} {what}"));
        }
        if name.name.len() > limits.max_name_len as usize {
            limit(
                name.span,
                format!(
                    "the name of a public function or event is at most {} bytes, this one {}",
                    limits.max_name_len,
                    name.name.len()
                ),
            );
        }
    }
    if module.debug.len() > limits.max_debug_entries as usize {
        limit(
            Span::default(),
            format!(
                "the contract compiles to more than {} instructions",
                limits.max_debug_entries
            ),
        );
    } else if module.encode().len() > limits.max_module_bytes {
        limit(
            Span::default(),
            format!(
                "the compiled module is larger than {} bytes",
                limits.max_module_bytes
            ),
        );
    }
}

/// Compiles a checked file (one with no diagnostics) to a module. Errors are limits of the
/// VM the program exceeds, and revert codes that are not constants.
pub fn lower(
    file: &SourceFile,
    program: &Program,
    source: &str,
    opts: Options,
) -> Result<Module, Vec<Diagnostic>> {
    let fns: Vec<&FnDecl> = file
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Function(f) if opts.tests || !f.is_test() => Some(f),
            _ => None,
        })
        .collect();
    let mut m = ModuleGen {
        program,
        functions: HashMap::new(),
        constants: Vec::new(),
        constant_index: HashMap::new(),
        opts,
        limits: Limits::default(),
        diags: Vec::new(),
    };
    for (i, f) in fns.iter().enumerate() {
        if let Some(sig) = program.functions.get(&f.name.name) {
            m.functions.insert(
                f.name.name.as_str(),
                FnInfo {
                    index: i as u32,
                    params: sig.params.clone(),
                    returns: sig.returns.clone(),
                },
            );
        }
    }
    let lines = Lines::new(source);
    let mut module = Module {
        events: program.events.iter().map(|(n, _)| n.clone()).collect(),
        ..Module::default()
    };
    for (index, f) in fns.iter().enumerate() {
        let Some(info) = m.functions.get(f.name.name.as_str()) else {
            continue;
        };
        let (params, returns) = (info.params.clone(), info.returns.clone());
        if params.len() > 255 || returns.len() > 255 {
            m.diags.push(Diagnostic::new(
                codes::LIMIT,
                "a function takes at most 255 parameters and returns at most 255 values",
                f.name.span,
                "too many",
            ));
            continue;
        }
        let mut read_storage = HashSet::new();
        storage_reads(&f.body, &mut read_storage);
        let mut g = FnGen {
            m: &mut m,
            lines: &lines,
            code: Vec::new(),
            positions: Vec::new(),
            pos: lines.position(f.span.start),
            scopes: vec![Vec::new()],
            top: 0,
            max_regs: 1,
            labels: Vec::new(),
            jumped: Vec::new(),
            fixups: Vec::new(),
            reachable: true,
            returns: returns.clone(),
            read_storage,
            overflow: None,
            known: HashMap::new(),
            arrays: Vec::new(),
            loop_depth: 0,
        };
        for (p, &t) in f.params.iter().zip(&params) {
            let r = g.alloc(p.name.span);
            g.declare(&p.name.name, r, t, false);
        }
        g.block(&f.body);
        if g.reachable {
            let end = Span::new(f.body.span.end.saturating_sub(1), f.body.span.end);
            g.at(end);
            if g.returns.is_empty() {
                g.emit(Instr::new(Opcode::Return, 0, 0, 0, 0));
            } else {
                // The checker proves every path returns; a loop the checker cannot see
                // through may still end here, where reverting is the only honest outcome.
                g.emit(Instr::new(Opcode::Revert, 0, 0, 0, 0));
            }
        }
        for fix in &g.fixups {
            let target = g.labels[fix.label].unwrap_or(g.code.len());
            g.code[fix.pc].imm = target as i32 - fix.pc as i32 - 1;
        }
        if g.code.len() > g.m.limits.max_code_len as usize && g.overflow.is_none() {
            g.overflow = Some((
                f.name.span,
                "this function is longer than the VM's limit".into(),
            ));
        }
        if let Some((span, message)) = g.overflow.take() {
            g.m.diags.push(
                Diagnostic::new(codes::LIMIT, message, span, "too large")
                    .help("split it into smaller functions"),
            );
        }
        for (pc, &(line, col)) in g.positions.iter().enumerate() {
            module.debug.push(DebugEntry {
                function: index as u32,
                pc: pc as u32,
                line,
                col,
            });
        }
        module.functions.push(Function {
            params: params.len() as u8,
            returns: returns.len() as u8,
            registers: g.max_regs.clamp(1, 256) as u16,
            arrays: std::mem::take(&mut g.arrays),
            code: std::mem::take(&mut g.code),
        });
        if f.public || f.is_test() {
            module.exports.push(Export {
                name: f.name.name.clone(),
                function: index as u32,
                params: params.iter().map(|&t| value_type(t)).collect(),
                returns: returns.iter().map(|&t| value_type(t)).collect(),
            });
        }
    }
    if m.constants.len() > m.limits.max_constants as usize {
        m.diags.push(Diagnostic::new(
            codes::LIMIT,
            "the contract has more constants than the VM's limit",
            Span::default(),
            "too many constants",
        ));
    }
    module.constants = m.constants;
    check_module_limits(file, &module, &m.limits, &mut m.diags);
    if !m.diags.is_empty() {
        m.diags.sort_by_key(|d| (d.span.start, d.span.end));
        return Err(m.diags);
    }
    Ok(module)
}
