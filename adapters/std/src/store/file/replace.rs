//! Replacing a store file atomically: a temp file beside it (mode `0600`), written, flushed to
//! disk, renamed over the store, and the directory flushed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// A new store file being written to `<file>.tmp`; [`Replacement::commit`] puts it in place,
/// dropping it uncommitted removes it. Only one may exist at a time per store (the store lock
/// ensures it): the temp file name is shared by every writer.
pub(super) struct Replacement {
    file: Option<File>,
    tmp: PathBuf,
    /// Written in blocks; wiped when dropped (the lines hold tokens).
    pending: Zeroizing<Vec<u8>>,
}

const BLOCK: usize = 16 * 1024;

impl Replacement {
    /// Start a new file at `tmp`, removing a leftover one (an interrupted writer's).
    pub(super) fn start(tmp: &Path) -> io::Result<Self> {
        match fs::remove_file(tmp) {
            Ok(()) => {
                tracing::debug!(path = %tmp.display(), "removed a temp file left by an interrupted write")
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        // `create_new` (O_EXCL) never follows a symbolic link planted at the temp path.
        let file = open_private(OpenOptions::new().write(true).create_new(true), tmp)?;
        Ok(Self {
            file: Some(file),
            tmp: tmp.to_path_buf(),
            pending: Zeroizing::new(Vec::with_capacity(BLOCK)),
        })
    }

    /// Append `line` and a `\n`.
    pub(super) fn line(&mut self, line: &[u8]) -> io::Result<()> {
        if self.pending.len() + line.len() + 1 > BLOCK {
            self.flush()?;
        }
        if line.len() + 1 > BLOCK {
            self.write(line)?;
            return self.write(b"\n");
        }
        self.pending.extend_from_slice(line);
        self.pending.push(b'\n');
        Ok(())
    }

    /// Flush to disk, rename over `target` and flush the directory `dir`.
    pub(super) fn commit(mut self, target: &Path, dir: &Path) -> io::Result<()> {
        // Until the rename, an error drops `self` with its file, which removes the temp file.
        self.flush()?;
        self.file.as_ref().map(File::sync_all).transpose()?;
        fs::rename(&self.tmp, target)?;
        self.file = None;
        sync_dir(dir)
    }

    fn flush(&mut self) -> io::Result<()> {
        let pending = std::mem::take(&mut *self.pending);
        let written = self.write(&pending);
        // Keep the buffer (and its capacity) so that it is wiped on drop.
        *self.pending = pending;
        self.pending.clear();
        written
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.write_all(bytes),
            None => Ok(()),
        }
    }
}

impl Drop for Replacement {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            // Not committed: the store stays as it was.
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Open `path` with `options`, creating it with mode 0600 on Unix.
pub(super) fn open_private(options: &mut OpenOptions, path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Create `dir` and its missing parents (mode 0700 on Unix).
pub(super) fn create_dir_private(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Make a rename in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        // Windows cannot open a directory as a file; NTFS journals the rename itself.
        let _ = dir;
        Ok(())
    }
}
