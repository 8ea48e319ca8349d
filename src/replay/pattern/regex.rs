//! CloudWatch `%regex%` values: charset validation (§1.3) and translation to
//! `regex_lite` syntax with the documented ASCII class equivalences. Owns no
//! knowledge of where a regex appears.

use super::{PatternError, PatternErrorKind};

/// A validated, compiled CloudWatch regex (search semantics, case-sensitive).
#[derive(Debug, Clone)]
pub(super) struct CwRegex {
    re: regex_lite::Regex,
}

impl CwRegex {
    /// Parse `chars[start..end]` (the text between the two `%`).
    pub fn parse(chars: &[char], start: usize, end: usize) -> Result<Self, PatternError> {
        if start >= end {
            return Err(PatternError::expected(
                start,
                "a regex between % and %",
                None,
            ));
        }
        let body = &chars[start..end];
        let translated = translate(body, start)?;
        let re = regex_lite::Regex::new(&translated)
            .map_err(|e| PatternError::new(start, PatternErrorKind::InvalidRegex(e.to_string())))?;
        Ok(CwRegex { re })
    }

    pub fn is_match(&self, s: &str) -> bool {
        self.re.is_match(s)
    }
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || ":_#=@/;,- ^$?[]{}|\\*+.".contains(c)
}

/// Validate and rewrite; `base` is the offset of `body[0]` for errors.
fn translate(body: &[char], base: usize) -> Result<String, PatternError> {
    let mut out = String::with_capacity(body.len() + 8);
    let mut in_class = false;
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if !allowed(c) {
            return Err(PatternError::new(base + i, PatternErrorKind::RegexChar(c)));
        }
        match c {
            '\\' => {
                let Some(&n) = body.get(i + 1) else {
                    return Err(PatternError::expected(
                        base + i,
                        "a character after \\",
                        None,
                    ));
                };
                if !n.is_ascii() {
                    return Err(PatternError::new(
                        base + i + 1,
                        PatternErrorKind::RegexChar(n),
                    ));
                }
                out.push_str(&escape(n, in_class, base + i)?);
                i += 2;
                continue;
            }
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '{' if !in_class && body.get(i + 1) == Some(&',') => {
                out.push_str("{0");
                i += 1;
                continue;
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    Ok(out)
}

/// Translate one escape, using the doc's own ASCII equivalences.
fn escape(n: char, in_class: bool, at: usize) -> Result<String, PatternError> {
    let class = match n {
        'd' => Some(("0-9", false)),
        'D' => Some(("0-9", true)),
        'w' => Some(("a-zA-Z_0-9", false)),
        'W' => Some(("a-zA-Z_0-9", true)),
        's' => Some(("\\t\\n ", false)),
        'S' => Some(("\\t\\n ", true)),
        _ => None,
    };
    Ok(match class {
        Some((_, true)) if in_class => {
            return Err(PatternError::new(
                at,
                PatternErrorKind::Unsupported(format!("\\{n} inside [...]")),
            ))
        }
        Some((set, _)) if in_class => set.to_string(),
        Some((set, neg)) => format!("[{}{set}]", if neg { "^" } else { "" }),
        None if n.is_ascii_alphanumeric() || "\\.+*?()|[]{}^$-".contains(n) => format!("\\{n}"),
        // Escaping other punctuation (e.g. `\:`) just means the literal.
        None => n.to_string(),
    })
}
