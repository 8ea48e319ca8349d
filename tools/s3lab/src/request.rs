//! What a request is, read from its method, path and query before `s3s`
//! sees it: the operation name and parameters that stats, injection and
//! the request log need.

use std::borrow::Cow;

use http::{Method, Uri};
use percent_encoding::percent_decode_str;

/// The S3 operations the server tells apart (path-style addressing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    ListBuckets,
    ListObjectsV2,
    ListObjects,
    GetBucketLocation,
    HeadBucket,
    GetObject,
    HeadObject,
    PutObject,
    DeleteObject,
    Other,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::ListBuckets => "ListBuckets",
            Op::ListObjectsV2 => "ListObjectsV2",
            Op::ListObjects => "ListObjects",
            Op::GetBucketLocation => "GetBucketLocation",
            Op::HeadBucket => "HeadBucket",
            Op::GetObject => "GetObject",
            Op::HeadObject => "HeadObject",
            Op::PutObject => "PutObject",
            Op::DeleteObject => "DeleteObject",
            Op::Other => "Other",
        }
    }

    pub fn is_listing(self) -> bool {
        matches!(self, Op::ListObjectsV2 | Op::ListObjects)
    }
}

/// One request's operation and the parameters worth logging.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    pub op: Option<Op>,
    pub is_head: bool,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub prefix: Option<String>,
    pub delimiter: Option<String>,
    pub start_after: Option<String>,
    pub continuation: bool,
}

fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

impl RequestInfo {
    pub fn parse(method: &Method, uri: &Uri) -> RequestInfo {
        let path = uri.path().trim_start_matches('/');
        let (bucket, key) = match path.split_once('/') {
            Some((b, k)) => (b, k),
            None => (path, ""),
        };
        let mut info = RequestInfo {
            is_head: method == Method::HEAD,
            bucket: (!bucket.is_empty()).then(|| decode(bucket)),
            key: (!key.is_empty()).then(|| decode(key)),
            ..Default::default()
        };
        let mut list_type = None;
        let mut location = false;
        for (name, value) in query_pairs(uri.query().unwrap_or("")) {
            match name.as_ref() {
                "prefix" => info.prefix = Some(value),
                "delimiter" => info.delimiter = Some(value),
                "start-after" => info.start_after = Some(value),
                "continuation-token" => info.continuation = true,
                "list-type" => list_type = Some(value),
                "location" => location = true,
                _ => {}
            }
        }
        info.op = Some(info.classify(method, list_type.as_deref(), location));
        info
    }

    fn classify(&self, method: &Method, list_type: Option<&str>, location: bool) -> Op {
        let get = method == Method::GET;
        match (&self.bucket, &self.key) {
            (None, _) if get => Op::ListBuckets,
            (Some(_), None) if get && location => Op::GetBucketLocation,
            (Some(_), None) if get && list_type == Some("2") => Op::ListObjectsV2,
            (Some(_), None) if get => Op::ListObjects,
            (Some(_), None) if self.is_head => Op::HeadBucket,
            (Some(_), Some(_)) if get => Op::GetObject,
            (Some(_), Some(_)) if self.is_head => Op::HeadObject,
            (Some(_), Some(_)) if method == Method::PUT => Op::PutObject,
            (Some(_), Some(_)) if method == Method::DELETE => Op::DeleteObject,
            _ => Op::Other,
        }
    }

    pub fn op(&self) -> Op {
        self.op.unwrap_or(Op::Other)
    }
}

/// Decoded `name=value` pairs of a query string.
fn query_pairs(query: &str) -> impl Iterator<Item = (Cow<'static, str>, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (Cow::Owned(decode(name)), decode(value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_path_style_requests() {
        let get = |u: &str| RequestInfo::parse(&Method::GET, &u.parse().unwrap());
        let l = get("/b?list-type=2&prefix=AWSLogs%2Fo-1%2F&delimiter=%2F&continuation-token=x");
        assert_eq!(l.op(), Op::ListObjectsV2);
        assert_eq!(l.prefix.as_deref(), Some("AWSLogs/o-1/"));
        assert!(l.continuation);
        assert_eq!(
            get("/b/a%20b/c.json.gz").key.as_deref(),
            Some("a b/c.json.gz")
        );
        assert_eq!(get("/b/k").op(), Op::GetObject);
        assert_eq!(get("/b?location").op(), Op::GetBucketLocation);
        assert_eq!(get("/").op(), Op::ListBuckets);
        assert_eq!(
            RequestInfo::parse(&Method::HEAD, &"/b".parse().unwrap()).op(),
            Op::HeadBucket
        );
    }
}
