//! The event lake on S3: `--lake s3://bucket/prefix`.
//!
//! The lake's files are written once and never edited in place, so S3
//! holds the same layout as a local lake, below the prefix, and keeps the
//! same commit protocol with PUTs instead of renames:
//!
//! - [`stage`]: `ingest` writes into a local staging folder exactly as into
//!   a local lake, after copying the lake's `_ctscan/` records (manifest
//!   fragments, finished shards) there and deleting the part keys a killed
//!   run uploaded but never committed; a part file to rewrite is fetched
//!   when it is rewritten.
//! - [`publish`]: at each commit, the batch's part files are PUT to their
//!   final keys first, then the manifest fragment (one PUT: the commit
//!   point; readers trust only files a committed fragment names), then the
//!   keys the fragment retires are deleted.
//! - [`lock`]: the lake's lock is a key created with `If-None-Match: *`,
//!   which S3 grants to one writer only; a server that ignores the
//!   condition is found out before anything is written, and refused.
//! - [`cache`]: readers list and GET the committed fragments, then GET only
//!   the part files the query's partitions need into a local cache, and
//!   read that with the local reader. Part files are never rewritten under
//!   the same key (a rewrite is a new name), so a cached file of the same
//!   name is the same file and a second query downloads none.
//!
//! Every request goes through the S3 source's client, retries and
//! counters ([`crate::source::s3`]).

pub mod cache;
pub mod lock;
pub mod publish;
pub mod stage;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

use crate::source::s3::options::{S3Options, S3Url};
use crate::source::s3::retry::{with_retries, Failure, Op};
use crate::source::s3::{S3Session, Shared};

/// Whether `--lake` names a lake on S3.
pub fn is_remote(lake: &Path) -> bool {
    lake.to_string_lossy().starts_with("s3://")
}

/// A lake below an S3 prefix, and the session that reaches it.
pub struct RemoteLake {
    session: S3Session,
    client: Client,
    url: S3Url,
    shared: Arc<Shared>,
}

/// GETs one key, with the session's retries.
async fn get_key(
    client: Client,
    bucket: String,
    key: String,
    shared: Arc<Shared>,
) -> Result<Option<Vec<u8>>, Failure> {
    let s = &shared;
    let got = with_retries(&s.limiter, &s.counters, s.policy, Op::Get, || {
        let req = client.get_object().bucket(&bucket).key(&key);
        async move {
            let out = match req.send().await {
                Ok(out) => out,
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                    return Ok(None)
                }
                Err(e) => return Err(Failure::of_sdk(&e)),
            };
            let body = out.body.collect().await.map_err(|e| Failure::Transient {
                message: format!("reading the body: {e}"),
                connection: true,
            })?;
            Ok(Some(body.into_bytes().to_vec()))
        }
    })
    .await?;
    if let Some(body) = &got {
        s.counters
            .bytes
            .fetch_add(body.len() as u64, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(got)
}

/// PUTs one key (only if no object has it, when `only_new`), with the
/// session's retries; false when `only_new` and one has.
async fn put_key(
    client: Client,
    bucket: String,
    key: String,
    body: Arc<[u8]>,
    only_new: bool,
    shared: Arc<Shared>,
) -> Result<bool, Failure> {
    let s = &shared;
    with_retries(&s.limiter, &s.counters, s.policy, Op::Put, || {
        let mut req = client
            .put_object()
            .bucket(&bucket)
            .key(&key)
            .body(ByteStream::from(body.to_vec()));
        if only_new {
            req = req.if_none_match("*");
        }
        async move {
            match req.send().await {
                Ok(_) => Ok(true),
                Err(e) => match e.raw_response().map(|r| r.status().as_u16()) {
                    Some(412) if only_new => Ok(false),
                    // A concurrent conditional write of the same key: try again.
                    Some(409) if only_new => Err(Failure::Transient {
                        message: "conditional write conflict".into(),
                        connection: false,
                    }),
                    _ => Err(Failure::of_sdk(&e)),
                },
            }
        }
    })
    .await
}

/// Writes `body` to `dest` through a temporary name beside it.
fn write_atomically(dest: &Path, body: &[u8]) -> Result<()> {
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let name = dest.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dest.with_file_name(format!(".{name}.{}.download", std::process::id()));
    std::fs::write(&tmp, body).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, dest).with_context(|| format!("writing {}", dest.display()))
}

/// One listed key of the lake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Relative to the lake's prefix.
    pub rel: String,
    pub size: u64,
}

impl RemoteLake {
    /// Connects to the lake at `url` (probing the bucket with one LIST).
    pub fn connect(url: &str, opts: &S3Options) -> Result<RemoteLake> {
        let url = S3Url::parse(url)?;
        let mut session = S3Session::new(opts)?;
        session
            .connect(&url)
            .with_context(|| format!("--lake {url}"))?;
        let client = session
            .client(&url.bucket)
            .ok_or_else(|| anyhow!("--lake {url}: not connected"))?;
        let shared = session.shared();
        Ok(RemoteLake {
            session,
            client,
            url,
            shared,
        })
    }

    /// The lake's URL.
    pub fn url(&self) -> &S3Url {
        &self.url
    }

    /// The S3 counters of this session.
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    pub(crate) fn key(&self, rel: &str) -> String {
        format!("{}{rel}", self.url.prefix)
    }

    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.session.runtime().block_on(f)
    }

    fn failed(&self, what: &str, rel: &str, f: Failure) -> anyhow::Error {
        anyhow!(
            "{what} {}: {}",
            self.url.url_of(&self.key(rel)),
            crate::source::s3::retry::message(f)
        )
    }

    /// Every key below `rel_prefix`, relative to the lake's prefix.
    pub fn list(&self, rel_prefix: &str) -> Result<Vec<Listed>> {
        let prefix = self.key(rel_prefix);
        let s = &self.shared;
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.block_on(with_retries(
                &s.limiter,
                &s.counters,
                s.policy,
                Op::List,
                || {
                    let req = self
                        .client
                        .list_objects_v2()
                        .bucket(&self.url.bucket)
                        .prefix(&prefix)
                        .set_continuation_token(token.clone());
                    async move { req.send().await.map_err(|e| Failure::of_sdk(&e)) }
                },
            ));
            let page = page.map_err(|f| self.failed("listing", rel_prefix, f))?;
            for o in page.contents() {
                let Some(key) = o.key() else { continue };
                let Some(rel) = key.strip_prefix(&self.url.prefix) else {
                    continue;
                };
                out.push(Listed {
                    rel: rel.to_string(),
                    size: o.size().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                });
            }
            token = page.next_continuation_token().map(str::to_string);
            if token.is_none() || page.is_truncated() != Some(true) {
                return Ok(out);
            }
        }
    }

    /// The body of `rel`; `None` when there is no such key.
    pub fn get(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        let got = self.block_on(get_key(
            self.client.clone(),
            self.url.bucket.clone(),
            self.key(rel),
            self.shared.clone(),
        ));
        got.map_err(|f| self.failed("reading", rel, f))
    }

    /// GETs `rel` into the file `dest`, through a temporary name beside it;
    /// false when there is no such key.
    pub fn download(&self, rel: &str, dest: &Path) -> Result<bool> {
        let Some(body) = self.get(rel)? else {
            return Ok(false);
        };
        write_atomically(dest, &body)?;
        Ok(true)
    }

    /// GETs every key of `rels` into the same path below `dir`, as many at
    /// once as the session's pool of requests allows; a key gone since it
    /// was listed is skipped.
    pub fn download_all(&self, dir: &Path, rels: Vec<String>) -> Result<()> {
        self.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for rel in rels {
                let (client, bucket) = (self.client.clone(), self.url.bucket.clone());
                let (key, shared) = (self.key(&rel), self.shared.clone());
                set.spawn(async move { (get_key(client, bucket, key, shared).await, rel) });
            }
            while let Some(done) = set.join_next().await {
                crate::interrupt::check()?;
                match done? {
                    (Ok(Some(body)), rel) => write_atomically(&dir.join(&rel), &body)?,
                    (Ok(None), _) => {}
                    (Err(f), rel) => return Err(self.failed("reading", &rel, f)),
                }
            }
            Ok(())
        })
    }

    /// PUTs `body` as `rel`, replacing any object of that key.
    pub fn put(&self, rel: &str, body: &[u8]) -> Result<()> {
        self.put_if(rel, body, false).map(|_| ())
    }

    /// PUTs `body` as `rel` only if no object has that key
    /// (`If-None-Match: *`); false when one has.
    pub fn put_new(&self, rel: &str, body: &[u8]) -> Result<bool> {
        self.put_if(rel, body, true)
    }

    fn put_if(&self, rel: &str, body: &[u8], only_new: bool) -> Result<bool> {
        let put = self.block_on(put_key(
            self.client.clone(),
            self.url.bucket.clone(),
            self.key(rel),
            Arc::from(body),
            only_new,
            self.shared.clone(),
        ));
        put.map_err(|f| self.failed("writing", rel, f))
    }

    /// PUTs each file of `files` (a key relative to the lake, a local
    /// path), as many at once as the session's pool of requests allows.
    pub fn upload_all(&self, files: Vec<(String, PathBuf)>) -> Result<()> {
        let mut bodies = Vec::with_capacity(files.len());
        for (rel, path) in files {
            let body =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            bodies.push((rel, Arc::<[u8]>::from(body)));
        }
        self.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for (rel, body) in bodies {
                let (client, bucket) = (self.client.clone(), self.url.bucket.clone());
                let (key, shared) = (self.key(&rel), self.shared.clone());
                set.spawn(
                    async move { (put_key(client, bucket, key, body, false, shared).await, rel) },
                );
            }
            while let Some(done) = set.join_next().await {
                if let (Err(f), rel) = done? {
                    return Err(self.failed("writing", &rel, f));
                }
            }
            Ok(())
        })
    }

    /// Deletes `rel` (no error when it is gone already).
    pub fn delete(&self, rel: &str) -> Result<()> {
        let key = self.key(rel);
        let s = &self.shared;
        let done = self.block_on(with_retries(
            &s.limiter,
            &s.counters,
            s.policy,
            Op::Delete,
            || {
                let req = self
                    .client
                    .delete_object()
                    .bucket(&self.url.bucket)
                    .key(&key);
                async move {
                    req.send()
                        .await
                        .map(|_| ())
                        .map_err(|e| Failure::of_sdk(&e))
                }
            },
        ));
        done.map_err(|f| self.failed("deleting", rel, f))
    }
}
