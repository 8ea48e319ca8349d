//! Allowlists: what the user knows to be good, so `hunt` and `findings`
//! can set its matches apart instead of flagging them. A suppressed match
//! is counted per entry and written out, never dropped in silence.
//!
//! The file is YAML or JSON (JSON is read as YAML):
//!
//! ```yaml
//! allow:
//!   - name: break-glass role            # optional label, used in outputs
//!     principals: ["arn:aws:iam::*:role/BreakGlass*"]   # exact or glob
//!     source_ips: ["203.0.113.0/24", "198.51.100.7"]    # addresses or CIDRs
//!     user_agents: ["Nessus*"]          # exact or glob
//!     accounts: ["111122223333"]
//!     rule: 8ad1600d-e9dc-4251-b0ee-a65268f29add        # optional: only this rule
//!     from: 2026-01-01                  # optional: events at or after
//!     until: 2026-02-01                 # optional: events before
//!     expires: 2026-06-30               # optional: after this date the entry stops applying
//! ```
//!
//! Within an entry every kind given must match (one of its values); an entry
//! with only `rule` silences that rule. Globs compare case-insensitively
//! (ARNs and agents vary in case); `*` crosses `/` and `:`. An entry past its
//! `expires` date no longer suppresses anything and is warned about.

use std::net::IpAddr;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use globset::{GlobBuilder, GlobMatcher};
use ipnet::IpNet;
use jiff::Timestamp;
use yaml_rust2::{Yaml, YamlLoader};

use crate::window::parse_event_time;

/// What one match is about, as an allowlist sees it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Subject<'a> {
    /// The rule's id (a Sigma rule id, or a findings rule name).
    pub rule: &'a str,
    pub time_us: i64,
    pub principal: Option<&'a str>,
    pub source_ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub account: Option<&'a str>,
}

/// A loaded allowlist.
#[derive(Debug, Default)]
pub struct Allowlist {
    pub entries: Vec<AllowEntry>,
}

/// One known-good pattern.
#[derive(Debug)]
pub struct AllowEntry {
    /// The entry's `name`, else `entry N` (1-based).
    pub name: String,
    principals: Vec<TextPattern>,
    source_ips: Vec<IpNet>,
    user_agents: Vec<TextPattern>,
    accounts: Vec<String>,
    rules: Vec<String>,
    from_us: Option<i64>,
    until_us: Option<i64>,
    /// When the entry stops applying, µs since the epoch.
    pub expires_us: Option<i64>,
    /// The `expires` text as written, for messages.
    pub expires_text: Option<String>,
}

/// An exact value or a glob, compared case-insensitively.
#[derive(Debug)]
struct TextPattern(GlobMatcher);

impl TextPattern {
    fn new(text: &str) -> Result<TextPattern> {
        let glob = GlobBuilder::new(text)
            .case_insensitive(true)
            .literal_separator(false)
            .backslash_escape(true)
            .build()
            .with_context(|| format!("bad glob '{text}'"))?;
        Ok(TextPattern(glob.compile_matcher()))
    }

    fn matches(&self, value: &str) -> bool {
        self.0.is_match(value)
    }
}

impl Allowlist {
    /// Reads an allowlist file.
    pub fn load(path: &Path) -> Result<Allowlist> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading allowlist {}", path.display()))?;
        Allowlist::parse(&text).with_context(|| format!("allowlist {}", path.display()))
    }

    /// Parses allowlist text (YAML or JSON).
    pub fn parse(text: &str) -> Result<Allowlist> {
        let docs = YamlLoader::load_from_str(text).map_err(|e| anyhow!("syntax: {e}"))?;
        let Some(doc) = docs.first() else {
            return Ok(Allowlist::default());
        };
        let items = match &doc["allow"] {
            Yaml::Array(items) => items,
            Yaml::BadValue | Yaml::Null => bail!("no 'allow:' list"),
            _ => bail!("'allow' must be a list of entries"),
        };
        let entries = items
            .iter()
            .enumerate()
            .map(|(i, item)| AllowEntry::parse(item, i + 1))
            .collect::<Result<Vec<_>>>()?;
        Ok(Allowlist { entries })
    }

    /// The first entry that applies to `subject`, by position, given the
    /// time `now_us` the run started (expired entries never apply).
    pub fn allowing(&self, subject: &Subject<'_>, now_us: i64) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| !e.expired(now_us) && e.matches(subject))
    }

    /// Entries past their expiry at `now_us`.
    pub fn expired(&self, now_us: i64) -> impl Iterator<Item = &AllowEntry> {
        self.entries.iter().filter(move |e| e.expired(now_us))
    }

    /// Warns on stderr about every expired entry.
    pub fn warn_expired(&self, now_us: i64) {
        for e in self.expired(now_us) {
            eprintln!(
                "ctscan: warning: allowlist entry '{}' expired on {} and no longer suppresses anything; renew or remove it",
                crate::report::sanitize::terminal(&e.name),
                e.expires_text.as_deref().unwrap_or("?")
            );
        }
    }
}

impl AllowEntry {
    fn parse(item: &Yaml, position: usize) -> Result<AllowEntry> {
        let at = || format!("entry {position}");
        if item.as_hash().is_none() {
            bail!("{}: not a map", at());
        }
        let list = |key: &str| -> Result<Vec<String>> {
            match &item[key] {
                Yaml::BadValue | Yaml::Null => Ok(Vec::new()),
                Yaml::Array(values) => values.iter().map(|v| scalar(v, key)).collect(),
                one => Ok(vec![scalar(one, key)?]),
            }
        };
        let time = |key: &str| -> Result<Option<(i64, String)>> {
            match &item[key] {
                Yaml::BadValue | Yaml::Null => Ok(None),
                v => {
                    let text = scalar(v, key)?;
                    let t = parse_date(&text).with_context(|| format!("{}: {key}", at()))?;
                    Ok(Some((t.as_microsecond(), text)))
                }
            }
        };
        let mut rules = list("rules")?;
        rules.extend(list("rule")?);
        let expires = time("expires")?;
        let entry = AllowEntry {
            name: match &item["name"] {
                Yaml::BadValue | Yaml::Null => at(),
                v => scalar(v, "name")?,
            },
            principals: text_patterns(list("principals")?).with_context(at)?,
            source_ips: list("source_ips")?
                .iter()
                .map(|s| parse_net(s))
                .collect::<Result<_>>()
                .with_context(at)?,
            user_agents: text_patterns(list("user_agents")?).with_context(at)?,
            accounts: list("accounts")?,
            rules,
            from_us: time("from")?.map(|t| t.0),
            until_us: time("until")?.map(|t| t.0),
            expires_us: expires.as_ref().map(|t| t.0),
            expires_text: expires.map(|t| t.1),
        };
        entry.check_known_keys(item, position)?;
        if entry.is_empty() {
            bail!("{}: names nothing to allow (principals, source_ips, user_agents, accounts or rule)", at());
        }
        Ok(entry)
    }

    fn check_known_keys(&self, item: &Yaml, position: usize) -> Result<()> {
        const KNOWN: [&str; 11] = [
            "name",
            "principals",
            "source_ips",
            "user_agents",
            "accounts",
            "rule",
            "rules",
            "from",
            "until",
            "expires",
            "reason",
        ];
        for key in item.as_hash().into_iter().flat_map(|h| h.keys()) {
            let key = key.as_str().unwrap_or("?");
            if !KNOWN.contains(&key) {
                bail!(
                    "entry {position}: unknown key '{key}' (known: {})",
                    KNOWN.join(", ")
                );
            }
        }
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.principals.is_empty()
            && self.source_ips.is_empty()
            && self.user_agents.is_empty()
            && self.accounts.is_empty()
            && self.rules.is_empty()
    }

    /// Whether the entry is past its expiry at `now_us`.
    pub fn expired(&self, now_us: i64) -> bool {
        self.expires_us.is_some_and(|t| now_us >= t)
    }

    /// Whether every kind the entry names matches `s`.
    pub fn matches(&self, s: &Subject<'_>) -> bool {
        let texts = |patterns: &[TextPattern], value: Option<&str>| {
            patterns.is_empty() || value.is_some_and(|v| patterns.iter().any(|p| p.matches(v)))
        };
        let ip_ok = self.source_ips.is_empty()
            || s.source_ip
                .and_then(|ip| ip.trim().parse::<IpAddr>().ok())
                .is_some_and(|ip| self.source_ips.iter().any(|n| n.contains(&ip)));
        let account_ok = self.accounts.is_empty()
            || s.account
                .is_some_and(|a| self.accounts.iter().any(|x| x == a));
        let rule_ok =
            self.rules.is_empty() || self.rules.iter().any(|r| r.eq_ignore_ascii_case(s.rule));
        let time_ok = self.from_us.is_none_or(|t| s.time_us >= t)
            && self.until_us.is_none_or(|t| s.time_us < t);
        rule_ok
            && time_ok
            && ip_ok
            && account_ok
            && texts(&self.principals, s.principal)
            && texts(&self.user_agents, s.user_agent)
    }
}

fn scalar(v: &Yaml, key: &str) -> Result<String> {
    match v {
        Yaml::String(s) | Yaml::Real(s) => Ok(s.clone()),
        Yaml::Integer(i) => Ok(i.to_string()),
        Yaml::Boolean(b) => Ok(b.to_string()),
        _ => bail!("'{key}' must be text or a list of text"),
    }
}

fn text_patterns(values: Vec<String>) -> Result<Vec<TextPattern>> {
    values.iter().map(|v| TextPattern::new(v)).collect()
}

/// An address or a network: `10.0.0.0/8`, `203.0.113.7`, `2001:db8::/32`.
fn parse_net(text: &str) -> Result<IpNet> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    text.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| anyhow!("'{text}' is not an IP address or CIDR"))
}

/// A date (`2026-01-01`, midnight UTC) or an RFC 3339 timestamp.
fn parse_date(text: &str) -> Result<Timestamp> {
    if let Ok(date) = text.trim().parse::<jiff::civil::Date>() {
        return Ok(date.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp());
    }
    parse_event_time(text).ok_or_else(|| anyhow!("'{text}' is not a date or RFC 3339 time"))
}

#[cfg(test)]
mod tests;
