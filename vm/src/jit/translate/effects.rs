//! Effects through the runtime: storage, events and natives call helpers that run the
//! runtime's own methods; environment reads load the runtime's fields in place; array
//! accesses are inlined, with the runtime's bounds rule checked inline and its error raised
//! through a helper.

use super::Translator;
use crate::isa::{ArrayOp, Effect, EnvValue, Instr, StorageOp};
use crate::jit::context::{OFF_CALLER, OFF_CONTRACT, OFF_NUMBER, OFF_TIMESTAMP, OFF_TMP};
use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder, MemFlagsData};

impl Translator<'_, '_, '_> {
    /// SLOAD, SSTORE, SADD, SADDCAP.
    pub(super) fn storage(&mut self, op: StorageOp, i: Instr) {
        let space = self.b.ins().iconst(types::I32, i.imm as u32 as i64);
        if op == StorageOp::Load {
            let key = self.read(i.b);
            let (lo, hi) = self.b.ins().isplit(key);
            self.call_charging(self.helpers.load, &[space, lo, hi]);
            let r = self.load_tmp();
            self.write(i.a, r);
            return;
        }
        let key = self.read(i.a);
        let value = self.read(i.b);
        let (klo, khi) = self.b.ins().isplit(key);
        let (vlo, vhi) = self.b.ins().isplit(value);
        let mode = match op {
            StorageOp::Store | StorageOp::Load => 0,
            StorageOp::Add => 1,
            StorageOp::AddCapped => {
                // The cap travels in ctx.tmp (the helper's arguments are full).
                let cap = self.read(i.c);
                let (clo, chi) = self.b.ins().isplit(cap);
                let flags = MemFlagsData::trusted();
                self.b.ins().store(flags, clo, self.ctx, OFF_TMP);
                self.b.ins().store(flags, chi, self.ctx, OFF_TMP + 8);
                2
            }
        };
        let mode = self.b.ins().iconst(types::I32, mode);
        self.call_charging(self.helpers.store, &[space, mode, klo, khi, vlo, vhi]);
    }

    /// EMIT's values, NATIVE's or XCALL's arguments, out to the stack buffer (the event,
    /// native or import in imm); NATIVE's and XCALL's results come back from it.
    pub(super) fn window_helper(&mut self, i: Instr) {
        let area = self.b.ins().stack_addr(self.ptr, self.slot, 0);
        self.store_window(area, i.a, i.b as usize);
        let which = self.b.ins().iconst(types::I32, i.imm as u32 as i64);
        let n = self.b.ins().iconst(types::I32, i64::from(i.b));
        let (helper, results) = match i.op.info().effect {
            Effect::Native => (self.helpers.native, true),
            Effect::CallContract => (self.helpers.xcall, true),
            _ => (self.helpers.emit, false),
        };
        self.call_charging(helper, &[which, area, n]);
        if results {
            self.load_window(area, i.a, i.c as usize);
        }
    }

    /// CALLER, SELF, BLOCK, TIME (the runtime's environment, in place) and GASLEFT.
    pub(super) fn env(&mut self, v: EnvValue, i: Instr) {
        let r = match v {
            EnvValue::Caller | EnvValue::Contract => {
                let off = if v == EnvValue::Caller {
                    OFF_CALLER
                } else {
                    OFF_CONTRACT
                };
                let lo = self.load(types::I64, off);
                let hi = self.load(types::I64, off + 8);
                self.b.ins().iconcat(lo, hi)
            }
            EnvValue::BlockNumber | EnvValue::Timestamp | EnvValue::GasLeft => {
                let x = match v {
                    EnvValue::BlockNumber => self.load(types::I64, OFF_NUMBER),
                    EnvValue::Timestamp => self.load(types::I64, OFF_TIMESTAMP),
                    _ => self.b.use_var(self.gas),
                };
                self.b.ins().uextend(types::I128, x)
            }
        };
        self.write(i.a, r);
    }

    /// ALOAD and ASTORE: `0 <= index < length` checked inline (the runtime's rule; its
    /// error through a helper), then the element of the frame's arrays.
    pub(super) fn array(&mut self, op: ArrayOp, i: Instr) {
        let offsets = self.module.array_offsets(self.function);
        let k = i.imm as usize;
        let (start, end) = match (offsets.get(k), offsets.get(k + 1)) {
            (Some(&s), Some(&e)) => (s, e),
            _ => (0, 0),
        };
        let length = end.saturating_sub(start);
        let index = self.read(i.b);
        let (lo, hi) = self.b.ins().isplit(index);
        // 0 <= index < length, as unsigned: the high half is 0 and the low half below the
        // length.
        let high_zero = self.b.ins().icmp_imm_s(IntCC::Equal, hi, 0);
        let low_in = self
            .b
            .ins()
            .icmp_imm_s(IntCC::UnsignedLessThan, lo, i64::from(length));
        let inside = self.b.ins().band(high_zero, low_in);
        let bad = self.b.create_block();
        let good = self.b.create_block();
        self.b.ins().brif(inside, good, &[], bad, &[]);
        self.b.switch_to_block(bad);
        self.b.set_cold_block(bad);
        let len = self.b.ins().iconst(types::I32, i64::from(length));
        self.call_helper(self.helpers.index_error, &[len, lo, hi]);
        self.b.ins().jump(self.exits.stop, &[]);
        self.b.switch_to_block(good);
        // Address: memory + 16 * (frame's first element + array start + index), inside
        // the frame's arrays by the check above.
        let element = self.b.ins().iadd(self.frame_mem, lo);
        let element = self.b.ins().iadd_imm_s(element, i64::from(start));
        let bytes = self.b.ins().ishl_imm_u(element, 4);
        let bytes = if self.ptr == types::I64 {
            bytes
        } else {
            self.b.ins().ireduce(self.ptr, bytes)
        };
        let base = self.b.use_var(self.mem_base);
        let addr = self.b.ins().iadd(base, bytes);
        if op == ArrayOp::Load {
            let v = self
                .b
                .ins()
                .load(types::I128, MemFlagsData::trusted(), addr, 0);
            self.write(i.a, v);
        } else {
            let v = self.read(i.a);
            self.b.ins().store(MemFlagsData::trusted(), v, addr, 0);
        }
    }
}
