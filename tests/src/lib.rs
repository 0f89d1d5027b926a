//! Harness of the end-to-end tests: open a token store named on a command line, and run many
//! `e2e-worker` processes released at the same instant.
//!
//! The worker (`src/bin/e2e-worker.rs`) is one process of a fleet: it builds a [`zoho_oauth::Client`]
//! on a shared store, says `ready`, waits for the start signal on stdin, asks for a user's access
//! token once, prints it and exits. [`Fleet`] starts N of them, waits until all are ready, releases
//! them together and collects what each printed. Tests then compare that with the emulator's
//! counters and the store's contents.

use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use zoho_oauth::file_store::FileStore;
use zoho_oauth::{StoreError, TokenStore};
use zoho_oauth_sqlite::SqliteStore;

/// Environment variable the worker reads the client secret from (never from its arguments, which
/// other users of the machine can see).
pub const SECRET_ENV: &str = "ZOHO_E2E_CLIENT_SECRET";

/// The line a worker prints once its client is built and it waits for the start signal.
pub const READY: &str = "ready";

/// Prefix of the line carrying the access token a worker obtained.
pub const TOKEN_PREFIX: &str = "token ";

/// A token store named on a command line: `file:PATH` or `sqlite:PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// A [`FileStore`] at this path.
    File(PathBuf),
    /// A [`SqliteStore`] at this path.
    Sqlite(PathBuf),
}

impl StoreSpec {
    /// Parses `file:PATH` or `sqlite:PATH`.
    ///
    /// # Errors
    ///
    /// A message naming the accepted forms, for anything else.
    pub fn parse(spec: &str) -> Result<Self, String> {
        match spec.split_once(':') {
            Some(("file", path)) if !path.is_empty() => Ok(Self::File(path.into())),
            Some(("sqlite", path)) if !path.is_empty() => Ok(Self::Sqlite(path.into())),
            _ => Err(format!("store {spec:?} is not file:PATH or sqlite:PATH")),
        }
    }

    /// Opens the store.
    ///
    /// # Errors
    ///
    /// The store's own error (unreadable, foreign or corrupt file, …).
    pub fn open(&self) -> Result<Box<dyn TokenStore>, StoreError> {
        Ok(match self {
            Self::File(path) => Box::new(FileStore::open(path)?),
            Self::Sqlite(path) => Box::new(SqliteStore::open(path)?),
        })
    }

    /// The path of the store's file.
    pub fn path(&self) -> &Path {
        match self {
            Self::File(p) | Self::Sqlite(p) => p,
        }
    }
}

impl fmt::Display for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "file:{}", p.display()),
            Self::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
        }
    }
}

/// What the workers need to know: where the store and the accounts server are, and who asks.
#[derive(Debug, Clone)]
pub struct WorkerArgs {
    /// The shared store.
    pub store: StoreSpec,
    /// The emulator's accounts origin, e.g. `http://127.0.0.1:PORT`.
    pub accounts: String,
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret, passed through [`SECRET_ENV`].
    pub client_secret: String,
    /// The user whose token every worker asks for.
    pub user: String,
}

/// How one worker ended.
#[derive(Debug)]
pub struct Outcome {
    /// The process's exit status.
    pub status: ExitStatus,
    /// The access token it printed, if it got one.
    pub token: Option<String>,
    /// The end of what it wrote to stderr (its error, if any; at most 4 KiB).
    pub stderr: String,
}

enum Event {
    Ready,
    Done(usize, Option<String>, String),
}

/// N worker processes, all ready and waiting for one start signal.
pub struct Fleet {
    children: Vec<Child>,
    stdins: Vec<ChildStdin>,
    events: mpsc::Receiver<Event>,
    deadline: Instant,
}

impl Fleet {
    /// Spawns `count` copies of the worker binary at `exe` and returns once every one of them has
    /// built its client and is waiting (or panics, killing them, after `limit`).
    ///
    /// # Panics
    ///
    /// If a worker cannot be spawned, exits before it is ready, or the fleet is not ready in time.
    pub fn spawn(exe: &Path, args: &WorkerArgs, count: usize, limit: Duration) -> Self {
        let deadline = Instant::now() + limit;
        let (tx, events) = mpsc::channel();
        let mut children = Vec::with_capacity(count);
        let mut stdins = Vec::with_capacity(count);
        for i in 0..count {
            let mut child = Command::new(exe)
                .arg(args.store.to_string())
                .arg(&args.accounts)
                .arg(&args.client_id)
                .arg(&args.user)
                .env(SECRET_ENV, &args.client_secret)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn the e2e-worker");
            stdins.push(child.stdin.take().expect("piped stdin"));
            let stdout = child.stdout.take().expect("piped stdout");
            let mut stderr = child.stderr.take().expect("piped stderr");
            // Drained on its own thread: a chatty worker must never block on a full stderr pipe.
            let stderr = thread::spawn(move || {
                let mut err = String::new();
                let _ = stderr.read_to_string(&mut err);
                tail(&err, 4096).to_owned()
            });
            let tx = tx.clone();
            thread::spawn(move || {
                let mut lines = BufReader::new(stdout).lines();
                if lines.next().and_then(Result::ok).as_deref() == Some(READY) {
                    let _ = tx.send(Event::Ready);
                }
                let token = lines
                    .map_while(Result::ok)
                    .find_map(|line| line.strip_prefix(TOKEN_PREFIX).map(str::to_owned));
                let err = stderr.join().unwrap_or_default();
                let _ = tx.send(Event::Done(i, token, err));
            });
            children.push(child);
        }
        let mut fleet = Self {
            children,
            stdins,
            events,
            deadline,
        };
        let mut ready = 0;
        while ready < count {
            match fleet.next_event() {
                Event::Ready => ready += 1,
                Event::Done(i, _, err) => fleet.abort(&format!(
                    "worker {i} exited before it was ready: {}",
                    err.trim()
                )),
            }
        }
        fleet
    }

    fn next_event(&mut self) -> Event {
        let left = self.deadline.saturating_duration_since(Instant::now());
        match self.events.recv_timeout(left) {
            Ok(event) => event,
            Err(_) => self.abort("the workers did not finish in time"),
        }
    }

    /// Kills every worker and panics with `why` and what each worker had written to stderr.
    fn abort(&mut self, why: &str) -> ! {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Killed workers close their pipes, so every reader thread reports promptly.
        let mut report = String::new();
        while let Ok(event) = self.events.recv_timeout(Duration::from_secs(5)) {
            if let Event::Done(i, token, err) = event {
                let got = if token.is_some() {
                    "got a token"
                } else {
                    "no token"
                };
                report.push_str(&format!("\n  worker {i}: {got}; stderr: {}", err.trim()));
            }
        }
        panic!("{why}{report}");
    }

    /// Releases every worker at once and waits for all of them to exit.
    ///
    /// # Panics
    ///
    /// If they do not all finish before the deadline given to [`spawn`](Self::spawn).
    pub fn release(mut self) -> Vec<Outcome> {
        // One newline each, back to back: the workers block on it, so they start together.
        for stdin in &mut self.stdins {
            let _ = stdin.write_all(b"go\n");
            let _ = stdin.flush();
        }
        self.stdins.clear();
        let count = self.children.len();
        let mut results: Vec<Option<(Option<String>, String)>> = (0..count).map(|_| None).collect();
        for _ in 0..count {
            match self.next_event() {
                Event::Done(i, token, err) => results[i] = Some((token, err)),
                Event::Ready => {}
            }
        }
        let mut outcomes = Vec::with_capacity(count);
        for (child, result) in self.children.iter_mut().zip(results) {
            let (token, stderr) = result.unwrap_or_default();
            let status = child.wait().expect("wait for a worker");
            outcomes.push(Outcome {
                status,
                token,
                stderr,
            });
        }
        outcomes
    }
}

/// The last `max` bytes of `text` (at a character boundary): where a log says what went wrong.
fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_specs_name_a_kind_and_a_path() {
        assert_eq!(
            StoreSpec::parse("file:/tmp/t.store"),
            Ok(StoreSpec::File("/tmp/t.store".into()))
        );
        assert_eq!(
            StoreSpec::parse("sqlite:t.db"),
            Ok(StoreSpec::Sqlite("t.db".into()))
        );
        for bad in ["t.db", "file:", "postgres:x", ""] {
            assert!(StoreSpec::parse(bad).is_err(), "{bad}");
        }
        let spec = StoreSpec::parse("sqlite:/x/y.db").unwrap();
        assert_eq!(StoreSpec::parse(&spec.to_string()), Ok(spec));
    }
}
