//! Reading a digest file: gunzip, SHA-256 of the inflated bytes, and parsing
//! the digest JSON into [`Digest`] with the required-key rules of
//! `validate-logs` ("invalid format" otherwise).
//!
//! Owns byte-level decoding shared with log hashing ([`inflate`],
//! [`sha256_hex`]). Does not judge chains or signatures.

use std::io::Read;

use jiff::Timestamp;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::naming::iso_time;

/// A parsed digest file. String fields are kept verbatim because the
/// signature covers them exactly as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// `digestStartTime` as written.
    pub start_text: String,
    /// `digestEndTime` as written (part of the signed string).
    pub end_text: String,
    /// Parsed `digestStartTime`.
    pub start: Timestamp,
    /// Parsed `digestEndTime`.
    pub end: Timestamp,
    /// `digestS3Bucket`.
    pub bucket: String,
    /// `digestS3Object`.
    pub object: String,
    /// `digestPublicKeyFingerprint`.
    pub fingerprint: String,
    /// `previousDigestS3Bucket` (null at a chain start).
    pub previous_bucket: Option<String>,
    /// `previousDigestS3Object` (null at a chain start).
    pub previous_object: Option<String>,
    /// `previousDigestHashValue`.
    pub previous_hash: Option<String>,
    /// `previousDigestSignature` (present but null at a chain start).
    pub previous_signature: Option<String>,
    /// `logFiles`.
    pub log_files: Vec<DigestLogEntry>,
}

/// One `logFiles[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestLogEntry {
    /// `s3Bucket`, if given.
    pub bucket: Option<String>,
    /// `s3Object`: full S3 key of the log file.
    pub object: String,
    /// `hashValue`: SHA-256 hex of the inflated log file.
    pub hash: String,
}

/// Why a digest is "invalid format".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestFormatError {
    /// Not JSON at all.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// JSON, but not an object.
    #[error("top level is not a JSON object")]
    NotObject,
    /// A required key is absent.
    #[error("missing required key {0}")]
    Missing(&'static str),
    /// A key has the wrong JSON type.
    #[error("key {0} has the wrong type")]
    WrongType(&'static str),
    /// A time does not parse.
    #[error("key {0} is not an RFC 3339 time")]
    BadTime(&'static str),
    /// A `logFiles` entry is malformed.
    #[error("logFiles[{0}] lacks a string {1}")]
    BadLogEntry(usize, &'static str),
}

impl Digest {
    /// Parses inflated digest bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, DigestFormatError> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| DigestFormatError::Json(e.to_string()))?;
        let obj = value.as_object().ok_or(DigestFormatError::NotObject)?;
        let start_text = required_str(obj, "digestStartTime")?;
        let end_text = required_str(obj, "digestEndTime")?;
        let start = iso_time(&start_text).ok_or(DigestFormatError::BadTime("digestStartTime"))?;
        let end = iso_time(&end_text).ok_or(DigestFormatError::BadTime("digestEndTime"))?;
        if !obj.contains_key("previousDigestSignature") {
            return Err(DigestFormatError::Missing("previousDigestSignature"));
        }
        Ok(Digest {
            start_text,
            end_text,
            start,
            end,
            bucket: required_str(obj, "digestS3Bucket")?,
            object: required_str(obj, "digestS3Object")?,
            fingerprint: required_str(obj, "digestPublicKeyFingerprint")?,
            previous_bucket: optional_str(obj, "previousDigestS3Bucket")?,
            previous_object: optional_str(obj, "previousDigestS3Object")?,
            previous_hash: optional_str(obj, "previousDigestHashValue")?,
            previous_signature: optional_str(obj, "previousDigestSignature")?,
            log_files: log_entries(obj)?,
        })
    }
}

fn required_str(obj: &Map<String, Value>, key: &'static str) -> Result<String, DigestFormatError> {
    match obj.get(key) {
        None | Some(Value::Null) => Err(DigestFormatError::Missing(key)),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(DigestFormatError::WrongType(key)),
    }
}

fn optional_str(
    obj: &Map<String, Value>,
    key: &'static str,
) -> Result<Option<String>, DigestFormatError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(DigestFormatError::WrongType(key)),
    }
}

fn log_entries(obj: &Map<String, Value>) -> Result<Vec<DigestLogEntry>, DigestFormatError> {
    let list = match obj.get("logFiles") {
        None => return Err(DigestFormatError::Missing("logFiles")),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(DigestFormatError::WrongType("logFiles")),
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let get = |k: &'static str| {
            entry
                .get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or(DigestFormatError::BadLogEntry(i, k))
        };
        out.push(DigestLogEntry {
            bucket: entry
                .get("s3Bucket")
                .and_then(Value::as_str)
                .map(str::to_string),
            object: get("s3Object")?,
            hash: get("hashValue")?,
        });
    }
    Ok(out)
}

/// Inflated object bytes.
#[derive(Debug)]
pub struct Inflated {
    /// The decompressed content (or the raw bytes if they were not gzip).
    pub bytes: Vec<u8>,
    /// Bytes followed the first gzip member (the CLI fails such files).
    pub trailing_data: bool,
}

/// Inflates one gzip member. Bytes without the gzip magic are taken as
/// already inflated (some download tools store `.json.gz` decompressed).
pub fn inflate(raw: &[u8]) -> std::io::Result<Inflated> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(Inflated {
            bytes: raw.to_vec(),
            trailing_data: false,
        });
    }
    let mut decoder = flate2::bufread::GzDecoder::new(raw);
    let mut bytes = Vec::with_capacity(raw.len().saturating_mul(6));
    decoder.read_to_end(&mut bytes)?;
    let rest = decoder.into_inner();
    Ok(Inflated {
        bytes,
        trailing_data: !rest.is_empty(),
    })
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflate_detects_trailing_data_and_plain_input() {
        let mut raw = gz(b"hello");
        let ok = inflate(&raw).unwrap();
        assert_eq!(
            (ok.bytes.as_slice(), ok.trailing_data),
            (&b"hello"[..], false)
        );
        raw.extend_from_slice(b"junk");
        assert!(inflate(&raw).unwrap().trailing_data);
        assert_eq!(inflate(b"{}").unwrap().bytes, b"{}");
        assert!(inflate(&[0x1f, 0x8b, 0, 1]).is_err());
    }

    #[test]
    fn parse_reports_first_missing_key() {
        let err = Digest::parse(br#"{"digestStartTime":"2026-01-01T00:00:00Z"}"#).unwrap_err();
        assert_eq!(err, DigestFormatError::Missing("digestEndTime"));
        assert_eq!(
            Digest::parse(b"[1]").unwrap_err(),
            DigestFormatError::NotObject
        );
    }
}
