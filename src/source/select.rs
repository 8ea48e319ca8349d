//! `--account` and `--region`: which accounts and regions of the CloudTrail
//! layout a run reads, judged from keys alone (globs, as the shell writes them).

use globset::{Glob, GlobSet, GlobSetBuilder};

/// The accounts and regions selected; an empty list selects all.
#[derive(Debug, Clone, Default)]
pub struct KeySelect {
    accounts: Option<GlobSet>,
    regions: Option<GlobSet>,
}

/// A `--account`/`--region` pattern that is not a glob.
#[derive(Debug, thiserror::Error)]
#[error("{option} {pattern:?}: {reason}")]
pub struct SelectError {
    option: &'static str,
    pattern: String,
    reason: String,
}

impl KeySelect {
    /// Compiles the `--account` and `--region` globs.
    pub fn new(accounts: &[String], regions: &[String]) -> Result<KeySelect, SelectError> {
        Ok(KeySelect {
            accounts: glob_set("--account", accounts)?,
            regions: glob_set("--region", regions)?,
        })
    }

    /// Whether anything is left out.
    pub fn is_narrowed(&self) -> bool {
        self.accounts.is_some() || self.regions.is_some()
    }

    /// Whether an account ID is selected.
    pub fn account(&self, id: &str) -> bool {
        self.accounts.as_ref().is_none_or(|g| g.is_match(id))
    }

    /// Whether a region name is selected.
    pub fn region(&self, name: &str) -> bool {
        self.regions.as_ref().is_none_or(|g| g.is_match(name))
    }

    /// Whether a key is selected: its account and region from the layout
    /// `…AWSLogs/[o-…/]ACCOUNT/CloudTrail*/REGION/…`. With a selection, a key
    /// outside that layout is not selected (it names no account or region).
    pub fn key(&self, key: &str) -> bool {
        if !self.is_narrowed() {
            return true;
        }
        match layout_account_region(key) {
            Some((account, region)) => self.account(account) && self.region(region),
            None => false,
        }
    }
}

fn glob_set(option: &'static str, patterns: &[String]) -> Result<Option<GlobSet>, SelectError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        let err = |reason: String| SelectError {
            option,
            pattern: p.clone(),
            reason,
        };
        set.add(Glob::new(p).map_err(|e| err(e.kind().to_string()))?);
    }
    set.build().map(Some).map_err(|e| SelectError {
        option,
        pattern: patterns.join(","),
        reason: e.to_string(),
    })
}

/// Whether a folder name is a 12-digit account ID.
pub fn is_account_id(name: &str) -> bool {
    name.len() == 12 && name.bytes().all(|b| b.is_ascii_digit())
}

/// The account and region a key's folders name, in the CloudTrail layout.
fn layout_account_region(key: &str) -> Option<(&str, &str)> {
    let segs: Vec<&str> = key.split(['/', '\\']).collect();
    let at = segs.iter().rposition(|s| *s == "AWSLogs")?;
    let rest = &segs[at + 1..];
    let rest = match rest.first() {
        Some(o) if o.starts_with("o-") => &rest[1..],
        _ => rest,
    };
    match rest {
        [account, trail, region, _, ..]
            if is_account_id(account) && trail.starts_with("CloudTrail") =>
        {
            Some((account, region))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(a: &[&str], r: &[&str]) -> KeySelect {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        KeySelect::new(&s(a), &s(r)).unwrap()
    }

    #[test]
    fn keys_are_selected_by_account_and_region_globs() {
        let k = "AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/2026/01/02/f.json.gz";
        let plain = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/02/f.json.gz";
        assert!(sel(&[], &[]).key("exports/x.json"));
        assert!(sel(&["1111*"], &[]).key(k));
        assert!(!sel(&["2222*"], &[]).key(k));
        assert!(sel(&[], &["eu-*"]).key(k));
        assert!(!sel(&[], &["eu-*"]).key(plain));
        assert!(sel(&["111122223333"], &["us-east-1", "eu-*"]).key(plain));
        assert!(!sel(&["1*"], &[]).key("exports/x.json"));
        assert!(KeySelect::new(&["[".into()], &[]).is_err());
    }
}
