//! Typed values at the command line: parsing arguments by a function's declared parameter
//! types, and writing results so they parse back to the same bits.

use strike_vm::isa::ValueType;
use strike_vm::math::Fx;

/// Parses one argument of type `ty` into raw register bits.
///
/// fx: decimal text (optionally with an exponent), converted exactly with round to nearest,
/// ties to even; int: decimal i128; bool: `true`/`false`/`1`/`0`; address: a 128-bit id in
/// decimal or `0x` hex.
pub fn parse(ty: ValueType, text: &str) -> Result<i128, String> {
    match ty {
        ValueType::Fx => text.parse::<Fx>().map(Fx::to_bits).map_err(|e| {
            format!("{text:?} is not an fx number ({e}); expected decimal text like 0.05 or -1e-4")
        }),
        ValueType::Int => text
            .parse::<i128>()
            .map_err(|_| format!("{text:?} is not an int (decimal, within i128)")),
        ValueType::Bool => match text {
            "true" | "1" => Ok(1),
            "false" | "0" => Ok(0),
            _ => Err(format!("{text:?} is not a bool (true, false, 1 or 0)")),
        },
        ValueType::Address => {
            let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
                Some(hex) => u128::from_str_radix(hex, 16),
                None => text.parse::<u128>(),
            };
            parsed
                .map(|a| a as i128)
                .map_err(|_| format!("{text:?} is not an address (decimal or 0x hex, 128 bits)"))
        }
    }
}

/// Writes raw bits as a value of type `ty`: fx as the shortest decimal that parses back to
/// the same bits, int in decimal, bool as true/false, address as 0x hex.
pub fn format(ty: ValueType, raw: i128) -> String {
    match ty {
        ValueType::Fx => Fx::from_bits(raw).to_string(),
        ValueType::Int => raw.to_string(),
        ValueType::Bool => (raw != 0).to_string(),
        ValueType::Address => format!("{:#x}", raw as u128),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fx_text_round_trips_to_the_same_bits() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let raw = ((x as i128) << 64 | (x.rotate_left(17) as i128)) >> (x % 100);
            let text = format(ValueType::Fx, raw);
            assert_eq!(parse(ValueType::Fx, &text), Ok(raw), "{text}");
        }
        for raw in [i128::MIN, i128::MAX, 0, 1, -1] {
            assert_eq!(parse(ValueType::Fx, &format(ValueType::Fx, raw)), Ok(raw));
        }
    }

    #[test]
    fn bad_text_is_an_error_not_a_panic() {
        assert!(parse(ValueType::Fx, "1e999").is_err());
        assert!(parse(ValueType::Int, "1.5").is_err());
        assert!(parse(ValueType::Bool, "yes").is_err());
        assert_eq!(parse(ValueType::Address, "0xff"), Ok(255));
    }
}
