//! Natives: the precompiled functions behind the NATIVE opcode (hashing and signature
//! verification, and the test-only helpers of `strike test`), defined once in the table
//! below. The verifier checks arities against it, the interpreter and the JIT both call
//! [`run`], and `spec/OPCODES.md` renders it.
//!
//! Guarantees: a native is a pure function of its arguments (and, for the test helpers, of
//! the transaction's caller and time it may set): the same results and the same gas on every
//! engine and machine. No native touches storage, allocates per value, or panics. A native's
//! dynamic gas depends only on how many arguments it is given, so it is charged before the
//! native runs.
//!
//! **Messages.** Natives that hash or sign take a *message*: 1 to [`MAX_MESSAGE_VALUES`]
//! register values, each encoded as its 16 bytes, big-endian two's complement (an fx as its
//! raw I64F64 bits, a bool as 0 or 1, an address as its 128-bit id), concatenated. A 32-byte
//! ed25519 public key is two ints (its bytes 0..16 and 16..32, each read big-endian), a
//! 64-byte signature four ints (bytes 0..16, 16..32, 32..48, 48..64).

use crate::math::black_scholes::{self, OptionKind};
use crate::math::{Fx, MathError};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;

/// Most values in a native's message.
pub const MAX_MESSAGE_VALUES: u8 = 16;

// Calibrated like the opcodes (spec/gas.md: about 2.1 ns per gas on the development
// machine), from `strike test` timings of loops of 400,000 hashes and 2,000 verifications
// on the interpreter: sha256 of one value ~70 ns, of four values ~117 ns; ed25519_verify
// ~39 us, nearly all of it the curve arithmetic.

/// Gas of `sha256` before its blocks.
pub const SHA256_BASE: u64 = 12;
/// Gas of `sha256` per 64-byte block hashed (the padded message).
pub const SHA256_PER_BLOCK: u64 = 22;
/// Gas of `ed25519_verify` before its blocks: the curve arithmetic of one verification.
pub const ED25519_BASE: u64 = 18_000;
/// Gas of `ed25519_verify` per 128-byte SHA-512 block over signature R, key and message.
pub const ED25519_PER_BLOCK: u64 = 40;
/// Gas of `bs_row_call` and `bs_row_put` (`benches/gas.rs` measures it beside the opcodes).
pub const BS_ROW: u64 = 300;

/// Static description of one native: one row of the table.
#[derive(Debug)]
pub struct NativeInfo {
    /// The id, the NATIVE instruction's immediate.
    pub id: u32,
    /// The builtin's name in the language.
    pub name: &'static str,
    /// Leading int arguments before the message.
    pub fixed: u8,
    /// Whether a message of 1..=MAX_MESSAGE_VALUES values follows them.
    pub message: bool,
    /// Results written back to r[a..].
    pub results: u8,
    /// Callable only in modules verified for `strike test` (`Limits::allow_test_natives`).
    pub test_only: bool,
    /// Dynamic gas, as a formula of the message length n.
    pub gas: &'static str,
    /// Exact semantics.
    pub semantics: &'static str,
    /// Errors it can raise, or "-".
    pub errors: &'static str,
}

/// A native function. See [`Native::info`] for its row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Native {
    /// SHA-256 of a message.
    Sha256,
    /// Strict ed25519 signature verification.
    Ed25519Verify,
    /// The Black-Scholes-Merton row of a call: price and five greeks.
    BsRowCall,
    /// The Black-Scholes-Merton row of a put.
    BsRowPut,
    /// Test only: sets the transaction's caller.
    SetCaller,
    /// Test only: sets the block timestamp.
    SetTime,
    /// Test only: signs a message with the public test key.
    TestSign,
    /// Test only: the public test key.
    TestKey,
}

const TABLE: [NativeInfo; 8] = [
    NativeInfo {
        id: 0,
        name: "sha256",
        fixed: 0,
        message: true,
        results: 2,
        test_only: false,
        gas: "12 + 22 * ceil((16n + 9) / 64)",
        semantics: "(hi, lo) = SHA-256(message): digest bytes 0..16 and 16..32, each big-endian",
        errors: "-",
    },
    NativeInfo {
        id: 1,
        name: "ed25519_verify",
        fixed: 6,
        message: true,
        results: 1,
        test_only: false,
        gas: "18000 + 40 * ceil((16n + 81) / 128)",
        semantics:
            "ok = Ed25519 verify_strict(key = (k0, k1), signature = (s0, s1, s2, s3), message) \
                    as 0 or 1; a key that is not a valid point, a non-canonical signature or a \
                    small-order key gives 0",
        errors: "-",
    },
    NativeInfo {
        id: 2,
        name: "bs_row_call",
        fixed: 6,
        message: false,
        results: 6,
        test_only: false,
        gas: "300",
        semantics: "(price, delta, gamma, vega, theta, rho) = math::black_scholes::row(Call, s, k, t, r, q, sigma): \
                    a European call under Black-Scholes-Merton, bit for bit what stdlib/options.stk's \
                    bs_call, bs_delta_call, bs_gamma, bs_vega, bs_theta_call and bs_rho_call return",
        errors: "NativeArgument (s, k, t or sigma not positive), Overflow",
    },
    NativeInfo {
        id: 3,
        name: "bs_row_put",
        fixed: 6,
        message: false,
        results: 6,
        test_only: false,
        gas: "300",
        semantics: "(price, delta, gamma, vega, theta, rho) = math::black_scholes::row(Put, s, k, t, r, q, sigma): \
                    the put's row, bit for bit what the stdlib's put functions return",
        errors: "NativeArgument (s, k, t or sigma not positive), Overflow",
    },
    NativeInfo {
        id: 0x80,
        name: "set_caller",
        fixed: 1,
        message: false,
        results: 0,
        test_only: true,
        gas: "0",
        semantics: "tx.caller = r[a] (what CALLER reads from now on)",
        errors: "-",
    },
    NativeInfo {
        id: 0x81,
        name: "set_time",
        fixed: 1,
        message: false,
        results: 0,
        test_only: true,
        gas: "0",
        semantics: "block.timestamp = r[a] (what TIME reads from now on)",
        errors: "NativeArgument (not in 0..=u64::MAX)",
    },
    NativeInfo {
        id: 0x82,
        name: "test_sign",
        fixed: 0,
        message: true,
        results: 4,
        test_only: true,
        gas: "0",
        semantics: "(s0, s1, s2, s3) = the Ed25519 signature of the message by the test key",
        errors: "-",
    },
    NativeInfo {
        id: 0x83,
        name: "test_key",
        fixed: 0,
        message: false,
        results: 2,
        test_only: true,
        gas: "0",
        semantics: "(k0, k1) = the test key's public key",
        errors: "-",
    },
];

/// The native raised an error (it reverts the transaction).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NativeError {
    /// The native.
    pub native: Native,
    /// The 0-based argument that is out of its domain.
    pub argument: u8,
}

/// Why a native failed: an argument outside its domain, or a result outside the I64F64
/// range (the math's own error, with its code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An argument is out of the native's domain.
    Argument(NativeError),
    /// The math failed (a value outside the I64F64 range).
    Math(MathError),
}

impl From<NativeError> for Fault {
    fn from(e: NativeError) -> Self {
        Fault::Argument(e)
    }
}

impl fmt::Display for NativeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "argument {} of `{}` is out of its domain",
            self.argument + 1,
            self.native.info().name
        )
    }
}

impl Native {
    /// Every native, in table order.
    pub const ALL: [Native; 8] = [
        Native::Sha256,
        Native::Ed25519Verify,
        Native::BsRowCall,
        Native::BsRowPut,
        Native::SetCaller,
        Native::SetTime,
        Native::TestSign,
        Native::TestKey,
    ];

    /// This native's row of the table.
    #[allow(
        clippy::indexing_slicing,
        reason = "`TABLE` has one row per `Native` variant, in declaration order (test `table_rows_match_the_enum`)"
    )]
    pub const fn info(self) -> &'static NativeInfo {
        &TABLE[self as usize]
    }

    /// The native with this id, if the table defines one.
    pub fn from_id(id: u32) -> Option<Native> {
        Native::ALL.into_iter().find(|n| n.info().id == id)
    }

    /// The native whose builtin is called `name`.
    pub fn from_name(name: &str) -> Option<Native> {
        Native::ALL.into_iter().find(|n| n.info().name == name)
    }

    /// Whether `args` arguments are a valid call.
    pub fn accepts(self, args: u8) -> bool {
        let info = self.info();
        if info.message {
            args > info.fixed && args - info.fixed <= MAX_MESSAGE_VALUES
        } else {
            args == info.fixed
        }
    }

    /// The dynamic gas of a call with `args` arguments (valid per [`Native::accepts`]).
    pub fn gas(self, args: u8) -> u64 {
        let n = u64::from(args.saturating_sub(self.info().fixed));
        match self {
            Native::Sha256 => SHA256_BASE + SHA256_PER_BLOCK * (16 * n + 9).div_ceil(64),
            Native::Ed25519Verify => {
                ED25519_BASE + ED25519_PER_BLOCK * (16 * n + 64 + 17).div_ceil(128)
            }
            Native::BsRowCall | Native::BsRowPut => BS_ROW,
            Native::SetCaller | Native::SetTime | Native::TestSign | Native::TestKey => 0,
        }
    }
}

/// What the test helpers may change: the transaction's caller and the block's time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Env {
    /// The caller CALLER reads.
    pub caller: u128,
    /// The timestamp TIME reads.
    pub timestamp: u64,
}

/// Results of a native: the first `results` entries are meaningful.
pub type Results = [i128; 6];

/// The message's bytes: each value's 16 big-endian bytes.
#[allow(clippy::indexing_slicing, reason = "`n` is capped at `values.len()`")]
fn message(values: &[i128]) -> ([u8; 16 * MAX_MESSAGE_VALUES as usize], usize) {
    let mut bytes = [0u8; 16 * MAX_MESSAGE_VALUES as usize];
    let n = values.len().min(MAX_MESSAGE_VALUES as usize);
    for (chunk, v) in bytes.chunks_exact_mut(16).zip(&values[..n]) {
        chunk.copy_from_slice(&v.to_be_bytes());
    }
    (bytes, 16 * n)
}

/// `words` 128-bit values as their big-endian bytes, concatenated.
fn bytes_of<const N: usize>(words: &[i128]) -> [u8; N] {
    let mut out = [0u8; N];
    for (chunk, w) in out.chunks_exact_mut(16).zip(words) {
        chunk.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// 16-byte big-endian chunks of `bytes` as values.
fn words_of(bytes: &[u8], out: &mut [i128]) {
    for (w, chunk) in out.iter_mut().zip(bytes.chunks_exact(16)) {
        let mut b = [0u8; 16];
        b.copy_from_slice(chunk);
        *w = i128::from_be_bytes(b);
    }
}

/// The test key: the secret is SHA-256("strike test key"), published here, so it signs
/// nothing of value. Only `strike test` modules may use it.
pub fn test_signing_key() -> SigningKey {
    SigningKey::from_bytes(&Sha256::digest(b"strike test key").into())
}

/// Runs `native` on `args` (a count it [`accepts`](Native::accepts)), writing its results
/// into `out`. The caller has charged [`Native::gas`].
#[allow(
    clippy::indexing_slicing,
    reason = "constant slices of the 6-entry `Results`, the 6-entry `key_sig` and the row's 6 arguments (indices 0..=5); `head` holds at most `fixed` (6) values; `len` is at most the message buffer's size (see `message`)"
)]
pub fn run(native: Native, args: &[i128], out: &mut Results, env: &mut Env) -> Result<(), Fault> {
    let fixed = (native.info().fixed as usize).min(args.len());
    let (head, tail) = args.split_at(fixed);
    match native {
        Native::Sha256 => {
            let (bytes, len) = message(tail);
            words_of(&Sha256::digest(&bytes[..len]), &mut out[..2]);
        }
        Native::Ed25519Verify => {
            let (bytes, len) = message(tail);
            let mut key_sig = [0i128; 6];
            key_sig[..head.len()].copy_from_slice(head);
            let key: [u8; 32] = bytes_of(&key_sig[..2]);
            let signature = Signature::from_bytes(&bytes_of(&key_sig[2..]));
            let ok = VerifyingKey::from_bytes(&key)
                .map(|k| k.verify_strict(&bytes[..len], &signature).is_ok())
                .unwrap_or(false);
            out[0] = ok as i128;
        }
        Native::BsRowCall | Native::BsRowPut => {
            let kind = if native == Native::BsRowCall {
                OptionKind::Call
            } else {
                OptionKind::Put
            };
            let mut a = [Fx::ZERO; 6];
            for (x, &v) in a.iter_mut().zip(head) {
                *x = Fx::from_bits(v);
            }
            // s, k, t and sigma must be positive: the first that is not is named.
            if let Some(&at) = [0u8, 1, 2, 5]
                .iter()
                .find(|&&i| a[usize::from(i)] <= Fx::ZERO)
            {
                return Err(Fault::Argument(NativeError {
                    native,
                    argument: at,
                }));
            }
            let row = black_scholes::row(kind, a[0], a[1], a[2], a[3], a[4], a[5])
                .map_err(Fault::Math)?;
            for (o, v) in out.iter_mut().zip(row.to_array()) {
                *o = v.to_bits();
            }
        }
        Native::SetCaller => env.caller = head.first().copied().unwrap_or(0) as u128,
        Native::SetTime => {
            let t = head.first().copied().unwrap_or(0);
            env.timestamp = u64::try_from(t).map_err(|_| {
                Fault::Argument(NativeError {
                    native,
                    argument: 0,
                })
            })?;
        }
        Native::TestSign => {
            let (bytes, len) = message(tail);
            let signature = test_signing_key().sign(&bytes[..len]);
            words_of(&signature.to_bytes(), &mut out[..4]);
        }
        Native::TestKey => words_of(test_signing_key().verifying_key().as_bytes(), &mut out[..2]),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env {
            caller: 7,
            timestamp: 9,
        }
    }

    #[test]
    fn table_rows_match_the_enum() {
        for (k, n) in Native::ALL.into_iter().enumerate() {
            assert_eq!(n as usize, k);
            assert_eq!(Native::from_id(n.info().id), Some(n));
            assert_eq!(Native::from_name(n.info().name), Some(n));
            assert!(n.info().results as usize <= Results::default().len());
        }
        assert_eq!(Native::from_id(4), None);
    }

    #[test]
    fn sha256_matches_the_standard_vector() {
        // SHA-256 of the 16 bytes 00..00 61 62 63 ("abc" right-aligned in one value).
        let mut out = Results::default();
        let abc = i128::from_be_bytes(*b"\0\0\0\0\0\0\0\0\0\0\0\0\0abc");
        run(Native::Sha256, &[abc], &mut out, &mut env()).unwrap();
        let digest = Sha256::digest(abc.to_be_bytes());
        let mut want = [0i128; 2];
        words_of(&digest, &mut want);
        assert_eq!(out[..2], want);
        // And the FIPS 180-2 "abc" vector through the same byte layout.
        let d = Sha256::digest(b"abc");
        assert_eq!(
            format!("{d:x}"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn ed25519_accepts_exactly_the_signed_message() {
        let mut e = env();
        let mut key = Results::default();
        run(Native::TestKey, &[], &mut key, &mut e).unwrap();
        let msg = [5i128, -1, 1 << 100];
        let mut sig = Results::default();
        run(Native::TestSign, &msg, &mut sig, &mut e).unwrap();
        let verify = |msg: &[i128], sig: &[i128], key: &[i128]| {
            let mut args = vec![key[0], key[1]];
            args.extend_from_slice(&sig[..4]);
            args.extend_from_slice(msg);
            let mut out = Results::default();
            run(Native::Ed25519Verify, &args, &mut out, &mut env()).unwrap();
            out[0]
        };
        assert_eq!(verify(&msg, &sig, &key), 1);
        assert_eq!(verify(&[5, -1, (1 << 100) + 1], &sig, &key), 0);
        let mut bad = sig;
        bad[3] ^= 1;
        assert_eq!(verify(&msg, &bad, &key), 0);
        assert_eq!(verify(&msg, &sig, &[key[0], key[1] ^ 1]), 0);
        // All-ones is not a point: rejected, not an error.
        assert_eq!(verify(&msg, &sig, &[-1, -1]), 0);
    }

    #[test]
    fn arity_and_gas() {
        assert!(!Native::Sha256.accepts(0));
        assert!(Native::Sha256.accepts(16));
        assert!(!Native::Sha256.accepts(17));
        assert!(!Native::Ed25519Verify.accepts(6));
        assert!(Native::Ed25519Verify.accepts(7));
        assert!(Native::TestKey.accepts(0));
        // One value: 16 + 9 bytes fit one block; four values (64 bytes + 9) need two.
        assert_eq!(Native::Sha256.gas(1), SHA256_BASE + SHA256_PER_BLOCK);
        assert_eq!(Native::Sha256.gas(4), SHA256_BASE + 2 * SHA256_PER_BLOCK);
        assert_eq!(
            Native::Ed25519Verify.gas(8),
            ED25519_BASE + ED25519_PER_BLOCK
        );
    }

    #[test]
    fn the_black_scholes_rows_are_the_math_rows_and_name_a_bad_argument() {
        for n in [Native::BsRowCall, Native::BsRowPut] {
            assert_eq!(
                n.info().gas,
                BS_ROW.to_string(),
                "the table shows the charge"
            );
            assert_eq!(n.gas(6), BS_ROW);
            assert!(n.accepts(6) && !n.accepts(5) && !n.accepts(7));
        }
        let args = [
            42i128 << 64,
            40 << 64,
            1 << 63,
            (1 << 64) / 10,
            0,
            (1 << 64) / 5,
        ];
        let mut out = Results::default();
        run(Native::BsRowCall, &args, &mut out, &mut env()).unwrap();
        let fx = |v: i128| Fx::from_bits(v);
        let want = black_scholes::row(
            OptionKind::Call,
            fx(args[0]),
            fx(args[1]),
            fx(args[2]),
            fx(args[3]),
            fx(args[4]),
            fx(args[5]),
        )
        .unwrap()
        .to_array()
        .map(Fx::to_bits);
        assert_eq!(out, want);
        for (at, bad) in [(0u8, 0i128), (1, -1), (2, 0), (5, -(1 << 64))] {
            let mut a = args;
            a[usize::from(at)] = bad;
            assert_eq!(
                run(Native::BsRowPut, &a, &mut out, &mut env()),
                Err(Fault::Argument(NativeError {
                    native: Native::BsRowPut,
                    argument: at
                }))
            );
        }
        // A rate of -100 over a year: e^(100) is beyond the I64F64 range.
        let mut a = args;
        a[3] = -100 << 64;
        a[2] = 1 << 64;
        assert_eq!(
            run(Native::BsRowCall, &a, &mut out, &mut env()),
            Err(Fault::Math(MathError::Overflow))
        );
    }

    #[test]
    fn set_time_rejects_what_no_block_has() {
        let mut e = env();
        let mut out = Results::default();
        assert!(run(Native::SetTime, &[-1], &mut out, &mut e).is_err());
        assert!(run(Native::SetTime, &[1 << 64], &mut out, &mut e).is_err());
        run(Native::SetTime, &[42], &mut out, &mut e).unwrap();
        run(Native::SetCaller, &[3], &mut out, &mut e).unwrap();
        assert_eq!(
            e,
            Env {
                caller: 3,
                timestamp: 42
            }
        );
    }
}
