//! Revoking a credential: at Zoho first, then in the store.

use zeroize::Zeroize;
use zoho_oauth_core::response::{self, Verdict};

use crate::client::Client;
use crate::error::Error;
use crate::send;

impl Client {
    /// Revoke `user`'s refresh token at Zoho (which also kills every access token minted from it),
    /// then delete the credential from the store. An unknown user gives [`Error::UnknownUser`]
    /// with the known ones. If Zoho cannot be reached, nothing is deleted.
    pub fn revoke(&self, user: &str) -> Result<(), Error> {
        let inner = &self.inner;
        let s = &inner.s;
        let key = inner.key(user);
        let entry = inner.entries.load().get(user).cloned();
        // No refresh of this credential in this process while it is being revoked.
        let _held = entry.as_ref().map(|e| e.hold());
        let token = s
            .store
            .load(&key)?
            .ok_or_else(|| inner.unknown_user(user))?;
        let refresh = token.refresh_token.expose();
        let mut buf = send::buffer(0);
        if let Err(b) = zoho_oauth_core::request::revoke(&mut buf, &s.accounts, refresh) {
            buf = send::buffer(b.required);
        }
        let sent = {
            let req = zoho_oauth_core::request::revoke(&mut buf, &s.accounts, refresh)
                .map_err(|e| Error::Core(e.to_string()))?;
            send::send(&*s.transport, &req, "revoke", user)
        };
        drop(buf);
        let mut resp = sent?;
        let verdict = response::parse_revoke(resp.status, &resp.body);
        resp.body.zeroize();
        match verdict {
            Ok(()) => {}
            // Zoho no longer knows the token: it is as revoked as it can be.
            Err(Verdict::ReAuthorize(_)) => {
                tracing::info!(
                    user,
                    "Zoho did not know the refresh token; deleting it locally"
                );
            }
            Err(Verdict::BadRequest(e)) if e.eq_ignore_ascii_case("invalid_token") => {
                tracing::info!(
                    user,
                    "Zoho did not know the refresh token; deleting it locally"
                );
            }
            Err(v) => {
                tracing::warn!(user, verdict = ?v, "revoke refused; nothing deleted");
                return Err(Error::Zoho(v));
            }
        }
        s.store.delete(&key)?;
        inner.remove_entry(user);
        tracing::info!(user, dc = %s.data_center, env = %s.environment, "credential revoked and deleted");
        Ok(())
    }
}
