//! The virtual org-shaped bucket (`--org BUCKET=SPEC`): keys are computed
//! from arithmetic, never stored, and each body is generated from its key.
//!
//! The key space is a six-level tree,
//! `ROOT / ACCOUNT/ CloudTrail/ REGION/ YYYY/MM/DD/ FILE`, where each level's
//! components are sorted and prefix-free, so byte order of keys equals the
//! order of index paths. Seeking to a bound is a binary search per level;
//! walking on is incrementing the path.

use std::borrow::Cow;
use std::cmp::Ordering;

use bytes::Bytes;
use time::{Date, Duration, OffsetDateTime};

use crate::body::{self, BodyInput};
use crate::bucket::{Bucket, KeyCursor, ObjectMeta};
use crate::hash::{hash_of, to_hex, unit};
use crate::spec::{min_size, OrgSpec, MAX_PER_DAY};

/// Regions in the order they are taken: the 17 enabled by default first,
/// then opt-in ones. A spec's regions are the first N, listed sorted.
pub const REGIONS: [&str; 30] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "sa-east-1",
    "af-south-1",
    "ap-east-1",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
];

const LEVELS: usize = 6;
const ACCOUNT: usize = 1;
const REGION: usize = 3;
const DAY: usize = 4;
const FILE: usize = 5;
/// Account IDs are one per band of this width, so they sort as indices do.
const ACCOUNT_BAND: u64 = 7_919_111;
const FILE_SALT: u64 = 0xf11e;
const SIZE_SALT: u64 = 0x5123;
const ETAG_SALT: u64 = 0xe7a6;

/// Indices per level: root, account, `CloudTrail/`, region, day, file slot.
pub type KeyPath = [usize; LEVELS];

/// A virtual bucket generated from an [`OrgSpec`].
pub struct OrgBucket {
    name: String,
    spec: OrgSpec,
    root: String,
    accounts: Vec<String>,
    account_dirs: Vec<String>,
    regions: Vec<&'static str>,
    region_dirs: Vec<String>,
    days: Vec<Date>,
    day_dirs: Vec<String>,
    day_stamps: Vec<String>,
    /// The skewed account's index and its objects per region-day.
    heavy: Option<(usize, u32)>,
}

/// How a level's component relates to the rest of a seek bound.
#[derive(Debug, PartialEq)]
enum Relation {
    /// Every key under the component sorts before the bound.
    Before,
    /// Every key under the component sorts at or after the bound.
    After,
    /// The bound continues inside the component, past this many bytes.
    Descends(usize),
}

fn relate(component: &[u8], rest: &[u8]) -> Relation {
    let n = component.len().min(rest.len());
    match component[..n].cmp(&rest[..n]) {
        Ordering::Less => Relation::Before,
        Ordering::Greater => Relation::After,
        Ordering::Equal if component.len() <= rest.len() => Relation::Descends(n),
        Ordering::Equal => Relation::After,
    }
}

impl OrgBucket {
    pub fn new(name: &str, spec: &OrgSpec) -> OrgBucket {
        let accounts: Vec<String> = (0..spec.accounts as u64)
            .map(|i| {
                let jitter = hash_of(&[spec.seed, i, 0xacc7]) % ACCOUNT_BAND;
                format!("{:012}", 100_000_000_000 + i * ACCOUNT_BAND + jitter)
            })
            .collect();
        let mut regions: Vec<&'static str> = REGIONS[..spec.regions as usize].to_vec();
        regions.sort_unstable();
        let days: Vec<Date> = (0..i64::from(spec.days))
            .map(|d| spec.start + Duration::days(d))
            .collect();
        let org = if spec.org.is_empty() {
            String::new()
        } else {
            format!("{}/", spec.org)
        };
        OrgBucket {
            name: name.to_string(),
            root: format!("{}AWSLogs/{org}", spec.prefix),
            account_dirs: accounts.iter().map(|a| format!("{a}/")).collect(),
            accounts,
            region_dirs: regions.iter().map(|r| format!("{r}/")).collect(),
            regions,
            day_dirs: days
                .iter()
                .map(|d| format!("{:04}/{:02}/{:02}/", d.year(), d.month() as u8, d.day()))
                .collect(),
            day_stamps: days
                .iter()
                .map(|d| format!("{:04}{:02}{:02}", d.year(), d.month() as u8, d.day()))
                .collect(),
            days,
            heavy: heavy_account(spec),
            spec: spec.clone(),
        }
    }

    /// Objects per region-day for one account.
    fn per_day(&self, account: usize) -> u32 {
        match self.heavy {
            Some((i, n)) if i == account => n,
            _ => self.spec.per_day,
        }
    }

    /// How many keys the bucket lists in all.
    pub fn total_keys(&self) -> u64 {
        let per_account: u64 = (0..self.accounts.len())
            .map(|a| u64::from(self.per_day(a)))
            .sum();
        per_account * self.regions.len() as u64 * self.days.len() as u64
    }

    fn count(&self, level: usize, path: &KeyPath) -> usize {
        match level {
            ACCOUNT => self.accounts.len(),
            REGION => self.regions.len(),
            DAY => self.days.len(),
            FILE => self.per_day(path[ACCOUNT]) as usize,
            _ => 1,
        }
    }

    fn component(&self, level: usize, path: &KeyPath) -> Cow<'_, str> {
        let i = path[level];
        match level {
            0 => Cow::Borrowed(&self.root),
            ACCOUNT => Cow::Borrowed(&self.account_dirs[i]),
            REGION => Cow::Borrowed(&self.region_dirs[i]),
            DAY => Cow::Borrowed(&self.day_dirs[i]),
            FILE => Cow::Owned(self.file_name(path)),
            _ => Cow::Borrowed("CloudTrail/"),
        }
    }

    /// The delivery minute of a file slot: slots spread evenly over the day,
    /// shifted per account-region so deliveries do not all align.
    fn slot_minute(&self, path: &KeyPath) -> i64 {
        let n = u64::from(self.per_day(path[ACCOUNT]));
        let spacing = u64::from(MAX_PER_DAY) / n;
        let offset =
            hash_of(&[self.spec.seed, path[ACCOUNT] as u64, path[REGION] as u64]) % spacing;
        (offset + path[FILE] as u64 * u64::from(MAX_PER_DAY) / n) as i64
    }

    /// The time in the file's name: when CloudTrail delivered it.
    pub fn delivered(&self, path: &KeyPath) -> OffsetDateTime {
        self.days[path[DAY]].midnight().assume_utc() + Duration::minutes(self.slot_minute(path))
    }

    fn path_hash(&self, path: &KeyPath, salt: u64) -> u64 {
        let p = path.map(|i| i as u64);
        hash_of(&[self.spec.seed, salt, p[ACCOUNT], p[REGION], p[DAY], p[FILE]])
    }

    fn file_name(&self, path: &KeyPath) -> String {
        let minute = self.slot_minute(path);
        let account = &self.accounts[path[ACCOUNT]];
        let region = self.regions[path[REGION]];
        let stamp = &self.day_stamps[path[DAY]];
        let random = random_suffix(self.path_hash(path, FILE_SALT));
        format!(
            "{account}_CloudTrail_{region}_{stamp}T{:02}{:02}Z_{random}.json.gz",
            minute / 60,
            minute % 60
        )
    }

    /// The full key of a path.
    pub fn key_of(&self, path: &KeyPath) -> String {
        let mut key = String::with_capacity(160);
        for level in 0..LEVELS {
            key.push_str(&self.component(level, path));
        }
        key
    }

    /// Body size: the spec's size ±25 %, never below one event's.
    fn size_of(&self, path: &KeyPath) -> u64 {
        let spread = 0.75 + 0.5 * unit(self.path_hash(path, SIZE_SALT));
        let floor = u64::from(min_size(self.spec.level));
        ((f64::from(self.spec.size) * spread) as u64).max(floor)
    }

    /// Metadata of a path. The ETag is a key hash, not the body's MD5:
    /// consistent between LIST, HEAD and GET, which is what clients compare.
    pub fn meta_of(&self, path: &KeyPath) -> ObjectMeta {
        let h1 = self.path_hash(path, ETAG_SALT);
        let h2 = self.path_hash(path, ETAG_SALT + 1);
        let mut digest = [0u8; 16];
        digest[..8].copy_from_slice(&h1.to_be_bytes());
        digest[8..].copy_from_slice(&h2.to_be_bytes());
        ObjectMeta {
            size: self.size_of(path),
            etag: to_hex(&digest),
            last_modified: self.delivered(path) + Duration::seconds(20 + (h1 % 60) as i64),
        }
    }

    /// The body of a path, exactly `meta_of(path).size` bytes.
    pub fn body_of(&self, path: &KeyPath) -> Vec<u8> {
        body::generate(&BodyInput {
            account: &self.accounts[path[ACCOUNT]],
            region: self.regions[path[REGION]],
            delivered: self.delivered(path),
            seed: self.path_hash(path, 0xb0d1),
            size: self.size_of(path) as usize,
            level: self.spec.level,
        })
    }

    /// The path of the first key ≥ `bound`.
    pub fn seek(&self, bound: &[u8]) -> Option<KeyPath> {
        let mut path = [0; LEVELS];
        self.seek_level(0, &mut path, bound).then_some(path)
    }

    /// Finds, at `level`, the first subtree holding a key ≥ `rest`.
    fn seek_level(&self, level: usize, path: &mut KeyPath, rest: &[u8]) -> bool {
        let n = self.count(level, path);
        let mut i = self.first_not_before(level, path, n, rest);
        while i < n {
            path[level] = i;
            match relate(self.component(level, path).as_bytes(), rest) {
                Relation::Before => {}
                Relation::After => {
                    path[level + 1..].fill(0);
                    return true;
                }
                Relation::Descends(len) if level == FILE => {
                    if len == rest.len() {
                        return true;
                    }
                }
                Relation::Descends(len) => {
                    if self.seek_level(level + 1, path, &rest[len..]) {
                        return true;
                    }
                }
            }
            i += 1;
        }
        false
    }

    /// Binary search for the first component at `level` not wholly before.
    fn first_not_before(&self, level: usize, path: &mut KeyPath, n: usize, rest: &[u8]) -> usize {
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            path[level] = mid;
            if relate(self.component(level, path).as_bytes(), rest) == Relation::Before {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The path of exactly `key`, if the bucket holds it.
    pub fn locate(&self, key: &str) -> Option<KeyPath> {
        self.seek(key.as_bytes()).filter(|p| self.key_of(p) == key)
    }

    /// A cursor at the first key ≥ `bound`.
    pub fn cursor(&self, bound: &[u8]) -> OrgCursor<'_> {
        let path = self.seek(bound);
        let key = path.as_ref().map(|p| self.key_of(p)).unwrap_or_default();
        OrgCursor {
            bucket: self,
            path,
            key,
        }
    }
}

/// The skewed account and its per-day count, so that it holds `skew` of all
/// objects (capped at one object a minute).
fn heavy_account(spec: &OrgSpec) -> Option<(usize, u32)> {
    if spec.skew <= 0.0 || spec.accounts < 2 {
        return None;
    }
    let others = f64::from(spec.accounts - 1) * f64::from(spec.per_day);
    let wanted = (spec.skew / (1.0 - spec.skew) * others).round() as u32;
    Some((
        (spec.accounts / 2) as usize,
        wanted.clamp(spec.per_day, MAX_PER_DAY),
    ))
}

/// 16 characters of `[0-9A-Za-z]`, like CloudTrail's file name suffix.
fn random_suffix(h: u64) -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(16);
    for mut part in [h, crate::hash::mix(h)] {
        for _ in 0..8 {
            out.push(ALPHABET[(part % 62) as usize] as char);
            part /= 62;
        }
    }
    out
}

/// Walks keys in order without holding any list.
pub struct OrgCursor<'a> {
    bucket: &'a OrgBucket,
    path: Option<KeyPath>,
    key: String,
}

impl OrgCursor<'_> {
    /// The path of the current key.
    pub fn path(&self) -> Option<&KeyPath> {
        self.path.as_ref()
    }
}

impl KeyCursor for OrgCursor<'_> {
    fn key(&self) -> Option<&str> {
        self.path.map(|_| self.key.as_str())
    }

    fn meta(&self) -> ObjectMeta {
        self.bucket
            .meta_of(self.path.as_ref().expect("cursor at a key"))
    }

    fn advance(&mut self) {
        let Some(mut path) = self.path else { return };
        for level in (0..LEVELS).rev() {
            path[level] += 1;
            if path[level] < self.bucket.count(level, &path) {
                path[level + 1..].fill(0);
                if level == FILE {
                    let dir_len = self.key.rfind('/').map_or(0, |i| i + 1);
                    self.key.truncate(dir_len);
                    self.key.push_str(&self.bucket.file_name(&path));
                } else {
                    self.key = self.bucket.key_of(&path);
                }
                self.path = Some(path);
                return;
            }
        }
        self.path = None;
    }
}

impl Bucket for OrgBucket {
    fn name(&self) -> &str {
        &self.name
    }
    fn created(&self) -> OffsetDateTime {
        self.days[0].midnight().assume_utc()
    }
    fn cursor_at<'a>(&'a self, bound: &[u8]) -> Box<dyn KeyCursor + 'a> {
        Box::new(self.cursor(bound))
    }
    fn meta(&self, key: &str) -> Option<ObjectMeta> {
        self.locate(key).map(|p| self.meta_of(&p))
    }
    fn body(&self, key: &str) -> Option<Bytes> {
        self.locate(key).map(|p| Bytes::from(self.body_of(&p)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::{list_page, Entry, ListParams};

    fn small() -> OrgBucket {
        OrgBucket::new(
            "b",
            &OrgSpec::parse("accounts=3,regions=3,days=2,per_day=5,skew=0.5").unwrap(),
        )
    }

    fn all_keys(b: &OrgBucket) -> Vec<String> {
        let mut c = b.cursor(b"");
        let mut keys = Vec::new();
        while let Some(k) = c.key() {
            keys.push(k.to_string());
            c.advance();
        }
        keys
    }

    #[test]
    fn walk_is_sorted_complete_and_seekable() {
        let b = small();
        let keys = all_keys(&b);
        assert_eq!(keys.len() as u64, b.total_keys());
        assert!(keys.windows(2).all(|w| w[0].as_bytes() < w[1].as_bytes()));
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(b.cursor(k.as_bytes()).key(), Some(k.as_str()));
            let mut past = k.clone().into_bytes();
            past.push(0);
            assert_eq!(b.cursor(&past).key(), keys.get(i + 1).map(String::as_str));
            assert!(b.locate(k).is_some());
        }
        assert!(b.locate("AWSLogs/nope").is_none());
    }

    #[test]
    fn delimiter_listing_gives_accounts() {
        let b = small();
        let p = ListParams {
            prefix: "AWSLogs/o-abcdefghij/",
            delimiter: Some("/"),
            max_keys: 1000,
            ..Default::default()
        };
        let page = list_page(&b, &p).unwrap();
        let expected: Vec<Entry> = b
            .account_dirs
            .iter()
            .map(|a| Entry::CommonPrefix(format!("AWSLogs/o-abcdefghij/{a}")))
            .collect();
        assert_eq!(page.entries, expected);
    }

    #[test]
    fn skewed_account_holds_its_share() {
        let b = small();
        let heavy = b.per_day(1) as f64;
        let share = heavy * 3.0 * 2.0 / b.total_keys() as f64;
        assert!((share - 0.5).abs() < 0.05, "{share}");
    }
}
