//! `gen-org`: writes a virtual org bucket to a directory, key for key and
//! byte for byte what `serve --org` answers, so a scan over S3 can be
//! compared with a scan over the local mirror.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use crate::bucket::KeyCursor;
use crate::org::OrgBucket;
use crate::spec::OrgSpec;

/// Writes every object; returns (objects, bytes) written.
pub fn write_org(spec: &OrgSpec, out: &Path) -> Result<(u64, u64)> {
    let bucket = OrgBucket::new("mirror", spec);
    let mut cursor = bucket.cursor(b"");
    let (mut objects, mut bytes) = (0u64, 0u64);
    let mut last_dir = None;
    while let (Some(key), Some(path)) = (cursor.key(), cursor.path()) {
        let file = out.join(key);
        let dir = file.parent().map(Path::to_path_buf);
        if dir != last_dir {
            if let Some(d) = &dir {
                fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            }
            last_dir = dir;
        }
        let body = bucket.body_of(path);
        fs::write(&file, &body).with_context(|| format!("writing {}", file.display()))?;
        objects += 1;
        bytes += body.len() as u64;
        cursor.advance();
    }
    Ok((objects, bytes))
}
