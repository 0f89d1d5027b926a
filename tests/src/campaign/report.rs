//! What a campaign did, in figures for the README.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::protocol::Checkpoint;

/// What a campaign did: the figures for the README.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The store kind.
    pub store: String,
    /// The seed.
    pub seed: u64,
    /// Rounds run.
    pub rounds: u64,
    /// Worker processes started.
    pub processes: u64,
    /// Processes that died of SIGKILL.
    pub kills: u64,
    /// Kills by the last checkpoint the process had reported.
    pub kills_at: BTreeMap<&'static str, u64>,
    /// Operations that completed, by operation.
    pub completed: BTreeMap<&'static str, u64>,
    /// Operations that failed for an accounted reason, by `operation: error`.
    pub refused: BTreeMap<String, u64>,
    /// Invariant checks made (all held, or the campaign failed).
    pub checks: u64,
    /// Token requests that reached the emulator.
    pub token_requests: u64,
    /// Refreshes that reached the emulator.
    pub refreshes: u64,
    /// Refreshes sent by `token` workers beyond the one per expiry, each after a refresher died
    /// or failed before saving.
    pub refreshes_after_a_death: u64,
    /// Access tokens minted.
    pub mints: u64,
    /// Refresh tokens revoked.
    pub revocations: u64,
    /// Locks whose lease expired under a stalled holder (Redis), the holder's write refused.
    pub leases_lost: u64,
    /// The longest wait for a credential's lock after a round.
    pub longest_lock_wait: Duration,
    /// Wall-clock duration.
    pub duration: Duration,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |m: &BTreeMap<&'static str, u64>| {
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            f,
            "{} store: {} kills in {} rounds of {} processes ({:.1} s, seed {})",
            self.store,
            self.kills,
            self.rounds,
            self.processes,
            self.duration.as_secs_f64(),
            self.seed
        )?;
        writeln!(f, "  killed when last seen at: {}", list(&self.kills_at))?;
        writeln!(
            f,
            "  operations completed: {} ({})",
            self.completed.values().sum::<u64>(),
            list(&self.completed)
        )?;
        let refused = self
            .refused
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            f,
            "  failed as accounted for: {} ({refused})",
            self.refused.values().sum::<u64>()
        )?;
        writeln!(
            f,
            "  at the emulator: {} token requests, {} refreshes ({} after a refresher died), {} mints, {} revocations",
            self.token_requests, self.refreshes, self.refreshes_after_a_death, self.mints, self.revocations
        )?;
        write!(
            f,
            "  invariant checks: {}, all held; longest lock wait after a round {} ms; leases lost by a stalled holder {}",
            self.checks,
            self.longest_lock_wait.as_millis(),
            self.leases_lost
        )
    }
}

/// Where a killed worker was: its last reported checkpoint, in words.
pub(super) fn moment(last: Option<Checkpoint>) -> &'static str {
    match last {
        None => "before any lock (starting, reading, waiting)",
        Some(Checkpoint::Locked) => "lock held, nothing sent",
        Some(Checkpoint::Send) => "request on the wire",
        Some(Checkpoint::Answer) => "answer in, not saved",
        Some(Checkpoint::Saving) => "saving",
        Some(Checkpoint::Saved) => "saved, not committed",
        Some(Checkpoint::Deleting) => "deleting",
        Some(Checkpoint::Deleted) => "deleted, not committed",
        Some(Checkpoint::Releasing) => "committing",
        Some(Checkpoint::Unlocked) => "after the commit",
    }
}
