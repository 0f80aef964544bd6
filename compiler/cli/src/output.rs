//! How the CLI talks to its user: colour (`--color`, NO_COLOR), lines on stdout that end
//! quietly on a closed pipe, error lines on stderr, and the process exit code.

use std::io::{self, Write};

/// `--color`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorArg {
    /// When the stream is a terminal and NO_COLOR is unset or empty.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Whether stdout and stderr get colour, decided once from `--color`.
static COLOR: std::sync::OnceLock<(bool, bool)> = std::sync::OnceLock::new();

pub fn set_color(choice: ColorArg) {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let decide = |terminal: bool| match choice {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => terminal && !no_color,
    };
    let _ = COLOR.set((
        decide(io::stdout().is_terminal()),
        decide(io::stderr().is_terminal()),
    ));
}

/// `text` in the ANSI colour `code` (e.g. "1;31", bold red) when `on`.
pub fn paint(text: &str, code: &str, on: bool) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

pub fn color_stdout() -> bool {
    COLOR.get().is_some_and(|c| c.0)
}

pub fn color_stderr() -> bool {
    COLOR.get().is_some_and(|c| c.1)
}

/// How a command ended, as the process exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0.
    Success,
    /// 1: revert, failed call or invalid input file.
    Failure,
    /// 2: usage error.
    Usage,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
        }
    }
}

/// Writes a line to stdout; a closed stdout ends the program quietly instead of panicking.
pub fn out(line: &str) {
    let mut stdout = io::stdout().lock();
    if writeln!(stdout, "{line}")
        .and_then(|_| stdout.flush())
        .is_err()
    {
        std::process::exit(0);
    }
}

pub fn fail(message: &str, exit: Exit) -> Exit {
    eprintln!("{} {message}", paint("error:", "1;31", color_stderr()));
    exit
}
