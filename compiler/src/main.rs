//! The `strike` binary.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = strike::cli::Cli::parse();
    ExitCode::from(strike::cli::main(cli).code())
}
