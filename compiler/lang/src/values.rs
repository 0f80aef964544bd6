//! Typed values at the command line: parsing arguments by a function's declared parameter
//! types, and writing results so they parse back to the same bits.

use strike_vm::isa::ValueType;
use strike_vm::math::Fx;

/// Parses one argument of type `ty` into raw register bits.
///
/// fx: decimal text (optionally with an exponent), converted exactly with round to nearest,
/// ties to even; int: decimal i128, or `0x` hex spelling its 128 raw bits (as in the
/// language); bool: `true`/`false`/`1`/`0`; address: a 128-bit id in
/// decimal or `0x` hex.
pub fn parse(ty: ValueType, text: &str) -> Result<i128, String> {
    match ty {
        ValueType::Fx => text.parse::<Fx>().map(Fx::to_bits).map_err(|e| {
            format!("{text:?} is not an fx number ({e}); expected decimal text like 0.05 or -1e-4")
        }),
        ValueType::Int => match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            Some(hex) if !hex.starts_with(['+', '-']) => u128::from_str_radix(hex, 16)
                .map(|v| v as i128)
                .map_err(|_| format!("{text:?} is not an int (0x hex of at most 128 bits)")),
            _ => text.parse::<i128>().map_err(|_| {
                format!("{text:?} is not an int (decimal within i128, or 0x hex raw bits)")
            }),
        },
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
        ValueType::Fx => format_fx(raw),
        ValueType::Int => raw.to_string(),
        ValueType::Bool => (raw != 0).to_string(),
        ValueType::Address => format!("{:#x}", raw as u128),
    }
}

/// The shortest decimal that [`parse`] reads back as exactly `raw`: for n = 0, 1, ... 20
/// fractional digits, the value rounded to nearest at n digits, until one parses back to the
/// same bits (20 digits always do: their spacing, 1e-20, is under half of 2^-64). Exact
/// integer arithmetic throughout.
fn format_fx(raw: i128) -> String {
    let magnitude = raw.unsigned_abs();
    let sign = if raw < 0 { "-" } else { "" };
    let (int, frac) = (magnitude >> 64, magnitude & u128::from(u64::MAX));
    // Twenty digits of the fraction, and what is left after them (in units of 2^-64 of the
    // twentieth digit).
    let mut digits = [0u8; 20];
    let mut rest = frac;
    for d in digits.iter_mut() {
        rest *= 10;
        *d = (rest >> 64) as u8;
        rest &= u128::from(u64::MAX);
    }
    for n in 0..=20 {
        // Round to n digits: up when what follows is more than half, or exactly half with
        // an odd last digit.
        let mut kept: Vec<u8> = digits[..n].to_vec();
        let half = 1u128 << 63;
        let (next, tail_nonzero) = match digits.get(n) {
            Some(&d) => (d, digits[n + 1..].iter().any(|&x| x != 0) || rest != 0),
            None => (0, false),
        };
        let round_up = if n == 20 {
            rest > half || (rest == half && digits[19] % 2 == 1)
        } else {
            next > 5
                || (next == 5 && (tail_nonzero || kept.last().map_or(int % 2 == 1, |d| d % 2 == 1)))
        };
        let mut int = int;
        if round_up {
            let mut i = kept.len();
            loop {
                if i == 0 {
                    int += 1;
                    break;
                }
                i -= 1;
                if kept[i] == 9 {
                    kept[i] = 0;
                } else {
                    kept[i] += 1;
                    break;
                }
            }
        }
        while kept.last() == Some(&0) {
            kept.pop();
        }
        let mut text = format!("{sign}{int}");
        if !kept.is_empty() {
            text.push('.');
            text.extend(kept.iter().map(|d| char::from(b'0' + d)));
        }
        if text == "-0" {
            text = "0".to_string();
        }
        if parse(ValueType::Fx, &text) == Ok(raw) {
            return text;
        }
    }
    // Unreachable in exact arithmetic; the exact value is still right if it ever were.
    Fx::from_bits(raw).to_string()
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
        // A value whose nearest short decimal is more than half a step away: 3621.7 + 0.8
        // of 2^-64 must not print as 3621.7.
        let raw = 66808573011753883087668;
        let text = format(ValueType::Fx, raw);
        assert_eq!(parse(ValueType::Fx, &text), Ok(raw), "{text}");
        // Shortest: one more or one less place would not do.
        assert_eq!(
            format(ValueType::Fx, parse(ValueType::Fx, "3621.7").unwrap()),
            "3621.7"
        );
        assert_eq!(format(ValueType::Fx, 1 << 63), "0.5");
        assert_eq!(format(ValueType::Fx, -(3 << 62)), "-0.75");
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
