//! # strike
//!
//! The `strike` command line: build, check, run, disasm, trace, test, gas reports, blocks
//! and a local chain. The language is the `strike-lang` crate and the virtual machine the
//! `strike-vm` crate; this crate holds only what a command line needs (clap, the loaders,
//! JSON output, block files, the chain on redb).

pub mod block;
pub mod cli;
pub mod json;
mod load;
mod output;
