//! Square root, correctly rounded.
//!
//! For x = n * 2^-64 the result's raw bits are round(sqrt(n * 2^64)). Since a square root
//! of an integer is never an odd multiple of 1/2, round(sqrt(N)) = (floor(sqrt(4N)) + 1) / 2
//! exactly, and floor(sqrt(4N)) is an exact integer square root of a 193-bit number.

use super::wide::div_2by1;
#[cfg(test)]
use super::wide::isqrt_u256;
use super::{Fx, MathError};

/// Correctly rounded square root of raw bits `n >= 0` (I64F64 in and out): floor(sqrt(N))
/// for N = n 2^64 by [`isqrt_n64`], then one more unit when N - f^2 > f (that is, when
/// sqrt(N) >= f + 1/2). The same bits as [`sqrt_raw_reference`], by a shorter route.
#[inline]
pub(crate) fn sqrt_raw(n: u128) -> u128 {
    if n == 0 {
        return 0;
    }
    let f = isqrt_n64(n);
    // N - f^2 <= 2f < 2^97: its low 128 bits are all of it.
    let rest = (n << 64).wrapping_sub(f.wrapping_mul(f));
    f + (rest > f) as u128
}

/// floor(sqrt(n 2^64)) for 0 < n < 2^128: Zimmermann's Karatsuba square root in three
/// steps on the normalised N' = N 4^a in [2^190, 2^192) (N' = A 2^128 + B 2^64, A >= 2^62):
/// s0 = isqrt(A) from `u64::isqrt`; then two steps with base 2^32, each one 128-by-64-bit
/// division ([`div_2by1`]) and at most one correction: s1 = isqrt(A 2^64 + B) (64 bits),
/// s2 = isqrt(N') (96 bits); and floor(sqrt(N)) = s2 >> a.
#[inline]
fn isqrt_n64(n: u128) -> u128 {
    debug_assert!(n != 0);
    let a = n.leading_zeros() / 2; // n << 2a has its top bit at 126 or 127
    let m = n << (2 * a);
    let (big_a, big_b) = ((m >> 64) as u64, m as u64);
    // Step 0: the top 64 bits (>= 2^62).
    let s0 = big_a.isqrt() as u128; // in [2^31, 2^32)
    let r0 = big_a as u128 - s0 * s0; // <= 2 s0
                                      // Step 1: s1 = s0 2^32 + q, q = (r0 2^32 + B_hi) / (2 s0).
    let x = (r0 << 32) | (big_b >> 32) as u128; // < 2^66, so x >> 64 < 2 s0
    let (q, u) = div_2by1((x >> 64) as u64, x as u64, (2 * s0) as u64);
    let (q, u) = (q as u128, u as u128);
    let mut s1 = (s0 << 32) + q;
    let mut r1 = ((u << 32) | (big_b & 0xffff_ffff) as u128) as i128 - (q * q) as i128;
    if r1 < 0 {
        r1 += 2 * s1 as i128 - 1;
        s1 -= 1;
    }
    // Step 2: the next 32 bits are zero. q2 = (r1 2^32) / (2 s1) = (r1 2^31) / s1, with
    // r1 <= 2 s1 < 2^65 and s1 in [2^63, 2^64).
    let x2 = (r1 as u128) << 31; // < 2^96
    let (q2, rem) = div_2by1((x2 >> 64) as u64, x2 as u64, s1 as u64);
    let q2 = q2 as u128;
    let mut s2 = (s1 << 32) + q2;
    let r2 = ((2 * rem as u128) << 32) as i128 - (q2 * q2) as i128;
    if r2 < 0 {
        s2 -= 1;
    }
    s2 >> a
}

/// The defined algorithm, kept for the tests: (isqrt(4N) + 1) / 2.
#[cfg(test)]
pub(crate) fn sqrt_raw_reference(n: u128) -> u128 {
    // 4N = n * 2^66 as a 256-bit number.
    let root = isqrt_u256(n >> 62, n << 66);
    (root + 1) >> 1
}

/// Square root of `x`, correctly rounded to nearest. `x < 0` is a domain error.
#[inline]
pub fn sqrt(x: Fx) -> Result<Fx, MathError> {
    let n = x.to_bits();
    if n < 0 {
        return Err(MathError::Domain);
    }
    // sqrt(2^127 * 2^64) < 2^96: always representable.
    Ok(Fx::from_bits(sqrt_raw(n as u128) as i128))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300_000))]

        #[test]
        fn the_short_route_is_the_defined_one(n in any::<u128>(), shift in 0u32..128) {
            let n = (n >> 1) >> shift; // raw bits of a non-negative fx
            prop_assert_eq!(sqrt_raw(n), sqrt_raw_reference(n), "{:#x}", n);
        }
    }

    #[test]
    fn squares_and_their_neighbours() {
        // Exact squares, half-way neighbours and the extremes.
        for k in 0..127u32 {
            for v in [1u128 << k, (1u128 << k) - 1, (1u128 << k) + 1] {
                let v = v & (u128::MAX >> 1);
                assert_eq!(sqrt_raw(v), sqrt_raw_reference(v), "{v:#x}");
            }
        }
        for root in [
            1u128,
            3,
            0xffff_ffff,
            1 << 40,
            (1 << 63) - 1,
            0xdead_beef_1234_5678,
        ] {
            let sq = root * root; // N = root^2 exactly when n = root^2 / 2^64
            for n in [sq >> 64, (sq >> 64) + 1, (sq >> 64).saturating_sub(1)] {
                assert_eq!(sqrt_raw(n), sqrt_raw_reference(n), "{n:#x}");
            }
        }
        assert_eq!(
            sqrt_raw(i128::MAX as u128),
            sqrt_raw_reference(i128::MAX as u128)
        );
    }
}
