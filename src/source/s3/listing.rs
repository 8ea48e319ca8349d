//! Listing as a stream: jobs walk the layout depth first (so the first
//! objects, and the first GETs, come within a few LISTs), up to
//! `LIST_JOBS` at once, and send each page's keys on as it arrives. The
//! channel is bounded, so a listing that runs ahead of the GETs waits:
//! memory does not follow the number of objects.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use aws_sdk_s3::Client;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::client::unquote;
use super::layout::{level_of_prefix, Level, Plan};
use super::options::S3Url;
use super::retry::{message, with_retries, Failure, Op};
use super::{S3Object, Shared};
use crate::source::shard::{RegionKey, Shard};

/// Listing jobs running at once: enough to keep a few hundred regions' LISTs
/// in flight. Each holds at most one page (1,000 keys) while it waits for
/// the channel, which bounds the listing's memory (about 25 MB).
const LIST_JOBS: usize = 128;

/// What a listing sends on.
pub enum ListItem {
    /// An object of `bucket`.
    Object { bucket: Arc<str>, object: S3Object },
    /// A prefix that could not be listed: `(URL, cause)`.
    Unlistable(String, String),
}

/// One prefix to list.
struct Job {
    prefix: String,
    level: Level,
    /// Where a [`Level::Range`] or [`Level::Day`] listing resumes.
    start_after: Option<String>,
}

impl Job {
    fn new(prefix: String, level: Level) -> Job {
        Job {
            prefix,
            level,
            start_after: None,
        }
    }
}

/// Everything a job needs.
struct Lister {
    shared: Arc<Shared>,
    client: Client,
    url: S3Url,
    bucket: Arc<str>,
    plan: Plan,
    tx: mpsc::Sender<ListItem>,
}

/// Lists `url` under `plan`, sending keys and unlistable prefixes to `tx`.
pub async fn list(
    shared: Arc<Shared>,
    client: Client,
    url: S3Url,
    plan: Plan,
    tx: mpsc::Sender<ListItem>,
) {
    let root = Job::new(url.prefix.clone(), level_of_prefix(&url.prefix));
    let lister = Arc::new(Lister {
        shared,
        client,
        bucket: Arc::from(url.bucket.as_str()),
        url,
        plan,
        tx,
    });
    let mut pending = vec![root];
    let mut running: JoinSet<Vec<Job>> = JoinSet::new();
    loop {
        while running.len() < LIST_JOBS {
            let Some(job) = pending.pop() else { break };
            let lister = lister.clone();
            running.spawn(async move { lister.run(job).await });
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        match done {
            // Pushed in reverse, popped first to last: depth first, in key order.
            Ok(children) => pending.extend(children.into_iter().rev()),
            Err(e) => {
                lister
                    .unlistable(&lister.url.prefix, &format!("listing task failed: {e}"))
                    .await
            }
        }
    }
}

impl Lister {
    /// Lists one job's prefix through every page it needs; returns the jobs
    /// for the folders found.
    async fn run(&self, job: Job) -> Vec<Job> {
        if job.level == Level::Account {
            return self.account_jobs(&job.prefix);
        }
        if job.level == Level::Region {
            if let Some(shard) = self.plan.splitting() {
                return self.sharded_region(shard, &job.prefix).await;
            }
        }
        let delimited = !matches!(
            job.level,
            Level::Region | Level::Range | Level::Day | Level::Plain
        );
        let start_after = match job.level {
            Level::Region => self.plan.start_after(&job.prefix),
            _ => job.start_after.clone(),
        };
        let ranged = matches!(job.level, Level::Region | Level::Range);
        // A day or a region's rest is listed by its owner alone.
        let settled = matches!(job.level, Level::Range | Level::Day);
        let mut children = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = match self
                .page(&job.prefix, delimited, &start_after, &token)
                .await
            {
                Ok(p) => p,
                Err(f) => {
                    self.unlistable(&job.prefix, &message(f)).await;
                    return children;
                }
            };
            for folder in page.folders {
                let name = folder[job.prefix.len()..].trim_end_matches('/');
                if let Some(level) = self.plan.child(job.level, name) {
                    children.push(Job::new(folder, level));
                }
            }
            for obj in page.objects {
                if ranged && self.plan.past_range(&job.prefix, &obj.key) {
                    return children;
                }
                if !settled && !self.plan.owns(&obj.key, &self.url.prefix) {
                    continue;
                }
                if !self.send(obj).await {
                    return children;
                }
            }
            match page.next {
                Some(t) => token = Some(t),
                None => return children,
            }
        }
    }

    /// A region under `--shard`: its first page (the same for every shard)
    /// tells whether it is small, read whole by its owner, or large, split
    /// by day (`crate::source::shard`). Returns the jobs for this shard's
    /// days and, for the region's owner, the keys past the last day.
    async fn sharded_region(&self, shard: Shard, prefix: &str) -> Vec<Job> {
        let Some(region) = RegionKey::of(prefix) else {
            return vec![Job::new(prefix.to_string(), Level::Plain)];
        };
        let owner = shard.owns_region(region.account, region.region);
        let start_after = self.plan.start_after(prefix);
        let page = match self.page(prefix, false, &start_after, &None).await {
            Ok(p) => p,
            Err(f) if owner => {
                self.unlistable(prefix, &message(f)).await;
                return Vec::new();
            }
            Err(_) => return Vec::new(),
        };
        let total = page.objects.len();
        let in_range: Vec<S3Object> = (page.objects.into_iter())
            .take_while(|o| !self.plan.past_range(prefix, &o.key))
            .collect();
        let small = in_range.len() < total || page.next.is_none();
        let last = in_range.last().map(|o| o.key.clone());
        for obj in in_range {
            let owned = match RegionKey::of(&obj.key) {
                Some(k) => shard.owns_in_region(&k, small),
                None => owner,
            };
            if owned && !self.send(obj).await {
                return Vec::new();
            }
        }
        let Some(last) = last.filter(|_| !small) else {
            return Vec::new();
        };
        let resume = |start: Option<String>| Job {
            prefix: prefix.to_string(),
            level: Level::Range,
            start_after: start,
        };
        let Some(day) = RegionKey::of(&last).and_then(|k| k.day().map(str::to_string)) else {
            // Not a day folder: the region's owner reads the rest as one range.
            return owner.then(|| resume(Some(last))).into_iter().collect();
        };
        let first = format!("{prefix}{day}/");
        let mut jobs: Vec<Job> = (self.plan.owned_days_from(shard, &region, &day))
            .into_iter()
            .map(|folder| Job {
                start_after: (folder == first).then(|| last.clone()),
                prefix: folder,
                level: Level::Day,
            })
            .collect();
        if owner {
            jobs.push(resume(self.plan.tail_start(prefix)));
        }
        jobs
    }

    /// Counts and sends on one listed object; false once the scan stopped.
    async fn send(&self, object: S3Object) -> bool {
        self.shared.counters.listed.fetch_add(1, Ordering::Relaxed);
        let item = ListItem::Object {
            bucket: self.bucket.clone(),
            object,
        };
        self.tx.send(item).await.is_ok()
    }

    /// An account's trail folders, listed directly.
    fn account_jobs(&self, prefix: &str) -> Vec<Job> {
        self.plan
            .trail_folders()
            .iter()
            .map(|name| Job::new(format!("{prefix}{name}/"), Level::Trail))
            .collect()
    }

    /// One LIST page, retried.
    async fn page(
        &self,
        prefix: &str,
        delimited: bool,
        start_after: &Option<String>,
        token: &Option<String>,
    ) -> Result<Page, Failure> {
        let s = &self.shared;
        with_retries(&s.limiter, &s.counters, s.policy, Op::List, || async {
            let mut req = self
                .client
                .list_objects_v2()
                .bucket(&self.url.bucket)
                .prefix(prefix)
                .set_start_after(start_after.clone())
                .set_continuation_token(token.clone());
            if delimited {
                req = req.delimiter("/");
            }
            let out = req.send().await.map_err(|e| Failure::of_sdk(&e))?;
            Ok(Page::of(out))
        })
        .await
    }

    /// Reports a prefix that could not be listed: it hides an unknown number
    /// of objects, and says so.
    async fn unlistable(&self, prefix: &str, cause: &str) {
        self.shared
            .counters
            .unlistable
            .fetch_add(1, Ordering::Relaxed);
        let item = ListItem::Unlistable(
            self.url.url_of(prefix),
            format!("cannot list: {cause}; the objects under it, an unknown number, are not read"),
        );
        let _ = self.tx.send(item).await;
    }
}

/// What one LIST answered.
struct Page {
    objects: Vec<S3Object>,
    folders: Vec<String>,
    next: Option<String>,
}

impl Page {
    fn of(out: aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output) -> Page {
        let objects = out
            .contents()
            .iter()
            .filter_map(|o| {
                Some(S3Object {
                    key: o.key()?.to_string(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                    etag: unquote(o.e_tag().unwrap_or_default()),
                })
            })
            .collect();
        let folders = out
            .common_prefixes()
            .iter()
            .filter_map(|p| p.prefix().map(str::to_string))
            .collect();
        let next = match out.next_continuation_token() {
            Some(t) if out.is_truncated() == Some(true) => Some(t.to_string()),
            _ => None,
        };
        Page {
            objects,
            folders,
            next,
        }
    }
}
