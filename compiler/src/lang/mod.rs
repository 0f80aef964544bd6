//! The Strike language: lexer, grammar and syntax tree (the checker and code generator
//! follow). `parse` is the front door: source text in, a syntax tree and every syntax
//! error out, never a panic.

pub mod ast;
pub mod lexer;
mod parse;

pub use parse::{parse, SyntaxError};
