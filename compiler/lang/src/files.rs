//! The files of one contract. A `.stk` file may `import "other.stk";`: the imported file's
//! storage, events and functions join the contract as if written in the importing file.
//! Every file is parsed at its own offset in one combined text (the root first, then each
//! imported file once, in the order first imported, joined by newlines), so a span names a
//! file and a place in it, and the checker and code generator see one syntax tree.

use super::ast::{Item, SourceFile};
use super::diag::{codes, Diagnostic};
use super::parse::{parse_at, SyntaxError};
use super::source::Sources;
use std::path::{Component, Path, PathBuf};

/// Most files in one contract, the root included.
pub const MAX_FILES: usize = 64;

/// Finds an imported file: given the importing file's name and the path as written, the
/// imported file's name (the same file must always get the same name: it is read once) and
/// its text, or why it cannot be read.
pub type Loader<'a> = dyn FnMut(&str, &str) -> Result<(String, String), String> + 'a;

/// A loader for source held in memory, which has no files to import.
pub fn no_files(_: &str, path: &str) -> Result<(String, String), String> {
    Err(format!(
        "`{path}` cannot be found: this source was not read from a file, so it has no folder to import from"
    ))
}

/// A loader for the file system: paths are relative to the importing file's folder.
pub fn file_system(importer: &str, path: &str) -> Result<(String, String), String> {
    if path.is_empty() {
        return Err("the path is empty".to_string());
    }
    let name = resolve(importer, path);
    let shown = name.display().to_string();
    match std::fs::read_to_string(&name) {
        Ok(text) => Ok((shown, text)),
        Err(e) => Err(format!("cannot read {shown}: {e}")),
    }
}

/// Where `import "path"` in the file `importer` points: `path` relative to the importer's
/// folder, with `.` and `..` resolved without touching the file system.
pub fn resolve(importer: &str, path: &str) -> PathBuf {
    let base = Path::new(importer).parent().unwrap_or(Path::new(""));
    normalise(&base.join(path))
}

/// `a/./b/../c` as `a/c`, without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Reads a contract: parses the root and every file it imports (transitively, each once),
/// and merges their declarations into one syntax tree, root first, its expressions numbered
/// ([`SourceFile::number`]). Returns the files, the tree, the syntax errors, and the import
/// errors (code E0015).
pub fn gather(
    root_name: &str,
    root_text: &str,
    loader: &mut Loader<'_>,
) -> (Sources, SourceFile, Vec<SyntaxError>, Vec<Diagnostic>) {
    let mut sources = Sources::single(root_name, root_text);
    let (mut merged, mut syntax, mut diags) = (SourceFile::default(), Vec::new(), Vec::new());
    let mut next = 0;
    while let Some(f) = sources.files().get(next) {
        let name = f.name.clone();
        let (file, errors) = parse_at(&f.text, f.start);
        syntax.extend(errors);
        for item in file.items {
            let Item::Import(import) = item else {
                merged.items.push(item);
                continue;
            };
            let failed = |why: String| {
                Diagnostic::new(
                    codes::IMPORT,
                    format!("cannot import \"{}\"", import.path),
                    import.span,
                    "imported here",
                )
                .note(why)
            };
            match loader(&name, &import.path) {
                Err(why) => diags.push(failed(why)),
                Ok((imported, _)) if sources.files().iter().any(|f| f.name == imported) => {}
                Ok(_) if sources.files().len() >= MAX_FILES => diags.push(failed(format!(
                    "a contract has at most {MAX_FILES} files, imports included"
                ))),
                Ok((imported, text)) => {
                    sources.push(imported, text);
                }
            }
        }
        next += 1;
    }
    merged.number();
    (sources, merged, syntax, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_without_the_file_system() {
        assert_eq!(
            normalise(Path::new("stdlib/./x/../options.stk")),
            PathBuf::from("stdlib/options.stk")
        );
        assert_eq!(normalise(Path::new("../a.stk")), PathBuf::from("../a.stk"));
    }

    #[test]
    fn each_file_is_read_once_and_spans_find_their_file() {
        let mut reads = 0;
        let mut loader = |_: &str, path: &str| -> Result<(String, String), String> {
            reads += 1;
            match path {
                "a.stk" => Ok(("a.stk".into(), "import \"b.stk\";\nfn a() {}".into())),
                "b.stk" => Ok(("b.stk".into(), "import \"a.stk\";\nfn b() {}".into())),
                _ => Err("no such file".into()),
            }
        };
        let (sources, merged, syntax, diags) = gather(
            "root.stk",
            "import \"a.stk\";\nimport \"b.stk\";\nimport \"c.stk\";\nfn r() {}",
            &mut loader,
        );
        assert!(syntax.is_empty(), "{syntax:?}");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, codes::IMPORT);
        assert_eq!(sources.files().len(), 3);
        assert_eq!(merged.items.len(), 3);
        let Item::Function(b) = &merged.items[2] else {
            panic!()
        };
        assert_eq!(sources.position(b.name.span.start), ("b.stk", 2, 4));
        assert_eq!(&sources.text()[b.name.span.start..b.name.span.end], "b");
        assert_eq!(reads, 5);
    }
}
