//! Single flight: however many threads or tasks ask for a credential's token at once, one runs
//! the locked cycle and the others share its result — or, when they only need a token and a
//! still-valid one is cached, get that at once without waiting (stale-while-revalidate). Retries
//! of network and server faults happen here, within the call's deadline and the core's backoff.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use async_lock::MutexGuard;
use zoho_oauth_core::{Instant, Machine};

use super::cache::{AccessToken, Entry};
use super::cycle::{self, Deadline, Outcome, Pass};
use super::io::Io;
use super::Engine;
use crate::error::Error;
use crate::store::{LockWait, StoreError};

/// What a caller of [`Engine::obtain`] wants.
#[derive(Clone, Debug)]
pub(crate) enum Want {
    /// A usable token: a still-valid one is served when refreshing fails or another holder has
    /// the credential's lock (stale-while-revalidate, in-process and across processes).
    Current,
    /// A token that is not due for a refresh: refresh now if it is due.
    Due,
    /// A new token even if the current one is fresh, unless `rejected` (the token an API
    /// refused) has already been replaced by someone else.
    Force {
        /// The token the API refused.
        rejected: Option<AccessToken>,
    },
}

/// A token, and whether this call minted it.
#[derive(Debug)]
pub struct Obtained {
    /// The access token.
    pub token: AccessToken,
    /// Whether a new access token was minted (and saved) by this call.
    pub minted: bool,
}

impl Engine {
    /// A token for `user` as `want` asks, refreshing at most once per flight for all callers.
    pub(crate) async fn obtain<I: Io>(
        &self,
        io: &I,
        user: &str,
        want: Want,
    ) -> Result<Obtained, Error> {
        let entry = self.entry(io, user).await?;
        let deadline = Deadline::after(self.s.call_timeout);
        let seen = entry.flights.load(Ordering::Acquire);
        let slot = match entry.slot.try_lock() {
            Some(slot) => slot,
            None => {
                if matches!(want, Want::Current) {
                    if let Some(t) = entry.valid(self.s.clock.now()) {
                        // Someone is refreshing; the current token is still good meanwhile.
                        return Ok(Obtained {
                            token: t,
                            minted: false,
                        });
                    }
                }
                tracing::trace!(user, "waiting for the refresh in flight");
                entry.slot.lock().await
            }
        };
        if entry.is_forgotten() {
            return Err(self.unknown_user(io, user).await);
        }
        if entry.flights.load(Ordering::Acquire) != seen {
            // A flight finished while this caller waited: share its result.
            let now = self.s.clock.now();
            if let Some(t) = shared_result(&entry, &want, now) {
                return Ok(Obtained {
                    token: t,
                    minted: false,
                });
            }
            if let (Some(e), false) = (entry.last_error(), matches!(want, Want::Force { .. })) {
                return Err(e);
            }
        }
        // Boxed: the flight holds token sets across its awaits (~17 KB), and thousands of
        // callers waiting for one flight should not each carry that.
        Box::pin(self.fly(io, &entry, slot, &want, deadline)).await
    }

    /// Flights until one gives a token, retrying network and server faults within the attempt
    /// limit, the longest wait allowed in a call, and the call's deadline. The flight lock is
    /// not held while sleeping between attempts.
    async fn fly<I: Io>(
        &self,
        io: &I,
        entry: &Arc<Entry>,
        mut slot: MutexGuard<'_, Machine>,
        want: &Want,
        deadline: Deadline,
    ) -> Result<Obtained, Error> {
        let s = &self.s;
        let user = entry.key.user.as_str();
        // Token requests sent by this call: a pass that only found a backoff to wait out sent
        // none, and does not count.
        let mut attempts = 0u32;
        loop {
            let result = self.flight(io, entry, &mut slot, want, deadline).await;
            entry.flights.fetch_add(1, Ordering::AcqRel);
            let e = match result {
                Ok(o) => {
                    entry.set_last_error(None);
                    return Ok(o);
                }
                Err(e) => e,
            };
            entry.set_last_error(Some(&e));
            if !matches!(e, Error::BackingOff { .. }) {
                attempts += 1;
            }
            let now = s.clock.now();
            if matches!(want, Want::Current) {
                if let Some(t) = entry.valid(now) {
                    tracing::debug!(
                        user,
                        error = e.label(),
                        "refresh failed; serving the still-valid access token"
                    );
                    return Ok(Obtained {
                        token: t,
                        minted: false,
                    });
                }
            }
            if !e.is_retryable() || attempts >= s.max_attempts {
                return Err(e);
            }
            let wait = slot
                .wake_at(now)
                .map(|t| t.saturating_duration_since(now))
                .unwrap_or_default();
            if wait > s.max_wait_in_call || wait >= deadline.remaining() {
                tracing::debug!(
                    user,
                    wait_ms = wait.as_millis() as u64,
                    "backoff longer than this call may wait; giving up"
                );
                return Err(e);
            }
            tracing::debug!(
                user,
                error = e.label(),
                wait_ms = wait.as_millis() as u64,
                "retrying after backoff"
            );
            drop(slot);
            io.sleep(wait).await;
            slot = entry.slot.lock().await;
            if entry.is_forgotten() {
                return Err(self.unknown_user(io, user).await);
            }
        }
    }

    /// One pass of the locked cycle for a token.
    async fn flight<I: Io>(
        &self,
        io: &I,
        entry: &Arc<Entry>,
        machine: &mut Machine,
        want: &Want,
        deadline: Deadline,
    ) -> Result<Obtained, Error> {
        let now = self.s.clock.now();
        // A caller that only needs a token, with a valid one in hand, does not queue behind
        // another process's refresh: it serves the valid token if the lock is taken.
        let serve_valid = matches!(want, Want::Current)
            .then(|| entry.valid(now))
            .flatten();
        let wait = match serve_valid {
            Some(_) => LockWait::NoWait,
            None => deadline.lock_wait(self.s.lock_wait),
        };
        let (force, rejected) = match want {
            Want::Force { rejected } => (true, rejected.as_ref()),
            _ => (false, None),
        };
        let pass = Pass::Refresh { force, rejected };
        match cycle::run(self, io, entry, machine, pass, wait, deadline).await {
            Ok(Outcome::Minted(token)) => Ok(Obtained {
                token,
                minted: true,
            }),
            Ok(Outcome::Current(token)) => Ok(Obtained {
                token,
                minted: false,
            }),
            Ok(other) => Err(Error::Internal(format!(
                "a refresh pass ended as {other:?}"
            ))),
            Err(Error::Store(StoreError::Busy(_))) if serve_valid.is_some() => {
                tracing::debug!(
                    user = entry.key.user.as_str(),
                    "another process holds the credential's lock; serving the still-valid token"
                );
                Ok(Obtained {
                    token: serve_valid.expect("checked"),
                    minted: false,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Why `token` is served stale: `None` while it is fresh at `now`, else the failure of the
    /// last refresh of this credential. Never waits for a refresh in flight.
    pub(crate) fn stale_reason(&self, user: &str, token: &AccessToken) -> Option<Error> {
        let now = self.s.clock.now();
        if token.fresh_at(now) {
            return None;
        }
        self.known_entry(user)?.last_error()
    }
}

fn shared_result(entry: &Entry, want: &Want, now: Instant) -> Option<AccessToken> {
    match want {
        Want::Current => entry.valid(now),
        Want::Due => entry.valid(now).filter(|_| entry.servable(now).is_some()),
        Want::Force { rejected: Some(r) } => entry.valid(now).filter(|t| t != r),
        Want::Force { rejected: None } => None,
    }
}
