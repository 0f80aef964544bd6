//! The emitter primitives every statement goes through (as `luaK_code*` in Lua's
//! `lcode.c`): instructions with their source positions, the register stack, labels and
//! jumps, locals' registers, and the constants known to be in registers. What an
//! instruction overwrites comes from its opcode's operand roles.

use super::{instr, ModuleGen};
use crate::ast::{Block, Expr, Ident, Span};
use crate::check::{FunctionDef, LocalId, Name, SlotType, StorageId, Type};
use crate::diag::{codes, Diagnostic};
use crate::source::Lines;
use std::collections::HashMap;
use strike_vm::isa::{Function, Instr, Opcode};

/// Where a local lives once declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Slot {
    /// A register.
    Reg(u16),
    /// One of the frame's arrays, by index.
    Array(u32),
}

/// A jump waiting for its label.
struct Fixup {
    pc: usize,
    label: usize,
}

/// One function being compiled.
pub(super) struct FnGen<'m, 'a> {
    pub(super) m: &'m mut ModuleGen<'a>,
    lines: &'m Lines<'m>,
    /// The function's declaration: its signature, locals and storage reads.
    def: &'a FunctionDef,
    code: Vec<Instr>,
    positions: Vec<(u32, u32)>,
    pos: (u32, u32),
    /// Per local (by id): where it lives, once its declaration is compiled.
    locals: Vec<Option<Slot>>,
    /// The registers of the locals in scope, and where each open scope's start.
    live: Vec<u16>,
    scopes: Vec<usize>,
    /// The first free register: temporaries are a stack from here.
    pub(super) top: u16,
    max_regs: u32,
    labels: Vec<Option<usize>>,
    /// Per label: whether any emitted jump targets it (so code after it is reachable).
    jumped: Vec<bool>,
    fixups: Vec<Fixup>,
    pub(super) reachable: bool,
    /// The first span where a limit was exceeded.
    overflow: Option<(Span, String)>,
    /// Registers holding a known constant since the start of the current basic block.
    known: HashMap<u16, i128>,
    /// The function's arrays, by length.
    pub(super) arrays: Vec<u32>,
    /// Loops around the statement being lowered.
    pub(super) loop_depth: u32,
}

impl<'m, 'a> FnGen<'m, 'a> {
    pub(super) fn new(
        m: &'m mut ModuleGen<'a>,
        lines: &'m Lines<'m>,
        def: &'a FunctionDef,
        pos: (u32, u32),
    ) -> Self {
        FnGen {
            m,
            lines,
            def,
            code: Vec::new(),
            positions: Vec::new(),
            pos,
            locals: vec![None; def.locals.len()],
            live: Vec::new(),
            scopes: Vec::new(),
            top: 0,
            max_regs: 1,
            labels: Vec::new(),
            jumped: Vec::new(),
            fixups: Vec::new(),
            reachable: true,
            overflow: None,
            known: HashMap::new(),
            arrays: Vec::new(),
            loop_depth: 0,
        }
    }

    /// Closes the function: the implicit end of its body, jump offsets, limits; its code
    /// and positions.
    pub(super) fn finish(
        mut self,
        body: &Block,
        name: &Ident,
    ) -> Result<super::Compiled, Vec<Diagnostic>> {
        let returns = self.def.signature.returns.len();
        if self.reachable {
            let end = Span::new(body.span.end.saturating_sub(1), body.span.end);
            self.at(end);
            if returns == 0 {
                self.emit(instr(Opcode::Return, 0, 0, 0, 0));
            } else {
                // The checker proves every path returns; a loop the checker cannot see
                // through may still end here, where reverting is the only honest outcome.
                self.emit(instr(Opcode::Revert, 0, 0, 0, 0));
            }
        }
        for fix in &self.fixups {
            let target = self
                .labels
                .get(fix.label)
                .copied()
                .flatten()
                .unwrap_or(self.code.len());
            if let Some(i) = self.code.get_mut(fix.pc) {
                i.imm = target as i32 - fix.pc as i32 - 1;
            }
        }
        if self.code.len() > self.m.limits.max_code_len as usize && self.overflow.is_none() {
            self.overflow = Some((
                name.span,
                "this function is longer than the VM's limit".into(),
            ));
        }
        if let Some((span, message)) = self.overflow.take() {
            self.m.diags.push(
                Diagnostic::new(codes::LIMIT, message, span, "too large")
                    .help("split it into smaller functions"),
            );
        }
        let function = Function {
            params: self.def.signature.params.len() as u8,
            returns: returns as u8,
            registers: self.max_regs.clamp(1, 256) as u16,
            arrays: std::mem::take(&mut self.arrays),
            code: std::mem::take(&mut self.code),
        };
        Ok((function, std::mem::take(&mut self.positions)))
    }

    pub(super) fn opt(&self) -> bool {
        self.m.opts.optimize
    }

    /// The source position of the instructions emitted next.
    pub(super) fn at(&mut self, span: Span) {
        self.pos = self.lines.position(span.start);
    }

    /// Emits `i` (unless unreachable), forgetting the constants it overwrites.
    pub(super) fn emit(&mut self, i: Instr) {
        if self.reachable {
            self.code.push(i);
            self.positions.push(self.pos);
        }
        // Forget what this instruction overwrites: the registers its roles say it writes.
        for r in i.writes() {
            self.known.remove(&u16::from(r));
        }
        if !i.op.falls_through() {
            self.reachable = false;
        }
    }

    /// A new temporary at the top of the register stack.
    pub(super) fn alloc(&mut self, span: Span) -> u16 {
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
    pub(super) fn is_top_temp(&self, d: u16) -> bool {
        d + 1 == self.top && !self.live.contains(&d)
    }

    pub(super) fn new_label(&mut self) -> usize {
        self.labels.push(None);
        self.jumped.push(false);
        self.labels.len() - 1
    }

    /// Places `label` here: a basic block starts, so nothing is known about registers.
    pub(super) fn bind(&mut self, label: usize) {
        self.known.clear();
        let here = self.code.len();
        if let Some(l) = self.labels.get_mut(label) {
            *l = Some(here);
        }
        if self.jumped.get(label).copied().unwrap_or(false) {
            self.reachable = true;
        }
    }

    /// Emits a jump of `op` on registers `a`, `b` to `label`, fixed up at the end.
    pub(super) fn jump_instr(&mut self, op: Opcode, a: u16, b: u16, label: usize) {
        if !self.reachable {
            return;
        }
        self.fixups.push(Fixup {
            pc: self.code.len(),
            label,
        });
        if let Some(j) = self.jumped.get_mut(label) {
            *j = true;
        }
        self.emit(instr(op, a, b, 0, 0));
    }

    // ---- locals, from the checker's ids

    pub(super) fn open_scope(&mut self) {
        self.scopes.push(self.live.len());
    }

    pub(super) fn close_scope(&mut self) {
        if let Some(n) = self.scopes.pop() {
            self.live.truncate(n);
        }
    }

    /// Compiles the declaration of the local `name` declares: it lives in register `reg`.
    pub(super) fn declare(&mut self, name: &Ident, reg: u16) {
        self.place(name, Slot::Reg(reg));
        self.live.push(reg);
    }

    /// The local `name` declares lives in `slot`.
    pub(super) fn place(&mut self, name: &Ident, slot: Slot) {
        let id = self.m.program.declared_at(name.span.start, &name.name);
        if let Some(s) = id.and_then(|LocalId(l)| self.locals.get_mut(l as usize)) {
            *s = Some(slot);
        }
    }

    /// The local `e` names and where it lives.
    fn local(&self, e: &Expr) -> Option<(LocalId, Slot)> {
        match self.m.program.name_of(e)? {
            Name::Local(id) => Some((id, self.locals.get(id.0 as usize).copied().flatten()?)),
            _ => None,
        }
    }

    /// The register of the local value `e` names.
    pub(super) fn local_reg(&self, e: &Expr) -> Option<u16> {
        match self.local(e)? {
            (_, Slot::Reg(r)) => Some(r),
            _ => None,
        }
    }

    /// The array `e` (an index expression) indexes: its index and element type.
    pub(super) fn local_array(&self, e: &Expr) -> Option<(u32, Type)> {
        match self.local(e)? {
            (_, Slot::Array(a)) => Some((a, self.ty(e))),
            _ => None,
        }
    }

    /// The register of `e` if it is a local that can never change (a parameter, a plain
    /// `let`, a loop variable outside its own loop's step).
    pub(super) fn immutable_local(&self, e: &Expr) -> Option<u16> {
        match self.local(e)? {
            (LocalId(l), Slot::Reg(r)) => self
                .def
                .locals
                .get(l as usize)
                .filter(|d| !d.mutable)
                .map(|_| r),
            _ => None,
        }
    }

    /// The storage variable `e` (a variable or map index) names: its space and type.
    pub(super) fn storage(&self, e: &Expr) -> Option<(u32, SlotType)> {
        match self.m.program.name_of(e)? {
            Name::Storage(StorageId(s)) => {
                let var = self.m.program.storage.get(s as usize)?;
                Some((var.space, var.ty))
            }
            _ => None,
        }
    }

    /// Whether the function reads storage variable `space` (then its `+=` is no SADD).
    pub(super) fn reads_storage(&self, space: u32) -> bool {
        let id = self.m.program.storage.iter().position(|v| v.space == space);
        id.is_some_and(|id| self.def.reads_storage.contains(&StorageId(id as u32)))
    }

    /// The checker's type of `e` (the checker typed every expression of a program without
    /// diagnostics; int is never reached).
    pub(super) fn ty(&self, e: &Expr) -> Type {
        self.m.program.type_of(e).unwrap_or(Type::Int)
    }

    // ---- constants

    /// Loads a known value into register `d`, in the cheapest form.
    pub(super) fn load_const(&mut self, d: u16, v: i128, ty: Type) {
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
        if ty != Type::Fx {
            if let Ok(imm) = i32::try_from(v) {
                self.emit(instr(Opcode::LoadInt, d, 0, 0, imm));
                return;
            }
        } else if v & ((1 << 64) - 1) == 0 {
            if let Ok(imm) = i32::try_from(v >> 64) {
                self.emit(instr(Opcode::LoadFx, d, 0, 0, imm));
                return;
            }
        }
        let k = self.m.constant(v);
        self.emit(instr(Opcode::LoadConst, d, 0, 0, k));
    }
}
