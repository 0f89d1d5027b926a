//! Shared harness: an in-process emulator, a private temporary home for the built `zoho-oauth`
//! binary (config, data and store directories), and helpers to run it and read its store.
#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod dcs;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tempfile::TempDir;
use zoho_oauth::core::{DataCenter, Environment, Instant, TokenSet};
use zoho_oauth::{CredentialKey, LockWait, TokenStore};
use zoho_oauth_emulator::{
    Config, Emulator, SelfClientCode, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_USER_EMAIL,
};
use zoho_oauth_sqlite::SqliteStore;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_zoho-oauth");
/// The default emulated user.
pub const USER: &str = DEFAULT_USER_EMAIL;

/// The keys of what `exchange`, `add-refresh-token`, `login` (browser and device) print with
/// `--json`; `add-client-credentials` adds `scope` and `soid`.
pub const STORED: &[&str] = &[
    "user",
    "user_source",
    "data_center",
    "environment",
    "api_domain",
    "expires_at",
    "expires_at_rfc3339",
    "store",
    "grant",
];

/// The keys of a JSON object.
pub fn keys(v: &serde_json::Value) -> std::collections::BTreeSet<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

/// Variables of the user's own environment that must not leak into a test run.
const SCRUBBED: [&str; 14] = [
    "ZOHO_GRANT_TOKEN",
    "ZOHO_REFRESH_TOKEN",
    "ZOHO_OAUTH_LOCK_WAIT",
    "ZOHO_OAUTH_TIMEOUT",
    "NO_COLOR",
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
        // The per-data-centre variables (ZOHO_CLIENT_SECRET_EU, …) and any newer ZOHO_* setting.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("ZOHO_") {
                c.env_remove(name);
            }
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

    /// A grant code from the browser flow (for the default client, user and redirect URI), with
    /// `access_type` `offline` or `online`, as the emulator's consent redirect carries it.
    pub fn web_code(&self, access_type: &str) -> String {
        let url = format!(
            "{}/oauth/v2/auth?response_type=code&client_id={DEFAULT_CLIENT_ID}&scope=ZohoCRM.modules.ALL,aaaserver.profile.READ&redirect_uri={}&access_type={access_type}&state=s1",
            self.base(),
            "http%3A%2F%2F127.0.0.1%2Fcallback"
        );
        let resp = http().get(&url).call().expect("the emulator answers");
        assert_eq!(resp.status(), 302, "the emulator consents at once");
        let location = resp
            .headers()
            .get("location")
            .expect("a redirect")
            .to_str()
            .unwrap()
            .to_owned();
        location
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("code="))
            .expect("a code in the redirect")
            .to_owned()
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
        save_locked(&store, &key, &t);
    }
}

/// Save `token` under `key` the only way a store allows: under the key's lock.
pub fn save_locked(store: &dyn TokenStore, key: &CredentialKey, token: &TokenSet) {
    let mut lock = store
        .lock(key, LockWait::AtMost(Duration::from_secs(30)))
        .expect("the store's lock is free");
    lock.save(token).expect("saved");
    lock.release().expect("released");
}

/// The refresh token of a stored set.
pub fn refresh_of(t: &TokenSet) -> String {
    t.refresh_token
        .as_ref()
        .expect("has a refresh token")
        .expose()
        .to_owned()
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

    /// The pretty-printed JSON value the process prints first on stdout (up to the line that
    /// closes it), e.g. `emulator --json`'s banner.
    pub fn pretty_json(&mut self) -> serde_json::Value {
        let mut reader = BufReader::new(self.stdout.take().expect("stdout not read yet"));
        let mut text = String::new();
        loop {
            let mut l = String::new();
            let end = reader.read_line(&mut l).unwrap() == 0 || l.starts_with('}');
            text.push_str(&l);
            if end {
                break;
            }
        }
        serde_json::from_str(&text).expect("a JSON value")
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

/// Stderr's lines, for the "what happened, what to do" checks.
pub fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

/// Whether this process runs as root (file modes do not stop root: tests use `chattr` then).
#[cfg(unix)]
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A file made unwritable for the life of the guard: `chattr +i` for root (modes do not stop
/// root), else mode 0444 on the file and 0555 on its directory.
#[cfg(unix)]
pub struct Unwritable {
    path: PathBuf,
    root: bool,
}

#[cfg(unix)]
impl Unwritable {
    /// Make `path` unwritable (and impossible to replace by a rename).
    pub fn new(path: &Path) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let root = is_root();
        if root {
            let status = Command::new("chattr")
                .arg("+i")
                .arg(path)
                .status()
                .expect("chattr runs (e2fsprogs)");
            assert!(status.success(), "chattr +i {}", path.display());
        } else {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444)).unwrap();
            let dir = path.parent().unwrap();
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        }
        Self {
            path: path.to_owned(),
            root,
        }
    }
}

#[cfg(unix)]
impl Drop for Unwritable {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.root {
            let _ = Command::new("chattr").arg("-i").arg(&self.path).status();
        } else {
            let dir = self.path.parent().unwrap();
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
            let _ = std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o600));
        }
    }
}

/// Wait until `cond` holds, polling what the emulator or the file system exposes; panic after
/// `timeout` saying `what`.
pub fn wait_until(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        // Polling a counter: there is nothing to block on across processes.
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A Zoho stand-in for answers the emulator never gives (a hostile or broken server): a loopback
/// server whose token endpoint answers `token_body` (`{origin}` in it is replaced by the server's
/// own origin, e.g. to name itself as `api_domain`) and whose every other path answers
/// `api_body` with HTTP 200. Returns its origin.
pub fn fake_zoho(token_body: &str, api_body: Vec<u8>) -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("a loopback port");
    let port = server.server_addr().to_ip().unwrap().port();
    let origin = format!("http://127.0.0.1:{port}");
    let token_body = token_body.replace("{origin}", &origin);
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let body = if request.url().starts_with("/oauth/") {
                token_body.clone().into_bytes()
            } else {
                api_body.clone()
            };
            let _ = request.respond(tiny_http::Response::from_data(body));
        }
    });
    origin
}

/// A token answer naming `api_domain`, as Zoho gives for a Self Client code.
pub fn token_answer(api_domain: &str) -> String {
    format!(
        r#"{{"access_token":"1000.2f1e0c3b5a4d6e7f8a9b0c1d2e3f4a5b.6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f","refresh_token":"1000.9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d.3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b","scope":"ZohoCRM.modules.ALL","api_domain":"{api_domain}","token_type":"Bearer","expires_in":3600}}"#
    )
}

/// The binary run under `script(1)`, which gives it a pseudo-terminal for stdin, stdout and
/// stderr (the way a person runs it), while the test reads what the terminal shows and types
/// into it.
#[cfg(unix)]
pub struct Terminal {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
    shown: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

#[cfg(unix)]
impl Terminal {
    /// Run `cmd` (program, arguments and environment) in a terminal. `None`, after saying so,
    /// when `script` is missing and `CI` is not `true`.
    pub fn start(cmd: &Command) -> Option<Self> {
        let quote =
            |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', "'\\''"));
        let mut line = quote(cmd.get_program());
        for a in cmd.get_args() {
            line.push(' ');
            line.push_str(&quote(a));
        }
        let mut script = Command::new("script");
        script.args(["-qefc", &line, "/dev/null"]);
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => script.env(k, v),
                None => script.env_remove(k),
            };
        }
        script
            .env("TERM", "xterm")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = match script.spawn() {
            Ok(c) => c,
            Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
                eprintln!(
                    "skipped: `script` (util-linux) cannot run ({e}); CI=true makes this a failure"
                );
                return None;
            }
            Err(e) => panic!("`script` (util-linux) cannot run ({e}); CI=true requires it"),
        };
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().unwrap();
        let shown = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = std::sync::Arc::clone(&shown);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Some(Self {
            child,
            stdin,
            shown,
        })
    }

    /// Everything the terminal showed so far.
    pub fn shown(&self) -> String {
        String::from_utf8_lossy(&self.shown.lock().unwrap()).into_owned()
    }

    /// Wait until the terminal shows `text`.
    pub fn wait_for(&self, text: &str, timeout: Duration) {
        wait_until(timeout, &format!("the terminal to show {text:?}"), || {
            self.shown().contains(text)
        });
    }

    /// Whether the program's terminal echoes what is typed (read with `stty` on its tty).
    pub fn echoes(&self) -> bool {
        let script = self.child.id();
        let children = std::fs::read_to_string(format!("/proc/{script}/task/{script}/children"))
            .expect("the children of script are listed");
        let pid = children
            .split_whitespace()
            .next()
            .expect("script runs the program");
        let tty = std::fs::read_link(format!("/proc/{pid}/fd/0")).expect("the program's stdin");
        let out = Command::new("stty")
            .arg("-F")
            .arg(&tty)
            .arg("-a")
            .output()
            .expect("stty runs");
        let settings = String::from_utf8_lossy(&out.stdout);
        !settings.split_whitespace().any(|w| w == "-echo")
    }

    /// Type `text` into the terminal.
    pub fn type_text(&mut self, text: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// Wait for the program to exit; its exit code and everything the terminal showed.
    pub fn finish(mut self, timeout: Duration) -> (i32, String) {
        let deadline = std::time::Instant::now() + timeout;
        let code = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code().unwrap_or(-1);
            }
            if std::time::Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the program did not exit within {timeout:?}:\n{}",
                    self.shown()
                );
            }
            // Polling an exit status: there is no blocking wait with a timeout in std.
            std::thread::sleep(Duration::from_millis(20));
        };
        drop(self.stdin.take());
        // The reader thread drains what is left once script exits.
        wait_until(Duration::from_secs(5), "the terminal output to end", || {
            std::sync::Arc::strong_count(&self.shown) == 1
        });
        (code, self.shown())
    }
}

/// Write `text` to `path`, creating parents.
pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Start `login --no-browser --port 0` as `cmd` with `extra` flags, read the authorization URL
/// and the redirect URI it printed, and register `client(vec![redirect URI])` (as a developer
/// registers the redirect URI in the API console). Returns the child, the URL and the URI.
pub fn start_login(
    w: &World,
    mut cmd: Command,
    extra: &[&str],
    client: impl Fn(Vec<String>) -> zoho_oauth_emulator::ClientSpec,
) -> (Spawned, String, String) {
    let s = Spawned::start(
        cmd.args(["login", "--no-browser", "--port", "0"])
            .args(extra),
    );
    let (url, _) = s.stderr_line(Duration::from_secs(20), |l| {
        l.starts_with("http") && l.contains("/oauth/v2/auth?")
    });
    let (waiting, _) = s.stderr_line(Duration::from_secs(5), |l| {
        l.starts_with("Waiting for the redirect to ")
    });
    let redirect_uri = waiting
        .trim_start_matches("Waiting for the redirect to ")
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    assert!(redirect_uri.starts_with("http://127.0.0.1:") && redirect_uri.ends_with("/callback"));
    w.emu
        .register_client(client(vec![redirect_uri.clone()]))
        .unwrap();
    (s, url, redirect_uri)
}

/// The browser's part of a login: GET the authorization URL without following, return the
/// Location it redirects to (the emulator consents at once).
pub fn authorize(url: &str) -> String {
    let resp = http().get(url).call().unwrap();
    assert_eq!(resp.status(), 302, "the emulator consents at once");
    resp.headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}
