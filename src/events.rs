//! The matched-event table: compact, interned rows built by each worker and
//! merged once at the end.
//!
//! Repeated strings (principals, IPs, user agents, secrets, object names) are
//! stored once per worker; unique ones (event and request ids) go into an
//! arena. A row costs about 100 bytes, so memory follows the number of
//! matched events, never the number or size of files.

use std::hash::BuildHasher;

use rustc_hash::{FxBuildHasher, FxHashSet};

use crate::record::Event;

/// The interned string columns of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Col {
    EventSource,
    EventName,
    Principal,
    PrincipalType,
    SessionArn,
    AccessKeyId,
    AccountId,
    Region,
    SourceIp,
    UserAgent,
    Secret,
    ErrorCode,
    Object,
}

const INTERNED: usize = 13;
const NONE: u32 = u32::MAX;

/// A string in the arena.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: usize,
    len: u32,
    present: bool,
}

/// One matched event.
#[derive(Debug, Clone)]
pub struct Row {
    /// `eventTime` in microseconds since the Unix epoch (UTC).
    pub time_us: i64,
    interned: [u32; INTERNED],
    event_id: Span,
    request_id: Span,
    batch_request: Span,
    /// `readOnly`, when the record says.
    pub read_only: Option<bool>,
}

/// Strings stored once, addressed by index. The table holds only ids and
/// finds a string by hashing the one its id points at, so each string is
/// kept in memory once, not twice (as a map key and in the list).
#[derive(Default)]
struct Interner {
    ids: hashbrown::HashTable<u32>,
    strings: Vec<Box<str>>,
}

impl std::fmt::Debug for Interner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interner")
            .field("strings", &self.strings.len())
            .finish()
    }
}

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        let hash = FxBuildHasher.hash_one(s);
        let strings = &self.strings;
        if let Some(&id) = self.ids.find(hash, |&id| &*strings[id as usize] == s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.into());
        let strings = &self.strings;
        self.ids.insert_unique(hash, id, |&id| {
            FxBuildHasher.hash_one(&*strings[id as usize])
        });
        id
    }
}

/// A table of matched events.
#[derive(Debug, Default)]
pub struct EventStore {
    strings: Interner,
    arena: String,
    rows: Vec<Row>,
}

impl EventStore {
    /// Appends an event found in `object`; the event must carry a time.
    pub fn push(&mut self, ev: &Event<'_>, time_us: i64, object: &str) {
        let mut interned = [NONE; INTERNED];
        let mut set = |col: Col, v: Option<&str>| {
            if let Some(v) = v {
                interned[col as usize] = self.strings.intern(v);
            }
        };
        set(Col::EventSource, ev.event_source);
        set(Col::EventName, ev.event_name);
        set(Col::Principal, Some(&ev.principal));
        set(Col::PrincipalType, Some(ev.principal_type));
        set(Col::SessionArn, ev.session_arn);
        set(Col::AccessKeyId, ev.access_key_id);
        set(Col::AccountId, ev.account_id);
        set(Col::Region, ev.region);
        set(Col::SourceIp, ev.source_ip);
        set(Col::UserAgent, ev.user_agent);
        set(Col::Secret, ev.secret.as_deref());
        set(Col::ErrorCode, ev.error_code);
        set(Col::Object, Some(object));
        let row = Row {
            time_us,
            interned,
            event_id: self.stash(ev.event_id),
            request_id: self.stash(ev.request_id),
            batch_request: self.stash(ev.batch_request.as_deref()),
            read_only: ev.read_only,
        };
        self.rows.push(row);
    }

    fn stash(&mut self, s: Option<&str>) -> Span {
        let Some(s) = s else {
            return Span::default();
        };
        let start = self.arena.len();
        self.arena.push_str(s);
        Span {
            start,
            len: s.len() as u32,
            present: true,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Drops rows past `len`: the events of a file that failed part-way.
    pub fn truncate(&mut self, len: usize) {
        self.rows.truncate(len);
    }

    /// The rows, in their current order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// An interned column's value.
    pub fn get(&self, row: &Row, col: Col) -> Option<&str> {
        match row.interned[col as usize] {
            NONE => None,
            id => Some(&self.strings.strings[id as usize]),
        }
    }

    fn span(&self, span: Span) -> Option<&str> {
        span.present
            .then(|| &self.arena[span.start..span.start + span.len as usize])
    }

    /// The row's `eventID`.
    pub fn event_id(&self, row: &Row) -> Option<&str> {
        self.span(row.event_id)
    }

    /// The row's `requestID`.
    pub fn request_id(&self, row: &Row) -> Option<&str> {
        self.span(row.request_id)
    }

    /// A batch call's id list or filters, as JSON.
    pub fn batch_request(&self, row: &Row) -> Option<&str> {
        self.span(row.batch_request)
    }

    /// Moves `other`'s rows into `self`, re-interning its strings. The
    /// smaller store is the one copied; row order is settled by [`Self::sort`].
    pub fn merge(&mut self, mut other: EventStore) {
        if other.rows.len() > self.rows.len() {
            std::mem::swap(self, &mut other);
        }
        let remap: Vec<u32> = other
            .strings
            .strings
            .iter()
            .map(|s| self.strings.intern(s))
            .collect();
        let base = self.arena.len();
        self.arena.push_str(&other.arena);
        self.rows.reserve(other.rows.len());
        for mut row in other.rows {
            for id in row.interned.iter_mut().filter(|id| **id != NONE) {
                *id = remap[*id as usize];
            }
            for span in [
                &mut row.event_id,
                &mut row.request_id,
                &mut row.batch_request,
            ] {
                span.start += base;
            }
            self.rows.push(row);
        }
    }

    /// Sorts by time, then event id, then object, so output is byte-stable
    /// whatever the thread count.
    pub fn sort(&mut self) {
        let mut rows = std::mem::take(&mut self.rows);
        rows.sort_by(|a, b| {
            a.time_us
                .cmp(&b.time_us)
                .then_with(|| self.event_id(a).cmp(&self.event_id(b)))
                .then_with(|| self.get(a, Col::Object).cmp(&self.get(b, Col::Object)))
        });
        self.rows = rows;
    }

    /// Removes every row whose `eventID` was already seen (a re-delivery or a
    /// copied file), keeping the first in the current order. Returns how many.
    pub fn dedup_event_ids(&mut self) -> u64 {
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        let keep: Vec<bool> = self
            .rows
            .iter()
            .map(|r| self.span(r.event_id).is_none_or(|id| seen.insert(id)))
            .collect();
        let before = self.rows.len();
        let mut it = keep.into_iter();
        self.rows.retain(|_| it.next().unwrap_or(true));
        (before - self.rows.len()) as u64
    }
}
