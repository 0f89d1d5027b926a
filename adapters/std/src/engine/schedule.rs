//! The background schedule, face-independent: which credentials are due and when the next one
//! is, and one background refresh of a due credential. Each face runs due credentials side by
//! side with its own primitive (threads for the blocking client, tasks for the async one), up to
//! its configured parallelism.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use zoho_oauth_core::Instant;

use super::cache::Entry;
use super::cycle::{self, Deadline, Pass};
use super::{Engine, Io};
use crate::error::Error;
use crate::key::CredentialKey;
use crate::store::{LockWait, StoreError};

/// When another process holds a due credential's lock (it is refreshing it), look again after this.
const BUSY_RETRY: Duration = Duration::from_secs(1);

/// A credential whose refresh is due, for a background runner.
#[derive(Clone)]
pub struct Due(Arc<Entry>);

impl Due {
    /// Which credential.
    pub fn key(&self) -> &CredentialKey {
        &self.0.key
    }
}

impl std::fmt::Debug for Due {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Due").field(&self.0.key).finish()
    }
}

impl Engine {
    /// Load every stored credential of this client into the cache (those stored by other
    /// processes included), so that the schedule covers them.
    pub async fn load_all<I: Io>(&self, io: &I) {
        match self.users(io).await {
            Ok(users) => {
                for user in users {
                    if let Err(e) = self.entry(io, &user).await {
                        tracing::warn!(
                            user = user.as_str(),
                            error = e.label(),
                            "could not load credential"
                        );
                    }
                }
            }
            Err(e) => tracing::warn!(error = e.label(), "could not list the store"),
        }
    }

    /// The credentials due now, in an order that differs between processes (so that watchers
    /// sharing a store start on different credentials), and when the next one not yet due will
    /// be (`None`: nothing scheduled).
    pub fn due_now(&self) -> (Vec<Due>, Option<Instant>) {
        let now = self.s.clock.now();
        let mut due = Vec::new();
        let mut next: Option<Instant> = None;
        for entry in self.all_entries() {
            match entry.next_wake() {
                Some(at) if at <= now => due.push(Due(entry)),
                Some(at) => next = Some(next.map_or(at, |n| n.min(at))),
                None => {}
            }
        }
        // Rotate by a random amount: cheap, and enough to spread watchers.
        if !due.is_empty() {
            let by = (crate::random::u64() % due.len() as u64) as usize;
            due.rotate_left(by);
        }
        (due, next)
    }

    /// Refresh one due credential in the background: skipped when a caller of this process is
    /// refreshing it, or another process holds its lock (it is refreshing it: looked at again a
    /// second later); never sleeps; failures are logged and retried after the core's backoff.
    pub async fn refresh_due<I: Io>(&self, io: &I, due: &Due) {
        let entry = &due.0;
        let Some(mut slot) = entry.slot.try_lock() else {
            return;
        };
        if entry.is_forgotten() {
            return;
        }
        let deadline = Deadline::after(self.s.call_timeout);
        let pass = Pass::Refresh {
            force: false,
            rejected: None,
        };
        let result = cycle::run(self, io, entry, &mut slot, pass, LockWait::NoWait, deadline).await;
        entry.flights.fetch_add(1, Ordering::AcqRel);
        match result {
            Ok(_) => entry.set_last_error(None),
            Err(Error::Store(StoreError::Busy(_))) => {
                let later = self.s.clock.now().saturating_add(BUSY_RETRY);
                entry.quiet_until(Some(later));
                tracing::debug!(
                    user = entry.key.user.as_str(),
                    "another process is refreshing; looking again shortly"
                );
            }
            Err(e) => {
                tracing::warn!(
                    user = entry.key.user.as_str(),
                    error = e.label(),
                    "background refresh failed; will retry after the backoff"
                );
                entry.set_last_error(Some(&e));
            }
        }
    }

    /// How long a background runner may sleep before it looks at the schedule again: until the
    /// next credential is due, a second when a due one was left to someone else (a caller or
    /// another process refreshing it), and never more than `max_idle` (credentials stored by
    /// other processes, and a wall clock that jumped, are noticed within it).
    pub fn next_look(&self, max_idle: Duration) -> Duration {
        let now = self.s.clock.now();
        match self.due_now() {
            (skipped, _) if !skipped.is_empty() => BUSY_RETRY,
            (_, Some(at)) => at.saturating_duration_since(now).min(max_idle),
            (_, None) => max_idle,
        }
    }

    /// How many due credentials a background runner refreshes side by side: the builder's
    /// `background_parallelism`, or 1 on a store whose lock covers the whole store
    /// ([`TokenStore::locks_per_key`](crate::TokenStore::locks_per_key)).
    pub fn background_parallelism(&self) -> usize {
        if self.s.store.locks_per_key() {
            self.s.background_parallelism
        } else {
            1
        }
    }
}
