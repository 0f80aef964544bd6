//! Golden diagnostics, like rustc's UI tests: for every `tests/ui/NAME.stk`, what
//! `strike check tests/ui/NAME.stk` prints on stderr must equal `tests/ui/NAME.stderr`
//! byte for byte. `STRIKE_BLESS=1 cargo test --test lang_ui` rewrites the expected files
//! after a deliberate change (review the diff).

use std::path::PathBuf;
use strike::cli::render_failure;
use strike_lang::diagnose;

#[test]
fn diagnostics_match_their_golden_files() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join("ui"))
        .expect("tests/ui")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "stk"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 14, "{paths:?}");
    let bless = std::env::var_os("STRIKE_BLESS").is_some();
    let mut failures = Vec::new();
    for path in &paths {
        let source = std::fs::read_to_string(path).expect("read");
        let name = format!(
            "tests/ui/{}",
            path.file_name().and_then(|n| n.to_str()).expect("name")
        );
        let (_, diags) = diagnose(&source);
        let got = if diags.is_empty() {
            String::new()
        } else {
            render_failure(&name, &source, &diags)
        };
        let golden = path.with_extension("stderr");
        if bless {
            std::fs::write(&golden, &got).expect("write golden file");
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if got.is_empty() {
            failures.push(format!("{name}: no diagnostics (every ui file must fail)"));
        } else if got != want {
            failures.push(format!(
                "{name}: stderr differs from {}\n--- expected\n{want}\n--- got\n{got}",
                golden.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
