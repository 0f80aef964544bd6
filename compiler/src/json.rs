//! The little JSON the CLI writes: strings escaped per RFC 8259, nothing else needed.

/// `s` as a JSON string literal.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `{"code":CODE,"message":"..."}`, or `null` for no error.
pub fn error(e: Option<(u32, &str)>) -> String {
    match e {
        None => "null".to_string(),
        Some((code, message)) => format!("{{\"code\":{code},\"message\":{}}}", string(message)),
    }
}
