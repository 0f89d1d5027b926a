//! Putting credentials in and taking them out: a refresh token added by hand, a client-credentials
//! credential, any token set installed (an import, a device flow's result), a revoke, a delete —
//! each one pass of the locked cycle.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use zoho_oauth_core::{DataCenter, TokenSet};

use crate::engine::cache::Entry;
use crate::engine::cycle::{self, Deadline, Outcome, Pass};
pub use crate::engine::cycle::{AtZoho, Replaced};
use crate::engine::{AccessToken, Engine, Io};
use crate::error::Error;
use crate::key::CredentialKey;

/// What [`Engine::install`] (and the calls built on it) stored.
#[derive(Debug)]
#[non_exhaustive]
pub struct Added {
    /// The key the credential is stored under.
    pub key: CredentialKey,
    /// What was stored under it before.
    pub replaced: Replaced,
    /// The access token that came with it, if any (already trusted and cached).
    pub token: Option<AccessToken>,
}

/// What a revoke or a delete removed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Removed {
    /// The key removed.
    pub key: CredentialKey,
    /// What Zoho said (for a revoke).
    pub at_zoho: AtZoho,
}

impl Engine {
    /// Store an existing refresh token for `user` (replacing any stored credential, which
    /// [`Added::replaced`] reports); the next access token is refreshed with it. The token must
    /// look like one Zoho issues (visible ASCII; surrounding blanks and line breaks are trimmed):
    /// anything else is refused before it is stored.
    pub async fn add_refresh_token<I: Io>(
        &self,
        io: &I,
        user: &str,
        refresh_token: &str,
    ) -> Result<Added, Error> {
        let token = TokenSet::new(refresh_token.trim())?;
        let added = self.install(io, self.key(user), token).await?;
        tracing::info!(user, replaced = ?added.replaced, "refresh token added");
        Ok(added)
    }

    /// Store a client-credentials credential under `user` (any name you choose, e.g. the job's):
    /// its access tokens are asked for with the client id and secret, `scope` (comma-separated)
    /// and `soid` (`ZohoCRM.<org id>`; `None` when the client reaches one org only) whenever
    /// the current one is due — no refresh token exists. The first token is asked for by the
    /// next `access_token`.
    pub async fn add_client_credentials<I: Io>(
        &self,
        io: &I,
        user: &str,
        scope: &str,
        soid: Option<&str>,
    ) -> Result<Added, Error> {
        let token = TokenSet::client_credentials(scope, soid.unwrap_or(""))?;
        self.install(io, self.key(user), token).await
    }

    /// Store `token` under `key`, replacing what is there, through the locked cycle: the
    /// `api_domain` must be one the core trusts for the key's data centre and environment.
    pub async fn install<I: Io>(
        &self,
        io: &I,
        key: CredentialKey,
        token: TokenSet,
    ) -> Result<Added, Error> {
        Engine::check_user(&key.user)?;
        let entry = self.entry_for_change(&key)?;
        let outcome = self
            .change(io, &entry, Pass::Install(Box::new(token)))
            .await?;
        match outcome {
            Outcome::Installed { replaced, token } => Ok(Added {
                key,
                replaced,
                token,
            }),
            other => Err(Error::Internal(format!("an install ended as {other:?}"))),
        }
    }

    /// Revoke `user`'s refresh token at Zoho (which also kills every access token minted from
    /// it), then delete the credential, under its lock: a refresh in flight elsewhere cannot
    /// save it back. If Zoho cannot be reached, nothing is deleted. A damaged entry (one that
    /// does not decode) is deleted without asking Zoho.
    pub async fn revoke<I: Io>(&self, io: &I, user: &str) -> Result<Removed, Error> {
        self.remove(io, user, Pass::Revoke).await
    }

    /// Delete `user`'s credential here only (Zoho is not asked), under its lock. For a damaged
    /// entry, or a credential revoked elsewhere.
    pub async fn delete<I: Io>(&self, io: &I, user: &str) -> Result<Removed, Error> {
        self.remove(io, user, Pass::Delete { only_if: None }).await
    }

    /// Delete `user`'s credential here only, under its lock, **if** the stored credential passes
    /// `test` (e.g. it still holds the refresh token this program added and Zoho refused).
    /// Returns whether it was deleted: a credential another process stored since the test was
    /// decided on, or none at all, is left alone. A damaged entry never passes.
    pub async fn delete_if<I: Io>(
        &self,
        io: &I,
        user: &str,
        test: &(dyn Fn(&TokenSet) -> bool + Send + Sync),
    ) -> Result<bool, Error> {
        Engine::check_user(user)?;
        let key = self.resolve_key(io, user).await?;
        let entry = self.entry_for_change(&key)?;
        let pass = Pass::Delete {
            only_if: Some(test),
        };
        match self.change(io, &entry, pass).await? {
            Outcome::Removed { found, .. } => {
                if found {
                    self.remove_entry(user);
                    tracing::info!(user, dc = %key.data_center, env = %key.environment, "credential removed");
                }
                Ok(found)
            }
            other => Err(Error::Internal(format!("a removal ended as {other:?}"))),
        }
    }

    async fn remove<I: Io>(&self, io: &I, user: &str, pass: Pass<'_>) -> Result<Removed, Error> {
        Engine::check_user(user)?;
        let key = self.resolve_key(io, user).await?;
        let entry = self.entry_for_change(&key)?;
        match self.change(io, &entry, pass).await? {
            Outcome::Removed { at_zoho, found } => {
                self.remove_entry(user);
                if !found {
                    return Err(self.unknown_user(io, user).await);
                }
                tracing::info!(user, dc = %key.data_center, env = %key.environment, ?at_zoho, "credential removed");
                Ok(Removed { key, at_zoho })
            }
            other => Err(Error::Internal(format!("a removal ended as {other:?}"))),
        }
    }

    /// The entry of `key` for a change that does not need to read it first (it may be damaged).
    pub(crate) fn entry_for_change(&self, key: &CredentialKey) -> Result<Arc<Entry>, Error> {
        match self.known_entry(&key.user) {
            Some(e) if e.key == *key => Ok(e),
            _ => self.insert_entry(key.clone(), None),
        }
    }

    /// One pass of the cycle on `entry`, holding its flight lock (no refresh of it in this
    /// process meanwhile).
    pub(crate) async fn change<I: Io>(
        &self,
        io: &I,
        entry: &Arc<Entry>,
        pass: Pass<'_>,
    ) -> Result<Outcome, Error> {
        let deadline = Deadline::after(self.s.call_timeout);
        let mut slot = entry.slot.lock().await;
        let wait = deadline.lock_wait(self.s.lock_wait);
        let result = cycle::run(self, io, entry, &mut slot, pass, wait, deadline).await;
        entry.flights.fetch_add(1, Ordering::AcqRel);
        result
    }

    /// The data centres this client is set up for.
    pub fn data_centers(&self) -> Vec<DataCenter> {
        let mut dcs: Vec<_> = self.s.accounts.keys().copied().collect();
        dcs.sort();
        dcs
    }
}
