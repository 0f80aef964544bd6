//! `strike key` and `strike sign`: ed25519 keys and signatures in the form contracts take
//! them (a public key as two ints, a signature as four; `strike_vm::native`), for local
//! chains and scripts. The secret is given on the command line: for development keys only.

use super::{fail, out, Exit};
use clap::Args;
use ed25519_dalek::{Signer, SigningKey};
use strike_lang::values;
use strike_vm::isa::ValueType;

/// `strike key`.
#[derive(Args, Debug)]
pub struct KeyArgs {
    /// The 32-byte secret key, as 64 hex digits.
    secret: String,
}

/// `strike sign`.
#[derive(Args, Debug)]
pub struct SignArgs {
    /// The 32-byte secret key, as 64 hex digits.
    secret: String,
    /// The message's values, each TYPE:VALUE (int:990, fx:101.25, address:0x100,
    /// bool:true) or a bare int; each is signed as its 16 big-endian bytes.
    #[arg(required = true, allow_negative_numbers = true)]
    values: Vec<String>,
}

fn secret(text: &str) -> Result<SigningKey, String> {
    let hex = text.strip_prefix("0x").unwrap_or(text);
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("the secret key must be 64 hex digits (32 bytes)".into());
    }
    let mut bytes = [0u8; 32];
    for (k, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * k..2 * k + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(SigningKey::from_bytes(&bytes))
}

/// 16-byte big-endian chunks as ints, space-separated.
fn ints(bytes: &[u8]) -> String {
    bytes
        .chunks_exact(16)
        .map(|c| {
            let mut b = [0u8; 16];
            b.copy_from_slice(c);
            i128::from_be_bytes(b).to_string()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn value(text: &str) -> Result<i128, String> {
    let (ty, v) = match text.split_once(':') {
        Some(("int", v)) => (ValueType::Int, v),
        Some(("fx", v)) => (ValueType::Fx, v),
        Some(("address", v)) => (ValueType::Address, v),
        Some(("bool", v)) => (ValueType::Bool, v),
        Some((t, _)) => {
            return Err(format!(
                "{text:?}: unknown type {t:?} (int, fx, address, bool)"
            ))
        }
        None => (ValueType::Int, text),
    };
    values::parse(ty, v).map_err(|e| format!("{text:?}: {e}"))
}

/// `strike key SECRET`: the public key as two ints.
pub fn key(args: KeyArgs) -> Exit {
    match secret(&args.secret) {
        Ok(k) => {
            out(&ints(k.verifying_key().as_bytes()));
            Exit::Success
        }
        Err(e) => fail(&e, Exit::Usage),
    }
}

/// `strike sign SECRET VALUES...`: the signature as four ints.
pub fn sign(args: SignArgs) -> Exit {
    let key = match secret(&args.secret) {
        Ok(k) => k,
        Err(e) => return fail(&e, Exit::Usage),
    };
    if args.values.len() > strike_vm::native::MAX_MESSAGE_VALUES as usize {
        return fail("a message has at most 16 values", Exit::Usage);
    }
    let mut message = Vec::with_capacity(16 * args.values.len());
    for v in &args.values {
        match value(v) {
            Ok(x) => message.extend_from_slice(&x.to_be_bytes()),
            Err(e) => return fail(&e, Exit::Usage),
        }
    }
    out(&ints(&key.sign(&message).to_bytes()));
    Exit::Success
}
