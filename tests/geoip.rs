//! `report --geoip`: exact lookups in databases built with known answers,
//! `by_country`/`by_asn` counts and the events' location columns on a
//! constructed mirror, the findings that GeoIP enables, and a check of the
//! real GeoLite2 City database that `maxminddb-geolite2` ships.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use ctscan::report::geoip::{GeoInfo, GeoIp, IpClass};

use crate::util::*;

/// Builds `test-city.mmdb` and `test-asn.mmdb` with the fixture script.
fn test_dbs() -> (TestDir, PathBuf, PathBuf) {
    let dir = TestDir::new();
    let script = root().join("tests/fixtures/geoip/build_test_mmdb.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(dir.path())
        .output()
        .unwrap_or_else(|e| {
            panic!("python3 is needed to build the test GeoIP databases ({e}); install Python 3 and run scripts/install-test-deps.sh")
        });
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let (city, asn) = (dir.join("test-city.mmdb"), dir.join("test-asn.mmdb"));
    (dir, city, asn)
}

fn info(code: &str, name: &str, city: Option<&str>, asn: Option<(u32, &str)>) -> GeoInfo {
    GeoInfo {
        country_code: (!code.is_empty()).then(|| code.to_string()),
        country_name: (!name.is_empty()).then(|| name.to_string()),
        city: city.map(str::to_string),
        asn: asn.map(|a| a.0),
        as_org: asn.map(|a| a.1.to_string()),
    }
}

#[test]
fn geoip_lookups_match_the_built_databases_exactly() {
    let (_dir, city, asn) = test_dbs();
    let geo = GeoIp::open(&[city.clone(), asn.clone()]).unwrap();
    assert!(geo.has_asn());
    assert!(!GeoIp::open(std::slice::from_ref(&city)).unwrap().has_asn());
    let transit = Some((64500, "Example Transit"));
    let cases = [
        ("1.2.3.4", info("DE", "Germany", Some("Berlin"), transit)),
        (
            "5.6.200.1",
            info(
                "FR",
                "France",
                Some("Paris"),
                Some((64501, "Example Cloud")),
            ),
        ),
        ("7.7.7.7", info("JP", "Japan", None, transit)),
        ("9.9.9.9", info("CH", "Switzerland", None, None)),
        // An IPv6 address: the ASN database is IPv4-only.
        ("2a00:1450::1", info("IE", "Ireland", Some("Dublin"), None)),
        (
            "::ffff:1.2.3.9",
            info("DE", "Germany", Some("Berlin"), transit),
        ),
        ("4.4.4.4", GeoInfo::default()),
    ];
    for (ip, want) in cases {
        let l = geo.locate(Some(ip)).unwrap();
        assert_eq!((l.class, &l.info), (IpClass::Public, &want), "{ip}");
    }
    // In the database as "XX", but never looked up.
    for (ip, class) in [
        ("10.1.2.3", IpClass::Private),
        ("203.0.113.5", IpClass::Reserved),
        ("secretsmanager.amazonaws.com", IpClass::Service),
        ("AWS Internal", IpClass::Service),
    ] {
        let l = geo.locate(Some(ip)).unwrap();
        assert_eq!((l.class, &l.info), (class, &GeoInfo::default()), "{ip}");
    }
}

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const BOB: &str = "arn:aws:iam::111122223333:user/bob";

fn record(i: usize, time: &str, principal: &str, ip: &str, secret: &str, error: bool) -> String {
    let error = if error {
        r#","errorCode":"AccessDenied","errorMessage":"denied""#
    } else {
        ""
    };
    format!(
        r#"{{"eventVersion":"1.09","eventTime":"{time}","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","userIdentity":{{"type":"IAMUser","arn":"{principal}"}},"requestParameters":{{"secretId":"{secret}"}},"sourceIPAddress":"{ip}","eventID":"geo-{i:02}"{error}}}"#
    )
}

/// A mirror with one object holding every case of the test databases.
fn mirror() -> TestDir {
    let rows: [(&str, &str, &str, &str, bool); 14] = [
        ("2026-01-01T09:00:00Z", ALICE, "1.2.3.4", "prod/db", false),
        ("2026-01-01T10:00:00Z", ALICE, "1.2.3.5", "prod/db", false),
        ("2026-01-01T11:00:00Z", BOB, "1.2.3.4", "prod/db", true),
        ("2026-01-01T11:10:00Z", BOB, "1.2.3.4", "prod/db", false),
        ("2026-01-02T09:00:00Z", BOB, "5.6.7.8", "prod/api", false),
        (
            "2026-01-02T09:30:00Z",
            ALICE,
            "2a00:1450::1",
            "prod/db",
            false,
        ),
        (
            "2026-01-03T09:00:00Z",
            ALICE,
            "secretsmanager.amazonaws.com",
            "prod/db",
            false,
        ),
        (
            "2026-01-03T10:00:00Z",
            BOB,
            "AWS Internal",
            "prod/db",
            false,
        ),
        ("2026-01-04T09:00:00Z", ALICE, "10.1.2.3", "prod/db", false),
        (
            "2026-01-04T10:00:00Z",
            ALICE,
            "203.0.113.5",
            "prod/db",
            false,
        ),
        ("2026-01-05T09:00:00Z", BOB, "4.4.4.4", "prod/db", false),
        ("2026-01-05T10:00:00Z", BOB, "9.9.9.9", "prod/db", false),
        ("2026-01-20T08:00:00Z", BOB, "7.7.7.7", "prod/db", false),
        (
            "2026-01-20T09:00:00Z",
            ALICE,
            "::ffff:1.2.3.9",
            "prod/db",
            false,
        ),
    ];
    let records: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| record(i, r.0, r.1, r.2, r.3, r.4))
        .collect();
    let dir = TestDir::new();
    dir.write_gz(
        "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/20/trail.json.gz",
        &format!(r#"{{"Records":[{}]}}"#, records.join(",")),
    );
    dir
}

fn run(src: &Path, extra: &[&str]) -> TestDir {
    let out = TestDir::new();
    let mut args = vec![
        src.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "-q",
    ];
    args.extend(extra);
    let (code, stdout, stderr) = outputs(&ctscan(&args));
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    out
}

fn table(out: &Path, name: &str, cols: &[&str]) -> Vec<Vec<String>> {
    Csv::read(&out.join(format!("{name}.csv")))
        .maps()
        .iter()
        .map(|m| cols.iter().map(|c| m[*c].clone()).collect())
        .collect()
}

fn strings(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

#[test]
fn geoip_by_country_and_by_asn_count_a_mirror_exactly() {
    let (_dbs, city, asn) = test_dbs();
    let src = mirror();
    let (city, asn) = (city.to_str().unwrap(), asn.to_str().unwrap());
    let out = run(src.path(), &["--geoip", city, "--geoip", asn]);
    let cols = [
        "country",
        "country_name",
        "events",
        "failed",
        "principals",
        "source_ips",
        "first_seen",
        "last_seen",
    ];
    let t1 = "2026-01-01T09:00:00Z";
    assert_eq!(
        table(out.path(), "by_country", &cols),
        strings(&[
            &[
                "DE",
                "Germany",
                "5",
                "1",
                "2",
                "3",
                t1,
                "2026-01-20T09:00:00Z"
            ],
            &[
                "(service)",
                "",
                "2",
                "0",
                "2",
                "2",
                "2026-01-03T09:00:00Z",
                "2026-01-03T10:00:00Z"
            ],
            &[
                "(private)",
                "",
                "1",
                "0",
                "1",
                "1",
                "2026-01-04T09:00:00Z",
                "2026-01-04T09:00:00Z"
            ],
            &[
                "(reserved)",
                "",
                "1",
                "0",
                "1",
                "1",
                "2026-01-04T10:00:00Z",
                "2026-01-04T10:00:00Z"
            ],
            &[
                "(unknown)",
                "",
                "1",
                "0",
                "1",
                "1",
                "2026-01-05T09:00:00Z",
                "2026-01-05T09:00:00Z"
            ],
            &[
                "CH",
                "Switzerland",
                "1",
                "0",
                "1",
                "1",
                "2026-01-05T10:00:00Z",
                "2026-01-05T10:00:00Z"
            ],
            &[
                "FR",
                "France",
                "1",
                "0",
                "1",
                "1",
                "2026-01-02T09:00:00Z",
                "2026-01-02T09:00:00Z"
            ],
            &[
                "IE",
                "Ireland",
                "1",
                "0",
                "1",
                "1",
                "2026-01-02T09:30:00Z",
                "2026-01-02T09:30:00Z"
            ],
            &[
                "JP",
                "Japan",
                "1",
                "0",
                "1",
                "1",
                "2026-01-20T08:00:00Z",
                "2026-01-20T08:00:00Z"
            ],
        ])
    );
    assert_eq!(
        table(
            out.path(),
            "by_asn",
            &[
                "asn",
                "organization",
                "events",
                "failed",
                "principals",
                "source_ips"
            ]
        ),
        strings(&[
            &["64500", "Example Transit", "6", "1", "2", "4"],
            &["(unknown)", "", "3", "0", "2", "3"],
            &["(service)", "", "2", "0", "2", "2"],
            &["(private)", "", "1", "0", "1", "1"],
            &["(reserved)", "", "1", "0", "1", "1"],
            &["64501", "Example Cloud", "1", "0", "1", "1"],
        ])
    );
    let pq = read_parquet(&out.join("by_country.parquet"));
    assert_eq!(pq.rows, 9);

    // Every event carries its location in events.parquet.
    let events = read_parquet(&out.join("events.parquet"));
    let cell = |row: &BTreeMap<String, parquet::record::Field>, c: &str| match &row[c] {
        parquet::record::Field::Str(s) => s.clone(),
        parquet::record::Field::Null => "-".to_string(),
        other => panic!("{c}: {other:?}"),
    };
    let located: Vec<String> = events
        .values
        .iter()
        .map(|r| {
            ["source_ip", "ip_class", "country", "city", "asn", "as_org"]
                .map(|c| cell(r, c))
                .join(" ")
        })
        .collect();
    assert_eq!(
        located,
        [
            "1.2.3.4 public DE Berlin 64500 Example Transit",
            "1.2.3.5 public DE Berlin 64500 Example Transit",
            "1.2.3.4 public DE Berlin 64500 Example Transit",
            "1.2.3.4 public DE Berlin 64500 Example Transit",
            "5.6.7.8 public FR Paris 64501 Example Cloud",
            "2a00:1450::1 public IE Dublin - -",
            "secretsmanager.amazonaws.com service - - - -",
            "AWS Internal service - - - -",
            "10.1.2.3 private - - - -",
            "203.0.113.5 reserved - - - -",
            "4.4.4.4 public - - - -",
            "9.9.9.9 public CH - - -",
            "7.7.7.7 public JP - 64500 Example Transit",
            "::ffff:1.2.3.9 public DE Berlin 64500 Example Transit",
        ]
    );
}

#[test]
fn geoip_findings_include_new_countries_only_with_a_database() {
    let (_dbs, city, _asn) = test_dbs();
    let src = mirror();
    let cols = [
        "rule",
        "severity",
        "time",
        "principal",
        "secret",
        "source_ip",
    ];
    let with = run(src.path(), &["--geoip", city.to_str().unwrap()]);
    assert!(!with.join("by_asn.csv").exists(), "no ASN database given");
    assert_eq!(
        table(with.path(), "findings", &cols),
        strings(&[
            &[
                "denied-then-read",
                "high",
                "2026-01-01T11:10:00Z",
                BOB,
                "prod/db",
                "1.2.3.4"
            ],
            &[
                "new-country",
                "high",
                "2026-01-20T08:00:00Z",
                BOB,
                "prod/db",
                "7.7.7.7"
            ],
            &[
                "new-source-ip",
                "low",
                "2026-01-20T08:00:00Z",
                BOB,
                "prod/db",
                "7.7.7.7"
            ],
            &[
                "new-source-ip",
                "low",
                "2026-01-20T09:00:00Z",
                ALICE,
                "prod/db",
                "::ffff:1.2.3.9"
            ],
        ])
    );
    let evidence = &Csv::read(&with.join("findings.csv")).maps()[1]["evidence"];
    assert_eq!(
        evidence,
        &format!("first request by {BOB} from JP (7.7.7.7) after the 14d baseline (2026-01-01T09:00:00Z..2026-01-15T09:00:00Z); countries before: CH, DE, FR")
    );

    let pq = read_parquet(&with.join("findings.parquet"));
    assert_eq!(pq.rows, 4);
    let time = pq.columns.iter().find(|c| c.0 == "time").unwrap();
    assert!(time.2.contains("Timestamp"), "{time:?}");
    // Shown on the terminal too.
    let city = city.to_str().unwrap();
    let (code, stdout, stderr) = outputs(&ctscan(&[src.path().to_str().unwrap(), "--geoip", city]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\nby_country (top 9 of 9)\n"), "{stdout}");
    assert!(stdout.contains("\nfindings (top 4 of 4)\n"), "{stdout}");

    let without = run(src.path(), &[]);
    assert!(!without.join("by_country.csv").exists());
    let rules: Vec<String> = table(without.path(), "findings", &["rule"])
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(
        rules,
        ["denied-then-read", "new-source-ip", "new-source-ip"]
    );
    let events = read_parquet(&without.join("events.parquet"));
    assert!(!events.columns.iter().any(|c| c.0 == "country"));
}

#[test]
fn geoip_rejects_a_file_that_is_not_a_database() {
    let dir = TestDir::new();
    let bad = dir.write("GeoLite2-City.mmdb", b"not a database");
    let src = mirror();
    let (code, stdout, stderr) = outputs(&ctscan(&[
        src.path().to_str().unwrap(),
        "--geoip",
        bad.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stderr.contains(&format!(
            "--geoip {}: not a MaxMind database",
            bad.display()
        )),
        "{stderr}"
    );
    assert!(!stdout.contains("by_principal"), "{stdout}");
}

/// Where `maxminddb-geolite2` keeps its GeoLite2 City database, if installed.
fn geolite2_city() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import _maxminddb_geolite2 as m; print(m.geolite2_database())",
        ])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    (out.status.success() && path.is_file()).then_some(path)
}

#[test]
fn geoip_real_geolite2_city_places_well_known_addresses() {
    let Some(db) = geolite2_city() else {
        println!("skipped: the PyPI package maxminddb-geolite2 is not installed (scripts/install-test-deps.sh installs it)");
        return;
    };
    let geo = GeoIp::open(&[db]).unwrap();
    assert!(!geo.has_asn());
    // What the 2018-07 GeoLite2 City database shipped by the package says.
    let cases = [
        ("8.8.8.8", "US", "United States", None),
        ("1.1.1.1", "AU", "Australia", Some("Research")),
        ("81.2.69.142", "GB", "United Kingdom", Some("Willesden")),
        ("200.160.2.3", "BR", "Brazil", None),
        ("185.199.108.153", "NL", "Netherlands", None),
        (
            "2001:4860:4860::8888",
            "US",
            "United States",
            Some("Mountain View"),
        ),
    ];
    for (ip, code, name, city) in cases {
        let l = geo.locate(Some(ip)).unwrap();
        assert_eq!(l.class, IpClass::Public, "{ip}");
        assert_eq!(
            (
                l.info.country_code.as_deref(),
                l.info.country_name.as_deref(),
                l.info.city.as_deref()
            ),
            (Some(code), Some(name), city),
            "{ip}"
        );
    }
}
