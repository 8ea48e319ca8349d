//! ListObjectsV2 over any [`Bucket`]: prefix, delimiter (common prefixes),
//! start-after, continuation tokens and max-keys, in S3's byte order.
//!
//! Nothing is held between pages: a continuation token is the encoded bound
//! where the next page starts, so a listing of millions of keys costs one
//! page of memory.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::bucket::{Bucket, ObjectMeta};

/// S3's default and largest page.
pub const MAX_KEYS: usize = 1000;

/// One ListObjectsV2 request's parameters.
#[derive(Debug, Default, Clone)]
pub struct ListParams<'a> {
    pub prefix: &'a str,
    pub delimiter: Option<&'a str>,
    pub start_after: Option<&'a str>,
    pub token: Option<&'a str>,
    pub max_keys: usize,
}

/// One entry of a page, in listing order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Object { key: String, meta: ObjectMeta },
    CommonPrefix(String),
}

/// One page of a listing.
#[derive(Debug, Default)]
pub struct Page {
    pub entries: Vec<Entry>,
    /// Set when the listing is truncated.
    pub next_token: Option<String>,
}

/// A continuation token that this server did not issue.
#[derive(Debug)]
pub struct BadToken;

/// Lists one page. Each common prefix counts as one entry toward max-keys,
/// as in S3, and the page after it starts past every key under it.
pub fn list_page(bucket: &dyn Bucket, params: &ListParams) -> Result<Page, BadToken> {
    let mut page = Page::default();
    if params.max_keys == 0 {
        return Ok(page);
    }
    let prefix = params.prefix;
    let mut cursor = bucket.cursor_at(&start_bound(params)?);
    while let Some(key) = cursor.key() {
        if !key.starts_with(prefix) {
            break;
        }
        if page.entries.len() == params.max_keys {
            page.next_token = Some(STANDARD.encode(key.as_bytes()));
            break;
        }
        let folder = params.delimiter.filter(|d| !d.is_empty()).and_then(|d| {
            key[prefix.len()..]
                .find(d)
                .map(|i| prefix.len() + i + d.len())
        });
        match folder {
            Some(end) => {
                let common = key[..end].to_string();
                cursor = bucket.cursor_at(&successor_of_prefix(common.as_bytes()));
                page.entries.push(Entry::CommonPrefix(common));
            }
            None => {
                let entry = Entry::Object {
                    key: key.to_string(),
                    meta: cursor.meta(),
                };
                page.entries.push(entry);
                cursor.advance();
            }
        }
    }
    Ok(page)
}

/// Where a page starts: the prefix, past start-after, at the token's bound.
fn start_bound(params: &ListParams) -> Result<Vec<u8>, BadToken> {
    let mut bound = params.prefix.as_bytes().to_vec();
    if let Some(after) = params.start_after {
        let mut past = after.as_bytes().to_vec();
        past.push(0);
        bound = bound.max(past);
    }
    if let Some(token) = params.token {
        let decoded = STANDARD.decode(token).map_err(|_| BadToken)?;
        bound = bound.max(decoded);
    }
    Ok(bound)
}

/// The smallest byte string greater than every string starting with `p`.
/// UTF-8 never holds 0xFF, so incrementing the last byte is enough.
fn successor_of_prefix(p: &[u8]) -> Vec<u8> {
    let mut out = p.to_vec();
    if let Some(last) = out.last_mut() {
        *last += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsbucket::SortedKeys;

    fn bucket(keys: &[&str]) -> SortedKeys {
        SortedKeys::from_keys(keys.iter().map(|k| k.to_string()))
    }

    fn names(page: &Page) -> Vec<String> {
        page.entries
            .iter()
            .map(|e| match e {
                Entry::Object { key, .. } => key.clone(),
                Entry::CommonPrefix(p) => format!("{p}*"),
            })
            .collect()
    }

    #[test]
    fn delimiter_groups_and_counts_prefixes_as_entries() {
        let b = bucket(&["a/1", "a/2", "b", "c/x/1", "c/y", "d"]);
        let mut p = ListParams {
            delimiter: Some("/"),
            max_keys: 2,
            ..Default::default()
        };
        let first = list_page(&b, &p).unwrap();
        assert_eq!(names(&first), ["a/*", "b"]);
        p.token = first.next_token.as_deref();
        let second = list_page(&b, &p).unwrap();
        assert_eq!(names(&second), ["c/*", "d"]);
        assert!(second.next_token.is_none());
    }

    #[test]
    fn start_after_and_prefix() {
        let b = bucket(&["p/a", "p/b", "p/c", "q"]);
        let p = ListParams {
            prefix: "p/",
            start_after: Some("p/a"),
            max_keys: 1000,
            ..Default::default()
        };
        assert_eq!(names(&list_page(&b, &p).unwrap()), ["p/b", "p/c"]);
        assert!(list_page(
            &b,
            &ListParams {
                token: Some("!!"),
                max_keys: 5,
                ..Default::default()
            }
        )
        .is_err());
    }
}
