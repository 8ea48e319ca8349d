//! What a backend must provide: keys in byte order from any starting point,
//! per-object metadata, and bodies. Listing semantics live in `list`, not in
//! the backends.

use bytes::Bytes;
use time::OffsetDateTime;

/// What listings, GETs and HEADs report about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub size: u64,
    /// The ETag's value without quotes.
    pub etag: String,
    pub last_modified: OffsetDateTime,
}

/// A position in a bucket's sorted key space.
pub trait KeyCursor {
    /// The key here, or `None` past the last key.
    fn key(&self) -> Option<&str>;
    /// Metadata of the key here (only called when `key` is `Some`).
    fn meta(&self) -> ObjectMeta;
    /// Moves to the next key in byte order.
    fn advance(&mut self);
}

/// One bucket's objects.
pub trait Bucket: Send + Sync {
    fn name(&self) -> &str;
    /// When the bucket was "created", for ListBuckets.
    fn created(&self) -> OffsetDateTime;
    /// A cursor at the first key that is byte-wise ≥ `bound`.
    fn cursor_at<'a>(&'a self, bound: &[u8]) -> Box<dyn KeyCursor + 'a>;
    /// The object's metadata, `None` when the key does not exist.
    fn meta(&self, key: &str) -> Option<ObjectMeta>;
    /// The object's bytes, `None` when the key does not exist.
    fn body(&self, key: &str) -> Option<Bytes>;
    /// Stores an object (only if no object has the key, when `only_new`).
    fn put(&self, _key: &str, _body: Bytes, _only_new: bool) -> Put {
        Put::ReadOnly
    }
    /// Deletes an object; false when the bucket is read-only.
    fn delete(&self, _key: &str) -> bool {
        false
    }
}

/// What became of a PutObject.
pub enum Put {
    /// The bucket takes no writes.
    ReadOnly,
    /// `If-None-Match: *` and the key exists.
    Exists,
    Done(ObjectMeta),
}
