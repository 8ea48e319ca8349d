//! What a user downloads: the release profile builds a stripped binary, and
//! the symbols the benchmarks and `perf` need live in a profile of their own.

use crate::util::root;

/// The `key = value` lines of one `[section]` of Cargo.toml, comments dropped.
fn profile(name: &str) -> Vec<String> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let header = format!("[profile.{name}]");
    manifest
        .lines()
        .skip_while(|l| l.trim() != header)
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .map(|l| l.split('#').next().unwrap().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn release_is_stripped_and_profiling_keeps_line_tables() {
    assert_eq!(
        profile("release"),
        [
            "debug = false",
            "strip = true",
            "lto = \"thin\"",
            "codegen-units = 16"
        ]
    );
    assert_eq!(
        profile("profiling"),
        [
            "inherits = \"release\"",
            "debug = \"line-tables-only\"",
            "strip = \"none\""
        ]
    );
    let macro_bench = std::fs::read_to_string(root().join("benches/macro.sh")).unwrap();
    assert!(macro_bench.contains("cargo build --profile \"$PROFILE\""));
}
