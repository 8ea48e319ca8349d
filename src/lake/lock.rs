//! One ingest at a time per lake: a lock file created exclusively.
//!
//! The file says who holds it (pid, host, start time), so a refused run can
//! name its holder, and a lock left by a process that died on this host can
//! be taken over. A lock from another host is never taken over: only its
//! owner, or a person who removes it, can tell that it is stale.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::interrupt::TempPath;

/// The lock's path below the lake's root.
pub const LOCK_FILE: &str = "_ctscan/lock";

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    /// RFC 3339.
    pub started: String,
}

impl Holder {
    /// This process, started at `started`.
    pub fn this_process(started: jiff::Timestamp) -> Holder {
        Holder {
            pid: std::process::id(),
            host: hostname(),
            started: started.to_string(),
        }
    }
}

/// A held lock; dropping it (or Ctrl-C) removes the file.
#[derive(Debug)]
pub struct LakeLock {
    _file: TempPath,
}

/// The lock's path for the lake at `root`.
pub fn lock_path(root: &Path) -> PathBuf {
    root.join(LOCK_FILE)
}

impl LakeLock {
    /// Takes the lock at `path` for `me`. A lock held by a live process, or
    /// by any process on another host, is an error naming the file and its
    /// holder; one whose process is gone from this host is taken over with a
    /// warning on stderr.
    pub fn acquire(path: &Path, me: &Holder) -> Result<LakeLock> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(mut f) => {
                    let file = TempPath::register(path.to_path_buf())?;
                    serde_json::to_writer(&mut f, me)?;
                    f.write_all(b"\n")?;
                    f.sync_all()?;
                    return Ok(LakeLock { _file: file });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = read_holder(path);
                    match &holder {
                        Some(h) if h.host == me.host && !process_alive(h.pid) => {
                            eprintln!(
                                "ctscan: warning: {}: taking over the lock of process {} (started {}), which is no longer running",
                                path.display(),
                                h.pid,
                                h.started
                            );
                            std::fs::remove_file(path)
                                .with_context(|| format!("removing {}", path.display()))?;
                        }
                        _ => bail!(refusal(path, holder.as_ref())),
                    }
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("creating {}", path.display()));
                }
            }
        }
        bail!(refusal(path, read_holder(path).as_ref()))
    }
}

pub(crate) fn refusal(path: &Path, holder: Option<&Holder>) -> String {
    let who = match holder {
        Some(h) => format!("process {} on {}, started {}", h.pid, h.host, h.started),
        None => "an unknown process (the lock file is unreadable)".to_string(),
    };
    format!(
        "another ingest is writing this lake: {} is held by {who}; wait for it, or remove the file if that process is gone",
        path.display()
    )
}

pub(crate) fn read_holder(path: &Path) -> Option<Holder> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Whether a process of this id runs on this host.
pub(crate) fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// This machine's host name.
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is writable for its whole length.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".to_string();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_holder_refuses_and_a_dead_one_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = lock_path(dir.path());
        let me = Holder::this_process(jiff::Timestamp::UNIX_EPOCH);
        let held = LakeLock::acquire(&path, &me).unwrap();
        let err = LakeLock::acquire(&path, &me).unwrap_err().to_string();
        assert!(err.contains("_ctscan/lock is held by process"), "{err}");
        assert!(err.contains(&format!("process {}", me.pid)), "{err}");
        drop(held);
        assert!(!path.exists());
        // A process that cannot exist (pids stop well below this).
        let dead = Holder {
            pid: 999_999_999,
            ..me.clone()
        };
        std::fs::write(&path, serde_json::to_vec(&dead).unwrap()).unwrap();
        let _taken = LakeLock::acquire(&path, &me).unwrap();
        assert_eq!(read_holder(&path), Some(me.clone()));
        // Another host's lock is never taken over.
        drop(_taken);
        let other = Holder {
            host: "elsewhere".into(),
            ..dead
        };
        std::fs::write(&path, serde_json::to_vec(&other).unwrap()).unwrap();
        let err = LakeLock::acquire(&path, &me).unwrap_err().to_string();
        assert!(err.contains("on elsewhere"), "{err}");
    }
}
