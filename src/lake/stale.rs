//! Rewriting the part files that hold stale rows: rows of an object that
//! was read into the lake again since (it changed, or was ingested with
//! another window or selection), so only its latest rows remain.
//!
//! Each file is read back, filtered, written under a new name and swapped
//! in by one fragment that lists the new file and retires the old one; a
//! run killed half-way leaves the manifest's list to [`super::recover`].

use anyhow::{Context, Result};
use polars::prelude::BooleanChunked;

use super::batch::{rename, temp_name, LakeWriter};
use super::manifest::{FileEntry, Manifest};
use super::writer::{read_part, write_frame};

/// Rewrites every file `manifest` lists as stale; returns how many.
pub fn drop_stale(writer: &LakeWriter, manifest: &Manifest) -> Result<u64> {
    let mut rewritten = 0;
    for (path, keys) in &manifest.stale {
        crate::interrupt::check()?;
        writer.fetch(path)?;
        let old = writer.root().join(path);
        let df = read_part(&old)?;
        let objects = df
            .column("object")
            .and_then(|c| c.str().cloned())
            .map_err(anyhow::Error::from)
            .with_context(|| format!("reading {}", old.display()))?;
        let keep: BooleanChunked = objects
            .iter()
            .map(|o| !o.is_some_and(|o| keys.contains(o)))
            .collect();
        let mut kept = df.filter(&keep)?;
        let folder = path.rsplit_once('/').map_or("", |(f, _)| f);
        let mut files = Vec::new();
        let mut swap = None;
        if kept.height() > 0 {
            let name = writer.part_name();
            let dir = writer.root().join(folder);
            let tmp = dir.join(temp_name(&name));
            write_frame(&tmp, &mut kept)?;
            files.push(FileEntry {
                path: format!("{folder}/{name}"),
                rows: kept.height() as u64,
            });
            swap = Some((tmp, dir.join(name)));
        }
        writer.commit_fragment(Vec::new(), files, vec![path.clone()])?;
        match std::fs::remove_file(&old) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", old.display())),
        }
        if let Some((tmp, path)) = swap {
            rename(&tmp, &path)?;
        }
        rewritten += 1;
    }
    Ok(rewritten)
}
