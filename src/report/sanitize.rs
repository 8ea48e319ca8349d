//! Neutralising untrusted log text for each place it is shown: terminals,
//! spreadsheets (CSV) and HTML.
//!
//! Parquet and JSON keep the raw bytes: they are data, not displays.

use std::borrow::Cow;

/// Escapes control characters (ANSI/OSC sequences included), C1 controls and
/// bidirectional overrides, so log text cannot drive or disguise a terminal.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_terminal_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_terminal_escape(c) {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
                c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_terminal_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// Neutralises a CSV string cell that a spreadsheet would run as a formula
/// (leading `=`, `+`, `-`, `@`, tab or carriage return) by prefixing `'`.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

/// Escapes text for HTML element content and quoted attribute values.
///
/// Markup characters become entities; control characters (ANSI/OSC
/// sequences, NUL, newlines) and bidirectional overrides are shown as the
/// same visible escapes [`terminal`] prints, so log text can neither break
/// out of an element or attribute nor disguise what it says.
pub fn html(s: &str) -> Cow<'_, str> {
    if !s
        .chars()
        .any(|c| matches!(c, '<' | '>' | '&' | '"' | '\'') || needs_terminal_escape(c))
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if needs_terminal_escape(c) => out.push_str(&terminal(c.encode_utf8(&mut [0; 4]))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_sequences() {
        assert_eq!(
            terminal("a\x1b]52;c;ZXZpbA==\x07b"),
            "a\\x1b]52;c;ZXZpbA==\\x07b"
        );
        assert_eq!(terminal("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(terminal("plain"), "plain");
        assert_eq!(terminal("\u{9b}31m"), "\\x9b31m");
    }

    #[test]
    fn csv_formulas_are_neutralised() {
        assert_eq!(csv_cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(csv_cell("-1+2"), "'-1+2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("prod/db"), "prod/db");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            html("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(html("\"onmouseover=x"), "&quot;onmouseover=x");
        assert_eq!(
            html("a\x1b]52;c;ZXZpbA==\x07b\u{202e}"),
            "a\\x1b]52;c;ZXZpbA==\\x07b\\u{202e}"
        );
        assert_eq!(html("line\nbreak\0"), "line\\nbreak\\x00");
        assert_eq!(html("prod/db"), "prod/db");
    }
}
