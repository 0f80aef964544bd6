//! Expressions: constants (folded by the opcodes' own functions), operands, evaluation into
//! a destination register, binary operators with their immediate forms, calls of
//! builtins, natives and functions, and branches on conditions.

use super::emit::FnGen;
use super::{binary_opcode, instr};
use crate::ast::*;
use crate::builtins::{Builtin, Lowering};
use crate::check::{literal, Name, Type};
use crate::diag::{codes, Diagnostic};
use strike_vm::isa::Opcode;

/// An operand: a value in a register, or a value known at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Val {
    Reg(u16),
    Const(i128),
}

/// `op` on known operands by the VM's own semantics (`Opcode::evaluate`); None when it
/// would fail at run time (the instruction is then emitted, to fail there) or is not pure.
pub fn fold(op: Opcode, operands: &[i128]) -> Option<i128> {
    op.evaluate(operands).and_then(Result::ok)
}

impl FnGen<'_, '_> {
    /// The builtin a call names.
    pub(super) fn builtin(&self, e: &Expr) -> Option<&'static Builtin> {
        match self.m.program.name_of(e)? {
            Name::Builtin(b) => Some(b),
            _ => None,
        }
    }

    /// The opcode of a call of a builtin that is one instruction.
    pub(super) fn builtin_op(&self, e: &Expr) -> Option<Opcode> {
        match self.builtin(e)?.lowering {
            Lowering::Op(op) => Some(op),
            Lowering::Native(_) => None,
        }
    }

    /// The types a call returns (a function's or a builtin's).
    pub(super) fn call_returns(&self, e: &Expr) -> Vec<Type> {
        match self.m.program.name_of(e) {
            Some(Name::Function(id)) => self
                .m
                .program
                .function_def(id)
                .map_or_else(Vec::new, |f| f.signature.returns.clone()),
            Some(Name::Builtin(b)) => b.returns.to_vec(),
            Some(Name::Import(id)) => self
                .m
                .program
                .imports
                .get(id.0 as usize)
                .map_or_else(Vec::new, |i| i.returns.clone()),
            _ => Vec::new(),
        }
    }

    /// When optimizing and every value is a local, in consecutive registers: the first.
    pub(super) fn consecutive_locals(&self, values: &[Expr]) -> Option<u16> {
        if !self.opt() {
            return None;
        }
        let mut regs = values.iter().map(|v| match &v.kind {
            ExprKind::Var(_) => self.local_reg(v),
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

    // ---- constants

    /// The value of a literal, or of an expression folded from literals (optimizing only
    /// for the latter).
    pub(super) fn constant(&self, e: &Expr) -> Option<i128> {
        self.const_value(e, self.opt())
    }

    /// The value of `e` if it is a literal or, when `fold_ops`, computable from literals.
    pub(super) fn const_value(&self, e: &Expr, fold_ops: bool) -> Option<i128> {
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
            ExprKind::Binary { op, lhs, rhs } => match op {
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
                    let (opcode, swap) = binary_opcode(*op, self.ty(lhs));
                    let (x, y) = if swap { (b, a) } else { (a, b) };
                    fold(opcode, &[x, y])
                }
            },
            ExprKind::Call { args, .. } => {
                let op = self.builtin_op(e)?;
                if args.is_empty() {
                    return None;
                }
                let vals: Option<Vec<i128>> = args.iter().map(constant).collect();
                fold(op, &vals?)
            }
            _ => None,
        }
    }

    // ---- operands

    /// The expression as an operand: a local's register as is, a constant as a constant, or
    /// anything else evaluated into a new temporary (which the caller frees by resetting
    /// `top`).
    pub(super) fn operand(&mut self, e: &Expr) -> Val {
        if let Some(v) = self.constant(e) {
            return Val::Const(v);
        }
        if let (ExprKind::Var(_), Some(r)) = (&e.kind, self.local_reg(e)) {
            if self.opt() {
                return Val::Reg(r);
            }
            let t = self.alloc(e.span);
            self.at(e.span);
            self.emit(instr(Opcode::Mov, t, r, 0, 0));
            return Val::Reg(t);
        }
        let t = self.alloc(e.span);
        self.eval_into(e, t);
        Val::Reg(t)
    }

    /// The operand in a register (constants loaded into a new temporary).
    pub(super) fn operand_reg(&mut self, e: &Expr) -> u16 {
        let v = self.operand(e);
        self.materialize(v, e)
    }

    /// `v` in a register: a constant loaded into a new temporary.
    pub(super) fn materialize(&mut self, v: Val, e: &Expr) -> u16 {
        match v {
            Val::Reg(r) => r,
            Val::Const(c) => {
                let t = self.alloc(e.span);
                self.at(e.span);
                let ty = self.ty(e);
                self.load_const(t, c, ty);
                t
            }
        }
    }

    /// Evaluates `e` into register `d`. `d` is either a fresh temporary or a local that the
    /// expression's last instruction may overwrite (every operand is read first).
    pub(super) fn eval_into(&mut self, e: &Expr, d: u16) {
        let saved = self.top;
        if let Some(v) = self.constant(e) {
            self.at(e.span);
            let ty = self.ty(e);
            self.load_const(d, v, ty);
            return;
        }
        match &e.kind {
            ExprKind::Var(_) => {
                if let Some(r) = self.local_reg(e) {
                    if r != d {
                        self.at(e.span);
                        self.emit(instr(Opcode::Mov, d, r, 0, 0));
                    }
                } else if let Some((space, _)) = self.storage(e) {
                    let k = self.alloc(e.span);
                    self.at(e.span);
                    self.load_const(k, 0, Type::Int);
                    self.emit(instr(Opcode::StorageLoad, d, k, 0, space as i32));
                }
            }
            ExprKind::Index { index, .. } => {
                let k = self.operand_reg(index);
                self.at(e.span);
                if let Some((array, _)) = self.local_array(e) {
                    self.emit(instr(Opcode::ArrayLoad, d, k, 0, array as i32));
                } else if let Some((space, _)) = self.storage(e) {
                    self.emit(instr(Opcode::StorageLoad, d, k, 0, space as i32));
                }
            }
            ExprKind::Unary { op, expr } => {
                let x = self.operand_reg(expr);
                self.at(e.span);
                let opcode = match op {
                    UnaryOp::Neg => Opcode::Neg,
                    UnaryOp::Not => Opcode::Not,
                };
                self.emit(instr(opcode, d, x, 0, 0));
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
                        self.emit(instr(Opcode::Mov, d, t, 0, 0));
                    }
                }
                _ => self.binary(*op, lhs, rhs, d, e.span),
            },
            ExprKind::Call { .. } => self.call_into(e, d),
            ExprKind::Int(_)
            | ExprKind::Fx(_)
            | ExprKind::Bool(_)
            | ExprKind::Array { .. }
            | ExprKind::Field { .. }
            | ExprKind::Method { .. }
            | ExprKind::Error => {}
        }
        self.top = saved;
    }

    /// `d = lhs op rhs` for arithmetic and comparisons.
    pub(super) fn binary(&mut self, op: BinOp, lhs: &Expr, rhs: &Expr, d: u16, span: Span) {
        let ty = self.ty(lhs);
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
                if kind == Opcode::Add && ty == Type::Int && i32::try_from(c).is_ok() {
                    self.emit(instr(Opcode::AddImm, d, x, 0, c as i32));
                } else {
                    let k = self.m.constant(c);
                    let op = if kind == Opcode::Add {
                        Opcode::AddConst
                    } else {
                        Opcode::MulConst
                    };
                    self.emit(instr(op, d, x, 0, k));
                }
                return;
            }
        }
        let a = self.materialize(a, lhs);
        let b = self.materialize(b, rhs);
        let (x, y) = if swap { (b, a) } else { (a, b) };
        self.at(span);
        self.emit(instr(opcode, d, x, y, 0));
    }

    // ---- calls

    /// A call of a builtin or a function of the contract, its (single) result into `d`.
    pub(super) fn call_into(&mut self, e: &Expr, d: u16) {
        let ExprKind::Call { args, .. } = &e.kind else {
            return;
        };
        if let Some(op) = self.builtin_op(e) {
            let regs: Vec<u16> = args.iter().map(|a| self.operand_reg(a)).collect();
            self.at(e.span);
            let r = |i: usize| regs.get(i).copied().unwrap_or(0);
            let i = match args.len() {
                0 => instr(op, d, 0, 0, 0),
                1 => instr(op, d, r(0), 0, 0),
                2 => instr(op, d, r(0), r(1), 0),
                _ => instr(op, d, r(0), r(1), i32::from(r(2))),
            };
            self.emit(i);
            return;
        }
        // A window at the top of the stack: arguments in, results out.
        let base = if self.is_top_temp(d) { d } else { self.top };
        self.call_window(e, base);
        if base != d {
            self.emit(instr(Opcode::Mov, d, base, 0, 0));
        }
    }

    /// Evaluates a call's arguments into `base..`, calls (a function of the contract or a
    /// native), leaves the results at `base..`. Returns how many results.
    pub(super) fn call_window(&mut self, e: &Expr, base: u16) -> usize {
        let ExprKind::Call { func, args } = &e.kind else {
            return 0;
        };
        let (op, index, nret) = match self.m.program.name_of(e) {
            Some(Name::Import(id)) => (Opcode::CallContract, id.0, self.call_returns(e).len()),
            Some(Name::Function(id)) => {
                let returns = self.call_returns(e).len();
                match self.m.functions.get(&id) {
                    Some(&index) => (Opcode::Call, index, returns),
                    None => return 0,
                }
            }
            Some(Name::Builtin(b)) => match b.lowering {
                Lowering::Native(native) => {
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
                    (Opcode::Native, native.info().id, b.returns.len())
                }
                Lowering::Op(_) => return 0,
            },
            _ => return 0,
        };
        self.top = base;
        for a in args {
            let r = self.alloc(a.span);
            self.eval_into(a, r);
        }
        while (self.top as usize) < base as usize + nret.max(1) {
            self.alloc(e.span);
        }
        self.at(e.span);
        self.emit(instr(
            op,
            base,
            args.len() as u16,
            nret as u16,
            index as i32,
        ));
        nret
    }

    // ---- branches

    /// Jumps to `label` when `e` (a bool) equals `when`; falls through otherwise.
    pub(super) fn branch(&mut self, e: &Expr, when: bool, label: usize) {
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
}
