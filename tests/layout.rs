//! The layout's two guards: no import cycle between modules at any level
//! of `src/`, and no non-test source file over the size that starts to mix
//! concerns. Both read the sources as text; nothing is compiled.
//!
//! A reference is any `crate::a::b` or `super::a` path outside comments and
//! outside the file's `#[cfg(test)]` tail, resolved to the longest module
//! path that exists. For two modules whose nearest common ancestor is `L`,
//! the reference is an edge between the children of `L` that hold them; a
//! cycle among the children of any `L` fails the test. A child using its
//! own ancestor (`super::Type`) is hierarchy, not a cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::util::root;

/// Longest non-test source file, in lines.
const MAX_LINES: usize = 800;

type ModPath = Vec<String>;

/// Every module of `src/` (test modules left out) and its source text.
fn modules() -> BTreeMap<ModPath, String> {
    let src = root().join("src");
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(&src) {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = path.strip_prefix(&src).unwrap().with_extension("");
        let mut parts: ModPath = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if matches!(
            parts.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            parts.pop();
        }
        if parts.iter().any(|p| p == "tests") {
            continue;
        }
        out.insert(parts, code_of(path));
    }
    out
}

/// The file's code: comment lines and the `#[cfg(test)]` tail removed.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut code = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            break;
        }
        if !t.starts_with("//") {
            code.push_str(line);
            code.push('\n');
        }
    }
    code
}

/// Every path that `use` groups and inline paths spell after `at`, as
/// segment lists (`a::{b, c::d}` gives `[a, b]` and `[a, c, d]`).
fn paths_at(code: &[u8], at: usize) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    parse_tree(code, at, Vec::new(), &mut out);
    out
}

fn skip_ws(code: &[u8], mut i: usize) -> usize {
    while i < code.len() && code[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn parse_tree(
    code: &[u8],
    mut i: usize,
    mut segs: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    loop {
        i = skip_ws(code, i);
        if code.get(i) == Some(&b'{') {
            i += 1;
            loop {
                i = parse_tree(code, i, segs.clone(), out);
                i = skip_ws(code, i);
                if code.get(i) == Some(&b',') {
                    i = skip_ws(code, i + 1);
                }
                if code.get(i) == Some(&b'}') {
                    return i + 1;
                }
                if i >= code.len() {
                    return i;
                }
            }
        }
        let start = i;
        while i < code.len() && (code[i].is_ascii_alphanumeric() || code[i] == b'_') {
            i += 1;
        }
        if i == start {
            out.push(segs);
            return i;
        }
        segs.push(String::from_utf8_lossy(&code[start..i]).into_owned());
        if code[i..].starts_with(b"::") {
            i += 2;
        } else {
            out.push(segs);
            return i;
        }
    }
}

/// Module-to-module references, each resolved to an existing module.
fn references(mods: &BTreeMap<ModPath, String>) -> BTreeSet<(ModPath, ModPath)> {
    let mut edges = BTreeSet::new();
    for (module, code) in mods {
        let bytes = code.as_bytes();
        for (keyword, base) in [("crate::", Vec::new()), ("super::", parent(module))] {
            for (at, _) in code.match_indices(keyword) {
                let word_start = at == 0 || !is_ident(bytes[at - 1]);
                if !word_start {
                    continue;
                }
                for segs in paths_at(bytes, at + keyword.len()) {
                    let mut target = base.clone();
                    target.extend(segs);
                    while !target.is_empty() && !mods.contains_key(&target) {
                        target.pop();
                    }
                    if !target.is_empty() && &target != module {
                        edges.insert((module.clone(), target));
                    }
                }
            }
        }
    }
    edges
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `super` of a module file: its parent module.
fn parent(module: &ModPath) -> ModPath {
    module[..module.len().saturating_sub(1)].to_vec()
}

/// Edges between siblings, grouped by their common parent.
fn sibling_edges(
    edges: &BTreeSet<(ModPath, ModPath)>,
) -> BTreeMap<ModPath, BTreeSet<(String, String)>> {
    let mut by_parent: BTreeMap<ModPath, BTreeSet<(String, String)>> = BTreeMap::new();
    for (a, b) in edges {
        let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        if common == a.len() || common == b.len() {
            continue; // one holds the other
        }
        by_parent
            .entry(a[..common].to_vec())
            .or_default()
            .insert((a[common].clone(), b[common].clone()));
    }
    by_parent
}

/// Sibling edges that close a cycle, as `parent: a -> b` lines.
fn cycles(by_parent: &BTreeMap<ModPath, BTreeSet<(String, String)>>) -> Vec<String> {
    let mut found = Vec::new();
    for (parent, edges) in by_parent {
        let reaches = |from: &str, to: &str| {
            let mut seen = BTreeSet::new();
            let mut stack = vec![from.to_string()];
            while let Some(n) = stack.pop() {
                for (_, y) in edges.iter().filter(|(x, _)| *x == n) {
                    if y == to {
                        return true;
                    }
                    if seen.insert(y.clone()) {
                        stack.push(y.clone());
                    }
                }
            }
            false
        };
        for (a, b) in edges {
            if reaches(b, a) {
                let name = if parent.is_empty() {
                    "crate".to_string()
                } else {
                    parent.join("::")
                };
                found.push(format!("{name}: {a} -> {b}"));
            }
        }
    }
    found
}

#[test]
fn no_import_cycles_between_modules() {
    let mods = modules();
    assert!(
        mods.len() > 50,
        "found only {} modules under src/",
        mods.len()
    );
    let edges = references(&mods);
    assert!(edges.len() > 100, "found only {} references", edges.len());
    let found = cycles(&sibling_edges(&edges));
    assert!(
        found.is_empty(),
        "modules that import each other (directly or round a loop):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_cycle_check_sees_a_cycle() {
    let mut mods = BTreeMap::new();
    let m = |p: &str| p.split("::").map(String::from).collect::<ModPath>();
    mods.insert(m("read"), String::new());
    mods.insert(
        m("read::format"),
        "use crate::read::structural::{Tape, index};".to_string(),
    );
    mods.insert(
        m("read::structural"),
        "use super::format::FormatError;".to_string(),
    );
    mods.insert(m("scan"), "use crate::read::format::split;".to_string());
    mods.insert(m("report"), "fn f() { crate::scan::run() }".to_string());
    let edges = references(&mods);
    assert!(edges.contains(&(m("read::format"), m("read::structural"))));
    assert!(edges.contains(&(m("read::structural"), m("read::format"))));
    let found = cycles(&sibling_edges(&edges));
    assert_eq!(
        found,
        vec![
            "read: format -> structural".to_string(),
            "read: structural -> format".to_string()
        ]
    );
}

#[test]
fn no_source_file_outgrows_one_concern() {
    let src = root().join("src");
    let mut long = Vec::new();
    for entry in walkdir::WalkDir::new(&src) {
        let entry = entry.unwrap();
        let path = entry.path();
        let rel = path.strip_prefix(&src).unwrap();
        let is_test = rel.iter().any(|p| p == "tests" || p == "tests.rs");
        if is_test || path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        // Unit tests at the end of a file do not count.
        let code = text.split("\n#[cfg(test)]\nmod tests {").next().unwrap();
        let lines = code.lines().count();
        if lines > MAX_LINES {
            long.push(format!("{} ({lines} lines)", rel.display()));
        }
    }
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:?}");
}
