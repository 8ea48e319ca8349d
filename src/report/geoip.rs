//! GeoIP enrichment for `report --geoip FILE.mmdb`: classifies each
//! `sourceIPAddress`, looks public addresses up in MaxMind databases (City,
//! Country, ASN, ISP), and builds the `by_country` and `by_asn` reports and
//! the extra columns of `events.parquet`.
//!
//! Each distinct source string is classified and looked up once. Service
//! names, private and reserved addresses are never looked up. This module
//! reads the databases; it never writes files or prints.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rustc_hash::FxHashMap;
use serde::Deserialize;

use crate::events::{Chunk, Col, EventStore, Row};
use crate::report::findings::Countries;
use crate::report::{counts, group, strs, times, Column, Distinct, Key, Table, Tally};

/// What a `sourceIPAddress` value is, decided before any lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IpClass {
    /// Not an address: a service name such as `secretsmanager.amazonaws.com`
    /// or `AWS Internal`.
    Service,
    /// Private, loopback, link-local, CGNAT or unique-local.
    Private,
    /// Documentation, benchmarking, multicast, unspecified or otherwise
    /// reserved: not routable on the internet.
    Reserved,
    /// A public address: the only class that is looked up.
    Public,
    /// The record has no `sourceIPAddress`.
    Missing,
}

impl IpClass {
    /// The name used in the `ip_class` column.
    pub fn as_str(self) -> &'static str {
        match self {
            IpClass::Service => "service",
            IpClass::Private => "private",
            IpClass::Reserved => "reserved",
            IpClass::Public => "public",
            IpClass::Missing => "missing",
        }
    }
}

/// Classifies a `sourceIPAddress` value; for a public address, also returns
/// the address to look up (an IPv4-mapped IPv6 address becomes IPv4).
pub fn classify(source: Option<&str>) -> (IpClass, Option<IpAddr>) {
    let Some(s) = source else {
        return (IpClass::Missing, None);
    };
    let Ok(ip) = s.trim().parse::<IpAddr>() else {
        return (IpClass::Service, None);
    };
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let class = match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    };
    (class, (class == IpClass::Public).then_some(ip))
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn classify_v4(ip: Ipv4Addr) -> IpClass {
    const PRIVATE: [([u8; 4], u32); 6] = [
        ([10, 0, 0, 0], 8),
        ([172, 16, 0, 0], 12),
        ([192, 168, 0, 0], 16),
        ([127, 0, 0, 0], 8),    // loopback
        ([169, 254, 0, 0], 16), // link-local
        ([100, 64, 0, 0], 10),  // CGNAT (shared address space)
    ];
    const RESERVED: [([u8; 4], u32); 8] = [
        ([0, 0, 0, 0], 8),       // "this network"
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // TEST-NET-1
        ([198, 51, 100, 0], 24), // TEST-NET-2
        ([203, 0, 113, 0], 24),  // TEST-NET-3
        ([198, 18, 0, 0], 15),   // benchmarking
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, broadcast included
    ];
    if PRIVATE.iter().any(|&(n, p)| in_v4(ip, n, p)) {
        IpClass::Private
    } else if RESERVED.iter().any(|&(n, p)| in_v4(ip, n, p)) {
        IpClass::Reserved
    } else {
        IpClass::Public
    }
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

fn classify_v6(ip: Ipv6Addr) -> IpClass {
    const PRIVATE: [([u16; 8], u32); 4] = [
        ([0, 0, 0, 0, 0, 0, 0, 1], 128),     // loopback
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), // link-local
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), // site-local (deprecated)
        ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),  // unique local
    ];
    const RESERVED_IN_GLOBAL: [([u16; 8], u32); 4] = [
        ([0x2001, 0x0db8, 0, 0, 0, 0, 0, 0], 32), // documentation
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),      // documentation (RFC 9637)
        ([0x2001, 0x0002, 0, 0, 0, 0, 0, 0], 48), // benchmarking
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 32),      // Teredo
    ];
    if PRIVATE.iter().any(|&(n, p)| in_v6(ip, n, p)) {
        IpClass::Private
    } else if !in_v6(ip, [0x2000, 0, 0, 0, 0, 0, 0, 0], 3)
        || RESERVED_IN_GLOBAL.iter().any(|&(n, p)| in_v6(ip, n, p))
    {
        // Outside 2000::/3 (global unicast) is multicast, unspecified,
        // IPv4-compatible, discard or unassigned.
        IpClass::Reserved
    } else {
        IpClass::Public
    }
}

/// What the databases say about one public address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeoInfo {
    /// ISO 3166-1 alpha-2 code of the country the address is in.
    pub country_code: Option<String>,
    /// The country's English name.
    pub country_name: Option<String>,
    /// The city's English name, where the database has one.
    pub city: Option<String>,
    /// Autonomous system number.
    pub asn: Option<u32>,
    /// Autonomous system organization.
    pub as_org: Option<String>,
}

/// The fields read from any supported database; the others are skipped.
#[derive(Debug, Default, Deserialize)]
struct MmdbRecord {
    #[serde(default)]
    country: Option<Place>,
    #[serde(default)]
    registered_country: Option<Place>,
    #[serde(default)]
    city: Option<Place>,
    #[serde(default)]
    autonomous_system_number: Option<u32>,
    #[serde(default)]
    autonomous_system_organization: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Place {
    #[serde(default)]
    iso_code: Option<String>,
    #[serde(default)]
    names: Option<Names>,
}

#[derive(Debug, Default, Deserialize)]
struct Names {
    #[serde(default)]
    en: Option<String>,
}

/// One opened `.mmdb` file.
#[derive(Debug)]
struct GeoDb {
    path: PathBuf,
    reader: maxminddb::Reader<Vec<u8>>,
}

/// The databases given with `--geoip`, consulted in order: the first that
/// knows a field supplies it.
#[derive(Debug)]
pub struct GeoIp {
    dbs: Vec<GeoDb>,
}

impl GeoIp {
    /// Opens every file; an unreadable file or one that is not a MaxMind
    /// database is an error naming it.
    pub fn open(paths: &[PathBuf]) -> Result<GeoIp> {
        let dbs = paths
            .iter()
            .map(|p| open_db(p))
            .collect::<Result<Vec<_>>>()?;
        Ok(GeoIp { dbs })
    }

    /// Whether some database is an ASN or ISP database (by its type).
    pub fn has_asn(&self) -> bool {
        self.dbs.iter().any(|db| {
            let t = db.reader.metadata().database_type.to_ascii_lowercase();
            t.contains("asn") || t.contains("isp")
        })
    }

    /// Looks one address up in every database and merges the answers.
    pub fn lookup(&self, ip: IpAddr) -> Result<GeoInfo> {
        let mut info = GeoInfo::default();
        for db in &self.dbs {
            if ip.is_ipv6() && db.reader.metadata().ip_version == 4 {
                continue;
            }
            let rec: Option<MmdbRecord> = db
                .reader
                .lookup(ip)
                .and_then(|r| r.decode())
                .with_context(|| format!("--geoip {}: looking up {ip}", db.path.display()))?;
            if let Some(rec) = rec {
                merge(&mut info, rec);
            }
        }
        Ok(info)
    }

    /// Classifies and looks up every distinct source of `store`'s rows.
    pub fn annotate<'s>(&self, store: &'s EventStore) -> Result<Annotations<'s>> {
        let mut by_source: FxHashMap<&'s str, Located> = FxHashMap::default();
        let mut missing = None;
        let mut failed = None;
        store.for_each_row(|_, row| {
            if failed.is_some() {
                return;
            }
            let located = match store.get(row, Col::SourceIp) {
                Some(s) if !by_source.contains_key(s) => {
                    self.locate(Some(s)).map(|l| _ = by_source.insert(s, l))
                }
                None if missing.is_none() => self.locate(None).map(|l| missing = Some(l)),
                _ => Ok(()),
            };
            failed = located.err();
        });
        if let Some(e) = failed {
            return Err(e);
        }
        Ok(Annotations {
            by_source,
            missing: missing.unwrap_or_else(|| Located::new(IpClass::Missing, GeoInfo::default())),
            has_asn: self.has_asn(),
        })
    }

    /// Classifies one source and, if it is a public address, looks it up.
    pub fn locate(&self, source: Option<&str>) -> Result<Located> {
        let (class, ip) = classify(source);
        let info = match ip {
            Some(ip) => self.lookup(ip)?,
            None => GeoInfo::default(),
        };
        Ok(Located::new(class, info))
    }
}

fn open_db(path: &Path) -> Result<GeoDb> {
    let bytes = std::fs::read(path).with_context(|| format!("--geoip {}", path.display()))?;
    let reader = maxminddb::Reader::from_source(bytes)
        .with_context(|| format!("--geoip {}: not a MaxMind database (.mmdb)", path.display()))?;
    Ok(GeoDb {
        path: path.to_path_buf(),
        reader,
    })
}

fn merge(info: &mut GeoInfo, rec: MmdbRecord) {
    let name = |p: &Place| p.names.as_ref().and_then(|n| n.en.clone());
    // A country database may know only where a network is registered.
    if let Some(c) = rec
        .country
        .as_ref()
        .filter(|c| c.iso_code.is_some())
        .or(rec.registered_country.as_ref())
    {
        if info.country_code.is_none() && c.iso_code.is_some() {
            info.country_code = c.iso_code.clone();
            info.country_name = name(c);
        }
    }
    if info.city.is_none() {
        info.city = rec.city.as_ref().and_then(name);
    }
    if info.asn.is_none() && rec.autonomous_system_number.is_some() {
        info.asn = rec.autonomous_system_number;
        info.as_org = rec.autonomous_system_organization;
    }
}

/// A classified and looked-up source, with its report keys made once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub class: IpClass,
    pub info: GeoInfo,
    /// `by_country` key: the ISO code, or `(service)`, `(private)`,
    /// `(reserved)`, `(missing)`, `(unknown)`.
    pub country_key: String,
    /// `by_asn` key: the AS number in decimal, or a class in parentheses.
    pub asn_key: String,
}

impl Located {
    fn new(class: IpClass, info: GeoInfo) -> Located {
        let key = |found: Option<String>| match class {
            IpClass::Public => found.unwrap_or_else(|| "(unknown)".to_string()),
            other => format!("({})", other.as_str()),
        };
        Located {
            class,
            country_key: key(info.country_code.clone()),
            asn_key: key(info.asn.map(|a| a.to_string())),
            info,
        }
    }
}

/// Every distinct source of a store, located.
#[derive(Debug)]
pub struct Annotations<'s> {
    by_source: FxHashMap<&'s str, Located>,
    missing: Located,
    has_asn: bool,
}

impl<'s> Annotations<'s> {
    /// What is known of a row's source.
    pub fn get(&self, store: &EventStore, row: &Row) -> &Located {
        self.source(store.get(row, Col::SourceIp))
    }

    /// What is known of a `sourceIPAddress` value.
    pub fn source(&self, source: Option<&str>) -> &Located {
        source
            .and_then(|s| self.by_source.get(s))
            .unwrap_or(&self.missing)
    }

    /// Whether an ASN database was given (then `by_asn` is reported).
    pub fn has_asn(&self) -> bool {
        self.has_asn
    }

    /// Access counts per country, with the unlocated classes as rows of
    /// their own; sorted by events descending, then code.
    pub fn by_country(&self, store: &EventStore) -> Table {
        let g = group(store, LOCATED_DISTINCT, |r| {
            let l = self.get(store, r);
            Some((
                l.country_key.as_str(),
                l.info.country_name.as_deref().unwrap_or(""),
            ))
        });
        located_table("by_country", ["country", "country_name"], &g)
    }

    /// Access counts per autonomous system, like [`Self::by_country`].
    pub fn by_asn(&self, store: &EventStore) -> Table {
        let g = group(store, LOCATED_DISTINCT, |r| {
            let l = self.get(store, r);
            Some((l.asn_key.as_str(), l.info.as_org.as_deref().unwrap_or("")))
        });
        located_table("by_asn", ["asn", "organization"], &g)
    }

    /// The columns appended to the events table for a chunk's rows.
    pub fn event_columns(&self, chunk: &Chunk<'_, '_>) -> Vec<(&'static str, Column)> {
        let located: Vec<&Located> = chunk
            .rows
            .iter()
            .map(|r| self.source(chunk.get(r, Col::SourceIp)))
            .collect();
        let col = |f: &dyn Fn(&Located) -> Option<String>| {
            Column::Str(located.iter().map(|l| f(l)).collect())
        };
        vec![
            ("ip_class", col(&|l| Some(l.class.as_str().to_string()))),
            ("country", col(&|l| l.info.country_code.clone())),
            ("country_name", col(&|l| l.info.country_name.clone())),
            ("city", col(&|l| l.info.city.clone())),
            ("asn", col(&|l| l.info.asn.map(|a| a.to_string()))),
            ("as_org", col(&|l| l.info.as_org.clone())),
        ]
    }
}

impl Countries for Annotations<'_> {
    fn country(&self, source_ip: &str) -> Option<&str> {
        self.by_source
            .get(source_ip)
            .and_then(|l| l.info.country_code.as_deref())
    }
}

/// The distinct counts [`located_table`] shows.
const LOCATED_DISTINCT: Distinct = Distinct {
    secrets: false,
    principals: true,
    source_ips: true,
};

fn located_table(name: &'static str, keys: [&'static str; 2], g: &[(Key<'_>, Tally)]) -> Table {
    Table {
        name,
        columns: vec![
            (keys[0], strs(g, |k| k.0)),
            (keys[1], strs(g, |k| k.1)),
            ("events", counts(g, |t| t.events)),
            ("failed", counts(g, |t| t.failed)),
            ("principals", counts(g, |t| t.principals)),
            ("source_ips", counts(g, |t| t.source_ips)),
            ("first_seen", times(g, |t| t.first)),
            ("last_seen", times(g, |t| t.last)),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> IpClass {
        classify(Some(s)).0
    }

    #[test]
    fn service_names_are_not_addresses() {
        for s in [
            "secretsmanager.amazonaws.com",
            "AWS Internal",
            "lambda.amazonaws.com",
            "",
            "1.2.3",
        ] {
            assert_eq!(class(s), IpClass::Service, "{s}");
        }
        assert_eq!(classify(None), (IpClass::Missing, None));
    }

    #[test]
    fn private_and_reserved_v4_are_never_looked_up() {
        let private = [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
        ];
        for s in private {
            assert_eq!(classify(Some(s)), (IpClass::Private, None), "{s}");
        }
        let reserved = [
            "0.0.0.0",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.19.0.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ];
        for s in reserved {
            assert_eq!(classify(Some(s)), (IpClass::Reserved, None), "{s}");
        }
        for s in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "192.169.0.1",
            "52.94.76.1",
        ] {
            assert_eq!(
                classify(Some(s)),
                (IpClass::Public, Some(s.parse().unwrap())),
                "{s}"
            );
        }
    }

    #[test]
    fn v6_classes_and_mapped_v4() {
        for s in [
            "::1",
            "fe80::1",
            "fd00::1",
            "fc12:3456::1",
            "::ffff:10.0.0.1",
        ] {
            assert_eq!(class(s), IpClass::Private, "{s}");
        }
        for s in [
            "::",
            "ff02::1",
            "2001:db8::1",
            "3fff::1",
            "2001:2::1",
            "100::1",
            "::ffff:192.0.2.1",
        ] {
            assert_eq!(class(s), IpClass::Reserved, "{s}");
        }
        assert_eq!(
            classify(Some("2001:4860:4860::8888")),
            (
                IpClass::Public,
                Some("2001:4860:4860::8888".parse().unwrap())
            )
        );
        assert_eq!(
            classify(Some("::ffff:8.8.8.8")),
            (IpClass::Public, Some("8.8.8.8".parse().unwrap()))
        );
    }

    #[test]
    fn keys_name_the_class_when_there_is_no_answer() {
        let l = Located::new(IpClass::Service, GeoInfo::default());
        assert_eq!(
            (l.country_key.as_str(), l.asn_key.as_str()),
            ("(service)", "(service)")
        );
        let l = Located::new(IpClass::Public, GeoInfo::default());
        assert_eq!(l.country_key, "(unknown)");
        let info = GeoInfo {
            country_code: Some("US".into()),
            asn: Some(15169),
            ..GeoInfo::default()
        };
        let l = Located::new(IpClass::Public, info);
        assert_eq!(
            (l.country_key.as_str(), l.asn_key.as_str()),
            ("US", "15169")
        );
    }

    #[test]
    fn a_file_that_is_not_a_database_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("not.mmdb");
        std::fs::write(&p, b"hello").unwrap();
        let err = format!("{:#}", GeoIp::open(std::slice::from_ref(&p)).unwrap_err());
        assert!(err.contains(&p.display().to_string()), "{err}");
        assert!(err.contains("not a MaxMind database"), "{err}");
        let missing = dir.path().join("missing.mmdb");
        let err = format!(
            "{:#}",
            GeoIp::open(std::slice::from_ref(&missing)).unwrap_err()
        );
        assert!(err.contains(&missing.display().to_string()), "{err}");
    }
}
