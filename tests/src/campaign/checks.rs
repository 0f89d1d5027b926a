//! The checks after a round: the store, its locks, its credentials against the emulator, the
//! workers' outcomes and the refreshes per expiry (listed in the [module docs](super)).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use zoho_oauth::core::token::GrantKind;
use zoho_oauth::core::TokenSet;
use zoho_oauth::{Clock, LockWait, TokenStore};
use zoho_oauth_emulator::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};

use super::history::{check_exclusion, describe_sessions, possible_states, sessions};
use super::{Campaign, Round, State, ROUND_LIMIT};
use crate::fleet::{Fleet, Outcome};
use crate::instrument::OffsetClock;
use crate::protocol::{Checkpoint, Op, WorkerCommand};

impl Campaign<'_> {
    /// Every check of a round, in `c`; `self` learns the refresh tokens the round issued and
    /// sent to be revoked, and which stored ones the emulator no longer honours.
    pub(super) fn check(&mut self, c: &mut Checker, round: &Round) {
        // What the round's answers and requests tell about refresh tokens.
        for (plan, o) in round.workers() {
            let Some(user) = plan.command.op.user() else {
                continue;
            };
            for e in o.events() {
                match (e.checkpoint, e.kind()) {
                    (Checkpoint::Answer, "exchange") => {
                        if let Some(rt) = e.token(2) {
                            self.issued
                                .entry(user.to_owned())
                                .or_default()
                                .insert(rt.to_owned());
                        }
                    }
                    (Checkpoint::Send, "revoke") => {
                        if let Some(rt) = e.token(1) {
                            self.revoke_sent.insert(rt.to_owned());
                        }
                    }
                    _ => {}
                }
            }
        }
        self.check_outcomes(c, round);
        self.check_refreshes(c, round);
        let store = match self.spec.open() {
            Ok(store) => store,
            Err(e) => {
                c.fail(format!("the store does not open after the round: {e}"));
                return;
            }
        };
        c.pass();
        let bound = self.spec.orphan_lock_bound() + Duration::from_secs(1);
        for (user, key) in self.users.clone().iter().zip(self.keys.clone()) {
            let sessions = sessions(user, round, c);
            self.report.leases_lost += check_exclusion(c, user, &sessions, round);
            let waited = Instant::now();
            let mut lock = match store.lock(&key, LockWait::AtMost(bound)) {
                Ok(lock) => lock,
                Err(e) => {
                    c.fail(format!(
                        "{user}'s lock is still held after the round ({} ms bound): {e}",
                        bound.as_millis()
                    ));
                    continue;
                }
            };
            let waited = waited.elapsed();
            c.pass();
            self.report.longest_lock_wait = self.report.longest_lock_wait.max(waited);
            let stored = lock.load();
            let released = lock.release();
            c.check(released.is_ok(), || {
                format!("{user}'s lock does not release: {released:?}")
            });
            let stored = match stored {
                Ok(stored) => stored,
                Err(e) => {
                    c.fail(format!("{user}'s credential does not load: {e}"));
                    continue;
                }
            };
            c.pass();
            let state: State = stored
                .as_ref()
                .and_then(|t| t.refresh_token.as_ref())
                .map(|r| r.expose().to_owned());
            c.check(stored.is_none() || state.is_some(), || {
                format!("{user}'s stored credential lost its refresh token")
            });
            let start = round.start.get(user).cloned().flatten();
            let possible = possible_states(start, &sessions, self.spec.durability());
            c.check(possible.contains(&state), || {
                format!(
                    "{user}'s stored refresh token {} is none of the states its lock holders can have left: {} (holders in lock order: {})",
                    show(&state),
                    possible.iter().map(show).collect::<Vec<_>>().join(", "),
                    describe_sessions(&sessions, &round.plans)
                )
            });
            match (&stored, &state) {
                (Some(token), Some(rt)) => self.check_credential(c, user, token, rt),
                _ => {
                    self.dead.remove(user);
                }
            }
        }
        self.check_status_process(c, store.as_ref());
    }

    /// A stored credential against the emulator: issued for this user, honoured for this user
    /// (or revoked by a worker killed before its delete), its access token minted for this user.
    fn check_credential(&mut self, c: &mut Checker, user: &str, token: &TokenSet, rt: &str) {
        let issued = self.issued.get(user).is_some_and(|s| s.contains(rt));
        c.check(issued, || {
            format!(
                "{user}'s stored refresh token {} was never issued for {user}",
                hint(rt)
            )
        });
        c.check(token.grant == GrantKind::AuthorizationCode, || {
            format!(
                "{user}'s stored credential says it came from {:?}",
                token.grant
            )
        });
        let revoked = self.revoke_sent.contains(rt);
        let now = OffsetClock(self.offset);
        let fresh = token
            .access_token
            .as_ref()
            .filter(|_| token.expires_at > now.now().saturating_add(Duration::from_secs(5)));
        if let Some(access) = fresh {
            match self.probe.owner(access.expose()) {
                Ok(Some(owner)) => c.check(owner.eq_ignore_ascii_case(user), || {
                    format!("{user}'s stored access token acts for {owner}")
                }),
                Ok(None) => c.check(revoked, || {
                    format!("{user}'s stored unexpired access token is refused by the emulator, and its refresh token was never sent to be revoked")
                }),
                Err(e) => c.fail(format!("{user}: {e}")),
            }
        }
        match self.probe.refresh(rt) {
            Ok(Some(access)) => {
                self.dead.remove(user);
                match self.probe.owner(&access) {
                    Ok(owner) => c.check(
                        owner
                            .as_deref()
                            .is_some_and(|o| o.eq_ignore_ascii_case(user)),
                        || format!("{user}'s stored refresh token mints tokens for {owner:?}"),
                    ),
                    Err(e) => c.fail(format!("{user}: {e}")),
                }
            }
            Ok(None) => {
                self.dead.insert(user.to_owned());
                c.check(revoked, || {
                    format!("{user}'s stored refresh token {} is refused by the emulator, and no worker sent it to be revoked", hint(rt))
                });
            }
            Err(e) => c.fail(format!("{user}: {e}")),
        }
    }

    /// A new process lists exactly the stored users, none damaged.
    fn check_status_process(&mut self, c: &mut Checker, store: &dyn TokenStore) {
        let command = WorkerCommand {
            store: self.spec.clone(),
            accounts: self.accounts.clone(),
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            op: Op::Status,
            code: None,
            clock_offset: self.offset,
            pause_at: None,
        };
        let outcome = Fleet::spawn(self.exe, &[command], ROUND_LIMIT)
            .release_and_wait()
            .remove(0);
        if !outcome.status.success() {
            c.fail(format!(
                "a new process cannot list the store ({}): {}",
                outcome.status,
                outcome.stderr.trim()
            ));
            return;
        }
        let mut listed: Vec<String> = outcome.creds().iter().map(|l| l.user.clone()).collect();
        listed.sort();
        let mut stored: Vec<String> = match store.list() {
            Ok(keys) => keys.into_iter().map(|k| k.user).collect(),
            Err(e) => {
                c.fail(format!("the store does not list: {e}"));
                return;
            }
        };
        stored.sort();
        c.check(listed == stored, || {
            format!("a new process lists {listed:?}, the store holds {stored:?}")
        });
        for line in outcome.creds() {
            c.check(!line.damaged, || {
                format!("a new process finds {}'s credential damaged", line.user)
            });
            c.check(!line.reauth || self.dead.contains(&line.user), || {
                format!(
                    "{}'s credential needs a new authorization, but its refresh token is honoured",
                    line.user
                )
            });
        }
    }

    /// Each worker ended as it may.
    fn check_outcomes(&self, c: &mut Checker, round: &Round) {
        // The refresh tokens the round's exchanges issued, per user.
        let mut exchanged: HashMap<&str, Vec<&str>> = HashMap::new();
        for (plan, o) in round.workers() {
            let answers = o
                .events()
                .filter(|e| e.checkpoint == Checkpoint::Answer && e.kind() == "exchange");
            for rt in answers.filter_map(|e| e.token(2)) {
                if let Some(user) = plan.command.op.user() {
                    exchanged.entry(user).or_default().push(rt);
                }
            }
        }
        // When each user's credential was first deleted in the round.
        let mut deleted: HashMap<&str, u64> = HashMap::new();
        for (plan, o) in round.workers() {
            if let (Some(user), Some(e)) = (plan.command.op.user(), o.first(Checkpoint::Deleting)) {
                let first = deleted.entry(user).or_insert(e.at_us);
                *first = (*first).min(e.at_us);
            }
        }
        for (i, (plan, o)) in round.workers().enumerate() {
            let op = &plan.command.op;
            let who = format!("worker {i} ({} {})", op.name(), op.user().unwrap_or(""));
            if o.killed() {
                continue;
            }
            if o.status.success() {
                let values = o.ok().unwrap_or_default();
                let right = match op {
                    Op::Token(_) | Op::Exchange(_) => values.len() == 1,
                    Op::Refresh { force: true, .. } => {
                        values.first().map(String::as_str) == Some("minted=true")
                    }
                    Op::Refresh { .. } => values.len() == 2,
                    Op::Revoke(_) => matches!(
                        values.first().map(String::as_str),
                        Some("revoked" | "alreadygone")
                    ),
                    Op::Status => values.len() == 1,
                };
                c.check(right, || format!("{who} succeeded with {values:?}"));
                continue;
            }
            let label = o.err().unwrap_or("");
            let user = op.user().unwrap_or("");
            let start_rt = round.start.get(user).cloned().flatten();
            let accounted = match (op, label) {
                // The credential was deleted during the round, before this worker ended.
                (Op::Token(_) | Op::Refresh { .. } | Op::Revoke(_), "unknown_user") => deleted
                    .get(user)
                    .is_some_and(|at| o.exited_us.is_some_and(|end| *at < end)),
                // Redis: the holder stalled past its lease and the store refused its write
                // (the fencing the store documents; another process may hold the lock now).
                (_, "not_saved" | "store") if o.lease_lost() => true,
                // A refresh token the credential held during the round (the one it started
                // with, or one an exchange of the round stored) was sent to be revoked by a
                // worker killed before its delete: this worker's refresh with it was refused,
                // or an earlier one was and saved that the credential needs authorization.
                (Op::Token(_) | Op::Refresh { .. }, "needs_authorization") => start_rt
                    .as_deref()
                    .into_iter()
                    .chain(exchanged.get(user).into_iter().flatten().copied())
                    .any(|rt| self.revoke_sent.contains(rt)),
                _ => false,
            };
            c.check(accounted, || {
                format!(
                    "{who} failed ({}, {label:?}) for no reason the round accounts for: {}; its steps: {}; {user}'s refresh token at the start: {} (issued for {user}: {})",
                    o.status,
                    o.stderr.trim(),
                    trace(o),
                    show(&start_rt),
                    start_rt.as_deref().is_some_and(|rt| self.issued.get(user).is_some_and(|s| s.contains(rt)))
                )
            });
        }
    }

    /// At most one refresh per expiry, and the emulator saw nothing no worker sent.
    fn check_refreshes(&mut self, c: &mut Checker, round: &Round) {
        let counters = &round.counters;
        #[derive(Default)]
        struct PerToken {
            forced: u64,
            plain: u64,
            answered: u64,
            /// `token` workers that sent a refresh with it and did not complete.
            unfinished: u64,
        }
        let mut per: BTreeMap<String, PerToken> = BTreeMap::new();
        let (mut sent, mut answered, mut minted_answers, mut revokes, mut revoked_answers) =
            (0u64, 0u64, 0u64, 0u64, 0u64);
        for (plan, o) in round.workers() {
            let forced = matches!(plan.command.op, Op::Refresh { force: true, .. });
            let plain = matches!(plan.command.op, Op::Token(_));
            let mut sent_with = HashSet::new();
            for e in o.events() {
                match (e.checkpoint, e.kind()) {
                    (Checkpoint::Send, "refresh" | "exchange") => {
                        sent += 1;
                        if let (Some(rt), "refresh") = (e.token(1), e.kind()) {
                            let t = per.entry(rt.to_owned()).or_default();
                            if forced {
                                t.forced += 1;
                            } else if plain {
                                t.plain += 1;
                                sent_with.insert(rt.to_owned());
                            }
                        }
                    }
                    (Checkpoint::Answer, "refresh" | "exchange") if e.arg(1) != "failed" => {
                        answered += 1;
                        minted_answers += u64::from(e.token(3).is_some());
                        if let (Some(rt), "refresh") = (last_sent_refresh(o, e.at_us), e.kind()) {
                            per.entry(rt).or_default().answered += 1;
                        }
                    }
                    (Checkpoint::Send, "revoke") => revokes += 1,
                    (Checkpoint::Answer, "revoke") if e.arg(1) == "200" => revoked_answers += 1,
                    _ => {}
                }
            }
            if !o.status.success() {
                for rt in sent_with {
                    per.entry(rt).or_default().unfinished += 1;
                }
            }
        }
        for (rt, seen) in &counters.refreshes_per_token {
            c.check(per.contains_key(rt), || {
                format!(
                    "the emulator saw {seen} refresh(es) with {} that no worker sent",
                    hint(rt)
                )
            });
        }
        let expired: HashSet<&str> = round.start.values().flatten().map(String::as_str).collect();
        for (rt, t) in &per {
            let at_emulator = counters.refreshes_per_token.get(rt).copied().unwrap_or(0);
            c.check(at_emulator <= t.forced + t.plain, || {
                format!(
                    "the emulator saw {at_emulator} refreshes with {}, the workers sent {}",
                    hint(rt),
                    t.forced + t.plain
                )
            });
            c.check(at_emulator >= t.answered, || {
                format!("the workers got {} answers to refreshes with {}, the emulator saw {at_emulator}", t.answered, hint(rt))
            });
            let expiries = u64::from(expired.contains(rt.as_str()));
            c.check(t.plain <= expiries + t.unfinished, || {
                format!(
                    "{} refreshes with {} for {expiries} expiry, and only {} refresher(s) died or failed before saving: not one refresh per expiry",
                    t.plain,
                    hint(rt),
                    t.unfinished
                )
            });
            self.report.refreshes_after_a_death += t.plain.saturating_sub(expiries);
        }
        c.check(counters.token_requests <= sent, || {
            format!(
                "the emulator saw {} token requests, the workers sent {sent}",
                counters.token_requests
            )
        });
        c.check(counters.token_requests >= answered, || {
            format!(
                "the workers got {answered} answers, the emulator saw {} token requests",
                counters.token_requests
            )
        });
        c.check(
            counters.mints >= minted_answers && counters.mints <= sent,
            || {
                format!(
                    "the emulator minted {} tokens; the workers sent {sent} token requests and got {minted_answers} tokens",
                    counters.mints
                )
            },
        );
        c.check(
            counters.revocations >= revoked_answers && counters.revocations <= revokes,
            || {
                format!(
                    "the emulator revoked {} tokens; the workers sent {revokes} revokes, {revoked_answers} answered 200",
                    counters.revocations
                )
            },
        );
    }
}

/// The refresh token of the last refresh a worker sent before `at_us`.
fn last_sent_refresh(o: &Outcome, at_us: u64) -> Option<String> {
    o.events()
        .filter(|e| e.checkpoint == Checkpoint::Send && e.kind() == "refresh" && e.at_us <= at_us)
        .last()
        .and_then(|e| e.token(1))
        .map(str::to_owned)
}

/// A worker's steps, tokens shown by their ends only: what a failure report needs.
fn trace(o: &Outcome) -> String {
    o.events()
        .map(|e| {
            let details: Vec<String> = e
                .args
                .iter()
                .map(|a| {
                    if a.starts_with("1000.") {
                        hint(a)
                    } else {
                        a.clone()
                    }
                })
                .collect();
            format!(
                "{}µs {} {}",
                e.at_us % 100_000_000,
                e.checkpoint,
                details.join(" ")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Counts checks and gathers the failures of a round.
pub(super) struct Checker {
    pub(super) checks: u64,
    pub(super) failures: Vec<String>,
}

impl Checker {
    pub(super) fn pass(&mut self) {
        self.checks += 1;
    }

    pub(super) fn fail(&mut self, why: String) {
        self.checks += 1;
        self.failures.push(why);
    }

    pub(super) fn check(&mut self, holds: bool, why: impl FnOnce() -> String) {
        if holds {
            self.pass();
        } else {
            self.fail(why());
        }
    }
}

/// A refresh token shown by its last characters only.
pub(super) fn hint(token: &str) -> String {
    let tail = token.len().saturating_sub(6);
    format!("…{}", token.get(tail..).unwrap_or(""))
}

pub(super) fn show(state: &State) -> String {
    state.as_deref().map_or_else(|| "none".to_owned(), hint)
}
