//! Rules run on a projection of each record: only the fields the rules and
//! the findings read, taken from the record's structural tape, instead of a
//! parse of the whole record.
//!
//! Most records go through hunt only to be turned away, and the ones that
//! match need a dozen fields; parsing every byte of every record cost more
//! than the rest of the scan. The [`Projection`] names every field path the
//! rules and [`EventFields`](super::finding::EventFields) read, finds them
//! all in one walk of the tape ([`FieldPlan`]), and builds a small tree of
//! just those values, which rules evaluate like any [`Document`].
//!
//! A value the tree cannot hold exactly (an object or array where a rule
//! reads a value whole, an array on a path, a number with a fraction or
//! exponent) is marked, and a rule reading it is judged on the parsed
//! record instead; so is every record whose walk fails (an escaped key, a
//! record the tape does not describe). A repeated key means its last value,
//! as for parsed records. As with any projection, members that no path
//! reaches are checked for structure only.

use std::borrow::Cow;

use super::sigma::{Document, FieldRef, Number, SigmaRuleSet};
use crate::read::record::JsonView;
use crate::read::structural::Tape;
use crate::replay::pattern::{FieldPlan, FieldValues};

/// The fields findings read, beyond what the rules read (see
/// `EventFields::of` and `read::record::principal`).
const FINDING_PATHS: [&str; 17] = [
    "eventSource",
    "eventName",
    "eventTime",
    "eventID",
    "recipientAccountId",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "userIdentity.type",
    "userIdentity.arn",
    "userIdentity.principalId",
    "userIdentity.accountId",
    "userIdentity.invokedBy",
    "userIdentity.sessionContext.sessionIssuer.arn",
    "userIdentity.onBehalfOf.identityStoreArn",
    "userIdentity.onBehalfOf.userId",
];

/// The paths one rule set reads, as a tree of keys; each node has a slot in
/// the [`FieldPlan`] and a bit in the masks below.
#[derive(Debug, Clone)]
pub struct Projection {
    plan: FieldPlan,
    /// Node 0 is the record itself.
    nodes: Vec<Node>,
    /// Per rule: the bits of the nodes whose value it reads whole.
    reads: Vec<u64>,
    /// Per rule: the bits of every node on its paths (leaves included).
    passes: Vec<u64>,
    /// The same two masks for the findings' fields.
    finding_reads: u64,
    finding_passes: u64,
}

#[derive(Debug, Clone)]
struct Node {
    key: Box<str>,
    slot: usize,
    children: Vec<usize>,
}

/// What the masks can hold.
const MAX_NODES: usize = 64;

impl Projection {
    /// The projection for `rules`; `None` when the paths are too many for
    /// the masks (every record is then parsed whole).
    pub fn new(rules: &SigmaRuleSet) -> Option<Projection> {
        let mut p = Projection {
            plan: FieldPlan::default(),
            nodes: vec![Node {
                key: "".into(),
                slot: usize::MAX,
                children: Vec::new(),
            }],
            reads: Vec::new(),
            passes: Vec::new(),
            finding_reads: 0,
            finding_passes: 0,
        };
        for rule in rules.rules() {
            let (mut reads, mut passes) = (0, 0);
            for path in rule.paths() {
                let (r, q) = p.add(&path)?;
                reads |= r;
                passes |= q;
            }
            p.reads.push(reads);
            p.passes.push(passes);
        }
        for path in FINDING_PATHS {
            let path: Vec<&str> = path.split('.').collect();
            let (r, q) = p.add(&path)?;
            p.finding_reads |= r;
            p.finding_passes |= q;
        }
        Some(p)
    }

    /// Adds a path: the bit of its leaf, and the bits of every node on it.
    fn add<S: AsRef<str>>(&mut self, path: &[S]) -> Option<(u64, u64)> {
        if path.is_empty() {
            return None;
        }
        let mut node = 0;
        let mut passes = 0u64;
        for (depth, key) in path.iter().enumerate() {
            let key = key.as_ref();
            let found = self.nodes[node]
                .children
                .iter()
                .copied()
                .find(|&c| &*self.nodes[c].key == key);
            node = match found {
                Some(c) => c,
                None => {
                    if self.nodes.len() > MAX_NODES {
                        return None;
                    }
                    let keys: Vec<&str> = path[..=depth].iter().map(AsRef::as_ref).collect();
                    let slot = self.plan.slot(&keys);
                    self.nodes.push(Node {
                        key: key.into(),
                        slot,
                        children: Vec::new(),
                    });
                    let child = self.nodes.len() - 1;
                    self.nodes[node].children.push(child);
                    child
                }
            };
            passes |= bit(node);
        }
        Some((bit(node), passes))
    }

    /// How deep the record's tape must reach.
    pub fn tape_depth(&self) -> usize {
        self.plan.depth()
    }

    /// Projects one record (`{` to `}`, with its tape); `None` when the walk
    /// cannot read it exactly or the findings' own fields are not held.
    pub fn project<'a>(&'a self, record: &'a [u8], tape: &Tape) -> Option<Projected<'a>> {
        let raw = self.plan.raw_on_tape(record, tape)?;
        let mut built = Projected {
            root: Value::Object(Vec::new()),
            unheld: 0,
            broken: 0,
        };
        built.root = self.build(0, None, &raw, &mut built.unheld, &mut built.broken)?;
        built
            .holds(self.finding_reads, self.finding_passes)
            .then_some(built)
    }

    /// Whether rule `rule` can be judged on `p`.
    pub fn holds_rule(&self, p: &Projected<'_>, rule: usize) -> bool {
        p.holds(self.reads[rule], self.passes[rule])
    }

    /// The value of node `n`, from its bytes (`raw`, `None` for the record).
    fn build<'a>(
        &'a self,
        n: usize,
        raw: Option<&'a [u8]>,
        values: &FieldValues<'a>,
        unheld: &mut u64,
        broken: &mut u64,
    ) -> Option<Value<'a>> {
        let node = &self.nodes[n];
        let object = raw.is_none_or(|r| r.first() == Some(&b'{'));
        if object && (n == 0 || !node.children.is_empty()) {
            if n != 0 {
                *unheld |= bit(n);
            }
            let mut members = Vec::with_capacity(node.children.len());
            for &c in &node.children {
                if let Some(bytes) = values.raw(self.nodes[c].slot) {
                    let value = self.build(c, Some(bytes), values, unheld, broken)?;
                    members.push((&*self.nodes[c].key, value));
                }
            }
            return Some(Value::Object(members));
        }
        let bytes = raw?;
        Some(match bytes.first()? {
            b'{' => {
                *unheld |= bit(n);
                Value::Null
            }
            b'[' => {
                *broken |= bit(n);
                Value::Null
            }
            b'"' => Value::Str(string(bytes)?),
            b'n' => Value::Null,
            b't' => Value::Bool(true),
            b'f' => Value::Bool(false),
            _ => match integer(bytes) {
                Some(number) => Value::Num(number),
                None => {
                    *unheld |= bit(n);
                    Value::Null
                }
            },
        })
    }
}

fn bit(node: usize) -> u64 {
    1u64 << (node - 1)
}

/// A JSON string's text; `None` where serde would reject it.
fn string(bytes: &[u8]) -> Option<Cow<'_, str>> {
    let inner = &bytes[1..bytes.len().checked_sub(1)?];
    let plain = !inner.iter().any(|&b| b == b'\\' || b == b'"' || b < 0x20);
    if plain {
        std::str::from_utf8(inner).ok().map(Cow::Borrowed)
    } else {
        serde_json::from_slice::<String>(bytes).ok().map(Cow::Owned)
    }
}

/// An integer as a parser reads it; `None` for anything else (a fraction or
/// exponent, or beyond 64 bits), which the tree does not hold.
fn integer(bytes: &[u8]) -> Option<Number> {
    let text = std::str::from_utf8(bytes).ok()?;
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !canonical {
        return None;
    }
    if let Ok(n) = text.parse::<i64>() {
        Some(Number::I64(n))
    } else {
        text.parse::<u64>().ok().map(Number::U64)
    }
}

/// One record's projection.
#[derive(Debug)]
pub struct Projected<'a> {
    root: Value<'a>,
    /// Nodes whose value the tree does not hold whole.
    unheld: u64,
    /// Nodes where an array stands on the path.
    broken: u64,
}

impl<'a> Projected<'a> {
    /// The record as a document the rules and findings read.
    pub fn root(&self) -> &Value<'a> {
        &self.root
    }

    /// Whether the tree holds every value a reader of these nodes needs:
    /// those it reads whole (`reads`), and no array on its paths (`passes`).
    fn holds(&self, reads: u64, passes: u64) -> bool {
        reads & (self.unheld | self.broken) == 0 && passes & self.broken == 0
    }
}

/// A projected value. Objects hold only the members some path reaches.
#[derive(Debug)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Num(Number),
    Str(Cow<'a, str>),
    Object(Vec<(&'a str, Value<'a>)>),
}

impl<'a> Value<'a> {
    fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl Document for Value<'_> {
    fn node(&self) -> FieldRef<'_, Self> {
        match self {
            Value::Null => FieldRef::Null,
            Value::Bool(b) => FieldRef::Bool(*b),
            Value::Num(n) => FieldRef::Number(*n),
            Value::Str(s) => FieldRef::String(s),
            Value::Object(_) => FieldRef::Object(self),
        }
    }

    fn member(&self, key: &str) -> Option<&Self> {
        self.get(key)
    }

    fn for_each_member(&self, visit: &mut dyn FnMut(&str, &Self)) {
        if let Value::Object(members) = self {
            for (k, v) in members {
                visit(k, v);
            }
        }
    }
}

impl JsonView for Value<'_> {
    fn field(&self, key: &str) -> Option<&Self> {
        self.get(key)
    }

    fn text(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    fn boolish(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Str(s) => crate::read::record::parse_bool_text(s),
            _ => None,
        }
    }

    /// The projected members only, not the record's text.
    fn to_json(&self) -> String {
        super::sigma::compact_json(self)
    }

    fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}
