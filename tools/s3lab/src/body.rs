//! Generated CloudTrail objects: a gzip `{"Records":[…]}` with a few events,
//! many of them `secretsmanager` `GetSecretValue`, sized exactly as listed.
//!
//! The listed size must be known without compressing, so the body is made
//! to fit it: as many events as fit are compressed for real, and the gzip
//! header's comment field (FCOMMENT) pads the member to the exact size.

use std::cell::RefCell;
use std::fmt::Write as _;

use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use time::{Duration, OffsetDateTime};

use crate::hash::Stream;

/// Compressed bytes of the first event, and of each further one, roughly
/// (measured over many seeds); used for the first guess of the count.
const FIRST_EVENT_BYTES: usize = 700;
const MORE_EVENT_BYTES: usize = 170;
/// gzip header (10) and trailer (8) bytes.
const GZIP_OVERHEAD: usize = 18;

/// What one object's body is made from.
pub struct BodyInput<'a> {
    pub account: &'a str,
    pub region: &'a str,
    /// The delivery time in the key: events happen shortly before it.
    pub delivered: OffsetDateTime,
    pub seed: u64,
    /// Exact body size in bytes.
    pub size: usize,
    /// Deflate level, 1..=9.
    pub level: u32,
}

/// The body: a single gzip member of exactly `input.size` bytes.
pub fn generate(input: &BodyInput) -> Vec<u8> {
    let mut events = 1 + input.size.saturating_sub(FIRST_EVENT_BYTES) / MORE_EVENT_BYTES;
    loop {
        let json = records_json(input, events);
        let deflated = deflate(json.as_bytes(), input.level);
        let room = input.size.saturating_sub(GZIP_OVERHEAD);
        if deflated.len() <= room || events == 1 {
            return gzip_member(json.as_bytes(), &deflated, input);
        }
        // Shrink in proportion first: one more compression, not many.
        events = (events * room / deflated.len()).clamp(1, events - 1);
    }
}

thread_local! {
    /// Raw-deflate compressors per thread and level, reset per body:
    /// creating one allocates and clears a few hundred KB.
    static COMPRESSORS: RefCell<Vec<Option<Compress>>> = RefCell::new((0..10).map(|_| None).collect());
}

fn deflate(raw: &[u8], level: u32) -> Vec<u8> {
    COMPRESSORS.with(|cell| {
        let mut all = cell.borrow_mut();
        let c = all[level as usize]
            .get_or_insert_with(|| Compress::new(Compression::new(level), false));
        c.reset();
        let mut out = Vec::with_capacity(raw.len() / 3 + 64);
        loop {
            let consumed = c.total_in() as usize;
            let status = c
                .compress_vec(&raw[consumed..], &mut out, FlushCompress::Finish)
                .expect("deflate into memory");
            if status == Status::StreamEnd {
                return out;
            }
            out.reserve(out.capacity().max(256));
        }
    })
}

/// Header with FCOMMENT padding, the deflate stream, CRC-32 and length.
fn gzip_member(raw: &[u8], deflated: &[u8], input: &BodyInput) -> Vec<u8> {
    let pad = input.size.saturating_sub(deflated.len() + GZIP_OVERHEAD);
    let flags = if pad > 0 { 0x10 } else { 0 };
    let mtime = (input.delivered.unix_timestamp() as u32).to_le_bytes();
    let mut out = Vec::with_capacity(input.size.max(deflated.len() + GZIP_OVERHEAD));
    out.extend_from_slice(&[0x1f, 0x8b, 8, flags]);
    out.extend_from_slice(&mtime);
    out.extend_from_slice(&[0, 3]);
    if pad > 0 {
        out.resize(out.len() + pad - 1, b' ');
        out.push(0);
    }
    out.extend_from_slice(deflated);
    let mut crc = Crc::new();
    crc.update(raw);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(raw.len() as u32).to_le_bytes());
    out
}

/// `{"Records":[…]}` with `count` events in time order.
fn records_json(input: &BodyInput, count: usize) -> String {
    let mut rng = Stream::new(input.seed);
    let mut times: Vec<OffsetDateTime> = (0..count)
        .map(|_| input.delivered - Duration::seconds(60 + rng.below(840) as i64))
        .collect();
    if rng.chance(0.05) {
        // A late event from just before the previous midnight.
        let midnight = input.delivered.replace_time(time::Time::MIDNIGHT);
        times[0] = midnight - Duration::seconds(1 + rng.below(600) as i64);
    }
    times.sort_unstable();
    let mut out = String::with_capacity(count * 1400 + 16);
    out.push_str("{\"Records\":[");
    for (i, t) in times.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_event(&mut out, input, *t, &mut rng);
    }
    out.push_str("]}");
    out
}

const ROLES: [&str; 5] = [
    "app-backend",
    "ci-deployer",
    "data-pipeline",
    "OrganizationAccountAccessRole",
    "secret-rotation",
];
const USERS: [&str; 3] = ["alice", "bob", "svc-batch"];
const SECRETS: [&str; 5] = [
    "prod/db/password",
    "prod/api/payment-key",
    "staging/db/password",
    "ci/github-token",
    "shared/ldap-bind",
];
const SOURCE_IPS: [&str; 7] = [
    "198.51.100.7",
    "198.51.100.23",
    "203.0.113.9",
    "203.0.113.140",
    "192.0.2.55",
    "10.20.3.4",
    "AWS Internal",
];
const AGENTS: [&str; 4] = [
    "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5",
    "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#6.1",
    "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux",
    "aws-sdk-java/2.26.20 Linux/5.10 OpenJDK_64-Bit_Server_VM",
];
/// Other calls: (event source prefix, event name, read-only).
const OTHER_CALLS: [(&str, &str, bool); 6] = [
    ("sts", "AssumeRole", true),
    ("kms", "Decrypt", true),
    ("ec2", "DescribeInstances", true),
    ("s3", "GetBucketAcl", true),
    ("secretsmanager", "DescribeSecret", true),
    ("iam", "CreateAccessKey", false),
];

fn write_event(out: &mut String, input: &BodyInput, when: OffsetDateTime, rng: &mut Stream) {
    let (acct, region) = (input.account, input.region);
    let secret = format!(
        "arn:aws:secretsmanager:{region}:{acct}:secret:{}-{}",
        rng.pick(&SECRETS),
        short_id(rng.next_u64(), 6)
    );
    let get_secret = rng.chance(0.45);
    let (source, name, read_only) = if get_secret {
        ("secretsmanager", "GetSecretValue", true)
    } else {
        *rng.pick(&OTHER_CALLS)
    };
    out.push_str("{\"eventVersion\":\"1.09\",\"userIdentity\":");
    write_identity(out, acct, when, rng);
    let _ = write!(
        out,
        ",\"eventTime\":\"{}\",\"eventSource\":\"{source}.amazonaws.com\",\"eventName\":\"{name}\",\
         \"awsRegion\":\"{region}\",\"sourceIPAddress\":\"{}\",\"userAgent\":\"{}\",",
        iso(when),
        rng.pick(&SOURCE_IPS),
        rng.pick(&AGENTS)
    );
    if get_secret {
        let _ = write!(
            out,
            "\"requestParameters\":{{\"secretId\":\"{secret}\"}},\"responseElements\":null,"
        );
    } else {
        out.push_str("\"requestParameters\":null,\"responseElements\":null,");
    }
    let _ = write!(
        out,
        "\"requestID\":\"{}\",\"eventID\":\"{}\",\"readOnly\":{read_only},",
        uuid(rng),
        uuid(rng)
    );
    if get_secret {
        let _ = write!(out, "\"resources\":[{{\"accountId\":\"{acct}\",\"type\":\"AWS::SecretsManager::Secret\",\"ARN\":\"{secret}\"}}],");
    }
    let _ = write!(
        out,
        "\"eventType\":\"AwsApiCall\",\"managementEvent\":true,\"recipientAccountId\":\"{acct}\",\
         \"eventCategory\":\"Management\",\"tlsDetails\":{{\"tlsVersion\":\"TLSv1.3\",\
         \"cipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"clientProvidedHostHeader\":\"{source}.{region}.amazonaws.com\"}}}}"
    );
}

fn write_identity(out: &mut String, acct: &str, when: OffsetDateTime, rng: &mut Stream) {
    if rng.chance(0.25) {
        let user = rng.pick(&USERS);
        let _ = write!(
            out,
            "{{\"type\":\"IAMUser\",\"principalId\":\"AIDA{}\",\"arn\":\"arn:aws:iam::{acct}:user/{user}\",\
             \"accountId\":\"{acct}\",\"accessKeyId\":\"AKIA{}\",\"userName\":\"{user}\"}}",
            short_id(rng.next_u64(), 16).to_uppercase(),
            short_id(rng.next_u64(), 16).to_uppercase()
        );
        return;
    }
    let role = rng.pick(&ROLES);
    let role_id = format!("AROA{}", short_id(rng.next_u64(), 16).to_uppercase());
    let session = format!("session-{}", rng.below(10_000));
    let _ = write!(
        out,
        "{{\"type\":\"AssumedRole\",\"principalId\":\"{role_id}:{session}\",\
         \"arn\":\"arn:aws:sts::{acct}:assumed-role/{role}/{session}\",\"accountId\":\"{acct}\",\
         \"accessKeyId\":\"ASIA{}\",\"sessionContext\":{{\"sessionIssuer\":{{\"type\":\"Role\",\
         \"principalId\":\"{role_id}\",\"arn\":\"arn:aws:iam::{acct}:role/{role}\",\"accountId\":\"{acct}\",\
         \"userName\":\"{role}\"}},\"attributes\":{{\"creationDate\":\"{}\",\"mfaAuthenticated\":\"false\"}}}}}}",
        short_id(rng.next_u64(), 16).to_uppercase(),
        iso(when - Duration::minutes(30))
    );
}

/// `2026-10-01T00:03:12Z`.
fn iso(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `len` characters of `[a-z0-9]` (len ≤ 12).
fn short_id(mut h: u64, len: usize) -> String {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len.min(12))
        .map(|_| {
            let c = ALPHABET[(h % 36) as usize] as char;
            h /= 36;
            c
        })
        .collect()
}

fn uuid(rng: &mut Stream) -> String {
    let (a, b) = (rng.next_u64(), rng.next_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    #[test]
    fn bodies_have_the_exact_size_and_decode() {
        let delivered = time::macros::datetime!(2026-10-01 00:05 UTC);
        for seed in 0..300u64 {
            let level = [1, 6, 9][seed as usize % 3];
            // Half at the smallest allowed size, where one event must fit.
            let min = crate::spec::min_size(level) as usize;
            let size = min + (seed as usize % 2) * ((seed as usize * 37) % 3000);
            let input = BodyInput {
                account: "123456789012",
                region: "us-east-1",
                delivered,
                seed,
                size,
                level,
            };
            let body = generate(&input);
            assert_eq!(body.len(), size, "seed {seed} level {level}");
            let mut text = String::new();
            GzDecoder::new(&body[..]).read_to_string(&mut text).unwrap();
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert!(!v["Records"].as_array().unwrap().is_empty());
        }
    }
}
