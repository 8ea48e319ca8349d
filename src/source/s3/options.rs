//! Where and how to reach S3, as plain data: the `s3://bucket[/prefix]` of a
//! SOURCE and the validated connection options (`config` builds them from
//! the command line).

use std::path::PathBuf;

use anyhow::{bail, Result};

/// `s3://bucket[/prefix]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    /// Empty, or ends with `/`.
    pub prefix: String,
}

impl S3Url {
    /// Parses `s3://bucket[/prefix]`; the prefix is taken as a folder.
    pub fn parse(name: &str) -> Result<S3Url> {
        let Some(rest) = name.strip_prefix("s3://") else {
            bail!("{name}: not an s3://bucket[/prefix] URL");
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() || bucket.contains(|c: char| c.is_whitespace() || c == '?') {
            bail!("{name}: no bucket name");
        }
        let prefix = prefix.trim_matches('/');
        Ok(S3Url {
            bucket: bucket.to_string(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        })
    }

    /// The URL of a key of this bucket.
    pub fn url_of(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// How to reach S3, validated.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    pub profile: Option<String>,
    pub bucket_region: Option<String>,
    pub endpoint_url: Option<String>,
    pub no_sign_request: bool,
    pub concurrency: usize, // the ceiling of requests in flight
    /// How long a throttled request keeps being retried.
    pub retry_deadline: std::time::Duration,
    /// List only (a bench's measurement of the listing alone).
    pub list_only: bool,
    /// Test hook (`$CTSCAN_TEST_LIST_BARRIER`): GETs wait until this file, made after listing, is removed.
    pub list_barrier: Option<PathBuf>,
}

/// Environment variable of the test hook in [`S3Options::list_barrier`].
pub const LIST_BARRIER_ENV: &str = "CTSCAN_TEST_LIST_BARRIER";
