//! The lock of a lake on S3: `_ctscan/lock` (or a shard's own lock key)
//! created with `If-None-Match: *`, so of two ingests only one creates it;
//! deleted when the ingest ends.
//!
//! Right after taking it, a second conditional PUT of the same key must be
//! refused: a server that accepts it ignores the condition and cannot keep
//! two writers apart, and the ingest stops there. As locally, a lock left
//! by a process that died on this host is taken over; one from another
//! host is never.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Result};

use super::RemoteLake;
use crate::lake::lock::{process_alive, refusal, Holder};

/// A held lock on S3; dropping it deletes the key.
pub struct RemoteLock {
    lake: Arc<RemoteLake>,
    rel: String,
}

impl RemoteLock {
    /// Takes the lock `rel` (relative to the lake's prefix) for `me`;
    /// `retry_of_index`: `me` is an engine's worker for this shard's index.
    pub fn acquire(
        lake: &Arc<RemoteLake>,
        rel: &str,
        me: &Holder,
        retry_of_index: bool,
    ) -> Result<RemoteLock> {
        let mut body = serde_json::to_vec(me)?;
        body.push(b'\n');
        let shown = PathBuf::from(lake.url().url_of(&lake.key(rel)));
        for _ in 0..2 {
            if lake.put_new(rel, &body)? {
                let lock = RemoteLock {
                    lake: lake.clone(),
                    rel: rel.to_string(),
                };
                if lake.put_new(rel, &body)? {
                    bail!(
                        "--lake {}: the server ignores conditional writes (a PUT with If-None-Match: * replaced an existing key), so it cannot keep two ingests apart; use a server that supports them, as S3 does",
                        lake.url()
                    );
                }
                return Ok(lock);
            }
            let holder: Option<Holder> =
                lake.get(rel)?.and_then(|b| serde_json::from_slice(&b).ok());
            match &holder {
                Some(h) if h.host == me.host && !process_alive(h.pid) => {
                    eprintln!(
                        "ctscan: warning: {}: taking over the lock of process {} (started {}), which is no longer running",
                        shown.display(),
                        h.pid,
                        h.started
                    );
                    lake.delete(rel)?;
                }
                Some(h) if h.host != me.host && retry_of_index => {
                    eprintln!(
                        "ctscan: warning: {}: taking over the lock of process {} on {} (started {}): the array job's engine retries an index only once its worker has ended",
                        shown.display(),
                        h.pid,
                        h.host,
                        h.started
                    );
                    lake.delete(rel)?;
                }
                _ => bail!(refusal(&shown, holder.as_ref())),
            }
        }
        bail!(refusal(&shown, None))
    }
}

impl Drop for RemoteLock {
    fn drop(&mut self) {
        if let Err(e) = self.lake.delete(&self.rel) {
            eprintln!("ctscan: warning: releasing the lake's lock: {e:#}");
        }
    }
}
