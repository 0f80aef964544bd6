//! The builtin functions, defined once: each row gives a builtin's name, signature, the
//! opcode or native it compiles to, and its documentation. The checker types calls from it,
//! suggests names from it, the code generator lowers calls by it, `spec/language.md`'s
//! builtin tables are generated from it (a test fails on drift), and the random program
//! generator of the differential tests draws from it, so a new builtin is checked, compiled,
//! documented and tested from one row.

use super::types::Type;
use strike_vm::isa::Opcode;
use strike_vm::native::{Native, MAX_MESSAGE_VALUES};

/// What a builtin takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Params {
    /// Exactly these types.
    Fixed(&'static [Type]),
    /// This many numbers of one type, int or fx; the result has that type.
    SameNumber(usize),
    /// A native's leading arguments of these types, then, if the native takes one, a
    /// message of 1 to 16 values of any type.
    Native(&'static [Type]),
}

/// What a call of the builtin compiles to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lowering {
    /// One instruction of this opcode, its operands the arguments in order.
    Op(Opcode),
    /// A NATIVE instruction of this native, on a window of the arguments.
    Native(Native),
}

/// One builtin function.
#[derive(Debug, PartialEq, Eq)]
pub struct Builtin {
    /// Its name in source.
    pub name: &'static str,
    /// What it takes.
    pub params: Params,
    /// What it returns (for `Params::SameNumber`: the arguments' type, not this list).
    pub returns: &'static [Type],
    /// What a call compiles to.
    pub lowering: Lowering,
    /// One line for people.
    pub doc: &'static str,
}

impl Builtin {
    /// Callable only in a test file (a test native, `Native::info().test_only`).
    pub fn test_only(&self) -> bool {
        matches!(self.lowering, Lowering::Native(n) if n.info().test_only)
    }

    /// Whether it takes a message (a native that hashes or signs).
    pub fn takes_message(&self) -> bool {
        matches!(self.lowering, Lowering::Native(n) if n.info().message)
    }

    /// Its signature as the spec writes it: `fx, fx -> fx`.
    pub fn signature(&self) -> String {
        let list = |ts: &[Type]| ts.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ");
        let results = |ts: &[Type]| match ts {
            [] => "()".to_string(),
            [t] => t.name().to_string(),
            ts => format!("({})", list(ts)),
        };
        match self.params {
            Params::Fixed(ps) => format!("{} -> {}", list(ps), results(self.returns))
                .trim_start()
                .to_string(),
            Params::SameNumber(n) => {
                let same = |t: &str| vec![t; n].join(", ");
                if n == 1 {
                    "int -> int; fx -> fx".to_string()
                } else {
                    format!("({}) -> int; ({}) -> fx", same("int"), same("fx"))
                }
            }
            Params::Native(ps) => {
                let message = format!("1 to {MAX_MESSAGE_VALUES} values of any type");
                let args = match (ps.is_empty(), self.takes_message()) {
                    (true, true) => message,
                    (false, true) => format!("{}, then {message}", list(ps)),
                    (_, false) => list(ps),
                };
                format!("{args} -> {}", results(self.returns))
                    .trim_start()
                    .to_string()
            }
        }
    }

    /// What it compiles to, as the spec writes it: an opcode's mnemonic, or `NATIVE name`.
    pub fn instruction(&self) -> String {
        match self.lowering {
            Lowering::Op(op) => op.info().mnemonic.to_string(),
            Lowering::Native(n) => format!("NATIVE {}", n.info().name),
        }
    }
}

macro_rules! builtins {
    ($( $name:literal ($($params:tt)*) -> [$($ret:ident),*] $lowering:expr, $doc:literal; )*) => {
        /// Every builtin, in the order the spec lists them.
        pub static BUILTINS: &[Builtin] = &[
            $( Builtin {
                name: $name,
                params: builtins!(@params $($params)*),
                returns: &[$(Type::$ret),*],
                lowering: $lowering,
                doc: $doc,
            }, )*
        ];
    };
    (@params same $n:literal) => { Params::SameNumber($n) };
    (@params native $($t:ident),*) => { Params::Native(&[$(Type::$t),*]) };
    (@params $($t:ident),*) => { Params::Fixed(&[$(Type::$t),*]) };
}

use Lowering::{Native as N, Op};

builtins! {
    "exp" (Fx) -> [Fx] Op(Opcode::Exp), "e^x, within 1 ulp";
    "ln" (Fx) -> [Fx] Op(Opcode::Ln), "natural logarithm of x > 0, within 1 ulp";
    "sqrt" (Fx) -> [Fx] Op(Opcode::Sqrt), "square root of x >= 0, correctly rounded";
    "ncdf" (Fx) -> [Fx] Op(Opcode::Ncdf), "standard normal CDF, within 1 ulp";
    "npdf" (Fx) -> [Fx] Op(Opcode::Npdf), "standard normal density, within 1 ulp";
    "inv_ncdf" (Fx) -> [Fx] Op(Opcode::InvNcdf), "inverse standard normal CDF of 0 < p < 1";
    "pow" (Fx, Fx) -> [Fx] Op(Opcode::Pow), "x^y for x > 0";
    "mul_down" (Fx, Fx) -> [Fx] Op(Opcode::MulDown), "x * y rounded toward -inf";
    "mul_up" (Fx, Fx) -> [Fx] Op(Opcode::MulUp), "x * y rounded toward +inf";
    "div_down" (Fx, Fx) -> [Fx] Op(Opcode::DivDown), "x / y rounded toward -inf";
    "div_up" (Fx, Fx) -> [Fx] Op(Opcode::DivUp), "x / y rounded toward +inf";
    "mul_div" (Fx, Fx, Fx) -> [Fx] Op(Opcode::MulDiv), "x * y / z with one rounding, to nearest even";
    "mul_div_down" (Fx, Fx, Fx) -> [Fx] Op(Opcode::MulDivDown), "x * y / z with one rounding toward -inf";
    "mul_div_up" (Fx, Fx, Fx) -> [Fx] Op(Opcode::MulDivUp), "x * y / z with one rounding toward +inf";
    "abs" (same 1) -> [] Op(Opcode::Abs), "absolute value";
    "min" (same 2) -> [] Op(Opcode::Min), "the smaller";
    "max" (same 2) -> [] Op(Opcode::Max), "the larger";
    "to_fx" (Int) -> [Fx] Op(Opcode::IntToFx), "an int as fx (overflow reverts)";
    "to_int" (Fx) -> [Int] Op(Opcode::FxToInt), "an fx as int, rounding toward -inf";
    "to_address" (Int) -> [Address] Op(Opcode::Mov), "an int as an address (the same bits)";
    "caller" () -> [Address] Op(Opcode::Caller), "the transaction's caller";
    "self_address" () -> [Address] Op(Opcode::SelfAddress), "the executing contract";
    "now" () -> [Int] Op(Opcode::Timestamp), "the block timestamp, seconds";
    "block" () -> [Int] Op(Opcode::BlockNumber), "the block number";
    "sha256" (native) -> [Int, Int] N(Native::Sha256), "SHA-256 of the message: digest bytes 0..16 and 16..32, each a big-endian int";
    "ed25519_verify" (native Int, Int, Int, Int, Int, Int) -> [Bool] N(Native::Ed25519Verify), "strict ed25519: key (2 ints), signature (4 ints), message";
    "bs_row_call" (native Fx, Fx, Fx, Fx, Fx, Fx) -> [Fx, Fx, Fx, Fx, Fx, Fx] N(Native::BsRowCall), "a European call's (price, delta, gamma, vega, theta, rho) at (s, k, t, r, q, sigma), in one instruction: bit for bit the stdlib's separate functions";
    "bs_row_put" (native Fx, Fx, Fx, Fx, Fx, Fx) -> [Fx, Fx, Fx, Fx, Fx, Fx] N(Native::BsRowPut), "a European put's (price, delta, gamma, vega, theta, rho), in one instruction";
    "set_caller" (native Address) -> [] N(Native::SetCaller), "test only: what caller() returns from now on";
    "set_time" (native Int) -> [] N(Native::SetTime), "test only: what now() returns from now on (0..=2^64-1, else error 20)";
    "test_key" (native) -> [Int, Int] N(Native::TestKey), "test only: the test key's public key (secret: SHA-256(\"strike test key\"))";
    "test_sign" (native) -> [Int, Int, Int, Int] N(Native::TestSign), "test only: the test key's signature of the message";
}

/// The builtin called `name`.
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// The builtins tables of `spec/language.md` (between its `builtins` markers): the
/// contract builtins, then the test builtins.
pub fn markdown() -> String {
    let mut out = String::from("| builtin | type | compiles to | what |\n|---|---|---|---|\n");
    let row = |b: &Builtin| {
        format!(
            "| `{}` | {} | {} | {} |\n",
            b.name,
            b.signature(),
            b.instruction(),
            b.doc
        )
    };
    for b in BUILTINS.iter().filter(|b| !b.test_only()) {
        out.push_str(&row(b));
    }
    out.push_str("\nTest builtins (only in a file with `#[test]` functions):\n\n");
    out.push_str("| builtin | type | compiles to | what |\n|---|---|---|---|\n");
    for b in BUILTINS.iter().filter(|b| b.test_only()) {
        out.push_str(&row(b));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_native_is_a_builtin_of_its_name_and_arity() {
        for native in Native::ALL {
            let b = find(native.info().name).expect("every native has a builtin");
            assert_eq!(b.lowering, Lowering::Native(native));
            let Params::Native(fixed) = b.params else {
                panic!("{} takes native parameters", b.name)
            };
            assert_eq!(fixed.len(), usize::from(native.info().fixed), "{}", b.name);
            assert_eq!(
                b.returns.len(),
                usize::from(native.info().results),
                "{}",
                b.name
            );
        }
    }

    #[test]
    fn opcode_builtins_take_what_their_opcode_reads() {
        for b in BUILTINS {
            let Lowering::Op(op) = b.lowering else {
                continue;
            };
            let arity = match b.params {
                Params::Fixed(ps) => ps.len(),
                Params::SameNumber(n) => n,
                Params::Native(_) => panic!("{}: an opcode builtin with native parameters", b.name),
            };
            let reads = op
                .operands()
                .fields()
                .iter()
                .filter(|r| r.is_read())
                .count();
            assert_eq!(arity, reads, "{}", b.name);
            assert_eq!(
                find(b.name).map(|f| f.name),
                Some(b.name),
                "{} twice",
                b.name
            );
        }
    }

    #[test]
    fn spec_language_md_lists_every_builtin() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/language.md");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let (start, end) = ("<!-- builtins: generated -->\n", "<!-- builtins: end -->");
        let want = markdown();
        if std::env::var_os("STRIKE_BLESS").is_some() {
            if let (Some(a), Some(b)) = (text.find(start), text.find(end)) {
                let new = format!("{}{start}{want}{}", &text[..a], &text[b..]);
                std::fs::write(&path, new).expect("write spec/language.md");
                return;
            }
        }
        let have = text.find(start).and_then(|a| {
            text[a + start.len()..]
                .find(end)
                .map(|b| &text[a + start.len()..a + start.len() + b])
        });
        assert_eq!(
            have,
            Some(want.as_str()),
            "spec/language.md's builtin tables are stale: `STRIKE_BLESS=1 cargo test -p strike-lang`"
        );
    }
}
