//! What a command plugs into the scan beside the report's selection: a
//! [`RecordVisitor`] judging records its own way, and what it is told of
//! each record and object.

use crate::read::record::Event;
use crate::read::structural::Tape;
use crate::scan::RecordCounts;
use crate::source::ObjectRef;

/// A second consumer of records beside the report's selection, for commands
/// that match records their own way (filter patterns, rule packs, tampering).
///
/// `wants` is asked of every record's raw JSON text and must be cheap (a byte
/// prefilter); wanted records are passed to `visit`. State is per worker, and
/// merged once at the end.
pub trait RecordVisitor: Sync {
    type State: Send;
    /// A fresh per-worker state.
    fn new_state(&self) -> Self::State;
    /// Whether this record's text may interest the visitor.
    fn wants(&self, raw: &[u8]) -> bool;
    /// How deep each record's [`Tape`] should reach, if the visitor reads
    /// one: the split then makes it in the pass that finds the record.
    fn tape_depth(&self) -> Option<usize> {
        None
    }
    /// Takes a wanted record, found as record `index` of object `key`, with
    /// its tape when [`RecordVisitor::tape_depth`] asked for one.
    fn visit(
        &self,
        state: &mut Self::State,
        key: &str,
        index: usize,
        raw: &[u8],
        tape: Option<&Tape>,
    );
    /// Ends an object: `ok` false means it failed and its records must be discarded.
    fn end_object(&self, state: &mut Self::State, key: &str, ok: bool);
    /// Combines two workers' states.
    fn merge(&self, a: Self::State, b: Self::State) -> Self::State;
    /// Whether selected events go to [`RecordVisitor::matched`] instead of
    /// the scan's event table (`ingest` keeps every field of the record,
    /// which the table does not).
    fn takes_matched(&self) -> bool {
        false
    }
    /// Takes a record the selection picked, with a usable time inside the
    /// window, when [`RecordVisitor::takes_matched`].
    fn matched(&self, _state: &mut Self::State, _record: &Matched<'_, '_>) {}
    /// Says what became of an object the scan tried to read (after
    /// [`RecordVisitor::end_object`], when that was called).
    fn object_done(&self, _state: &mut Self::State, _done: &ObjectDone<'_>) {}
}

/// A selected record, as [`RecordVisitor::matched`] gets it.
pub struct Matched<'a, 'v> {
    /// The object's name, as reports show it.
    pub key: &'a str,
    /// The record's position in its object.
    pub index: usize,
    /// The record's text as it is in the object.
    pub raw: &'a [u8],
    pub event: &'a Event<'v>,
    /// The parsed record.
    pub value: &'a simd_json::BorrowedValue<'v>,
    pub time_us: i64,
}

/// An object the scan tried to read, and its outcome.
pub struct ObjectDone<'a> {
    pub object: &'a ObjectRef,
    /// Its bytes as fetched (the listed size when it was not fetched).
    pub size: u64,
    pub outcome: ObjectOutcome<'a>,
}

/// What became of one object, as the scan's accounting counts it.
pub enum ObjectOutcome<'a> {
    Scanned(&'a RecordCounts),
    Skipped(&'a str),
    Failed(&'a str),
}

/// The visitor that wants nothing (plain `report`).
pub struct NoVisitor;

impl RecordVisitor for NoVisitor {
    type State = ();
    fn new_state(&self) {}
    fn wants(&self, _: &[u8]) -> bool {
        false
    }
    fn visit(&self, _: &mut (), _: &str, _: usize, _: &[u8], _: Option<&Tape>) {}
    fn end_object(&self, _: &mut (), _: &str, _: bool) {}
    fn merge(&self, _: (), _: ()) {}
}
