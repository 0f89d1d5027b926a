//! `FileStore`: a crash-safe, locked, single-file token store (the guarantees and the format
//! are documented on [`FileStore`]).

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant as Monotonic;

use zeroize::Zeroizing;
use zoho_oauth_core::TokenSet;

use super::{LockBusy, LockWait, LockedCredential, StoreError, TokenStore, DELETE_ALL_WAIT};
use crate::key::CredentialKey;

mod format;
mod lines;
mod lock;
mod replace;

use format::MAX_LINE;
use lines::{Lines, Next};
use lock::{Gate, GateGuard, NotAcquired, OsLock};
use replace::Replacement;

/// A [`TokenStore`] in one file, safe to share between threads and processes.
///
/// One file holds the credentials of any number of users, clients, data centres and environments.
///
/// # Guarantees
///
/// - **Atomic writes.** Every change writes a new store to `<file>.tmp` in the same directory
///   (created with mode `0600`), flushes it to disk, renames it over the store and flushes the
///   directory. A crash at any point leaves the store either as it was or as it was meant to be;
///   a leftover `<file>.tmp` is harmless and is replaced by the next write.
/// - **Locking.** Every change happens under an exclusive OS file lock (`flock(2)` on Unix,
///   `LockFileEx` on Windows) on the sibling file `<file>.lock` (mode `0600`, never deleted),
///   taken after an in-process gate. It is the lock of [`TokenStore::lock`] and covers the whole
///   store: holding it for one credential makes other writers, in this process and in others,
///   wait. Waits are bounded ([`LockWait`]); a lock still held after that is
///   [`StoreError::Busy`] naming the store and, from what the holder wrote into the lock file
///   when it took the lock, its process id, host and how long it has held it. Readers
///   ([`TokenStore::load`], [`TokenStore::list`]) do not lock: a rename is atomic, so they always
///   see a complete store.
/// - **One file, however it is reached.** A store path that is a symbolic link is resolved once,
///   when the store is opened: the real file is locked, read and replaced (the link stays a
///   link), so a store opened through a link and one opened through the real path exclude each
///   other. A lock file that is a symbolic link is refused rather than followed.
/// - **Private.** The store and its lock file are created with mode `0600`; a missing parent
///   directory is created with mode `0700`.
/// - **One damaged record harms only itself.** A record whose token does not decode (a flipped
///   byte, a newer token encoding) or whose key is unreadable does not stop the others: they are
///   served, listed and changed as usual; loading the damaged one is [`StoreError::Corrupt`] (or
///   [`StoreError::FutureVersion`]) naming its key, it is listed (when its key is readable), and a
///   save or delete under its lock replaces or removes it. Records that are not changed are
///   written back byte for byte, damaged ones included.
/// - **Never overwrites what is not a store.** A file that is not a store (wrong first line, a
///   line longer than 64 KiB), is cut short (a missing end line, a record count that does not
///   match) or was written by a newer version is reported as [`StoreError::Corrupt`] or
///   [`StoreError::FutureVersion`], and every write refuses to touch it. An empty (0-byte) or
///   missing file is an empty store.
/// - **Bounded memory.** Every operation reads the file one line at a time: loading, saving or
///   deleting a credential holds one record in memory whatever the size of the store (a line is
///   at most 64 KiB); [`TokenStore::list`] holds the keys, not the tokens.
///
/// Do not call `delete_all` or `lock` of a store while holding its [`LockedCredential`] on the
/// same thread: they wait for that lock, which is not released meanwhile (they give
/// [`StoreError::Busy`] once their wait is over). Use the methods of the [`LockedCredential`].
///
/// # File format, version 1
///
/// UTF-8 text, lines ending in `\n`:
///
/// ```text
/// zoho-oauth-store v1
/// record <user> <client_id> <data centre> <environment> <token>
/// …
/// end <number of records>
/// ```
///
/// Fields are separated by single spaces. `<user>` and `<client_id>` are percent-encoded (`%` and
/// every byte outside the printable ASCII range `!`..=`~`, including the space, become `%XX`);
/// the data centre is its location code (`us`, `eu`, …), the environment its name
/// (`production`, `sandbox`, `developer`), and `<token>` is the lowercase hex of
/// [`TokenSet::encode`]. Records are sorted by key when this code writes them, a key appears at
/// most once (a second record of a key makes that key damaged), and the `end` line counts every
/// line between the first and itself, which makes a cut-short copy detectable.
///
/// ```no_run
/// use zoho_oauth::{CredentialKey, FileStore, TokenStore};
/// use zoho_oauth::core::{DataCenter, Environment};
///
/// let store = FileStore::open("/var/lib/myapp/zoho-tokens")?;
/// let key = CredentialKey::new("ana@example.com", "1000.ABC", DataCenter::Eu, Environment::Production);
/// if let Some(token) = store.load(&key)? {
///     println!("stored token set for {key}: {token:?}"); // Debug is redacted
/// }
/// # Ok::<(), zoho_oauth::StoreError>(())
/// ```
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    lock_path: PathBuf,
    tmp_path: PathBuf,
    /// Serialises lock holders of this process before they reach the OS lock.
    gate: Gate,
}

/// One line between the first line and the end line, as [`FileStore::scan`] shows it.
struct Body<'l> {
    /// Its 1-based line number.
    number: usize,
    /// The line as stored, without its `\n`.
    raw: &'l [u8],
    /// Its key and token field, when the line is a record with a readable key.
    record: Option<(CredentialKey, &'l [u8])>,
}

impl FileStore {
    /// A store kept at `path`. A symbolic link is resolved now (the real file is the store).
    /// Creates the parent directory (mode `0700`) if it is missing and checks an existing file,
    /// so a foreign or cut-short file is reported now rather than at the first token refresh.
    /// The file itself is created by the first write.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = resolve_links(path.as_ref())?;
        let name = path.file_name().ok_or_else(|| {
            StoreError::Other(format!(
                "{} does not name a file: give the store a file name",
                path.display()
            ))
        })?;
        let sibling = |suffix: &str| {
            let mut n = name.to_os_string();
            n.push(suffix);
            path.with_file_name(n)
        };
        let store = Self {
            lock_path: sibling(".lock"),
            tmp_path: sibling(".tmp"),
            path,
            gate: Gate::default(),
        };
        replace::create_dir_private(store.dir())?;
        store.scan(|_| Ok(()))?;
        Ok(store)
    }

    /// The store file (the real file, when the path given to [`FileStore::open`] was a link).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The lock file beside it (`<file>.lock`).
    pub fn lock_path(&self) -> &Path {
        &self.lock_path
    }

    /// The directory holding the store (`.` for a bare file name).
    fn dir(&self) -> &Path {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }

    /// Pass the in-process gate, then take the exclusive OS lock, within `wait`; `busy` makes
    /// the error of a wait that ran out.
    fn lock_store(
        &self,
        wait: LockWait,
        busy: impl FnOnce(std::time::Duration) -> LockBusy,
    ) -> Result<StoreLock<'_>, StoreError> {
        let started = Monotonic::now();
        let deadline = started + wait.limit();
        let Some(gate) = self.gate.enter(deadline) else {
            // Held in this process: this process is the holder.
            let holder = format!(
                "another thread of this process (pid {})",
                std::process::id()
            );
            return Err(busy(started.elapsed()).held_by(holder).into());
        };
        match OsLock::acquire(&self.lock_path, deadline) {
            Ok(os) => Ok(StoreLock {
                _os: os,
                _gate: gate,
            }),
            Err(NotAcquired::Busy(holder)) => {
                let b = busy(started.elapsed());
                Err(match holder {
                    Some(h) => b.held_by(h),
                    None => b,
                }
                .into())
            }
            Err(NotAcquired::Io(e)) => Err(StoreError::Io(e)),
        }
    }

    /// Read the store line by line, calling `each` for every line between the first and the
    /// end line; a missing or empty file has none. A file whose framing is not a store's is
    /// refused ([`StoreError::Corrupt`] or [`StoreError::FutureVersion`] naming the path).
    fn scan(&self, each: impl FnMut(Body<'_>) -> Result<(), StoreError>) -> Result<(), StoreError> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::Io(e)),
        };
        scan_lines(file, &self.path, each)
    }

    /// The token of `key`, reading one line at a time.
    fn load_key(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
        load_key_from(|each| self.scan(each), &self.path, key)
    }

    /// The keys of the store's records, sorted, each once.
    fn list_keys(&self) -> Result<Vec<CredentialKey>, StoreError> {
        list_from(|each| self.scan(each), &self.path)
    }

    /// Replace the store with a copy in which `key`'s records are replaced by `token`'s record
    /// (in key order), or removed when `token` is `None`; every other line is copied as it is.
    /// Says whether `key` had a record; writes nothing when deleting a key that had none. Call
    /// only under the lock (the temp file name is shared by all writers).
    fn rewrite(&self, key: &CredentialKey, token: Option<&TokenSet>) -> Result<bool, StoreError> {
        let mut new = token.map(|t| format::record_line(key, t)).transpose()?;
        let mut out = Replacement::start(&self.tmp_path)?;
        out.line(format::first_line().as_bytes())?;
        let (mut found, mut count) = (false, 0usize);
        self.scan(|body| {
            if let Some((k, _)) = &body.record {
                if k == key {
                    found = true;
                    return Ok(());
                }
                if k > key {
                    if let Some(line) = new.take() {
                        out.line(line.as_bytes())?;
                        count += 1;
                    }
                }
            }
            out.line(body.raw)?;
            count += 1;
            Ok(())
        })?;
        if token.is_none() && !found {
            return Ok(false); // dropping `out` removes the temp file
        }
        if let Some(line) = new.take() {
            out.line(line.as_bytes())?;
            count += 1;
        }
        out.line(format::end_line(count).as_bytes())?;
        out.commit(&self.path, self.dir())?;
        tracing::debug!(path = %self.path.display(), records = count, "token store written");
        Ok(found)
    }

    /// Whether a write would succeed: the file is a store of ours, and the temp file can be
    /// created beside it. Call only under the lock.
    fn check_writable(&self) -> Result<(), StoreError> {
        self.scan(|_| Ok(()))?;
        // A store file its owner made read-only (or immutable) is not to be replaced, though a
        // rename in a writable directory could: opening it for writing (nothing is written) asks.
        match std::fs::OpenOptions::new().write(true).open(&self.path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StoreError::ReadOnly(format!(
                    "{} cannot be written: {e}",
                    self.path.display()
                )))
            }
        }
        Replacement::start(&self.tmp_path).map(drop).map_err(|e| {
            StoreError::ReadOnly(format!("{} cannot be written: {e}", self.path.display()))
        })
    }
}

impl TokenStore for FileStore {
    fn load(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
        self.load_key(key)
    }

    fn list(&self) -> Result<Vec<CredentialKey>, StoreError> {
        self.list_keys()
    }

    fn delete_all(&self) -> Result<(), StoreError> {
        let _lock = self.lock_store(LockWait::AtMost(DELETE_ALL_WAIT), |waited| {
            LockBusy::every_key(self.describe(), waited)
        })?;
        self.scan(|_| Ok(()))?;
        let mut out = Replacement::start(&self.tmp_path)?;
        out.line(format::first_line().as_bytes())?;
        out.line(format::end_line(0).as_bytes())?;
        out.commit(&self.path, self.dir())?;
        Ok(())
    }

    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
        wait: LockWait,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError> {
        let lock = self.lock_store(wait, |waited| LockBusy::new(self.describe(), key, waited))?;
        Ok(Box::new(FileLocked {
            store: self,
            key: key.clone(),
            _lock: lock,
        }))
    }

    fn locks_per_key(&self) -> bool {
        // One lock for the whole store: refreshes side by side would only wait for each other.
        false
    }

    fn describe(&self) -> String {
        format!("file:{}", self.path.display())
    }
}

/// The gate and the OS lock, held together. Field order matters: the OS lock goes before the
/// gate opens.
struct StoreLock<'s> {
    _os: OsLock,
    _gate: GateGuard<'s>,
}

/// The lock of a [`FileStore`] taken for one credential: the whole store, locked.
struct FileLocked<'s> {
    store: &'s FileStore,
    key: CredentialKey,
    _lock: StoreLock<'s>,
}

impl LockedCredential for FileLocked<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.store.load_key(&self.key)
    }

    fn save(&mut self, token: &TokenSet) -> Result<(), StoreError> {
        self.store.rewrite(&self.key, Some(token)).map(drop)
    }

    fn delete(&mut self) -> Result<bool, StoreError> {
        self.store.rewrite(&self.key, None)
    }

    fn check_writable(&mut self) -> Result<(), StoreError> {
        self.store.check_writable()
    }

    fn release(self: Box<Self>) -> Result<(), StoreError> {
        // Every save was already durable; dropping releases the lock.
        Ok(())
    }
}

/// `path` with symbolic links of its last component followed (at most 40), so that the store
/// locks, reads and replaces the real file. A link to a missing file gives that file's path.
fn resolve_links(path: &Path) -> Result<PathBuf, StoreError> {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&path)?;
                path = match path.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(path),
            Err(e) => return Err(StoreError::Io(e)),
        }
    }
    Err(StoreError::Other(format!(
        "{} is a chain of more than 40 symbolic links: give the store's real path",
        path.display()
    )))
}

/// Read a store's lines from `source` (the file at `path`, named in errors), calling `each` for
/// every line between the first and the end line; an empty source has none. A source whose
/// framing is not a store's is refused ([`StoreError::Corrupt`] or
/// [`StoreError::FutureVersion`] naming the path).
fn scan_lines<R: io::Read>(
    source: R,
    path: &Path,
    mut each: impl FnMut(Body<'_>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut lines = Lines::new(source, MAX_LINE);
    let framing = |lines: &Lines<R>, why: &str| {
        StoreError::Corrupt(format!("{} line {}: {why}", path.display(), lines.number()))
    };
    match lines.next()? {
        Next::End => return Ok(()), // an empty file
        Next::Line => format::check_first_line(lines.line()).map_err(|e| at_path(path, e))?,
        Next::CutShort | Next::TooLong => {
            return Err(framing(&lines, "not a zoho-oauth token store"))
        }
    }
    let mut count = 0;
    loop {
        match lines.next()? {
            Next::Line => {}
            Next::CutShort | Next::End => {
                return Err(framing(
                    &lines,
                    "the end line is missing (the file is cut short)",
                ))
            }
            Next::TooLong => {
                return Err(framing(&lines, "a line longer than any record (not ours)"))
            }
        }
        if let Some(counted) = format::end_count(lines.line()) {
            if counted != Some(count) {
                return Err(framing(
                    &lines,
                    &format!("the end line does not count the {count} records before it"),
                ));
            }
            return match lines.next()? {
                Next::End => Ok(()),
                _ => Err(framing(&lines, "text after the end line")),
            };
        }
        count += 1;
        let raw = lines.line();
        each(Body {
            number: lines.number(),
            raw,
            record: format::record_key(raw).ok(),
        })?;
    }
}

/// The keys of the records in the store that `scan` reads (the file at `path`), sorted, each
/// once.
fn list_from(
    scan: impl FnOnce(&mut dyn FnMut(Body<'_>) -> Result<(), StoreError>) -> Result<(), StoreError>,
    path: &Path,
) -> Result<Vec<CredentialKey>, StoreError> {
    let mut keys = Vec::new();
    scan(&mut |body| {
        match body.record {
            Some((key, _)) => keys.push(key),
            None => tracing::warn!(
                path = %path.display(),
                line = body.number,
                "a line of the token store has no readable key; it is kept as it is"
            ),
        }
        Ok(())
    })?;
    // Written sorted, so this is cheap; a key with two records (damaged) is listed once.
    keys.sort_unstable();
    keys.dedup();
    Ok(keys)
}

/// Entry points for the fuzz targets in `fuzz/` (re-exported as `zoho_oauth::fuzz`): the store
/// file format read from bytes by the very code that reads the file (`scan_lines`,
/// `load_key_from`, `list_from`), and written as `FileStore` writes it. Not part of the API.
#[doc(hidden)]
pub mod fuzz {
    use std::path::Path;

    use zoho_oauth_core::TokenSet;

    use super::{format, list_from, load_key_from, scan_lines};
    use crate::key::CredentialKey;
    use crate::store::StoreError;

    /// The path errors name.
    pub const PATH: &str = "fuzz.store";

    /// A line between the first line and the end line.
    #[derive(Debug)]
    pub struct Line {
        /// Its 1-based number.
        pub number: usize,
        /// The line as stored, without its `\n`.
        pub raw: Vec<u8>,
        /// Its key, when it is a record with a readable key.
        pub key: Option<CredentialKey>,
    }

    /// The lines of a store file, or why a `FileStore` refuses the whole file.
    pub fn lines(bytes: &[u8]) -> Result<Vec<Line>, StoreError> {
        let mut out = Vec::new();
        scan_lines(bytes, Path::new(PATH), |body| {
            out.push(Line {
                number: body.number,
                raw: body.raw.to_vec(),
                key: body.record.map(|(k, _)| k),
            });
            Ok(())
        })?;
        Ok(out)
    }

    /// What `FileStore::load` answers for `key` on a store holding `bytes`.
    pub fn load(bytes: &[u8], key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
        let path = Path::new(PATH);
        load_key_from(|each| scan_lines(bytes, path, each), path, key)
    }

    /// What `FileStore::list` answers on a store holding `bytes`.
    pub fn list(bytes: &[u8]) -> Result<Vec<CredentialKey>, StoreError> {
        let path = Path::new(PATH);
        list_from(|each| scan_lines(bytes, path, each), path)
    }

    /// A store file holding `records` in this order, as `FileStore` writes one.
    pub fn write(records: &[(CredentialKey, &TokenSet)]) -> Result<Vec<u8>, StoreError> {
        let mut out = format::first_line().into_bytes();
        out.push(b'\n');
        for (key, token) in records {
            out.extend_from_slice(format::record_line(key, token)?.as_bytes());
            out.push(b'\n');
        }
        out.extend_from_slice(format::end_line(records.len()).as_bytes());
        out.push(b'\n');
        Ok(out)
    }
}

/// `e`, saying which file it is about.
fn at_path(path: &Path, e: StoreError) -> StoreError {
    match e {
        StoreError::Corrupt(why) => StoreError::Corrupt(format!("{}: {why}", path.display())),
        StoreError::FutureVersion(why) => {
            StoreError::FutureVersion(format!("{}: {why}", path.display()))
        }
        other => other,
    }
}

/// The token of `key` in the store that `scan` reads (the file at `path`), one line at a time:
/// `None` without a record; [`StoreError::Corrupt`] naming the key for two records of it, or
/// (as [`format::record_token`] says) for a token that does not decode.
fn load_key_from(
    scan: impl FnOnce(&mut dyn FnMut(Body<'_>) -> Result<(), StoreError>) -> Result<(), StoreError>,
    path: &Path,
    key: &CredentialKey,
) -> Result<Option<TokenSet>, StoreError> {
    let mut found: Option<(usize, Zeroizing<Vec<u8>>)> = None;
    let mut again = None;
    scan(&mut |body| {
        match (&body.record, &found) {
            (Some((k, hex)), None) if k == key => {
                found = Some((body.number, Zeroizing::new(hex.to_vec())));
            }
            (Some((k, _)), Some(_)) if k == key => {
                again.get_or_insert(body.number);
            }
            _ => {}
        }
        Ok(())
    })?;
    let Some((line, hex)) = found else {
        return Ok(None);
    };
    if let Some(again) = again {
        return Err(StoreError::Corrupt(format!(
            "{} lines {line} and {again} are both records of {key}: delete it and authorize again",
            path.display()
        )));
    }
    format::record_token(key, &hex)
        .map(Some)
        .map_err(|e| at_path(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_to_a_link_resolves_to_the_real_file_even_when_it_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("real", dir.path().join("one")).unwrap();
            std::os::unix::fs::symlink(dir.path().join("one"), dir.path().join("two")).unwrap();
            assert_eq!(resolve_links(&dir.path().join("two")).unwrap(), real);
        }
        assert_eq!(resolve_links(&real).unwrap(), real);
    }
}
