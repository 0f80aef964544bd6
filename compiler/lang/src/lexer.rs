//! The lexer: `.stk` source to tokens, with logos.
//!
//! Guarantees: every byte of the source is covered by a token, whitespace or a comment;
//! input logos cannot match becomes an [`Token::Error`] token (never a stop), so the parser
//! sees the whole file and can report every error. Spans are byte offsets.

use logos::Logos;
use std::fmt;

/// A token of the Strike language.
#[derive(Logos, Clone, Debug, PartialEq, Eq)]
#[logos(skip r"[ \t\r\n\f]+")]
#[logos(skip r"//([^/\n][^\n]*)?")]
pub enum Token {
    /// `/* ... */`: skipped; never emitted (an unterminated one is an `Error`).
    #[token("/*", block_comment)]
    BlockComment,

    /// `/// text`: documentation of the next item.
    #[regex(r"///[^\n]*", |lex| lex.slice()[3..].trim().to_string())]
    DocComment(String),

    #[token("fn")]
    Fn,
    #[token("import")]
    Import,
    #[token("pub")]
    Pub,
    #[token("let")]
    Let,
    #[token("mut")]
    Mut,
    #[token("if")]
    If,
    #[token("else")]
    Else,
    #[token("while")]
    While,
    #[token("capped")]
    Capped,
    #[token("for")]
    For,
    #[token("in")]
    In,
    #[token("return")]
    Return,
    #[token("require")]
    Require,
    #[token("revert")]
    Revert,
    #[token("emit")]
    Emit,
    #[token("storage")]
    Storage,
    #[token("event")]
    Event,
    #[token("map")]
    Map,
    #[token("interface")]
    Interface,
    #[token("struct")]
    Struct,
    #[token("view")]
    View,
    #[token("true")]
    True,
    #[token("false")]
    False,

    /// A name.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice().to_string())]
    Ident(String),
    /// A decimal literal with a point or an exponent: an fx value, as written.
    #[regex(r"[0-9][0-9_]*\.[0-9][0-9_]*([eE][+-]?[0-9]+)?", |lex| lex.slice().to_string())]
    #[regex(r"[0-9][0-9_]*[eE][+-]?[0-9]+", |lex| lex.slice().to_string())]
    FxLit(String),
    /// A whole-number literal, decimal or 0x hex: an int value, as written.
    #[regex(r"[0-9][0-9_]*", |lex| lex.slice().to_string())]
    #[regex(r"0x[0-9A-Fa-f][0-9A-Fa-f_]*", |lex| lex.slice().to_string())]
    IntLit(String),
    /// A string literal (require and revert messages), without its quotes.
    #[regex(r#""([^"\\\n]|\\.)*""#, |lex| { let s = lex.slice(); s[1..s.len() - 1].to_string() })]
    StrLit(String),

    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(":")]
    Colon,
    #[token("->")]
    Arrow,
    #[token("..")]
    DotDot,
    #[token(".")]
    Dot,
    #[token("=")]
    Assign,
    #[token("+=")]
    PlusAssign,
    #[token("-=")]
    MinusAssign,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("&&")]
    AndAnd,
    #[token("||")]
    OrOr,
    #[token("!")]
    Bang,
    #[token("#")]
    Hash,

    /// Input no token matches (kept so that parsing can continue past it).
    Error,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Token::*;
        let s = match self {
            DocComment(_) => "doc comment",
            BlockComment => "comment",
            Ident(name) => return write!(f, "`{name}`"),
            FxLit(v) | IntLit(v) => return write!(f, "`{v}`"),
            StrLit(_) => "string",
            Error => "unrecognised input",
            Fn => "`fn`",
            Import => "`import`",
            Pub => "`pub`",
            Let => "`let`",
            Mut => "`mut`",
            If => "`if`",
            Else => "`else`",
            While => "`while`",
            Capped => "`capped`",
            For => "`for`",
            In => "`in`",
            Return => "`return`",
            Require => "`require`",
            Revert => "`revert`",
            Emit => "`emit`",
            Storage => "`storage`",
            Event => "`event`",
            Map => "`map`",
            Interface => "`interface`",
            Struct => "`struct`",
            View => "`view`",
            True => "`true`",
            False => "`false`",
            LParen => "`(`",
            RParen => "`)`",
            LBrace => "`{`",
            RBrace => "`}`",
            LBracket => "`[`",
            RBracket => "`]`",
            Comma => "`,`",
            Semi => "`;`",
            Colon => "`:`",
            Arrow => "`->`",
            DotDot => "`..`",
            Dot => "`.`",
            Assign => "`=`",
            PlusAssign => "`+=`",
            MinusAssign => "`-=`",
            Plus => "`+`",
            Minus => "`-`",
            Star => "`*`",
            Slash => "`/`",
            Percent => "`%`",
            EqEq => "`==`",
            NotEq => "`!=`",
            Lt => "`<`",
            Le => "`<=`",
            Gt => "`>`",
            Ge => "`>=`",
            AndAnd => "`&&`",
            OrOr => "`||`",
            Bang => "`!`",
            Hash => "`#`",
        };
        f.write_str(s)
    }
}

/// Skips a block comment up to its `*/`; unterminated, it is an error to the end of input.
fn block_comment(lex: &mut logos::Lexer<Token>) -> logos::FilterResult<(), ()> {
    match lex.remainder().find("*/") {
        Some(end) => {
            lex.bump(end + 2);
            logos::FilterResult::Skip
        }
        None => {
            lex.bump(lex.remainder().len());
            logos::FilterResult::Error(())
        }
    }
}

/// The lexer's item for the parser: (start, token, end).
pub type Spanned = (usize, Token, usize);

/// Tokens of `source` with their byte spans. Unmatched input yields `Token::Error`.
pub fn tokens(source: &str) -> impl Iterator<Item = Spanned> + '_ {
    Token::lexer(source)
        .spanned()
        .map(|(tok, span)| (span.start, tok.unwrap_or(Token::Error), span.end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Token> {
        tokens(src).map(|(_, t, _)| t).collect()
    }

    #[test]
    fn numbers_keywords_and_comments() {
        use Token::*;
        assert_eq!(
            kinds("let x: fx = 0.05 + 1e-4; // note\n/* block */ x += 42"),
            vec![
                Let,
                Ident("x".into()),
                Colon,
                Ident("fx".into()),
                Assign,
                FxLit("0.05".into()),
                Plus,
                FxLit("1e-4".into()),
                Semi,
                Ident("x".into()),
                PlusAssign,
                IntLit("42".into())
            ]
        );
        assert_eq!(
            kinds("/// Prices a call.\nfn"),
            vec![DocComment("Prices a call.".into()), Fn]
        );
        assert_eq!(
            kinds("0..10"),
            vec![IntLit("0".into()), DotDot, IntLit("10".into())]
        );
    }

    #[test]
    fn unrecognised_input_becomes_error_tokens_and_lexing_continues() {
        let toks = kinds("let @ x = 1 # 2;");
        assert!(toks.contains(&Token::Error));
        assert_eq!(toks.last(), Some(&Token::Semi));
        assert_eq!(
            kinds("1 /* never closed"),
            vec![Token::IntLit("1".into()), Token::Error]
        );
    }
}
