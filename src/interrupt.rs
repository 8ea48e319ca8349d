//! Ctrl-C, and what an interrupted run leaves behind: nothing half written.
//!
//! Temporary files are registered here ([`TempPath`]) for as long as they
//! exist. The first Ctrl-C asks the run to stop ([`requested`]): the scan
//! takes no more objects, writers remove their temporary file instead of
//! renaming it, and `main` exits with [`EXIT_STATUS`]. A second Ctrl-C, or a
//! run still going after [`GRACE`], ends the process at once, after removing
//! every registered file; no file can be registered after that.
//!
//! The only I/O here is removing those files and, from [`install`], the
//! last line on stderr.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The exit status of an interrupted run: 128 + SIGINT, as shells report it.
pub const EXIT_STATUS: u8 = 130;

/// How long a first Ctrl-C waits for the run to stop on its own.
pub const GRACE: Duration = Duration::from_secs(3);

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// The temporary files that exist now; `None` once the process is ending,
/// so a file cannot appear after the last cleanup.
static IN_FLIGHT: Mutex<Option<Vec<PathBuf>>> = Mutex::new(Some(Vec::new()));

/// The run stopped because the user pressed Ctrl-C.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Whether Ctrl-C was pressed: long loops check it and stop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// `Err(Interrupted)` once Ctrl-C was pressed.
pub fn check() -> Result<(), Interrupted> {
    if requested() {
        Err(Interrupted)
    } else {
        Ok(())
    }
}

fn in_flight() -> MutexGuard<'static, Option<Vec<PathBuf>>> {
    IN_FLIGHT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A temporary file's path, registered before the file is created; the file
/// is removed and the path forgotten when this is dropped (after a rename,
/// there is nothing left to remove).
#[derive(Debug)]
pub struct TempPath {
    path: PathBuf,
}

impl TempPath {
    /// Registers `path`. Fails once the process is ending, so that no
    /// temporary file is created after the last cleanup.
    pub fn register(path: PathBuf) -> io::Result<TempPath> {
        match in_flight().as_mut() {
            Some(paths) => {
                paths.push(path.clone());
                Ok(TempPath { path })
            }
            None => Err(io::Error::new(io::ErrorKind::Interrupted, Interrupted)),
        }
    }

    /// The registered path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        if let Some(paths) = in_flight().as_mut() {
            if let Some(i) = paths.iter().rposition(|p| *p == self.path) {
                paths.swap_remove(i);
            }
        }
    }
}

/// Removes every registered file and ends the process with [`EXIT_STATUS`],
/// holding the registry so that no other thread registers a new one.
fn exit_now() -> ! {
    let mut registry = in_flight();
    for path in registry.take().unwrap_or_default() {
        let _ = std::fs::remove_file(path);
    }
    const LINE: &[u8] = b"\nctscan: interrupted\n";
    // SAFETY: write(2) and _exit(2) take no locks; other threads may be
    // anywhere, and nothing of theirs must run or be waited for.
    unsafe {
        libc::write(2, LINE.as_ptr().cast(), LINE.len());
        libc::_exit(i32::from(EXIT_STATUS));
    }
}

/// Takes over SIGINT: the first asks the run to stop and ends it after
/// [`GRACE`] if it has not stopped; a second ends it at once.
#[cfg(feature = "cli")]
pub fn install() -> io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT])?;
    std::thread::Builder::new()
        .name("ctrl-c".into())
        .spawn(move || {
            let mut presses = signals.forever();
            if presses.next().is_none() {
                return;
            }
            REQUESTED.store(true, Ordering::Relaxed);
            let watchdog = std::thread::Builder::new().name("ctrl-c-grace".into());
            let _ = watchdog.spawn(|| {
                std::thread::sleep(GRACE);
                exit_now()
            });
            if presses.next().is_some() {
                exit_now();
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temp_path_is_removed_and_forgotten_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".out.csv.1.tmp");
        let tmp = TempPath::register(path.clone()).unwrap();
        std::fs::write(tmp.path(), b"half").unwrap();
        assert!(in_flight().as_ref().unwrap().contains(&path));
        drop(tmp);
        assert!(!path.exists());
        assert!(!in_flight().as_ref().unwrap().contains(&path));
    }
}
