//! Getting a credential in: exchanging a grant token, or adding an existing refresh token.

use zeroize::Zeroize;
use zoho_oauth_core::machine::MachineError;
use zoho_oauth_core::response::Verdict;
use zoho_oauth_core::{Machine, Origin, Poll, RequestKind, TokenSet};

use crate::access::AccessToken;
use crate::client::{Client, Inner};
use crate::error::Error;
use crate::key::CredentialKey;
use crate::owner::{Owner, UserSource};
use crate::refresh::{new_machine, verdict_error};
use crate::{random, send, trust};

impl Client {
    /// Exchange a Self Client grant token (from Zoho's API console) for `user`'s tokens and store
    /// them. The builder's [`redirect_uri`](crate::ClientBuilder::redirect_uri), if any, is sent along.
    ///
    /// A used or expired grant gives [`Error::NeedsAuthorization`]: generate a new one.
    pub fn exchange_grant(&self, user: &str, grant_token: &str) -> Result<AccessToken, Error> {
        let redirect = self.inner.s.redirect_uri.clone();
        let accounts = self.inner.s.accounts.clone();
        self.inner
            .exchange(
                Owner::Named(user),
                grant_token,
                redirect.as_deref(),
                accounts,
            )
            .map(|(_, t, _)| t)
    }

    /// Exchange a grant token obtained through the browser flow with `redirect_uri`.
    pub fn exchange_grant_with_redirect(
        &self,
        user: &str,
        grant_token: &str,
        redirect_uri: &str,
    ) -> Result<AccessToken, Error> {
        let accounts = self.inner.s.accounts.clone();
        self.inner
            .exchange(
                Owner::Named(user),
                grant_token,
                Some(redirect_uri),
                accounts,
            )
            .map(|(_, t, _)| t)
    }

    /// Exchange a grant token and store the credential under its owner's e-mail, asked from
    /// `/oauth/user/info` with the new access token — or under `fallback_user` when that cannot
    /// be learnt (the grant's scope lacks `aaaserver.profile.READ`, or user info failed); the
    /// [`UserSource`] says which, and why. The credential is saved once, under its final key:
    /// nothing is stored when the exchange fails, and no temporary credential ever is.
    ///
    /// `redirect_uri`: the one a browser-flow grant was issued for; `None` sends the builder's
    /// [`redirect_uri`](crate::ClientBuilder::redirect_uri), if any (Self Client grants need none).
    /// A used or expired grant gives [`Error::NeedsAuthorization`]: generate a new one.
    ///
    /// ```no_run
    /// use zoho_oauth::{Client, UserSource};
    /// # fn demo(client: &Client) -> Result<(), zoho_oauth::Error> {
    /// let (key, token, source) = client.exchange_grant_as_owner("1000.grant…", None, "default")?;
    /// match source {
    ///     UserSource::Learned => println!("stored the credential of {}", key.user),
    ///     UserSource::Fallback(why) => println!("stored under {}: {why}", key.user),
    ///     _ => {}
    /// }
    /// let same = client.access_token(&key.user)?;
    /// # let _ = (token, same);
    /// # Ok(())
    /// # }
    /// ```
    pub fn exchange_grant_as_owner(
        &self,
        grant_token: &str,
        redirect_uri: Option<&str>,
        fallback_user: &str,
    ) -> Result<(CredentialKey, AccessToken, UserSource), Error> {
        let s = &self.inner.s;
        let redirect = redirect_uri.or(s.redirect_uri.as_deref());
        let (key, token, source) = self.inner.exchange(
            Owner::LearnOr(fallback_user),
            grant_token,
            redirect,
            s.accounts.clone(),
        )?;
        let source =
            source.ok_or_else(|| Error::Core("an owner to learn came back named".into()))?;
        Ok((key, token, source))
    }

    /// Store an existing refresh token for `user` (replacing any stored credential); the next
    /// [`access_token`](Client::access_token) refreshes with it.
    pub fn add_refresh_token(&self, user: &str, refresh_token: &str) -> Result<(), Error> {
        if user.is_empty() {
            return Err(Error::Config("the user e-mail is empty".into()));
        }
        let token = TokenSet::new(refresh_token.trim())?;
        let key = self.inner.key(user);
        let entry = self.inner.insert_entry(key, None);
        entry.replace(&self.inner, token)?;
        tracing::info!(user, "refresh token added");
        Ok(())
    }
}

impl Inner {
    /// Exchange `code` at `accounts`, decide the user as `owner` says, and only then store the
    /// tokens under that user's key. The source is `None` when the user was named.
    pub(crate) fn exchange(
        &self,
        owner: Owner<'_>,
        code: &str,
        redirect_uri: Option<&str>,
        accounts: Origin,
    ) -> Result<(CredentialKey, AccessToken, Option<UserSource>), Error> {
        let s = &self.s;
        let shown_user = owner.shown();
        owner.check()?;
        let mut credentials = s.credentials.clone();
        credentials.set_accounts(accounts.clone());
        let mut machine = Machine::new(credentials, s.config);
        machine.set_grant(code.trim(), redirect_uri)?;
        let now = s.clock.now();
        let poll = machine.poll(now);
        if poll != Poll::Send(RequestKind::Exchange) {
            return Err(Error::Core(format!(
                "a grant was set but the machine says {poll:?}"
            )));
        }
        let mut buf = send::buffer(0);
        if let Err(MachineError::Buffer(b)) = machine.write_request(&mut buf) {
            buf = send::buffer(b.required);
        }
        let sent = {
            let req = machine
                .write_request(&mut buf)
                .map_err(|e| Error::Core(e.to_string()))?;
            send::send(&*s.transport, &req, "exchange", shown_user)
        };
        drop(buf);
        let placeholder_key = || match owner {
            Owner::Named(user) => self.key(user),
            Owner::Learn | Owner::LearnOr(_) => self.key("(user not yet known)"),
        };
        let mut resp = match sent {
            Ok(resp) => resp,
            Err(e) => {
                let _ = machine.handle_transport_error(s.clock.now(), random::u32());
                return Err(Error::Transport(e));
            }
        };
        let now = s.clock.now();
        let handled = machine.handle_response(now, resp.status, &resp.body, random::u32());
        resp.body.zeroize();
        if let Err(v) = handled {
            tracing::warn!(user = shown_user, verdict = ?v, "grant exchange refused");
            return Err(verdict_error(
                self,
                &placeholder_key(),
                v,
                machine.wake_at(now),
                now,
            ));
        }
        let token = machine
            .token()
            .cloned()
            .ok_or_else(|| Error::Core("no token after a successful exchange".into()))?;
        // Before anything else is done with it: is this token for our data centre and environment?
        let api_domain =
            trust::api_domain(&s.accounts, s.data_center, s.environment, &token.api_domain)?;
        let access = token.access_token.as_ref().ok_or_else(|| {
            Error::Zoho(Verdict::Malformed(
                zoho_oauth_core::response::Malformed::MissingField("access_token"),
            ))
        })?;
        let (user, source) = owner.resolve(self, &accounts, access.expose())?;
        let key = self.key(&user);
        let entry = self.insert_entry(key.clone(), None);
        let mut machine_for_entry = new_machine(self);
        machine_for_entry.restore(token.clone());
        let access = entry.install(self, machine_for_entry, &token)?;
        tracing::info!(
            user = user.as_str(),
            dc = %s.data_center,
            env = %s.environment,
            api_domain = api_domain.as_str(),
            "grant exchanged and credential stored"
        );
        Ok((key, access, source))
    }
}
