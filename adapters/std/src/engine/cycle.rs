//! The locked credential cycle: every change to a stored credential is one pass of
//!
//! ```text
//! take the store lock of the key ─▶ load ─▶ restore into the core machine ─▶ one operation
//!   (refresh · exchange · install · revoke · delete) ─▶ save or delete ─▶ release
//! ```
//!
//! Nothing writes or deletes a credential anywhere else: a save can only happen under the lock
//! its load was made under, so a revoke in one process and a late refresh in another cannot
//! resurrect the credential, and a fleet sharing a store refreshes each credential once. The
//! core decides every step ([`Machine::poll`], the verdict of an answer, whether an `api_domain`
//! is trusted); this module only carries the decisions out, through the face's [`Io`].

use std::time::{Duration, Instant as Monotonic};

use zeroize::Zeroize;
use zoho_oauth_core::machine::WaitReason;
use zoho_oauth_core::pkce::CodeVerifier;
use zoho_oauth_core::response::{self, Revocation, Verdict};
use zoho_oauth_core::secret::ct_eq;
use zoho_oauth_core::token::PauseReason;
use zoho_oauth_core::{Instant, Machine, Poll, RequestKind, TokenSet};

use super::cache::{AccessToken, Cached, Entry};
use super::io::{Io, Locked};
use super::outbound::Rendered;
use super::Engine;
use crate::clock::to_system_time;
use crate::error::Error;
use crate::random;
use crate::store::{LockWait, StoreError};

/// The end of one call: every lock wait, request and backoff of the call fits before it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline(Monotonic);

impl Deadline {
    pub(crate) fn after(d: Duration) -> Self {
        Self(Monotonic::now() + d)
    }

    /// Time left (zero once passed).
    pub(crate) fn remaining(self) -> Duration {
        self.0.saturating_duration_since(Monotonic::now())
    }

    /// A lock wait of at most `limit`, and never past the deadline.
    pub(crate) fn lock_wait(self, limit: Duration) -> LockWait {
        LockWait::AtMost(limit.min(self.remaining()))
    }
}

/// A grant code to exchange, with what came with it.
pub(crate) struct Grant<'a> {
    pub(crate) code: &'a str,
    /// The redirect URI the code was issued for (browser logins).
    pub(crate) redirect_uri: Option<&'a str>,
    /// The PKCE verifier of the login that produced the code.
    pub(crate) verifier: Option<CodeVerifier>,
}

impl Grant<'_> {
    /// Hand the code to `machine`: the next poll exchanges it.
    pub(crate) fn give_to(self, machine: &mut Machine) -> Result<(), Error> {
        match self.verifier {
            Some(v) => machine.set_grant_with_verifier(self.code, self.redirect_uri, v),
            None => machine.set_grant(self.code, self.redirect_uri),
        }
        .map_err(|e| Error::Input(crate::error::InputError::TooLong(e)))
    }
}

/// The one operation of a pass.
pub(crate) enum Pass<'a> {
    /// Mint a new access token if the machine says so (due, forced, or none valid); else serve
    /// the stored one.
    Refresh {
        /// A refresh even if the token is fresh (the mint budget still applies) — unless the
        /// token an API rejected (`rejected`) was already replaced by someone else.
        force: bool,
        rejected: Option<&'a AccessToken>,
    },
    /// Exchange a grant code for this key, on top of what is stored (an online grant beside a
    /// kept refresh token only updates the access token: the core decides).
    Exchange(Grant<'a>),
    /// Store a credential obtained outside the lock (an exchange whose owner was learnt after,
    /// a refresh token added by hand, an imported row, a device flow's result, a
    /// client-credentials setup), replacing what is stored.
    Install(Box<TokenSet>),
    /// Revoke at Zoho, then delete.
    Revoke,
    /// Delete here only — with `only_if`, only when the stored credential passes that test
    /// (checked under the lock, so a credential another process stored since is left alone).
    Delete {
        only_if: Option<&'a (dyn Fn(&TokenSet) -> bool + Send + Sync)>,
    },
}

/// What a pass did.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// A new access token was minted and saved.
    Minted(AccessToken),
    /// Nothing was needed: the stored access token is fresh (or still valid and waiting).
    Current(AccessToken),
    /// The credential was stored. `replaced` says what was there before.
    Installed {
        replaced: Replaced,
        token: Option<AccessToken>,
    },
    /// The credential was removed.
    Removed {
        /// What Zoho said, for a revoke.
        at_zoho: AtZoho,
        /// Whether there was something to delete here.
        found: bool,
    },
}

/// What an install replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Replaced {
    /// Nothing was stored under the key.
    Nothing,
    /// A credential was: its refresh token is now gone from the store.
    Credential,
    /// An entry that did not decode (damaged) was.
    Damaged,
}

/// What a revoke achieved at Zoho.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AtZoho {
    /// Not asked (a local delete).
    NotAsked,
    /// Zoho revoked the refresh token (and every access token minted from it).
    Revoked,
    /// Zoho no longer knew the token: it was already revoked or evicted.
    AlreadyGone,
    /// There is no refresh token to revoke (a client-credentials credential: its access tokens
    /// simply expire).
    NothingToRevoke,
    /// The stored entry is damaged: its token could not be read, so only the local copy went.
    Unreadable,
}

/// One pass of the cycle for `entry`, whose machine the caller holds (`machine`, the flight slot).
pub(crate) async fn run<I: Io>(
    engine: &Engine,
    io: &I,
    entry: &Entry,
    machine: &mut Machine,
    pass: Pass<'_>,
    wait: LockWait,
    deadline: Deadline,
) -> Result<Outcome, Error> {
    let key = &entry.key;
    let (t, store) = (&engine.s.telemetry, engine.s.store_name.as_str());
    let started = Monotonic::now();
    let locked = io.lock(key, wait).await;
    t.lock_wait(store, started.elapsed());
    let mut lock = locked?;
    let started = Monotonic::now();
    let loaded = lock.load().await;
    t.store_op(store, "load", started.elapsed());
    let stored = match loaded {
        Ok(stored) => Ok(stored),
        Err(StoreError::Corrupt(why)) => Err(why),
        Err(e) => return Err(e.into()),
    };
    match pass {
        Pass::Refresh { force, rejected } => {
            let Ok(Some(stored)) = stored else {
                drop(lock);
                entry.clear();
                return Err(match stored {
                    Err(why) => StoreError::Corrupt(why).into(),
                    Ok(_) => engine.unknown_user(io, &key.user).await,
                });
            };
            refresh(
                engine, io, entry, machine, lock, stored, force, rejected, deadline,
            )
            .await
        }
        Pass::Exchange(grant) => {
            match stored {
                Ok(Some(t)) => machine.restore(t),
                // Nothing (or nothing readable) to keep: the exchange starts afresh.
                _ => *machine = engine.machine(key.data_center)?,
            }
            grant.give_to(machine)?;
            lock.check_writable().await?;
            match machine.poll(engine.s.clock.now()) {
                Poll::Send(RequestKind::Exchange) => {}
                other => {
                    machine.abandon();
                    return Err(Error::Internal(format!(
                        "a grant was set but the machine says {other:?}"
                    )));
                }
            }
            send_token_request(engine, io, entry, machine, lock, "exchange", deadline).await
        }
        Pass::Install(token) => {
            let replaced = match stored {
                Ok(None) => Replaced::Nothing,
                Ok(Some(_)) => Replaced::Credential,
                Err(_) => Replaced::Damaged,
            };
            let cached = trusted(engine, key, &token)?;
            lock.save(&token).await?;
            lock.release().await?;
            machine.restore(*token);
            entry.revive();
            entry.set_last_error(None);
            let token = match cached {
                Some(c) => Some(entry.publish(c)),
                None => {
                    entry.clear();
                    None
                }
            };
            engine.wake_refreshers();
            Ok(Outcome::Installed { replaced, token })
        }
        Pass::Revoke => {
            let stored = match stored {
                Ok(Some(t)) => t,
                Ok(None) => {
                    drop(lock);
                    return Err(engine.unknown_user(io, &key.user).await);
                }
                Err(why) => {
                    tracing::warn!(
                        user = key.user.as_str(),
                        why,
                        "the stored entry is damaged; deleting it without asking Zoho"
                    );
                    let found = lock.delete().await?;
                    lock.release().await?;
                    return Ok(Outcome::Removed {
                        at_zoho: AtZoho::Unreadable,
                        found,
                    });
                }
            };
            let at_zoho = match &stored.refresh_token {
                Some(refresh) => {
                    revoke_at_zoho(engine, io, key, refresh.expose(), deadline).await?
                }
                None => AtZoho::NothingToRevoke,
            };
            let found = lock.delete().await?;
            lock.release().await?;
            engine.s.telemetry.forget(key);
            Ok(Outcome::Removed { at_zoho, found })
        }
        Pass::Delete { only_if } => {
            if let Some(test) = only_if {
                if !matches!(&stored, Ok(Some(t)) if test(t)) {
                    lock.release().await?;
                    return Ok(Outcome::Removed {
                        at_zoho: AtZoho::NotAsked,
                        found: false,
                    });
                }
            }
            let found = lock.delete().await?;
            lock.release().await?;
            engine.s.telemetry.forget(key);
            Ok(Outcome::Removed {
                at_zoho: AtZoho::NotAsked,
                found,
            })
        }
    }
}

/// The refresh pass, after the stored token set was loaded under the lock.
#[allow(clippy::too_many_arguments)]
async fn refresh<I: Io, L: Locked>(
    engine: &Engine,
    io: &I,
    entry: &Entry,
    machine: &mut Machine,
    mut lock: L,
    stored: TokenSet,
    force: bool,
    rejected: Option<&AccessToken>,
    deadline: Deadline,
) -> Result<Outcome, Error> {
    let key = &entry.key;
    let user = key.user.as_str();
    if machine.token() != Some(&stored) {
        tracing::debug!(user, "credential reloaded from the store");
        machine.restore(stored);
    }
    let now = engine.s.clock.now();
    if force {
        // Someone may have replaced the rejected token meanwhile: then that one is the answer.
        let replaced = match (machine.access_token(now), rejected) {
            (Some(current), Some(r)) => !ct_eq(current.as_bytes(), r.secret().as_bytes()),
            _ => false,
        };
        if !replaced {
            machine.force_refresh();
        }
    }
    // A flight of this process that was abandoned half-way (a cancelled task, a panicking
    // transport) left the machine in flight: that request's answer will never come.
    if matches!(
        machine.peek(now),
        Poll::Wait {
            reason: WaitReason::InFlight,
            ..
        }
    ) {
        machine.abandon();
    }
    match machine.poll(now) {
        Poll::Send(kind) => {
            if let Err(e) = lock.check_writable().await {
                machine.abandon();
                tracing::error!(user, error = %e, "the store cannot be written; not asking Zoho for a token it could not keep");
                return Err(e.into());
            }
            let call = match kind {
                RequestKind::Exchange => "exchange",
                RequestKind::Refresh => "refresh",
                _ => "client_credentials",
            };
            send_token_request(engine, io, entry, machine, lock, call, deadline).await
        }
        Poll::Wait { until, reason } => {
            drop(lock);
            entry.quiet_until(until.filter(|_| reason != WaitReason::Fresh));
            let retry_at = to_system_time(until.unwrap_or(now));
            match reason {
                WaitReason::Fresh => {
                    let token = machine
                        .token()
                        .ok_or_else(|| Error::Internal("fresh without a token".into()))?;
                    let left = token.mints_left(now, &engine.s.config);
                    engine.s.telemetry.credential(key, token, now, left);
                    reuse_or_publish(engine, entry, token, now).map(Outcome::Current)
                }
                WaitReason::BudgetSpent => {
                    tracing::warn!(user, "mint budget spent");
                    engine.s.telemetry.budget_refused();
                    Err(Error::Throttled {
                        retry_at,
                        local: true,
                    })
                }
                WaitReason::Throttled => Err(Error::Throttled {
                    retry_at,
                    local: false,
                }),
                _ => Err(entry
                    .last_error()
                    .filter(Error::is_retryable)
                    .unwrap_or(Error::BackingOff { retry_at })),
            }
        }
        Poll::NeedsAuthorization { reason } => {
            drop(lock);
            entry.set_needs_authorization(Some(reason));
            Err(Error::NeedsAuthorization {
                key: key.clone(),
                reason,
            })
        }
        Poll::Empty => Err(Error::Internal(
            "a restored machine says it is empty".into(),
        )),
    }
}

/// Send the token request the machine put in flight, hand the answer back, and save what
/// changed — the new token, or the wait state Zoho's answer caused — under the same lock.
async fn send_token_request<I: Io, L: Locked>(
    engine: &Engine,
    io: &I,
    entry: &Entry,
    machine: &mut Machine,
    mut lock: L,
    call: &'static str,
    deadline: Deadline,
) -> Result<Outcome, Error> {
    let key = &entry.key;
    let before = machine.token().cloned();
    let failure = match ask(engine, io, key, machine, call, deadline).await {
        Ok(()) => {
            let now = engine.s.clock.now();
            return save_minted(engine, entry, machine, lock, before, now).await;
        }
        Err(e) => e,
    };
    if let Error::NeedsAuthorization { reason, .. } = &failure {
        entry.set_needs_authorization(Some(*reason));
    }
    // The answer changed the wait state (a throttle window, a backoff, a refused refresh token):
    // save it, so that every process sharing the store honours it.
    if let Some(token) = machine.token().filter(|t| Some(*t) != before.as_ref()) {
        let token = token.clone();
        let saved = match lock.save(&token).await {
            Ok(()) => lock.release().await,
            Err(e) => Err(e),
        };
        if let Err(e) = saved {
            tracing::warn!(user = key.user.as_str(), error = %e, "could not save the wait state; other processes may ask Zoho again");
        }
    } else {
        drop(lock);
    }
    let now = engine.s.clock.now();
    entry.quiet_until(machine.wake_at(now).filter(|t| *t > now));
    tracing::warn!(
        user = key.user.as_str(),
        error = failure.label(),
        "token request failed"
    );
    Err(failure)
}

/// Send the request `machine` has in flight (after `Poll::Send`) and hand it the answer: `Ok`
/// when the machine took a new token, else the error its verdict means. The machine has then
/// recorded what follows (a backoff, a throttle window, a refused grant) in its hold.
pub(crate) async fn ask<I: Io>(
    engine: &Engine,
    io: &I,
    key: &crate::key::CredentialKey,
    machine: &mut Machine,
    call: &'static str,
    deadline: Deadline,
) -> Result<(), Error> {
    let outcome = ask_once(engine, io, key, machine, call, deadline).await;
    engine
        .s
        .telemetry
        .token_request(call, outcome.as_ref().map(drop));
    outcome
}

async fn ask_once<I: Io>(
    engine: &Engine,
    io: &I,
    key: &crate::key::CredentialKey,
    machine: &mut Machine,
    call: &'static str,
    deadline: Deadline,
) -> Result<(), Error> {
    let rendered = Rendered::new(|buf| machine.write_request(buf))?;
    let sent = {
        let _in_flight = engine.s.telemetry.in_flight();
        rendered
            .send(io, call, &key.user, Some(deadline.remaining()))
            .await
    };
    drop(rendered);
    let now = engine.s.clock.now();
    let mut resp = match sent {
        Err(te) if !te.is_retryable() => {
            // Refused by policy before anything was sent: a configuration error, not a fault
            // to back off from.
            machine.abandon();
            return Err(Error::Transport(te));
        }
        Err(te) => {
            let _ = machine.handle_transport_error(now, random::u32());
            return Err(Error::Transport(te));
        }
        Ok(resp) => resp,
    };
    let handled = machine.handle_response(now, resp.status, &resp.body, random::u32());
    resp.body.zeroize();
    match handled {
        Ok(_event) => Ok(()),
        Err(Verdict::Throttled) => Err(Error::Throttled {
            retry_at: to_system_time(pause_end(machine, now)),
            local: false,
        }),
        Err(Verdict::ReAuthorize(reason)) => {
            tracing::warn!(
                user = key.user.as_str(),
                ?reason,
                "credential needs authorization"
            );
            Err(Error::NeedsAuthorization {
                key: key.clone(),
                reason,
            })
        }
        Err(v) => Err(Error::Zoho(v)),
    }
}

/// After a successful answer: check where the token may be sent, save, release, publish.
async fn save_minted<L: Locked>(
    engine: &Engine,
    entry: &Entry,
    machine: &mut Machine,
    mut lock: L,
    before: Option<TokenSet>,
    now: Instant,
) -> Result<Outcome, Error> {
    let key = &entry.key;
    let user = key.user.as_str();
    let token = machine
        .token()
        .cloned()
        .ok_or_else(|| Error::Internal("no token after a successful token answer".into()))?;
    let cached = match trusted(engine, key, &token) {
        Ok(Some(c)) => c,
        Ok(None) => return Err(Error::Internal("no access token after a mint".into())),
        Err(e) => {
            // Keep nothing that points elsewhere: back to what the store holds.
            drop(lock);
            *machine = engine.machine(key.data_center)?;
            if let Some(t) = before {
                machine.restore(t);
            }
            tracing::error!(user, error = e.label(), "token answer refused");
            return Err(e);
        }
    };
    let started = Monotonic::now();
    let saved = match lock.save(&token).await {
        Ok(()) => lock.release().await,
        Err(e) => Err(e),
    };
    let t = &engine.s.telemetry;
    t.store_op(&engine.s.store_name, "save", started.elapsed());
    if let Err(cause) = saved {
        tracing::error!(user, error = %cause, "the new access token could not be saved; not using it");
        return Err(Error::NotSaved {
            key: key.clone(),
            cause: Box::new(cause),
        });
    }
    entry.quiet_until(None);
    entry.set_needs_authorization(None);
    t.credential(key, &token, now, token.mints_left(now, &engine.s.config));
    tracing::info!(
        user,
        dc = %key.data_center,
        env = %key.environment,
        grant = token.grant.name(),
        expires_in_s = token.expires_at.saturating_duration_since(now).as_secs(),
        "access token minted"
    );
    let published = entry.publish(cached);
    engine.wake_refreshers();
    Ok(Outcome::Minted(published))
}

/// The cache entry of `token`'s access token, once the core has said its `api_domain` may receive
/// it (`Ok(None)`: no access token to cache).
pub(crate) fn trusted(
    engine: &Engine,
    key: &crate::key::CredentialKey,
    token: &TokenSet,
) -> Result<Option<Cached>, Error> {
    let origin = engine.s.accounts_for(key.data_center)?;
    let api = origin
        .trusted_api_domain(key.data_center, key.environment, &token.api_domain)
        .map_err(|error| Error::ApiDomain {
            said: token.api_domain.as_str().to_owned(),
            error,
        })?;
    Ok(Cached::from_token(token, api.to_owned(), &engine.s.config))
}

/// The cached token if it is `token`'s access token, else `token` published.
fn reuse_or_publish(
    engine: &Engine,
    entry: &Entry,
    token: &TokenSet,
    now: Instant,
) -> Result<AccessToken, Error> {
    if let (Some(current), Some(access)) = (entry.valid(now), token.access_token.as_ref()) {
        if access.ct_eq(current.secret()) {
            return Ok(current);
        }
    }
    let cached = trusted(engine, &entry.key, token)?
        .ok_or_else(|| Error::Internal("a fresh token set without an access token".into()))?;
    Ok(entry.publish(cached))
}

/// When the machine's pause ends (the throttle window it just started).
fn pause_end(machine: &Machine, now: Instant) -> Instant {
    match machine.hold().pause {
        Some((until, PauseReason::Throttled)) if until > now => until,
        _ => machine.wake_at(now).unwrap_or(now),
    }
}

/// Revoke `refresh` at the key's accounts server.
async fn revoke_at_zoho<I: Io>(
    engine: &Engine,
    io: &I,
    key: &crate::key::CredentialKey,
    refresh: &str,
    deadline: Deadline,
) -> Result<AtZoho, Error> {
    let origin = engine.s.accounts_for(key.data_center)?;
    let rendered = Rendered::new(|buf| zoho_oauth_core::request::revoke(buf, origin, refresh))?;
    let mut resp = rendered
        .send(io, "revoke", &key.user, Some(deadline.remaining()))
        .await?;
    let verdict = response::parse_revoke(resp.status, &resp.body);
    resp.body.zeroize();
    match verdict {
        Ok(Revocation::Revoked) => Ok(AtZoho::Revoked),
        // Zoho no longer knows the token: it is as revoked as it can be.
        Ok(Revocation::AlreadyGone) => Ok(AtZoho::AlreadyGone),
        Ok(_) => Ok(AtZoho::Revoked),
        Err(v) => {
            tracing::warn!(user = key.user.as_str(), verdict = ?v, "revoke refused; nothing deleted");
            Err(Error::Zoho(v))
        }
    }
}
