//! JSON patterns evaluated on a record's raw bytes.
//!
//! A rule pack reads a handful of key paths (`eventName`,
//! `userIdentity.type`, …) from every record, and building a JSON tree for
//! that costs more than the rest of the scan. [`FieldPlan`] gathers the key
//! paths of many patterns into one tree, finds all of them in a single walk
//! of the record's bytes and decodes only the values found. Conditions are
//! then tested by the tree evaluator's own code (`json::Cond::holds_for`),
//! so both give the same answer; a property test and the `filter_pattern`
//! fuzz target check it.
//!
//! The walk reads a [`Tape`]: where the record's members are separated and
//! where its nested objects open and close, down to the deepest key path.
//! The scan that splits a file makes that tape as it finds where each record
//! ends, so the record's bytes are read once; a record on its own is
//! indexed first.
//!
//! Only patterns whose selectors are plain keys compile. A record the walk
//! cannot read exactly (an escaped key, a value serde would reject, a
//! non-object) gives `None`, and the caller uses the tree. As with any
//! projection, members no selector reaches are checked for structure only.

use std::borrow::Cow;

use serde_json::Number;

use super::json::{Cond, Expr, Leaf, Step};
use super::{Kind, MatchOptions, MetricField, Pattern};
use crate::read::structural::{index_container, Mark, Tape};

/// Slots held without a heap allocation per record.
const INLINE_SLOTS: usize = 16;

/// The key paths of many patterns as a tree: node 0 is the record itself,
/// and a node with a slot is a path some condition reads.
#[derive(Debug, Clone)]
pub struct FieldPlan {
    nodes: Vec<Node>,
    slots: usize,
    /// The longest key path: how deep a record's tape must reach.
    depth: usize,
}

#[derive(Debug, Clone, Default)]
struct Node {
    children: Vec<(Box<[u8]>, usize)>,
    keys: KeyIndex,
    slot: Option<usize>,
}

impl Node {
    /// The child node for `key`, if any.
    #[inline]
    fn child(&self, key: &[u8]) -> Option<usize> {
        let found = |&(ref k, c): &(Box<[u8]>, usize)| same_bytes(k, key).then_some(c);
        match self.keys.buckets[KeyIndex::bucket(key)] {
            KeyIndex::EMPTY => None,
            KeyIndex::SEVERAL => self.children.iter().find_map(found),
            i => found(&self.children[usize::from(i) - 1]),
        }
    }
}

/// A node's children by a hash of the key's length and end bytes: most of a
/// record's members are keys no pattern reads, and this turns them away
/// without comparing them to every wanted key.
#[derive(Debug, Clone)]
struct KeyIndex {
    /// Per bucket: `EMPTY`, the child's position + 1, or `SEVERAL`.
    buckets: [u8; 64],
}

impl Default for KeyIndex {
    fn default() -> Self {
        KeyIndex {
            buckets: [KeyIndex::EMPTY; 64],
        }
    }
}

impl KeyIndex {
    const EMPTY: u8 = 0;
    const SEVERAL: u8 = u8::MAX;

    #[inline]
    fn bucket(key: &[u8]) -> usize {
        let (first, last) = (key.first().copied(), key.last().copied());
        let h =
            key.len() * 7 + usize::from(first.unwrap_or(0)) * 3 + usize::from(last.unwrap_or(0));
        h & 63
    }

    fn new(children: &[(Box<[u8]>, usize)]) -> KeyIndex {
        let mut index = KeyIndex::default();
        for (i, (key, _)) in children.iter().enumerate() {
            let b = &mut index.buckets[KeyIndex::bucket(key)];
            *b = match (*b, u8::try_from(i + 1)) {
                (KeyIndex::EMPTY, Ok(pos)) if pos != KeyIndex::SEVERAL => pos,
                _ => KeyIndex::SEVERAL,
            };
        }
        index
    }
}

/// A JSON pattern compiled against a [`FieldPlan`].
#[derive(Debug, Clone)]
pub struct FieldPattern {
    expr: FieldExpr,
    opts: MatchOptions,
}

#[derive(Debug, Clone)]
enum FieldExpr {
    Or(Vec<FieldExpr>),
    And(Vec<FieldExpr>),
    Cond {
        slot: usize,
        cond: Cond,
    },
    /// Several `$.x = "text"` of one `||` on the same field (CIS 4.4 has
    /// 16 on `eventName`): a string is looked up once instead of compared
    /// 16 times; any other value is tested by each condition.
    AnyOf {
        slot: usize,
        set: TextSet,
        conds: Vec<Cond>,
    },
}

/// Exact texts, sorted for binary search, with the lengths present as bits
/// so most misses cost one test.
#[derive(Debug, Clone)]
struct TextSet {
    texts: Vec<Box<str>>,
    lengths: u64,
}

impl TextSet {
    fn new(mut texts: Vec<Box<str>>) -> TextSet {
        texts.sort();
        texts.dedup();
        let lengths = texts.iter().fold(0u64, |m, t| {
            m | 1u64.checked_shl(t.len() as u32).unwrap_or(0)
        });
        TextSet { texts, lengths }
    }

    fn contains(&self, s: &str) -> bool {
        match 1u64.checked_shl(s.len() as u32) {
            Some(bit) if self.lengths & bit == 0 => false,
            _ => self.texts.binary_search_by(|t| (**t).cmp(s)).is_ok(),
        }
    }
}

/// One slot's value in one record.
#[derive(Debug, Clone, Default)]
enum Slot<'a> {
    #[default]
    Absent,
    /// Found by the walk, not decoded yet.
    Raw(&'a [u8]),
    Null,
    Bool(bool),
    Str(Cow<'a, str>),
    Num(Number),
    Container,
}

impl Slot<'_> {
    fn leaf(&self) -> Option<Leaf<'_>> {
        Some(match self {
            Slot::Absent | Slot::Raw(_) => return None,
            Slot::Null => Leaf::Null,
            Slot::Bool(b) => Leaf::Bool(*b),
            Slot::Str(s) => Leaf::Str(s),
            Slot::Num(n) => Leaf::Num(n),
            Slot::Container => Leaf::Container,
        })
    }
}

/// The values one record holds for a plan's slots.
#[derive(Debug)]
pub struct FieldValues<'a> {
    inline: [Slot<'a>; INLINE_SLOTS],
    heap: Vec<Slot<'a>>,
}

impl<'a> FieldValues<'a> {
    fn new(slots: usize) -> Self {
        FieldValues {
            inline: Default::default(),
            heap: if slots > INLINE_SLOTS {
                vec![Slot::Absent; slots]
            } else {
                Vec::new()
            },
        }
    }

    fn slots_mut(&mut self) -> &mut [Slot<'a>] {
        if self.heap.is_empty() {
            &mut self.inline
        } else {
            &mut self.heap
        }
    }

    fn slot(&self, slot: usize) -> &Slot<'a> {
        if self.heap.is_empty() {
            &self.inline[slot]
        } else {
            &self.heap[slot]
        }
    }

    /// The string at `slot`, when the record holds a string there.
    pub fn str(&self, slot: usize) -> Option<&str> {
        match self.slot(slot) {
            Slot::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes of the value at `slot` as the record holds them (`None`:
    /// absent), from [`FieldPlan::raw_on_tape`].
    pub fn raw(&self, slot: usize) -> Option<&'a [u8]> {
        match self.slot(slot) {
            Slot::Raw(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// The number a field-valued metricValue at `slot` emits.
    pub fn metric_value(&self, slot: usize) -> Option<f64> {
        super::metric_number(self.slot(slot).leaf()?)
    }
}

impl Default for FieldPlan {
    fn default() -> Self {
        FieldPlan {
            nodes: vec![Node::default()],
            slots: 0,
            depth: 1,
        }
    }
}

impl FieldPlan {
    /// The slot holding the value at `path` (keys from the record down).
    pub fn slot(&mut self, path: &[&str]) -> usize {
        self.depth = self.depth.max(path.len());
        let mut node = 0;
        for key in path {
            let found = self.nodes[node]
                .children
                .iter()
                .find(|(k, _)| **k == *key.as_bytes())
                .map(|&(_, c)| c);
            node = found.unwrap_or_else(|| {
                self.nodes.push(Node::default());
                let child = self.nodes.len() - 1;
                let parent = &mut self.nodes[node];
                parent.children.push((key.as_bytes().into(), child));
                parent.keys = KeyIndex::new(&parent.children);
                child
            });
        }
        if let Some(slot) = self.nodes[node].slot {
            return slot;
        }
        self.nodes[node].slot = Some(self.slots);
        self.slots += 1;
        self.slots - 1
    }

    /// Compiles a JSON pattern whose selectors are all plain keys; `None`
    /// for any other pattern.
    pub fn compile(&mut self, pattern: &Pattern) -> Option<FieldPattern> {
        let Kind::Json(expr) = &pattern.kind else {
            return None;
        };
        Some(FieldPattern {
            expr: self.compile_expr(expr)?,
            opts: pattern.opts.clone(),
        })
    }

    /// The slot of a JSON metricValue field (`$.bytes`), when it is plain keys.
    pub fn compile_metric_field(&mut self, field: &MetricField) -> Option<usize> {
        let keys = plain_keys(field.steps.as_deref()?)?;
        Some(self.slot(&keys))
    }

    fn compile_expr(&mut self, expr: &Expr) -> Option<FieldExpr> {
        Some(match expr {
            Expr::Or(v) => FieldExpr::Or(group_equalities(
                v.iter()
                    .map(|e| self.compile_expr(e))
                    .collect::<Option<_>>()?,
            )),
            Expr::And(v) => FieldExpr::And(
                v.iter()
                    .map(|e| self.compile_expr(e))
                    .collect::<Option<_>>()?,
            ),
            Expr::Cond(c) => FieldExpr::Cond {
                slot: self.slot(&plain_keys(&c.steps)?),
                cond: c.clone(),
            },
        })
    }

    /// How deep a record's tape must reach for this plan.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Finds and decodes every slot's value in one record, or `None` when
    /// the walk cannot read it exactly (see the module doc).
    pub fn values<'a>(&self, raw: &'a [u8]) -> Option<FieldValues<'a>> {
        let open = raw.iter().position(|b| !b.is_ascii_whitespace())?;
        if raw[open] != b'{' {
            return None;
        }
        let mut tape = Tape::new(self.depth);
        let end = index_container(raw, open, &mut tape).ok()?;
        if raw[end..].iter().any(|b| !b.is_ascii_whitespace()) {
            return None;
        }
        self.values_on_tape(&raw[open..end], &tape)
    }

    /// [`FieldPlan::values`] for a record (`{` to `}`, nothing around it)
    /// whose tape the scan already made.
    pub fn values_on_tape<'a>(&self, record: &'a [u8], tape: &Tape) -> Option<FieldValues<'a>> {
        let mut values = self.raw_on_tape(record, tape)?;
        for slot in values.slots_mut().iter_mut() {
            if let Slot::Raw(bytes) = slot {
                *slot = decode(bytes)?;
            }
        }
        Some(values)
    }

    /// The bytes each slot's value has in `record` (`{` to `}`, with its
    /// tape from the scan), undecoded: for readers that build their own
    /// values. `None` where [`FieldPlan::values_on_tape`] gives `None` for
    /// the walk (an escaped key, a record the tape does not describe).
    pub fn raw_on_tape<'a>(&self, record: &'a [u8], tape: &Tape) -> Option<FieldValues<'a>> {
        if tape.depth() < self.depth || tape.is_empty() {
            return None;
        }
        match tape.mark(0) {
            (
                0,
                Mark::Open {
                    object: true,
                    close,
                },
            ) if close + 1 == tape.len() && tape.mark(close).0 + 1 == record.len() => {}
            _ => return None,
        }
        let mut values = FieldValues::new(self.slots);
        self.walk(record, tape, 0, 0, values.slots_mut())?;
        Some(values)
    }

    /// Walks the object whose opening is mark `open`, which `node`
    /// describes, filling the slots below it.
    fn walk<'a>(
        &self,
        record: &'a [u8],
        tape: &Tape,
        open: usize,
        node: usize,
        slots: &mut [Slot<'a>],
    ) -> Option<()> {
        let (
            open_at,
            Mark::Open {
                object: true,
                close,
            },
        ) = tape.mark(open)
        else {
            return None;
        };
        let this = &self.nodes[node];
        let mut start = open_at + 1;
        let mut i = open + 1;
        if i == close {
            return blank(&record[start..tape.mark(close).0]).then_some(());
        }
        loop {
            let (colon, Mark::Colon) = tape.mark(i) else {
                return None;
            };
            // The value: a container whose end the tape knows, or the bytes
            // up to the next separator.
            let (next_at, next) = tape.mark(i + 1);
            let (value, sep) = match next {
                Mark::Open { close: c, .. } => {
                    let end = tape.mark(c).0 + 1;
                    let sep = c + 1;
                    if sep > close || !blank(&record[colon + 1..next_at]) {
                        return None;
                    }
                    if !blank(&record[end..tape.mark(sep).0]) {
                        return None;
                    }
                    (&record[next_at..end], sep)
                }
                _ => (trim(&record[colon + 1..next_at]), i + 1),
            };
            let (sep_at, sep_mark) = tape.mark(sep);
            let last = match sep_mark {
                Mark::Comma => false,
                Mark::Close if sep == close => true,
                _ => return None,
            };
            if value.is_empty() {
                return None;
            }
            let [b'"', key @ .., b'"'] = trim(&record[start..colon]) else {
                return None;
            };
            match this.child(key) {
                Some(child) => {
                    // A repeated key means its last value, everything below
                    // included.
                    self.clear(child, slots);
                    let below = &self.nodes[child];
                    if !below.children.is_empty() && value[0] == b'{' {
                        self.walk(record, tape, i + 1, child, slots)?;
                    }
                    if let Some(slot) = below.slot {
                        slots[slot] = Slot::Raw(value);
                    }
                }
                // An escaped key may spell a wanted one.
                None if tape.has_escapes() && key.contains(&b'\\') => return None,
                None => {}
            }
            if last {
                return Some(());
            }
            start = sep_at + 1;
            i = sep + 1;
        }
    }

    fn clear(&self, node: usize, slots: &mut [Slot]) {
        let n = &self.nodes[node];
        if let Some(slot) = n.slot {
            slots[slot] = Slot::Absent;
        }
        for &(_, child) in &n.children {
            self.clear(child, slots);
        }
    }
}

/// Whether `b` is JSON whitespace.
#[inline]
fn is_ws(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Whether `bytes` are JSON whitespace only.
fn blank(bytes: &[u8]) -> bool {
    bytes.iter().all(is_ws)
}

/// Whether two short byte strings are equal, without a call to `memcmp`.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(true, |same, (x, y)| same & (x == y))
}

/// `bytes` without JSON whitespace around them.
#[inline]
fn trim(bytes: &[u8]) -> &[u8] {
    match bytes {
        // Compact JSON, the usual case, has none.
        [first, .., last] if !is_ws(first) && !is_ws(last) => bytes,
        _ => {
            let start = bytes.iter().position(|b| !is_ws(b)).unwrap_or(bytes.len());
            let end = bytes
                .iter()
                .rposition(|b| !is_ws(b))
                .map_or(start, |e| e + 1);
            &bytes[start..end]
        }
    }
}

impl FieldPattern {
    /// Whether the record whose values these are matches.
    pub fn matches(&self, values: &FieldValues) -> bool {
        self.expr.eval(values, &self.opts)
    }

    /// What this pattern needs of string slots to match (see [`Gate`]), so
    /// that a rule pack can turn most of its patterns away with one lookup
    /// per slot instead of evaluating each.
    pub fn gates(&self) -> Vec<Gate<'_>> {
        self.expr.gates()
    }
}

/// A necessary condition of a pattern: when `slot` holds a string that is
/// not one of `texts`, the pattern does not match. A value of another
/// kind, or none, tells nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate<'p> {
    pub slot: usize,
    pub texts: Vec<&'p str>,
}

impl FieldExpr {
    fn gates(&self) -> Vec<Gate<'_>> {
        match self {
            FieldExpr::Cond { slot, cond } => cond
                .exact_text()
                .map(|t| Gate {
                    slot: *slot,
                    texts: vec![t],
                })
                .into_iter()
                .collect(),
            FieldExpr::AnyOf { slot, set, .. } => vec![Gate {
                slot: *slot,
                texts: set.texts.iter().map(|t| &**t).collect(),
            }],
            // Each conjunct's condition is needed.
            FieldExpr::And(v) => v.iter().flat_map(FieldExpr::gates).collect(),
            // A slot every alternative gates: the texts of all of them.
            FieldExpr::Or(v) => {
                let each: Vec<Vec<Gate>> = v.iter().map(FieldExpr::gates).collect();
                let Some(first) = each.first() else {
                    return Vec::new();
                };
                let mut slots: Vec<usize> = first.iter().map(|g| g.slot).collect();
                slots.sort_unstable();
                slots.dedup();
                slots
                    .into_iter()
                    .filter(|s| each.iter().all(|gs| gs.iter().any(|g| g.slot == *s)))
                    .map(|slot| Gate {
                        slot,
                        texts: each
                            .iter()
                            .flatten()
                            .filter(|g| g.slot == slot)
                            .flat_map(|g| g.texts.iter().copied())
                            .collect(),
                    })
                    .collect()
            }
        }
    }
}

impl FieldExpr {
    fn eval(&self, values: &FieldValues, opts: &MatchOptions) -> bool {
        match self {
            FieldExpr::Or(v) => v.iter().any(|e| e.eval(values, opts)),
            FieldExpr::And(v) => v.iter().all(|e| e.eval(values, opts)),
            FieldExpr::Cond { slot, cond } => match values.slot(*slot).leaf() {
                Some(leaf) => cond.holds_for(&[leaf], opts),
                None => cond.holds_for(&[], opts),
            },
            FieldExpr::AnyOf { slot, set, conds } => match values.slot(*slot).leaf() {
                Some(Leaf::Str(s)) => set.contains(s),
                Some(leaf) => conds.iter().any(|c| c.holds_for(&[leaf], opts)),
                None => conds.iter().any(|c| c.holds_for(&[], opts)),
            },
        }
    }
}

/// Folds the `$.x = "text"` alternatives of one `||` that read the same
/// field into one [`FieldExpr::AnyOf`]; the rest stay as they are.
fn group_equalities(alternatives: Vec<FieldExpr>) -> Vec<FieldExpr> {
    let mut out = Vec::new();
    let mut groups: Vec<(usize, Vec<Box<str>>, Vec<Cond>)> = Vec::new();
    for e in alternatives {
        match e {
            FieldExpr::Cond { slot, cond } => match cond.exact_text() {
                Some(text) => {
                    let text: Box<str> = text.into();
                    match groups.iter_mut().find(|g| g.0 == slot) {
                        Some(g) => {
                            g.1.push(text);
                            g.2.push(cond);
                        }
                        None => groups.push((slot, vec![text], vec![cond])),
                    }
                }
                None => out.push(FieldExpr::Cond { slot, cond }),
            },
            other => out.push(other),
        }
    }
    for (slot, texts, mut conds) in groups {
        out.push(match conds.len() {
            1 => FieldExpr::Cond {
                slot,
                cond: conds.remove(0),
            },
            _ => FieldExpr::AnyOf {
                slot,
                set: TextSet::new(texts),
                conds,
            },
        });
    }
    out
}

/// The keys of a selector made of plain keys only.
fn plain_keys(steps: &[Step]) -> Option<Vec<&str>> {
    if steps.is_empty() {
        return None;
    }
    steps
        .iter()
        .map(|s| match s {
            Step::Key(k) => Some(k.as_str()),
            _ => None,
        })
        .collect()
}

/// The text of a string's inside when it needs no unescaping: `None` when
/// it holds an escape (or a byte JSON forbids there), `Some(None)` when it
/// is not UTF-8. Most CloudTrail values are ASCII, checked in one pass.
#[inline]
fn plain_text(inner: &[u8]) -> Option<Option<&str>> {
    // Bytes folded into masks, without branches, which vectorizes.
    let (special, high) = inner.iter().fold((0u8, 0u8), |(special, high), &b| {
        (
            special | u8::from(b == b'\\') | u8::from(b == b'"') | u8::from(b < 0x20),
            high | (b & 0x80),
        )
    });
    if special != 0 {
        None
    } else if high != 0 {
        Some(std::str::from_utf8(inner).ok())
    } else {
        // SAFETY: every byte is below 0x80, so the bytes are ASCII, which is
        // valid UTF-8.
        Some(Some(unsafe { std::str::from_utf8_unchecked(inner) }))
    }
}

/// A scalar as serde would parse it; `None` where serde would fail.
fn decode(raw: &[u8]) -> Option<Slot<'_>> {
    Some(match raw {
        [b'{' | b'[', ..] => Slot::Container,
        [b'"', inner @ .., b'"'] => match plain_text(inner) {
            Some(text) => Slot::Str(Cow::Borrowed(text?)),
            None => Slot::Str(Cow::Owned(serde_json::from_slice(raw).ok()?)),
        },
        b"null" => Slot::Null,
        b"true" => Slot::Bool(true),
        b"false" => Slot::Bool(false),
        _ => Slot::Num(serde_json::from_slice(raw).ok()?),
    })
}
