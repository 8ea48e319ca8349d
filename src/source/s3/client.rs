//! Reaching a bucket: the HTTP client, the SDK client (built once per bucket
//! and shared by every request), region discovery, the probe, and errors in
//! one line.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Result};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::{
    RequestChecksumCalculation, ResponseChecksumValidation, StalledStreamProtectionConfig,
};
use aws_sdk_s3::Client;

use super::error::{chain, describe};
use super::options::{S3Options, S3Url};
use super::retry::Failure;

/// Attempts of the probe, through the SDK's own retries (nothing else is
/// running yet to share a budget with).
const PROBE_ATTEMPTS: u32 = 4;

/// The HTTP client: rustls with ring, plain HTTP allowed for local endpoints.
pub fn http_client() -> aws_sdk_s3::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// A client that makes each request once: retries, throttling and backoff
/// are ours ([`super::retry`]), so that every attempt is counted and a
/// throttled request slows the whole run down instead of failing. Checksums
/// are validated only where S3 requires them (CloudTrail objects carry none
/// by default, and the body is checked by gzip anyway); the stalled-stream
/// timer is off, the read timeout bounds a stalled body.
async fn build_client(opts: &S3Options, region: Option<String>) -> Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .retry_config(RetryConfig::disabled())
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .read_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = region {
        loader = loader.region(Region::new(r));
    }
    if opts.no_sign_request {
        loader = loader.no_credentials();
    }
    let shared = loader.load().await;
    let mut b = aws_sdk_s3::config::Builder::from(&shared)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
    if shared.region().is_none() {
        b = b.region(Region::from_static("us-east-1"));
    }
    if let Some(url) = &opts.endpoint_url {
        b = b.endpoint_url(url).force_path_style(true);
    }
    Client::from_conf(b.build())
}

/// Builds the bucket's client, discovering its region unless given, and
/// probes it with one small LIST; returns the client and the LISTs sent.
/// The probe goes out beside HeadBucket, through the client of the region
/// configured, and again only when the bucket turns out to live elsewhere:
/// one round trip instead of two before the listing starts.
pub async fn connect(opts: &S3Options, url: &S3Url) -> Result<(Client, u64)> {
    let client = build_client(opts, opts.bucket_region.clone()).await;
    if opts.bucket_region.is_some() {
        probe(&client, url).await?;
        return Ok((client, 1));
    }
    let head = tokio::spawn(bucket_region(client.clone(), url.bucket.clone()));
    let probed = probe(&client, url).await;
    let region = head.await.ok().flatten();
    match region {
        Some(region) if client.config().region().map(|r| r.as_ref()) != Some(region.as_str()) => {
            let client = build_client(opts, Some(region)).await;
            probe(&client, url).await?;
            Ok((client, 2))
        }
        _ => probed.map(|()| (client, 1)),
    }
}

/// One small LIST, retried by the SDK (nothing else runs yet to share a
/// budget with): a wrong endpoint, bucket or credentials fail here.
async fn probe(client: &Client, url: &S3Url) -> Result<()> {
    let probe = client
        .list_objects_v2()
        .bucket(&url.bucket)
        .prefix(&url.prefix)
        .max_keys(1)
        .customize()
        .config_override(
            aws_sdk_s3::config::Config::builder()
                .retry_config(RetryConfig::standard().with_max_attempts(PROBE_ATTEMPTS)),
        )
        .send()
        .await;
    match probe {
        Ok(_) => Ok(()),
        Err(e) => bail!("{url}: cannot list: {}", describe(&e)),
    }
}

/// The bucket's region from HeadBucket (`x-amz-bucket-region`, also sent with
/// redirects and access errors). `None` when the server does not say.
async fn bucket_region(client: Client, bucket: String) -> Option<String> {
    let head = client.head_bucket().bucket(bucket).send().await;
    match head {
        Ok(out) => out.bucket_region().map(str::to_string),
        Err(e) => e
            .raw_response()
            .and_then(|r| r.headers().get("x-amz-bucket-region"))
            .map(str::to_string),
    }
}

/// A fetched object with what `mirror` records about it.
pub struct Got {
    pub body: Vec<u8>,
    pub etag: String,
    pub last_modified: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

/// GETs one object whole, once.
pub async fn get_object(client: &Client, bucket: &str, key: &str) -> Result<Got, Failure> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| Failure::of_sdk(&e))?;
    let etag = unquote(out.e_tag().unwrap_or_default());
    let last_modified = out
        .last_modified()
        .and_then(|t| t.fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime).ok());
    let metadata = out
        .metadata()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let body = out
        .body
        .collect()
        .await
        .map_err(|e| Failure::Transient {
            message: format!("reading the body: {}", chain(&e)),
            connection: true,
        })?
        .into_bytes();
    // One chunk, uniquely owned: taken without a copy.
    let body = Vec::from(body);
    Ok(Got {
        body,
        etag,
        last_modified,
        metadata,
    })
}

/// An ETag without its quotes.
pub fn unquote(etag: &str) -> String {
    etag.trim_matches('"').to_string()
}
