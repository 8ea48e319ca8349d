//! Writes a local mirror with a signed digest chain, for timing `ctscan verify`.
//!
//! `cargo run --release --example gen-digest-mirror -- DIR [--logs N] [--records R] [--unsigned]`
//!
//! N log files (default 10,000) of R records each (default 40, about 35 KB
//! decompressed) are spread over four regions, ten per hour, each hour with
//! its digest. Digests are signed with a freshly generated 2048-bit RSA key
//! (deterministic RNG: a benchmark key, not a secret); the signatures go to
//! `.ctscan-meta/` sidecars and the key to `DIR/../public-keys.json` in the
//! `aws cloudtrail list-public-keys` format. With `--unsigned` neither is
//! written. A few `StopLogging` records give the tampering pass work.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rayon::prelude::*;
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs1v15::SigningKey;
use rsa::rand_core::{CryptoRng, RngCore};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

const ACCOUNT: &str = "123456789012";
const BUCKET: &str = "bench-trail-bucket";
const TRAIL: &str = "org-trail";
const FINGERPRINT: &str = "b1e2c3d4a5f60718293a4b5c6d7e8f90";
const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"];
const PER_HOUR: usize = 10;
/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600;

/// SHA-256 in counter mode: deterministic bytes for a benchmark key.
struct CounterRng(u64);

impl RngCore for CounterRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(32) {
            self.0 += 1;
            let block = Sha256::digest(self.0.to_le_bytes());
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for CounterRng {}

struct Opts {
    root: PathBuf,
    logs: usize,
    records: usize,
    signed: bool,
}

fn parse_args() -> Opts {
    let mut args = std::env::args().skip(1);
    let mut opts = Opts {
        root: PathBuf::new(),
        logs: 10_000,
        records: 40,
        signed: true,
    };
    while let Some(a) = args.next() {
        let mut num = || args.next().and_then(|v| v.parse().ok()).expect("a number");
        match a.as_str() {
            "--logs" => opts.logs = num(),
            "--records" => opts.records = num(),
            "--unsigned" => opts.signed = false,
            _ => opts.root = PathBuf::from(a),
        }
    }
    assert!(
        !opts.root.as_os_str().is_empty(),
        "usage: gen-digest-mirror DIR [--logs N] [--records R] [--unsigned]"
    );
    opts
}

fn iso(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn folder(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .unwrap()
        .strftime("%Y/%m/%d")
        .to_string()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn write(root: &Path, key: &str, bytes: &[u8]) {
    let path = root.join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn record(region: &str, t: i64, n: usize) -> Value {
    let (source, name, params) = if n.is_multiple_of(997) {
        (
            "cloudtrail.amazonaws.com",
            "StopLogging",
            json!({"name": TRAIL}),
        )
    } else {
        (
            "ec2.amazonaws.com",
            "DescribeInstances",
            json!({"instancesSet": {}, "filterSet": {}}),
        )
    };
    json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "principalId": format!("AROAEXAMPLE{:06}:session", n % 50),
            "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/app-{}/session", n % 50),
            "accountId": ACCOUNT, "accessKeyId": format!("ASIAEXAMPLE{:09}", n % 1000),
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE",
                "arn": format!("arn:aws:iam::{ACCOUNT}:role/app-{}", n % 50), "accountId": ACCOUNT,
                "userName": format!("app-{}", n % 50)},
                "attributes": {"creationDate": iso(t - 600), "mfaAuthenticated": "false"}}},
        "eventTime": iso(t),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": format!("10.{}.{}.{}", n % 250, (n / 250) % 250, n % 7),
        "userAgent": "aws-sdk-go-v2/1.30.0 os/linux lang/go#1.22 md/GOOS#linux md/GOARCH#amd64",
        "requestParameters": params,
        "responseElements": null,
        "requestID": format!("{:08x}-0000-4000-8000-{:012x}", n, t),
        "eventID": format!("{:08x}-1111-4000-8000-{:012x}", n, t),
        "readOnly": name != "StopLogging",
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": format!("ec2.{region}.amazonaws.com")}
    })
}

/// Writes one region's hours: log files, digests, sidecars. Returns (logs, digests).
fn region_chain(
    o: &Opts,
    key: Option<&SigningKey<Sha256>>,
    r: usize,
    hours: usize,
) -> (usize, usize) {
    let region = REGIONS[r];
    let mut prev: Option<(String, String, String)> = None;
    let mut logs_written = 0;
    for h in 0..hours {
        let start = T0 + 3600 * h as i64;
        let end = start + 3600;
        let mut entries = Vec::new();
        for j in 0..PER_HOUR {
            if logs_written * REGIONS.len() + r >= o.logs {
                break;
            }
            let at = start + 60 * (5 * j as i64 + 1);
            let n = (r * 1_000_000) + logs_written;
            let recs: Vec<Value> = (0..o.records)
                .map(|i| record(region, at - 30 + i as i64, n * 64 + i))
                .collect();
            let text = serde_json::to_vec(&json!({"Records": recs})).unwrap();
            let key = format!(
                "AWSLogs/{ACCOUNT}/CloudTrail/{region}/{}/{ACCOUNT}_CloudTrail_{region}_{}_{:016X}.json.gz",
                folder(at),
                jiff::Timestamp::from_second(at).unwrap().strftime("%Y%m%dT%H%MZ"),
                n
            );
            write(&o.root, &key, &gzip(&text));
            entries.push(json!({"s3Bucket": BUCKET, "s3Object": key, "hashValue": hex::encode(Sha256::digest(&text)),
                "hashAlgorithm": "SHA-256", "newestEventTime": iso(at), "oldestEventTime": iso(at - 30)}));
            logs_written += 1;
        }
        let dkey = format!(
            "AWSLogs/{ACCOUNT}/CloudTrail-Digest/{region}/{}/{ACCOUNT}_CloudTrail-Digest_{region}_{TRAIL}_us-east-1_{}.json.gz",
            folder(end),
            jiff::Timestamp::from_second(end).unwrap().strftime("%Y%m%dT%H%M%SZ")
        );
        let doc = json!({
            "awsAccountId": ACCOUNT, "digestStartTime": iso(start), "digestEndTime": iso(end),
            "digestS3Bucket": BUCKET, "digestS3Object": dkey,
            "digestPublicKeyFingerprint": FINGERPRINT, "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": null, "oldestEventTime": null,
            "previousDigestS3Bucket": prev.as_ref().map(|_| BUCKET),
            "previousDigestS3Object": prev.as_ref().map(|p| p.0.clone()),
            "previousDigestHashValue": prev.as_ref().map(|p| p.1.clone()),
            "previousDigestHashAlgorithm": prev.as_ref().map(|_| "SHA-256"),
            "previousDigestSignature": prev.as_ref().map(|p| p.2.clone()),
            "logFiles": entries,
        });
        let text = serde_json::to_string(&doc).unwrap();
        let hash = hex::encode(Sha256::digest(text.as_bytes()));
        write(&o.root, &dkey, &gzip(text.as_bytes()));
        let signature = match key {
            Some(k) => {
                let prev_sig = prev.as_ref().map_or("null", |p| p.2.as_str());
                let sts = format!("{}\n{BUCKET}/{dkey}\n{hash}\n{prev_sig}", iso(end));
                let sig = hex::encode(k.sign(sts.as_bytes()).to_vec());
                let sidecar = json!({"key": dkey, "bucket": BUCKET, "metadata": {"signature": sig, "signature-algorithm": "SHA256withRSA"}});
                write(
                    &o.root,
                    &format!(".ctscan-meta/{dkey}.json"),
                    &serde_json::to_vec(&sidecar).unwrap(),
                );
                sig
            }
            None => String::new(),
        };
        prev = Some((dkey, hash, signature));
    }
    (logs_written, hours)
}

fn main() {
    let o = parse_args();
    let key = o
        .signed
        .then(|| RsaPrivateKey::new(&mut CounterRng(42), 2048).expect("key"));
    let signer = key.as_ref().map(|k| SigningKey::<Sha256>::new(k.clone()));
    let per_region = o.logs.div_ceil(REGIONS.len());
    let hours = per_region.div_ceil(PER_HOUR);
    let done: Vec<(usize, usize)> = (0..REGIONS.len())
        .into_par_iter()
        .map(|r| region_chain(&o, signer.as_ref(), r, hours))
        .collect();
    if let Some(k) = &key {
        let der = k.to_public_key().to_pkcs1_der().unwrap();
        let doc = json!({"PublicKeyList": [{"Value": base64::engine::general_purpose::STANDARD.encode(der.as_bytes()),
            "ValidityStartTime": "2025-01-01T00:00:00Z", "ValidityEndTime": "2027-01-01T00:00:00Z",
            "Fingerprint": FINGERPRINT}]});
        let path = o
            .root
            .parent()
            .unwrap_or(Path::new("."))
            .join("public-keys.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        eprintln!("public keys: {}", path.display());
    }
    let logs: usize = done.iter().map(|d| d.0).sum();
    let digests: usize = done.iter().map(|d| d.1).sum();
    eprintln!(
        "wrote {logs} log files and {digests} digests under {}",
        o.root.display()
    );
}
