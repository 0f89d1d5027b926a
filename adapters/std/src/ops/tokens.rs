//! Getting an access token: the lock-free hot path, a refresh when due or forced, and the
//! refresh error behind a token served stale.

use crate::engine::flight::{Obtained, Want};
use crate::engine::{AccessToken, Engine, Io};
use crate::error::Error;

impl Engine {
    /// An access token for `user`: the cached one while it is fresh (no lock, no allocation),
    /// else a refreshed one. While a refresh fails or waits (network down, throttle, budget,
    /// another process refreshing), a token that has not yet expired keeps being returned.
    pub async fn access_token<I: Io>(&self, io: &I, user: &str) -> Result<AccessToken, Error> {
        if let Some(t) = self.cached(user) {
            return Ok(t);
        }
        Ok(self.obtain(io, user, Want::Current).await?.token)
    }

    /// [`access_token`](Engine::access_token), and why the token is served stale: when it is
    /// due for a refresh (though still valid) because the last refresh failed or is on hold,
    /// the second value is that refresh's error. Reading it never waits for a refresh in flight.
    pub async fn access_token_with_refresh_error<I: Io>(
        &self,
        io: &I,
        user: &str,
    ) -> Result<(AccessToken, Option<Error>), Error> {
        let token = self.access_token(io, user).await?;
        let stale = self.stale_reason(user, &token);
        Ok((token, stale))
    }

    /// Refresh `user`'s access token now if it is due (`force == false`), or even if it is
    /// fresh (`force == true`; the mint budget and any throttle window still apply). Says whether
    /// a new token was minted.
    pub async fn refresh<I: Io>(&self, io: &I, user: &str, force: bool) -> Result<Obtained, Error> {
        let want = if force {
            Want::Force { rejected: None }
        } else {
            Want::Due
        };
        self.obtain(io, user, want).await
    }

    /// A new token because an API refused `rejected` — unless someone (another caller, another
    /// process) already replaced it: however many requests were refused with the same token, one
    /// new token is minted. For faces and middlewares that put the token on requests themselves.
    pub async fn replace_rejected<I: Io>(
        &self,
        io: &I,
        user: &str,
        rejected: AccessToken,
    ) -> Result<AccessToken, Error> {
        let want = Want::Force {
            rejected: Some(rejected),
        };
        Ok(self.obtain(io, user, want).await?.token)
    }
}
