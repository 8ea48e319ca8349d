//! Test helpers: where the shared data and fixtures are, and reading record files in the
//! three shapes the public samples come in.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::super::{SigmaRule, SigmaRuleSet};

/// `SIGMA_SHARED_DATA`, else the first of `<crate>/../shared/data`, `/work/shared/data`.
pub fn shared_data() -> PathBuf {
    if let Ok(dir) = std::env::var("SIGMA_SHARED_DATA") {
        return PathBuf::from(dir);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        manifest.join("../shared/data"),
        PathBuf::from("/work/shared/data"),
    ]
    .into_iter()
    .find(|p| p.join("sigma-cloudtrail/rules").is_dir())
    .expect("shared data with sigma-cloudtrail/rules not found; set SIGMA_SHARED_DATA")
}

/// The bundled rules, as shipped in the repository.
pub fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/sigma-cloudtrail/rules")
}

/// `SIGMA_FIXTURES`, else `<crate>/tests/fixtures/sigma`.
pub fn fixtures_dir() -> PathBuf {
    std::env::var("SIGMA_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sigma"))
}

/// The bundled rules, loaded once per test binary.
pub fn bundled_rules() -> &'static SigmaRuleSet {
    static SET: std::sync::OnceLock<SigmaRuleSet> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        let (set, problems) = SigmaRuleSet::load(&[rules_dir()]).expect("rules load");
        assert!(problems.is_empty(), "{problems:?}");
        set
    })
}

/// One rule with the given detection block (indented by 2 spaces under `detection:`).
pub fn rule(detection: &str) -> SigmaRule {
    let text = format!(
        "title: test\nid: 00000000-0000-0000-0000-000000000000\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n{detection}\n"
    );
    SigmaRule::from_yaml(Path::new("test.yml"), &text).unwrap_or_else(|e| panic!("{e}"))
}

/// Records of a JSON array, an S3 `{"Records": [...]}` object (possibly `.gz`) or NDJSON.
pub fn read_records(path: &Path) -> Vec<serde_json::Value> {
    let raw = std::fs::read(path).expect("read record file");
    let text = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = String::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_string(&mut out)
            .expect("gunzip");
        out
    } else {
        String::from_utf8(raw).expect("utf-8")
    };
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Array(items)) => items,
        Ok(serde_json::Value::Object(mut o)) if o.contains_key("Records") => {
            match o.remove("Records") {
                Some(serde_json::Value::Array(items)) => items,
                _ => Vec::new(),
            }
        }
        Ok(other) => vec![other],
        Err(_) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("NDJSON line"))
            .collect(),
    }
}

/// Files under `dir` whose name ends with one of `suffixes`, sorted.
pub fn files_under(dir: &Path, suffixes: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if suffixes.iter().any(|s| p.to_string_lossy().ends_with(s)) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
