//! `hunt`: Sigma rules run over CloudTrail records in the scan's one pass.
//!
//! [`sigma`] is the rule engine (loading, routing, evaluation); [`bundled`]
//! the SigmaHQ CloudTrail rules shipped in the binary; [`project`] the
//! fields the rules read, taken from each record's tape instead of a whole
//! parse; [`gate`] the byte check that keeps records no rule could match
//! from being parsed where there is no projection;
//! [`finding`] and [`runs`] the rows a hunt produces and their bounded,
//! sorted storage; [`summary`] the per-rule totals; [`allow`] the
//! allowlists. This module neither scans nor writes: `commands::hunt` feeds
//! it from the scan and writes its outputs.

pub mod allow;
pub mod bundled;
pub mod finding;
pub mod gate;
pub mod project;
pub mod runs;
pub mod sigma;
pub mod summary;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::bail;

use allow::Allowlist;
use sigma::{LoadError, Problem, SigmaRule, SigmaRuleSet, Unsupported};

/// The word `--sigma` takes for the bundled rules where a path is expected.
pub const BUNDLED: &str = "bundled";

/// A rule set ready to run, with what was left out of it and the allowlist
/// its findings are judged against: what `hunt` and `report --sigma` share.
#[derive(Debug)]
pub struct SigmaSetup {
    pub rules: SigmaRuleSet,
    /// Rule files left out (unsupported, invalid, another log source).
    pub problems: Vec<Unsupported>,
    pub allow: Option<Arc<Allowlist>>,
}

impl SigmaSetup {
    /// Loads `paths` (the bundled set when empty or when it is just
    /// [`BUNDLED`]), beside an allowlist already read. With `strict`, a rule
    /// that cannot be used is an error rather than a warning.
    pub fn load(
        paths: &[PathBuf],
        strict: bool,
        allow: Option<Arc<Allowlist>>,
    ) -> anyhow::Result<Self> {
        let bundled = paths.len() == 1 && paths[0] == Path::new(BUNDLED) && !paths[0].exists();
        let paths = if bundled { &[][..] } else { paths };
        let (rules, problems) = load_rules(paths)?;
        let unusable = problems
            .iter()
            .find(|p| !matches!(p.problem, Problem::Skipped(_)));
        if let (true, Some(p)) = (strict, unusable) {
            bail!("--strict: {p}");
        }
        if rules.is_empty() {
            bail!("no Sigma rule for aws/cloudtrail could be loaded from --sigma");
        }
        Ok(SigmaSetup {
            rules,
            problems,
            allow,
        })
    }
}

/// The rules a hunt runs: `paths` (files or folders), or the bundled set
/// when there are none. Rules that cannot be used come back beside the set.
pub fn load_rules(paths: &[PathBuf]) -> Result<(SigmaRuleSet, Vec<Unsupported>), LoadError> {
    if !paths.is_empty() {
        return SigmaRuleSet::load(paths);
    }
    let mut rules = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in bundled::BUNDLED_RULES {
        let file = Path::new("bundled").join(name);
        match SigmaRule::from_yaml(&file, text) {
            Ok(rule) => rules.push(rule),
            Err(problem) => problems.push(problem),
        }
    }
    Ok((SigmaRuleSet::from_rules(rules), problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_rule_is_listed_and_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/sigma-cloudtrail/rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".yml"))
            .collect();
        on_disk.sort();
        let listed: Vec<&str> = bundled::BUNDLED_RULES.iter().map(|(n, _)| *n).collect();
        assert_eq!(on_disk, listed);
        let (set, problems) = load_rules(&[]).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(set.len(), 57);
        assert!(set.rules().iter().all(|r| !r.meta().author.is_empty()));
    }
}
