//! The per-credential cache and single-flight refresh: a lock-free read of the cached token, and
//! under a mutex the cross-process cycle lock → load → restore → poll → send → handle → save →
//! release → publish.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};

use arc_swap::ArcSwapOption;
use zeroize::Zeroize;
use zoho_oauth_core::machine::{MachineError, WaitReason};
use zoho_oauth_core::response::{Fault, Verdict};
use zoho_oauth_core::secret::ct_eq;
use zoho_oauth_core::{Instant, Machine, Poll, RequestKind, TokenSet};

use crate::access::{AccessToken, Cached};
use crate::client::Inner;
use crate::clock::to_system_time;
use crate::error::Error;
use crate::key::CredentialKey;
use crate::{random, send, trust};

/// What a caller of [`Entry::obtain`] wants.
pub(crate) enum Want {
    /// A usable token: a still-valid one is served when refreshing fails (stale-while-revalidate).
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

/// One credential of one client: its cached access token, read without locking, and its
/// state machine behind the refresh mutex.
pub(crate) struct Entry {
    pub(crate) key: CredentialKey,
    cached: ArcSwapOption<Cached>,
    /// Milliseconds since the epoch before which a due-but-valid token is served without trying
    /// to refresh (backoff, spent budget, throttle): keeps the hot path lock-free meanwhile.
    quiet_until: AtomicU64,
    needs_auth: AtomicBool,
    /// Revoked and removed from the client: waiters must not resurrect it.
    forgotten: AtomicBool,
    /// Completed flights, so that a thread that waited for the mutex can share the result.
    flights: AtomicU64,
    slot: Mutex<Slot>,
}

/// What only the refresh mutex's holder touches.
pub(crate) struct Slot {
    machine: Machine,
    last_error: Option<Error>,
}

impl Entry {
    pub(crate) fn new(inner: &Inner, key: CredentialKey, token: Option<TokenSet>) -> Self {
        let mut machine = new_machine(inner);
        let entry_token = token.clone();
        if let Some(t) = token {
            machine.restore(t);
        }
        let entry = Self {
            key,
            cached: ArcSwapOption::empty(),
            quiet_until: AtomicU64::new(0),
            needs_auth: AtomicBool::new(false),
            forgotten: AtomicBool::new(false),
            flights: AtomicU64::new(0),
            slot: Mutex::new(Slot {
                machine,
                last_error: None,
            }),
        };
        if let Some(t) = entry_token {
            if t.access_token.is_some() {
                // A stored token for another data centre is refused here and on every flight.
                let _ = entry.publish(inner, &t);
            }
        }
        entry
    }

    /// A fresh token, or a valid one while refreshing is on hold. No lock, no allocation.
    pub(crate) fn servable(&self, now: Instant) -> Option<AccessToken> {
        let guard = self.cached.load();
        let c = Option::as_ref(&guard)?;
        if c.fresh_at(now)
            || (c.valid_at(now) && now.as_millis() < self.quiet_until.load(Ordering::Acquire))
        {
            Some(AccessToken::from_cached(Arc::clone(c)))
        } else {
            None
        }
    }

    /// The cached token if it has not expired.
    fn valid(&self, now: Instant) -> Option<AccessToken> {
        let guard = self.cached.load();
        let c = Option::as_ref(&guard)?;
        c.valid_at(now)
            .then(|| AccessToken::from_cached(Arc::clone(c)))
    }

    /// Why `token` is served stale: `None` while it is fresh at `now`, else the failure of the
    /// last refresh of this credential (waits for a refresh in flight).
    pub(crate) fn stale_reason(&self, token: &AccessToken, now: Instant) -> Option<Error> {
        if token.fresh_at(now) {
            return None;
        }
        self.lock_slot().last_error.as_ref().map(Error::duplicate)
    }

    pub(crate) fn needs_authorization(&self) -> bool {
        self.needs_auth.load(Ordering::Acquire)
    }

    /// When the background refresher should look at this entry next (`None`: nothing to do
    /// until someone authorizes again).
    pub(crate) fn next_wake(&self) -> Option<Instant> {
        if self.needs_authorization() || self.forgotten.load(Ordering::Acquire) {
            return None;
        }
        let quiet = Instant::from_millis(self.quiet_until.load(Ordering::Acquire));
        let guard = self.cached.load();
        Some(match Option::as_ref(&guard) {
            Some(c) => c.refresh_at.max(quiet),
            None => quiet,
        })
    }

    /// Drop the cached token and refuse further use (the credential was revoked).
    pub(crate) fn forget(&self) {
        self.forgotten.store(true, Ordering::Release);
        self.cached.store(None);
    }

    fn lock_slot(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A token as `want` asks, refreshing at most once per flight for all waiting threads.
    pub(crate) fn obtain(&self, inner: &Inner, want: Want) -> Result<AccessToken, Error> {
        let seen = self.flights.load(Ordering::Acquire);
        let mut slot = match self.slot.try_lock() {
            Ok(slot) => slot,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                if matches!(want, Want::Current) {
                    if let Some(t) = self.valid(inner.s.clock.now()) {
                        // Someone is refreshing; the current token is still good meanwhile.
                        return Ok(t);
                    }
                }
                tracing::trace!(
                    user = self.key.user.as_str(),
                    "waiting for the refresh in flight"
                );
                self.lock_slot()
            }
        };
        if self.forgotten.load(Ordering::Acquire) {
            return Err(inner.unknown_user(&self.key.user));
        }
        if self.flights.load(Ordering::Acquire) != seen {
            // A flight finished while this thread waited: share its result.
            let now = inner.s.clock.now();
            if let Some(t) = self.shared_result(&want, now) {
                return Ok(t);
            }
            if let (Some(e), false) = (&slot.last_error, matches!(want, Want::Force { .. })) {
                return Err(e.duplicate());
            }
        }
        self.run(inner, &mut slot, &want)
    }

    /// One flight for the background refresher: skipped when another thread is refreshing,
    /// never sleeps.
    pub(crate) fn refresh_in_background(&self, inner: &Inner) {
        let mut slot = match self.slot.try_lock() {
            Ok(slot) => slot,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        if self.forgotten.load(Ordering::Acquire) {
            return;
        }
        let now = inner.s.clock.now();
        let mut sent = 0;
        let result = self.flight(inner, &mut slot, &Want::Due, now, &mut sent);
        self.flights.fetch_add(1, Ordering::AcqRel);
        match result {
            Ok(_) => slot.last_error = None,
            Err(e) => {
                tracing::warn!(
                    user = self.key.user.as_str(),
                    error = e.label(),
                    "background refresh failed; will retry after the backoff"
                );
                slot.last_error = Some(e);
            }
        }
    }

    fn shared_result(&self, want: &Want, now: Instant) -> Option<AccessToken> {
        match want {
            Want::Current => self.valid(now),
            Want::Due => self.valid(now).filter(|_| self.servable(now).is_some()),
            Want::Force { rejected: Some(r) } => self.valid(now).filter(|t| t != r),
            Want::Force { rejected: None } => None,
        }
    }

    /// Flights until one gives a token, retrying transport and server faults within the
    /// attempt and wait limits.
    fn run(&self, inner: &Inner, slot: &mut Slot, want: &Want) -> Result<AccessToken, Error> {
        let s = &inner.s;
        let user = self.key.user.as_str();
        let mut sent = 0u32;
        for _ in 0..2 * s.max_attempts + 2 {
            let now = s.clock.now();
            let result = self.flight(inner, slot, want, now, &mut sent);
            self.flights.fetch_add(1, Ordering::AcqRel);
            let e = match result {
                Ok(t) => {
                    slot.last_error = None;
                    return Ok(t);
                }
                Err(e) => e,
            };
            slot.last_error = Some(e.duplicate());
            let now = s.clock.now();
            if matches!(want, Want::Current) {
                if let Some(t) = self.valid(now) {
                    tracing::debug!(
                        user,
                        error = e.label(),
                        "refresh failed; serving the still-valid access token"
                    );
                    return Ok(t);
                }
            }
            let retryable = matches!(e, Error::Transport(_) | Error::Zoho(Verdict::Retryable(_)));
            if !retryable || sent >= s.max_attempts {
                return Err(e);
            }
            let wait = slot
                .machine
                .wake_at(now)
                .map(|t| t.saturating_duration_since(now))
                .unwrap_or_default();
            if wait > s.max_wait_in_call {
                tracing::debug!(
                    user,
                    wait_ms = wait.as_millis() as u64,
                    "backoff longer than max_wait_in_call; giving up"
                );
                return Err(e);
            }
            tracing::debug!(
                user,
                error = e.label(),
                wait_ms = wait.as_millis() as u64,
                "retrying after backoff"
            );
            s.clock.sleep(wait);
        }
        Err(slot.last_error.as_ref().map_or_else(
            || Error::Core("retry loop ended without a result".into()),
            Error::duplicate,
        ))
    }

    /// One pass of the cross-process cycle. `sent` counts token requests actually sent.
    fn flight(
        &self,
        inner: &Inner,
        slot: &mut Slot,
        want: &Want,
        now: Instant,
        sent: &mut u32,
    ) -> Result<AccessToken, Error> {
        let s = &inner.s;
        let user = self.key.user.as_str();
        let mut lock = s.store.lock(&self.key)?;
        let Some(stored) = lock.load()? else {
            drop(lock);
            self.cached.store(None);
            return Err(inner.unknown_user(user));
        };
        if slot.machine.token() != Some(&stored) {
            tracing::debug!(user, "credential reloaded from the store");
            slot.machine.restore(stored);
        }
        if let Want::Force { rejected } = want {
            let replaced = match (slot.machine.access_token(now), rejected) {
                (Some(current), Some(r)) => !ct_eq(current.as_bytes(), r.secret().as_bytes()),
                _ => false,
            };
            if !replaced {
                slot.machine.force_refresh();
            }
        }
        let mut poll = slot.machine.poll(now);
        if matches!(
            poll,
            Poll::Wait {
                reason: WaitReason::InFlight,
                ..
            }
        ) {
            // A flight of this process died mid-way (a panicking transport): start afresh.
            let token = slot.machine.token().cloned();
            slot.machine = new_machine(inner);
            if let Some(t) = token {
                slot.machine.restore(t);
            }
            if matches!(want, Want::Force { .. }) {
                slot.machine.force_refresh();
            }
            poll = slot.machine.poll(now);
        }
        match poll {
            Poll::Send(kind) => {
                *sent += 1;
                let before = slot.machine.token().cloned();
                if let Err(e) = self.send_token_request(inner, &mut slot.machine, kind) {
                    drop(lock);
                    self.after_failure(inner, &slot.machine, &e);
                    return Err(e);
                }
                let token = slot.machine.token().cloned().ok_or_else(|| {
                    Error::Core("no token after a successful token response".into())
                })?;
                if let Err(e) = self.trusted_api_domain(inner, &token) {
                    // Keep nothing that points elsewhere: back to what the store holds.
                    drop(lock);
                    slot.machine = new_machine(inner);
                    if let Some(t) = before {
                        slot.machine.restore(t);
                    }
                    tracing::error!(user, error = e.label(), "token answer refused");
                    return Err(e);
                }
                if let Err(e) = lock.save(&token).and_then(|()| lock.release()) {
                    tracing::error!(user, error = %e, "could not save the new access token; using it in this process only");
                }
                self.quiet_until.store(0, Ordering::Release);
                self.needs_auth.store(false, Ordering::Release);
                tracing::info!(
                    user,
                    dc = %self.key.data_center,
                    env = %self.key.environment,
                    kind = kind_label(kind),
                    expires_in_s = token.expires_at.saturating_duration_since(now).as_secs(),
                    "access token minted"
                );
                self.publish(inner, &token)
            }
            Poll::Wait { until, reason } => {
                let _ = lock.release();
                let until_or_now = until.unwrap_or(now);
                match reason {
                    WaitReason::Fresh => {
                        self.quiet_until.store(0, Ordering::Release);
                        let token = slot
                            .machine
                            .token()
                            .cloned()
                            .ok_or_else(|| Error::Core("fresh without a token".into()))?;
                        self.reuse_or_publish(inner, &token, now)
                    }
                    WaitReason::Backoff => {
                        self.quiet_until
                            .store(until_or_now.as_millis(), Ordering::Release);
                        Err(slot.last_error.as_ref().map_or(
                            Error::Zoho(Verdict::Retryable(Fault::Transport)),
                            Error::duplicate,
                        ))
                    }
                    WaitReason::BudgetSpent => {
                        self.quiet_until
                            .store(until_or_now.as_millis(), Ordering::Release);
                        tracing::warn!(
                            user,
                            retry_in_s = until_or_now.saturating_duration_since(now).as_secs(),
                            "mint budget spent"
                        );
                        Err(Error::Throttled {
                            retry_at: to_system_time(until_or_now),
                            local: true,
                        })
                    }
                    WaitReason::Throttled => {
                        self.quiet_until
                            .store(until_or_now.as_millis(), Ordering::Release);
                        Err(Error::Throttled {
                            retry_at: to_system_time(until_or_now),
                            local: false,
                        })
                    }
                    _ => Err(Error::Core(format!("unexpected wait: {reason:?}"))),
                }
            }
            Poll::NeedsAuthorization | Poll::Empty => {
                let _ = lock.release();
                self.needs_auth.store(true, Ordering::Release);
                Err(Error::NeedsAuthorization {
                    key: self.key.clone(),
                })
            }
        }
    }

    /// Render the machine's request, send it, and feed the answer back.
    fn send_token_request(
        &self,
        inner: &Inner,
        machine: &mut Machine,
        kind: RequestKind,
    ) -> Result<(), Error> {
        let s = &inner.s;
        let mut buf = send::buffer(0);
        if let Err(MachineError::Buffer(b)) = machine.write_request(&mut buf) {
            buf = send::buffer(b.required);
        }
        let result = {
            let req = machine
                .write_request(&mut buf)
                .map_err(|e| Error::Core(e.to_string()))?;
            send::send(&*s.transport, &req, kind_label(kind), &self.key.user)
        };
        drop(buf);
        match result {
            Err(te) => {
                let _ = machine.handle_transport_error(s.clock.now(), random::u32());
                Err(Error::Transport(te))
            }
            Ok(mut resp) => {
                let now = s.clock.now();
                let handled = machine.handle_response(now, resp.status, &resp.body, random::u32());
                resp.body.zeroize();
                match handled {
                    Ok(_event) => Ok(()),
                    Err(v) => Err(verdict_error(
                        inner,
                        &self.key,
                        v,
                        machine.wake_at(now),
                        now,
                    )),
                }
            }
        }
    }

    fn after_failure(&self, inner: &Inner, machine: &Machine, e: &Error) {
        let now = inner.s.clock.now();
        if let Some(at) = machine.wake_at(now) {
            self.quiet_until.store(at.as_millis(), Ordering::Release);
        }
        if matches!(e, Error::NeedsAuthorization { .. }) {
            self.needs_auth.store(true, Ordering::Release);
        }
        tracing::warn!(
            user = self.key.user.as_str(),
            error = e.label(),
            "token request failed"
        );
    }

    fn trusted_api_domain(&self, inner: &Inner, token: &TokenSet) -> Result<String, Error> {
        let s = &inner.s;
        trust::api_domain(&s.accounts, s.data_center, s.environment, &token.api_domain)
    }

    /// Put `token`'s access token in the cache (after checking where it may be sent).
    fn publish(&self, inner: &Inner, token: &TokenSet) -> Result<AccessToken, Error> {
        let api = self.trusted_api_domain(inner, token)?;
        let cached = Cached::from_token(token, api, inner.s.config.refresh_margin)
            .ok_or_else(|| Error::Core("no access token to publish".into()))?;
        let cached = Arc::new(cached);
        self.cached.store(Some(Arc::clone(&cached)));
        inner.wake_refreshers();
        Ok(AccessToken::from_cached(cached))
    }

    /// The cached token if it is `token`'s access token, else publish `token`.
    fn reuse_or_publish(
        &self,
        inner: &Inner,
        token: &TokenSet,
        now: Instant,
    ) -> Result<AccessToken, Error> {
        if let (Some(current), Some(access)) = (self.valid(now), token.access_token.as_ref()) {
            if access.ct_eq(current.secret()) {
                return Ok(current);
            }
        }
        self.publish(inner, token)
    }

    /// Make `machine` (which has just exchanged a grant into `token`) this entry's, saving first.
    pub(crate) fn install(
        &self,
        inner: &Inner,
        machine: Machine,
        token: &TokenSet,
    ) -> Result<AccessToken, Error> {
        let mut slot = self.lock_slot();
        let mut lock = inner.s.store.lock(&self.key)?;
        lock.save(token)?;
        lock.release()?;
        slot.machine = machine;
        slot.last_error = None;
        self.finish_install();
        self.publish(inner, token)
    }

    /// Store `token` (a refresh token without an access token) as this entry's credential.
    pub(crate) fn replace(&self, inner: &Inner, token: TokenSet) -> Result<(), Error> {
        let mut slot = self.lock_slot();
        let mut lock = inner.s.store.lock(&self.key)?;
        lock.save(&token)?;
        lock.release()?;
        slot.machine = new_machine(inner);
        slot.machine.restore(token);
        slot.last_error = None;
        self.cached.store(None);
        self.finish_install();
        inner.wake_refreshers();
        Ok(())
    }

    fn finish_install(&self) {
        self.quiet_until.store(0, Ordering::Release);
        self.needs_auth.store(false, Ordering::Release);
        self.forgotten.store(false, Ordering::Release);
        self.flights.fetch_add(1, Ordering::AcqRel);
    }

    /// Hold the refresh mutex (no refresh of this credential in this process meanwhile).
    pub(crate) fn hold(&self) -> MutexGuard<'_, Slot> {
        self.lock_slot()
    }
}

/// A machine for a credential of this client.
pub(crate) fn new_machine(inner: &Inner) -> Machine {
    Machine::new(inner.s.credentials.clone(), inner.s.config)
}

/// The error a token-request verdict becomes.
pub(crate) fn verdict_error(
    inner: &Inner,
    key: &CredentialKey,
    v: Verdict,
    wake_at: Option<Instant>,
    now: Instant,
) -> Error {
    match v {
        Verdict::Throttled => Error::Throttled {
            retry_at: to_system_time(
                wake_at
                    .filter(|t| *t > now)
                    .unwrap_or_else(|| now.saturating_add(inner.s.config.throttle_wait)),
            ),
            local: false,
        },
        Verdict::ReAuthorize(reason) => {
            tracing::warn!(user = key.user.as_str(), reason = ?reason, "credential needs authorization");
            Error::NeedsAuthorization { key: key.clone() }
        }
        v => Error::Zoho(v),
    }
}

fn kind_label(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Exchange => "exchange",
        RequestKind::Refresh => "refresh",
    }
}
