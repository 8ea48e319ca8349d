//! Retrying: throttling slows the run down and never fails a request before
//! the deadline; other server and connection errors get a few attempts; a
//! refusal (403, 404, …) fails at once. Every attempt goes through the
//! shared [`Limiter`], so a throttled bucket sees fewer requests in flight.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use super::error::describe;
use super::limiter::{Class, Limiter};
use super::Counters;

/// Attempts of a request that fails with a server or connection error.
const MAX_ATTEMPTS: u32 = 5;
/// First backoff; doubled per attempt, with full jitter.
const BASE_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Consecutive connection-level failures after which the endpoint is taken
/// as gone and the remaining objects fail at once instead of each retrying.
const BREAKER_THRESHOLD: u32 = 8;

/// Why one attempt failed.
#[derive(Debug)]
pub enum Failure {
    /// `503 SlowDown`, `429`, a `…Throttl…` code: retried until the deadline.
    Throttled(String),
    /// A server error or a lost connection: retried a few times.
    Transient { message: String, connection: bool },
    /// A refusal or a missing object: not retried.
    Fatal(String),
}

impl Failure {
    /// Classifies an SDK error.
    pub fn of_sdk<E>(e: &SdkError<E, HttpResponse>) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let message = describe(e);
        match e {
            SdkError::ServiceError(s) => {
                let status = s.raw().status().as_u16();
                let code = s.err().code().unwrap_or_default();
                if is_throttling(status, code) {
                    Failure::Throttled(message)
                } else if status >= 500 {
                    Failure::Transient {
                        message,
                        connection: false,
                    }
                } else {
                    Failure::Fatal(message)
                }
            }
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => Failure::Transient {
                message,
                connection: true,
            },
            SdkError::ResponseError(_) => Failure::Transient {
                message,
                connection: false,
            },
            _ => Failure::Fatal(message),
        }
    }

    fn message(&self) -> &str {
        match self {
            Failure::Throttled(m) | Failure::Fatal(m) => m,
            Failure::Transient { message, .. } => message,
        }
    }
}

/// S3's and AWS's throttling answers.
fn is_throttling(status: u16, code: &str) -> bool {
    status == 429
        || code == "SlowDown"
        || code.contains("Throttl")
        || code == "RequestLimitExceeded"
        || code == "TooManyRequests"
        || (status == 503 && code.is_empty())
}

/// Which counter an attempt bumps.
#[derive(Debug, Clone, Copy)]
pub enum Op {
    List,
    Get,
    Put,
    Delete,
}

impl Op {
    /// The limiter's queue: objects already listed are fetched before more
    /// are listed.
    fn class(self) -> Class {
        match self {
            Op::List => Class::List,
            Op::Get | Op::Put | Op::Delete => Class::Object,
        }
    }
}

/// How long a throttled request keeps trying (`--s3-retry-deadline`).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub deadline: Duration,
}

/// Runs `attempt` until it succeeds, fails for good, or stays throttled past
/// the deadline; each attempt holds one of the limiter's permits.
pub async fn with_retries<T, F, Fut>(
    limiter: &Limiter,
    counters: &Counters,
    policy: Policy,
    op: Op,
    mut attempt: F,
) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let started = Instant::now();
    let mut failures = 0u32;
    loop {
        let permit = limiter.acquire(op.class()).await;
        counters.count(op);
        let failure = match attempt().await {
            Ok(v) => {
                permit.succeeded();
                return Ok(v);
            }
            Err(f) => f,
        };
        failures += 1;
        // The place is given back before the backoff.
        if matches!(failure, Failure::Throttled(_)) {
            permit.throttled();
        } else {
            drop(permit);
        }
        match &failure {
            Failure::Throttled(_) => {
                counters.throttled.fetch_add(1, Ordering::Relaxed);
                if started.elapsed() >= policy.deadline {
                    return Err(Failure::Throttled(format!(
                        "{} (still throttled after {:?} of retries)",
                        failure.message(),
                        policy.deadline
                    )));
                }
            }
            Failure::Transient { .. } if failures < MAX_ATTEMPTS => {}
            _ => return Err(failure),
        }
        counters.retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(backoff(failures)).await;
    }
}

/// Full jitter: uniform in `[0, min(MAX, BASE·2^(n-1))]`.
fn backoff(failures: u32) -> Duration {
    let cap = BASE_BACKOFF
        .saturating_mul(1 << failures.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    cap.mul_f64(fastrand::f64())
}

/// Trips after `BREAKER_THRESHOLD` consecutive connection failures, so
/// that a dead endpoint fails the remaining objects at once.
#[derive(Default)]
pub struct Breaker {
    consecutive: AtomicU32,
    cause: Mutex<Option<String>>,
}

impl Breaker {
    /// The cause, once tripped.
    pub fn tripped(&self) -> Option<String> {
        self.cause.lock().ok().and_then(|c| c.clone())
    }

    /// Notes how a request ended.
    pub fn record<T>(&self, result: &Result<T, Failure>) {
        match result {
            Err(Failure::Transient {
                message,
                connection: true,
            }) => {
                if self.consecutive.fetch_add(1, Ordering::Relaxed) + 1 >= BREAKER_THRESHOLD {
                    if let Ok(mut c) = self.cause.lock() {
                        c.get_or_insert_with(|| message.clone());
                    }
                }
            }
            _ => self.consecutive.store(0, Ordering::Relaxed),
        }
    }
}

/// The message of a failed request, for a failure line.
pub fn message(f: Failure) -> String {
    match f {
        Failure::Throttled(m) | Failure::Fatal(m) => m,
        Failure::Transient { message, .. } => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_is_told_from_failures() {
        assert!(is_throttling(503, "SlowDown"));
        assert!(is_throttling(400, "ThrottlingException"));
        assert!(is_throttling(429, ""));
        assert!(!is_throttling(500, "InternalError"));
        assert!(!is_throttling(403, "AccessDenied"));
        assert!(backoff(1) <= BASE_BACKOFF);
        assert!(backoff(40) <= MAX_BACKOFF);
    }
}
