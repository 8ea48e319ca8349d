//! How many requests are in flight: one pool for LISTs and GETs, adapted as
//! TCP adapts its window. It starts small and grows by one for each request
//! that completes while the pool is full (doubling per round trip: slow
//! start), then by one per round trip past the last cut; a throttling answer
//! halves it. `--s3-concurrency` is the ceiling. The pool only grows while
//! it is the limit (requests are waiting for it), so an idle or CPU-bound
//! run does not inflate it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Requests in flight at the start.
const INITIAL: usize = 32;
/// Throttling answers closer together than this count as one congestion
/// event: the answers to one burst arrive together, and one cut suffices.
const CUT_INTERVAL: Duration = Duration::from_millis(200);

/// The shared pool of requests in flight.
pub struct Limiter {
    permits: Arc<Semaphore>,
    state: Mutex<State>,
    ceiling: usize,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

struct State {
    /// Requests allowed in flight now.
    limit: usize,
    /// Below this, grow per request (slow start); above, per round trip.
    threshold: usize,
    /// Completions since the last additive step.
    credit: usize,
    /// Permits to retire as they come back, after a cut.
    debt: usize,
    last_cut: Option<Instant>,
}

/// One request's place in the pool; given back on drop.
pub struct Permit<'a> {
    permit: Option<OwnedSemaphorePermit>,
    limiter: &'a Limiter,
}

impl Limiter {
    /// A pool that may grow to `ceiling` requests in flight.
    pub fn new(ceiling: usize) -> Limiter {
        let ceiling = ceiling.max(1);
        let start = INITIAL.min(ceiling);
        Limiter {
            permits: Arc::new(Semaphore::new(start)),
            state: Mutex::new(State {
                limit: start,
                threshold: ceiling,
                credit: 0,
                debt: 0,
                last_cut: None,
            }),
            ceiling,
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
        }
    }

    /// Waits for a place in the pool.
    pub async fn acquire(&self) -> Permit<'_> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.max_in_flight.fetch_max(now, Ordering::Relaxed);
        Permit {
            permit: Some(permit),
            limiter: self,
        }
    }

    /// A request succeeded: grow when the pool was the limit.
    pub fn on_success(&self) {
        let mut s = self.lock();
        let busy = self.in_flight.load(Ordering::Relaxed) as usize + 1 >= s.limit;
        if !busy || s.limit >= self.ceiling {
            return;
        }
        if s.limit < s.threshold {
            self.grow(&mut s);
        } else {
            s.credit += 1;
            if s.credit >= s.limit {
                s.credit = 0;
                self.grow(&mut s);
            }
        }
    }

    /// A request was throttled: halve the pool, once per burst.
    pub fn on_throttle(&self) {
        let mut s = self.lock();
        if s.last_cut.is_some_and(|t| t.elapsed() < CUT_INTERVAL) {
            return;
        }
        s.last_cut = Some(Instant::now());
        let cut = s.limit - (s.limit / 2).max(1);
        s.limit -= cut;
        s.threshold = s.limit;
        s.credit = 0;
        s.debt += cut;
        while s.debt > 0 {
            match self.permits.try_acquire() {
                Ok(p) => {
                    p.forget();
                    s.debt -= 1;
                }
                Err(_) => break,
            }
        }
    }

    /// Requests allowed in flight now.
    pub fn limit(&self) -> usize {
        self.lock().limit
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The most requests ever in flight at once.
    pub fn max_in_flight(&self) -> u64 {
        self.max_in_flight.load(Ordering::Relaxed)
    }

    fn grow(&self, s: &mut State) {
        s.limit += 1;
        if s.debt > 0 {
            s.debt -= 1;
        } else {
            self.permits.add_permits(1);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.limiter.in_flight.fetch_sub(1, Ordering::Relaxed);
        let Some(permit) = self.permit.take() else {
            return;
        };
        let mut s = self.limiter.lock();
        if s.debt > 0 {
            s.debt -= 1;
            permit.forget();
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

    #[test]
    fn the_pool_grows_while_full_and_halves_on_throttling() {
        run(async {
            let l = Limiter::new(100);
            assert_eq!(l.limit(), INITIAL);
            // Idle completions do not grow it.
            let p = l.acquire().await;
            l.on_success();
            drop(p);
            assert_eq!(l.limit(), INITIAL);
            // A full pool grows by one per completion (slow start).
            let held: Vec<_> = futures_join(&l, INITIAL).await;
            l.on_success();
            let grown = INITIAL + 1;
            assert_eq!(l.limit(), grown);
            l.on_throttle();
            assert_eq!(l.limit(), grown / 2);
            l.on_throttle();
            assert_eq!(l.limit(), grown / 2, "one cut per burst");
            drop(held);
            assert_eq!(l.permits.available_permits(), grown / 2);
            assert_eq!(l.max_in_flight(), INITIAL as u64);
        });
    }

    async fn futures_join(l: &Limiter, n: usize) -> Vec<Permit<'_>> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(l.acquire().await);
        }
        v
    }

    #[test]
    fn the_ceiling_bounds_the_pool() {
        run(async {
            let l = Limiter::new(3);
            let held = futures_join(&l, 3).await;
            l.on_success();
            assert_eq!(l.limit(), 3);
            drop(held);
        });
    }
}
