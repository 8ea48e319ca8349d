//! Digest signatures: loading CloudTrail public keys (the JSON output of
//! `aws cloudtrail list-public-keys`), building the exact string AWS signs,
//! and checking RSA PKCS#1 v1.5 SHA-256 signatures.
//!
//! A digest's signature comes from its object metadata (`signature`,
//! `signature-algorithm`). When the metadata is unknown (a mirror without
//! sidecars), the next digest's `previousDigestSignature` is used instead:
//! it is the same signature, copied by CloudTrail when it wrote the next
//! digest, so a chain can be authenticated except its newest digest.
//!
//! Keys are selected by fingerprint only; validity periods are not enforced
//! and the MD5 fingerprint of each key is not recomputed.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;

use super::digest::Digest;

/// The only signature algorithm CloudTrail uses.
pub const ALGORITHM: &str = "SHA256withRSA";

/// CloudTrail public keys by fingerprint.
#[derive(Debug, Clone, Default)]
pub struct PublicKeys {
    keys: HashMap<String, Result<VerifyingKey<Sha256>, String>>,
}

/// Why a public-keys file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PublicKeysError {
    /// Not JSON.
    #[error("public keys file is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// No `PublicKeyList` array.
    #[error("public keys file has no PublicKeyList array")]
    NoList,
    /// An entry without a `Fingerprint`.
    #[error("PublicKeyList[{0}] has no Fingerprint")]
    NoFingerprint(usize),
}

impl PublicKeys {
    /// Parses `list-public-keys` output (`PublicKeyList` or `publicKeyList`).
    /// A key whose `Value` does not decode is kept as unloadable, so digests
    /// naming it report that rather than "not found".
    pub fn from_json(bytes: &[u8]) -> Result<Self, PublicKeysError> {
        let doc: Value = serde_json::from_slice(bytes)?;
        let list = doc
            .get("PublicKeyList")
            .or_else(|| doc.get("publicKeyList"))
            .and_then(Value::as_array)
            .ok_or(PublicKeysError::NoList)?;
        let mut keys = PublicKeys::default();
        for (i, entry) in list.iter().enumerate() {
            let fingerprint = entry
                .get("Fingerprint")
                .and_then(Value::as_str)
                .ok_or(PublicKeysError::NoFingerprint(i))?;
            let key = entry
                .get("Value")
                .and_then(Value::as_str)
                .ok_or_else(|| "no Value".to_string())
                .and_then(decode_key);
            keys.keys
                .insert(fingerprint.to_ascii_lowercase(), key.map(VerifyingKey::new));
        }
        Ok(keys)
    }

    /// Adds a key under `fingerprint`.
    pub fn insert(&mut self, fingerprint: &str, key: RsaPublicKey) {
        self.keys
            .insert(fingerprint.to_ascii_lowercase(), Ok(VerifyingKey::new(key)));
    }

    /// Adds every key of `other` (e.g. another region's file).
    pub fn merge(&mut self, other: PublicKeys) {
        self.keys.extend(other.keys);
    }

    /// Number of fingerprints known.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// No keys at all.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Base64 DER, PKCS#1 `RSAPublicKey` first, then SubjectPublicKeyInfo.
fn decode_key(b64: &str) -> Result<RsaPublicKey, String> {
    let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| format!("Value is not base64: {e}"))?;
    RsaPublicKey::from_pkcs1_der(&der)
        .or_else(|_| RsaPublicKey::from_public_key_der(&der))
        .map_err(|e| format!("Unable to load PKCS #1 key: {e}"))
}

/// The exact string CloudTrail signs for a digest.
pub fn string_to_sign(digest: &Digest, inflated_sha256_hex: &str) -> String {
    format!(
        "{}\n{}/{}\n{}\n{}",
        digest.end_text,
        digest.bucket,
        digest.object,
        inflated_sha256_hex,
        digest.previous_signature.as_deref().unwrap_or("null")
    )
}

/// Outcome of a digest's signature check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SignatureStatus {
    /// Verified with an AWS key.
    Valid {
        /// Where the signature came from.
        source: SignatureSource,
    },
    /// Present but wrong, or metadata lacks it ("signature verification failed").
    Invalid {
        /// Where the signature came from.
        source: SignatureSource,
        /// Why it failed.
        reason: String,
    },
    /// No key with the digest's fingerprint was given.
    PublicKeyNotFound {
        /// `digestPublicKeyFingerprint`.
        fingerprint: String,
    },
    /// The key with that fingerprint did not decode.
    KeyUnloadable {
        /// `digestPublicKeyFingerprint`.
        fingerprint: String,
        /// Decoder error.
        reason: String,
    },
    /// Not checked; only hashes vouch for this digest.
    NotChecked {
        /// Why.
        reason: NotCheckedReason,
    },
}

impl SignatureStatus {
    /// A check was attempted and failed.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Self::Invalid { .. } | Self::PublicKeyNotFound { .. } | Self::KeyUnloadable { .. }
        )
    }
}

/// Where a checked signature came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureSource {
    /// The digest object's metadata.
    Metadata,
    /// The next digest's `previousDigestSignature`.
    NextDigest,
}

/// Why a signature was not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotCheckedReason {
    /// No public keys were given.
    NoPublicKeys,
    /// Metadata unknown and no next digest carries the signature.
    NoMetadata,
    /// Metadata could not be read and no next digest carries the signature.
    MetadataUnreadable,
    /// The digest itself is unreadable or invalid JSON.
    InvalidDigest,
}

/// What a signature check needs about one digest.
pub(crate) struct SignatureInput<'a> {
    pub digest: &'a Digest,
    pub inflated_hash: &'a str,
    /// `Err` = metadata unreadable.
    pub metadata: Result<Option<&'a BTreeMap<String, String>>, ()>,
    /// The next digest's `previousDigestSignature`, when it links here.
    pub next_signature: Option<&'a str>,
}

/// Picks the signature to check and checks it.
pub(crate) fn check(keys: Option<&PublicKeys>, input: &SignatureInput<'_>) -> SignatureStatus {
    let Some(keys) = keys else {
        return not_checked(NotCheckedReason::NoPublicKeys);
    };
    let (source, hex_sig) = match (input.metadata, input.next_signature) {
        (Ok(Some(meta)), _) => match metadata_signature(meta) {
            Ok(sig) => (SignatureSource::Metadata, sig),
            Err(reason) => {
                let source = SignatureSource::Metadata;
                return SignatureStatus::Invalid { source, reason };
            }
        },
        (_, Some(sig)) => (SignatureSource::NextDigest, sig),
        (Ok(None), None) => return not_checked(NotCheckedReason::NoMetadata),
        (Err(()), None) => return not_checked(NotCheckedReason::MetadataUnreadable),
    };
    let fingerprint = input.digest.fingerprint.to_ascii_lowercase();
    let key = match keys.keys.get(&fingerprint) {
        None => return SignatureStatus::PublicKeyNotFound { fingerprint },
        Some(Err(reason)) => {
            let reason = reason.clone();
            return SignatureStatus::KeyUnloadable {
                fingerprint,
                reason,
            };
        }
        Some(Ok(key)) => key,
    };
    let message = string_to_sign(input.digest, input.inflated_hash);
    match verify_hex(key, message.as_bytes(), hex_sig) {
        Ok(()) => SignatureStatus::Valid { source },
        Err(reason) => SignatureStatus::Invalid { source, reason },
    }
}

fn not_checked(reason: NotCheckedReason) -> SignatureStatus {
    SignatureStatus::NotChecked { reason }
}

/// The metadata signature, requiring the algorithm to be `SHA256withRSA`.
fn metadata_signature(meta: &BTreeMap<String, String>) -> Result<&str, String> {
    let sig = meta
        .get("signature")
        .ok_or("object metadata carries no signature")?;
    match meta.get("signature-algorithm").map(String::as_str) {
        Some(ALGORITHM) => Ok(sig),
        Some(other) => Err(format!("unsupported signature-algorithm {other}")),
        None => Err("object metadata carries no signature-algorithm".into()),
    }
}

fn verify_hex(key: &VerifyingKey<Sha256>, message: &[u8], hex_sig: &str) -> Result<(), String> {
    let bytes = hex::decode(hex_sig.trim()).map_err(|_| "signature is not hex".to_string())?;
    let sig = Signature::try_from(bytes.as_slice()).map_err(|e| e.to_string())?;
    key.verify(message, &sig)
        .map_err(|_| "signature verification failed".to_string())
}
