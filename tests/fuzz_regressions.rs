//! Every input the fuzz targets were seeded with or found, replayed through
//! the same checks (`ctscan::fuzz_checks`), so CI runs the corpus without
//! the fuzzer. Inputs live in `tests/fixtures/fuzz/<target>/`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use ctscan::fuzz_checks::{check_digest, check_pattern, check_record_fast_path};

use crate::util::root;

/// Runs `check` on every file of the target's directory and names each
/// file that fails.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = root().join("tests/fixtures/fuzz").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: inputs went missing", dir.display());
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).unwrap();
            catch_unwind(AssertUnwindSafe(|| check(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{} inputs fail: {failed:#?}",
        failed.len()
    );
}

#[test]
fn record_fast_path_corpus() {
    replay("record_fast_path", check_record_fast_path);
}

#[test]
fn filter_pattern_corpus() {
    replay("filter_pattern", check_pattern);
}

#[test]
fn digest_corpus() {
    replay("digest", check_digest);
}
