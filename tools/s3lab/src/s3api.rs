//! The S3 operations, on top of `s3s`: ListObjectsV2, GetObject, PutObject
//! and DeleteObject (`--mem` buckets),
//! HeadObject, HeadBucket, GetBucketLocation and ListBuckets over the
//! configured buckets. `s3s` owns the protocol (routing, XML, headers);
//! this module only maps requests to [`Bucket`]s.

use std::collections::BTreeMap;
use std::sync::Arc;

use s3s::dto::{
    Bucket as BucketEntry, CommonPrefix, DeleteObjectInput, DeleteObjectOutput, ETag,
    ETagCondition, GetBucketLocationInput, GetBucketLocationOutput, GetObjectInput,
    GetObjectOutput, HeadBucketInput, HeadBucketOutput, HeadObjectInput, HeadObjectOutput,
    ListBucketsInput, ListBucketsOutput, ListObjectsV2Input, ListObjectsV2Output, Object,
    ObjectStorageClass, PutObjectInput, PutObjectOutput, StreamingBlob, Timestamp,
};
use s3s::{s3_error, S3Request, S3Response, S3Result, S3};

use crate::bucket::{Bucket, ObjectMeta, Put};
use crate::list::{list_page, Entry, ListParams, MAX_KEYS};

/// Signature checking for `--verify-secret`: any access key ID, one secret.
pub struct AnyAccessKey(pub String);

#[async_trait::async_trait]
impl s3s::auth::S3Auth for AnyAccessKey {
    async fn get_secret_key(&self, _access_key: &str) -> S3Result<s3s::auth::SecretKey> {
        Ok(s3s::auth::SecretKey::from(self.0.as_str()))
    }
}

/// The region every bucket reports.
pub const REGION: &str = "us-east-1";

/// All buckets by name.
#[derive(Clone, Default)]
pub struct Lab {
    buckets: BTreeMap<String, Arc<dyn Bucket>>,
}

impl Lab {
    pub fn add(&mut self, bucket: Arc<dyn Bucket>) {
        self.buckets.insert(bucket.name().to_string(), bucket);
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    fn bucket(&self, name: &str) -> S3Result<&dyn Bucket> {
        self.buckets
            .get(name)
            .map(|b| b.as_ref())
            .ok_or_else(|| s3_error!(NoSuchBucket))
    }

    fn object(&self, bucket: &str, key: &str) -> S3Result<(&dyn Bucket, ObjectMeta)> {
        let b = self.bucket(bucket)?;
        let meta = b.meta(key).ok_or_else(|| s3_error!(NoSuchKey))?;
        Ok((b, meta))
    }
}

fn etag(meta: &ObjectMeta) -> ETag {
    ETag::Strong(meta.etag.clone())
}

fn to_object(key: String, meta: &ObjectMeta) -> Object {
    Object {
        key: Some(key),
        size: Some(meta.size as i64),
        e_tag: Some(etag(meta)),
        last_modified: Some(Timestamp::from(meta.last_modified)),
        storage_class: Some(ObjectStorageClass::from_static(
            ObjectStorageClass::STANDARD,
        )),
        ..Default::default()
    }
}

/// Page size: S3's default of 1000, never more, negative is an error.
fn page_size(max_keys: Option<i32>) -> S3Result<usize> {
    match max_keys {
        None => Ok(MAX_KEYS),
        Some(n) if n < 0 => Err(s3_error!(InvalidArgument, "max-keys must be non-negative")),
        Some(n) => Ok((n as usize).min(MAX_KEYS)),
    }
}

#[async_trait::async_trait]
impl S3 for Lab {
    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let bucket = self.bucket(&input.bucket)?;
        let max_keys = page_size(input.max_keys)?;
        let params = ListParams {
            prefix: input.prefix.as_deref().unwrap_or(""),
            delimiter: input.delimiter.as_deref(),
            start_after: input.start_after.as_deref(),
            token: input.continuation_token.as_deref(),
            max_keys,
        };
        let page = list_page(bucket, &params).map_err(|_| {
            s3_error!(
                InvalidArgument,
                "The continuation token provided is incorrect"
            )
        })?;
        let key_count = page.entries.len() as i32;
        let (mut contents, mut prefixes) = (Vec::new(), Vec::new());
        for entry in page.entries {
            match entry {
                Entry::Object { key, meta } => contents.push(to_object(key, &meta)),
                Entry::CommonPrefix(p) => prefixes.push(CommonPrefix { prefix: Some(p) }),
            }
        }
        let output = ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: Some(params.prefix.to_string()),
            max_keys: Some(max_keys as i32),
            key_count: Some(key_count),
            is_truncated: Some(page.next_token.is_some()),
            next_continuation_token: page.next_token,
            contents: (!contents.is_empty()).then_some(contents),
            common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
            continuation_token: input.continuation_token,
            delimiter: input.delimiter,
            start_after: input.start_after,
            encoding_type: input.encoding_type,
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        let (bucket, meta) = self.object(&input.bucket, &input.key)?;
        let mut body = bucket
            .body(&input.key)
            .ok_or_else(|| s3_error!(NoSuchKey))?;
        let mut content_range = None;
        if let Some(range) = input.range {
            let span = range
                .check(body.len() as u64)
                .map_err(|_| s3_error!(InvalidRange))?;
            content_range = Some(format!(
                "bytes {}-{}/{}",
                span.start,
                span.end - 1,
                body.len()
            ));
            body = body.slice(span.start as usize..span.end as usize);
        }
        let output = GetObjectOutput {
            content_length: Some(body.len() as i64),
            content_range,
            accept_ranges: Some("bytes".to_string()),
            content_type: Some("application/octet-stream".to_string()),
            e_tag: Some(etag(&meta)),
            last_modified: Some(Timestamp::from(meta.last_modified)),
            body: Some(StreamingBlob::from(s3s::Body::from(body))),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    /// Into a `--mem` bucket; `If-None-Match: *` answered with 412 when the
    /// key exists (unless the bucket ignores conditions).
    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let input = req.input;
        let bucket = self.bucket(&input.bucket)?;
        let mut body = match input.body {
            Some(b) => s3s::Body::from(b),
            None => s3s::Body::empty(),
        };
        let bytes = body
            .store_all_limited(1 << 30)
            .await
            .map_err(|e| s3_error!(IncompleteBody, "{e}"))?;
        let only_new = matches!(input.if_none_match, Some(ETagCondition::Any));
        match bucket.put(&input.key, bytes, only_new) {
            Put::ReadOnly => Err(s3_error!(AccessDenied, "the bucket is read-only")),
            Put::Exists => Err(s3_error!(PreconditionFailed)),
            Put::Done(meta) => Ok(S3Response::new(PutObjectOutput {
                e_tag: Some(etag(&meta)),
                ..Default::default()
            })),
        }
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let bucket = self.bucket(&req.input.bucket)?;
        if !bucket.delete(&req.input.key) {
            return Err(s3_error!(AccessDenied, "the bucket is read-only"));
        }
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let (_, meta) = self.object(&req.input.bucket, &req.input.key)?;
        let output = HeadObjectOutput {
            content_length: Some(meta.size as i64),
            content_type: Some("application/octet-stream".to_string()),
            accept_ranges: Some("bytes".to_string()),
            e_tag: Some(etag(&meta)),
            last_modified: Some(Timestamp::from(meta.last_modified)),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.bucket(&req.input.bucket)?;
        let output = HeadBucketOutput {
            bucket_region: Some(REGION.to_string()),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    /// us-east-1 is reported as an empty location constraint, as S3 does.
    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.bucket(&req.input.bucket)?;
        Ok(S3Response::new(GetBucketLocationOutput::default()))
    }

    async fn list_buckets(
        &self,
        _req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let buckets = self
            .buckets
            .values()
            .map(|b| BucketEntry {
                name: Some(b.name().to_string()),
                creation_date: Some(Timestamp::from(b.created())),
                bucket_region: Some(REGION.to_string()),
            })
            .collect();
        let output = ListBucketsOutput {
            buckets: Some(buckets),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }
}
