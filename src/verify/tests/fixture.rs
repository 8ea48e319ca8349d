//! Builds real CloudTrail trees in a directory: gzip log files, a signed
//! digest chain with sidecar metadata, and a `list-public-keys` file.

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs1v15::SigningKey;
use rsa::rand_core::{CryptoRng, RngCore};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

pub const BUCKET: &str = "trail-bucket";
pub const FINGERPRINT: &str = "0123456789abcdef0123456789abcdef";
pub const ACCOUNT: &str = "111122223333";

/// Deterministic RNG (SHA-256 in counter mode): test keys only.
struct TestRng(u64);

impl RngCore for TestRng {
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

impl CryptoRng for TestRng {}

/// One 1024-bit key per test binary.
pub fn private_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut TestRng(7), 1024).expect("key generation"))
}

/// `list-public-keys` output holding the test key under `fingerprint`.
pub fn public_keys_json(fingerprint: &str) -> Vec<u8> {
    let der = private_key().to_public_key().to_pkcs1_der().unwrap();
    let value = base64::engine::general_purpose::STANDARD.encode(der.as_bytes());
    let doc = json!({"PublicKeyList": [{
        "Value": value,
        "ValidityStartTime": "2026-01-01T00:00:00+00:00",
        "ValidityEndTime": "2026-02-01T00:00:00+00:00",
        "Fingerprint": fingerprint,
    }]});
    serde_json::to_vec(&doc).unwrap()
}

pub fn sign_hex(message: &str) -> String {
    let key = SigningKey::<Sha256>::new(private_key().clone());
    hex::encode(key.sign(message.as_bytes()).to_vec())
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

pub fn write(root: &Path, key: &str, bytes: &[u8]) {
    let path = root.join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// What happens in one hour of a trail.
#[derive(Clone, Copy)]
pub enum Hour {
    /// A digest listing this many new log files.
    Logs(usize),
    /// A digest with empty `logFiles`.
    Quiet,
    /// Nothing at all; the next digest starts a new chain.
    Missing,
}

/// One trail's hours, starting at 2026-01-02T00:00:31Z.
pub struct TrailSpec {
    pub region: &'static str,
    pub trail: &'static str,
    pub hours: Vec<Hour>,
}

/// What was written for one digest.
#[derive(Clone, Debug)]
pub struct BuiltDigest {
    pub key: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub signature: String,
    pub logs: Vec<String>,
}

pub fn t0() -> Timestamp {
    "2026-01-02T00:00:31Z".parse().unwrap()
}

pub fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

fn folder(t: Timestamp) -> String {
    t.strftime("%Y/%m/%d").to_string()
}

/// Writes a log file delivered at `at`, returns its key and content hash.
pub fn write_log(root: &Path, region: &str, at: Timestamp, n: usize) -> (String, String) {
    let key = format!(
        "AWSLogs/{ACCOUNT}/CloudTrail/{region}/{}/{ACCOUNT}_CloudTrail_{region}_{}_X{n:015}.json.gz",
        folder(at),
        at.strftime("%Y%m%dT%H%MZ"),
    );
    let body =
        json!({"Records": [{"eventID": format!("{region}-{n}"), "eventTime": at.to_string()}]});
    let bytes = serde_json::to_vec(&body).unwrap();
    write(root, &key, &gzip(&bytes));
    (key, hex::encode(Sha256::digest(&bytes)))
}

/// Writes the trail's logs, digests and sidecars; returns digests oldest first.
pub fn build(root: &Path, spec: &TrailSpec) -> Vec<BuiltDigest> {
    let mut out: Vec<BuiltDigest> = Vec::new();
    let mut prev: Option<(String, String, String)> = None; // key, hash, signature
    let mut counter = 0;
    for (k, hour) in spec.hours.iter().enumerate() {
        let start = t0() + hours(k as i64);
        let end = start + hours(1);
        let n = match *hour {
            Hour::Missing => {
                prev = None;
                continue;
            }
            Hour::Quiet => 0,
            Hour::Logs(n) => n,
        };
        let mut logs = Vec::new();
        let mut entries = Vec::new();
        for j in 0..n {
            counter += 1;
            let at = start + SignedDuration::from_mins(5 * (j as i64 + 1));
            let (key, hash) = write_log(root, spec.region, at, counter);
            entries.push(json!({"s3Bucket": BUCKET, "s3Object": key, "hashValue": hash,
                "hashAlgorithm": "SHA-256", "newestEventTime": at.to_string(), "oldestEventTime": at.to_string()}));
            logs.push(key);
        }
        let key = digest_key(spec, end);
        let doc = digest_json(&key, start, end, prev.as_ref(), entries);
        let text = serde_json::to_string(&doc).unwrap();
        let hash = hex::encode(Sha256::digest(text.as_bytes()));
        let prev_sig = prev.as_ref().map_or("null", |p| p.2.as_str());
        let sts = format!("{end}\n{BUCKET}/{key}\n{hash}\n{prev_sig}");
        let signature = sign_hex(&sts);
        write(root, &key, &gzip(text.as_bytes()));
        write_sidecar(root, &key, &signature);
        prev = Some((key.clone(), hash, signature.clone()));
        out.push(BuiltDigest {
            key,
            start,
            end,
            signature,
            logs,
        });
    }
    out
}

fn digest_key(spec: &TrailSpec, end: Timestamp) -> String {
    let r = spec.region;
    format!(
        "AWSLogs/{ACCOUNT}/CloudTrail-Digest/{r}/{}/{ACCOUNT}_CloudTrail-Digest_{r}_{}_us-east-1_{}.json.gz",
        folder(end),
        spec.trail,
        end.strftime("%Y%m%dT%H%M%SZ"),
    )
}

fn digest_json(
    key: &str,
    start: Timestamp,
    end: Timestamp,
    prev: Option<&(String, String, String)>,
    entries: Vec<Value>,
) -> Value {
    json!({
        "awsAccountId": ACCOUNT,
        "digestStartTime": start.to_string(),
        "digestEndTime": end.to_string(),
        "digestS3Bucket": BUCKET,
        "digestS3Object": key,
        "digestPublicKeyFingerprint": FINGERPRINT,
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": null,
        "oldestEventTime": null,
        "previousDigestS3Bucket": prev.map(|_| BUCKET),
        "previousDigestS3Object": prev.map(|p| p.0.clone()),
        "previousDigestHashValue": prev.map(|p| p.1.clone()),
        "previousDigestHashAlgorithm": prev.map(|_| "SHA-256"),
        "previousDigestSignature": prev.map(|p| p.2.clone()),
        "logFiles": entries,
    })
}

pub fn write_sidecar(root: &Path, key: &str, signature: &str) {
    let sidecar = json!({"key": key, "bucket": BUCKET, "etag": "x", "size": 1,
        "last_modified": "2026-01-02T00:00:00Z",
        "metadata": {"signature": signature, "signature-algorithm": "SHA256withRSA"}});
    write(
        root,
        &format!(".ctscan-meta/{key}.json"),
        &serde_json::to_vec(&sidecar).unwrap(),
    );
}
