//! Statements: blocks and their scopes, `let` (values, several results, arrays), the
//! assignments (to locals, array elements, storage scalars and map entries; `+=` on storage
//! as SADD when the function never reads it, `capped` as SADDCAP), control flow, `return`,
//! `require`, `revert`, `emit` and calls for their effect.

use super::emit::{FnGen, Slot};
use super::expr::Val;
use super::{binary_opcode, instr};
use crate::ast::*;
use crate::check::{array_length, Type};
use crate::diag::{codes, Diagnostic};
use strike_vm::isa::Opcode;

impl FnGen<'_, '_> {
    /// A block: its statements in a new scope, until one makes the rest unreachable.
    pub(super) fn block(&mut self, b: &Block) {
        self.open_scope();
        let saved = self.top;
        for s in &b.stmts {
            if !self.reachable {
                break;
            }
            self.stmt(s);
        }
        self.top = saved;
        self.close_scope();
    }

    fn stmt(&mut self, s: &Stmt) {
        let saved = self.top;
        match s {
            Stmt::Let {
                names, value, span, ..
            } => {
                self.let_(names, value, *span);
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
            } => self.for_(var, start, end, body, *span),
            Stmt::Return { values, span } => self.return_(values, *span),
            Stmt::Require {
                cond, code, span, ..
            } => {
                let code = self.revert_code(code);
                let ok = self.new_label();
                self.branch(cond, true, ok);
                self.at(*span);
                self.emit(instr(Opcode::Revert, 0, 0, 0, code));
                self.bind(ok);
            }
            Stmt::Revert { code, span, .. } => {
                let code = self.revert_code(code);
                self.at(*span);
                self.emit(instr(Opcode::Revert, 0, 0, 0, code));
            }
            Stmt::Emit { event, args, span } => self.emit_event(event, args, *span),
            Stmt::Expr(e) => {
                if matches!(e.kind, ExprKind::Call { .. }) && self.builtin_op(e).is_none() {
                    let base = self.top;
                    self.call_window(e, base);
                } else {
                    // Evaluated for its possible revert; the value is dropped.
                    let t = self.alloc(e.span);
                    self.eval_into(e, t);
                }
            }
            Stmt::Error(_) => {}
        }
        self.top = saved;
    }

    /// `let name = value;`, `let (a, b) = call;` and `let name = [fill; length];`.
    fn let_(&mut self, names: &[Ident], value: &Expr, span: Span) {
        match (names, &value.kind) {
            ([name], ExprKind::Array { .. }) => {
                let saved = self.top;
                self.let_array(name, value);
                self.top = saved;
            }
            ([name], _) => {
                let d = self.alloc(span);
                self.eval_into(value, d);
                self.top = d + 1;
                self.declare(name, d);
            }
            (_, ExprKind::Call { .. }) => {
                let base = self.top;
                let n = self.call_window(value, base);
                self.top = base + n as u16;
                for (i, name) in names.iter().enumerate().take(n) {
                    self.declare(name, base + i as u16);
                }
            }
            _ => {}
        }
    }

    /// `let name = [fill; length];`: a new array of the frame, filled. The VM zeroes a
    /// frame's arrays on entry, so a zero fill outside any loop (which runs once per call)
    /// emits nothing; otherwise a loop stores the fill into every element.
    fn let_array(&mut self, name: &Ident, value: &Expr) {
        let ExprKind::Array { fill, length, .. } = &value.kind else {
            return;
        };
        let len = array_length(length).unwrap_or(1);
        let index = self.arrays.len() as u32;
        self.arrays.push(len);
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
            self.emit(instr(Opcode::ArrayStore, v, i, 0, index as i32));
            self.emit(instr(Opcode::AddImm, i, i, 0, 1));
            self.jump_instr(Opcode::BranchLt, i, n, top);
            self.top = saved;
        }
        self.place(name, Slot::Array(index));
    }

    /// `for var in start..end { body }`: the bounds once, start then end; rotated, with the
    /// test at the bottom.
    fn for_(&mut self, var: &Ident, start: &Expr, end: &Expr, body: &Block, span: Span) {
        let i = self.alloc(span);
        self.eval_into(start, i);
        // The end is evaluated once; a local that cannot change is used in place.
        let n = match self.immutable_local(end).filter(|_| self.opt()) {
            Some(r) => r,
            None => {
                let n = self.alloc(span);
                self.eval_into(end, n);
                n
            }
        };
        let (top_label, test) = (self.new_label(), self.new_label());
        self.at(span);
        self.jump_instr(Opcode::Jump, 0, 0, test);
        self.bind(top_label);
        self.reachable = true;
        self.open_scope();
        self.declare(var, i);
        self.loop_depth += 1;
        self.block(body);
        self.loop_depth -= 1;
        self.close_scope();
        self.at(var.span);
        if self.opt() {
            self.emit(instr(Opcode::AddImm, i, i, 0, 1));
        } else {
            let one = self.alloc(var.span);
            self.emit(instr(Opcode::LoadInt, one, 0, 0, 1));
            self.emit(instr(Opcode::Add, i, i, one, 0));
        }
        self.bind(test);
        self.reachable = true;
        self.at(span);
        if self.opt() {
            self.jump_instr(Opcode::BranchLt, i, n, top_label);
        } else {
            let t = self.alloc(span);
            self.emit(instr(Opcode::Lt, t, i, n, 0));
            self.jump_instr(Opcode::JumpIfNonZero, t, 0, top_label);
        }
    }

    /// `return values;`: from the registers they are in when side by side, else through a
    /// window.
    fn return_(&mut self, values: &[Expr], span: Span) {
        if values.is_empty() {
            self.at(span);
            self.emit(instr(Opcode::Return, 0, 0, 0, 0));
        } else if let [value] = values {
            let r = self.operand_reg(value);
            self.at(span);
            self.emit(instr(Opcode::Return, r, 1, 0, 0));
        } else if let Some(first) = self.consecutive_locals(values) {
            // Already side by side in registers: return them where they are.
            self.at(span);
            self.emit(instr(Opcode::Return, first, values.len() as u16, 0, 0));
        } else {
            let base = self.top;
            for v in values {
                let r = self.alloc(v.span);
                self.eval_into(v, r);
            }
            self.at(span);
            self.emit(instr(Opcode::Return, base, values.len() as u16, 0, 0));
        }
    }

    /// `emit Name(values);`.
    fn emit_event(&mut self, event: &Ident, args: &[Expr], span: Span) {
        let index = self.m.program.event(&event.name).map_or(0, |e| e.0);
        if args.len() > self.m.limits.max_event_values as usize {
            self.m.diags.push(Diagnostic::new(
                codes::LIMIT,
                format!(
                    "an event carries at most {} values, this one {}",
                    self.m.limits.max_event_values,
                    args.len()
                ),
                span,
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
                    self.alloc(span);
                }
                base
            }
        };
        self.at(span);
        self.emit(instr(
            Opcode::Emit,
            base,
            args.len() as u16,
            0,
            index as i32,
        ));
    }

    /// A revert code: a constant expression (`-1` is one), folded even when not optimizing.
    fn revert_code(&mut self, code: &Expr) -> i32 {
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
            || (matches!(e.kind, ExprKind::Call { .. }) && self.builtin_op(e).is_some());
        if self.opt() && single_root {
            self.eval_into(e, d);
        } else {
            let saved = self.top;
            let t = self.alloc(e.span);
            self.eval_into(e, t);
            self.at(e.span);
            self.emit(instr(Opcode::Mov, d, t, 0, 0));
            self.top = saved;
        }
    }

    fn assign(
        &mut self,
        target: &Expr,
        op: AssignOp,
        value: &Expr,
        cap: Option<&Expr>,
        span: Span,
    ) {
        let arithmetic = |op: AssignOp| {
            if op == AssignOp::Add {
                BinOp::Add
            } else {
                BinOp::Sub
            }
        };
        // A local.
        if let (ExprKind::Var(_), Some(r)) = (&target.kind, self.local_reg(target)) {
            match op {
                AssignOp::Set => self.assign_local(value, r),
                AssignOp::Add | AssignOp::Sub => {
                    self.binary(arithmetic(op), target, value, r, span)
                }
            }
            return;
        }
        // An array element: the index is evaluated once.
        if let (ExprKind::Index { index, .. }, Some((array, ty))) =
            (&target.kind, self.local_array(target))
        {
            let k = self.operand_reg(index);
            let a = array as i32;
            if op == AssignOp::Set {
                let v = self.operand_reg(value);
                self.at(span);
                self.emit(instr(Opcode::ArrayStore, v, k, 0, a));
            } else {
                let old = self.alloc(target.span);
                self.at(target.span);
                self.emit(instr(Opcode::ArrayLoad, old, k, 0, a));
                let v = self.operand_reg(value);
                self.at(span);
                let (opcode, _) = binary_opcode(arithmetic(op), ty);
                self.emit(instr(opcode, old, old, v, 0));
                self.emit(instr(Opcode::ArrayStore, old, k, 0, a));
            }
            return;
        }
        // Storage: a scalar (key 0) or a map entry.
        let Some((space, _)) = self.storage(target) else {
            return;
        };
        let k = match &target.kind {
            ExprKind::Index { index, .. } => self.operand_reg(index),
            _ => {
                let k = self.alloc(target.span);
                self.at(target.span);
                self.load_const(k, 0, Type::Int);
                k
            }
        };
        let s = space as i32;
        if op == AssignOp::Set {
            let v = self.operand_reg(value);
            self.at(span);
            self.emit(instr(Opcode::StorageStore, k, v, 0, s));
        } else if let Some(cap) = cap {
            // Always SADDCAP (commutative in a parallel block, like SADD): the cap check
            // needs the value, which the VM reads itself.
            let d = self.delta(value, op);
            let c = self.operand_reg(cap);
            self.at(span);
            self.emit(instr(Opcode::StorageAddCapped, k, d, c, s));
        } else if self.opt() && !self.reads_storage(space) {
            let d = self.delta(value, op);
            self.at(span);
            self.emit(instr(Opcode::StorageAdd, k, d, 0, s));
        } else {
            let old = self.alloc(target.span);
            self.at(target.span);
            self.emit(instr(Opcode::StorageLoad, old, k, 0, s));
            let d = self.delta(value, op);
            self.at(span);
            self.emit(instr(Opcode::Add, old, old, d, 0));
            self.emit(instr(Opcode::StorageStore, k, old, 0, s));
        }
    }

    /// The delta of a storage `+=` or `-=`: `s -= d` is `s += -d` (so it can be
    /// commutative); -d reverts for the minimum value.
    fn delta(&mut self, value: &Expr, op: AssignOp) -> u16 {
        let negate = op == AssignOp::Sub;
        match self.operand(value) {
            Val::Const(c) if self.opt() && (!negate || c.checked_neg().is_some()) => {
                let t = self.alloc(value.span);
                self.at(value.span);
                let ty = self.ty(value);
                self.load_const(t, if negate { -c } else { c }, ty);
                t
            }
            v => {
                let r = self.materialize(v, value);
                if negate {
                    let t = self.alloc(value.span);
                    self.at(value.span);
                    self.emit(instr(Opcode::Neg, t, r, 0, 0));
                    t
                } else {
                    r
                }
            }
        }
    }
}
