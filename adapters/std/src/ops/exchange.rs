//! Exchanging a grant code: under the lock of a named user's key, or — when the user is to be
//! learnt from user info — first at Zoho, then installed under the learnt key.

use zoho_oauth_core::{cap, DataCenter, Poll, RequestKind};

use super::owner::{Owner, UserSource};
use crate::engine::cycle::{self, Deadline, Grant, Outcome, Pass};
use crate::engine::{AccessToken, Engine, Io};
use crate::error::Error;
use crate::key::CredentialKey;

/// What an exchange stored.
#[derive(Debug)]
#[non_exhaustive]
pub struct Exchanged {
    /// The key the credential is stored under.
    pub key: CredentialKey,
    /// The new access token.
    pub token: AccessToken,
    /// How the user was chosen (`None`: the caller named it).
    pub source: Option<UserSource>,
}

impl Engine {
    /// Exchange a grant code (a Self Client code from the API console, or a browser login's)
    /// for `user`'s tokens and store them, in the home data centre. `redirect_uri`: the one a
    /// browser grant was issued for (`None`: the builder's, if any; Self Client codes need none).
    ///
    /// A used or expired code gives [`Error::NeedsAuthorization`] with
    /// [`ReAuthReason::GrantUsedOrExpired`](zoho_oauth_core::response::ReAuthReason::GrantUsedOrExpired):
    /// generate a new one.
    pub async fn exchange_grant<I: Io>(
        &self,
        io: &I,
        user: &str,
        code: &str,
        redirect_uri: Option<&str>,
    ) -> Result<Exchanged, Error> {
        let grant = Grant {
            code,
            redirect_uri,
            verifier: None,
        };
        self.exchange_in(io, Owner::Named(user), grant, self.s.data_center)
            .await
    }

    /// Exchange a grant code and store the credential under its owner's e-mail, asked from
    /// `/oauth/user/info` with the new access token — or under `fallback_user` when that cannot
    /// be learnt ([`UserSource`] says which, and why). Saved once, under its final key: nothing
    /// is stored when the exchange fails, and no temporary credential ever is.
    pub async fn exchange_grant_as_owner<I: Io>(
        &self,
        io: &I,
        code: &str,
        redirect_uri: Option<&str>,
        fallback_user: &str,
    ) -> Result<Exchanged, Error> {
        let grant = Grant {
            code,
            redirect_uri,
            verifier: None,
        };
        self.exchange_in(io, Owner::LearnOr(fallback_user), grant, self.s.data_center)
            .await
    }

    /// Exchange `code` at `dc`'s accounts server and store the credential as `owner` says.
    pub(crate) async fn exchange_in<I: Io>(
        &self,
        io: &I,
        owner: Owner<'_>,
        grant: Grant<'_>,
        dc: DataCenter,
    ) -> Result<Exchanged, Error> {
        let code = grant.code.trim();
        // Checked where it enters: a code Zoho never issues is refused before anything is sent.
        zoho_oauth_core::token::token_secret::<{ cap::GRANT_CODE }>("grant code", code)?;
        let grant = Grant {
            code,
            redirect_uri: grant.redirect_uri.or(self.s.redirect_uri.as_deref()),
            verifier: grant.verifier,
        };
        match owner {
            Owner::Named(user) => {
                Engine::check_user(user)?;
                let key = self.key_in(user, dc);
                let entry = self.entry_for_change(&key)?;
                let pass = Pass::Exchange(grant);
                match self.change(io, &entry, pass).await? {
                    Outcome::Minted(token) => {
                        tracing::info!(user, dc = %dc, "grant exchanged and credential stored");
                        Ok(Exchanged {
                            key,
                            token,
                            source: None,
                        })
                    }
                    other => Err(Error::Internal(format!("an exchange ended as {other:?}"))),
                }
            }
            Owner::Learn | Owner::LearnOr(_) => {
                if let Owner::LearnOr(fallback) = owner {
                    Engine::check_user(fallback)?;
                }
                self.exchange_then_learn(io, owner, grant, dc).await
            }
        }
    }

    /// The exchange of a code whose owner is not known yet: at Zoho first (no stored credential
    /// is touched), then the owner is learnt and the credential installed under its key.
    async fn exchange_then_learn<I: Io>(
        &self,
        io: &I,
        owner: Owner<'_>,
        grant: Grant<'_>,
        dc: DataCenter,
    ) -> Result<Exchanged, Error> {
        let deadline = Deadline::after(self.s.call_timeout);
        let unknown = self.key_in("(user not yet known)", dc);
        let mut machine = self.machine(dc)?;
        grant.give_to(&mut machine)?;
        if machine.poll(self.s.clock.now()) != Poll::Send(RequestKind::Exchange) {
            return Err(Error::Internal(
                "a grant was set but nothing to send".into(),
            ));
        }
        cycle::ask(self, io, &unknown, &mut machine, "exchange", deadline).await?;
        let token = machine
            .token()
            .cloned()
            .ok_or_else(|| Error::Internal("no token after a successful exchange".into()))?;
        // Before anything else is done with it: is this token for our data centre and environment?
        cycle::trusted(self, &unknown, &token)?;
        let accounts = self.s.accounts_for(dc)?;
        let access = token
            .access_token
            .as_ref()
            .map(|a| a.expose().to_owned())
            .unwrap_or_default();
        let (user, source) = match (self.owner_email(io, accounts, &access).await, owner) {
            (Ok(email), _) => (email, UserSource::Learned),
            (Err(e), Owner::LearnOr(fallback)) => {
                tracing::info!(
                    user = fallback,
                    error = e.label(),
                    "could not learn the owner; storing under the fallback user"
                );
                (fallback.to_owned(), UserSource::Fallback(e))
            }
            (Err(e), _) => return Err(e),
        };
        let key = self.key_in(&user, dc);
        let added = self.install(io, key, token).await?;
        let token = added
            .token
            .ok_or_else(|| Error::Internal("an exchange without an access token".into()))?;
        tracing::info!(user = user.as_str(), dc = %dc, "grant exchanged and credential stored");
        Ok(Exchanged {
            key: added.key,
            token,
            source: Some(source),
        })
    }
}
