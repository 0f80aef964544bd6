//! Diagnostics: every compile error has a stable code, a message, a primary span with a
//! label, and notes or help where useful. Rendered for people with codespan-reporting here;
//! tools read them as data (the `strike` CLI writes them as JSON).

use super::ast::Span;
use super::source::Sources;
use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{
    self,
    termcolor::{Ansi, NoColor, WriteColor},
};

/// One compile error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code, `E0001`...
    pub code: &'static str,
    /// What is wrong, in one line.
    pub message: String,
    /// Where.
    pub span: Span,
    /// Short text under the primary span.
    pub label: String,
    /// Further facts.
    pub notes: Vec<String>,
    /// How to fix it, when we can tell.
    pub help: Option<String>,
    /// Other places that explain it (e.g. a first definition), with their labels.
    pub related: Vec<(Span, String)>,
}

impl Diagnostic {
    /// A diagnostic with a code, message, span and label.
    pub fn new(
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            span,
            label: label.into(),
            notes: Vec::new(),
            help: None,
            related: Vec::new(),
        }
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Adds a related place with its label.
    pub fn related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    /// Sets the help line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// The codes, one per kind of error (spec/language.md lists them with examples).
pub mod codes {
    /// A syntax error.
    pub const SYNTAX: &str = "E0001";
    /// A name that is not defined.
    pub const UNKNOWN_NAME: &str = "E0002";
    /// A value of the wrong type.
    pub const TYPE_MISMATCH: &str = "E0003";
    /// A type name that does not exist, or a type used where it cannot be.
    pub const BAD_TYPE: &str = "E0004";
    /// A name defined twice.
    pub const DUPLICATE: &str = "E0005";
    /// A call with the wrong number of arguments.
    pub const ARITY: &str = "E0006";
    /// Assignment to something that cannot be assigned.
    pub const NOT_ASSIGNABLE: &str = "E0007";
    /// A literal outside its type's range.
    pub const LITERAL_RANGE: &str = "E0008";
    /// A function with return values can reach its end.
    pub const MISSING_RETURN: &str = "E0009";
    /// A return with the wrong number of values.
    pub const RETURN_COUNT: &str = "E0010";
    /// A map used where a value is needed, or indexed wrongly.
    pub const MAP_USE: &str = "E0011";
    /// A revert code that is not a constant in 0..=u32::MAX.
    pub const REVERT_CODE: &str = "E0012";
    /// A program beyond a limit of the VM (registers, code length, constants, event values).
    pub const LIMIT: &str = "E0013";
    /// A bug in the compiler: the code it generated did not verify.
    pub const INTERNAL: &str = "E0014";
    /// An import that cannot be read, or one file too many.
    pub const IMPORT: &str = "E0015";
    /// An array used other than by indexing, or an array literal outside a `let`.
    pub const ARRAY_USE: &str = "E0016";
    /// A misused attribute or test-only builtin: an unknown attribute, a `#[test]` function
    /// with parameters, results, `pub` or callers, or a test builtin outside a test.
    pub const TEST_USE: &str = "E0017";
    /// A struct used where one value is needed (or the reverse), an unknown field, a field
    /// that is not a value type, or a whole-struct `+=`.
    pub const STRUCT_USE: &str = "E0018";
    /// A call through an interface written wrongly: `Interface(address)` alone, a method
    /// on something that is not an interface, or a function the interface lacks.
    pub const INTERFACE_CALL: &str = "E0019";
}

/// Renders diagnostics for people, as rustc does: code, message, the source line with the
/// span underlined, notes and help.
pub fn render(file_name: &str, source: &str, diagnostics: &[Diagnostic]) -> String {
    render_sources(&Sources::single(file_name, source), diagnostics)
}

/// [`render`] for a contract of several files: each span is shown in its own file.
pub fn render_sources(sources: &Sources, diagnostics: &[Diagnostic]) -> String {
    render_sources_colored(sources, diagnostics, false)
}

/// [`render_sources`], with ANSI colours when `color`.
pub fn render_sources_colored(
    sources: &Sources,
    diagnostics: &[Diagnostic],
    color: bool,
) -> String {
    let mut files = SimpleFiles::new();
    for f in sources.files() {
        files.add(f.name.as_str(), f.text.as_str());
    }
    let mut plain = NoColor::new(Vec::new());
    let mut ansi = Ansi::new(Vec::new());
    let out: &mut dyn WriteColor = if color { &mut ansi } else { &mut plain };
    let config = term::Config::default();
    for d in diagnostics {
        let mut notes = d.notes.clone();
        if let Some(h) = &d.help {
            notes.push(format!("help: {h}"));
        }
        let (file, range) = sources.locate(d.span);
        let mut labels = vec![Label::primary(file, range).with_message(&d.label)];
        for (span, label) in &d.related {
            let (file, range) = sources.locate(*span);
            labels.push(Label::secondary(file, range).with_message(label));
        }
        let report = Report::error()
            .with_code(d.code)
            .with_message(&d.message)
            .with_labels(labels)
            .with_notes(notes);
        let _ = term::emit(&mut *out, &config, &files, &report);
    }
    let bytes = if color {
        ansi.into_inner()
    } else {
        plain.into_inner()
    };
    String::from_utf8_lossy(&bytes).into_owned()
}
