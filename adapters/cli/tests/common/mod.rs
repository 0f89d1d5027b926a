//! Shared harness: an in-process emulator, a private temporary home for the built `zoho-oauth`
//! binary (config, data and store directories), and helpers to run it and read its store.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tempfile::TempDir;
use zoho_oauth::core::{DataCenter, Environment, Instant, TokenSet};
use zoho_oauth::{CredentialKey, TokenStore};
use zoho_oauth_emulator::{
    Config, Emulator, SelfClientCode, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_USER_EMAIL,
};
use zoho_oauth_sqlite::SqliteStore;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_zoho-oauth");
/// The default emulated user.
pub const USER: &str = DEFAULT_USER_EMAIL;

/// Variables of the user's own environment that must not leak into a test run.
const SCRUBBED: [&str; 9] = [
    "ZOHO_CLIENT_ID",
    "ZOHO_CLIENT_SECRET",
    "ZOHO_DC",
    "ZOHO_ENVIRONMENT",
    "ZOHO_ACCOUNTS_URL",
    "ZOHO_USER",
    "ZOHO_OAUTH_STORE",
    "ZOHO_OAUTH_CONFIG",
    "RUST_LOG",
];

/// One test's world: an emulator and a temporary home.
pub struct World {
    pub emu: Emulator,
    pub dir: TempDir,
}

/// What a finished run left.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Assert exit 0, showing the output when not.
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "expected success:\n{self:#?}");
        self
    }

    /// Assert the exit code, showing the output when not.
    pub fn code(self, code: i32) -> Self {
        assert_eq!(self.code, code, "expected exit {code}:\n{self:#?}");
        self
    }

    /// Stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self:#?}"))
    }
}

impl World {
    /// An emulator with the default client, user and limits.
    pub fn new() -> Self {
        Self::with_config(Config::default())
    }

    /// An emulator started with `config`.
    pub fn with_config(config: Config) -> Self {
        let emu = Emulator::start(config).expect("emulator starts");
        let dir = tempfile::tempdir().expect("temp dir");
        for d in ["config", "data", "home"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        Self { emu, dir }
    }

    /// The emulator's accounts origin.
    pub fn base(&self) -> String {
        self.emu
            .base_url(zoho_oauth_emulator::DataCenter::Us)
            .to_owned()
    }

    /// The SQLite store file every command uses.
    pub fn store_path(&self) -> PathBuf {
        self.dir.path().join("tokens.sqlite3")
    }

    /// The binary with a private home: no ZOHO_* from outside, XDG dirs and HOME in the temp
    /// dir, and no configuration at all.
    pub fn bare(&self) -> Command {
        let mut c = Command::new(BIN);
        for v in SCRUBBED {
            c.env_remove(v);
        }
        let home = self.dir.path();
        c.env("HOME", home.join("home"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .stdin(Stdio::null());
        c
    }

    /// The binary configured through the environment for the emulator and the test's store.
    pub fn cmd(&self) -> Command {
        let mut c = self.bare();
        c.env("ZOHO_ACCOUNTS_URL", self.base())
            .env("ZOHO_CLIENT_ID", DEFAULT_CLIENT_ID)
            .env("ZOHO_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
            .env(
                "ZOHO_OAUTH_STORE",
                format!("sqlite:{}", self.store_path().display()),
            );
        c
    }

    /// Run the configured binary with `args` to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        run(self.cmd().args(args))
    }

    /// A Self Client grant token for the default user and scope.
    pub fn code(&self) -> String {
        self.code_for(&SelfClientCode::default())
    }

    /// A Self Client grant token as `spec` says.
    pub fn code_for(&self, spec: &SelfClientCode) -> String {
        self.emu.mint_self_client_code(spec).expect("code minted")
    }

    /// `zoho-oauth exchange` of a fresh code for the default user; returns the run.
    pub fn exchange(&self) -> Run {
        let code = self.code();
        self.run(&["exchange", "--grant-token", &code]).ok()
    }

    /// The store, opened directly.
    pub fn store(&self) -> SqliteStore {
        SqliteStore::open(self.store_path()).expect("store opens")
    }

    /// The key of `user` with the default client at US production.
    pub fn key(user: &str) -> CredentialKey {
        CredentialKey::new(
            user,
            DEFAULT_CLIENT_ID,
            DataCenter::Us,
            Environment::Production,
        )
    }

    /// The stored token set of `user`.
    pub fn stored(&self, user: &str) -> TokenSet {
        self.store()
            .load(&Self::key(user))
            .expect("store readable")
            .expect("credential stored")
    }

    /// Rewrite the stored access token of `user` to expire `from_now` after now (negative: ago),
    /// as if it had been minted an hour before that.
    pub fn set_expiry(&self, user: &str, from_now_ms: i64) {
        let store = self.store();
        let key = Self::key(user);
        let mut t = store.load(&key).unwrap().expect("credential stored");
        let now = now_ms() as i64;
        t.expires_at = Instant::from_millis((now + from_now_ms).max(0) as u64);
        t.issued_at = t.expires_at.saturating_sub(Duration::from_secs(3600));
        store.save(&key, &t).unwrap();
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Run `cmd` to completion.
pub fn run(cmd: &mut Command) -> Run {
    Run::from(cmd.output().expect("binary runs"))
}

/// Start every command before waiting on any (so they race), then collect their outputs.
pub fn run_concurrently(commands: impl IntoIterator<Item = Command>) -> Vec<Output> {
    let children: Vec<Child> = commands
        .into_iter()
        .map(|mut c| {
            c.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("binary starts")
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().expect("binary runs"))
        .collect()
}

/// The access token of a stored set.
pub fn access(t: &TokenSet) -> String {
    t.access_token
        .as_ref()
        .expect("has an access token")
        .expose()
        .to_owned()
}

/// A plain HTTP agent that returns every status and never follows redirects.
pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .build()
        .into()
}

/// A child process whose stderr lines arrive on a channel (read by a thread).
pub struct Spawned {
    pub child: Child,
    pub stderr_lines: Receiver<String>,
    pub stdout: Option<std::process::ChildStdout>,
}

impl Spawned {
    /// Spawn `cmd` with piped stdout and stderr.
    pub fn start(cmd: &mut Command) -> Self {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("binary spawns");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdout = child.stdout.take();
        Self {
            child,
            stderr_lines: rx,
            stdout,
        }
    }

    /// The next stderr line satisfying `pred`, within `timeout`; the lines read are returned too.
    pub fn stderr_line(
        &self,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> (String, Vec<String>) {
        let deadline = std::time::Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) if pred(&line) => return (line, seen),
                Ok(line) => seen.push(line),
                Err(_) => panic!("no matching stderr line within {timeout:?}; saw {seen:#?}"),
            }
        }
    }

    /// The rest of stderr after the process ends.
    pub fn rest_of_stderr(&self) -> String {
        let mut out = String::new();
        while let Ok(line) = self.stderr_lines.recv_timeout(Duration::from_secs(5)) {
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// Wait for exit (killing it after `timeout`), returning the code and all of stdout.
    pub fn finish(mut self, timeout: Duration) -> (i32, String, String) {
        let deadline = std::time::Instant::now() + timeout;
        let code = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code().unwrap_or(-1);
            }
            if std::time::Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the process did not exit within {timeout:?}");
            }
            // Polling an exit status: there is no blocking wait with a timeout in std.
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stdout = String::new();
        if let Some(mut s) = self.stdout.take() {
            let _ = s.read_to_string(&mut stdout);
        }
        let stderr = self.rest_of_stderr();
        (code, stdout, stderr)
    }

    /// Send SIGINT, as Ctrl-C does.
    #[cfg(unix)]
    pub fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }
}

/// Write `text` to `path`, creating parents.
pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}
