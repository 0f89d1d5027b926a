//! The lock of a file store: an in-process gate, then an exclusive OS lock on `<file>.lock`, both
//! within a deadline; the holder writes who it is into the lock file, for the message of a
//! waiter that gives up.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant as Monotonic, SystemTime, UNIX_EPOCH};

use fs4::fs_std::FileExt;

use crate::store::key_locks::wait_while;

/// The lock of this process's holders: one at a time, the others wait on a condition variable
/// (woken at once by a release, unlike the OS lock, which is polled).
#[derive(Debug, Default)]
pub(super) struct Gate {
    held: Mutex<bool>,
    freed: Condvar,
}

/// The gate, held; opened again when dropped.
pub(super) struct GateGuard<'g>(&'g Gate);

impl Gate {
    /// Pass the gate before `deadline`, or `None`.
    pub(super) fn enter(&self, deadline: Monotonic) -> Option<GateGuard<'_>> {
        let mut held = wait_while(&self.held, &self.freed, deadline, |held| *held)?;
        *held = true;
        Some(GateGuard(self))
    }
}

impl Drop for GateGuard<'_> {
    fn drop(&mut self) {
        *self.0.held.lock().unwrap_or_else(PoisonError::into_inner) = false;
        // Every waiter: one whose wait just ran out must not swallow the wake-up of another.
        self.0.freed.notify_all();
    }
}

/// The exclusive OS lock on the lock file; released (and the holder record cleared) on drop.
pub(super) struct OsLock {
    file: File,
}

/// Why [`OsLock::acquire`] did not get the lock.
pub(super) enum NotAcquired {
    /// Still held at the deadline, by the holder its record names (if it wrote one).
    Busy(Option<String>),
    /// The lock file could not be opened or locked.
    Io(io::Error),
}

impl OsLock {
    /// Lock `path` (created with mode 0600 if missing; a symbolic link is refused) before
    /// `deadline`, then record this process as the holder.
    ///
    /// `flock(2)` and `LockFileEx` have no timed wait, so a held lock is tried again at growing
    /// intervals (1 ms up to 50 ms) until the deadline: polling the OS lock, not sleeping in
    /// place of synchronisation. A waiter thus notices a release up to 50 ms late, and a process
    /// that takes the lock again at once can keep it from pollers until their deadline (then
    /// they get Busy): fair enough for credential refreshes, which hold the lock for one
    /// exchange with Zoho at a time.
    pub(super) fn acquire(path: &Path, deadline: Monotonic) -> Result<Self, NotAcquired> {
        let mut file = open_lock_file(path).map_err(NotAcquired::Io)?;
        let mut pause = Duration::from_millis(1);
        loop {
            match FileExt::try_lock_exclusive(&file) {
                Ok(true) => break,
                Ok(false) if Monotonic::now() >= deadline => {
                    return Err(NotAcquired::Busy(read_holder(&mut file)));
                }
                Ok(false) => {
                    std::thread::sleep(
                        pause.min(deadline.saturating_duration_since(Monotonic::now())),
                    );
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(NotAcquired::Io(e)),
            }
        }
        // Who holds it, for the message of a waiter that gives up; not needed for the lock.
        if let Err(e) = write_holder(&mut file) {
            tracing::debug!(path = %path.display(), error = %e, "could not record the lock holder");
        }
        Ok(Self { file })
    }
}

impl Drop for OsLock {
    fn drop(&mut self) {
        // The record would name a process that no longer holds the lock.
        let _ = self.file.set_len(0);
        // Closing the file releases the lock too; unlocking first just makes it prompt.
        let _ = FileExt::unlock(&self.file);
    }
}

/// Open (or create, mode 0600) the lock file, refusing a symbolic link: locking its target
/// would not exclude a holder that locks the link's own path, or another link.
fn open_lock_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    refuse_link(path)?;
    let file = options.open(path).or_else(|e| {
        refuse_link(path)?;
        Err(e)
    })?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other(format!(
            "the lock file {} is not a regular file: remove it (it is recreated)",
            path.display()
        )));
    }
    Ok(file)
}

/// An error when `path` is a symbolic link.
fn refuse_link(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(io::Error::other(format!(
            "the lock file {} is a symbolic link; a lock file must be a regular file: remove the link",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Write `pid=… host=… since=…` (Unix seconds) over the lock file.
fn write_holder(file: &mut File) -> io::Result<()> {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let record = format!(
        "pid={} host={} since={since}\n",
        std::process::id(),
        crate::store::host_name()
    );
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(record.as_bytes())
}

/// The holder the lock file names, as `pid 4242 on web-1, for 37 s`; `None` when it names none
/// (a holder that does not record itself, or one that has just taken the lock).
fn read_holder(file: &mut File) -> Option<String> {
    let mut record = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(256).read_to_string(&mut record).ok()?;
    let field = |name: &str| {
        record
            .split_ascii_whitespace()
            .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
    };
    let pid: u32 = field("pid")?.parse().ok()?;
    let host = field("host")?;
    let mut holder = format!("pid {pid} on {host}");
    let since = field("since").and_then(|s| s.parse::<u64>().ok());
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok();
    if let (Some(since), Some(now)) = (since, now) {
        holder.push_str(&format!(", for {} s", now.as_secs().saturating_sub(since)));
    }
    Some(holder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_holder_record_reads_back_as_pid_host_and_age() {
        let mut file = tempfile::tempfile().unwrap();
        write_holder(&mut file).unwrap();
        let holder = read_holder(&mut file).unwrap();
        assert!(
            holder.starts_with(&format!(
                "pid {} on {}, for ",
                std::process::id(),
                crate::store::host_name()
            )),
            "{holder}"
        );
        file.set_len(0).unwrap();
        assert_eq!(read_holder(&mut file), None);
    }
}
