//! Space-delimited patterns `[a, b = x, ..., c > 3]` (§1.5): pattern
//! grammar, event tokenizer, positional binding and extracted values.

use super::cursor::{number_lit, parse_value, Cursor, Literal};
use super::json::{Op, OP_LIST};
use super::{
    ExtraTokensMode, Extracted, MatchOptions, PatternError, PatternErrorKind, RegexNeMode,
};

/// A parsed delimited pattern.
#[derive(Debug, Clone)]
pub(super) struct Delimited {
    pub fields: Vec<Field>,
    /// Index in `fields` of the `...` placeholder.
    pub ellipsis: Option<usize>,
}

/// One pattern slot.
#[derive(Debug, Clone)]
pub(super) struct Field {
    pub name: Option<String>,
    pub cond: Option<DExpr>,
}

/// Conditions on one slot's own value.
#[derive(Debug, Clone)]
pub(super) enum DExpr {
    Or(Vec<DExpr>),
    And(Vec<DExpr>),
    Cmp(Op, Literal),
}

struct Parser<'a, 'o> {
    cur: Cursor<'a>,
    opts: &'o MatchOptions,
    regexes: usize,
}

pub(super) fn parse(
    chars: &[char],
    start: usize,
    end: usize,
    opts: &MatchOptions,
) -> Result<Delimited, PatternError> {
    if end - start < 2 || chars[end - 1] != ']' {
        return Err(PatternError::expected(
            end,
            "] at the end (a pattern that starts with [ must end with ])",
            None,
        ));
    }
    let mut p = Parser {
        cur: Cursor::new(chars, start + 1, end - 1),
        opts,
        regexes: 0,
    };
    p.cur.skip_ws();
    if p.cur.at_end() {
        return Err(PatternError::expected(
            p.cur.pos,
            "at least one field",
            Some("["),
        ));
    }
    let mut fields = Vec::new();
    let mut ellipsis = None;
    loop {
        p.cur.skip_ws();
        let at = p.cur.pos;
        if p.cur.eat("...") {
            if ellipsis.replace(fields.len()).is_some() {
                return Err(PatternError::new(at, PatternErrorKind::MultipleEllipsis));
            }
            fields.push(Field {
                name: None,
                cond: None,
            });
        } else {
            fields.push(p.parse_field()?);
        }
        p.cur.skip_ws();
        if p.cur.at_end() {
            break;
        }
        if !p.cur.eat(",") {
            return Err(PatternError::expected(p.cur.pos, ", or ]", None));
        }
    }
    Ok(Delimited { fields, ellipsis })
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl Parser<'_, '_> {
    fn parse_name(&mut self) -> Option<String> {
        let s = self.cur.pos;
        while self.cur.peek().is_some_and(is_name_char) {
            self.cur.pos += 1;
        }
        (self.cur.pos > s).then(|| self.cur.text(s, self.cur.pos))
    }

    fn parse_field(&mut self) -> Result<Field, PatternError> {
        let name = self.parse_name();
        self.cur.skip_ws();
        if self.cur.at_end() || self.cur.peek() == Some(',') {
            return Ok(Field { name, cond: None });
        }
        let mut first = true;
        let cond = self.parse_or(name.as_deref(), &mut first)?;
        Ok(Field {
            name,
            cond: Some(cond),
        })
    }

    fn parse_or(&mut self, field: Option<&str>, first: &mut bool) -> Result<DExpr, PatternError> {
        let mut parts = vec![self.parse_and(field, first)?];
        loop {
            self.cur.skip_ws();
            if !self.cur.eat("||") {
                break;
            }
            parts.push(self.parse_and(field, first)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            DExpr::Or(parts)
        })
    }

    fn parse_and(&mut self, field: Option<&str>, first: &mut bool) -> Result<DExpr, PatternError> {
        let mut parts = vec![self.parse_cmp(field, first)?];
        loop {
            self.cur.skip_ws();
            if !self.cur.eat("&&") {
                break;
            }
            parts.push(self.parse_cmp(field, first)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            DExpr::And(parts)
        })
    }

    /// `[name] op value`; the first condition's name was the field name.
    fn parse_cmp(&mut self, field: Option<&str>, first: &mut bool) -> Result<DExpr, PatternError> {
        self.cur.skip_ws();
        let at = self.cur.pos;
        let named = if std::mem::take(first) {
            None
        } else {
            self.parse_name()
        };
        if let Some(other) = named.as_deref().filter(|n| Some(*n) != field) {
            return Err(PatternError::new(
                at,
                PatternErrorKind::CrossField {
                    field: field.unwrap_or("(unnamed)").to_string(),
                    other: other.to_string(),
                },
            ));
        }
        self.cur.skip_ws();
        let subject = named.as_deref().or(field).unwrap_or("field");
        let Some(op) = Op::eat(&mut self.cur) else {
            return Err(PatternError::expected(self.cur.pos, OP_LIST, Some(subject)));
        };
        self.cur.skip_ws();
        let after = format!("{subject} {}", op.symbol());
        let lit = parse_value(&mut self.cur, self.opts, &mut self.regexes, &after)?;
        if op.is_relational() && !matches!(lit, Literal::Num { .. }) {
            return Err(PatternError::expected(
                self.cur.pos,
                "a number",
                Some(&after),
            ));
        }
        Ok(DExpr::Cmp(op, lit))
    }
}

/// One event token: byte offset of its first raw character and its value.
struct Token<'m> {
    start: usize,
    value: &'m str,
}

fn tokenize<'m>(msg: &'m str, tab_delimits: bool) -> Vec<Token<'m>> {
    let is_delim = |c: char| c == ' ' || (tab_delimits && matches!(c, '\t' | '\r' | '\n'));
    let mut out = Vec::new();
    let mut it = msg.char_indices().peekable();
    while let Some(&(i, c)) = it.peek() {
        if is_delim(c) {
            it.next();
            continue;
        }
        let close = match c {
            '[' => Some(']'),
            '"' => Some('"'),
            _ => None,
        };
        let (value, next) = match close {
            Some(cl) => match msg[i + 1..].find(cl) {
                Some(j) => (&msg[i + 1..i + 1 + j], i + 2 + j),
                None => (&msg[i + 1..], msg.len()),
            },
            None => {
                let j = msg[i..].find(is_delim).map_or(msg.len(), |j| i + j);
                (&msg[i..j], j)
            }
        };
        out.push(Token { start: i, value });
        while it.peek().is_some_and(|&(k, _)| k < next) {
            it.next();
        }
    }
    out
}

impl Delimited {
    /// Bind tokens to fields, check conditions, and return extracted values.
    pub fn test(&self, msg: &str, opts: &MatchOptions) -> Option<Extracted> {
        let toks = tokenize(msg, opts.tab_delimits);
        let bound = self.bind(msg, &toks, opts)?;
        let mut ex = Extracted::default();
        for (pos, field, value) in bound {
            if let Some(cond) = field.and_then(|f| f.cond.as_ref()) {
                if !cond.eval(&value, opts) {
                    return None;
                }
            }
            let key = match field.and_then(|f| f.name.as_ref()) {
                Some(n) => format!("${n}"),
                None => format!("${pos}"),
            };
            ex.positional.push((pos, value.clone()));
            ex.entries.push((key, value));
        }
        Some(ex)
    }

    /// (1-based position, field or None for `...`, value).
    fn bind<'s>(
        &'s self,
        msg: &str,
        toks: &[Token],
        opts: &MatchOptions,
    ) -> Option<Vec<(usize, Option<&'s Field>, String)>> {
        let nf = self.fields.len();
        let nt = toks.len();
        let Some(e) = self.ellipsis else {
            if nt < nf || (nt > nf && opts.extra_tokens == ExtraTokensMode::NoMatch) {
                return None;
            }
            let mut out: Vec<_> = (0..nf)
                .map(|i| (i + 1, Some(&self.fields[i]), toks[i].value.to_string()))
                .collect();
            if nt > nf {
                let delims: &[char] = if opts.tab_delimits {
                    &[' ', '\t', '\r', '\n']
                } else {
                    &[' ']
                };
                out[nf - 1].2 = msg[toks[nf - 1].start..]
                    .trim_end_matches(delims)
                    .to_string();
            }
            return Some(out);
        };
        let fixed = nf - 1;
        if nt < fixed || (nt == fixed && !opts.ellipsis_may_be_empty) {
            return None;
        }
        let k = nt - fixed;
        let mut out = Vec::with_capacity(nt);
        for (ti, tok) in toks.iter().enumerate() {
            let field = if ti < e {
                Some(&self.fields[ti])
            } else if ti < e + k {
                None
            } else {
                Some(&self.fields[ti - k + 1])
            };
            out.push((ti + 1, field, tok.value.to_string()));
        }
        Some(out)
    }
}

impl DExpr {
    fn eval(&self, v: &str, opts: &MatchOptions) -> bool {
        match self {
            DExpr::Or(xs) => xs.iter().any(|x| x.eval(v, opts)),
            DExpr::And(xs) => xs.iter().all(|x| x.eval(v, opts)),
            DExpr::Cmp(op, Literal::Str(w)) => {
                let m = w.matches(v, opts.star_matches_empty);
                if *op == Op::Ne {
                    !m
                } else {
                    *op == Op::Eq && m
                }
            }
            DExpr::Cmp(op, Literal::Regex(r)) => match op {
                Op::Eq => r.is_match(v),
                Op::Ne => opts.regex_ne == RegexNeMode::NoMatch && !r.is_match(v),
                _ => false,
            },
            DExpr::Cmp(op, Literal::Num { value, .. }) => number_lit(v)
                .and_then(|x| x.partial_cmp(value))
                .is_some_and(|o| op.holds(o)),
        }
    }
}
