//! The `--mem BUCKET` backend: an empty bucket held in memory that takes
//! PutObject and DeleteObject, for clients that write (an event lake).
//!
//! PutObject honours `If-None-Match: *` as S3 does (412 when the key
//! exists), unless the bucket was made with `--mem-unconditional`, which
//! ignores the condition as some S3-compatible servers do.

use std::collections::BTreeMap;
use std::sync::RwLock;

use bytes::Bytes;
use md5::{Digest, Md5};
use time::OffsetDateTime;

use crate::bucket::{Bucket, KeyCursor, ObjectMeta, Put};

/// A writable bucket in memory.
pub struct MemBucket {
    name: String,
    created: OffsetDateTime,
    /// Whether `If-None-Match: *` is honoured.
    conditional: bool,
    objects: RwLock<BTreeMap<String, (ObjectMeta, Bytes)>>,
}

impl MemBucket {
    pub fn new(name: &str, conditional: bool) -> MemBucket {
        MemBucket {
            name: name.to_string(),
            created: OffsetDateTime::now_utc(),
            conditional,
            objects: RwLock::new(BTreeMap::new()),
        }
    }
}

/// A snapshot of the keys from a bound on.
struct VecCursor {
    entries: Vec<(String, ObjectMeta)>,
    at: usize,
}

impl KeyCursor for VecCursor {
    fn key(&self) -> Option<&str> {
        self.entries.get(self.at).map(|e| e.0.as_str())
    }
    fn meta(&self) -> ObjectMeta {
        self.entries[self.at].1.clone()
    }
    fn advance(&mut self) {
        self.at += 1;
    }
}

impl Bucket for MemBucket {
    fn name(&self) -> &str {
        &self.name
    }
    fn created(&self) -> OffsetDateTime {
        self.created
    }
    fn cursor_at<'a>(&'a self, bound: &[u8]) -> Box<dyn KeyCursor + 'a> {
        let objects = self.objects.read().unwrap_or_else(|e| e.into_inner());
        let entries = objects
            .iter()
            .filter(|(k, _)| k.as_bytes() >= bound)
            .map(|(k, (m, _))| (k.clone(), m.clone()))
            .collect();
        Box::new(VecCursor { entries, at: 0 })
    }
    fn meta(&self, key: &str) -> Option<ObjectMeta> {
        let objects = self.objects.read().unwrap_or_else(|e| e.into_inner());
        objects.get(key).map(|(m, _)| m.clone())
    }
    fn body(&self, key: &str) -> Option<Bytes> {
        let objects = self.objects.read().unwrap_or_else(|e| e.into_inner());
        objects.get(key).map(|(_, b)| b.clone())
    }
    fn put(&self, key: &str, body: Bytes, only_new: bool) -> Put {
        let mut objects = self.objects.write().unwrap_or_else(|e| e.into_inner());
        if only_new && self.conditional && objects.contains_key(key) {
            return Put::Exists;
        }
        let meta = ObjectMeta {
            size: body.len() as u64,
            etag: crate::hash::to_hex(&Md5::digest(&body)),
            last_modified: OffsetDateTime::now_utc(),
        };
        objects.insert(key.to_string(), (meta.clone(), body));
        Put::Done(meta)
    }
    fn delete(&self, key: &str) -> bool {
        let mut objects = self.objects.write().unwrap_or_else(|e| e.into_inner());
        objects.remove(key);
        true
    }
}
