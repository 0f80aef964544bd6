//! The `strike` binary.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // redb panics on some corrupt state files; the storage layer catches those panics and
    // reports a clear error, so the default report ("thread 'main' panicked ...") would
    // only be noise there. Every other panic is still reported.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !strike_vm::state::in_backend_call() {
            report(info);
        }
    }));
    let cli = strike::cli::Cli::parse();
    ExitCode::from(strike::cli::main(cli).code())
}
