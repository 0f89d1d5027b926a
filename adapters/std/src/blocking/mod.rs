//! The blocking face: [`Client`] runs the [`Engine`]'s operations on the calling thread, and
//! [`BackgroundRefresher`] keeps credentials fresh from a thread of its own.

mod background;
mod block_on;
mod io;

use std::fmt;
use std::sync::Arc;

use zoho_oauth_core::{Method, TokenSet};

pub use background::BackgroundRefresher;
pub(crate) use block_on::block_on;
use io::BlockingIo;

use crate::builder::ClientBuilder;
use crate::engine::flight::Obtained;
use crate::engine::{AccessToken, Engine};
use crate::error::{ConfigError, Error};
use crate::key::CredentialKey;
use crate::ops::{
    Added, CredentialStatus, DeviceLogin, DeviceOptions, Exchanged, LoginOptions, LoginRequest,
    Removed, UserInfo,
};
use crate::transport::{HttpResponse, Transport};

/// A Zoho OAuth client: one registration (client id and secret), holding the credentials of any
/// number of users at once, in its data centre (and others, with
/// [`allow_data_center`](ClientBuilder::allow_data_center)) and environment.
///
/// Cheap to clone (an `Arc` inside) and `Send + Sync`: share one per application. Every call
/// names the user; there is no "current user".
///
/// [`access_token`](Client::access_token) is the hot path: a fresh cached token is returned
/// without a lock or an allocation. When a token is due, one thread refreshes (an in-process
/// flight lock, then the store's lock across processes: reload, refresh only if still needed,
/// save); the others wait for it, or keep using the still-valid token.
///
/// ```
/// use zoho_oauth::{Client, HttpRequest, HttpResponse, TransportError};
///
/// // Bring your own HTTP client: any closure from request to response is a `Transport`.
/// let my_http = |req: &HttpRequest<'_>| -> Result<HttpResponse, TransportError> {
///     // Send req.method to req.url with req.headers and req.body, without following redirects,
///     // and return the status and body whatever the status.
///     Err(TransportError::Connect(format!("no network in this example ({})", req.url)))
/// };
/// let client = Client::builder("1000.CLIENTID", "client-secret")
///     .data_center(zoho_oauth::core::DataCenter::Eu)
///     .transport(my_http)
///     .build()?;
/// client.add_refresh_token("alice@example.com", "1000.refresh.token")?;
/// // The first call refreshes; here the network fails, and the error says so.
/// let err = client.access_token("alice@example.com").unwrap_err();
/// assert_eq!(err.kind(), zoho_oauth::ErrorKind::Network);
/// # Ok::<(), zoho_oauth::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    engine: Arc<Engine>,
    transport: Arc<dyn Transport>,
}

impl Client {
    /// Start configuring a client with its id and secret from Zoho's API console.
    pub fn builder(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> ClientBuilder {
        ClientBuilder::new(client_id.into(), client_secret.into())
    }

    pub(crate) fn from_parts(engine: Arc<Engine>, transport: Arc<dyn Transport>) -> Self {
        Self { engine, transport }
    }

    pub(crate) fn io(&self) -> BlockingIo<'_> {
        BlockingIo {
            store: &**self.engine.store(),
            transport: &*self.transport,
            clock: self.engine.clock(),
        }
    }

    /// The engine this client drives (shared with any other face built on it).
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The key `user`'s credential is stored under with this client.
    pub fn key(&self, user: &str) -> CredentialKey {
        self.engine.key(user)
    }

    /// An access token for `user`: the cached one while it is fresh (no lock, no allocation),
    /// else a refreshed one. While a refresh fails or waits (network down, throttle, budget,
    /// another process refreshing), a token that has not yet expired keeps being returned.
    pub fn access_token(&self, user: &str) -> Result<AccessToken, Error> {
        if let Some(t) = self.engine.cached(user) {
            return Ok(t);
        }
        block_on(self.engine.access_token(&self.io(), user))
    }

    /// [`access_token`](Client::access_token), and why the token is served stale: when it is
    /// due for a refresh (though still valid) because the last refresh failed or is on hold, the
    /// second value is that refresh's error, whose `what()`/`todo()` say what happened and what
    /// to do. Never waits for a refresh in flight to read it.
    ///
    /// ```no_run
    /// # fn demo(client: &zoho_oauth::Client) -> Result<(), zoho_oauth::Error> {
    /// let (token, refresh_error) = client.access_token_with_refresh_error("alice@example.com")?;
    /// if let Some(e) = refresh_error {
    ///     eprintln!("warning: serving a token that expires soon: {e}");
    /// }
    /// # let _ = token;
    /// # Ok(())
    /// # }
    /// ```
    pub fn access_token_with_refresh_error(
        &self,
        user: &str,
    ) -> Result<(AccessToken, Option<Error>), Error> {
        block_on(
            self.engine
                .access_token_with_refresh_error(&self.io(), user),
        )
    }

    /// Refresh `user`'s access token now if it is due (`force == false`), or even if it is fresh
    /// (`force == true`; the mint budget and a throttle window still apply). [`Obtained::minted`]
    /// says whether a new token was minted.
    pub fn refresh(&self, user: &str, force: bool) -> Result<Obtained, Error> {
        block_on(self.engine.refresh(&self.io(), user, force))
    }

    /// The users with a stored credential for this client, sorted.
    pub fn users(&self) -> Result<Vec<String>, Error> {
        block_on(self.engine.users(&self.io()))
    }

    /// Every stored credential of this client, without secrets (damaged entries included).
    pub fn status(&self) -> Result<Vec<CredentialStatus>, Error> {
        block_on(self.engine.status(&self.io()))
    }

    /// Exchange a grant code (Self Client, from Zoho's API console) for `user`'s tokens and store
    /// them. A used or expired code gives [`Error::NeedsAuthorization`]: generate a new one.
    pub fn exchange_grant(&self, user: &str, grant_token: &str) -> Result<AccessToken, Error> {
        block_on(
            self.engine
                .exchange_grant(&self.io(), user, grant_token, None),
        )
        .map(|e| e.token)
    }

    /// Exchange a grant code obtained through the browser flow with `redirect_uri`.
    pub fn exchange_grant_with_redirect(
        &self,
        user: &str,
        grant_token: &str,
        redirect_uri: &str,
    ) -> Result<AccessToken, Error> {
        block_on(
            self.engine
                .exchange_grant(&self.io(), user, grant_token, Some(redirect_uri)),
        )
        .map(|e| e.token)
    }

    /// Exchange a grant code and store the credential under its owner's e-mail (learnt from
    /// `/oauth/user/info`), or under `fallback_user` when that cannot be learnt;
    /// [`Exchanged::source`] says which and why.
    pub fn exchange_grant_as_owner(
        &self,
        grant_token: &str,
        redirect_uri: Option<&str>,
        fallback_user: &str,
    ) -> Result<Exchanged, Error> {
        block_on(self.engine.exchange_grant_as_owner(
            &self.io(),
            grant_token,
            redirect_uri,
            fallback_user,
        ))
    }

    /// Store an existing refresh token for `user`, replacing any stored credential
    /// ([`Added::replaced`] says so). Validated first: a token Zoho never issues is refused.
    pub fn add_refresh_token(&self, user: &str, refresh_token: &str) -> Result<Added, Error> {
        block_on(
            self.engine
                .add_refresh_token(&self.io(), user, refresh_token),
        )
    }

    /// Store a client-credentials credential under `user` (see
    /// [`Engine::add_client_credentials`]).
    pub fn add_client_credentials(
        &self,
        user: &str,
        scope: &str,
        soid: Option<&str>,
    ) -> Result<Added, Error> {
        block_on(
            self.engine
                .add_client_credentials(&self.io(), user, scope, soid),
        )
    }

    /// Store `token` under `key` (an import, a device flow's result), replacing what is there.
    pub fn install(&self, key: CredentialKey, token: TokenSet) -> Result<Added, Error> {
        block_on(self.engine.install(&self.io(), key, token))
    }

    /// Revoke `user`'s refresh token at Zoho, then delete it, under its lock.
    pub fn revoke(&self, user: &str) -> Result<Removed, Error> {
        block_on(self.engine.revoke(&self.io(), user))
    }

    /// Delete `user`'s credential here only (Zoho is not asked), under its lock.
    pub fn delete(&self, user: &str) -> Result<Removed, Error> {
        block_on(self.engine.delete(&self.io(), user))
    }

    /// Delete `user`'s credential here only if the stored one passes `test`, under its lock
    /// (see [`Engine::delete_if`]); returns whether it was deleted.
    pub fn delete_if(
        &self,
        user: &str,
        test: impl Fn(&TokenSet) -> bool + Send + Sync,
    ) -> Result<bool, Error> {
        block_on(self.engine.delete_if(&self.io(), user, &test))
    }

    /// Who `user`'s credential belongs to (needs the scope `aaaserver.profile.READ`).
    pub fn user_info(&self, user: &str) -> Result<UserInfo, Error> {
        block_on(self.engine.user_info(&self.io(), user))
    }

    /// Call a Zoho API as `user` (see [`Engine::request`]): refreshes and retries once on 401
    /// `INVALID_TOKEN`.
    pub fn request(
        &self,
        user: &str,
        method: Method,
        path_or_url: &str,
        body: Option<&[u8]>,
    ) -> Result<HttpResponse, Error> {
        block_on(
            self.engine
                .request(&self.io(), user, method, path_or_url, body),
        )
    }

    /// Start a device login (see [`Engine::device_login`]): show the user code and URL, then
    /// [`device_wait`](Client::device_wait).
    pub fn device_login(
        &self,
        scopes: &[&str],
        options: DeviceOptions,
    ) -> Result<DeviceLogin, Error> {
        block_on(self.engine.device_login(&self.io(), scopes, options))
    }

    /// Wait for the person to approve a device login, polling on the core's schedule (see
    /// [`Engine::device_wait`]); blocks until the tokens come, the person refuses, or the codes
    /// expire.
    pub fn device_wait(
        &self,
        login: &mut DeviceLogin,
        user: Option<&str>,
    ) -> Result<Exchanged, Error> {
        block_on(self.engine.device_wait(&self.io(), login, user))
    }

    /// Start a browser login with explicit options (see [`Engine::begin_login_with`]).
    pub fn begin_login_with(
        &self,
        scopes: &[&str],
        redirect_uri: &str,
        options: LoginOptions,
    ) -> LoginRequest {
        self.engine.begin_login_with(scopes, redirect_uri, options)
    }

    /// Start a browser login (see [`Engine::begin_login`]).
    pub fn begin_login(&self, scopes: &[&str], redirect_uri: &str) -> LoginRequest {
        self.engine.begin_login(scopes, redirect_uri)
    }

    /// Finish a browser login with the redirect (see [`Engine::complete_login`]).
    pub fn complete_login(
        &self,
        login: &LoginRequest,
        callback: &str,
        user: Option<&str>,
    ) -> Result<Exchanged, Error> {
        block_on(
            self.engine
                .complete_login(&self.io(), login, callback, user),
        )
    }
}

impl ClientBuilder {
    /// Check the configuration and build the blocking client.
    pub fn build(mut self) -> Result<Client, Error> {
        let transport = self
            .transport
            .take()
            .ok_or(Error::Config(ConfigError::NoTransport))?;
        Ok(Client::from_parts(
            Arc::new(self.build_engine()?),
            transport,
        ))
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}
