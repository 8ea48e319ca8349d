//! The `--org` SPEC: the shape of a virtual organization trail bucket, parsed
//! from `key=value,key=value` text.

use anyhow::{bail, Context, Result};
use time::Date;

/// Most objects one account-region can deliver in a day: one a minute keeps
/// every delivery time, and so every key, distinct and in slot order.
pub const MAX_PER_DAY: u32 = 1440;
/// Accounts are spread over 12-digit IDs in bands; this bounds the count.
pub const MAX_ACCOUNTS: u32 = 100_000;
/// Smallest body size at which one event, compressed at `level`, always
/// fits (measured over many seeds, with margin).
pub fn min_size(level: u32) -> u32 {
    if level >= 6 {
        800
    } else {
        1000
    }
}

/// What a virtual org bucket holds. Every key and body derives from it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgSpec {
    pub accounts: u32,
    pub regions: u32,
    pub days: u32,
    pub start: Date,
    /// Objects per account-region per day for ordinary accounts.
    pub per_day: u32,
    /// Key prefix before `AWSLogs/`, empty or ending in `/`.
    pub prefix: String,
    /// Organization ID, or empty for a single-account layout.
    pub org: String,
    /// Share of all objects held by one account (0 = even).
    pub skew: f64,
    /// Approximate body size in bytes.
    pub size: u32,
    /// Deflate level of bodies: 6 is gzip's default, 1 costs less CPU.
    pub level: u32,
    pub seed: u64,
}

impl Default for OrgSpec {
    fn default() -> OrgSpec {
        OrgSpec {
            accounts: 4,
            regions: 17,
            days: 1,
            start: time::macros::date!(2026 - 10 - 01),
            per_day: 1,
            prefix: String::new(),
            org: "o-abcdefghij".to_string(),
            skew: 0.0,
            size: 1500,
            level: 6,
            seed: 1,
        }
    }
}

impl OrgSpec {
    /// Parses `accounts=40,regions=17,days=30,start=2026-10-01,per_day=288,…`;
    /// unknown keys are an error so typos do not pass silently.
    pub fn parse(text: &str) -> Result<OrgSpec> {
        let mut spec = OrgSpec::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = item
                .split_once('=')
                .with_context(|| format!("spec item {item:?} is not key=value"))?;
            spec.set(k.trim(), v.trim())
                .with_context(|| format!("spec item {item:?}"))?;
        }
        spec.validate()?;
        Ok(spec)
    }

    fn set(&mut self, key: &str, value: &str) -> Result<()> {
        match key {
            "accounts" => self.accounts = value.parse()?,
            "regions" => self.regions = value.parse()?,
            "days" => self.days = value.parse()?,
            "start" => self.start = parse_date(value)?,
            "per_day" => self.per_day = value.parse()?,
            "prefix" => self.prefix = normalise_prefix(value),
            "org" => {
                self.org = if value == "none" {
                    String::new()
                } else {
                    value.to_string()
                }
            }
            "skew" => self.skew = value.parse()?,
            "size" => self.size = value.parse()?,
            "seed" => self.seed = value.parse()?,
            "level" => self.level = value.parse()?,
            _ => bail!("unknown key {key:?}"),
        }
        Ok(())
    }

    fn validate(&self) -> Result<()> {
        if self.accounts == 0 || self.accounts > MAX_ACCOUNTS {
            bail!("accounts must be 1..={MAX_ACCOUNTS}");
        }
        if self.regions == 0 || self.regions as usize > crate::org::REGIONS.len() {
            bail!("regions must be 1..={}", crate::org::REGIONS.len());
        }
        if self.days == 0 || self.per_day == 0 || self.per_day > MAX_PER_DAY {
            bail!("days must be ≥ 1 and per_day 1..={MAX_PER_DAY}");
        }
        if !(0.0..1.0).contains(&self.skew) {
            bail!("skew must be in [0, 1)");
        }
        if !(1..=9).contains(&self.level) {
            bail!("level must be 1..=9");
        }
        if self.size < min_size(self.level) {
            bail!(
                "size must be ≥ {} at level {}",
                min_size(self.level),
                self.level
            );
        }
        Ok(())
    }
}

fn parse_date(text: &str) -> Result<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).with_context(|| format!("{text:?} is not YYYY-MM-DD"))
}

/// `logs` and `logs/` both mean the folder `logs/`.
fn normalise_prefix(value: &str) -> String {
    let trimmed = value.trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let s = OrgSpec::parse(
            "accounts=40,regions=17,days=30,start=2026-10-01,per_day=288,prefix=logs,skew=0.9",
        )
        .unwrap();
        assert_eq!((s.accounts, s.days, s.per_day), (40, 30, 288));
        assert_eq!(s.prefix, "logs/");
        assert!(OrgSpec::parse("acounts=4").is_err());
        assert!(OrgSpec::parse("per_day=2000").is_err());
    }
}
