//! Counters behind `GET /__s3lab/stats`: requests per operation and status,
//! requests in flight now and at most, and body bytes served.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

use serde_json::{json, Map, Value};

use crate::request::Op;

#[derive(Default)]
pub struct Stats {
    by_op_status: Mutex<BTreeMap<(Op, u16), u64>>,
    in_flight: AtomicI64,
    max_in_flight: AtomicI64,
    bytes: AtomicU64,
    requests: AtomicU64,
}

/// Counts one request as in flight until dropped.
pub struct InFlight<'a>(&'a Stats);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Stats {
    pub fn enter(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.max_in_flight.fetch_max(now, Ordering::Relaxed);
        InFlight(self)
    }

    pub fn record(&self, op: Op, status: u16, bytes: u64) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        let mut map = self.by_op_status.lock().expect("stats lock");
        *map.entry((op, status)).or_default() += 1;
    }

    /// Zeroes the counters; the maximum restarts from the current level.
    pub fn reset(&self) {
        self.by_op_status.lock().expect("stats lock").clear();
        self.requests.store(0, Ordering::Relaxed);
        self.bytes.store(0, Ordering::Relaxed);
        let now = self.in_flight.load(Ordering::Relaxed);
        self.max_in_flight.store(now, Ordering::Relaxed);
    }

    /// `{"requests":…,"by_op":{"GetObject":{"200":…}},"by_status":{…},…}`.
    pub fn to_json(&self) -> Value {
        let mut by_op: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
        let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
        for (&(op, status), &n) in self.by_op_status.lock().expect("stats lock").iter() {
            by_op
                .entry(op.name())
                .or_default()
                .insert(status.to_string(), n.into());
            *by_status.entry(status.to_string()).or_default() += n;
        }
        json!({
            "requests": self.requests.load(Ordering::Relaxed),
            "by_op": by_op,
            "by_status": by_status,
            "in_flight": self.in_flight.load(Ordering::Relaxed),
            "max_in_flight": self.max_in_flight.load(Ordering::Relaxed),
            "bytes_served": self.bytes.load(Ordering::Relaxed),
        })
    }
}
