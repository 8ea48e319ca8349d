//! Local sources: files and directories walked recursively.
//!
//! Follows symlinks (mirrors are often built from them) with loop detection;
//! every directory that cannot be read is reported as an unlistable entry
//! instead of vanishing from the accounting.

use std::path::Path;

use walkdir::WalkDir;

use super::{Listed, Location, ObjectRef, META_DIR};

/// Lists every file under `root` (or `root` itself when it is a file), sorted.
pub fn list(root: &Path) -> Vec<Listed> {
    walk(root).collect()
}

/// [`list`] as it walks: one directory's entries in memory at a time, so a
/// scan that consumes it holds no list of the mirror's millions of objects.
pub fn walk(root: &Path) -> impl Iterator<Item = Listed> + Send + '_ {
    WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || e.file_name() != META_DIR)
        .filter_map(move |entry| match entry {
            Ok(e) if e.file_type().is_file() => {
                let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                Some(Listed::Object(ObjectRef {
                    etag: None,
                    key: e.path().display().to_string(),
                    location: Location::File(e.path().to_path_buf()),
                    size,
                }))
            }
            Ok(_) => None,
            Err(err) => Some(Listed::Unlistable {
                object: err.path().unwrap_or(root).display().to_string(),
                error: describe_walk_error(&err),
            }),
        })
}

fn describe_walk_error(err: &walkdir::Error) -> String {
    if let Some(ancestor) = err.loop_ancestor() {
        return format!("symlink loop back to {}", ancestor.display());
    }
    match err.io_error() {
        Some(io) => format!("cannot list: {io}"),
        None => err.to_string(),
    }
}
