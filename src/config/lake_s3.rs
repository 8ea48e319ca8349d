//! `--lake s3://bucket/prefix`: where `ingest` stages a lake on S3, and the
//! local cache that readers open in its place.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};

use super::ScanConfig;
use crate::lake::read::Lake;
use crate::lake::remote::{cache, is_remote};

/// Where `ingest` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LakeTarget {
    /// A local lake.
    Local(PathBuf),
    /// A lake on S3, staged in `staging` (a new temporary folder when `None`).
    S3 {
        url: String,
        staging: Option<PathBuf>,
    },
}

impl LakeTarget {
    /// Checks `--lake` and `--lake-staging`; creates the local folder so a
    /// bad path fails early.
    pub fn from_args(lake: &Path, staging: Option<&Path>) -> Result<LakeTarget> {
        if is_remote(lake) {
            crate::source::s3::options::S3Url::parse(&lake.to_string_lossy())
                .with_context(|| format!("--lake {}", lake.display()))?;
            if let Some(dir) = staging {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("--lake-staging {}", dir.display()))?;
            }
            return Ok(LakeTarget::S3 {
                url: lake.to_string_lossy().into_owned(),
                staging: staging.map(Path::to_path_buf),
            });
        }
        if staging.is_some() {
            bail!("--lake-staging applies to a lake on S3 (--lake s3://…); a local lake is written in place");
        }
        std::fs::create_dir_all(lake).with_context(|| format!("--lake {}", lake.display()))?;
        Ok(LakeTarget::Local(lake.to_path_buf()))
    }
}

/// Environment variable naming the cache folder of lakes on S3.
pub const CACHE_ENV: &str = "CTSCAN_LAKE_CACHE";

/// Where readers cache lakes on S3: `$CTSCAN_LAKE_CACHE`, else
/// `$XDG_CACHE_HOME/ctscan/lakes`, else `~/.cache/ctscan/lakes`.
pub fn cache_base() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env(CACHE_ENV)
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("ctscan/lakes")))
        .or_else(|| env("HOME").map(|d| d.join(".cache/ctscan/lakes")))
        .unwrap_or_else(|| std::env::temp_dir().join("ctscan-lakes"))
}

/// The lake at `url` on S3 as the query of `scan` needs it: its records
/// and the part files of the partitions the query reads, from the cache.
pub fn open_remote(url: &Path, scan: &ScanConfig) -> Result<Arc<Lake>> {
    let (keys, window) = (&scan.prune.select, &scan.window);
    let dir = cache::fetch(&url.to_string_lossy(), &scan.s3, &cache_base(), &|p| {
        p.selected(keys, window)
    })?;
    let mut lake = Lake::open(&dir).with_context(|| format!("--lake {}", url.display()))?;
    lake.name = url.display().to_string();
    Ok(Arc::new(lake))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lake_and_lake_staging_choose_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let staging = dir.path().join("staging");
        assert_eq!(
            LakeTarget::from_args(Path::new("s3://b/p"), Some(&staging)).unwrap(),
            LakeTarget::S3 {
                url: "s3://b/p".into(),
                staging: Some(staging.clone()),
            }
        );
        assert!(staging.is_dir());
        assert_eq!(
            LakeTarget::from_args(Path::new("s3://b"), None).unwrap(),
            LakeTarget::S3 {
                url: "s3://b".into(),
                staging: None,
            }
        );
        let err = LakeTarget::from_args(Path::new("s3://"), None).unwrap_err();
        assert!(format!("{err:#}").contains("no bucket name"), "{err:#}");
        let local = dir.path().join("lake");
        assert_eq!(
            LakeTarget::from_args(&local, None).unwrap(),
            LakeTarget::Local(local.clone())
        );
        assert!(local.is_dir());
        let err = LakeTarget::from_args(&local, Some(&staging)).unwrap_err();
        assert!(err
            .to_string()
            .contains("--lake-staging applies to a lake on S3"));
    }
}
