//! The GETs: fed by the listing as it goes, at most one task per place the
//! pool may ever have, results in completion order through a bounded channel
//! to the scan's workers. The bodies between a GET's start and a worker
//! taking them hold their size of a byte budget (a share of
//! `--memory-budget`), so large objects are fetched fewer at a time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail};
use aws_sdk_s3::Client;
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use super::client::{get_object, Got};
use super::listing::ListItem;
use super::options::S3Url;
use super::retry::{message, with_retries, Breaker, Failure, Op};
use super::{Plan, S3Object, S3Session, Shared};
use crate::source::Streamed;
use crate::source::{Listed, Location, ObjectRef};

/// Fetched objects waiting for a scan worker.
const RESULT_QUEUE: usize = 64;
/// The body budget's unit: permits are KiB, so a budget of terabytes still
/// fits a semaphore's count and one object's share a `u32`.
const BODY_UNIT: u64 = 1024;

/// Listed and fetched objects, in completion order; ends when the listing
/// and every GET are done.
pub struct ObjectStream {
    rx: mpsc::Receiver<(Streamed, Option<OwnedSemaphorePermit>)>,
    _rt: Runtime,
}

impl Iterator for ObjectStream {
    type Item = Streamed;
    /// The body's share of the budget is given back as a worker takes it.
    fn next(&mut self) -> Option<Streamed> {
        self.rx.blocking_recv().map(|(item, _body)| item)
    }
}

/// Bytes of bodies fetched or being fetched and not yet taken by a worker.
struct BodyBudget {
    units: Arc<Semaphore>,
    total: u32,
}

impl BodyBudget {
    fn new(bytes: u64) -> BodyBudget {
        let total = (bytes / BODY_UNIT).clamp(1, u64::from(u32::MAX >> 3)) as u32;
        BodyBudget {
            units: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// Waits until an object of `size` bytes fits; one larger than the whole
    /// budget waits for all of it, and is then fetched alone.
    async fn hold(&self, size: u64) -> Option<OwnedSemaphorePermit> {
        let units = size.div_ceil(BODY_UNIT).clamp(1, u64::from(self.total)) as u32;
        self.units.clone().acquire_many_owned(units).await.ok()
    }
}

/// What every GET shares.
struct Fetcher {
    shared: Arc<Shared>,
    clients: BTreeMap<String, Client>,
    breaker: Breaker,
    out: mpsc::Sender<(Streamed, Option<OwnedSemaphorePermit>)>,
}

impl S3Session {
    /// Lists every URL under `plan` and fetches the objects `wants` picks
    /// (by key) while the listing goes on; the others are passed on listed,
    /// for the scan to count. Bodies not yet taken by a worker hold at most
    /// `body_bytes`.
    pub fn stream<W>(self, urls: &[S3Url], plan: &Plan, wants: W, body_bytes: u64) -> ObjectStream
    where
        W: Fn(&ObjectRef) -> bool + Send + Sync + 'static,
    {
        let keys = self.list(urls, plan);
        let (out, rx) = mpsc::channel(RESULT_QUEUE);
        let fetcher = Arc::new(Fetcher {
            shared: self.shared.clone(),
            clients: self.clients,
            breaker: Breaker::default(),
            out,
        });
        let slots = self.opts.concurrency.max(1);
        let barrier = self.opts.list_barrier.clone();
        if self.opts.list_only {
            self.rt.spawn(drain(keys, fetcher));
        } else {
            let bodies = BodyBudget::new(body_bytes);
            let gets = Gets {
                fetcher,
                slots,
                bodies,
            };
            self.rt.spawn(dispatch(keys, gets, wants, barrier));
        }
        ObjectStream { rx, _rt: self.rt }
    }
}

/// What starting a GET takes: the fetcher, a place among the tasks, and the
/// body's share of the budget.
struct Gets {
    fetcher: Arc<Fetcher>,
    slots: usize,
    bodies: BodyBudget,
}

/// Turns each listed key into a GET (or passes it on), as keys arrive.
async fn dispatch<W>(
    mut keys: mpsc::Receiver<ListItem>,
    gets: Gets,
    wants: W,
    barrier: Option<PathBuf>,
) where
    W: Fn(&ObjectRef) -> bool + Send + Sync + 'static,
{
    let mut held = Vec::new();
    if let Some(path) = barrier {
        while let Some(item) = keys.recv().await {
            held.push(item);
        }
        let _ = tokio::task::spawn_blocking(move || wait_at_barrier(&path)).await;
    }
    let slots = Arc::new(Semaphore::new(gets.slots));
    let mut held = held.into_iter();
    loop {
        let item = match held.next() {
            Some(item) => item,
            None => match keys.recv().await {
                Some(item) => item,
                None => break,
            },
        };
        let entry = match item {
            ListItem::Unlistable(object, error) => Listed::Unlistable { object, error },
            ListItem::Object { bucket, object } => {
                let obj = object_ref(&bucket, object);
                if !wants(&obj) {
                    Listed::Object(obj)
                } else {
                    let counters = &gets.fetcher.shared.counters;
                    counters.wanted.fetch_add(1, Ordering::Relaxed);
                    let body = gets.bodies.hold(obj.size).await;
                    let Ok(slot) = slots.clone().acquire_owned().await else {
                        break;
                    };
                    let fetcher = gets.fetcher.clone();
                    tokio::spawn(async move {
                        let got = fetcher.fetch(&obj).await;
                        let _ = fetcher.out.send((Streamed::Fetched(obj, got), body)).await;
                        drop(slot);
                    });
                    continue;
                }
            }
        };
        if gets
            .fetcher
            .out
            .send((Streamed::Listed(entry), None))
            .await
            .is_err()
        {
            break;
        }
    }
}

/// A listed object as the scan names it.
fn object_ref(bucket: &str, object: S3Object) -> ObjectRef {
    ObjectRef {
        etag: Some(object.etag),
        key: format!("s3://{bucket}/{}", object.key),
        location: Location::S3 {
            bucket: bucket.to_string(),
            key: object.key,
        },
        size: object.size,
    }
}

/// `--s3-list-only`: takes every key and drops it (the counters have it).
async fn drain(mut keys: mpsc::Receiver<ListItem>, fetcher: Arc<Fetcher>) {
    while keys.recv().await.is_some() {}
    drop(fetcher);
}

impl Fetcher {
    /// GETs one object, retried.
    async fn fetch(&self, obj: &ObjectRef) -> anyhow::Result<Vec<u8>> {
        let Location::S3 { bucket, key } = &obj.location else {
            bail!("not an S3 object");
        };
        if let Some(cause) = self.breaker.tripped() {
            bail!("not fetched: the endpoint stopped answering ({cause})");
        }
        let client = self
            .clients
            .get(bucket)
            .ok_or_else(|| anyhow!("no client for bucket {bucket}"))?;
        let got = get_retried(&self.shared, client, bucket, key).await;
        self.breaker.record(&got);
        Ok(got.map_err(|f| anyhow!(message(f)))?.body)
    }
}

/// GETs one object with the session's retries, counted.
pub async fn get_retried(
    shared: &Shared,
    client: &Client,
    bucket: &str,
    key: &str,
) -> Result<Got, Failure> {
    let s = shared;
    let got = with_retries(&s.limiter, &s.counters, s.policy, Op::Get, || {
        get_object(client, bucket, key)
    })
    .await?;
    s.counters.fetched.fetch_add(1, Ordering::Relaxed);
    s.counters
        .bytes
        .fetch_add(got.body.len() as u64, Ordering::Relaxed);
    Ok(got)
}

/// The test hook of [`super::options::S3Options::list_barrier`]: announce
/// the end of the listing and wait until the test says go.
fn wait_at_barrier(path: &Path) {
    if std::fs::write(path, b"listed\n").is_err() {
        return;
    }
    for _ in 0..1200 {
        if !path.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
