//! The memory budget: how many bytes all workers together may hold
//! inflated at once, so that memory follows a setting, not what the input
//! happens to contain (a gzip bomb, a huge record, many threads at once).
//!
//! A worker reserves what one object needs before inflating it and gives
//! it back when the object is done. A reservation is all or nothing and no
//! worker holds two, so waiting ends whenever the holders finish their
//! objects; requests are served in arrival order, so a large one is not
//! starved by a stream of small ones.

use std::sync::{Condvar, Mutex, PoisonError};

pub use crate::read::inflate::DEFAULT_MEMORY_BUDGET;

/// Bytes of inflated text shared by every worker of a scan.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: u64,
    state: Mutex<Queue>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct Queue {
    used: u64,
    /// The ticket being served, and the next one to hand out.
    serving: u64,
    next: u64,
}

/// A reservation, given back when dropped.
#[derive(Debug)]
pub struct Grant<'b> {
    budget: &'b MemoryBudget,
    bytes: u64,
}

impl MemoryBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: u64) -> Self {
        MemoryBudget {
            limit,
            state: Mutex::new(Queue::default()),
            freed: Condvar::new(),
        }
    }

    /// The budget's size.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Waits until `bytes` fit beside what others hold, then holds them;
    /// `None` at once when they could never fit.
    pub fn reserve(&self, bytes: u64) -> Option<Grant<'_>> {
        if bytes > self.limit {
            return None;
        }
        let mut q = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let ticket = q.next;
        q.next += 1;
        while q.serving != ticket || q.used + bytes > self.limit {
            q = self.freed.wait(q).unwrap_or_else(PoisonError::into_inner);
        }
        q.serving += 1;
        q.used += bytes;
        drop(q);
        // The next ticket may fit too.
        self.freed.notify_all();
        Some(Grant {
            budget: self,
            bytes,
        })
    }

    /// Bytes held now.
    pub fn in_use(&self) -> u64 {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .used
    }
}

impl Drop for Grant<'_> {
    fn drop(&mut self) {
        let mut q = self
            .budget
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        q.used -= self.bytes;
        drop(q);
        self.budget.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn what_can_never_fit_is_refused_at_once() {
        let b = MemoryBudget::new(100);
        assert!(b.reserve(101).is_none());
        let g = b.reserve(100).unwrap();
        assert_eq!(b.in_use(), 100);
        drop(g);
        assert_eq!(b.in_use(), 0);
    }

    #[test]
    fn many_workers_never_hold_more_than_the_budget() {
        let b = MemoryBudget::new(1000);
        let held = AtomicU64::new(0);
        let peak = AtomicU64::new(0);
        std::thread::scope(|s| {
            for t in 0..16u64 {
                let (b, held, peak) = (&b, &held, &peak);
                s.spawn(move || {
                    for i in 0..200u64 {
                        let size = 1 + (t * 37 + i * 101) % 1000;
                        let g = b.reserve(size).unwrap();
                        let now = held.fetch_add(size, Ordering::SeqCst) + size;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        held.fetch_sub(size, Ordering::SeqCst);
                        drop(g);
                    }
                });
            }
        });
        assert!(peak.load(Ordering::SeqCst) <= 1000);
        assert!(
            peak.load(Ordering::SeqCst) > 1000 / 2,
            "reservations overlapped"
        );
        assert_eq!(b.in_use(), 0);
    }
}
