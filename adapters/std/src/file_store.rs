//! `FileStore`: a crash-safe, locked, single-file token store.
//!
//! One file holds the credentials of any number of users, clients, data centres and environments.
//!
//! # Guarantees
//!
//! - **Atomic writes.** Every change writes the whole store to `<file>.tmp` in the same directory
//!   (created with mode `0600`), flushes it to disk, renames it over the store and flushes the
//!   directory. A crash at any point leaves the store either as it was or as it was meant to be;
//!   a leftover `<file>.tmp` is harmless and is replaced by the next write.
//! - **Locking.** Writers take an exclusive OS file lock (`flock(2)` on Unix, `LockFileEx` on
//!   Windows) on the sibling file `<file>.lock` (mode `0600`, never deleted), plus an in-process
//!   mutex. The same lock is the refresh lock of [`TokenStore::lock`]: it covers the whole store,
//!   so holding it for one credential makes other writers, in this process and in others, wait.
//!   Readers ([`TokenStore::load`], [`TokenStore::list`]) do not lock: a rename is atomic, so they
//!   always see a complete store.
//! - **Private.** The store and its lock file are created with mode `0600`; a missing parent
//!   directory is created with mode `0700`.
//! - **Never overwrites what it cannot read.** A file that is not a store (wrong first line), is
//!   damaged (a bad or duplicate record, a missing end line) or was written by a newer version is
//!   reported as [`StoreError::Corrupt`] or [`StoreError::FutureVersion`], and every write refuses
//!   to touch it. An empty (0-byte) or missing file is an empty store.
//!
//! Do not call `save`, `delete`, `delete_all` or `lock` of a store while holding its
//! [`LockedCredential`] on the same thread: they wait for that lock, which is never released.
//! Use the methods of the [`LockedCredential`] instead.
//!
//! # File format, version 1
//!
//! UTF-8 text, lines ending in `\n`:
//!
//! ```text
//! zoho-oauth-store v1
//! record <user> <client_id> <data centre> <environment> <token>
//! …
//! end <number of records>
//! ```
//!
//! Fields are separated by single spaces. `<user>` and `<client_id>` are percent-encoded (`%` and
//! every byte outside the printable ASCII range `!`..=`~`, including the space, become `%XX`);
//! the data centre is its location code (`us`, `eu`, …), the environment its name
//! (`production`, `sandbox`, `developer`), and `<token>` is the lowercase hex of
//! [`TokenSet::encode`]. Records are sorted by key; a key appears at most once. The `end` line
//! makes a cut-short copy detectable.
//!
//! ```no_run
//! use zoho_oauth::file_store::FileStore;
//! use zoho_oauth::{CredentialKey, TokenStore};
//! use zoho_oauth::core::{DataCenter, Environment};
//!
//! let store = FileStore::open("/var/lib/myapp/zoho-tokens")?;
//! let key = CredentialKey::new("ana@example.com", "1000.ABC", DataCenter::Eu, Environment::Production);
//! if let Some(token) = store.load(&key)? {
//!     println!("stored token set for {key}: {token:?}"); // Debug is redacted
//! }
//! # Ok::<(), zoho_oauth::StoreError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use fs4::fs_std::FileExt;
use zeroize::Zeroizing;
use zoho_oauth_core::{DataCenter, Environment, TokenSet};

use crate::key::CredentialKey;
use crate::store::{LockedCredential, StoreError, TokenStore};

/// The first line of a store file, before the version number.
const MAGIC: &str = "zoho-oauth-store v";
/// The format version this code writes and the newest it reads.
const VERSION: u32 = 1;

/// A [`TokenStore`] in one file, safe to share between threads and processes (see the
/// [module docs](self) for the guarantees and the format).
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    lock_path: PathBuf,
    tmp_path: PathBuf,
    /// Serialises lock holders of this process before they reach the OS lock.
    in_process: Mutex<()>,
}

/// The store's contents, by key.
type Records = BTreeMap<CredentialKey, TokenSet>;

impl FileStore {
    /// A store kept at `path`. Creates the parent directory (mode `0700`) if it is missing and
    /// checks an existing file, so a damaged or foreign file is reported now rather than at the
    /// first token refresh. The file itself is created by the first write.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
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
            in_process: Mutex::new(()),
        };
        create_dir_private(store.dir())?;
        store.read()?;
        Ok(store)
    }

    /// The store file.
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

    /// Take the in-process mutex, then the exclusive OS lock on the lock file.
    fn lock_exclusive(&self) -> Result<StoreLock<'_>, StoreError> {
        // The mutex guards `()`: a panic while holding it leaves nothing inconsistent.
        let guard = self
            .in_process
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let file = open_private(
            OpenOptions::new().read(true).write(true).create(true),
            &self.lock_path,
        )?;
        loop {
            match FileExt::lock_exclusive(&file) {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(StoreError::Io(e)),
            }
        }
        Ok(StoreLock {
            file,
            _guard: guard,
        })
    }

    /// Read and check the whole store; a missing or empty file is an empty store.
    fn read(&self) -> Result<Records, StoreError> {
        let mut bytes = Zeroizing::new(Vec::new());
        match File::open(&self.path) {
            Ok(mut f) => {
                f.read_to_end(&mut bytes)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Records::new()),
            Err(e) => return Err(StoreError::Io(e)),
        }
        parse(&bytes).map_err(|e| match e {
            StoreError::Corrupt(why) => {
                StoreError::Corrupt(format!("{}: {why}", self.path.display()))
            }
            StoreError::FutureVersion(why) => {
                StoreError::FutureVersion(format!("{}: {why}", self.path.display()))
            }
            other => other,
        })
    }

    /// Replace the store with `records`: temp file (0600), write, fsync, rename, fsync the
    /// directory. Call only under the lock (the temp file name is shared by all writers).
    fn write(&self, records: &Records) -> Result<(), StoreError> {
        let text = render(records)?;
        match fs::remove_file(&self.tmp_path) {
            Ok(()) => {
                tracing::debug!(path = %self.tmp_path.display(), "removed a temp file left by an interrupted write")
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::Io(e)),
        }
        let written = open_private(
            OpenOptions::new().write(true).create_new(true),
            &self.tmp_path,
        )
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_all()
        });
        if let Err(e) = written {
            let _ = fs::remove_file(&self.tmp_path);
            return Err(StoreError::Io(e));
        }
        fs::rename(&self.tmp_path, &self.path)?;
        sync_dir(self.dir())?;
        tracing::debug!(path = %self.path.display(), records = records.len(), "token store written");
        Ok(())
    }

    /// Read, change and write back under the lock. Nothing is written when the store cannot be
    /// read, or when `change` says nothing changed.
    fn modify<T>(&self, change: impl FnOnce(&mut Records) -> (T, bool)) -> Result<T, StoreError> {
        let _lock = self.lock_exclusive()?;
        let mut records = self.read()?;
        let (out, changed) = change(&mut records);
        if changed {
            self.write(&records)?;
        }
        Ok(out)
    }
}

impl TokenStore for FileStore {
    fn load(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
        Ok(self.read()?.remove(key))
    }

    fn save(&self, key: &CredentialKey, token: &TokenSet) -> Result<(), StoreError> {
        self.modify(|r| {
            r.insert(key.clone(), token.clone());
            ((), true)
        })
    }

    fn delete(&self, key: &CredentialKey) -> Result<bool, StoreError> {
        self.modify(|r| {
            let found = r.remove(key).is_some();
            (found, found)
        })
    }

    fn list(&self) -> Result<Vec<CredentialKey>, StoreError> {
        Ok(self.read()?.into_keys().collect())
    }

    fn delete_all(&self) -> Result<(), StoreError> {
        self.modify(|r| {
            r.clear();
            ((), true)
        })
    }

    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError> {
        let lock = self.lock_exclusive()?;
        Ok(Box::new(FileLocked {
            store: self,
            key: key.clone(),
            _lock: lock,
        }))
    }
}

/// The in-process mutex and the OS lock, held together. Field order matters: the file (and its
/// lock) goes before the mutex is released.
struct StoreLock<'s> {
    file: File,
    _guard: MutexGuard<'s, ()>,
}

impl Drop for StoreLock<'_> {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first just makes it prompt.
        let _ = FileExt::unlock(&self.file);
    }
}

/// The refresh lock of a [`FileStore`]: the whole store, locked.
struct FileLocked<'s> {
    store: &'s FileStore,
    key: CredentialKey,
    _lock: StoreLock<'s>,
}

impl LockedCredential for FileLocked<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        Ok(self.store.read()?.remove(&self.key))
    }

    fn save(&mut self, token: &TokenSet) -> Result<(), StoreError> {
        let mut records = self.store.read()?;
        records.insert(self.key.clone(), token.clone());
        self.store.write(&records)
    }

    fn release(self: Box<Self>) -> Result<(), StoreError> {
        // Every save was already durable; dropping releases the lock.
        Ok(())
    }
}

/// Open `path` with `options`, creating it with mode 0600 on Unix.
fn open_private(options: &mut OpenOptions, path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Create `dir` and its missing parents (mode 0700 on Unix).
fn create_dir_private(dir: &Path) -> io::Result<()> {
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

/// Parse a whole store file.
fn parse(bytes: &[u8]) -> Result<Records, StoreError> {
    let mut records = Records::new();
    if bytes.is_empty() {
        return Ok(records);
    }
    let corrupt = |why: String| StoreError::Corrupt(why);
    let text = std::str::from_utf8(bytes)
        .map_err(|_| corrupt("not a zoho-oauth token store (not UTF-8 text)".into()))?;
    let mut lines = text.split_inclusive('\n').enumerate();
    let (_, first) = lines.next().unwrap_or((0, ""));
    let version = first
        .strip_suffix('\n')
        .and_then(|l| l.strip_prefix(MAGIC))
        .ok_or_else(|| corrupt("not a zoho-oauth token store (unexpected first line)".into()))?;
    let version: u32 = version
        .parse()
        .map_err(|_| corrupt(format!("unreadable format version {version:?}")))?;
    if version > VERSION {
        return Err(StoreError::FutureVersion(format!(
            "format version {version}, this program reads up to {VERSION}"
        )));
    }
    if version == 0 {
        return Err(corrupt("format version 0 does not exist".into()));
    }
    for (index, line) in lines.by_ref() {
        let n = index + 1;
        let line = line
            .strip_suffix('\n')
            .ok_or_else(|| corrupt(format!("line {n} is cut short")))?;
        if let Some(count) = line.strip_prefix("end ") {
            if count.parse::<usize>().ok() != Some(records.len()) {
                return Err(corrupt(format!(
                    "line {n}: the end line counts {count} records, the file has {}",
                    records.len()
                )));
            }
            if let Some((index, _)) = lines.next() {
                return Err(corrupt(format!(
                    "line {}: text after the end line",
                    index + 1
                )));
            }
            return Ok(records);
        }
        let (key, token) = parse_record(line).map_err(|why| corrupt(format!("line {n}: {why}")))?;
        if records.contains_key(&key) {
            return Err(corrupt(format!("line {n}: a second record for {key}")));
        }
        records.insert(key, token?);
    }
    Err(corrupt(
        "the end line is missing (the file is cut short)".into(),
    ))
}

/// Parse one `record` line. The outer error says why the line is bad; the inner one is a token
/// that does not decode (a newer token encoding is not corruption).
fn parse_record(line: &str) -> Result<(CredentialKey, Result<TokenSet, StoreError>), String> {
    let mut fields = line.split(' ');
    if fields.next() != Some("record") {
        return Err("not a record".into());
    }
    let mut next = |name: &str| {
        fields
            .next()
            .ok_or_else(|| format!("the {name} is missing"))
    };
    let user = unescape(next("user")?).ok_or("the user is badly encoded")?;
    let client_id = unescape(next("client id")?).ok_or("the client id is badly encoded")?;
    let dc = DataCenter::from_location(next("data centre")?)
        .map_err(|_| "unknown data centre".to_string())?;
    let env = Environment::from_name(next("environment")?)
        .map_err(|_| "unknown environment".to_string())?;
    let hex = next("token")?;
    if fields.next().is_some() {
        return Err("too many fields".into());
    }
    let key = CredentialKey::new(user, client_id, dc, env);
    let bytes = unhex(hex).ok_or("the token is not hex")?;
    let token = crate::store::decode_token(&key, &bytes);
    Ok((key, token))
}

/// Render a whole store file.
fn render(records: &Records) -> Result<Zeroizing<String>, StoreError> {
    let mut out = Zeroizing::new(String::new());
    let mut buf = Zeroizing::new(vec![0u8; TokenSet::MAX_ENCODED_LEN]);
    // Writing to a String cannot fail.
    let _ = writeln!(out, "{MAGIC}{VERSION}");
    for (key, token) in records {
        let bytes = token
            .encode(&mut buf)
            .map_err(|e| StoreError::Other(format!("the token of {key} does not encode: {e}")))?;
        out.push_str("record ");
        escape_into(&key.user, &mut out);
        out.push(' ');
        escape_into(&key.client_id, &mut out);
        let _ = write!(
            out,
            " {} {} ",
            key.data_center.location_code(),
            key.environment.name()
        );
        hex_into(bytes, &mut out);
        out.push('\n');
    }
    let _ = writeln!(out, "end {}", records.len());
    Ok(out)
}

/// Percent-encode `%`, the space and every byte outside `!`..=`~`.
fn escape_into(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Undo [`escape_into`]; `None` for a bad escape, a raw byte that should have been escaped, or
/// non-UTF-8.
fn unescape(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                let hi = hex_value(bytes.next()?)?;
                let lo = hex_value(bytes.next()?)?;
                out.push(hi << 4 | lo);
            }
            b if b.is_ascii_graphic() => out.push(b),
            _ => return None,
        }
    }
    String::from_utf8(out).ok()
}

/// Append the lowercase hex of `bytes`.
fn hex_into(bytes: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
}

/// Decode lowercase or uppercase hex.
fn unhex(s: &str) -> Option<Zeroizing<Vec<u8>>> {
    if s.len() % 2 != 0 {
        return None;
    }
    let mut out = Zeroizing::new(Vec::with_capacity(s.len() / 2));
    for pair in s.as_bytes().chunks_exact(2) {
        out.push(hex_value(pair[0])? << 4 | hex_value(pair[1])?);
    }
    Some(out)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips_spaces_percent_signs_and_non_ascii() {
        for s in ["", "ana@example.com", "a b%c", "zoë\n\t", "%%", "1000.X Y"] {
            let mut e = String::new();
            escape_into(s, &mut e);
            assert!(!e.contains(' ') && !e.contains('\n'), "{e:?}");
            assert_eq!(unescape(&e).as_deref(), Some(s));
        }
    }

    #[test]
    fn unescape_rejects_bad_escapes_and_raw_spaces() {
        for bad in ["%", "%4", "%zz", "a b", "%FF"] {
            assert_eq!(unescape(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn hex_round_trips_and_rejects_odd_or_non_hex_input() {
        let bytes = [0u8, 1, 0x7f, 0x80, 0xff];
        let mut h = String::new();
        hex_into(&bytes, &mut h);
        assert_eq!(h, "00017f80ff");
        assert_eq!(unhex(&h).as_deref().map(Vec::as_slice), Some(&bytes[..]));
        assert!(unhex("abc").is_none());
        assert!(unhex("zz").is_none());
    }

    #[test]
    fn files_that_are_not_stores_are_corrupt_and_newer_ones_are_future() {
        let cases: [(&[u8], &str); 7] = [
            (b"id,user_name,client_id\n", "corrupt"),
            (b"\xff\xfe", "corrupt"),
            (b"zoho-oauth-store v1\n", "corrupt"),
            (b"zoho-oauth-store v1\nend 1\n", "corrupt"),
            (b"zoho-oauth-store v1\nend 0\nrecord\n", "corrupt"),
            (b"zoho-oauth-store vX\nend 0\n", "corrupt"),
            (b"zoho-oauth-store v2\nanything at all\n", "future"),
        ];
        for (bytes, want) in cases {
            let got = match parse(bytes) {
                Err(StoreError::Corrupt(_)) => "corrupt",
                Err(StoreError::FutureVersion(_)) => "future",
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(bytes)),
            };
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn an_empty_store_parses_to_no_records() {
        assert!(parse(b"").unwrap().is_empty());
        assert!(parse(b"zoho-oauth-store v1\nend 0\n").unwrap().is_empty());
        assert_eq!(
            &*render(&Records::new()).unwrap(),
            "zoho-oauth-store v1\nend 0\n"
        );
    }
}
