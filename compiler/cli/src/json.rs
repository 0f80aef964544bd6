//! The JSON the CLI writes, built with serde_json (keys in the order written): receipts,
//! errors, typed values and diagnostics, one object per line.

use serde_json::{json, Value};
use strike_lang::{diag::Diagnostic, source::Lines, Sources};
use strike_vm::isa::ValueType;

/// `{"code":CODE,"message":"..."}`, or `null` for no error.
pub fn error(e: Option<(u32, &str)>) -> Value {
    match e {
        None => Value::Null,
        Some((code, message)) => json!({ "code": code, "message": message }),
    }
}

/// A value of type `ty` as a receipt shows it: an int as a JSON number (all 128 bits), a
/// bool as a JSON bool, an fx or address as its text (`strike_lang::values::format`), which
/// parses back to the same bits.
pub fn typed(ty: ValueType, raw: i128) -> Value {
    match ty {
        ValueType::Int => json!(raw),
        ValueType::Bool => json!(raw != 0),
        _ => json!(strike_lang::values::format(ty, raw)),
    }
}

/// A 128-bit value as a decimal string (traces: exact, and safe for any JSON reader).
pub fn raw(v: i128) -> Value {
    Value::String(v.to_string())
}

/// One JSON object per diagnostic, one per line, with the file, its 1-based line and
/// column, and `start` and `end` as byte offsets in the named file.
pub fn diagnostics(sources: &Sources, diagnostics: &[Diagnostic]) -> String {
    let place = |span: strike_lang::ast::Span| {
        let (i, range) = sources.locate(span);
        let f = sources.files().get(i);
        let (name, text) = f.map_or(("", ""), |f| (f.name.as_str(), f.text.as_str()));
        let (line, col) = Lines::new(text).position(range.start);
        (name.to_string(), line, col, range.start, range.end)
    };
    let mut out = String::new();
    for d in diagnostics {
        let (file, line, column, start, end) = place(d.span);
        let related: Vec<Value> = d
            .related
            .iter()
            .map(|(span, label)| {
                let (file, line, column, start, end) = place(*span);
                json!({
                    "file": file, "line": line, "column": column, "start": start, "end": end,
                    "label": label,
                })
            })
            .collect();
        let object = json!({
            "code": d.code,
            "message": d.message,
            "file": file, "line": line, "column": column, "start": start, "end": end,
            "label": d.label,
            "notes": d.notes,
            "help": d.help,
            "related": related,
        });
        out.push_str(&object.to_string());
        out.push('\n');
    }
    out
}

/// A module's ABI as `strike abi` prints it (spec/abi.md): its exports with named, typed
/// parameters and returns, events, errors, structs, the contracts it calls (imports) and
/// its storage layout.
pub fn abi(m: &strike_vm::isa::Module) -> Value {
    use strike_vm::isa::abi::AbiField;
    let fields = |fs: &[AbiField]| -> Vec<Value> {
        fs.iter()
            .map(|f| json!({ "name": f.name, "type": f.ty }))
            .collect()
    };
    let names = |ts: &[strike_vm::isa::ValueType]| -> Vec<Value> {
        ts.iter()
            .map(|t| json!({ "name": "", "type": t.name() }))
            .collect()
    };
    let a = &m.abi;
    let functions: Vec<Value> = m
        .exports
        .iter()
        .map(|e| match a.function(&e.name) {
            Some(f) => json!({
                "name": e.name,
                "params": fields(&f.params),
                "returns": fields(&f.returns),
                "view": f.view,
                "doc": f.doc,
                "signature": { "params": e.params.iter().map(|t| t.name()).collect::<Vec<_>>(),
                               "returns": e.returns.iter().map(|t| t.name()).collect::<Vec<_>>() },
            }),
            None => json!({
                "name": e.name,
                "params": names(&e.params),
                "returns": names(&e.returns),
                "view": false,
                "doc": "",
                "signature": { "params": e.params.iter().map(|t| t.name()).collect::<Vec<_>>(),
                               "returns": e.returns.iter().map(|t| t.name()).collect::<Vec<_>>() },
            }),
        })
        .collect();
    let events: Vec<Value> = m
        .events
        .iter()
        .map(|name| {
            let f = a.event(name).map(|e| fields(&e.fields)).unwrap_or_default();
            json!({ "name": name, "fields": f })
        })
        .collect();
    let errors: Vec<Value> = a
        .errors
        .iter()
        .map(|e| json!({ "code": e.code, "message": e.message }))
        .collect();
    let structs: Vec<Value> = a
        .structs
        .iter()
        .map(|s| json!({ "name": s.name, "fields": fields(&s.fields) }))
        .collect();
    let imports: Vec<Value> = m
        .imports
        .iter()
        .map(|i| {
            json!({
                "interface": i.interface,
                "name": i.name,
                "params": i.params.iter().map(|t| t.name()).collect::<Vec<_>>(),
                "returns": i.returns.iter().map(|t| t.name()).collect::<Vec<_>>(),
                "view": i.view,
            })
        })
        .collect();
    let storage: Vec<Value> = a
        .storage
        .iter()
        .map(|v| json!({ "name": v.name, "space": v.space, "type": v.ty }))
        .collect();
    json!({
        "abi_version": 1,
        "functions": functions,
        "events": events,
        "errors": errors,
        "structs": structs,
        "imports": imports,
        "storage": storage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_are_one_object_per_line_in_a_stable_key_order() {
        let (_, d) = strike_lang::diagnose("fn f() -> fx { return 2; }");
        let text = diagnostics(&Sources::single("f.stk", "fn f() -> fx { return 2; }"), &d);
        assert!(
            text.starts_with(
                r#"{"code":"E0003","message":"expected fx, found int","file":"f.stk","line":1,"column":23"#
            ),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1);
    }

    #[test]
    fn ints_keep_all_128_bits() {
        assert_eq!(
            typed(ValueType::Int, i128::MIN).to_string(),
            i128::MIN.to_string()
        );
        assert_eq!(typed(ValueType::Bool, 1).to_string(), "true");
        assert_eq!(typed(ValueType::Fx, 1 << 63).to_string(), "\"0.5\"");
    }
}
