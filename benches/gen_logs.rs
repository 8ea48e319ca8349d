//! Writes a realistic CloudTrail mirror in the S3 layout, plus the ground
//! truth of what it wrote, for tests and benchmarks.
//!
//! `cargo run --release --example gen-logs -- --out DIR --truth FILE [--size-mb N] [--days D] [--seed S]
//!  [--mode cloudtrail|exported] [--utf8-share PERMILLE] [--escape]`
//!
//! `--mode exported` writes a corpus unlike the default one: gzip level 6
//! instead of 1, and a block of constant strings in every record, so it
//! compresses better and the floor is relatively faster. `--utf8-share N`
//! gives N‰ of records a field of non-ASCII text (and `&`, `<`, `>`), written
//! as raw UTF-8; `--escape` writes the same corpus (same seed, same records)
//! with every non-ASCII character and `&<>` as `\uXXXX`, as Python's
//! `json.dumps` and Go's encoder do, to measure escaped input against raw.
//!
//! The mirror mixes services (Secrets Manager reads are about 2% of records),
//! many principals and addresses, files from a few KB to several MB, an
//! organization trail beside a single-account trail, digest and Insights
//! objects, late deliveries across midnight, and the traps a text filter
//! falls into: IAM policies that mention `secretsmanager:GetSecretValue`,
//! EventBridge patterns with a nested `eventName`, batch reads, pretty-printed
//! files, shuffled keys and escaped strings. The truth file lists every
//! Secrets Manager read and batch call it wrote, independently of ctscan.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use flate2::{write::GzEncoder, Compression};
use rayon::prelude::*;

/// A small deterministic generator (splitmix64), so corpora are reproducible.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16) as usize]))
            .collect()
    }
    fn alnum(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n)
            .map(|_| char::from(A[self.below(A.len() as u64) as usize]))
            .collect()
    }
    fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-a{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            self.hex(3),
            self.hex(12)
        )
    }
}

/// A JSON value whose key order we control (for the shuffled-keys trap).
enum J {
    S(String),
    /// A string written with every `G` as `\u0047` (the escaped-name trap).
    Escaped(String),
    N(i64),
    B(bool),
    Null,
    O(Vec<(&'static str, J)>),
    A(Vec<J>),
}

fn s(v: impl Into<String>) -> J {
    J::S(v.into())
}

/// Whether strings are written with exporters' `\u` escapes (a global
/// switch set once by `--escape`, so every writer sees it).
static ESCAPE_ALL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn write_str(out: &mut String, v: &str, escape_g: bool) {
    out.push('"');
    let escape_all = ESCAPE_ALL.load(std::sync::atomic::Ordering::Relaxed);
    for c in v.chars() {
        match c {
            '&' | '<' | '>' if escape_all => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if escape_all && !c.is_ascii() => {
                for unit in c.encode_utf16(&mut [0u16; 2]) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' if escape_g => out.push_str("\\/"),
            'G' if escape_g => out.push_str("\\u0047"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl J {
    fn write(&self, out: &mut String, indent: Option<usize>) {
        let nl = |out: &mut String, d: usize| {
            if indent.is_some() {
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', d * 2));
            }
        };
        let depth = indent.unwrap_or(0);
        let inner = indent.map(|d| d + 1);
        match self {
            J::S(v) => write_str(out, v, false),
            J::Escaped(v) => write_str(out, v, true),
            J::N(n) => {
                let _ = write!(out, "{n}");
            }
            J::B(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Null => out.push_str("null"),
            J::O(kv) => {
                out.push('{');
                for (i, (k, v)) in kv.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    nl(out, depth + 1);
                    write_str(out, k, false);
                    out.push_str(if indent.is_some() { ": " } else { ":" });
                    v.write(out, inner);
                }
                if !kv.is_empty() {
                    nl(out, depth);
                }
                out.push('}');
            }
            J::A(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    nl(out, depth + 1);
                    v.write(out, inner);
                }
                if !items.is_empty() {
                    nl(out, depth);
                }
                out.push(']');
            }
        }
    }
}

/// What the truth file records for one Secrets Manager read or batch call.
struct Truth {
    time: i64,
    name: &'static str,
    principal: String,
    principal_type: &'static str,
    source_ip: String,
    secret: Option<String>,
    failed: bool,
}

struct Account {
    id: String,
    org: Option<&'static str>,
    regions: Vec<&'static str>,
    roles: Vec<String>,
    users: Vec<String>,
}

struct Plan {
    out: PathBuf,
    /// `--mode exported`: gzip level 6 and constant strings in every record.
    exported: bool,
    /// Records (per mille) given a field of non-ASCII text.
    utf8_share: u64,
    prefix: String,
    accounts: Vec<Account>,
    start: i64,
    days: i64,
    records_total: u64,
    seed: u64,
}

const SECRETS: [&str; 8] = [
    "prod/db/password",
    "prod/api/stripe-key",
    "staging/db/password",
    "shared/ldap-bind",
    "prod/payments/hmac-AbCdEf",
    "ci/deploy-token",
    "dev/test/plain",
    "prod/db/replica",
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let out = PathBuf::from(arg("--out").expect("--out DIR is required"));
    let truth_path = PathBuf::from(arg("--truth").expect("--truth FILE is required"));
    let size_mb: u64 = arg("--size-mb").map_or(3, |v| v.parse().expect("--size-mb N"));
    let days: i64 = arg("--days").map_or(3, |v| v.parse().expect("--days D"));
    let seed: u64 = arg("--seed").map_or(7, |v| v.parse().expect("--seed S"));
    let start: i64 =
        arg("--start-epoch").map_or(1_767_225_600, |v| v.parse().expect("--start-epoch S")); // 2026-01-01
    let exported = match arg("--mode").as_deref() {
        None | Some("cloudtrail") => false,
        Some("exported") => true,
        Some(m) => panic!("--mode {m}: expected cloudtrail or exported"),
    };
    let escape = args.iter().any(|a| a == "--escape");
    ESCAPE_ALL.store(escape, std::sync::atomic::Ordering::Relaxed);
    let plan = Plan {
        out,
        exported,
        utf8_share: arg("--utf8-share").map_or(0, |v| v.parse().expect("--utf8-share PERMILLE")),
        prefix: arg("--prefix").unwrap_or_default(),
        accounts: accounts(&mut Rng(seed)),
        start,
        days,
        records_total: size_mb * 1024 * 1024 / 1000,
        seed,
    };
    let (files, records, truth) = generate(&plan);
    write_truth(&truth_path, &plan, files, records, &truth);
    eprintln!(
        "wrote {files} objects, {records} records, {} Secrets Manager reads and batch calls",
        truth.len()
    );
}

fn accounts(rng: &mut Rng) -> Vec<Account> {
    let mk = |rng: &mut Rng, org: Option<&'static str>, regions: Vec<&'static str>| {
        let id: String = (0..12)
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect();
        let roles = [
            "ecs-web",
            "lambda-billing",
            "ci-deployer",
            "ReadOnly",
            "admin-breakglass",
            "batch-etl",
        ]
        .iter()
        .map(|r| format!("arn:aws:iam::{id}:role/{r}"))
        .collect();
        let users = ["alice", "bob", "svc-backup", "mallory"]
            .iter()
            .map(|u| format!("arn:aws:iam::{id}:user/{u}"))
            .collect();
        Account {
            id,
            org,
            regions,
            roles,
            users,
        }
    };
    vec![
        mk(rng, Some("o-exampleorg1"), vec!["us-east-1", "eu-west-1"]),
        mk(
            rng,
            Some("o-exampleorg1"),
            vec!["us-east-1", "ap-southeast-2"],
        ),
        mk(rng, Some("o-exampleorg1"), vec!["eu-central-1"]),
        mk(rng, None, vec!["us-west-2", "us-east-1"]),
    ]
}

/// One log object to write: where, when, and how many records.
struct FileJob {
    key: String,
    account: usize,
    region: &'static str,
    first: i64,
    last: i64,
    records: u64,
    pretty: bool,
    seed: u64,
}

fn generate(plan: &Plan) -> (u64, u64, Vec<Truth>) {
    let jobs = plan_files(plan);
    let results: Vec<(u64, Vec<Truth>)> = jobs
        .par_iter()
        .map(|job| write_log_file(plan, job))
        .collect();
    let digests = write_digests(plan);
    let records = results.iter().map(|r| r.0).sum();
    let mut truth: Vec<Truth> = results.into_iter().flat_map(|r| r.1).collect();
    truth.sort_by(|a, b| {
        a.time
            .cmp(&b.time)
            .then_with(|| a.principal.cmp(&b.principal))
    });
    (jobs.len() as u64 + digests, records, truth)
}

/// Spreads the record budget over delivery files with heavy-tailed sizes.
fn plan_files(plan: &Plan) -> Vec<FileJob> {
    let mut rng = Rng(plan.seed ^ 0xF11E);
    let mut jobs = Vec::new();
    let mut left = plan.records_total.max(50);
    let span = plan.days * 86_400;
    let streams: Vec<(usize, &'static str)> = plan
        .accounts
        .iter()
        .enumerate()
        .flat_map(|(i, a)| a.regions.iter().map(move |r| (i, *r)))
        .collect();
    while left > 0 {
        let size_class = rng.below(100);
        let n = match size_class {
            0..=39 => 3 + rng.below(20),
            40..=79 => 20 + rng.below(300),
            80..=95 => 300 + rng.below(1500),
            _ => 1500 + rng.below(4000),
        }
        .min(left);
        left -= n;
        let &(account, region) = rng.pick(&streams);
        let first = plan.start + rng.below(span as u64 - 600) as i64;
        let last = first + rng.below(300) as i64;
        let late = rng.chance(20);
        let delivered = last
            + 60
            + rng.below(600) as i64
            + if late {
                3600 * (1 + rng.below(20)) as i64
            } else {
                0
            };
        let key = log_key(plan, account, region, delivered, &mut rng);
        jobs.push(FileJob {
            key,
            account,
            region,
            first,
            last,
            records: n,
            pretty: rng.chance(50),
            seed: rng.next(),
        });
    }
    jobs
}

fn account_root(plan: &Plan, a: &Account) -> String {
    match a.org {
        Some(org) => format!("{}AWSLogs/{org}/{}", plan.prefix, a.id),
        None => format!("{}AWSLogs/{}", plan.prefix, a.id),
    }
}

fn log_key(plan: &Plan, account: usize, region: &str, delivered: i64, rng: &mut Rng) -> String {
    let a = &plan.accounts[account];
    let (date, stamp) = utc_parts(delivered);
    format!(
        "{}/CloudTrail/{region}/{date}/{}_CloudTrail_{region}_{stamp}Z_{}.json.gz",
        account_root(plan, a),
        a.id,
        rng.alnum(16)
    )
}

/// `("YYYY/MM/DD", "YYYYMMDDTHHMM")` for an epoch second.
fn utc_parts(t: i64) -> (String, String) {
    let (y, m, d, hh, mm, _) = civil(t);
    (
        format!("{y:04}/{m:02}/{d:02}"),
        format!("{y:04}{m:02}{d:02}T{hh:02}{mm:02}"),
    )
}

fn iso(t: i64) -> String {
    let (y, m, d, hh, mm, ss) = civil(t);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
}

/// Days-from-civil inverse (Howard Hinnant's algorithm), UTC.
fn civil(t: i64) -> (i64, i64, i64, i64, i64, i64) {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, secs / 3600, secs % 3600 / 60, secs % 60)
}

fn write_log_file(plan: &Plan, job: &FileJob) -> (u64, Vec<Truth>) {
    let mut rng = Rng(job.seed);
    let mut records = Vec::with_capacity(job.records as usize);
    let mut truth = Vec::new();
    while (records.len() as u64) < job.records {
        let t = job.first + rng.below((job.last - job.first + 1) as u64) as i64;
        let mut batch = make_record(plan, job, t, &mut rng, &mut truth);
        records.append(&mut batch);
    }
    let n = records.len() as u64;
    let doc = J::O(vec![("Records", J::A(records))]);
    let mut text = String::with_capacity(job.records as usize * 1100);
    doc.write(&mut text, job.pretty.then_some(0));
    let level = if plan.exported { 6 } else { 1 };
    write_gz(&plan.out.join(&job.key), text.as_bytes(), level);
    (n, truth)
}

fn write_gz(path: &Path, bytes: &[u8], level: u32) {
    std::fs::create_dir_all(path.parent().expect("key has a folder")).expect("create folders");
    let mut enc = GzEncoder::new(Vec::with_capacity(bytes.len() / 8), Compression::new(level));
    enc.write_all(bytes).expect("compress");
    std::fs::write(path, enc.finish().expect("compress")).expect("write object");
}

/// Who is calling: (principal key, type, userIdentity JSON).
fn identity(a: &Account, rng: &mut Rng) -> (String, &'static str, J) {
    if rng.chance(700) {
        let role = rng.pick(&a.roles).clone();
        let name = role.rsplit('/').next().unwrap_or("role").to_string();
        let session = format!("{name}-{}", rng.hex(8));
        let id = J::O(vec![
            ("type", s("AssumedRole")),
            (
                "principalId",
                s(format!("AROA{}:{session}", rng.alnum(16).to_uppercase())),
            ),
            (
                "arn",
                s(format!(
                    "arn:aws:sts::{}:assumed-role/{name}/{session}",
                    a.id
                )),
            ),
            ("accountId", s(&a.id)),
            (
                "accessKeyId",
                s(format!("ASIA{}", rng.alnum(16).to_uppercase())),
            ),
            (
                "sessionContext",
                J::O(vec![
                    (
                        "sessionIssuer",
                        J::O(vec![
                            ("type", s("Role")),
                            (
                                "principalId",
                                s(format!("AROA{}", rng.alnum(16).to_uppercase())),
                            ),
                            ("arn", s(&role)),
                            ("accountId", s(&a.id)),
                            ("userName", s(&name)),
                        ]),
                    ),
                    (
                        "attributes",
                        J::O(vec![
                            ("creationDate", s("2026-01-01T00:00:00Z")),
                            ("mfaAuthenticated", s("false")),
                        ]),
                    ),
                ]),
            ),
        ]);
        (role, "AssumedRole", id)
    } else {
        let user = rng.pick(&a.users).clone();
        let name = user.rsplit('/').next().unwrap_or("user").to_string();
        let id = J::O(vec![
            ("type", s("IAMUser")),
            (
                "principalId",
                s(format!("AIDA{}", rng.alnum(16).to_uppercase())),
            ),
            ("arn", s(&user)),
            ("accountId", s(&a.id)),
            (
                "accessKeyId",
                s(format!("AKIA{}", rng.alnum(16).to_uppercase())),
            ),
            ("userName", s(name)),
        ]);
        (user, "IAMUser", id)
    }
}

fn source_ip(rng: &mut Rng) -> String {
    match rng.below(20) {
        0 => "lambda.amazonaws.com".into(),
        1 => "AWS Internal".into(),
        2 => format!("2001:db8::{:x}", rng.below(4096)),
        3..=9 => format!(
            "10.{}.{}.{}",
            rng.below(4),
            rng.below(256),
            1 + rng.below(254)
        ),
        _ => format!("203.0.113.{}", 1 + rng.below(120)),
    }
}

const AGENTS: [&str; 5] = [
    "aws-sdk-go-v2/1.30.1 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/secretsmanager#1.32.1",
    "Boto3/1.34.140 md/Botocore#1.34.140 ua/2.0 os/linux#5.10.219 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.140",
    "aws-cli/2.17.5 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 md/pyimpl#CPython command/secretsmanager.get-secret-value",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 \"quoted\" \\path",
    "aws-sdk-java/2.26.7 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc. io/sync http/Apache",
];

/// The fields every record shares, in the usual order.
fn envelope(
    region: &str,
    t: i64,
    source: &str,
    name: &str,
    id: J,
    ip: &str,
    rng: &mut Rng,
) -> Vec<(&'static str, J)> {
    vec![
        ("eventVersion", s("1.09")),
        ("userIdentity", id),
        ("eventTime", s(iso(t))),
        ("eventSource", s(source)),
        ("eventName", s(name)),
        ("awsRegion", s(region)),
        ("sourceIPAddress", s(ip)),
        ("userAgent", s(*rng.pick(&AGENTS))),
    ]
}

fn tail(a: &Account, rng: &mut Rng, read_only: bool, category: &str) -> Vec<(&'static str, J)> {
    vec![
        ("requestID", s(rng.uuid())),
        ("eventID", s(rng.uuid())),
        ("readOnly", J::B(read_only)),
        ("eventType", s("AwsApiCall")),
        ("managementEvent", J::B(category == "Management")),
        ("recipientAccountId", s(&a.id)),
        ("eventCategory", s(category)),
        (
            "tlsDetails",
            J::O(vec![
                ("tlsVersion", s("TLSv1.3")),
                ("cipherSuite", s("TLS_AES_128_GCM_SHA256")),
                ("clientProvidedHostHeader", s("api.example.amazonaws.com")),
            ]),
        ),
    ]
}

/// Makes one record, or a batch call with its per-secret children.
fn make_record(
    plan: &Plan,
    job: &FileJob,
    t: i64,
    rng: &mut Rng,
    truth: &mut Vec<Truth>,
) -> Vec<J> {
    let a = &plan.accounts[job.account];
    let roll = rng.below(1000);
    let mut recs = match roll {
        0..=16 => vec![secret_read(a, job.region, t, rng, truth, None)],
        17..=19 => batch_read(a, job.region, t, rng, truth),
        20..=24 => vec![policy_trap(a, job.region, t, rng)],
        25..=29 => vec![eventbridge_trap(a, job.region, t, rng)],
        30..=59 => vec![other_secrets_manager(a, job.region, t, rng)],
        _ => vec![background(a, job.region, t, rng)],
    };
    if rng.chance(100) {
        for r in &mut recs {
            if let J::O(kv) = r {
                shuffle(kv, rng);
            }
        }
    }
    for r in &mut recs {
        if let J::O(kv) = r {
            if plan.utf8_share > 0 && rng.chance(plan.utf8_share) {
                kv.push(("clientContext", client_context(rng)));
            }
            if plan.exported {
                kv.push(("serviceContext", service_context()));
            }
        }
    }
    recs
}

/// Display names with non-ASCII letters (one outside the BMP) and `&<>`.
const DISPLAY_NAMES: [&str; 8] = [
    "José García",
    "Zoë Müller",
    "Łukasz Żak",
    "山田 太郎",
    "Ørjan Økland",
    "Renée Côté <R&D>",
    "build-bot 🤖",
    "Ana & Søren",
];

/// A field of non-ASCII text, as a console or an SDK wrapper might add.
fn client_context(rng: &mut Rng) -> J {
    J::O(vec![
        ("displayName", s(*rng.pick(&DISPLAY_NAMES))),
        (
            "locale",
            s(*rng.pick(&["fr-FR", "de-DE", "ja-JP", "nb-NO"])),
        ),
    ])
}

/// The same strings in every record (`--mode exported`).
fn service_context() -> J {
    J::O(vec![
        (
            "exporter",
            s("cloudtrail-lake-export/2.4.1 (format=json; compression=gzip)"),
        ),
        ("schemaVersion", s("1.09")),
        (
            "pipeline",
            s("arn:aws:firehose:us-east-1:111122223333:deliverystream/org-trail-export"),
        ),
        ("classification", s("internal")),
        ("retention", s("P400D")),
    ])
}

fn shuffle<T>(v: &mut [T], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

/// How a secret is named in the request: name, partial ARN or full ARN.
fn secret_id(a: &Account, region: &str, name: &str, rng: &mut Rng) -> String {
    // A partial ARN of a name that itself ends in -XXXXXX is ambiguous (AWS
    // warns against such names), so those are only named or fully ARN'd.
    let suffixed = name.len() > 7 && name.as_bytes()[name.len() - 7] == b'-';
    let form = if suffixed {
        2 * rng.below(2)
    } else {
        rng.below(3)
    };
    match form {
        0 => name.to_string(),
        1 => format!("arn:aws:secretsmanager:{region}:{}:secret:{name}", a.id),
        _ => format!(
            "arn:aws:secretsmanager:{region}:{}:secret:{name}-{}",
            a.id,
            rng.alnum(6)
        ),
    }
}

fn secret_read(
    a: &Account,
    region: &str,
    t: i64,
    rng: &mut Rng,
    truth: &mut Vec<Truth>,
    forced: Option<(&str, String, &'static str, J, String)>,
) -> J {
    let (name, principal, ptype, id, ip) = match forced {
        Some((n, p, ty, id, ip)) => (n.to_string(), p, ty, id, ip),
        None => {
            let (p, ty, id) = identity(a, rng);
            (rng.pick(&SECRETS).to_string(), p, ty, id, source_ip(rng))
        }
    };
    let sid = secret_id(a, region, &name, rng);
    let failed = rng.chance(50);
    let escaped = rng.chance(10);
    let mut kv = envelope(
        region,
        t,
        "secretsmanager.amazonaws.com",
        "GetSecretValue",
        id,
        &ip,
        rng,
    );
    if escaped {
        kv[4].1 = J::Escaped("GetSecretValue".into());
    }
    if failed {
        kv.push((
            "errorCode",
            s(if rng.chance(500) {
                "AccessDenied"
            } else {
                "AccessDeniedException"
            }),
        ));
        kv.push(("errorMessage", s(format!("User: {principal} is not authorized to perform: secretsmanager:GetSecretValue on resource: {sid}"))));
    }
    kv.push((
        "requestParameters",
        J::O(vec![(
            "secretId",
            if escaped {
                J::Escaped(sid.clone())
            } else {
                s(&sid)
            },
        )]),
    ));
    kv.push(("responseElements", J::Null));
    kv.extend(tail(a, rng, true, "Management"));
    truth.push(Truth {
        time: t,
        name: "GetSecretValue",
        principal,
        principal_type: ptype,
        source_ip: ip,
        secret: Some(name),
        failed,
    });
    J::O(kv)
}

fn batch_read(a: &Account, region: &str, t: i64, rng: &mut Rng, truth: &mut Vec<Truth>) -> Vec<J> {
    let (principal, ptype, id) = identity(a, rng);
    let ip = source_ip(rng);
    let by_list = rng.chance(600);
    let chosen: Vec<&str> = (0..1 + rng.below(3)).map(|_| *rng.pick(&SECRETS)).collect();
    let mut kv = envelope(
        region,
        t,
        "secretsmanager.amazonaws.com",
        "BatchGetSecretValue",
        clone_j(&id),
        &ip,
        rng,
    );
    let params = if by_list {
        J::O(vec![(
            "secretIdList",
            J::A(chosen.iter().map(|n| s(*n)).collect()),
        )])
    } else {
        J::O(vec![(
            "filters",
            J::A(vec![J::O(vec![
                ("key", s("tag-key")),
                ("values", J::A(vec![s("team")])),
            ])]),
        )])
    };
    kv.push(("requestParameters", params));
    kv.push(("responseElements", J::Null));
    kv.extend(tail(a, rng, true, "Management"));
    truth.push(Truth {
        time: t,
        name: "BatchGetSecretValue",
        principal: principal.clone(),
        principal_type: ptype,
        source_ip: ip.clone(),
        secret: None,
        failed: false,
    });
    let mut out = vec![J::O(kv)];
    for n in chosen {
        out.push(secret_read(
            a,
            region,
            t,
            rng,
            truth,
            Some((n, principal.clone(), ptype, clone_j(&id), ip.clone())),
        ));
    }
    out
}

fn clone_j(j: &J) -> J {
    match j {
        J::S(v) => J::S(v.clone()),
        J::Escaped(v) => J::Escaped(v.clone()),
        J::N(n) => J::N(*n),
        J::B(b) => J::B(*b),
        J::Null => J::Null,
        J::O(kv) => J::O(kv.iter().map(|(k, v)| (*k, clone_j(v))).collect()),
        J::A(v) => J::A(v.iter().map(clone_j).collect()),
    }
}

/// An IAM policy edit whose document mentions the action (text filters count it).
fn policy_trap(a: &Account, region: &str, t: i64, rng: &mut Rng) -> J {
    let (_, _, id) = identity(a, rng);
    let ip = source_ip(rng);
    let doc = format!(
        "{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Action\":[\"secretsmanager:GetSecretValue\",\"secretsmanager:BatchGetSecretValue\"],\"Resource\":\"arn:aws:secretsmanager:{region}:{}:secret:prod/*\"}}]}}",
        a.id
    );
    let mut kv = envelope(
        region,
        t,
        "iam.amazonaws.com",
        "PutRolePolicy",
        id,
        &ip,
        rng,
    );
    kv.push((
        "requestParameters",
        J::O(vec![
            ("roleName", s("ecs-web")),
            ("policyName", s("read-secrets")),
            ("policyDocument", s(doc)),
        ]),
    ));
    kv.push(("responseElements", J::Null));
    kv.extend(tail(a, rng, false, "Management"));
    J::O(kv)
}

/// An EventBridge rule whose pattern nests an `eventName` key.
fn eventbridge_trap(a: &Account, region: &str, t: i64, rng: &mut Rng) -> J {
    let (_, _, id) = identity(a, rng);
    let ip = source_ip(rng);
    let pattern = J::O(vec![
        ("source", J::A(vec![s("aws.secretsmanager")])),
        (
            "detail",
            J::O(vec![
                ("eventSource", J::A(vec![s("secretsmanager.amazonaws.com")])),
                (
                    "eventName",
                    J::A(vec![s("GetSecretValue"), s("BatchGetSecretValue")]),
                ),
            ]),
        ),
    ]);
    let mut kv = envelope(region, t, "events.amazonaws.com", "PutRule", id, &ip, rng);
    kv.push((
        "requestParameters",
        J::O(vec![
            ("name", s("secret-reads")),
            ("eventPattern", pattern),
            ("state", s("ENABLED")),
        ]),
    ));
    kv.push((
        "responseElements",
        J::O(vec![(
            "ruleArn",
            s(format!(
                "arn:aws:events:{region}:{}:rule/secret-reads",
                a.id
            )),
        )]),
    ));
    kv.extend(tail(a, rng, false, "Management"));
    J::O(kv)
}

fn other_secrets_manager(a: &Account, region: &str, t: i64, rng: &mut Rng) -> J {
    let (_, _, id) = identity(a, rng);
    let ip = source_ip(rng);
    let name = *rng.pick(&[
        "DescribeSecret",
        "ListSecrets",
        "PutSecretValue",
        "GetResourcePolicy",
    ]);
    let mut kv = envelope(
        region,
        t,
        "secretsmanager.amazonaws.com",
        name,
        id,
        &ip,
        rng,
    );
    let params = if name == "ListSecrets" {
        J::Null
    } else {
        J::O(vec![("secretId", s(*rng.pick(&SECRETS)))])
    };
    kv.push(("requestParameters", params));
    kv.push(("responseElements", J::Null));
    kv.extend(tail(a, rng, name != "PutSecretValue", "Management"));
    J::O(kv)
}

/// Everything else an account does, at about 1 KB a record.
fn background(a: &Account, region: &str, t: i64, rng: &mut Rng) -> J {
    let (_, _, id) = identity(a, rng);
    let ip = source_ip(rng);
    let (source, name, params, category): (&str, &str, J, &str) = match rng.below(6) {
        0 => (
            "s3.amazonaws.com",
            "GetObject",
            J::O(vec![
                ("bucketName", s("app-assets")),
                ("Host", s("app-assets.s3.amazonaws.com")),
                ("key", s(format!("img/{}.png", rng.hex(10)))),
            ]),
            "Data",
        ),
        1 => (
            "ec2.amazonaws.com",
            "DescribeInstances",
            J::O(vec![
                ("instancesSet", J::O(vec![])),
                (
                    "filterSet",
                    J::O(vec![(
                        "items",
                        J::A(vec![J::O(vec![
                            ("name", s("tag:env")),
                            (
                                "valueSet",
                                J::O(vec![(
                                    "items",
                                    J::A(vec![J::O(vec![("value", s("prod"))])]),
                                )]),
                            ),
                        ])]),
                    )]),
                ),
            ]),
            "Management",
        ),
        2 => (
            "sts.amazonaws.com",
            "AssumeRole",
            J::O(vec![
                ("roleArn", s(rng.pick(&a.roles).clone())),
                ("roleSessionName", s(rng.hex(12))),
                ("durationSeconds", J::N(3600)),
            ]),
            "Management",
        ),
        3 => (
            "kms.amazonaws.com",
            "Decrypt",
            J::O(vec![
                ("encryptionAlgorithm", s("SYMMETRIC_DEFAULT")),
                (
                    "encryptionContext",
                    J::O(vec![
                        (
                            "SecretARN",
                            s(format!(
                                "arn:aws:secretsmanager:{region}:{}:secret:prod/db/password-{}",
                                a.id,
                                rng.alnum(6)
                            )),
                        ),
                        ("SecretVersionId", s(rng.uuid())),
                    ]),
                ),
            ]),
            "Management",
        ),
        4 => (
            "lambda.amazonaws.com",
            "Invoke",
            J::O(vec![(
                "functionName",
                s(format!("arn:aws:lambda:{region}:{}:function:billing", a.id)),
            )]),
            "Data",
        ),
        _ => (
            "ssm.amazonaws.com",
            "GetParameter",
            J::O(vec![
                ("name", s("/app/config/flags")),
                ("withDecryption", J::B(rng.chance(500))),
            ]),
            "Management",
        ),
    };
    let mut kv = envelope(region, t, source, name, id, &ip, rng);
    kv.push(("requestParameters", params));
    kv.push(("responseElements", J::Null));
    kv.push((
        "resources",
        J::A(vec![J::O(vec![
            ("accountId", s(&a.id)),
            ("type", s("AWS::Generic::Resource")),
            (
                "ARN",
                s(format!(
                    "arn:aws:{}:{region}:{}:thing/{}",
                    source.split('.').next().unwrap_or("x"),
                    a.id,
                    rng.hex(12)
                )),
            ),
        ])]),
    ));
    kv.extend(tail(a, rng, true, category));
    J::O(kv)
}

/// One digest per account-region for the first hours, plus one Insights object.
fn write_digests(plan: &Plan) -> u64 {
    let mut n = 0;
    for a in &plan.accounts {
        for region in &a.regions {
            for h in 1..=2 {
                let end = plan.start + h * 3600;
                let (date, stamp) = utc_parts(end);
                let key = format!(
                    "{}/CloudTrail-Digest/{region}/{date}/{}_CloudTrail-Digest_{region}_org-trail_{region}_{stamp}00Z.json.gz",
                    account_root(plan, a),
                    a.id
                );
                let body = format!(
                    "{{\"awsAccountId\":\"{}\",\"digestStartTime\":\"{}\",\"digestEndTime\":\"{}\",\"digestS3Bucket\":\"org-trail\",\"digestS3Object\":\"{key}\",\"logFiles\":[]}}",
                    a.id,
                    iso(end - 3600),
                    iso(end)
                );
                write_gz(&plan.out.join(&key), body.as_bytes(), 1);
                n += 1;
            }
        }
    }
    let a = &plan.accounts[0];
    let (date, stamp) = utc_parts(plan.start + 7200);
    let key = format!("{}/CloudTrail-Insight/us-east-1/{date}/{}_CloudTrail-Insight_us-east-1_{stamp}Z_{}.json.gz", account_root(plan, a), a.id, "InsightExample01");
    write_gz(&plan.out.join(key), br#"{"Records":[{"eventVersion":"1.08","eventType":"AwsCloudTrailInsight","eventCategory":"Insight","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","insightDetails":{"state":"Start"}}]}"#, 1);
    n + 1
}

fn write_truth(path: &Path, plan: &Plan, files: u64, records: u64, truth: &[Truth]) {
    let digests: u64 = plan
        .accounts
        .iter()
        .map(|a| a.regions.len() as u64 * 2)
        .sum();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{{\"objects\":{files},\"digests\":{digests},\"insights\":1,\"records\":{records},\"selected\":{}}}",
        truth.len()
    );
    for t in truth {
        let secret = t
            .secret
            .as_ref()
            .map_or("null".to_string(), |s| format!("{s:?}"));
        let _ = writeln!(
            out,
            "{{\"time\":{},\"event_name\":{:?},\"principal\":{:?},\"principal_type\":{:?},\"source_ip\":{:?},\"secret\":{secret},\"failed\":{}}}",
            t.time, t.name, t.principal, t.principal_type, t.source_ip, t.failed
        );
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("truth folder");
    }
    std::fs::write(path, out).expect("write truth");
}
