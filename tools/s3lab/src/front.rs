//! The HTTP front: every request passes here before `s3s`. It answers the
//! `/__s3lab/` control routes, counts and logs requests, applies injected
//! latency and faults, and hands the rest to the S3 service.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body as _;
use hyper::body::Incoming;
use s3s::service::S3Service;

use crate::hash::hash_bytes;
use crate::inject::{Fault, Injector};
use crate::reqlog::{LogLine, RequestLog};
use crate::request::RequestInfo;
use crate::stats::Stats;

/// State shared by all connections.
pub struct Shared {
    pub stats: Stats,
    pub injector: Injector,
    pub log: Option<RequestLog>,
    seq: AtomicU64,
}

impl Shared {
    pub fn new(injector: Injector, log: Option<RequestLog>) -> Shared {
        Shared {
            stats: Stats::default(),
            injector,
            log,
            seq: AtomicU64::new(0),
        }
    }
}

/// The hyper service wrapping the S3 service.
#[derive(Clone)]
pub struct Front {
    pub s3: S3Service,
    pub shared: Arc<Shared>,
    /// Whether `s3s` checks signatures; otherwise any credentials pass.
    pub verify_signatures: bool,
}

type Answer = Result<Response<s3s::Body>, s3s::HttpError>;

impl hyper::service::Service<Request<Incoming>> for Front {
    type Response = Response<s3s::Body>;
    type Error = s3s::HttpError;
    type Future = Pin<Box<dyn Future<Output = Answer> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let front = self.clone();
        Box::pin(async move { Ok(front.handle(req).await) })
    }
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Ties an SDK operation's retries together (its invocation id), else the
/// method and URI.
fn identity_of(req: &Request<Incoming>) -> u64 {
    match req.headers().get("amz-sdk-invocation-id") {
        Some(id) => hash_bytes(1, id.as_bytes()),
        None => hash_bytes(2, format!("{} {}", req.method(), req.uri()).as_bytes()),
    }
}

/// Body bytes of a response, from Content-Length or the body's exact size.
fn body_bytes(resp: &Response<s3s::Body>) -> u64 {
    resp.headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .or_else(|| resp.body().size_hint().exact())
        .unwrap_or(0)
}

impl Front {
    async fn handle(&self, req: Request<Incoming>) -> Response<s3s::Body> {
        if req.uri().path().starts_with("/__s3lab/") {
            return self.control(req.method(), req.uri().path());
        }
        let seq = self.shared.seq.fetch_add(1, Ordering::Relaxed);
        let start_us = now_us();
        let info = RequestInfo::parse(req.method(), req.uri());
        let identity = identity_of(&req);
        let _in_flight = self.shared.stats.enter();
        let delay = self.shared.injector.delay(seq);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let fault = self.shared.injector.decide(seq, identity, &info);
        let mut req = req;
        if !self.verify_signatures {
            // Any dummy credentials are accepted: the request goes on as an
            // anonymous one, which also spares an HMAC chain per request.
            req.headers_mut().remove(http::header::AUTHORIZATION);
        }
        let resp = match fault {
            Some(f) => f.response(seq, info.is_head),
            None => match self.s3.call(req.map(s3s::Body::from)).await {
                Ok(resp) => resp,
                Err(_) => Fault::FailList(500).response(seq, info.is_head),
            },
        };
        let bytes = if info.is_head { 0 } else { body_bytes(&resp) };
        let status = resp.status().as_u16();
        self.shared.stats.record(info.op(), status, bytes);
        if let Some(log) = &self.shared.log {
            let mut line = LogLine::new(seq, &info);
            line.start_us = start_us;
            line.end_us = now_us();
            line.status = status;
            line.bytes = bytes;
            line.injected = fault.map(Fault::name);
            log.write(&line);
        }
        resp
    }

    /// `GET /__s3lab/stats` and `POST /__s3lab/reset`; not counted.
    fn control(&self, method: &Method, path: &str) -> Response<s3s::Body> {
        let (status, body) = match (method, path) {
            (&Method::GET, "/__s3lab/stats") => {
                (StatusCode::OK, self.shared.stats.to_json().to_string())
            }
            (&Method::POST, "/__s3lab/reset") => {
                self.shared.stats.reset();
                (StatusCode::OK, "{\"reset\":true}".to_string())
            }
            _ => (
                StatusCode::NOT_FOUND,
                "{\"error\":\"unknown control route\"}".to_string(),
            ),
        };
        let mut resp = Response::new(s3s::Body::from(body));
        *resp.status_mut() = status;
        resp.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        resp
    }
}
