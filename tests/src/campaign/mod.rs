//! The crash campaign: rounds of concurrent `e2e-worker` processes refreshing, force-refreshing,
//! exchanging, revoking and listing against the emulator (with latency, so requests stay on the
//! wire), each SIGKILLed at a random moment; after each round, everything that must hold is
//! checked with fresh store handles, a fresh process and the emulator itself.
//!
//! # A round
//!
//! 1. An hour passes: the emulator's clock and the workers' client clock move one hour ahead, so
//!    every stored access token has expired — exactly one expiry per credential per round. Users
//!    whose credential is gone get a new one (a code exchange), as do half of those whose refresh
//!    token is dead (revoked by a worker killed before it could delete it).
//! 2. `workers` processes each get an operation on one of `users` users (token 35 %,
//!    `refresh --force` 20 %, exchange of a fresh code 15 %, revoke 15 %, status 15 %) and a
//!    way to die: none (15 %), a timer over the typical length of an operation (30 %), or a
//!    checkpoint (55 %): paused and killed right after taking the lock, after the answer came
//!    back, after the save or delete (before the commit); killed a random moment after sending
//!    (the request on the wire), after starting the save or delete, after starting the commit.
//!    They start together.
//! 3. When all have exited and no request is left in flight at the emulator, the checks run.
//!
//! # The checks (each counted in [`Report::checks`])
//!
//! - **The store opens** (a new handle) and a new `status` process lists exactly the stored
//!   users, none damaged.
//! - **No lock is left held**: every credential's lock is taken with `LockWait::AtMost(1 s)` —
//!   plus, for Redis, the lease: a SIGKILLed holder's lease lives on until it expires
//!   ([`StoreSpec::orphan_lock_bound`]).
//! - **The lock excluded**: no two processes held a credential's lock at once (each holder's
//!   `locked` time is after the previous holder's release began, or after it was killed) —
//!   except on Redis after a holder stalled past its lease, which the store reports by refusing
//!   that holder's write (counted in [`Report::leases_lost`]).
//! - **No credential lost or corrupted**: it loads under its lock, and what is stored is one of the
//!   states the round's lock holders can have left, replayed in lock order: a change (an
//!   exchange's new refresh token, a revoke's delete) the store made durable is applied — at the
//!   commit on SQLite, PostgreSQL and MySQL, so a holder killed between its save and its commit
//!   left nothing; when the save or delete returns on the file store and Redis
//!   ([`StoreSpec::durability`]) — one whose holder died at that very point may be, the others
//!   are not. A stored refresh token is one
//!   the emulator issued for that user (seen in an exchange's answer) and the emulator still
//!   honours it for that user (a refresh by hand, then user info) — or a worker sent it to be
//!   revoked and was killed before the delete. A stored access token that has not expired is one
//!   the emulator minted for that user.
//! - **At most one refresh per expiry**: for each refresh token, the refreshes that `token`
//!   workers sent are at most one (the expiry) plus one per such worker that died or failed
//!   before saving; the emulator saw no refresh that no worker sent (`refreshes_per_token`), and
//!   minted no more tokens than were asked for (`mints`).
//! - **Every operation ended as it may**: killed, succeeded with the right answer, or failed for
//!   a reason the round accounts for (no credential, after a delete earlier in the round; a
//!   refresh token some worker sent to be revoked; a write refused for a lost lease).
//!
//! Every random choice comes from one seed, printed at the start and in every failure
//! (`ZOHO_CAMPAIGN_SEED` replays the plan; the operating system's scheduling still varies).

mod checks;
mod history;
mod report;

pub use report::Report;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use zoho_oauth::{CredentialKey, TokenStore};
use zoho_oauth_emulator::{
    Config as EmulatorConfig, Counters, DataCenter, Emulator, Limits, UserSpec, DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
};

use checks::Checker;
use report::moment;

use crate::fleet::{Fleet, Outcome};
use crate::probe::Probe;
use crate::protocol::{Checkpoint, Line, Op, WorkerCommand};
use crate::rng::Rng;
use crate::seed;
use crate::spec::StoreSpec;

/// How much time passes between two rounds, for the emulator and the workers alike.
const HOUR: Duration = Duration::from_secs(3600);

/// How long a round may take before the campaign fails (processes that hang).
const ROUND_LIMIT: Duration = Duration::from_secs(120);

/// The most workers per round: with one expiry per round, a credential then gets at most 8
/// refreshes and an exchange's mint, within Zoho's 10 mints per 10 minutes per refresh token.
pub const MAX_WORKERS: usize = 8;

/// What a campaign does.
#[derive(Debug, Clone)]
pub struct Config {
    /// Stop once this many processes died of SIGKILL.
    pub kills: u64,
    /// Processes per round (at most [`MAX_WORKERS`]).
    pub workers: usize,
    /// Users (credentials) the processes share.
    pub users: usize,
    /// The emulator's delay of every token request: the time a refresh or exchange is on the wire.
    pub latency: Duration,
    /// The seed of every random choice.
    pub seed: u64,
}

impl Config {
    /// The defaults (8 workers, 3 users, 80 ms latency), with `ZOHO_CAMPAIGN_KILLS` (default 100)
    /// and `ZOHO_CAMPAIGN_SEED` (default: from the time) from the environment.
    ///
    /// # Panics
    ///
    /// When a variable is set but is not a number.
    pub fn from_env() -> Self {
        let number = |var: &str| {
            std::env::var(var).ok().map(|v| {
                let v = v.trim();
                let parsed = match v.strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16),
                    None => v.parse(),
                };
                parsed.unwrap_or_else(|_| panic!("{var}={v:?} is not a number"))
            })
        };
        let seed = number("ZOHO_CAMPAIGN_SEED").unwrap_or_else(|| {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
        });
        Self {
            kills: number("ZOHO_CAMPAIGN_KILLS").unwrap_or(100),
            workers: MAX_WORKERS,
            users: 3,
            latency: Duration::from_millis(80),
            seed,
        }
    }
}

/// How a worker is to die.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kill {
    /// It is left to finish.
    Never,
    /// This long after the start signal.
    Timer(Duration),
    /// Where it pauses (`--pause-at`).
    Pause(Checkpoint),
    /// This long after it reports the checkpoint.
    After(Checkpoint, Duration),
}

struct Plan {
    command: WorkerCommand,
    kill: Kill,
}

/// What a round began with and how it went, for the checks.
struct Round {
    /// Each user's stored refresh token when the workers started.
    start: HashMap<String, State>,
    plans: Vec<Plan>,
    outcomes: Vec<Outcome>,
    /// The emulator's counters of the round.
    counters: Counters,
}

impl Round {
    /// Each worker's plan with how it ended.
    fn workers(&self) -> impl Iterator<Item = (&Plan, &Outcome)> {
        self.plans.iter().zip(&self.outcomes)
    }
}

/// What a state of a credential can be, as far as the campaign tracks it: its refresh token, or
/// nothing stored.
type State = Option<String>;

/// Runs a campaign on `spec` with the worker binary at `exe`.
///
/// # Panics
///
/// On the first round whose checks fail, with every failure of that round and the seed; when a
/// round does not end within two minutes; or when the target number of kills is not reached in
/// as many rounds.
pub fn run(exe: &Path, spec: &StoreSpec, config: &Config) -> Report {
    assert!(
        (1..=MAX_WORKERS).contains(&config.workers),
        "1 to {MAX_WORKERS} workers per round"
    );
    let seed_note = SeedNote {
        store: spec.kind(),
        seed: config.seed,
    };
    eprintln!(
        "campaign on {}: seed {} (replay the plan with ZOHO_CAMPAIGN_SEED={}), {} kills",
        spec.kind(),
        config.seed,
        config.seed,
        config.kills
    );
    let started = Instant::now();
    let mut campaign = Campaign::new(exe, spec, config);
    while campaign.report.kills < config.kills {
        assert!(
            campaign.report.rounds < config.kills.max(10),
            "{} kills after {} rounds: the campaign cannot reach {} (seed {})",
            campaign.report.kills,
            campaign.report.rounds,
            config.kills,
            config.seed
        );
        let failures = campaign.round();
        assert!(
            failures.is_empty(),
            "campaign on {} failed in round {} (replay the plan with ZOHO_CAMPAIGN_SEED={}):\n  - {}",
            spec.kind(),
            campaign.report.rounds,
            config.seed,
            failures.join("\n  - ")
        );
    }
    campaign.report.duration = started.elapsed();
    drop(seed_note);
    campaign.report
}

/// Prints the seed if the campaign panics on the way (a worker that hangs, a server that fails).
struct SeedNote {
    store: &'static str,
    seed: u64,
}

impl Drop for SeedNote {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "campaign on {} failed: replay the plan with ZOHO_CAMPAIGN_SEED={}",
                self.store, self.seed
            );
        }
    }
}

struct Campaign<'a> {
    exe: &'a Path,
    spec: &'a StoreSpec,
    config: &'a Config,
    emu: Emulator,
    accounts: String,
    probe: Probe,
    rng: Rng,
    users: Vec<String>,
    keys: Vec<CredentialKey>,
    /// Refresh tokens the emulator issued per user, as seen in answers (and seeds).
    issued: HashMap<String, HashSet<String>>,
    /// Refresh tokens some worker sent to be revoked.
    revoke_sent: HashSet<String>,
    /// Users whose stored refresh token the emulator no longer honours.
    dead: HashSet<String>,
    /// How far the clocks have moved.
    offset: Duration,
    /// How long completed operations took, start signal to exit (for the kill timers).
    durations: Vec<Duration>,
    report: Report,
}

impl<'a> Campaign<'a> {
    fn new(exe: &'a Path, spec: &'a StoreSpec, config: &'a Config) -> Self {
        // Zoho's limits, but for two that a long campaign would trip without testing anything:
        // grant codes per 10 minutes (each round mints a few) and refresh tokens per user (each
        // exchange adds one; the 21st would evict the oldest, maybe the one still stored).
        let emu = Emulator::start(EmulatorConfig {
            limits: Limits {
                grant_codes_per_window: 10_000,
                max_refresh_tokens_per_user: 1_000_000,
                ..Limits::default()
            },
            ..EmulatorConfig::default()
        })
        .expect("start the emulator");
        let users: Vec<String> = (1..=config.users)
            .map(|i| format!("user{i}@example.com"))
            .collect();
        for (i, email) in users.iter().enumerate() {
            emu.register_user(UserSpec {
                email: email.clone(),
                zuid: 20_000_000_000 + i as u64,
                ..UserSpec::default()
            })
            .expect("register a user");
        }
        let accounts = emu.base_url(DataCenter::Us).to_owned();
        let keys = users.iter().map(|u| seed::key(&accounts, u)).collect();
        Self {
            exe,
            spec,
            config,
            probe: Probe::new(&accounts, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            accounts,
            emu,
            rng: Rng::new(config.seed),
            users,
            keys,
            issued: HashMap::new(),
            revoke_sent: HashSet::new(),
            dead: HashSet::new(),
            offset: Duration::ZERO,
            durations: Vec::new(),
            report: Report {
                store: spec.kind().to_owned(),
                seed: config.seed,
                ..Report::default()
            },
        }
    }

    fn open(&self) -> Box<dyn TokenStore> {
        self.spec
            .open()
            .unwrap_or_else(|e| panic!("the store does not open: {e}"))
    }

    /// One round; the failures of its checks.
    fn round(&mut self) -> Vec<String> {
        self.report.rounds += 1;
        self.offset += HOUR;
        self.emu.advance_clock(HOUR);
        self.emu.set_latency(Duration::ZERO);
        let start = self.prepare();
        self.emu.reset_counters();

        let plans: Vec<Plan> = (0..self.config.workers).map(|_| self.plan()).collect();
        let commands: Vec<WorkerCommand> = plans.iter().map(|p| p.command.clone()).collect();
        let mut fleet = Fleet::spawn(self.exe, &commands, ROUND_LIMIT);
        self.emu.set_latency(self.config.latency);
        fleet.release_all();
        for (i, plan) in plans.iter().enumerate() {
            if let Kill::Timer(after) = plan.kill {
                fleet.kill_after(i, after);
            }
        }
        let kills: Vec<Kill> = plans.iter().map(|p| p.kill).collect();
        let mut armed = vec![false; kills.len()];
        let outcomes = fleet.run(|control, i, line| match (kills[i], line) {
            (Kill::Pause(at), Line::Paused(paused)) if at == *paused => control.kill(i),
            (Kill::After(at, delay), Line::Event(e)) if at == e.checkpoint && !armed[i] => {
                armed[i] = true;
                control.kill_after(i, delay);
            }
            _ => {}
        });
        self.emu.set_latency(Duration::ZERO);

        let mut failures = Vec::new();
        self.settle(&mut failures);
        let round = Round {
            start,
            plans,
            outcomes,
            counters: self.emu.counters(),
        };
        self.tally(&round);
        let mut checker = Checker {
            checks: 0,
            failures,
        };
        self.check(&mut checker, &round);
        self.report.checks += checker.checks;
        checker.failures
    }

    /// Gives a credential to every user without one and to half of those whose refresh token is
    /// dead; returns every user's stored refresh token.
    fn prepare(&mut self) -> HashMap<String, State> {
        let store = self.open();
        let client = seed::client(&self.accounts, self.open().into(), self.offset);
        let mut start = HashMap::new();
        for (user, key) in self.users.clone().iter().zip(self.keys.clone()) {
            let stored = store
                .load(&key)
                .unwrap_or_else(|e| panic!("{user}'s credential does not load: {e}"));
            let reseed = stored.is_none() || (self.dead.contains(user) && self.rng.chance(50));
            if reseed {
                seed::exchange(&self.emu, &client, user);
                self.dead.remove(user);
            }
            let rt = store
                .load(&key)
                .unwrap_or_else(|e| panic!("{user}'s credential does not load: {e}"))
                .and_then(|t| t.refresh_token.map(|r| r.expose().to_owned()));
            if reseed {
                if let Some(rt) = &rt {
                    self.issued
                        .entry(user.clone())
                        .or_default()
                        .insert(rt.clone());
                }
            }
            start.insert(user.clone(), rt);
        }
        start
    }

    /// A worker's operation and death, drawn from the seed.
    fn plan(&mut self) -> Plan {
        let user = self.users[self.rng.index(self.users.len())].clone();
        let op = match self.rng.below(100) {
            0..35 => Op::Token(user.clone()),
            35..55 => Op::Refresh {
                user: user.clone(),
                force: true,
            },
            55..70 => Op::Exchange(user.clone()),
            70..85 => Op::Revoke(user.clone()),
            _ => Op::Status,
        };
        let typical = self.typical_duration();
        let kill = if op == Op::Status {
            if self.rng.chance(50) {
                Kill::Never
            } else {
                Kill::Timer(self.rng.upto(typical))
            }
        } else {
            let (writing, written) = if matches!(op, Op::Revoke(_)) {
                (Checkpoint::Deleting, Checkpoint::Deleted)
            } else {
                (Checkpoint::Saving, Checkpoint::Saved)
            };
            match self.rng.below(100) {
                0..15 => Kill::Never,
                15..45 => Kill::Timer(self.rng.upto(typical)),
                _ => match self.rng.below(6) {
                    0 => Kill::Pause(Checkpoint::Locked),
                    1 => Kill::After(Checkpoint::Send, self.rng.upto(self.config.latency)),
                    2 => Kill::Pause(Checkpoint::Answer),
                    3 => Kill::After(writing, self.rng.upto(Duration::from_millis(3))),
                    4 => Kill::Pause(written),
                    _ => Kill::After(
                        Checkpoint::Releasing,
                        self.rng.upto(Duration::from_millis(2)),
                    ),
                },
            }
        };
        let code = matches!(op, Op::Exchange(_)).then(|| seed::code(&self.emu, &user));
        Plan {
            command: WorkerCommand {
                store: self.spec.clone(),
                accounts: self.accounts.clone(),
                client_id: DEFAULT_CLIENT_ID.to_owned(),
                client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
                op,
                code,
                clock_offset: self.offset,
                pause_at: match kill {
                    Kill::Pause(at) => Some(at),
                    _ => None,
                },
            },
            kill,
        }
    }

    /// The time by which three quarters of the completed operations had ended (from the start
    /// signal): timer kills spread over it.
    fn typical_duration(&self) -> Duration {
        if self.durations.len() < 8 {
            return self.config.latency * 4 + Duration::from_millis(200);
        }
        let mut sorted = self.durations.clone();
        sorted.sort();
        sorted[sorted.len() * 3 / 4]
    }

    /// Waits until no request is in flight at the emulator (a killed worker's request may still
    /// be sitting out its latency there), so that its counters are final for the round.
    fn settle(&self, failures: &mut Vec<String>) {
        let until = Instant::now() + Duration::from_secs(30);
        while self.emu.counters().in_flight > 0 {
            if Instant::now() > until {
                failures
                    .push("requests still in flight at the emulator 30 s after the round".into());
                return;
            }
            // Polling the emulator's gauge: the condition waited on, not a guess at a duration.
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Adds the round's figures to the report.
    fn tally(&mut self, round: &Round) {
        let (r, counters) = (&mut self.report, &round.counters);
        r.processes += round.outcomes.len() as u64;
        r.token_requests += counters.token_requests;
        r.refreshes += counters.refresh_token_requests;
        r.mints += counters.mints;
        r.revocations += counters.revocations;
        for (plan, o) in round.workers() {
            if o.killed() {
                r.kills += 1;
                *r.kills_at.entry(moment(o.last_checkpoint())).or_default() += 1;
            } else if o.status.success() {
                *r.completed.entry(plan.command.op.name()).or_default() += 1;
                if let (Some(go), Some(end)) = (o.released_us, o.exited_us) {
                    self.durations
                        .push(Duration::from_micros(end.saturating_sub(go)));
                }
            } else if let Some(label) = o.err() {
                *r.refused
                    .entry(format!("{}: {label}", plan.command.op.name()))
                    .or_default() += 1;
            }
        }
    }
}
