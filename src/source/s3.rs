//! S3 sources: connecting (credentials, region discovery, a cheap probe),
//! listing the CloudTrail layout with pruning, and fetching objects with
//! bounded concurrency.
//!
//! Listing walks `[prefix/]AWSLogs/[o-…/]<account>/CloudTrail/<region>/` with
//! delimiter listings, then lists only the `YYYY/MM/DD/` day prefixes the time
//! window may need (one day of slack each side). Keys outside that layout are
//! listed plainly. This module never decodes contents: fetched bytes go to the
//! same scan path as local files.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::Client;
use jiff::{civil::Date, SignedDuration, Timestamp, ToSpan};
use serde::Serialize;
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

use super::{Listed, Location, ObjectRef};
use crate::config::{S3Options, S3Url};
use crate::window::TimeWindow;

/// LIST requests in flight at once while listing.
const LIST_CONCURRENCY: usize = 16;
/// Attempts per request (first try plus retries), standard retry mode.
const MAX_ATTEMPTS: u32 = 5;
/// Consecutive connection-level failures after which the endpoint is taken
/// as gone and the remaining objects fail at once instead of each retrying.
const BREAKER_THRESHOLD: u32 = 8;
/// Longest span of days listed day by day; wider windows list the region.
const MAX_DAY_PREFIXES: i64 = 3660;

/// What the S3 listing cost, for `summary.json`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ListCounts {
    pub list_requests: u64,
    pub keys_listed: u64,
}

impl ListCounts {
    /// Adds another listing's counts.
    pub fn add(&mut self, o: ListCounts) {
        self.list_requests += o.list_requests;
        self.keys_listed += o.keys_listed;
    }
}

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    pub key: String,
    pub size: u64,
    /// The ETag without its quotes.
    pub etag: String,
}

/// A listing of one `s3://bucket/prefix`.
#[derive(Debug, Default)]
pub struct Listing {
    /// Objects, sorted by key.
    pub objects: Vec<S3Object>,
    /// Prefixes that could not be listed, as (URL, cause).
    pub unlistable: Vec<(String, String)>,
    pub counts: ListCounts,
}

impl Listing {
    /// The listing as scan entries.
    pub fn into_listed(self, url: &S3Url) -> Vec<Listed> {
        let mut out: Vec<Listed> = self
            .objects
            .into_iter()
            .map(|o| {
                Listed::Object(ObjectRef {
                    key: url.url_of(&o.key),
                    location: Location::S3 {
                        bucket: url.bucket.clone(),
                        key: o.key,
                    },
                    size: o.size,
                })
            })
            .collect();
        out.extend(
            self.unlistable
                .into_iter()
                .map(|(object, error)| Listed::Unlistable { object, error }),
        );
        out
    }
}

/// Which folders under an account a listing descends into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListMode {
    /// Log files only (`CloudTrail/`): digests and Insights are not scanned.
    Scan,
    /// Logs, digests and Insights (`mirror`).
    Mirror,
}

/// An S3 session: a runtime and one client per bucket, each checked by a probe.
pub struct S3Session {
    rt: Runtime,
    opts: S3Options,
    clients: BTreeMap<String, Client>,
    probe_counts: ListCounts,
}

impl S3Session {
    /// Starts the runtime; connects to nothing yet.
    pub fn new(opts: &S3Options) -> Result<S3Session> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ctscan-s3")
            .enable_all()
            .build()?;
        Ok(S3Session {
            rt,
            opts: opts.clone(),
            clients: BTreeMap::new(),
            probe_counts: ListCounts::default(),
        })
    }

    /// Builds the bucket's client (discovering its region unless given) and
    /// probes it with one small LIST, so a wrong endpoint or missing
    /// credentials fail here, in one line, before anything is scanned.
    pub fn connect(&mut self, url: &S3Url) -> Result<()> {
        if self.clients.contains_key(&url.bucket) {
            return Ok(());
        }
        let client = self.rt.block_on(connect(&self.opts, url))?;
        self.probe_counts.list_requests += 1;
        self.clients.insert(url.bucket.clone(), client);
        Ok(())
    }

    /// LIST requests spent on probes.
    pub fn probe_counts(&self) -> ListCounts {
        self.probe_counts
    }

    /// Lists the objects of `url` the window may need.
    pub fn list(
        &self,
        url: &S3Url,
        window: &TimeWindow,
        now: Timestamp,
        mode: ListMode,
    ) -> Listing {
        let client = self.clients[&url.bucket].clone();
        let plan = Plan {
            window: *window,
            now,
            mode,
        };
        let listing = self.rt.block_on(list(client, url.clone(), plan));
        if let Some(barrier) = &self.opts.list_barrier {
            wait_at_barrier(barrier);
        }
        listing
    }

    /// The client of a connected bucket.
    pub fn client(&self, bucket: &str) -> Option<Client> {
        self.clients.get(bucket).cloned()
    }

    /// The runtime requests run on.
    pub fn runtime(&self) -> &Runtime {
        &self.rt
    }

    /// Fetches `objects` with at most `--s3-concurrency` GETs in flight; the
    /// results arrive through a bounded channel in completion order. Local
    /// files among them are read too, so one stream serves mixed SOURCEs.
    pub fn stream(self, objects: Vec<ObjectRef>) -> ObjectStream {
        let concurrency = self.opts.concurrency.max(1);
        let (tx, rx) = mpsc::channel(concurrency);
        let clients = Arc::new(self.clients);
        let breaker = Arc::new(Breaker::default());
        self.rt.spawn(async move {
            let permits = Arc::new(Semaphore::new(concurrency));
            for obj in objects {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let (tx, clients, breaker) = (tx.clone(), clients.clone(), breaker.clone());
                tokio::spawn(async move {
                    let result = fetch(&clients, &breaker, &obj).await;
                    let _ = tx.send((obj, result)).await;
                    drop(permit);
                });
            }
        });
        ObjectStream { rx, _rt: self.rt }
    }
}

/// Fetched objects, in completion order; ends when every object is done.
pub struct ObjectStream {
    rx: mpsc::Receiver<(ObjectRef, Result<Vec<u8>>)>,
    _rt: Runtime,
}

impl Iterator for ObjectStream {
    type Item = (ObjectRef, Result<Vec<u8>>);
    fn next(&mut self) -> Option<Self::Item> {
        self.rx.blocking_recv()
    }
}

/// Trips after [`BREAKER_THRESHOLD`] consecutive connection failures.
#[derive(Default)]
struct Breaker {
    consecutive: AtomicU32,
    cause: Mutex<Option<String>>,
}

impl Breaker {
    fn tripped(&self) -> Option<String> {
        self.cause.lock().ok().and_then(|c| c.clone())
    }

    fn record(&self, connection_failure: Option<&str>) {
        match connection_failure {
            None => self.consecutive.store(0, Ordering::Relaxed),
            Some(cause) => {
                if self.consecutive.fetch_add(1, Ordering::Relaxed) + 1 >= BREAKER_THRESHOLD {
                    if let Ok(mut c) = self.cause.lock() {
                        c.get_or_insert_with(|| cause.to_string());
                    }
                }
            }
        }
    }
}

async fn fetch(
    clients: &BTreeMap<String, Client>,
    breaker: &Breaker,
    obj: &ObjectRef,
) -> Result<Vec<u8>> {
    match &obj.location {
        Location::File(path) => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || std::fs::read(path))
                .await?
                .map_err(Into::into)
        }
        Location::S3 { bucket, key } => {
            if let Some(cause) = breaker.tripped() {
                bail!("not fetched: the endpoint stopped answering ({cause})");
            }
            let client = clients
                .get(bucket)
                .ok_or_else(|| anyhow!("no client for bucket {bucket}"))?;
            match get_object(client, bucket, key).await {
                Ok(got) => {
                    breaker.record(None);
                    Ok(got.body)
                }
                Err(e) => {
                    breaker.record(e.connection.then_some(e.message.as_str()));
                    Err(anyhow!(e.message))
                }
            }
        }
    }
}

/// A fetched object with what `mirror` records about it.
pub struct Got {
    pub body: Vec<u8>,
    pub etag: String,
    pub last_modified: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

/// Why a request failed, in one line.
#[derive(Debug)]
pub struct RequestError {
    pub message: String,
    /// The server could not be reached at all (connection, timeout).
    pub connection: bool,
}

/// GETs one object whole.
pub async fn get_object(client: &Client, bucket: &str, key: &str) -> Result<Got, RequestError> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| RequestError {
            connection: is_connection_error(&e),
            message: describe(&e),
        })?;
    let len = out.content_length().unwrap_or(0).max(0) as usize;
    let etag = unquote(out.e_tag().unwrap_or_default());
    let last_modified = out
        .last_modified()
        .and_then(|t| t.fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime).ok());
    let metadata = out
        .metadata()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let mut body = out.body;
    let mut buf = Vec::with_capacity(len);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| RequestError {
            message: format!("reading the body: {}", chain(&e)),
            connection: true,
        })?;
        buf.extend_from_slice(&chunk);
    }
    Ok(Got {
        body: buf,
        etag,
        last_modified,
        metadata,
    })
}

fn unquote(etag: &str) -> String {
    etag.trim_matches('"').to_string()
}

fn is_connection_error<E, R>(e: &SdkError<E, R>) -> bool {
    matches!(e, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_))
}

/// One line for an SDK error: the service's code and message (or the HTTP
/// status when the response has no body), else the cause chain.
pub fn describe<E>(e: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let line = match e {
        SdkError::ServiceError(s) => {
            let status = s.raw().status().as_u16();
            match (s.err().code(), s.err().message()) {
                (Some(code), Some(msg)) => format!("{code}: {msg} (HTTP {status})"),
                (Some(code), None) => format!("{code} (HTTP {status})"),
                _ => format!("HTTP {status}{}", status_hint(status)),
            }
        }
        _ => chain(e),
    };
    let mut line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(i) = line.find(" Attempted:") {
        line.truncate(i);
    }
    if line.to_ascii_lowercase().contains("credential") {
        format!("{line} (give credentials through the AWS chain or --profile, or use --no-sign-request for a public bucket)")
    } else {
        line
    }
}

fn status_hint(status: u16) -> &'static str {
    match status {
        301 => " (the bucket is in another region: give --region)",
        403 => " Forbidden (access denied)",
        404 => " Not Found",
        _ => "",
    }
}

/// An error and its sources, joined by `: `, without repeats.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// The HTTP client: rustls with ring, plain HTTP allowed for local endpoints.
pub fn http_client() -> aws_sdk_s3::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

async fn build_client(opts: &S3Options, region: Option<String>, attempts: u32) -> Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(200)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .read_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = region {
        loader = loader.region(Region::new(r));
    }
    if opts.no_sign_request {
        loader = loader.no_credentials();
    }
    let shared = loader.load().await;
    let mut b = aws_sdk_s3::config::Builder::from(&shared);
    if shared.region().is_none() {
        b = b.region(Region::from_static("us-east-1"));
    }
    if let Some(url) = &opts.endpoint_url {
        b = b.endpoint_url(url).force_path_style(true);
    }
    Client::from_conf(b.build())
}

async fn connect(opts: &S3Options, url: &S3Url) -> Result<Client> {
    let mut client = build_client(opts, opts.region.clone(), MAX_ATTEMPTS).await;
    if opts.region.is_none() {
        if let Some(region) = bucket_region(&client, &url.bucket).await {
            if client.config().region().map(|r| r.as_ref()) != Some(region.as_str()) {
                client = build_client(opts, Some(region), MAX_ATTEMPTS).await;
            }
        }
    }
    let probe = client
        .list_objects_v2()
        .bucket(&url.bucket)
        .prefix(&url.prefix)
        .max_keys(1)
        .customize()
        .config_override(
            aws_sdk_s3::config::Config::builder()
                .retry_config(RetryConfig::standard().with_max_attempts(2)),
        )
        .send()
        .await;
    match probe {
        Ok(_) => Ok(client),
        Err(e) => bail!("{url}: cannot list: {}", describe(&e)),
    }
}

/// The bucket's region from HeadBucket (`x-amz-bucket-region`, also sent with
/// redirects and access errors). `None` when the server does not say.
async fn bucket_region(client: &Client, bucket: &str) -> Option<String> {
    let head = client
        .head_bucket()
        .bucket(bucket)
        .customize()
        .config_override(
            aws_sdk_s3::config::Config::builder()
                .retry_config(RetryConfig::standard().with_max_attempts(1)),
        )
        .send()
        .await;
    match head {
        Ok(out) => out.bucket_region().map(str::to_string),
        Err(e) => e
            .raw_response()
            .and_then(|r| r.headers().get("x-amz-bucket-region"))
            .map(str::to_string),
    }
}

fn wait_at_barrier(path: &std::path::Path) {
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

// ------------------------------------------------------------------ listing

/// What to list below a prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// The SOURCE's prefix, above `AWSLogs/`.
    Root,
    /// `AWSLogs/`: organization folders and accounts.
    AwsLogs,
    /// `AWSLogs/o-…/`: accounts.
    Org,
    /// `…/<account>/`: `CloudTrail/`, `CloudTrail-Digest/`, ….
    Account,
    /// `…/<account>/CloudTrail/`: regions, each listed by day.
    Trail,
    /// Everything below, without a delimiter.
    Plain,
}

#[derive(Clone, Copy)]
struct Plan {
    window: TimeWindow,
    now: Timestamp,
    mode: ListMode,
}

impl Plan {
    /// The level of a child folder `name` (without its `/`) of a `parent` folder.
    fn child(&self, parent: Level, name: &str) -> Option<Level> {
        let account = name.len() == 12 && name.bytes().all(|b| b.is_ascii_digit());
        Some(match parent {
            Level::Root if name == "AWSLogs" => Level::AwsLogs,
            Level::AwsLogs if name.starts_with("o-") => Level::Org,
            Level::AwsLogs | Level::Org if account => Level::Account,
            Level::Account => match name {
                "CloudTrail" => Level::Trail,
                "CloudTrail-Digest" | "CloudTrail-Insight" => match self.mode {
                    ListMode::Scan => return None,
                    ListMode::Mirror => Level::Trail,
                },
                _ => Level::Plain,
            },
            _ => Level::Plain,
        })
    }

    /// The day folders of a region the window may need, or `None` for all.
    fn days(&self) -> Option<Vec<Date>> {
        let since = self.window.since?;
        let until = self.window.until.unwrap_or(self.now).max(since);
        let day = SignedDuration::from_hours(24);
        let first = since
            .checked_sub(day)
            .ok()?
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date();
        let last = until
            .checked_add(day)
            .ok()?
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date();
        let span = first.until(last).ok()?.get_days() as i64;
        if span > MAX_DAY_PREFIXES {
            return None;
        }
        let mut out = Vec::new();
        let mut d = first;
        while d <= last {
            out.push(d);
            d = d.checked_add(1.day()).ok()?;
        }
        Some(out)
    }
}

/// The level of the SOURCE's own prefix, from its folders.
fn level_of_prefix(prefix: &str) -> Level {
    let segs: Vec<&str> = prefix.split('/').filter(|s| !s.is_empty()).collect();
    let Some(i) = segs.iter().rposition(|s| *s == "AWSLogs") else {
        return Level::Root;
    };
    let rest = &segs[i + 1..];
    let account = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    match rest {
        [] => Level::AwsLogs,
        [o] if o.starts_with("o-") => Level::Org,
        [a] | [_, a] if account(a) => Level::Account,
        [.., a, t] if account(a) && t.starts_with("CloudTrail") => Level::Trail,
        _ => Level::Plain,
    }
}

/// One listing job: a prefix, at a level.
struct Job {
    prefix: String,
    level: Level,
}

/// What one job found.
struct Found {
    objects: Vec<S3Object>,
    folders: Vec<String>,
    requests: u64,
    error: Option<String>,
}

async fn list(client: Client, url: S3Url, plan: Plan) -> Listing {
    let mut listing = Listing::default();
    let mut queue = VecDeque::from([Job {
        prefix: url.prefix.clone(),
        level: level_of_prefix(&url.prefix),
    }]);
    let mut running: JoinSet<(Job, Found)> = JoinSet::new();
    loop {
        while running.len() < LIST_CONCURRENCY {
            let Some(job) = queue.pop_front() else { break };
            let (client, bucket) = (client.clone(), url.bucket.clone());
            running.spawn(async move {
                let found =
                    list_prefix(&client, &bucket, &job.prefix, job.level != Level::Plain).await;
                (job, found)
            });
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        let (job, found) = match done {
            Ok(v) => v,
            Err(e) => {
                listing
                    .unlistable
                    .push((url.to_string(), format!("listing task failed: {e}")));
                continue;
            }
        };
        listing.counts.list_requests += found.requests;
        listing.counts.keys_listed += found.objects.len() as u64;
        listing.objects.extend(found.objects);
        if let Some(e) = found.error {
            listing
                .unlistable
                .push((url.url_of(&job.prefix), format!("cannot list: {e}")));
        }
        for folder in found.folders {
            queue.extend(expand(&plan, job.level, &job.prefix, folder));
        }
    }
    listing.objects.sort_by(|a, b| a.key.cmp(&b.key));
    listing.objects.dedup_by(|a, b| a.key == b.key);
    listing.unlistable.sort();
    listing
}

/// The jobs for a folder found under a job's prefix.
fn expand(plan: &Plan, parent: Level, parent_prefix: &str, folder: String) -> Vec<Job> {
    let name = folder[parent_prefix.len()..].trim_end_matches('/');
    if parent == Level::Trail {
        return match plan.days() {
            Some(days) => days
                .into_iter()
                .map(|d| Job {
                    prefix: format!("{folder}{}/", d.strftime("%Y/%m/%d")),
                    level: Level::Plain,
                })
                .collect(),
            None => vec![Job {
                prefix: folder,
                level: Level::Plain,
            }],
        };
    }
    match plan.child(parent, name) {
        Some(level) => vec![Job {
            prefix: folder,
            level,
        }],
        None => Vec::new(),
    }
}

/// Lists one prefix through every page; with `delimited`, one folder level.
async fn list_prefix(client: &Client, bucket: &str, prefix: &str, delimited: bool) -> Found {
    let mut found = Found {
        objects: Vec::new(),
        folders: Vec::new(),
        requests: 0,
        error: None,
    };
    let mut token: Option<String> = None;
    loop {
        let mut req = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token.take());
        if delimited {
            req = req.delimiter("/");
        }
        found.requests += 1;
        let page = match req.send().await {
            Ok(p) => p,
            Err(e) => {
                found.error = Some(describe(&e));
                return found;
            }
        };
        for o in page.contents() {
            let Some(key) = o.key() else { continue };
            found.objects.push(S3Object {
                key: key.to_string(),
                size: o.size().unwrap_or(0).max(0) as u64,
                etag: unquote(o.e_tag().unwrap_or_default()),
            });
        }
        found.folders.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_string)),
        );
        match page.next_continuation_token() {
            Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
            _ => return found,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(since: Option<&str>, until: Option<&str>) -> Plan {
        Plan {
            window: TimeWindow {
                since: since.map(|s| s.parse().unwrap()),
                until: until.map(|s| s.parse().unwrap()),
            },
            now: "2026-03-10T12:00:00Z".parse().unwrap(),
            mode: ListMode::Scan,
        }
    }

    #[test]
    fn prefixes_are_placed_in_the_layout() {
        assert_eq!(level_of_prefix(""), Level::Root);
        assert_eq!(level_of_prefix("trail/"), Level::Root);
        assert_eq!(level_of_prefix("AWSLogs/"), Level::AwsLogs);
        assert_eq!(level_of_prefix("x/AWSLogs/o-abc123/"), Level::Org);
        assert_eq!(level_of_prefix("AWSLogs/123456789012/"), Level::Account);
        assert_eq!(level_of_prefix("AWSLogs/o-a/123456789012/"), Level::Account);
        assert_eq!(
            level_of_prefix("AWSLogs/123456789012/CloudTrail/"),
            Level::Trail
        );
        assert_eq!(
            level_of_prefix("AWSLogs/123456789012/CloudTrail/us-east-1/"),
            Level::Plain
        );
        let p = plan(None, None);
        assert_eq!(p.child(Level::Account, "CloudTrail-Digest"), None);
        assert_eq!(
            p.child(Level::AwsLogs, "123456789012"),
            Some(Level::Account)
        );
        assert_eq!(p.child(Level::Root, "other"), Some(Level::Plain));
    }

    #[test]
    fn days_cover_the_window_with_a_day_of_slack() {
        assert_eq!(plan(None, Some("2026-01-01T00:00:00Z")).days(), None);
        let d = plan(Some("2026-01-02T05:00:00Z"), Some("2026-01-03T00:00:00Z"))
            .days()
            .unwrap();
        let s: Vec<String> = d.iter().map(|d| d.to_string()).collect();
        assert_eq!(s, ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]);
        let open = plan(Some("2026-03-09T00:00:00Z"), None).days().unwrap();
        assert_eq!(open.len(), 4);
    }
}
