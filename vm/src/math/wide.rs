//! Integer arithmetic wider than 128 bits, exactly as much as the kernels need.
//!
//! Guarantees: every function here is exact (or documents its one truncation), branch-free
//! of panics for the inputs its callers can produce (preconditions are stated and checked
//! in debug builds), and uses only integer instructions.

const LOW64: u128 = u64::MAX as u128;

/// Full 256-bit product of two u128: returns (high, low) halves.
#[inline(always)]
pub(crate) const fn mul_u128(a: u128, b: u128) -> (u128, u128) {
    let (a1, a0) = (a >> 64, a & LOW64);
    let (b1, b0) = (b >> 64, b & LOW64);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // Each term is < 2^64, so the sum is < 3 * 2^64: no overflow.
    let mid = (p00 >> 64) + (p01 & LOW64) + (p10 & LOW64);
    let lo = (mid << 64) | (p00 & LOW64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

/// floor(u * c / 2^64): two multiplications instead of four when one factor is a u64.
/// The result must fit in 128 bits (always true when u < 2^128 and c < 2^64).
#[inline(always)]
pub(crate) const fn mul_u128_u64_shr64(u: u128, c: u64) -> u128 {
    (u >> 64) * c as u128 + (((u & LOW64) * c as u128) >> 64)
}

/// floor((hi * 2^128 + lo) / 2^s) for s in 0..256, keeping the low 128 bits of the quotient.
#[inline(always)]
pub(crate) const fn shr_u256(hi: u128, lo: u128, s: u32) -> u128 {
    if s == 0 {
        lo
    } else if s < 128 {
        (hi << (128 - s)) | (lo >> s)
    } else if s < 256 {
        hi >> (s - 128)
    } else {
        0
    }
}

/// floor(p * u / 2^63) for |p| < 2^126: the Horner step of the piecewise polynomials.
#[inline(always)]
pub(crate) const fn mul_shr63(p: i128, u: i64) -> i128 {
    // p = ph * 2^64 + pl with pl unsigned; floor((A * 2^64 + B) / 2^63) = 2A + floor(B / 2^63).
    let ph = (p >> 64) as i64;
    let pl = p as u64;
    let a = ph as i128 * u as i128;
    // pl * u as a signed product, from one unsigned 64 x 64 multiply: reading u as unsigned
    // adds 2^64 pl when u < 0, which the mask takes away (exact, mod 2^128).
    let b = (pl as u128 * u as u64 as u128)
        .wrapping_sub(((u >> 63) as u64 & pl) as u128 * (1 << 64)) as i128;
    2 * a + (b >> 63)
}

/// floor(p * b / 2^s) for 64 <= s < 192 and |p * b| < 2^(s + 127).
#[inline(always)]
pub(crate) const fn mul_shr_i64(p: i128, b: i64, s: u32) -> i128 {
    debug_assert!(s >= 64 && s < 192);
    let ph = (p >> 64) as i64;
    let pl = p as u64;
    let a = ph as i128 * b as i128;
    let low = (pl as i128 * b as i128) >> 64;
    // floor((a * 2^64 + B) / 2^s) = floor((a + floor(B / 2^64)) / 2^(s - 64))
    (a + low) >> (s - 64)
}

/// g * t / 2^127 for |g|, |t| < 2^126, within 2 below the exact floor. With
/// t = th 2^64 + tl (th signed, tl unsigned), g * th / 2^63 and g * tl / 2^127 are each
/// floored: four multiplications and no branches, for Horner steps that tolerate 2^-126.
#[inline(always)]
pub(crate) const fn mul_shr127_approx(g: i128, t: i128) -> i128 {
    let high = mul_shr63(g, (t >> 64) as i64); // floor(g * th / 2^63)
    let tl = t as u64 as i128;
    let (gh, gl) = (g >> 64, g as u64 as u128);
    // floor(g * tl / 2^127) = floor((gh * tl + floor(gl * tl / 2^64)) / 2^63)
    let low = (gh * tl + ((gl * tl as u128) >> 64) as i128) >> 63;
    high + low
}

/// floor(a * b / 2^s) for signed a, b and 0 < s < 256, the result assumed to fit in i128.
#[inline]
pub(crate) const fn mul_shr_i128(a: i128, b: i128, s: u32) -> i128 {
    let negative = (a < 0) != (b < 0);
    let (hi, lo) = mul_u128(a.unsigned_abs(), b.unsigned_abs());
    let q = shr_u256(hi, lo, s);
    if negative {
        // floor of a negative quotient: -(q + 1) when any bit was shifted out.
        let inexact = if s >= 128 {
            lo != 0 || (hi & ((1u128 << (s - 128)) - 1)) != 0
        } else {
            (lo & ((1u128 << s) - 1)) != 0
        };
        -(q as i128) - inexact as i128
    } else {
        q as i128
    }
}

/// Truncated product of two 192-bit numbers (three little-endian u64 limbs):
/// returns floor(a * b / 2^192) - d with 0 <= d <= 4, the exact product being < 2^384.
///
/// The partial products a0*b0, a0*b1 and a1*b0 (together < 2^194) are not formed; every
/// other bit is summed exactly, so the result is short of the true floor by at most 4.
#[inline(always)]
pub(crate) const fn mul3_hi(a: [u64; 3], b: [u64; 3]) -> [u64; 3] {
    const fn m(x: u64, y: u64) -> u128 {
        x as u128 * y as u128
    }
    let t20 = m(a[2], b[0]);
    let t11 = m(a[1], b[1]);
    let t02 = m(a[0], b[2]);
    let t21 = m(a[2], b[1]);
    let t12 = m(a[1], b[2]);
    let t22 = m(a[2], b[2]);
    // Column 2 (bits 128..192): its carry into column 3 is kept, its bits are dropped.
    let mut acc = (t20 & LOW64) + (t11 & LOW64) + (t02 & LOW64);
    acc >>= 64;
    acc += (t20 >> 64) + (t11 >> 64) + (t02 >> 64) + (t21 & LOW64) + (t12 & LOW64);
    let r0 = acc as u64;
    acc >>= 64;
    acc += (t21 >> 64) + (t12 >> 64) + (t22 & LOW64);
    let r1 = acc as u64;
    acc >>= 64;
    acc += t22 >> 64;
    [r0, r1, acc as u64]
}

/// Sum of two 192-bit numbers; the caller guarantees no carry out of the top limb.
#[inline(always)]
pub(crate) const fn add3(a: [u64; 3], b: [u64; 3]) -> [u64; 3] {
    let s0 = a[0] as u128 + b[0] as u128;
    let s1 = a[1] as u128 + b[1] as u128 + (s0 >> 64);
    let s2 = a[2] as u128 + b[2] as u128 + (s1 >> 64);
    [s0 as u64, s1 as u64, s2 as u64]
}

/// A 192-bit value as (high 64 bits, low 128 bits).
#[inline(always)]
pub(crate) const fn split3(a: [u64; 3]) -> (u128, u128) {
    (a[2] as u128, ((a[1] as u128) << 64) | a[0] as u128)
}

/// The 256-bit value hi * 2^128 + lo as three limbs; the caller guarantees hi < 2^64.
#[inline(always)]
pub(crate) const fn join3(hi: u128, lo: u128) -> [u64; 3] {
    [lo as u64, (lo >> 64) as u64, hi as u64]
}

/// Quotient and remainder of (hi * 2^128 + lo) / d, for d > 0 and hi < d (so the quotient
/// fits in 128 bits). Knuth's algorithm D with two 64-bit quotient digits (Hacker's
/// Delight, `divlu`, widened to 128-bit words), each digit estimated by one 128-by-64-bit
/// hardware division ([`div_2by1`]).
pub(crate) fn div_rem_u256(hi: u128, lo: u128, d: u128) -> (u128, u128) {
    debug_assert!(d != 0 && hi < d);
    let s = d.leading_zeros();
    let d = d << s;
    let (d1, d0) = ((d >> 64) as u64, d as u64);
    let un32 = if s == 0 {
        hi
    } else {
        (hi << s) | (lo >> (128 - s))
    };
    let un10 = lo << s;
    let (un1, un0) = ((un10 >> 64) as u64, un10 as u64);

    let (q1, un21) = quotient_digit(un32, un1, d, d1, d0);
    let (q0, r) = quotient_digit(un21, un0, d, d1, d0);
    (((q1 as u128) << 64) | q0 as u128, r >> s)
}

/// One step of algorithm D: the 64-bit quotient digit q of (u * 2^64 + next) / d and the
/// remainder, for a normalised d = d1 * 2^64 + d0 (top bit set) and u < d. The estimate
/// from u's top two digits and d1 is corrected at most twice against d0 (Knuth's theorem
/// B); with a two-digit divisor that makes it exact.
#[inline(always)]
fn quotient_digit(u: u128, next: u64, d: u128, d1: u64, d0: u64) -> (u64, u128) {
    const B: u128 = 1 << 64;
    let (u2, u1) = ((u >> 64) as u64, u as u64);
    // u < d, so u2 <= d1; when they are equal the digit is B - 1 or B - 2.
    let (mut q, mut rhat) = if u2 < d1 {
        let (q, r) = div_2by1(u2, u1, d1);
        (q, r as u128)
    } else {
        (u64::MAX, u1 as u128 + d1 as u128)
    };
    while rhat < B && q as u128 * d0 as u128 > (rhat << 64) + next as u128 {
        q -= 1;
        rhat += d1 as u128;
    }
    // The true remainder is below d, so wrapping arithmetic gives it exactly.
    let r = (u << 64)
        .wrapping_add(next as u128)
        .wrapping_sub((q as u128).wrapping_mul(d));
    (q, r)
}

/// (hi * 2^64 + lo) / d and its remainder, for hi < d (so that the quotient fits 64
/// bits): one `div` instruction on x86-64, which the u128 division of Rust's runtime does
/// not reduce to; the portable u128 division elsewhere. (hi >= d, which no caller passes,
/// takes the portable path too, so that it cannot fault.)
#[inline(always)]
pub(crate) fn div_2by1(hi: u64, lo: u64, d: u64) -> (u64, u64) {
    debug_assert!(hi < d);
    #[cfg(target_arch = "x86_64")]
    if hi < d {
        let (q, r): (u64, u64);
        // SAFETY: `div` divides rdx:rax by its operand and faults only on a zero divisor
        // or a quotient above 2^64 - 1. Here d > hi >= 0 and (hi * 2^64 + lo) / d <
        // (hi + 1) * 2^64 / d <= 2^64, so neither can happen. It reads and writes only the
        // registers named, touches no memory and no stack.
        #[allow(unsafe_code)]
        unsafe {
            core::arch::asm!(
                "div {d}",
                d = in(reg) d,
                inout("rax") lo => q,
                inout("rdx") hi => r,
                options(pure, nomem, nostack)
            );
        }
        return (q, r);
    }
    let n = ((hi as u128) << 64) | lo as u128;
    ((n / d as u128) as u64, (n % d as u128) as u64)
}

/// floor(sqrt(n)) for n = hi * 2^128 + lo < 2^196: the defined algorithm of
/// spec/numerics.md section 4, which the tests hold `sqrt`'s shorter route to.
///
/// Karatsuba square root (Zimmermann 1999) with base beta = 2^49: after an even
/// normalising shift, n = a3 b^3 + a2 b^2 + a1 b + a0 with a3 >= b/4; the root of the top
/// half comes from `u128::isqrt`, one 101-by-50-bit division gives the next 49 bits, and a
/// single correction makes the result exact.
#[cfg(test)]
pub(crate) fn isqrt_u256(hi: u128, lo: u128) -> u128 {
    debug_assert!(hi < 1 << 68);
    if hi == 0 && lo == 0 {
        return 0;
    }
    let lz = if hi != 0 {
        hi.leading_zeros()
    } else {
        128 + lo.leading_zeros()
    };
    // Shift left by an even amount so that the top set bit lands on bit 194 or 195.
    let sh = (lz - 60) & !1;
    let (nh, nl) = if sh == 0 {
        (hi, lo)
    } else if sh < 128 {
        ((hi << sh) | (lo >> (128 - sh)), lo << sh)
    } else {
        (lo << (sh - 128), 0)
    };
    const BETA_BITS: u32 = 49;
    const MASK: u128 = (1 << BETA_BITS) - 1;
    let a0 = nl & MASK;
    let a1 = (nl >> BETA_BITS) & MASK;
    let top = shr_u256(nh, nl, 2 * BETA_BITS); // a3 * beta + a2, < 2^98
    let s1 = top.isqrt();
    let r1 = top - s1 * s1;
    let num = (r1 << BETA_BITS) | a1;
    let den = 2 * s1;
    let q = num / den;
    let u = num % den;
    let mut s = (s1 << BETA_BITS) + q;
    let r = ((u << BETA_BITS) | a0) as i128 - (q * q) as i128;
    if r < 0 {
        s -= 1;
    }
    s >> (sh / 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Schoolbook reference: shift-and-subtract division, one bit at a time.
    fn div_reference(hi: u128, lo: u128, d: u128) -> (u128, u128) {
        let (mut q, mut r) = (0u128, hi);
        for i in (0..128).rev() {
            let carry = r >> 127;
            r = (r << 1) | ((lo >> i) & 1);
            q <<= 1;
            if carry == 1 || r >= d {
                r = r.wrapping_sub(d);
                q |= 1;
            }
        }
        (q, r)
    }

    fn square_u256(s: u128) -> (u128, u128) {
        mul_u128(s, s)
    }

    fn le_u256(a: (u128, u128), b: (u128, u128)) -> bool {
        a.0 < b.0 || (a.0 == b.0 && a.1 <= b.1)
    }

    fn wide_value() -> impl Strategy<Value = u128> {
        (any::<u128>(), 0u32..128).prop_map(|(v, s)| v >> s)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn mul_u128_matches_halves(a in wide_value(), b in wide_value()) {
            let (hi, lo) = mul_u128(a, b);
            prop_assert_eq!(lo, a.wrapping_mul(b));
            if let Some(p) = a.checked_mul(b) {
                prop_assert_eq!((hi, lo), (0, p));
            }
            // hi is the quotient of the product by 2^128: check through division by a.
            if a != 0 {
                prop_assert_eq!(div_rem_u256(hi, lo, a), (b, 0));
            }
        }

        #[test]
        fn division_matches_reference(d in wide_value(), hi in any::<u128>(), lo in any::<u128>()) {
            prop_assume!(d != 0);
            let hi = hi % d;
            prop_assert_eq!(div_rem_u256(hi, lo, d), div_reference(hi, lo, d));
        }

        #[test]
        fn isqrt_is_the_floor_root(hi in 0u128..(1 << 68), lo in any::<u128>(), shift in 0u32..196) {
            let (hi, lo) = if shift >= 128 { (0, lo >> (shift - 128)) } else { (hi >> shift.min(68), lo) };
            let s = isqrt_u256(hi, lo);
            prop_assert!(le_u256(square_u256(s), (hi, lo)));
            let (h1, l1) = square_u256(s + 1);
            prop_assert!(!le_u256((h1, l1), (hi, lo)));
        }

        #[test]
        fn mul3_hi_is_within_four_of_the_floor(a in any::<[u64; 3]>(), b in any::<[u64; 3]>()) {
            let got = mul3_hi(a, b);
            // Exact product by schoolbook on limbs.
            let mut p = [0u128; 6];
            for i in 0..3 {
                for j in 0..3 {
                    let t = a[i] as u128 * b[j] as u128;
                    p[i + j] += t & LOW64;
                    p[i + j + 1] += t >> 64;
                }
            }
            let mut limbs = [0u64; 6];
            let mut carry = 0u128;
            for k in 0..6 {
                let v = p[k] + carry;
                limbs[k] = v as u64;
                carry = v >> 64;
            }
            let exact = (limbs[5] as u128, ((limbs[4] as u128) << 64) | limbs[3] as u128);
            let (gh, gl) = split3(got);
            let (diff, borrow) = exact.1.overflowing_sub(gl);
            let diff_hi = exact.0 - gh - borrow as u128;
            prop_assert!(diff_hi == 0 && diff <= 4, "short by more than 4");
        }

        #[test]
        fn signed_shift_products_floor(a in any::<i128>(), b in any::<i64>(), s in 64u32..128) {
            let a_small = a >> 2; // keep within mul_shr_i64's precondition
            prop_assert_eq!(mul_shr_i64(a_small, b, s), mul_shr_i128(a_small, b as i128, s));
            // The i128 x i128 form against the exact product taken through u128 halves.
            let (hi, lo) = mul_u128(a.unsigned_abs(), b.unsigned_abs() as u128);
            let q = shr_u256(hi, lo, s) as i128;
            if (a < 0) == (b < 0) || a == 0 || b == 0 {
                prop_assert_eq!(mul_shr_i128(a, b as i128, s), q);
            } else {
                // floor of a negative quotient: -q when exact, -q - 1 otherwise.
                let exact = lo & ((1u128 << s) - 1) == 0;
                let want = if exact { -q } else { -q - 1 };
                prop_assert_eq!(mul_shr_i128(a, b as i128, s), want);
            }
            let p = a >> 3;
            prop_assert_eq!(mul_shr63(p, b), mul_shr_i128(p, b as i128, 63));
            // The approximate form: within 2 below the exact floor.
            let (g, t) = (a >> 2, (a.rotate_left(b as u32 & 127)) >> 2);
            let exact = mul_shr_i128(g, t, 127);
            let approx = mul_shr127_approx(g, t);
            prop_assert!(approx <= exact && exact - approx <= 2, "{} vs {}", approx, exact);
        }
    }

    #[test]
    fn two_by_one_division_is_exact() {
        let cases = [
            (0u64, 0u64, 1u64),
            (0, u64::MAX, 1),
            (u64::MAX - 1, u64::MAX, u64::MAX),
            (1, 0, 2),
            (12345, 67890, 1 << 63),
            (0x7fff_ffff_ffff_ffff, u64::MAX, 0x8000_0000_0000_0000),
        ];
        for (hi, lo, d) in cases {
            let n = ((hi as u128) << 64) | lo as u128;
            let (q, r) = div_2by1(hi, lo, d);
            assert_eq!((q as u128, r as u128), (n / d as u128, n % d as u128));
        }
    }

    #[test]
    fn division_where_the_digit_estimate_saturates() {
        // hi just below d: the top digits of the running remainder equal d's, the case
        // where the estimate is 2^64 - 1 without a hardware division.
        for d in [
            u128::MAX,
            1 << 127,
            (1 << 127) | 5,
            (1 << 100) + 7,
            (1 << 64) + 1,
            3,
        ] {
            for hi in [d - 1, d / 2, d - (d >> 64) - 1] {
                for lo in [0, u128::MAX, 1 << 64, (1 << 64) - 1, 12345] {
                    assert_eq!(
                        div_rem_u256(hi, lo, d),
                        div_reference(hi, lo, d),
                        "{hi:#x} {lo:#x} / {d:#x}"
                    );
                }
            }
        }
    }

    #[test]
    fn isqrt_edges() {
        assert_eq!(isqrt_u256(0, 0), 0);
        assert_eq!(isqrt_u256(0, 1), 1);
        assert_eq!(isqrt_u256(0, 3), 1);
        assert_eq!(isqrt_u256(0, 4), 2);
        assert_eq!(isqrt_u256(1, 0), 1 << 64);
        let max = (1u128 << 98) - 1; // floor(sqrt(2^196 - 1))
        assert_eq!(isqrt_u256((1 << 68) - 1, u128::MAX), max);
    }
}
