//! End-to-end programs: every `tests/lang/*.stk` is compiled (with and without fusion) and
//! the calls its header lists are run in order on one state, checking each outcome:
//!
//! ```text
//! // run: FUNCTION ARG... => ok VALUE... | revert CODE | error CODE
//! // event: NAME RAW...        (the events of the run above, in order; none listed: none)
//! ```
//!
//! A value is compared as text, as `strike run` prints it; `raw:0x...` compares the bits;
//! `~X` allows 1e-15 absolute (for results checked against mpmath references).

use std::path::PathBuf;
use strike_lang::values;
use strike_lang::{compile, Options};
use strike_vm::exec::{Engine, Mode, Status, Transaction};
use strike_vm::math::Fx;
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, StateCache};

struct Call {
    line: usize,
    function: String,
    args: Vec<String>,
    expect: Vec<String>,
    events: Vec<Vec<String>>,
}

fn calls(source: &str) -> Vec<Call> {
    let mut out: Vec<Call> = Vec::new();
    for (i, line) in source.lines().enumerate() {
        if let Some(rest) = line.strip_prefix("// run:") {
            let (call, expect) = rest.split_once("=>").expect("run line needs =>");
            let mut words = call.split_whitespace().map(str::to_owned);
            out.push(Call {
                line: i + 1,
                function: words.next().expect("function"),
                args: words.collect(),
                expect: expect.split_whitespace().map(str::to_owned).collect(),
                events: Vec::new(),
            });
        } else if let Some(rest) = line.strip_prefix("// event:") {
            let call = out.last_mut().expect("event line after a run line");
            call.events
                .push(rest.split_whitespace().map(str::to_owned).collect());
        }
    }
    out
}

fn value_matches(want: &str, ty: strike_vm::isa::ValueType, raw: i128) -> bool {
    if let Some(hex) = want.strip_prefix("raw:0x") {
        return u128::from_str_radix(hex, 16).ok() == Some(raw as u128);
    }
    if let Some(approx) = want.strip_prefix('~') {
        let reference: Fx = approx.parse().expect("reference value");
        let tolerance: Fx = "1e-15".parse().expect("tolerance");
        return (Fx::from_bits(raw) - reference).abs() <= tolerance;
    }
    values::format(ty, raw) == want
}

fn run_file(path: &PathBuf, optimize: bool, mode: Mode) -> Result<usize, String> {
    let source = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let module = compile(
        &source,
        Options {
            optimize,
            ..Default::default()
        },
    )
    .map_err(|d| format!("does not compile: {d:#?}"))?;
    let exports = module.module().exports.clone();
    let mut engine = Engine::new();
    engine.set_mode(mode);
    engine.deploy(0x100, module);
    let mut state = StateCache::new(MemoryStorage::new());
    let block = BlockEnv {
        number: 7,
        timestamp: 1_700_000_000,
    };
    let list = calls(&source);
    for c in &list {
        let at = format!("{}:{} ({})", path.display(), c.line, c.function);
        let export = exports
            .iter()
            .find(|e| e.name == c.function)
            .ok_or(format!("{at}: no such export"))?;
        let args = export
            .params
            .iter()
            .zip(&c.args)
            .map(|(&t, a)| values::parse(t, a))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{at}: {e}"))?;
        let tx = Transaction {
            caller: 0xca11,
            contract: 0x100,
            function: c.function.clone(),
            args,
            gas_limit: 10_000_000,
        };
        let r = engine.execute(&tx, &block, &mut state);
        let code = r.error.as_ref().map(|e| e.code.to_string());
        let ok = match c.expect.first().map(String::as_str) {
            Some("ok") => {
                r.status == Status::Ok
                    && r.returns.len() == c.expect.len() - 1
                    && export
                        .returns
                        .iter()
                        .zip(&r.returns)
                        .zip(&c.expect[1..])
                        .all(|((&t, &raw), want)| value_matches(want, t, raw))
            }
            Some("revert") => r.status == Status::Revert && code.as_ref() == c.expect.get(1),
            Some("error") => r.status == Status::Error && code.as_ref() == c.expect.get(1),
            _ => return Err(format!("{at}: bad expectation {:?}", c.expect)),
        };
        let shown: Vec<String> = export
            .returns
            .iter()
            .zip(&r.returns)
            .map(|(&t, &raw)| values::format(t, raw))
            .collect();
        if !ok {
            return Err(format!(
                "{at}: expected {:?}, got {:?} {shown:?} {:?}",
                c.expect, r.status, r.error
            ));
        }
        let events: Vec<Vec<String>> = r
            .events
            .iter()
            .map(|e| {
                std::iter::once(e.name.clone())
                    .chain(e.values.iter().map(|v| v.to_string()))
                    .collect()
            })
            .collect();
        if events != c.events {
            return Err(format!(
                "{at}: expected events {:?}, got {events:?}",
                c.events
            ));
        }
    }
    Ok(list.len())
}

#[test]
fn every_program_gives_its_expected_results() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("lang");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/lang")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "stk"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 4, "programs: {paths:?}");
    let mut failures = Vec::new();
    let mut total = 0;
    for p in &paths {
        for (optimize, mode) in [
            (true, Mode::Interp),
            (false, Mode::Interp),
            (true, Mode::Jit),
        ] {
            match run_file(p, optimize, mode) {
                Ok(n) => total += n,
                Err(e) => failures.push(format!("(optimize {optimize}, {mode:?}) {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(total >= 40, "only {total} calls");
}
