//! Running the generated parser and turning its errors into messages with spans.

use super::ast::{SourceFile, Span};
use super::lexer::{tokens, Token};
use lalrpop_util::{lalrpop_mod, ErrorRecovery, ParseError};
use std::fmt;

lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused_parens, missing_docs)]
    grammar,
    "/grammar.rs"
);

/// One syntax error: what was wrong, where, and what would have been accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// One line for people.
    pub message: String,
    /// The offending source range.
    pub span: Span,
    /// Tokens the grammar would have accepted there (may be empty).
    pub expected: Vec<String>,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn expected_list(expected: Vec<String>) -> Vec<String> {
    let mut list: Vec<String> = expected
        .into_iter()
        .map(|e| e.trim_matches('"').to_string())
        .collect();
    list.sort();
    list.dedup();
    list
}

fn convert(source: &str, base: usize, error: ParseError<usize, Token, ()>) -> SyntaxError {
    match error {
        ParseError::UnrecognizedToken {
            token: (l, Token::Error, r),
            ..
        } => SyntaxError {
            message: format!(
                "unrecognised characters `{}`",
                source.get(l - base..r - base).unwrap_or("?")
            ),
            span: Span::new(l, r),
            expected: Vec::new(),
        },
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => SyntaxError {
            message: format!("unexpected {tok}"),
            span: Span::new(l, r),
            expected: expected_list(expected),
        },
        ParseError::UnrecognizedEof { location, expected } => SyntaxError {
            message: "unexpected end of file".to_string(),
            span: {
                let end = base + source.len();
                let at = if location < base {
                    end
                } else {
                    location.min(end)
                };
                Span::new(at, at)
            },
            expected: expected_list(expected),
        },
        ParseError::ExtraToken { token: (l, tok, r) } => SyntaxError {
            message: format!("unexpected {tok}"),
            span: Span::new(l, r),
            expected: Vec::new(),
        },
        ParseError::InvalidToken { location } => SyntaxError {
            message: "invalid token".to_string(),
            span: Span::new(location, location),
            expected: Vec::new(),
        },
        ParseError::User { .. } => SyntaxError {
            message: "syntax error".to_string(),
            span: Span::default(),
            expected: Vec::new(),
        },
    }
}

/// Deepest nesting of `(`, `[` and `{`.
pub const MAX_NESTING: usize = 64;
/// Most tokens in one statement (between `;`, `{` and `}`): bounds how deep an expression
/// tree can be, so that checking and code generation, which recurse, stay within the stack.
pub const MAX_STATEMENT_TOKENS: usize = 1024;

/// The first place where the source exceeds the nesting or statement-length limits.
fn too_deep(source: &str, base: usize) -> Option<SyntaxError> {
    let (mut depth, mut run) = (0usize, 0usize);
    for (l, tok, r) in tokens(source) {
        let (l, r) = (l + base, r + base);
        match tok {
            Token::LParen | Token::LBracket | Token::LBrace => depth += 1,
            Token::RParen | Token::RBracket | Token::RBrace => depth = depth.saturating_sub(1),
            _ => {}
        }
        run = match tok {
            Token::Semi | Token::LBrace | Token::RBrace => 0,
            _ => run + 1,
        };
        if depth > MAX_NESTING {
            return Some(SyntaxError {
                message: format!("brackets nest deeper than {MAX_NESTING} levels"),
                span: Span::new(l, r),
                expected: Vec::new(),
            });
        }
        if run > MAX_STATEMENT_TOKENS {
            return Some(SyntaxError {
                message: format!("a statement longer than {MAX_STATEMENT_TOKENS} tokens"),
                span: Span::new(l, r),
                expected: Vec::new(),
            });
        }
    }
    None
}

/// Parses `source`: the syntax tree (with error nodes where it recovered) and every syntax
/// error found, in source order. Never panics. A source beyond [`MAX_NESTING`] or
/// [`MAX_STATEMENT_TOKENS`] is rejected whole with one error at the place it went too far.
pub fn parse(source: &str) -> (SourceFile, Vec<SyntaxError>) {
    let (mut file, errors) = parse_at(source, 0);
    file.number();
    (file, errors)
}

/// [`parse`] for a file that starts at byte `base` of a larger text (the files of one
/// contract, one after another): every span is offset by `base`. Its expressions are not
/// numbered: the caller numbers the tree it merges the files into ([`SourceFile::number`]).
pub fn parse_at(source: &str, base: usize) -> (SourceFile, Vec<SyntaxError>) {
    if let Some(e) = too_deep(source, base) {
        return (SourceFile::default(), vec![e]);
    }
    let mut recovered: Vec<ErrorRecovery<usize, Token, ()>> = Vec::new();
    let lexer = tokens(source).map(|(l, t, r)| Ok::<_, ()>((l + base, t, r + base)));
    let result = grammar::FileParser::new().parse(&mut recovered, lexer);
    let mut errors: Vec<SyntaxError> = recovered
        .into_iter()
        .map(|e| convert(source, base, e.error))
        .collect();
    let file = match result {
        Ok(file) => file,
        Err(e) => {
            errors.push(convert(source, base, e));
            SourceFile::default()
        }
    };
    errors.sort_by_key(|e| (e.span.start, e.span.end));
    errors.dedup();
    (file, errors)
}

#[cfg(test)]
mod tests {
    use super::super::ast::*;
    use super::*;

    const BLACK_SCHOLES: &str = r#"
/// Total premium collected.
storage premium: fx;
storage balances: map<address, fx>;
event Priced(price: fx);

/// Price of a European call.
pub fn call(s: fx, k: fx, vol: fx, r: fx, t: fx) -> fx {
    require(s > 0.0 && k > 0.0, 1, "spot and strike must be positive");
    let sqrt_t = sqrt(t);
    let d1 = (ln(s / k) + (r + vol * vol / 2.0) * t) / (vol * sqrt_t);
    let d2 = d1 - vol * sqrt_t;
    let price = s * ncdf(d1) - k * exp(-r * t) * ncdf(d2);
    premium += price;
    balances[caller()] += price;
    emit Priced(price);
    return price;
}

fn pair(x: int) -> (int, int) {
    let mut total = 0;
    for i in 0..x { total += i; }
    while total > 100 { total = total / 2; }
    if x == 0 { return 0, 0; } else if x < 0 { revert(2, "negative"); } else { total = -total; }
    return x, total;
}
"#;

    #[test]
    fn parses_a_contract() {
        let (file, errors) = parse(BLACK_SCHOLES);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(file.items.len(), 5);
        let Item::Function(call) = &file.items[3] else {
            panic!("expected a function")
        };
        assert!(call.public);
        assert_eq!(call.doc, vec!["Price of a European call.".to_string()]);
        assert_eq!(call.params.len(), 5);
        assert_eq!(call.body.stmts.len(), 9);
        let Item::Function(pair) = &file.items[4] else {
            panic!("expected a function")
        };
        assert_eq!(pair.returns.len(), 2);
    }

    #[test]
    fn precedence_is_the_usual_one() {
        let (file, errors) = parse("fn f() -> int { return 1 + 2 * 3 - -4 % 5; }");
        assert!(errors.is_empty(), "{errors:?}");
        let Item::Function(f) = &file.items[0] else {
            panic!()
        };
        let Stmt::Return { values, .. } = &f.body.stmts[0] else {
            panic!()
        };
        // ((1 + (2 * 3)) - ((-4) % 5))
        let ExprKind::Binary {
            op: BinOp::Sub,
            lhs,
            rhs,
        } = &values[0].kind
        else {
            panic!("{:?}", values[0])
        };
        assert!(matches!(lhs.kind, ExprKind::Binary { op: BinOp::Add, .. }));
        assert!(matches!(rhs.kind, ExprKind::Binary { op: BinOp::Rem, .. }));
    }

    #[test]
    fn reports_every_syntax_error_in_one_run() {
        let src = "fn a() { let x = ; }\nfn b() { let y = 1 }\nfn c() { let z = 2 @ 3; }\nfn d() -> int { return 1; }";
        let (file, errors) = parse(src);
        assert!(errors.len() >= 3, "{errors:#?}");
        assert!(errors
            .iter()
            .any(|e| e.message.contains("unrecognised characters `@`")));
        // The valid function after the errors is still parsed.
        assert!(file
            .items
            .iter()
            .any(|i| matches!(i, Item::Function(f) if f.name.name == "d")));
    }

    #[test]
    fn comparisons_do_not_chain() {
        let (_, errors) = parse("fn f() -> bool { return 1 < 2 < 3; }");
        assert!(!errors.is_empty());
    }
}
