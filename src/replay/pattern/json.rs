//! JSON filter patterns `{ … }` (§1.4): selector/condition grammar with
//! `&&` over `||` precedence, and evaluation against a parsed
//! `serde_json::Value`. Owns no I/O and never parses the event itself.

use serde_json::{Number, Value};

use super::cursor::{number_lit, parse_value, Cursor, Literal};
use super::{
    CrossTypeMode, MatchOptions, NullBoolEqMode, PatternError, PatternErrorKind, Quantifier,
    RegexNeMode, MAX_WILDCARD_SELECTORS,
};

/// A boolean expression of conditions.
#[derive(Debug, Clone)]
pub(super) enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Cond(Cond),
}

/// `selector test`.
#[derive(Debug, Clone)]
pub(super) struct Cond {
    pub steps: Vec<Step>,
    pub test: Test,
}

/// One selector step after `$`.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Step {
    Key(String),
    AnyKey,
    Index(usize),
    AnyIndex,
}

/// What a condition checks.
#[derive(Debug, Clone)]
pub(super) enum Test {
    Cmp(Op, Literal),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Op {
    /// Longest operators first so `<=` wins over `<`.
    const ALL: [(&'static str, Op); 6] = [
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("=", Op::Eq),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];

    pub fn eat(cur: &mut Cursor) -> Option<Op> {
        Op::ALL.iter().find(|(s, _)| cur.eat(s)).map(|&(_, op)| op)
    }

    pub fn symbol(self) -> &'static str {
        Op::ALL
            .iter()
            .find(|(_, o)| *o == self)
            .map_or("", |(s, _)| s)
    }

    pub fn is_relational(self) -> bool {
        !matches!(self, Op::Eq | Op::Ne)
    }

    pub fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Op::Eq => ord == Equal,
            Op::Ne => ord != Equal,
            Op::Lt => ord == Less,
            Op::Gt => ord == Greater,
            Op::Le => ord != Greater,
            Op::Ge => ord != Less,
        }
    }
}

pub(super) const OP_LIST: &str = "an operator (=, !=, <, >, <=, >=)";

struct Parser<'a, 'o> {
    cur: Cursor<'a>,
    opts: &'o MatchOptions,
    regexes: usize,
    wild_selectors: usize,
}

pub(super) fn parse(
    chars: &[char],
    start: usize,
    end: usize,
    opts: &MatchOptions,
) -> Result<Expr, PatternError> {
    if end - start < 2 || chars[end - 1] != '}' {
        return Err(PatternError::expected(
            end,
            "} at the end (a pattern that starts with { must end with })",
            None,
        ));
    }
    let mut p = Parser {
        cur: Cursor::new(chars, start + 1, end - 1),
        opts,
        regexes: 0,
        wild_selectors: 0,
    };
    let e = p.parse_or()?;
    p.cur.skip_ws();
    if !p.cur.at_end() {
        return Err(PatternError::expected(
            p.cur.pos,
            "&&, || or the closing }",
            None,
        ));
    }
    Ok(e)
}

/// Parses a field-valued metricValue such as `$.latency` or `$.a[0].b`:
/// one selector without wildcards, since a sample carries one value.
pub(super) fn parse_field(text: &str) -> Result<Vec<Step>, PatternError> {
    let chars: Vec<char> = text.chars().collect();
    let opts = MatchOptions::default();
    let mut p = Parser {
        cur: Cursor::new(&chars, 0, chars.len()),
        opts: &opts,
        regexes: 0,
        wild_selectors: 0,
    };
    if p.cur.peek() != Some('$') {
        return Err(PatternError::expected(0, "a field such as $.latency", None));
    }
    let steps = p.parse_selector()?;
    if !p.cur.at_end() {
        return Err(PatternError::expected(
            p.cur.pos,
            "the end of the field",
            Some(text),
        ));
    }
    if steps
        .iter()
        .any(|s| matches!(s, Step::AnyKey | Step::AnyIndex))
    {
        return Err(PatternError::new(
            0,
            PatternErrorKind::Unsupported("a wildcard in a metric value field".into()),
        ));
    }
    Ok(steps)
}

/// The value a wildcard-free selector reaches, if any.
pub(super) fn field_value<'v>(root: &'v Value, steps: &[Step]) -> Option<&'v Value> {
    resolve(root, steps).into_iter().next()
}

impl Parser<'_, '_> {
    fn parse_or(&mut self) -> Result<Expr, PatternError> {
        let mut parts = vec![self.parse_and()?];
        loop {
            self.cur.skip_ws();
            if !self.cur.eat("||") {
                break;
            }
            parts.push(self.parse_and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn parse_and(&mut self) -> Result<Expr, PatternError> {
        let mut parts = vec![self.parse_unary()?];
        loop {
            self.cur.skip_ws();
            if !self.cur.eat("&&") {
                break;
            }
            parts.push(self.parse_unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn parse_unary(&mut self) -> Result<Expr, PatternError> {
        self.cur.skip_ws();
        match self.cur.peek() {
            Some('(') => {
                let open = self.cur.pos;
                self.cur.bump();
                let e = self.parse_or()?;
                self.cur.skip_ws();
                if !self.cur.eat(")") {
                    return Err(PatternError::expected(
                        self.cur.pos,
                        "&&, || or ) to close the ( opened",
                        Some(&format!("column {}", open + 1)),
                    ));
                }
                Ok(e)
            }
            Some('$') => self.parse_cond().map(Expr::Cond),
            _ => Err(PatternError::expected(
                self.cur.pos,
                "a condition such as $.field = value, or (",
                None,
            )),
        }
    }

    fn parse_cond(&mut self) -> Result<Cond, PatternError> {
        let sel_start = self.cur.pos;
        let steps = self.parse_selector()?;
        let sel = self.cur.text(sel_start, self.cur.pos);
        self.cur.skip_ws();
        if let Some(op) = Op::eat(&mut self.cur) {
            self.cur.skip_ws();
            let after = format!("{sel} {}", op.symbol());
            let lit = parse_value(&mut self.cur, self.opts, &mut self.regexes, &after)?;
            if op.is_relational() && !matches!(lit, Literal::Num { .. }) {
                return Err(PatternError::expected(
                    self.cur.pos,
                    "a number",
                    Some(&after),
                ));
            }
            return Ok(Cond {
                steps,
                test: Test::Cmp(op, lit),
            });
        }
        let test = self.parse_keyword_test(&sel)?;
        Ok(Cond { steps, test })
    }

    fn parse_keyword_test(&mut self, sel: &str) -> Result<Test, PatternError> {
        let at = self.cur.pos;
        let unsupported =
            |what: &str| PatternError::new(at, PatternErrorKind::Unsupported(what.to_string()));
        if self.cur.eat_keyword("IS") {
            self.cur.skip_ws();
            if self.cur.eat_keyword("NOT") {
                return Err(unsupported("IS NOT"));
            }
            for (kw, t) in [
                ("NULL", Test::IsNull),
                ("TRUE", Test::IsTrue),
                ("FALSE", Test::IsFalse),
            ] {
                if self.cur.eat_keyword(kw) {
                    return Ok(t);
                }
            }
            return Err(PatternError::expected(
                self.cur.pos,
                "NULL, TRUE or FALSE",
                Some("IS"),
            ));
        }
        if self.cur.eat_keyword("NOT") {
            self.cur.skip_ws();
            if self.cur.eat_keyword("EXISTS") {
                return Ok(Test::NotExists);
            }
            return Err(PatternError::expected(self.cur.pos, "EXISTS", Some("NOT")));
        }
        if self.cur.eat_keyword("EXISTS") {
            return Err(unsupported(
                "EXISTS without NOT (use = \"*\" to test presence)",
            ));
        }
        let expected = format!("{OP_LIST}, IS or NOT EXISTS");
        Err(PatternError::expected(at, &expected, Some(sel)))
    }

    fn parse_selector(&mut self) -> Result<Vec<Step>, PatternError> {
        let start = self.cur.pos;
        self.cur.bump(); // '$'
        let mut steps = Vec::new();
        loop {
            let step = if self.cur.eat(".") {
                self.parse_dot_step()?
            } else if self.cur.peek() == Some('[') {
                self.parse_bracket_step()?
            } else {
                break;
            };
            steps.push(step);
        }
        if steps.is_empty() {
            return Err(PatternError::expected(
                self.cur.pos,
                "a field such as .eventName",
                Some("$"),
            ));
        }
        let wild = steps
            .iter()
            .filter(|s| matches!(s, Step::AnyKey | Step::AnyIndex))
            .count();
        if wild > 1 {
            return Err(PatternError::new(
                start,
                PatternErrorKind::TooManyWildcardsInSelector,
            ));
        }
        if wild == 1 {
            self.wild_selectors += 1;
            if self.wild_selectors > MAX_WILDCARD_SELECTORS {
                return Err(PatternError::new(
                    start,
                    PatternErrorKind::TooManyWildcardSelectors,
                ));
            }
        }
        Ok(steps)
    }

    fn parse_dot_step(&mut self) -> Result<Step, PatternError> {
        if self.cur.eat("*") {
            return Ok(Step::AnyKey);
        }
        if self.cur.peek() == Some('[') && self.cur.peek_at(1) == Some('\'') {
            return self.parse_bracket_step();
        }
        let start = self.cur.pos;
        while self
            .cur
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-')
        {
            self.cur.pos += 1;
        }
        if start == self.cur.pos {
            return Err(PatternError::expected(
                start,
                "a field name, * or ['key']",
                Some("."),
            ));
        }
        Ok(Step::Key(self.cur.text(start, self.cur.pos)))
    }

    /// `[N]`, `[*]` or `['key']` (the last only after `.` unless the knob allows).
    fn parse_bracket_step(&mut self) -> Result<Step, PatternError> {
        let open = self.cur.pos;
        let after_dot = open > 0 && self.cur.chars[open - 1] == '.';
        self.cur.bump();
        let step = if self.cur.eat("*") {
            Step::AnyIndex
        } else if self.cur.peek() == Some('\'') && (after_dot || self.opts.bracket_key_without_dot)
        {
            self.cur.bump();
            let ks = self.cur.pos;
            while self.cur.peek().is_some_and(|c| c != '\'') {
                self.cur.pos += 1;
            }
            let key = self.cur.text(ks, self.cur.pos);
            if !self.cur.eat("'") {
                return Err(PatternError::expected(
                    self.cur.pos,
                    "' to close the key",
                    None,
                ));
            }
            Step::Key(key)
        } else {
            let ds = self.cur.pos;
            while self.cur.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.cur.pos += 1;
            }
            let n = self.cur.text(ds, self.cur.pos).parse::<usize>();
            match n {
                Ok(n) => Step::Index(n),
                Err(_) => {
                    return Err(PatternError::expected(
                        ds,
                        "an array index, * or 'key'",
                        Some("["),
                    ))
                }
            }
        };
        if !self.cur.eat("]") {
            return Err(PatternError::expected(self.cur.pos, "]", None));
        }
        Ok(step)
    }
}

impl Expr {
    pub fn eval(&self, root: &Value, opts: &MatchOptions) -> bool {
        match self {
            Expr::Or(v) => v.iter().any(|e| e.eval(root, opts)),
            Expr::And(v) => v.iter().all(|e| e.eval(root, opts)),
            Expr::Cond(c) => c.eval(root, opts),
        }
    }
}

impl Expr {
    /// Adds the top-level keys every selector starts with to `out`; false
    /// when a selector starts with a wildcard or an index (needs the whole root).
    pub fn root_keys(&self, out: &mut Vec<String>) -> bool {
        match self {
            Expr::Or(v) | Expr::And(v) => v.iter().all(|e| e.root_keys(out)),
            Expr::Cond(c) => match c.steps.first() {
                Some(Step::Key(k)) => {
                    out.push(k.clone());
                    true
                }
                _ => false,
            },
        }
    }
}

/// All values a selector reaches (several with a wildcard step).
fn resolve<'v>(root: &'v Value, steps: &[Step]) -> Vec<&'v Value> {
    let mut cur = vec![root];
    for step in steps {
        let mut next = Vec::new();
        for v in cur {
            match (step, v) {
                (Step::Key(k), Value::Object(m)) => next.extend(m.get(k)),
                (Step::AnyKey, Value::Object(m)) => next.extend(m.values()),
                (Step::Index(i), Value::Array(a)) => next.extend(a.get(*i)),
                (Step::AnyIndex, Value::Array(a)) => next.extend(a.iter()),
                _ => {}
            }
        }
        cur = next;
    }
    cur
}

/// One value a selector reached, as conditions see it. Both the parsed
/// tree and the raw-bytes reader (`super::fields`) produce these, so the
/// two evaluate conditions with the same code.
#[derive(Debug, Clone, Copy)]
pub(super) enum Leaf<'v> {
    Null,
    Bool(bool),
    Str(&'v str),
    Num(&'v Number),
    /// An object or an array: comparisons on it are false.
    Container,
}

impl<'v> Leaf<'v> {
    pub fn of(v: &'v Value) -> Leaf<'v> {
        match v {
            Value::Null => Leaf::Null,
            Value::Bool(b) => Leaf::Bool(*b),
            Value::String(s) => Leaf::Str(s),
            Value::Number(n) => Leaf::Num(n),
            Value::Array(_) | Value::Object(_) => Leaf::Container,
        }
    }
}

impl Cond {
    fn eval(&self, root: &Value, opts: &MatchOptions) -> bool {
        let cands: Vec<Leaf> = resolve(root, &self.steps)
            .into_iter()
            .map(Leaf::of)
            .collect();
        self.holds_for(&cands, opts)
    }

    /// `Some(text)` when the condition is `= "text"` without wildcards: on a
    /// string it holds exactly when the string equals `text`.
    pub fn exact_text(&self) -> Option<&str> {
        match &self.test {
            Test::Cmp(Op::Eq, Literal::Str(w)) if !w.has_wildcard() => Some(&w.core),
            _ => None,
        }
    }

    /// The condition on the values its selector reached.
    pub fn holds_for(&self, cands: &[Leaf], opts: &MatchOptions) -> bool {
        match &self.test {
            Test::NotExists => {
                cands.is_empty()
                    || (opts.not_exists_on_null && cands.iter().all(|v| matches!(v, Leaf::Null)))
            }
            Test::IsNull => cands.iter().any(|v| matches!(v, Leaf::Null)),
            Test::IsTrue => cands.iter().any(|v| matches!(v, Leaf::Bool(true))),
            Test::IsFalse => cands.iter().any(|v| matches!(v, Leaf::Bool(false))),
            Test::Cmp(op, lit) => {
                if cands.is_empty() {
                    return *op == Op::Ne && opts.ne_matches_missing;
                }
                let one = |v: &Leaf| cmp_one(*op, lit, *v, opts);
                if *op == Op::Eq || opts.wildcard_quantifier == Quantifier::Any {
                    cands.iter().any(one)
                } else {
                    cands.iter().all(one)
                }
            }
        }
    }
}

fn cmp_one(op: Op, lit: &Literal, v: Leaf, opts: &MatchOptions) -> bool {
    let text = |t: &str| match opts.null_bool_eq {
        NullBoolEqMode::NeverMatch => false,
        NullBoolEqMode::Text if op.is_relational() => false,
        NullBoolEqMode::Text => cmp_str(op, lit, t, opts),
    };
    match v {
        Leaf::Container => false,
        Leaf::Null => text("null"),
        Leaf::Bool(b) => text(if b { "true" } else { "false" }),
        Leaf::Str(s) => cmp_str(op, lit, s, opts),
        Leaf::Num(n) => cmp_num(op, lit, n, opts),
    }
}

/// `=`/`!=` as a negatable equality; `!=` is its negation when applicable.
fn eq_or_ne(op: Op, eq: bool) -> bool {
    if op == Op::Ne {
        !eq
    } else {
        eq
    }
}

fn cmp_str(op: Op, lit: &Literal, s: &str, opts: &MatchOptions) -> bool {
    let text_mode = opts.cross_type == CrossTypeMode::Text;
    match lit {
        Literal::Str(w) => {
            !op.is_relational() && eq_or_ne(op, w.matches(s, opts.star_matches_empty))
        }
        Literal::Regex(r) => match op {
            Op::Eq => r.is_match(s),
            Op::Ne => opts.regex_ne == RegexNeMode::NoMatch && !r.is_match(s),
            _ => false,
        },
        Literal::Num { text, .. } if !op.is_relational() => text_mode && eq_or_ne(op, s == text),
        Literal::Num { value, .. } => {
            text_mode
                && number_lit(s)
                    .and_then(|x| x.partial_cmp(value))
                    .is_some_and(|o| op.holds(o))
        }
    }
}

fn cmp_num(op: Op, lit: &Literal, n: &Number, opts: &MatchOptions) -> bool {
    let text = n.to_string();
    match lit {
        Literal::Num { value, .. } => n
            .as_f64()
            .and_then(|x| x.partial_cmp(value))
            .is_some_and(|o| op.holds(o)),
        Literal::Str(w) if w.has_wildcard() => {
            !op.is_relational() && eq_or_ne(op, w.matches(&text, opts.star_matches_empty))
        }
        _ if opts.cross_type == CrossTypeMode::Never => false,
        other => cmp_str(op, other, &text, opts),
    }
}
