//! S3 sources: connecting (credentials, region discovery, a cheap probe),
//! listing the CloudTrail layout as a stream, and fetching objects while the
//! listing goes on, with one adaptive pool of requests in flight.
//!
//! - [`client`]: the SDK client, built once per bucket; errors in one line.
//! - [`layout`]: which folders and which key range of each region to list.
//! - [`listing`]: depth-first listing jobs that send keys on page by page.
//! - [`fetch`]: the GETs, fed by the listing, results in completion order.
//! - [`limiter`]: the pool of requests in flight, grown and cut like TCP's window.
//! - [`retry`]: throttling waits (until a deadline), other errors a few times.
//!
//! This module never decodes contents: fetched bytes go to the same scan
//! path as local files.

pub mod client;
pub mod error;
pub mod fetch;
pub mod layout;
pub mod limiter;
pub mod listing;
pub mod options;
pub mod retry;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Result;
use aws_sdk_s3::Client;
use serde::{Deserialize, Serialize};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

pub use client::{get_object, http_client, Got};
pub use fetch::{get_retried, ObjectStream};
pub use layout::{ListMode, Plan};
pub use listing::ListItem;

use limiter::Limiter;
use options::{S3Options, S3Url};
use retry::{Op, Policy};

/// Keys waiting between the listing and the GETs.
const KEY_QUEUE: usize = 4096;

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    pub key: String,
    pub size: u64,
    /// The ETag without its quotes.
    pub etag: String,
}

/// What S3 cost, for `summary.json`: every attempt counts, retries included.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Counts {
    pub list_requests: u64,
    pub get_requests: u64,
    /// Attempts after the first, for any reason.
    pub retries: u64,
    /// Attempts answered with throttling (`503 SlowDown`, …).
    pub throttled: u64,
    /// Body bytes fetched.
    pub bytes: u64,
    /// The most requests in flight at once.
    pub max_in_flight: u64,
    pub keys_listed: u64,
    /// Prefixes that could not be listed (each also a failure).
    pub unlistable_prefixes: u64,
}

/// Running totals, shared by every request and read by the progress bar.
#[derive(Default)]
pub struct Counters {
    pub list_requests: AtomicU64,
    pub get_requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
    pub bytes: AtomicU64,
    pub listed: AtomicU64,
    /// Listed keys the scan wants (the bar's length).
    pub wanted: AtomicU64,
    pub fetched: AtomicU64,
    pub unlistable: AtomicU64,
    /// Writes and deletions of a lake on S3 (not in [`S3Counts`]).
    pub put_requests: AtomicU64,
    pub delete_requests: AtomicU64,
}

impl Counters {
    fn count(&self, op: Op) {
        match op {
            Op::List => &self.list_requests,
            Op::Get => &self.get_requests,
            Op::Put => &self.put_requests,
            Op::Delete => &self.delete_requests,
        }
        .fetch_add(1, Ordering::Relaxed);
    }
}

/// What every request of a session shares.
pub struct Shared {
    pub counters: Counters,
    pub limiter: Limiter,
    pub(crate) policy: Policy,
}

impl Shared {
    /// The counts so far, probes included.
    pub fn counts(&self) -> S3Counts {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        S3Counts {
            list_requests: get(&c.list_requests),
            get_requests: get(&c.get_requests),
            retries: get(&c.retries),
            throttled: get(&c.throttled),
            bytes: get(&c.bytes),
            max_in_flight: self.limiter.max_in_flight(),
            keys_listed: get(&c.listed),
            unlistable_prefixes: get(&c.unlistable),
        }
    }
}

/// An S3 session: a runtime on the machine's cores, one client per bucket
/// (each checked by a probe), and the shared pool of requests.
pub struct S3Session {
    rt: Runtime,
    opts: S3Options,
    clients: BTreeMap<String, Client>,
    shared: Arc<Shared>,
}

impl S3Session {
    /// Starts the runtime; connects to nothing yet.
    pub fn new(opts: &S3Options) -> Result<S3Session> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .thread_name("ctscan-s3")
            .enable_all()
            .build()?;
        let shared = Arc::new(Shared {
            counters: Counters::default(),
            limiter: Limiter::new(opts.concurrency),
            policy: Policy {
                deadline: opts.retry_deadline,
            },
        });
        Ok(S3Session {
            rt,
            opts: opts.clone(),
            clients: BTreeMap::new(),
            shared,
        })
    }

    /// Builds the bucket's client (discovering its region unless given) and
    /// probes it with one small LIST, so a wrong endpoint or missing
    /// credentials fail here, in one line, before anything is scanned.
    pub fn connect(&mut self, url: &S3Url) -> Result<()> {
        if self.clients.contains_key(&url.bucket) {
            return Ok(());
        }
        let (client, probes) = self.rt.block_on(client::connect(&self.opts, url))?;
        (self.shared.counters.list_requests).fetch_add(probes, Ordering::Relaxed);
        self.clients.insert(url.bucket.clone(), client);
        Ok(())
    }

    /// The counters every request of this session bumps.
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// The runtime requests run on.
    pub fn runtime(&self) -> &Runtime {
        &self.rt
    }

    /// The client of a connected bucket.
    pub fn client(&self, bucket: &str) -> Option<Client> {
        self.clients.get(bucket).cloned()
    }

    /// Starts listing every URL under `plan`; the keys arrive on the
    /// returned channel, page by page, as the listing goes.
    pub fn list(&self, urls: &[S3Url], plan: &Plan) -> mpsc::Receiver<ListItem> {
        let (tx, rx) = mpsc::channel(KEY_QUEUE);
        for url in urls {
            let client = self.clients[&url.bucket].clone();
            let (shared, url, plan, tx) =
                (self.shared.clone(), url.clone(), plan.clone(), tx.clone());
            self.rt.spawn(listing::list(shared, client, url, plan, tx));
        }
        rx
    }
}
