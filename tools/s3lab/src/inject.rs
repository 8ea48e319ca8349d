//! Injected latency and faults: a fixed delay (plus jitter) before every
//! answer, `503 SlowDown` for a deterministic fraction of requests, and
//! `500 InternalError` / `403 AccessDenied` for listings under given prefixes.
//!
//! SlowDown is decided from the seed and the request's sequence number, and
//! a retried request (same SDK invocation, or same method and URI) is never
//! refused more than `max_consecutive` times in a row, so retries always
//! get through eventually.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use http::{HeaderValue, Response, StatusCode};

use crate::hash::{hash_of, unit};
use crate::request::RequestInfo;

const SLOWDOWN_SALT: u64 = 0x510d;
const JITTER_SALT: u64 = 0x7177;

#[derive(Debug, Clone, Default)]
pub struct InjectConfig {
    pub latency_ms: u64,
    pub jitter_ms: u64,
    pub slowdown_rate: f64,
    pub max_consecutive: u32,
    pub seed: u64,
    pub fail_list: Vec<String>,
    pub fail_status: u16,
}

/// A fault to answer with instead of the real response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    SlowDown,
    FailList(u16),
}

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Fault::SlowDown => "SlowDown",
            Fault::FailList(_) => "FailList",
        }
    }

    fn status_code_message(self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Fault::SlowDown => (
                StatusCode::SERVICE_UNAVAILABLE,
                "SlowDown",
                "Please reduce your request rate.",
            ),
            Fault::FailList(403) => (StatusCode::FORBIDDEN, "AccessDenied", "Access Denied"),
            Fault::FailList(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again.",
            ),
        }
    }

    /// The S3 error response: XML body (none for HEAD), request id headers.
    pub fn response(self, seq: u64, is_head: bool) -> Response<s3s::Body> {
        let (status, code, message) = self.status_code_message();
        let request_id = format!("{seq:016X}");
        let body = if is_head {
            s3s::Body::empty()
        } else {
            s3s::Body::from(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                 <Message>{message}</Message><RequestId>{request_id}</RequestId>\
                 <HostId>s3lab</HostId></Error>"
            ))
        };
        let mut resp = Response::new(body);
        *resp.status_mut() = status;
        let headers = resp.headers_mut();
        headers.insert("content-type", HeaderValue::from_static("application/xml"));
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            headers.insert("x-amz-request-id", v);
        }
        resp
    }
}

pub struct Injector {
    cfg: InjectConfig,
    /// Consecutive SlowDowns per request identity; entries leave on success.
    streaks: Mutex<HashMap<u64, u32>>,
}

impl Injector {
    pub fn new(cfg: InjectConfig) -> Injector {
        Injector {
            cfg,
            streaks: Mutex::new(HashMap::new()),
        }
    }

    /// The delay before answering request `seq`.
    pub fn delay(&self, seq: u64) -> Duration {
        let jitter = match self.cfg.jitter_ms {
            0 => 0,
            j => hash_of(&[self.cfg.seed, JITTER_SALT, seq]) % (j + 1),
        };
        Duration::from_millis(self.cfg.latency_ms + jitter)
    }

    /// The fault request `seq` gets, if any. `identity` ties retries together.
    pub fn decide(&self, seq: u64, identity: u64, info: &RequestInfo) -> Option<Fault> {
        if self.slowdown(seq, identity) {
            return Some(Fault::SlowDown);
        }
        let prefix = info.prefix.as_deref().unwrap_or("");
        let listed_under_failing = info.op().is_listing()
            && self
                .cfg
                .fail_list
                .iter()
                .any(|p| prefix.starts_with(p.as_str()));
        listed_under_failing.then_some(Fault::FailList(self.cfg.fail_status))
    }

    fn slowdown(&self, seq: u64, identity: u64) -> bool {
        if self.cfg.slowdown_rate <= 0.0 {
            return false;
        }
        let drawn = unit(hash_of(&[self.cfg.seed, SLOWDOWN_SALT, seq])) < self.cfg.slowdown_rate;
        let mut streaks = self.streaks.lock().expect("streak lock");
        let streak = streaks.get(&identity).copied().unwrap_or(0);
        if drawn && streak < self.cfg.max_consecutive {
            streaks.insert(identity, streak + 1);
            true
        } else {
            streaks.remove(&identity);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slowdown_rate_is_close_and_streaks_are_bounded() {
        let inj = Injector::new(InjectConfig {
            slowdown_rate: 0.9,
            max_consecutive: 2,
            ..Default::default()
        });
        let info = RequestInfo::default();
        let mut run = 0;
        for seq in 0..1000 {
            if inj.decide(seq, 42, &info).is_some() {
                run += 1;
                assert!(run <= 2);
            } else {
                run = 0;
            }
        }
        let inj = Injector::new(InjectConfig {
            slowdown_rate: 0.2,
            max_consecutive: 2,
            ..Default::default()
        });
        let refused = (0..10_000)
            .filter(|&s| inj.decide(s, s, &info).is_some())
            .count();
        assert!((1800..2200).contains(&refused), "{refused}");
    }
}
