//! Pure opcodes: `r[a] = f(inputs)`. Moves, constants, integer add, subtract, negate,
//! abs, min/max, comparisons, bit operations, fx-to-int, int multiply of operands that
//! fit 64 bits and the fx multiply with rounding to nearest even (MUL, MULK) are inlined,
//! with overflow checks written out; every other pure opcode (the directed-rounding
//! multiplies, divide, mul_div, the math kernels, wide int multiply, divide, remainder,
//! int to fx) calls the table's own function through the `pure1..3` helpers. The inline
//! fx multiply is `math::mul`'s own fast path (four 64-bit multiplies, the exact floor and
//! a carry for the rounding); where that path would leave i128 it calls the kernel, which
//! decides overflow. What is inlined is checked against `crate::isa::semantics` by the
//! differential tests (`tests/jit_differential.rs`: 200,000 multiplications at ties, the
//! overflow boundary and the extremes; `tests/roles.rs`).

use super::{const128, is_zero128, Translator};
use crate::isa::{Instr, Opcode, Role};
use crate::jit::helpers;
use crate::jit::CompileError;
use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder, Value};

impl Translator<'_, '_, '_> {
    /// The instruction's inputs in word order, as its roles say: registers read, an
    /// integer immediate, a pool constant.
    fn inputs(&mut self, i: Instr) -> Vec<Value> {
        let roles = i.op.operands();
        let mut out = Vec::with_capacity(3);
        for (role, x) in [(roles.b, i.b), (roles.c, i.c)] {
            if role == Role::Read {
                out.push(self.read(x));
            }
        }
        match roles.imm {
            Role::Read => out.push(self.read(i.d())),
            Role::Int => out.push(const128(self.b, i128::from(i.imm))),
            Role::Const => {
                let k = self
                    .module
                    .module()
                    .constants
                    .get(i.imm as usize)
                    .copied()
                    .unwrap_or(0);
                out.push(const128(self.b, k));
            }
            _ => {}
        }
        out
    }

    pub(super) fn pure(&mut self, i: Instr) -> Result<(), CompileError> {
        let x = self.inputs(i);
        let r = match (i.op, x.as_slice()) {
            (Opcode::Mov | Opcode::LoadInt | Opcode::LoadConst, &[v]) => v,
            (Opcode::LoadFx, _) => const128(self.b, i128::from(i.imm) << 64),
            (Opcode::Add | Opcode::AddImm | Opcode::AddConst, &[x, y]) => self.add(i, x, y),
            (Opcode::Sub, &[x, y]) => self.sub(x, y),
            (Opcode::Neg | Opcode::Abs, &[x]) => self.neg_abs(i.op, x),
            (Opcode::Min | Opcode::Max, &[x, y]) => self.min_max(i.op, x, y),
            (Opcode::IntMul, &[x, y]) => self.int_mul(i, x, y)?,
            (Opcode::Mul | Opcode::MulConst, &[x, y]) => self.fx_mul(i.op, x, y)?,
            (Opcode::FxToInt, &[x]) => self.b.ins().sshr_imm_s(x, 64),
            (Opcode::Eq | Opcode::Ne | Opcode::Lt | Opcode::Le, &[x, y]) => {
                let c = self.b.ins().icmp(condition(i.op), x, y);
                self.b.ins().uextend(types::I128, c)
            }
            (Opcode::And, &[x, y]) => self.b.ins().band(x, y),
            (Opcode::Or, &[x, y]) => self.b.ins().bor(x, y),
            (Opcode::Xor, &[x, y]) => self.b.ins().bxor(x, y),
            (Opcode::Not, &[x]) => {
                let c = is_zero128(self.b, x);
                self.b.ins().uextend(types::I128, c)
            }
            (op, inputs) => self.pure_helper(op, inputs)?,
        };
        self.write(i.a, r);
        Ok(())
    }

    /// The table's function of `op` on `inputs`, through the opcode's own entry
    /// (`helpers::pure_entry`), called by its address.
    pub(super) fn pure_helper(
        &mut self,
        op: Opcode,
        inputs: &[Value],
    ) -> Result<Value, CompileError> {
        let (Some(entry), Some(&sig)) = (
            helpers::pure_entry(op),
            self.pure_signatures.get(inputs.len().wrapping_sub(1)),
        ) else {
            return Err(CompileError(format!(
                "no entry for {op:?} of {} inputs",
                inputs.len()
            )));
        };
        let callee = self.b.ins().iconst(self.ptr, entry as usize as i64);
        let mut args = vec![self.ctx];
        for &v in inputs {
            let (lo, hi) = self.b.ins().isplit(v);
            args.push(lo);
            args.push(hi);
        }
        let call = self.b.ins().call_indirect(sig, callee, &args);
        let status = self
            .b
            .inst_results(call)
            .first()
            .copied()
            .unwrap_or(self.ctx);
        self.guard(status, self.exits.stop);
        Ok(self.load_tmp())
    }

    fn add(&mut self, i: Instr, x: Value, y: Value) -> Value {
        let (r, bad) = match (i.op, i.imm) {
            // A positive immediate: overflow iff x >= 0 and r < 0 (signs: the high halves).
            (Opcode::AddImm, imm) if imm > 0 => {
                let r = self.b.ins().iadd(x, y);
                let (_, xh) = self.b.ins().isplit(x);
                let (_, rh) = self.b.ins().isplit(r);
                let t = self.b.ins().band_not(rh, xh);
                (r, self.b.ins().icmp_imm_s(IntCC::SignedLessThan, t, 0))
            }
            // A negative one: iff x < 0 and r >= 0.
            (Opcode::AddImm, imm) if imm < 0 => {
                let r = self.b.ins().iadd(x, y);
                let (_, xh) = self.b.ins().isplit(x);
                let (_, rh) = self.b.ins().isplit(r);
                let t = self.b.ins().band_not(xh, rh);
                (r, self.b.ins().icmp_imm_s(IntCC::SignedLessThan, t, 0))
            }
            _ => self.add_overflowing(x, y),
        };
        self.guard(bad, self.exits.overflow);
        r
    }

    fn sub(&mut self, x: Value, y: Value) -> Value {
        let r = self.b.ins().isub(x, y);
        // Overflow iff the operands differ in sign and the result differs from x (signs:
        // the high halves).
        let (_, xh) = self.b.ins().isplit(x);
        let (_, yh) = self.b.ins().isplit(y);
        let (_, rh) = self.b.ins().isplit(r);
        let t1 = self.b.ins().bxor(xh, yh);
        let t2 = self.b.ins().bxor(xh, rh);
        let t = self.b.ins().band(t1, t2);
        let bad = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, t, 0);
        self.guard(bad, self.exits.overflow);
        r
    }

    fn neg_abs(&mut self, op: Opcode, x: Value) -> Value {
        let min = const128(self.b, i128::MIN);
        let bad = self.b.ins().icmp(IntCC::Equal, x, min);
        self.guard(bad, self.exits.overflow);
        if op == Opcode::Neg {
            self.b.ins().ineg(x)
        } else {
            // (x ^ s) - s with s = x >> 127: no select, which Cranelift would turn into an
            // i128 iabs its x86 backend lacks.
            let sign = self.b.ins().sshr_imm_s(x, 127);
            let flipped = self.b.ins().bxor(x, sign);
            self.b.ins().isub(flipped, sign)
        }
    }

    fn min_max(&mut self, op: Opcode, x: Value, y: Value) -> Value {
        // Branch-free, by mask: Cranelift's x86 backend has no i128 smin/smax, which a
        // select on a comparison would be optimised into.
        let lt = self.b.ins().icmp(IntCC::SignedLessThan, x, y);
        let one = self.b.ins().uextend(types::I128, lt);
        let mask = self.b.ins().ineg(one);
        let (first, second) = if op == Opcode::Min { (x, y) } else { (y, x) };
        let keep = self.b.ins().band(first, mask);
        let other = self.b.ins().band_not(second, mask);
        self.b.ins().bor(keep, other)
    }

    /// The signed 128-bit product of a signed and an unsigned 64-bit value, as (low, high).
    fn mul_signed_unsigned(&mut self, signed: Value, unsigned: Value) -> (Value, Value) {
        let lo = self.b.ins().imul(signed, unsigned);
        // umulhi reads `signed` as unsigned: 2^64 * unsigned too much when it is negative.
        let hi = self.b.ins().umulhi(signed, unsigned);
        let mask = self.b.ins().sshr_imm_s(signed, 63);
        let fix = self.b.ins().band(mask, unsigned);
        (lo, self.b.ins().isub(hi, fix))
    }

    /// r = x + y on i128 values, and whether it overflowed: iff both operands differ in
    /// sign from the result, a test of the high halves alone, which hold the signs.
    fn add_overflowing(&mut self, x: Value, y: Value) -> (Value, Value) {
        let r = self.b.ins().iadd(x, y);
        let (_, xh) = self.b.ins().isplit(x);
        let (_, yh) = self.b.ins().isplit(y);
        let (_, rh) = self.b.ins().isplit(r);
        let t1 = self.b.ins().bxor(xh, rh);
        let t2 = self.b.ins().bxor(yh, rh);
        let t = self.b.ins().band(t1, t2);
        (r, self.b.ins().icmp_imm_s(IntCC::SignedLessThan, t, 0))
    }

    /// MUL and MULK: `math::mul` (round to nearest, ties to even) inline for operands below
    /// 2^31 in magnitude (high halves that fit i32), by its fast path
    /// (`math::arith::mul_floor_fast`): with x = xh 2^64 + xl and y = yh 2^64 + yl,
    /// floor(x y / 2^64) = xh yh 2^64 + xh yl + xl yh + floor(xl yl / 2^64), and the
    /// fraction xl yl mod 2^64 rounds it. For such operands no sum can leave i128 (|x y| /
    /// 2^64 < 2^126), so the inline code has no overflow test. Wider operands call the
    /// kernel itself (through its helper, in a cold block), which decides overflow.
    fn fx_mul(&mut self, op: Opcode, x: Value, y: Value) -> Result<Value, CompileError> {
        let (xl, xh) = self.b.ins().isplit(x);
        let (yl, yh) = self.b.ins().isplit(y);
        let x_narrow = self.b.ins().ireduce(types::I32, xh);
        let x_back = self.b.ins().sextend(types::I64, x_narrow);
        let x_small = self.b.ins().icmp(IntCC::Equal, x_back, xh);
        let y_narrow = self.b.ins().ireduce(types::I32, yh);
        let y_back = self.b.ins().sextend(types::I64, y_narrow);
        let y_small = self.b.ins().icmp(IntCC::Equal, y_back, yh);
        let small = self.b.ins().band(x_small, y_small);
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let join = self.b.create_block();
        self.b.append_block_param(join, types::I128);
        self.b.ins().brif(small, fast, &[], slow, &[]);
        self.b.set_cold_block(slow);

        self.b.switch_to_block(fast);
        let zero = self.b.ins().iconst(types::I64, 0);
        let low_lo = self.b.ins().imul(xl, yl);
        let low_hi = self.b.ins().umulhi(xl, yl);
        let high = self.b.ins().imul(xh, yh); // |xh yh| < 2^62
        let (c1_lo, c1_hi) = self.mul_signed_unsigned(xh, yl);
        let (c2_lo, c2_hi) = self.mul_signed_unsigned(yh, xl);
        let shifted = self.b.ins().iconcat(zero, high);
        let cross1 = self.b.ins().iconcat(c1_lo, c1_hi);
        let cross2 = self.b.ins().iconcat(c2_lo, c2_hi);
        let carry_in = self.b.ins().iconcat(low_hi, zero);
        let s1 = self.b.ins().iadd(shifted, cross1);
        let s2 = self.b.ins().iadd(cross2, carry_in);
        let floor = self.b.ins().iadd(s1, s2);
        // Round up iff the fraction exceeds half, or equals it with an odd floor: the
        // carry out of fraction + 2^63 - 1 + (floor & 1).
        let (floor_lo, _) = self.b.ins().isplit(floor);
        let odd = self.b.ins().band_imm_u(floor_lo, 1);
        let bias = self.b.ins().iadd_imm_s(odd, i64::MAX);
        let sum = self.b.ins().iadd(low_lo, bias);
        let up = self.b.ins().icmp(IntCC::UnsignedLessThan, sum, low_lo);
        let up = self.b.ins().uextend(types::I128, up);
        let r = self.b.ins().iadd(floor, up);
        self.b.ins().jump(join, &[r.into()]);

        self.b.switch_to_block(slow);
        let kernel = self.pure_helper(op, &[x, y])?;
        self.b.ins().jump(join, &[kernel.into()]);
        self.b.switch_to_block(join);
        Ok(self.b.block_params(join).first().copied().unwrap_or(kernel))
    }

    fn int_mul(&mut self, i: Instr, x: Value, y: Value) -> Result<Value, CompileError> {
        // Inline when both operands fit in i64: the full 128-bit product then cannot
        // overflow. Otherwise the table's checked multiply, through the helper.
        let (xl, xh) = self.b.ins().isplit(x);
        let (yl, yh) = self.b.ins().isplit(y);
        let xs = self.b.ins().sshr_imm_s(xl, 63);
        let ys = self.b.ins().sshr_imm_s(yl, 63);
        let x_small = self.b.ins().icmp(IntCC::Equal, xh, xs);
        let small = if i.b == i.c {
            x_small // a square: one test
        } else {
            let y_small = self.b.ins().icmp(IntCC::Equal, yh, ys);
            self.b.ins().band(x_small, y_small)
        };
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let join = self.b.create_block();
        self.b.append_block_param(join, types::I128);
        self.b.ins().brif(small, fast, &[], slow, &[]);
        self.b.switch_to_block(fast);
        let lo = self.b.ins().imul(xl, yl);
        let hi = self.b.ins().smulhi(xl, yl);
        let product = self.b.ins().iconcat(lo, hi);
        self.b.ins().jump(join, &[product.into()]);
        self.b.switch_to_block(slow);
        let r = self.pure_helper(i.op, &[x, y])?;
        self.b.ins().jump(join, &[r.into()]);
        self.b.switch_to_block(join);
        Ok(self
            .b
            .block_params(join)
            .first()
            .copied()
            .unwrap_or(product))
    }
}

/// The integer condition of a comparison or compare-and-branch opcode.
pub(super) fn condition(op: Opcode) -> IntCC {
    match op {
        Opcode::Eq | Opcode::BranchEq => IntCC::Equal,
        Opcode::Ne | Opcode::BranchNe => IntCC::NotEqual,
        Opcode::Lt | Opcode::BranchLt => IntCC::SignedLessThan,
        _ => IntCC::SignedLessThanOrEqual,
    }
}
