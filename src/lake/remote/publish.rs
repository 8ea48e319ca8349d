//! A staged commit made visible on S3: part files first, then the
//! fragment that names them (the commit point), then the deletions of the
//! keys it retires.
//!
//! A run killed before the fragment's PUT leaves part keys no fragment
//! names; readers never read them, and the next ingest deletes them
//! ([`super::stage`]).

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;

use super::RemoteLake;
use crate::lake::manifest::{FileEntry, Fragment, MANIFEST_DIR};

/// Uploads what an ingest staged locally, commit by commit.
pub struct Publisher {
    lake: Arc<RemoteLake>,
}

impl Publisher {
    /// Publishes into `lake`.
    pub fn new(lake: Arc<RemoteLake>) -> Publisher {
        Publisher { lake }
    }

    /// PUTs each part file of `files`, staged below `root` under its final
    /// name or still under its temporary one, to its final key, all at once.
    pub fn upload_parts(&self, root: &Path, files: &[FileEntry]) -> Result<()> {
        crate::interrupt::check()?;
        let staged = files
            .iter()
            .map(|f| {
                let path = root.join(&f.path);
                let path = if path.exists() {
                    path
                } else {
                    let (folder, name) = f.path.rsplit_once('/').unwrap_or(("", &f.path));
                    root.join(folder).join(format!(".{name}.tmp"))
                };
                (f.path.clone(), path)
            })
            .collect();
        self.lake.upload_all(staged)
    }

    /// PUTs the fragment (the commit point), then deletes the part files it
    /// retires.
    pub fn commit(&self, fragment: &Fragment) -> Result<()> {
        let mut body = serde_json::to_vec(fragment)?;
        body.push(b'\n');
        self.lake
            .put(&format!("{MANIFEST_DIR}/{}.json", fragment.commit), &body)?;
        for rel in &fragment.removed {
            self.lake.delete(rel)?;
        }
        Ok(())
    }

    /// GETs the committed part file `rel` into `root` unless staged there
    /// already: a file to rewrite that went stale during this run.
    pub fn fetch(&self, root: &Path, rel: &str) -> Result<()> {
        let path = root.join(rel);
        if !path.exists() {
            anyhow::ensure!(
                self.lake.download(rel, &path)?,
                "{}: committed, but not in the bucket",
                self.lake.url().url_of(&self.lake.key(rel))
            );
        }
        Ok(())
    }

    /// PUTs the file `rel` staged below `root` (a finished shard's record).
    pub fn upload(&self, root: &Path, rel: &str) -> Result<()> {
        self.lake
            .upload_all(vec![(rel.to_string(), root.join(rel))])
    }
}
