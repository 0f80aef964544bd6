//! # strike
//!
//! The Strike command line (and, to come, the `.stk` language and its compiler). The
//! virtual machine itself is the `strike-vm` crate.

pub mod block;
pub mod cli;
pub mod json;
pub mod lang;
pub mod values;
