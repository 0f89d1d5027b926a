//! Getting a credential in: exchanging a grant token, or adding an existing refresh token.

use zeroize::Zeroize;
use zoho_oauth_core::machine::MachineError;
use zoho_oauth_core::response::Verdict;
use zoho_oauth_core::{Machine, Origin, Poll, RequestKind, TokenSet};

use crate::access::AccessToken;
use crate::client::{Client, Inner};
use crate::error::Error;
use crate::key::CredentialKey;
use crate::refresh::{new_machine, verdict_error};
use crate::{random, send, trust, user_info};

impl Client {
    /// Exchange a Self Client grant token (from Zoho's API console) for `user`'s tokens and store
    /// them. The builder's [`redirect_uri`](crate::ClientBuilder::redirect_uri), if any, is sent along.
    ///
    /// A used or expired grant gives [`Error::NeedsAuthorization`]: generate a new one.
    pub fn exchange_grant(&self, user: &str, grant_token: &str) -> Result<AccessToken, Error> {
        let redirect = self.inner.s.redirect_uri.clone();
        let accounts = self.inner.s.accounts.clone();
        self.inner
            .exchange(Some(user), grant_token, redirect.as_deref(), accounts)
            .map(|(_, t)| t)
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
            .exchange(Some(user), grant_token, Some(redirect_uri), accounts)
            .map(|(_, t)| t)
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
    /// Exchange `code` at `accounts` and store the tokens under `user` (learnt from user info
    /// when `None`).
    pub(crate) fn exchange(
        &self,
        user: Option<&str>,
        code: &str,
        redirect_uri: Option<&str>,
        accounts: Origin,
    ) -> Result<(CredentialKey, AccessToken), Error> {
        let s = &self.s;
        let shown_user = user.unwrap_or("(from user info)");
        if user == Some("") {
            return Err(Error::Config("the user e-mail is empty".into()));
        }
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
        let placeholder_key = || self.key(user.unwrap_or("(user not yet known)"));
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
        let user = match user {
            Some(u) => u.to_owned(),
            None => {
                let access = token.access_token.as_ref().ok_or_else(|| {
                    Error::Zoho(Verdict::Malformed(
                        zoho_oauth_core::response::Malformed::MissingField("access_token"),
                    ))
                })?;
                user_info::fetch(self, &accounts, access.expose(), shown_user)?.email
            }
        };
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
        Ok((key, access))
    }
}
