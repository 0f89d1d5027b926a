//! What the harness and the `e2e-worker` say to each other: the worker's command line
//! ([`WorkerCommand`], [`Op`]) and the lines it prints ([`Line`], [`Event`], [`Checkpoint`]).
//!
//! A worker prints one line per step, so that the harness knows, even of a process it SIGKILLed,
//! how far it got (a line written to a pipe survives its writer):
//!
//! ```text
//! ready                                   client built; waiting for "go" on stdin
//! ev <µs> locked <user>                   the store lock of the credential is held
//! ev <µs> send <kind> <token|->           a request leaves (kind: refresh, exchange, revoke, api)
//! ev <µs> answer <kind> <status> <rt|-> <at|->  its answer came back (status "failed": no answer)
//! ev <µs> saving|saved <user>             around the save under the lock
//! ev <µs> deleting|deleted <user>         around the delete under the lock
//! ev <µs> releasing <user> commit|rollback  about to release (commit) or drop (roll back) the lock
//! ev <µs> unlocked <user> released|failed|dropped
//! paused <checkpoint>                     stopped at --pause-at; blocks on stdin (to be killed)
//! cred <user> <hint> <grant> reauth=<0|1> damaged=<0|1>   one line per credential (status)
//! ok <op> [values…] | err <op> <label> [lease_lost]   how the operation ended
//! ```
//!
//! `<µs>` is the wall clock in microseconds since the Unix epoch, one clock for every process of
//! the machine: the harness orders lock holders of different processes with it. Tokens are
//! printed on purpose: the worker exists only for tests against the emulator.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::spec::StoreSpec;

/// Environment variable the worker reads the client secret from (never from its arguments, which
/// other users of the machine can see).
pub const SECRET_ENV: &str = "ZOHO_E2E_CLIENT_SECRET";

/// Environment variable the worker reads the grant code of `exchange` from.
pub const CODE_ENV: &str = "ZOHO_E2E_CODE";

/// The line a worker prints once its client is built and it waits for the start signal.
pub const READY: &str = "ready";

/// The cause an `err` line names when the store refused a write because the lock's lease had
/// expired (Redis: the holder stalled past it, and another may hold the lock now).
pub const LEASE_LOST: &str = "lease_lost";

/// The operation a worker runs once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `token USER`: [`Client::access_token`](zoho_oauth::Client::access_token).
    Token(String),
    /// `refresh [--force] USER`: [`Client::refresh`](zoho_oauth::Client::refresh).
    Refresh {
        /// The user.
        user: String,
        /// Refresh even if the token is fresh.
        force: bool,
    },
    /// `exchange USER`: [`Client::exchange_grant`](zoho_oauth::Client::exchange_grant) of the code
    /// in [`CODE_ENV`].
    Exchange(String),
    /// `revoke USER`: [`Client::revoke`](zoho_oauth::Client::revoke).
    Revoke(String),
    /// `status`: [`Client::status`](zoho_oauth::Client::status), one `cred` line per credential.
    Status,
}

impl Op {
    /// The user the operation concerns (`None` for `status`).
    pub fn user(&self) -> Option<&str> {
        match self {
            Self::Token(u) | Self::Exchange(u) | Self::Revoke(u) => Some(u),
            Self::Refresh { user, .. } => Some(user),
            Self::Status => None,
        }
    }

    /// Its name in `ok`/`err` lines and reports: `token`, `refresh`, `force-refresh`,
    /// `exchange`, `revoke`, `status`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Token(_) => "token",
            Self::Refresh { force: false, .. } => "refresh",
            Self::Refresh { force: true, .. } => "force-refresh",
            Self::Exchange(_) => "exchange",
            Self::Revoke(_) => "revoke",
            Self::Status => "status",
        }
    }

    /// Its words on the command line.
    pub fn args(&self) -> Vec<String> {
        let mut words = vec![match self {
            Self::Refresh { .. } => "refresh".to_owned(),
            other => other.name().to_owned(),
        }];
        if let Self::Refresh { force: true, .. } = self {
            words.push("--force".to_owned());
        }
        words.extend(self.user().map(str::to_owned));
        words
    }

    /// Parses [`args`](Self::args).
    ///
    /// # Errors
    ///
    /// A message naming the operations, for anything else.
    pub fn parse(words: &[String]) -> Result<Self, String> {
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        Ok(match words.as_slice() {
            ["token", user] => Self::Token((*user).to_owned()),
            ["refresh", user] => Self::Refresh {
                user: (*user).to_owned(),
                force: false,
            },
            ["refresh", "--force", user] => Self::Refresh {
                user: (*user).to_owned(),
                force: true,
            },
            ["exchange", user] => Self::Exchange((*user).to_owned()),
            ["revoke", user] => Self::Revoke((*user).to_owned()),
            ["status"] => Self::Status,
            _ => {
                return Err(format!(
                "operation {words:?} is not one of: token USER, refresh [--force] USER, exchange USER, revoke USER, status"
            ))
            }
        })
    }
}

/// One worker's command line (and the secrets it gets through its environment).
#[derive(Debug, Clone)]
pub struct WorkerCommand {
    /// The shared store.
    pub store: StoreSpec,
    /// The emulator's accounts origin, e.g. `http://127.0.0.1:PORT`.
    pub accounts: String,
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret, passed through [`SECRET_ENV`].
    pub client_secret: String,
    /// What to do once released.
    pub op: Op,
    /// The grant code of an `exchange`, passed through [`CODE_ENV`].
    pub code: Option<String>,
    /// How far ahead of the system clock the worker's client clock runs (`--clock-offset-ms`):
    /// the harness ages every stored token by moving it, as it moves the emulator's clock.
    pub clock_offset: Duration,
    /// Stop at the first time this checkpoint is reached (`--pause-at`): print `paused` and block
    /// on stdin, for the harness to SIGKILL the process exactly there.
    pub pause_at: Option<Checkpoint>,
}

impl WorkerCommand {
    /// The arguments: `[--clock-offset-ms N] [--pause-at CHECKPOINT] STORE ACCOUNTS CLIENT_ID OP…`.
    pub fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if !self.clock_offset.is_zero() {
            args.push("--clock-offset-ms".to_owned());
            args.push(self.clock_offset.as_millis().to_string());
        }
        if let Some(at) = self.pause_at {
            args.push("--pause-at".to_owned());
            args.push(at.to_string());
        }
        args.push(self.store.to_string());
        args.push(self.accounts.clone());
        args.push(self.client_id.clone());
        args.extend(self.op.args());
        args
    }
}

/// The worker's options and positional arguments, as parsed from its command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedArgs {
    /// `--clock-offset-ms`.
    pub clock_offset: Duration,
    /// `--pause-at`.
    pub pause_at: Option<Checkpoint>,
    /// STORE.
    pub store: StoreSpec,
    /// ACCOUNTS.
    pub accounts: String,
    /// CLIENT_ID.
    pub client_id: String,
    /// OP….
    pub op: Op,
}

/// The worker's usage line.
pub const USAGE: &str = "usage: e2e-worker [--clock-offset-ms N] [--pause-at CHECKPOINT] STORE ACCOUNTS_ORIGIN CLIENT_ID (token USER | refresh [--force] USER | exchange USER | revoke USER | status); secret in ZOHO_E2E_CLIENT_SECRET, exchange code in ZOHO_E2E_CODE";

impl ParsedArgs {
    /// Parses what [`WorkerCommand::args`] writes.
    ///
    /// # Errors
    ///
    /// What is wrong, for a bad command line.
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut clock_offset = Duration::ZERO;
        let mut pause_at = None;
        let mut rest = args;
        loop {
            match rest {
                [flag, value, tail @ ..] if flag == "--clock-offset-ms" => {
                    let ms: u64 = value
                        .parse()
                        .map_err(|_| format!("--clock-offset-ms {value:?} is not a number"))?;
                    clock_offset = Duration::from_millis(ms);
                    rest = tail;
                }
                [flag, value, tail @ ..] if flag == "--pause-at" => {
                    pause_at = Some(value.parse()?);
                    rest = tail;
                }
                _ => break,
            }
        }
        let [store, accounts, client_id, op @ ..] = rest else {
            return Err(USAGE.to_owned());
        };
        Ok(Self {
            clock_offset,
            pause_at,
            store: StoreSpec::parse(store)?,
            accounts: accounts.clone(),
            client_id: client_id.clone(),
            op: Op::parse(op)?,
        })
    }
}

/// A step of a worker's operation that it reports (and can pause at).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Checkpoint {
    /// The credential's store lock was taken.
    Locked,
    /// A request is about to leave.
    Send,
    /// A request's answer (or its failure) came back, before the library sees it.
    Answer,
    /// A save under the lock is about to start.
    Saving,
    /// A save under the lock returned (not yet committed: the lock is still held).
    Saved,
    /// A delete under the lock is about to start.
    Deleting,
    /// A delete under the lock returned (not yet committed).
    Deleted,
    /// The lock is about to be released (commit) or dropped (roll back).
    Releasing,
    /// The lock was released or dropped.
    Unlocked,
}

impl Checkpoint {
    /// Every checkpoint.
    pub const ALL: [Checkpoint; 9] = [
        Self::Locked,
        Self::Send,
        Self::Answer,
        Self::Saving,
        Self::Saved,
        Self::Deleting,
        Self::Deleted,
        Self::Releasing,
        Self::Unlocked,
    ];

    /// Its name in lines and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Locked => "locked",
            Self::Send => "send",
            Self::Answer => "answer",
            Self::Saving => "saving",
            Self::Saved => "saved",
            Self::Deleting => "deleting",
            Self::Deleted => "deleted",
            Self::Releasing => "releasing",
            Self::Unlocked => "unlocked",
        }
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Checkpoint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| format!("{s:?} is not a checkpoint"))
    }
}

/// A checkpoint reached, with its time and details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Wall-clock microseconds since the Unix epoch, when the worker reached it.
    pub at_us: u64,
    /// Which checkpoint.
    pub checkpoint: Checkpoint,
    /// Its details (see the module docs), as printed.
    pub args: Vec<String>,
}

impl Event {
    /// Detail `i`, or `""`.
    pub fn arg(&self, i: usize) -> &str {
        self.args.get(i).map_or("", String::as_str)
    }

    /// For `send` and `answer`: the kind of request (`refresh`, `exchange`, `revoke`, `api`).
    pub fn kind(&self) -> &str {
        self.arg(0)
    }

    /// A token detail, `None` for `-`.
    pub fn token(&self, i: usize) -> Option<&str> {
        Some(self.arg(i)).filter(|t| !t.is_empty() && *t != "-")
    }
}

/// One credential of a `status` listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredLine {
    /// The user.
    pub user: String,
    /// The last characters of its refresh token.
    pub hint: String,
    /// Zoho refused it: it needs a new authorization.
    pub reauth: bool,
    /// The entry does not decode.
    pub damaged: bool,
}

/// A line a worker printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// [`READY`].
    Ready,
    /// `ev …`.
    Event(Event),
    /// `paused <checkpoint>`.
    Paused(Checkpoint),
    /// `cred …`.
    Cred(CredLine),
    /// `ok <op> <values…>`.
    Ok {
        /// The operation's name.
        op: String,
        /// What it printed after it.
        values: Vec<String>,
    },
    /// `err <op> <label> [cause]`: the error's [`label`](zoho_oauth::Error::label), and
    /// [`LEASE_LOST`] when a store refused a write because the lock's lease had expired.
    Err {
        /// The operation's name.
        op: String,
        /// The error's label.
        label: String,
        /// The store's reason, when it is one the harness accounts for.
        cause: Option<String>,
    },
    /// Anything else (a bug of the worker: the harness reports it).
    Other(String),
}

impl Line {
    /// Parses one line of a worker's stdout.
    pub fn parse(line: &str) -> Self {
        let words: Vec<&str> = line.split_whitespace().collect();
        let owned = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        match words.as_slice() {
            [READY] => Self::Ready,
            ["ev", at, checkpoint, args @ ..] => match (at.parse(), checkpoint.parse()) {
                (Ok(at_us), Ok(checkpoint)) => Self::Event(Event {
                    at_us,
                    checkpoint,
                    args: owned(args),
                }),
                _ => Self::Other(line.to_owned()),
            },
            ["paused", checkpoint] => match checkpoint.parse() {
                Ok(c) => Self::Paused(c),
                Err(_) => Self::Other(line.to_owned()),
            },
            ["cred", user, hint, _grant, reauth, damaged] => Self::Cred(CredLine {
                user: (*user).to_owned(),
                hint: (*hint).to_owned(),
                reauth: *reauth == "reauth=1",
                damaged: *damaged == "damaged=1",
            }),
            ["ok", op, values @ ..] => Self::Ok {
                op: (*op).to_owned(),
                values: owned(values),
            },
            ["err", op, label, cause @ ..] if cause.len() <= 1 => Self::Err {
                op: (*op).to_owned(),
                label: (*label).to_owned(),
                cause: cause.first().map(|c| (*c).to_owned()),
            },
            _ => Self::Other(line.to_owned()),
        }
    }
}

/// Now on the wall clock, in microseconds since the Unix epoch (the time of events and kills).
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn a_worker_command_line_parses_back_to_what_was_asked() {
        for op in [
            Op::Token("a@x".into()),
            Op::Refresh {
                user: "a@x".into(),
                force: true,
            },
            Op::Refresh {
                user: "a@x".into(),
                force: false,
            },
            Op::Exchange("a@x".into()),
            Op::Revoke("a@x".into()),
            Op::Status,
        ] {
            let command = WorkerCommand {
                store: StoreSpec::parse("sqlite:/tmp/t.db").unwrap(),
                accounts: "http://127.0.0.1:1".into(),
                client_id: "1000.X".into(),
                client_secret: "s".into(),
                op: op.clone(),
                code: None,
                clock_offset: Duration::from_secs(7200),
                pause_at: Some(Checkpoint::Saved),
            };
            let parsed = ParsedArgs::parse(&command.args()).unwrap();
            assert_eq!(parsed.op, op);
            assert_eq!(parsed.clock_offset, Duration::from_secs(7200));
            assert_eq!(parsed.pause_at, Some(Checkpoint::Saved));
            assert_eq!(parsed.store, command.store);
        }
        assert!(ParsedArgs::parse(&strings(&["file:x", "http://h", "id", "dance"])).is_err());
        assert!(ParsedArgs::parse(&strings(&["--pause-at", "lunch", "file:x"])).is_err());
    }

    #[test]
    fn worker_lines_parse_into_what_they_say() {
        assert_eq!(Line::parse("ready"), Line::Ready);
        let Line::Event(e) = Line::parse("ev 17 answer refresh 200 - 1000.ab") else {
            panic!("an event")
        };
        assert_eq!(
            (e.at_us, e.checkpoint, e.kind()),
            (17, Checkpoint::Answer, "refresh")
        );
        assert_eq!((e.token(2), e.token(3)), (None, Some("1000.ab")));
        assert_eq!(Line::parse("paused saved"), Line::Paused(Checkpoint::Saved));
        assert_eq!(
            Line::parse("err token needs_authorization"),
            Line::Err {
                op: "token".into(),
                label: "needs_authorization".into(),
                cause: None,
            }
        );
        assert_eq!(
            Line::parse("err token not_saved lease_lost"),
            Line::Err {
                op: "token".into(),
                label: "not_saved".into(),
                cause: Some(LEASE_LOST.into()),
            }
        );
        assert!(matches!(
            Line::parse("cred a@x 1a2b authorization_code reauth=1 damaged=0"),
            Line::Cred(CredLine {
                reauth: true,
                damaged: false,
                ..
            })
        ));
        assert!(matches!(Line::parse("ev soon locked a"), Line::Other(_)));
    }
}
