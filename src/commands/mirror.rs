//! `ctscan mirror`: download a trail bucket's objects in a window, digests
//! included, into a local directory, with one metadata sidecar per object
//! (`DIR/.ctscan-meta/<KEY>.json`, read by `verify`). Resumable: an object
//! whose sidecar already holds its listed ETag and size is skipped.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use aws_sdk_s3::Client;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::config::MirrorConfig;
use crate::error::ExitStatus;
use crate::report::export::{write_atomically, write_json_atomically};
use crate::report::terminal::{human_bytes, warn};
use crate::scan::is_pruned;
use crate::source::s3::retry::message;
use crate::source::s3::{get_retried, ListItem, ListMode, Plan, S3Object, S3Session, Shared};
use crate::source::META_DIR;

/// One object's sidecar, `DIR/.ctscan-meta/<KEY>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sidecar {
    /// The full S3 key.
    pub key: String,
    pub bucket: String,
    /// The ETag without quotes.
    pub etag: String,
    pub size: u64,
    /// RFC 3339.
    pub last_modified: Option<String>,
    /// User metadata, without the `x-amz-meta-` prefix.
    pub metadata: BTreeMap<String, String>,
}

/// How one object ended up.
enum Outcome {
    Downloaded(u64),
    Skipped,
    Failed(String, String),
}

/// What one run did.
#[derive(Debug, Default)]
struct Tally {
    downloaded: u64,
    bytes: u64,
    skipped: u64,
    failed: u64,
}

/// Runs `mirror`: objects are downloaded while the listing goes on.
pub fn run(cfg: &MirrorConfig) -> Result<ExitStatus> {
    let url = &cfg.source;
    let mut session = S3Session::new(&cfg.s3)?;
    session.connect(url)?;
    let plan = Plan {
        window: cfg.window,
        slack: cfg.prune.slack,
        now: cfg.now,
        mode: ListMode::Mirror,
        select: cfg.prune.select.clone(),
        shard: cfg.prune.shard,
    };
    let mut keys = session.list(std::slice::from_ref(url), &plan);
    let bar = progress_bar(cfg.progress);
    let job = Arc::new(Job {
        shared: session.shared(),
        client: session
            .client(&url.bucket)
            .expect("connected bucket has a client"),
        bucket: url.bucket.clone(),
        prefix: url.prefix.clone(),
        dir: cfg.dir.clone(),
    });
    let slots = Arc::new(Semaphore::new(cfg.s3.concurrency.max(1)));
    let mut tally = Tally::default();
    session.runtime().block_on(async {
        let mut running = JoinSet::new();
        while let Some(item) = keys.recv().await {
            crate::interrupt::check()?;
            let obj = match item {
                ListItem::Unlistable(object, error) => {
                    tally.add(Outcome::Failed(object, error), &bar);
                    continue;
                }
                ListItem::Object { object, .. } => object,
            };
            if is_pruned(&obj.key, &cfg.window, &cfg.prune.slack) || !cfg.prune.select.key(&obj.key)
            {
                continue;
            }
            bar.inc_length(1);
            let slot = slots.clone().acquire_owned().await?;
            let job = job.clone();
            running.spawn(async move {
                let outcome = job.mirror_one(&obj).await;
                drop(slot);
                outcome
            });
            while let Some(done) = running.try_join_next() {
                tally.add(done?, &bar);
            }
        }
        while let Some(done) = running.join_next().await {
            tally.add(done?, &bar);
        }
        anyhow::Ok(())
    })?;
    bar.finish_and_clear();
    if !cfg.quiet {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "mirror {url} -> {}: {} downloaded ({}), {} skipped (already mirrored), {} failed",
            cfg.dir.display(),
            tally.downloaded,
            human_bytes(tally.bytes),
            tally.skipped,
            tally.failed
        )?;
    }
    Ok(if tally.failed > 0 {
        ExitStatus::Error
    } else {
        ExitStatus::Ok
    })
}

impl Tally {
    fn add(&mut self, outcome: Outcome, bar: &ProgressBar) {
        match outcome {
            Outcome::Downloaded(n) => {
                self.downloaded += 1;
                self.bytes += n;
            }
            Outcome::Skipped => self.skipped += 1,
            // After Ctrl-C, downloads in flight fail by design: no noise.
            Outcome::Failed(_, _) if crate::interrupt::requested() => {}
            Outcome::Failed(object, error) => {
                bar.suspend(|| warn(&object, &error));
                self.failed += 1;
            }
        }
        bar.inc(1);
    }
}

/// What every download shares.
struct Job {
    shared: Arc<Shared>,
    client: Client,
    bucket: String,
    prefix: String,
    dir: PathBuf,
}

impl Job {
    async fn mirror_one(&self, obj: &S3Object) -> Outcome {
        let name = format!("s3://{}/{}", self.bucket, obj.key);
        let rel = obj.key.strip_prefix(&self.prefix).unwrap_or(&obj.key);
        let Some(rel) = safe_relative(rel) else {
            return Outcome::Failed(name, "key is not a safe relative path; not written".into());
        };
        let data = self.dir.join(&rel);
        let side = sidecar_path(&self.dir, &rel);
        if up_to_date(&data, &side, obj) {
            return Outcome::Skipped;
        }
        let got = match get_retried(&self.shared, &self.client, &self.bucket, &obj.key).await {
            Ok(g) => g,
            Err(e) => return Outcome::Failed(name, format!("cannot read: {}", message(e))),
        };
        let sidecar = Sidecar {
            key: obj.key.clone(),
            bucket: self.bucket.clone(),
            etag: got.etag,
            size: got.body.len() as u64,
            last_modified: got.last_modified,
            metadata: got.metadata,
        };
        let size = sidecar.size;
        let body = got.body;
        let written =
            tokio::task::spawn_blocking(move || write_pair(&data, &body, &side, &sidecar))
                .await
                .map_err(anyhow::Error::from)
                .and_then(|r| r);
        match written {
            Ok(()) => Outcome::Downloaded(size),
            Err(e) => Outcome::Failed(name, format!("{e:#}")),
        }
    }
}

/// Writes the object, then its sidecar, each atomically: a sidecar exists only
/// beside a complete object.
fn write_pair(data: &Path, body: &[u8], side: &Path, sidecar: &Sidecar) -> Result<()> {
    for p in [data, side] {
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
    }
    write_atomically(data, |out| Ok(out.write_all(body)?))?;
    write_json_atomically(side, sidecar)
}

/// Whether a previous run already mirrored this version of the object.
fn up_to_date(data: &Path, side: &Path, obj: &S3Object) -> bool {
    let Ok(text) = std::fs::read(side) else {
        return false;
    };
    let Ok(meta) = serde_json::from_slice::<Sidecar>(&text) else {
        return false;
    };
    meta.etag == obj.etag
        && meta.size == obj.size
        && std::fs::metadata(data).is_ok_and(|m| m.len() == obj.size)
}

/// `DIR/.ctscan-meta/<rel>.json`.
pub fn sidecar_path(dir: &Path, rel: &Path) -> PathBuf {
    let mut p = dir.join(META_DIR).join(rel).into_os_string();
    p.push(".json");
    PathBuf::from(p)
}

/// A key as a relative path that stays inside DIR: no `..`, `.`, empty or
/// absolute parts, and not inside the metadata folder.
fn safe_relative(rel: &str) -> Option<PathBuf> {
    if rel.is_empty() || rel.ends_with('/') || rel.contains('\0') {
        return None;
    }
    let parts: Vec<&str> = rel.split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == "..")
        || parts[0] == META_DIR
    {
        return None;
    }
    let path = PathBuf::from(rel);
    path.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then_some(path)
}

fn progress_bar(show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} objects, {per_sec} ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_inside_the_mirror() {
        assert!(safe_relative("AWSLogs/1/CloudTrail/x.json.gz").is_some());
        for bad in [
            "",
            "a//b",
            "../x",
            "a/../../x",
            "/abs",
            "a/",
            ".ctscan-meta/x",
            "./a",
        ] {
            assert!(safe_relative(bad).is_none(), "{bad}");
        }
        assert_eq!(
            sidecar_path(Path::new("/m"), Path::new("a/b.json.gz")),
            PathBuf::from("/m/.ctscan-meta/a/b.json.gz.json")
        );
    }
}
