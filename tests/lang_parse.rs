//! The parser never panics: random text, and valid contracts with random splices.

use proptest::prelude::*;
use strike_lang::parse;

const CONTRACT: &str = r#"
storage balances: map<address, fx>;
event Moved(amount: fx);
/// Moves value.
pub fn move_to(to: address, amount: fx) -> (fx, bool) {
    require(amount > 0.0, 1, "positive");
    let mut left = balances[caller()] - amount;
    for i in 0..3 { left = left * 0.5 + exp(-1e-4); }
    while left < 0.0 { left += 1.0; }
    if !(left >= 0.0) || false { revert(2); } else { balances[to] += amount; }
    emit Moved(amount);
    return left, true;
}
"#;

const PIECES: [&str; 24] = [
    "fn", "pub", "let", "mut", "(", ")", "{", "}", ";", ",", "->", "..", "=", "+=", "x", "0.5",
    "1e9", "42", "map<", ">", "\"s\"", "/*", "//", "@",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(50_000))]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,120}") {
        let _ = parse(&text);
    }

    #[test]
    fn mutated_contracts_never_panic(edits in proptest::collection::vec((any::<usize>(), 0usize..PIECES.len(), any::<bool>()), 1..6)) {
        let mut src = CONTRACT.to_string();
        for (at, piece, delete) in edits {
            let mut i = at % (src.len() + 1);
            while !src.is_char_boundary(i) {
                i -= 1;
            }
            if delete && i < src.len() {
                let mut j = i + 1;
                while !src.is_char_boundary(j) {
                    j += 1;
                }
                src.replace_range(i..j, "");
            } else {
                src.insert_str(i, PIECES[piece]);
            }
        }
        let (_, errors) = parse(&src);
        for e in errors {
            prop_assert!(e.span.start <= e.span.end && e.span.end <= src.len());
        }
    }
}

#[test]
fn the_sample_contract_parses_cleanly() {
    let (file, errors) = parse(CONTRACT);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(file.items.len(), 3);
}
