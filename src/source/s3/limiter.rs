//! How many requests are in flight: one pool for LISTs and GETs, adapted as
//! TCP adapts its window. It starts small and grows by one for each request
//! that completes while the pool is full (doubling per round trip: slow
//! start), then by one per round trip past the last cut; a throttling answer
//! halves it, at most once per round trip and never below a floor, so
//! throttling slows a run down instead of stopping it. `--s3-concurrency` is
//! the ceiling. The pool only grows while it is the limit (requests are
//! waiting for it), so an idle or CPU-bound run does not inflate it.
//!
//! A free place goes to a waiting GET before a waiting LIST, except that
//! LISTs keep a small share of the pool: the objects already listed are
//! fetched first (the first GET does not queue behind a hundred LISTs), and
//! the listing still runs ahead of the GETs.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use tokio::sync::oneshot;

/// Requests in flight at the start.
const INITIAL: usize = 32;
/// The pool is never cut below this (or the ceiling): random refusals halve
/// a pool every round trip, and a pool of one or two would take a bucket
/// throttled one request in five hours instead of minutes.
const FLOOR: usize = 16;
/// LISTs are served before waiting GETs while fewer than `limit / LIST_SHARE`
/// of them are in flight.
const LIST_SHARE: usize = 8;

/// Which queue a request waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A GET, PUT or DELETE: served first.
    Object,
    /// A LIST: served when no object request waits, or within its share.
    List,
}

/// The shared pool of requests in flight.
pub struct Limiter {
    state: Mutex<State>,
    ceiling: usize,
    floor: usize,
    max_in_flight: AtomicU64,
}

struct State {
    /// Requests allowed in flight now.
    limit: usize,
    /// Requests in flight now, and how many of them are LISTs.
    held: usize,
    lists: usize,
    /// Below this, grow per request (slow start); above, per round trip.
    threshold: usize,
    /// Completions since the last additive step.
    credit: usize,
    /// Cuts so far: a throttled request that started before the last cut
    /// was answered for the pool as it was, and does not cut it again.
    epoch: u64,
    /// Waiting requests, in arrival order: `[Object, List]`.
    waiting: [VecDeque<oneshot::Sender<()>>; 2],
}

/// One request's place in the pool; given back on drop.
pub struct Permit<'a> {
    limiter: &'a Limiter,
    class: Class,
    epoch: u64,
}

impl Limiter {
    /// A pool that may grow to `ceiling` requests in flight.
    pub fn new(ceiling: usize) -> Limiter {
        let ceiling = ceiling.max(1);
        let start = INITIAL.min(ceiling);
        Limiter {
            state: Mutex::new(State {
                limit: start,
                held: 0,
                lists: 0,
                threshold: ceiling,
                credit: 0,
                epoch: 0,
                waiting: [VecDeque::new(), VecDeque::new()],
            }),
            ceiling,
            floor: FLOOR.min(ceiling),
            max_in_flight: AtomicU64::new(0),
        }
    }

    /// Waits for a place in the pool.
    pub async fn acquire(&self, class: Class) -> Permit<'_> {
        let rx = {
            let mut s = self.lock();
            if s.held < s.limit {
                // Nobody waits while there is room (see `hand_out`).
                s.take(class);
                return self.permit(&s, class);
            }
            let (tx, rx) = oneshot::channel();
            s.waiting[class as usize].push_back(tx);
            rx
        };
        let mut wait = Waiting {
            rx,
            limiter: self,
            class,
        };
        // The sender lives in the queue until it is handed a place.
        let _ = (&mut wait.rx).await;
        let s = self.lock();
        self.permit(&s, class)
    }

    fn permit(&self, s: &State, class: Class) -> Permit<'_> {
        self.max_in_flight
            .fetch_max(s.held as u64, Ordering::Relaxed);
        Permit {
            limiter: self,
            class,
            epoch: s.epoch,
        }
    }

    /// Requests allowed in flight now.
    pub fn limit(&self) -> usize {
        self.lock().limit
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> u64 {
        self.lock().held as u64
    }

    /// The most requests ever in flight at once.
    pub fn max_in_flight(&self) -> u64 {
        self.max_in_flight.load(Ordering::Relaxed)
    }

    /// Gives a place back and passes free places on to waiting requests.
    fn release(&self, class: Class) {
        let mut s = self.lock();
        s.give_back(class);
        s.hand_out();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn take(&mut self, class: Class) {
        self.held += 1;
        if class == Class::List {
            self.lists += 1;
        }
    }

    fn give_back(&mut self, class: Class) {
        self.held -= 1;
        if class == Class::List {
            self.lists -= 1;
        }
    }

    /// Hands free places to waiting requests: GETs first, LISTs while under
    /// their share or when no GET waits.
    fn hand_out(&mut self) {
        while self.held < self.limit {
            let share = (self.limit / LIST_SHARE).max(1);
            let [objects, lists] = &self.waiting;
            let class = match (objects.is_empty(), lists.is_empty()) {
                (true, true) => return,
                (false, false) if self.lists < share => Class::List,
                (false, _) => Class::Object,
                (true, false) => Class::List,
            };
            let Some(tx) = self.waiting[class as usize].pop_front() else {
                return;
            };
            // A waiter that gave up has dropped its receiver: skip it.
            if tx.send(()).is_ok() {
                self.take(class);
            }
        }
    }
}

impl Permit<'_> {
    /// The request succeeded: grow when the pool was the limit.
    pub fn succeeded(self) {
        let limiter = self.limiter;
        let mut s = limiter.lock();
        let busy = s.held >= s.limit;
        if busy && s.limit < limiter.ceiling {
            if s.limit < s.threshold {
                s.limit += 1;
            } else {
                s.credit += 1;
                if s.credit >= s.limit {
                    s.credit = 0;
                    s.limit += 1;
                }
            }
        }
        drop(s);
    }

    /// The request was throttled: halve the pool, unless it was cut since
    /// this request started (one cut per round trip) or is at its floor.
    pub fn throttled(self) {
        let limiter = self.limiter;
        let mut s = limiter.lock();
        if self.epoch == s.epoch {
            s.epoch += 1;
            s.limit = (s.limit / 2).max(limiter.floor);
            s.threshold = s.limit;
            s.credit = 0;
        }
        drop(s);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.limiter.release(self.class);
    }
}

/// A request waiting for a place; if it is dropped (its task ended) after a
/// place was handed to it, the place goes back.
struct Waiting<'a> {
    rx: oneshot::Receiver<()>,
    limiter: &'a Limiter,
    class: Class,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.rx.close();
        if self.rx.try_recv().is_ok() {
            self.limiter.release(self.class);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    async fn hold(l: &Limiter, class: Class, n: usize) -> Vec<Permit<'_>> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(l.acquire(class).await);
        }
        v
    }

    #[test]
    fn the_pool_grows_while_full_and_halves_once_per_round_trip() {
        run(async {
            let l = Limiter::new(100);
            assert_eq!(l.limit(), INITIAL);
            // Idle completions do not grow it.
            l.acquire(Class::Object).await.succeeded();
            assert_eq!(l.limit(), INITIAL);
            // A full pool grows by one per completion (slow start).
            let mut held = hold(&l, Class::Object, INITIAL).await;
            held.pop().unwrap().succeeded();
            let grown = INITIAL + 1;
            assert_eq!(l.limit(), grown);
            // Requests that started before a cut do not cut again.
            held.pop().unwrap().throttled();
            assert_eq!(l.limit(), grown / 2);
            held.pop().unwrap().throttled();
            assert_eq!(l.limit(), grown / 2, "one cut per round trip");
            drop(held);
            assert_eq!(l.in_flight(), 0);
            // A request started after the cut cuts again, down to the floor.
            for _ in 0..4 {
                l.acquire(Class::Object).await.throttled();
            }
            assert_eq!(l.limit(), FLOOR);
            assert_eq!(l.max_in_flight(), INITIAL as u64);
        });
    }

    #[test]
    fn a_free_place_goes_to_a_get_before_a_list_past_the_lists_share() {
        use std::sync::Arc;
        run(async {
            let l = Arc::new(Limiter::new(INITIAL));
            let share = INITIAL / LIST_SHARE;
            let mut held = hold(&l, Class::List, share).await;
            held.extend(hold(&l, Class::Object, INITIAL - share).await);
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let done = Arc::new(tokio::sync::Notify::new());
            for class in [Class::List, Class::Object, Class::List] {
                let (l, tx, done) = (l.clone(), tx.clone(), done.clone());
                tokio::spawn(async move {
                    let _p = l.acquire(class).await;
                    tx.send(class).unwrap();
                    done.notified().await;
                });
                tokio::task::yield_now().await;
            }
            // The GET queued after a LIST is served first; then, with LISTs
            // under their share, the LIST that waited longest.
            drop(held.pop());
            tokio::task::yield_now().await;
            assert_eq!(rx.try_recv().ok(), Some(Class::Object));
            drop(held.remove(0));
            tokio::task::yield_now().await;
            assert_eq!(rx.try_recv().ok(), Some(Class::List));
            assert!(rx.try_recv().is_err());
            assert_eq!(l.in_flight(), INITIAL as u64);
            drop(held);
            done.notify_waiters();
        });
    }

    #[test]
    fn the_ceiling_bounds_the_pool() {
        run(async {
            let l = Limiter::new(3);
            let held = hold(&l, Class::Object, 3).await;
            held.into_iter().next().unwrap().succeeded();
            assert_eq!(l.limit(), 3);
        });
    }
}
