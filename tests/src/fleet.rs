//! Running `e2e-worker` processes: spawn them, wait until every one is ready, release them (all
//! at once or one by one), SIGKILL them when their lines or a timer say so, and collect how each
//! ended with everything it printed.
//!
//! [`Fleet::run`] is event-driven: each worker's stdout is read on a thread of its own and every
//! line reaches the caller's hook as it arrives, which may release or kill any worker, now or
//! after a delay. Nothing waits by sleeping: the loop waits on the lines or on the next kill
//! timer, whichever comes first.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::protocol::{
    now_us, Checkpoint, CredLine, Event, Line, WorkerCommand, CODE_ENV, SECRET_ENV,
};

/// The signal number of SIGKILL.
const SIGKILL: i32 = 9;

/// How one worker ended.
#[derive(Debug)]
pub struct Outcome {
    /// The process's exit status.
    pub status: ExitStatus,
    /// Every line it printed, in order.
    pub lines: Vec<Line>,
    /// The end of what it wrote to stderr (its error, if any; at most 4 KiB).
    pub stderr: String,
    /// When the harness released it (wall clock µs), if it did.
    pub released_us: Option<u64>,
    /// When the harness sent it SIGKILL (wall clock µs), if it did.
    pub kill_sent_us: Option<u64>,
    /// When the harness saw its stdout close, at its exit (wall clock µs).
    pub exited_us: Option<u64>,
}

impl Outcome {
    /// Whether it died of the harness's SIGKILL (not merely was sent one after it had exited).
    pub fn killed(&self) -> bool {
        self.kill_sent_us.is_some() && self.status.signal() == Some(SIGKILL)
    }

    /// Its events, in order.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.lines.iter().filter_map(|l| match l {
            Line::Event(e) => Some(e),
            _ => None,
        })
    }

    /// The first event at `checkpoint`.
    pub fn first(&self, checkpoint: Checkpoint) -> Option<&Event> {
        self.events().find(|e| e.checkpoint == checkpoint)
    }

    /// The values of its `ok` line, if it printed one.
    pub fn ok(&self) -> Option<&[String]> {
        self.lines.iter().find_map(|l| match l {
            Line::Ok { values, .. } => Some(values.as_slice()),
            _ => None,
        })
    }

    /// The label of its `err` line, if it printed one.
    pub fn err(&self) -> Option<&str> {
        self.lines.iter().find_map(|l| match l {
            Line::Err { label, .. } => Some(label.as_str()),
            _ => None,
        })
    }

    /// Whether its `err` line says a store refused a write because the lock's lease had expired.
    pub fn lease_lost(&self) -> bool {
        self.lines.iter().any(
            |l| matches!(l, Line::Err { cause: Some(c), .. } if c == crate::protocol::LEASE_LOST),
        )
    }

    /// The access token of a successful `token` (or `exchange`) operation.
    pub fn token(&self) -> Option<&str> {
        self.ok().and_then(|v| v.last()).map(String::as_str)
    }

    /// The `cred` lines of a `status` operation.
    pub fn creds(&self) -> Vec<&CredLine> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                Line::Cred(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    /// The last checkpoint it reported before it ended (`None`: none at all).
    pub fn last_checkpoint(&self) -> Option<Checkpoint> {
        self.events().last().map(|e| e.checkpoint)
    }
}

enum Msg {
    Line(Line),
    /// Its stdout closed (it exited); the end of its stderr.
    Closed(String),
}

struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Vec<Line>,
    stderr: Option<String>,
    released_us: Option<u64>,
    kill_sent_us: Option<u64>,
    exited_us: Option<u64>,
}

/// Workers spawned and ready, waiting to be released.
pub struct Fleet {
    procs: Vec<Proc>,
    events: mpsc::Receiver<(usize, Msg)>,
    deadline: Instant,
    timers: BTreeSet<(Instant, usize)>,
}

/// What a [`Fleet::run`] hook may do: release and kill workers.
pub struct Control<'f> {
    fleet: &'f mut Fleet,
}

impl Control<'_> {
    /// Releases worker `i` (sends its start signal).
    pub fn release(&mut self, i: usize) {
        self.fleet.release(i);
    }

    /// SIGKILLs worker `i` now (if it has not exited yet).
    pub fn kill(&mut self, i: usize) {
        self.fleet.kill(i);
    }

    /// SIGKILLs worker `i` after `delay` (if it has not exited by then).
    pub fn kill_after(&mut self, i: usize, delay: Duration) {
        self.fleet.kill_after(i, delay);
    }
}

impl Fleet {
    /// Spawns one worker per command and returns once every one of them has built its client and
    /// is waiting (or panics, killing them, after `limit`, which also bounds [`run`](Self::run)).
    ///
    /// # Panics
    ///
    /// If a worker cannot be spawned, exits before it is ready, or the fleet is not ready in time.
    pub fn spawn(exe: &Path, commands: &[WorkerCommand], limit: Duration) -> Self {
        let deadline = Instant::now() + limit;
        let (tx, events) = mpsc::channel();
        let mut procs = Vec::with_capacity(commands.len());
        for (i, command) in commands.iter().enumerate() {
            let mut cmd = Command::new(exe);
            cmd.args(command.args())
                .env(SECRET_ENV, &command.client_secret)
                .env_remove(CODE_ENV)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            if let Some(code) = &command.code {
                cmd.env(CODE_ENV, code);
            }
            let mut child = cmd.spawn().expect("spawn the e2e-worker");
            let stdin = child.stdin.take();
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
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let _ = tx.send((i, Msg::Line(Line::parse(&line))));
                }
                let err = stderr.join().unwrap_or_default();
                let _ = tx.send((i, Msg::Closed(err)));
            });
            procs.push(Proc {
                child,
                stdin,
                lines: Vec::new(),
                stderr: None,
                released_us: None,
                kill_sent_us: None,
                exited_us: None,
            });
        }
        let mut fleet = Self {
            procs,
            events,
            deadline,
            timers: BTreeSet::new(),
        };
        let mut ready = 0;
        while ready < commands.len() {
            let (i, msg) = fleet.next_msg();
            match msg {
                Msg::Line(Line::Ready) => ready += 1,
                Msg::Line(other) => fleet.procs[i].lines.push(other),
                Msg::Closed(err) => fleet.abort(&format!(
                    "worker {i} ({}) exited before it was ready: {}",
                    commands[i].op.name(),
                    err.trim()
                )),
            }
        }
        fleet
    }

    fn next_msg(&mut self) -> (usize, Msg) {
        let left = self.deadline.saturating_duration_since(Instant::now());
        match self.events.recv_timeout(left) {
            Ok(msg) => msg,
            Err(_) => self.abort("the workers did not finish in time"),
        }
    }

    /// Releases worker `i`.
    pub fn release(&mut self, i: usize) {
        let proc = &mut self.procs[i];
        if let Some(stdin) = proc.stdin.as_mut() {
            proc.released_us = Some(now_us());
            // A worker that already died cannot read it: its end is reported by its stdout.
            let _ = stdin.write_all(b"go\n").and_then(|()| stdin.flush());
        }
    }

    /// Releases every worker, back to back.
    pub fn release_all(&mut self) {
        for i in 0..self.procs.len() {
            self.release(i);
        }
    }

    /// SIGKILLs worker `i` now, unless it has already exited.
    pub fn kill(&mut self, i: usize) {
        let proc = &mut self.procs[i];
        if proc.stderr.is_some() || proc.kill_sent_us.is_some() {
            return;
        }
        proc.kill_sent_us = Some(now_us());
        // `Child::kill` is SIGKILL on Unix. A worker that exited (not yet reaped) ignores it; its
        // exit status then says so, and it does not count as killed.
        let _ = proc.child.kill();
    }

    /// SIGKILLs worker `i` after `delay`.
    pub fn kill_after(&mut self, i: usize, delay: Duration) {
        if delay.is_zero() {
            self.kill(i);
        } else {
            self.timers.insert((Instant::now() + delay, i));
        }
    }

    /// Runs until every worker has exited, handing each line to `hook` as it arrives (after
    /// recording it) and firing kill timers on time; then reaps them all.
    ///
    /// # Panics
    ///
    /// If they do not all exit before the deadline given to [`spawn`](Self::spawn).
    pub fn run(mut self, mut hook: impl FnMut(&mut Control<'_>, usize, &Line)) -> Vec<Outcome> {
        let mut running = self.procs.iter().filter(|p| p.stderr.is_none()).count();
        while running > 0 {
            let now = Instant::now();
            while let Some(&(at, i)) = self.timers.first() {
                if at > now {
                    break;
                }
                self.timers.remove(&(at, i));
                self.kill(i);
            }
            let next_timer = self.timers.first().map(|(at, _)| *at);
            let wake = next_timer.map_or(self.deadline, |t| t.min(self.deadline));
            let msg = match self
                .events
                .recv_timeout(wake.saturating_duration_since(Instant::now()))
            {
                Ok(msg) => msg,
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < self.deadline => continue,
                Err(_) => self.abort("the workers did not finish in time"),
            };
            match msg {
                (i, Msg::Line(line)) => {
                    self.procs[i].lines.push(line.clone());
                    hook(&mut Control { fleet: &mut self }, i, &line);
                }
                (i, Msg::Closed(err)) => {
                    self.procs[i].stderr = Some(err);
                    self.procs[i].exited_us = Some(now_us());
                    self.procs[i].stdin = None;
                    running -= 1;
                }
            }
        }
        self.procs
            .into_iter()
            .map(|mut p| Outcome {
                status: p.child.wait().expect("reap a worker"),
                lines: p.lines,
                stderr: p.stderr.unwrap_or_default(),
                released_us: p.released_us,
                kill_sent_us: p.kill_sent_us,
                exited_us: p.exited_us,
            })
            .collect()
    }

    /// Releases every worker at once and waits for all of them to exit.
    ///
    /// # Panics
    ///
    /// If they do not all finish before the deadline given to [`spawn`](Self::spawn).
    pub fn release_and_wait(mut self) -> Vec<Outcome> {
        self.release_all();
        self.run(|_, _, _| {})
    }

    /// Kills every worker and panics with `why` and what each worker printed and wrote to stderr.
    fn abort(&mut self, why: &str) -> ! {
        for proc in &mut self.procs {
            let _ = proc.child.kill();
            let _ = proc.child.wait();
        }
        // Killed workers close their pipes, so every reader thread reports promptly.
        while let Ok((i, msg)) = self.events.recv_timeout(Duration::from_secs(5)) {
            match msg {
                Msg::Line(line) => self.procs[i].lines.push(line),
                Msg::Closed(err) => self.procs[i].stderr = Some(err),
            }
        }
        let mut report = String::new();
        for (i, proc) in self.procs.iter().enumerate() {
            let last = proc
                .lines
                .last()
                .map(|l| format!("{l:?}"))
                .unwrap_or_default();
            report.push_str(&format!(
                "\n  worker {i}: {} lines, last {last}; stderr: {}",
                proc.lines.len(),
                proc.stderr.as_deref().unwrap_or("").trim()
            ));
        }
        panic!("{why}{report}");
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
