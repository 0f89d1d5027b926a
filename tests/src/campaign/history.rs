//! A credential's history in a round, read from the workers' lines: who held its lock when, and
//! what each holder wrote; the states that history can leave, and whether the lock excluded.

use super::checks::Checker;
use super::{Plan, Round, State};
use crate::protocol::{Checkpoint, Op};
use crate::spec::Durability;

/// How far a step of a lock holder got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    NotBegun,
    /// Begun, and not reported done (it failed, or the holder died in it).
    Begun,
    Done,
}

/// Whether a holder's write is in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applied {
    Yes,
    Maybe,
    No,
}

/// One holding of a credential's lock by one worker, read from its events.
#[derive(Debug)]
pub(super) struct Session {
    worker: usize,
    locked_us: u64,
    /// When its release (commit or roll back) began, or it was killed: no later holder can have
    /// taken the lock before this.
    end_us: Option<u64>,
    /// Its save or delete.
    write: Progress,
    /// Its commit (the release of a lock it keeps: `releasing commit` … `unlocked released`).
    commit: Progress,
    /// The change its write makes to the refresh-token state (`None`: keeps it).
    change: Option<State>,
}

impl Session {
    /// Whether its write is in the store, given when the store makes a write durable: a holder
    /// that died (or failed) before that point left nothing, one that died on it may have.
    fn applied(&self, durability: Durability) -> Applied {
        let point = match durability {
            Durability::AtWrite => self.write,
            Durability::AtCommit => self.commit,
        };
        match (self.write, point) {
            (Progress::NotBegun, _) => Applied::No,
            (_, Progress::Done) => Applied::Yes,
            (_, Progress::Begun) => Applied::Maybe,
            (_, Progress::NotBegun) => Applied::No,
        }
    }
}

/// The lock holdings of `user`'s credential in the round, in lock order.
pub(super) fn sessions(user: &str, round: &Round, c: &mut Checker) -> Vec<Session> {
    let mut all = Vec::new();
    for (worker, (plan, o)) in round.workers().enumerate() {
        if plan.command.op.user() != Some(user) {
            continue;
        }
        let exchange = matches!(plan.command.op, Op::Exchange(_));
        let revoke = matches!(plan.command.op, Op::Revoke(_));
        let mut open: Option<Session> = None;
        let mut answered_rt: Option<String> = None;
        for e in o.events() {
            match e.checkpoint {
                Checkpoint::Locked => {
                    if let Some(s) = open.take() {
                        c.fail(format!(
                            "worker {worker} took {user}'s lock again without releasing it"
                        ));
                        all.push(s);
                    }
                    answered_rt = None;
                    open = Some(Session {
                        worker,
                        locked_us: e.at_us,
                        end_us: None,
                        write: Progress::NotBegun,
                        commit: Progress::NotBegun,
                        change: None,
                    });
                }
                Checkpoint::Answer if e.kind() == "exchange" => {
                    answered_rt = e.token(2).map(str::to_owned);
                }
                Checkpoint::Saving | Checkpoint::Deleting => {
                    if let Some(s) = open.as_mut() {
                        s.write = Progress::Begun;
                        s.change = if revoke {
                            Some(None)
                        } else if exchange {
                            answered_rt.clone().map(Some)
                        } else {
                            None
                        };
                    }
                }
                Checkpoint::Saved | Checkpoint::Deleted => {
                    if let Some(s) = open.as_mut() {
                        s.write = Progress::Done;
                    }
                }
                Checkpoint::Releasing => {
                    if let Some(s) = open.as_mut() {
                        s.end_us = Some(e.at_us);
                        if e.arg(1) == "commit" {
                            s.commit = Progress::Begun;
                        }
                    }
                }
                Checkpoint::Unlocked => {
                    if let Some(mut s) = open.take() {
                        if e.arg(1) == "released" {
                            s.commit = Progress::Done;
                        }
                        all.push(s);
                    }
                }
                _ => {}
            }
        }
        if let Some(mut s) = open.take() {
            if o.killed() {
                s.end_us = s.end_us.or(o.kill_sent_us);
            } else {
                c.fail(format!(
                    "worker {worker} exited ({}) holding {user}'s lock without releasing it",
                    o.status
                ));
            }
            all.push(s);
        }
    }
    all.sort_by_key(|s| s.locked_us);
    all
}

/// No two workers held the lock at once: each took it after the previous one began its release
/// or was killed — unless the previous one's lease expired while it stalled (Redis), which its
/// write refused for that reason shows; how many such expiries there were.
pub(super) fn check_exclusion(
    c: &mut Checker,
    user: &str,
    sessions: &[Session],
    round: &Round,
) -> u64 {
    let mut leases_lost = 0;
    for pair in sessions.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let free_from = a.end_us.unwrap_or(u64::MAX);
        if b.locked_us < free_from && round.outcomes[a.worker].lease_lost() {
            leases_lost += 1;
            c.pass();
            continue;
        }
        c.check(b.locked_us >= free_from, || {
            format!(
                "workers {} and {} held {user}'s lock at once (taken at {} µs, the previous holder let go at {} µs)",
                a.worker, b.worker, b.locked_us, free_from
            )
        });
    }
    leases_lost
}

/// The states the holders can have left, from `start`, in lock order: a write the store made
/// durable is applied, one whose holder died at the point it becomes durable may be, the others
/// are not (see [`Session::applied`]).
pub(super) fn possible_states(
    start: State,
    sessions: &[Session],
    durability: Durability,
) -> Vec<State> {
    let mut states = vec![start];
    for s in sessions {
        let Some(change) = s.change.as_ref() else {
            continue;
        };
        match s.applied(durability) {
            Applied::Yes => states = vec![change.clone()],
            Applied::Maybe if !states.contains(change) => states.push(change.clone()),
            Applied::Maybe | Applied::No => {}
        }
    }
    states
}

pub(super) fn describe_sessions(sessions: &[Session], plans: &[Plan]) -> String {
    sessions
        .iter()
        .map(|s| {
            format!(
                "worker {} {} at {} µs (write {:?}, commit {:?})",
                s.worker,
                plans[s.worker].command.op.name(),
                s.locked_us,
                s.write,
                s.commit
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(change: State, write: Progress, commit: Progress) -> Session {
        Session {
            worker: 0,
            locked_us: 0,
            end_us: Some(1),
            write,
            commit,
            change: Some(change),
        }
    }

    #[test]
    fn a_durable_write_decides_the_state_and_one_cut_short_at_its_durable_point_only_may_have() {
        use Progress::{Begun, Done, NotBegun};
        let (a, b) = (Some("a".to_owned()), Some("b".to_owned()));
        // Saved, then killed before the commit began.
        let saved = [session(b.clone(), Done, NotBegun)];
        assert_eq!(
            possible_states(a.clone(), &saved, Durability::AtCommit),
            vec![a.clone()]
        );
        assert_eq!(
            possible_states(a.clone(), &saved, Durability::AtWrite),
            vec![b.clone()]
        );
        // Killed in the middle of the commit, or of the save.
        let committing = [session(b.clone(), Done, Begun)];
        let saving = [session(b.clone(), Begun, NotBegun)];
        let both = vec![a.clone(), b.clone()];
        assert_eq!(
            possible_states(a.clone(), &committing, Durability::AtCommit),
            both
        );
        assert_eq!(
            possible_states(a.clone(), &saving, Durability::AtWrite),
            both
        );
        assert_eq!(
            possible_states(a.clone(), &saving, Durability::AtCommit),
            vec![a.clone()]
        );
        // A committed delete decides; a later write not begun changes nothing.
        let history = [
            session(b.clone(), Begun, NotBegun),
            session(None, Done, Done),
            session(a.clone(), NotBegun, NotBegun),
            session(b.clone(), Done, Begun),
        ];
        for durability in [Durability::AtWrite, Durability::AtCommit] {
            assert_eq!(
                possible_states(a.clone(), &history[..3], durability),
                vec![None]
            );
        }
        assert_eq!(
            possible_states(a.clone(), &history, Durability::AtCommit),
            vec![None, b.clone()]
        );
        assert_eq!(possible_states(a, &history, Durability::AtWrite), vec![b]);
    }
}
