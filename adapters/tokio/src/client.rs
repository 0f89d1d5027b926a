//! The async face: [`Client`] awaits the [`Engine`]'s operations on the tokio runtime. Each
//! method is one delegation; the orchestration lives in `zoho_oauth::engine`, shared with the
//! blocking client.
//!
//! The engine's futures hold whole token sets across awaits (about 17 KB): each delegation awaits
//! its future from the heap (`Box::pin`), so that a caller's task stays small; the hot path
//! returns before that allocation.

use std::fmt;
use std::sync::Arc;

use tokio::sync::watch;
use zoho_oauth::core::{Method, TokenSet};
use zoho_oauth::engine::Engine;
use zoho_oauth::{
    AccessToken, Added, ClientBuilder, CredentialKey, CredentialStatus, DeviceLogin, DeviceOptions,
    Error, Exchanged, HttpResponse, LoginOptions, LoginRequest, Obtained, Removed, UserInfo,
};

use crate::io::TokioIo;
use crate::transport::Transport;

/// An async Zoho OAuth client: one registration (client id and secret) holding the credentials
/// of any number of users, with the same keys, stores, options and errors as the blocking
/// [`zoho_oauth::Client`] — the same engine runs both.
///
/// Cheap to clone (reference counts inside), `Send + Sync`, and every future it returns is
/// `Send`: share one per application and call it from any task.
///
/// - [`access_token`](Self::access_token) is the hot path: a fresh cached token comes back on
///   the first poll, without a lock or an allocation.
/// - A due token is refreshed once however many tasks ask (they await the one refresh), and once
///   across processes sharing the store (its lock).
/// - Every call is cancellation-safe: drop its future at any point (a `tokio::time::timeout`,
///   an aborted task) and no credential stays locked or half-saved, and the next caller refreshes.
/// - Stores are blocking: their calls run on tokio's blocking pool, never on a runtime thread.
///
/// ```no_run
/// use zoho_oauth_tokio::{Client, ReqwestTransport};
///
/// # async fn demo() -> Result<(), zoho_oauth::Error> {
/// let builder = Client::builder("1000.CLIENTID", "client-secret")
///     .store(zoho_oauth::FileStore::open("tokens.zot")?);
/// let client = Client::build(builder, ReqwestTransport::new())?;
/// client.exchange_grant("alice@example.com", "1000.grant…").await?;
/// let token = client.access_token("alice@example.com").await?;
/// println!("{token}"); // shows only the last four characters
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

/// What the clones of one client share.
struct Shared {
    /// The engine and this face's effects, built once so that a call clones nothing.
    io: TokioIo,
    /// Closed when the last clone is dropped: background tasks watch it and stop.
    alive: watch::Sender<()>,
}

impl Client {
    /// Start configuring a client with its id and secret from Zoho's API console: the blocking
    /// face's builder (store, data centres, clock, timing); finish with [`Client::build`].
    pub fn builder(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> ClientBuilder {
        zoho_oauth::Client::builder(client_id, client_secret)
    }

    /// Check `builder`'s configuration and build an async client sending through `transport`
    /// (e.g. [`ReqwestTransport`](crate::ReqwestTransport)). A blocking transport set on the
    /// builder is not used.
    pub fn build(
        builder: ClientBuilder,
        transport: impl Transport + 'static,
    ) -> Result<Self, Error> {
        Ok(Self::from_engine(
            Arc::new(builder.build_engine()?),
            Arc::new(transport),
        ))
    }

    /// An async client driving an existing engine, e.g. a blocking client's
    /// ([`zoho_oauth::Client::engine`]): both then share one cache and one flight per credential.
    pub fn from_engine(engine: Arc<Engine>, transport: Arc<dyn Transport>) -> Self {
        Self {
            shared: Arc::new(Shared {
                io: TokioIo { engine, transport },
                alive: watch::Sender::new(()),
            }),
        }
    }

    fn io(&self) -> &TokioIo {
        &self.shared.io
    }

    /// The engine this client drives.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.shared.io.engine
    }

    pub(crate) fn transport(&self) -> &Arc<dyn Transport> {
        &self.shared.io.transport
    }

    /// Closes when the last clone of this client is dropped.
    pub(crate) fn watch_alive(&self) -> watch::Receiver<()> {
        self.shared.alive.subscribe()
    }

    /// The key `user`'s credential is stored under with this client.
    pub fn key(&self, user: &str) -> CredentialKey {
        self.engine().key(user)
    }

    /// An access token for `user` ([`Engine::access_token`]): the cached one while fresh, ready
    /// on the first poll with no lock and no allocation; else one refresh shared by every task
    /// asking. While refreshing fails or waits, a token that has not expired is served.
    pub async fn access_token(&self, user: &str) -> Result<AccessToken, Error> {
        match self.engine().cached(user) {
            Some(fresh) => Ok(fresh),
            None => Box::pin(self.engine().access_token(self.io(), user)).await,
        }
    }

    /// The token and, when it is served stale, why ([`Engine::access_token_with_refresh_error`]).
    pub async fn access_token_with_refresh_error(
        &self,
        user: &str,
    ) -> Result<(AccessToken, Option<Error>), Error> {
        Box::pin(
            self.engine()
                .access_token_with_refresh_error(self.io(), user),
        )
        .await
    }

    /// Refresh now if due, or even if fresh with `force` ([`Engine::refresh`]).
    pub async fn refresh(&self, user: &str, force: bool) -> Result<Obtained, Error> {
        Box::pin(self.engine().refresh(self.io(), user, force)).await
    }

    /// A new token because an API refused `rejected`, unless another task already replaced it:
    /// however many requests were refused with the same token, one new token is minted.
    pub async fn replace_rejected(
        &self,
        user: &str,
        rejected: AccessToken,
    ) -> Result<AccessToken, Error> {
        Box::pin(self.engine().replace_rejected(self.io(), user, rejected)).await
    }

    /// The users with a stored credential for this client, sorted ([`Engine::users`]).
    pub async fn users(&self) -> Result<Vec<String>, Error> {
        Box::pin(self.engine().users(self.io())).await
    }

    /// Every stored credential, without secrets ([`Engine::status`]).
    pub async fn status(&self) -> Result<Vec<CredentialStatus>, Error> {
        Box::pin(self.engine().status(self.io())).await
    }

    /// Exchange a Self Client grant code for `user`'s tokens and store them
    /// ([`Engine::exchange_grant`]).
    pub async fn exchange_grant(
        &self,
        user: &str,
        grant_token: &str,
    ) -> Result<AccessToken, Error> {
        let exchanged = self
            .engine()
            .exchange_grant(self.io(), user, grant_token, None);
        Ok(Box::pin(exchanged).await?.token)
    }

    /// Exchange a grant code from the browser flow with `redirect_uri`.
    pub async fn exchange_grant_with_redirect(
        &self,
        user: &str,
        grant_token: &str,
        redirect_uri: &str,
    ) -> Result<AccessToken, Error> {
        let uri = Some(redirect_uri);
        let exchanged = self
            .engine()
            .exchange_grant(self.io(), user, grant_token, uri);
        Ok(Box::pin(exchanged).await?.token)
    }

    /// Exchange a grant code and store it under its owner's e-mail
    /// ([`Engine::exchange_grant_as_owner`]).
    pub async fn exchange_grant_as_owner(
        &self,
        grant_token: &str,
        redirect_uri: Option<&str>,
        fallback_user: &str,
    ) -> Result<Exchanged, Error> {
        Box::pin(self.engine().exchange_grant_as_owner(
            self.io(),
            grant_token,
            redirect_uri,
            fallback_user,
        ))
        .await
    }

    /// Store an existing refresh token for `user` ([`Engine::add_refresh_token`]).
    pub async fn add_refresh_token(&self, user: &str, refresh_token: &str) -> Result<Added, Error> {
        Box::pin(
            self.engine()
                .add_refresh_token(self.io(), user, refresh_token),
        )
        .await
    }

    /// Store a client-credentials credential under `user` ([`Engine::add_client_credentials`]).
    pub async fn add_client_credentials(
        &self,
        user: &str,
        scope: &str,
        soid: Option<&str>,
    ) -> Result<Added, Error> {
        Box::pin(
            self.engine()
                .add_client_credentials(self.io(), user, scope, soid),
        )
        .await
    }

    /// Store `token` under `key`, replacing what is there ([`Engine::install`]).
    pub async fn install(&self, key: CredentialKey, token: TokenSet) -> Result<Added, Error> {
        Box::pin(self.engine().install(self.io(), key, token)).await
    }

    /// Revoke at Zoho, then delete under the lock ([`Engine::revoke`]).
    pub async fn revoke(&self, user: &str) -> Result<Removed, Error> {
        Box::pin(self.engine().revoke(self.io(), user)).await
    }

    /// Delete here only, under the lock ([`Engine::delete`]).
    pub async fn delete(&self, user: &str) -> Result<Removed, Error> {
        Box::pin(self.engine().delete(self.io(), user)).await
    }

    /// Delete here only if the stored credential passes `test`, under the lock
    /// ([`Engine::delete_if`]); returns whether it was deleted.
    pub async fn delete_if(
        &self,
        user: &str,
        test: impl Fn(&TokenSet) -> bool + Send + Sync,
    ) -> Result<bool, Error> {
        Box::pin(self.engine().delete_if(self.io(), user, &test)).await
    }

    /// Who `user`'s credential belongs to ([`Engine::user_info`]).
    pub async fn user_info(&self, user: &str) -> Result<UserInfo, Error> {
        Box::pin(self.engine().user_info(self.io(), user)).await
    }

    /// Call a Zoho API as `user` ([`Engine::request`]): refreshes and retries once on 401
    /// `INVALID_TOKEN`.
    pub async fn request(
        &self,
        user: &str,
        method: Method,
        path_or_url: &str,
        body: Option<&[u8]>,
    ) -> Result<HttpResponse, Error> {
        Box::pin(
            self.engine()
                .request(self.io(), user, method, path_or_url, body),
        )
        .await
    }

    /// Start a device login ([`Engine::device_login`]): show the user code and URL, then
    /// [`device_wait`](Self::device_wait).
    pub async fn device_login(
        &self,
        scopes: &[&str],
        options: DeviceOptions,
    ) -> Result<DeviceLogin, Error> {
        Box::pin(self.engine().device_login(self.io(), scopes, options)).await
    }

    /// Wait for the person to approve a device login, polling on the core's schedule
    /// ([`Engine::device_wait`]); the waits are the runtime's timer, so a task waiting here holds
    /// no thread. Dropping the future stops polling; nothing is stored until the tokens come.
    pub async fn device_wait(
        &self,
        login: &mut DeviceLogin,
        user: Option<&str>,
    ) -> Result<Exchanged, Error> {
        Box::pin(self.engine().device_wait(self.io(), login, user)).await
    }

    /// Start a browser login ([`Engine::begin_login`]); nothing to await.
    pub fn begin_login(&self, scopes: &[&str], redirect_uri: &str) -> LoginRequest {
        self.engine().begin_login(scopes, redirect_uri)
    }

    /// Start a browser login with explicit options (PKCE, `prompt=consent`:
    /// [`Engine::begin_login_with`]); nothing to await.
    pub fn begin_login_with(
        &self,
        scopes: &[&str],
        redirect_uri: &str,
        options: LoginOptions,
    ) -> LoginRequest {
        self.engine()
            .begin_login_with(scopes, redirect_uri, options)
    }

    /// Finish a browser login with the redirect ([`Engine::complete_login`]).
    pub async fn complete_login(
        &self,
        login: &LoginRequest,
        callback: &str,
        user: Option<&str>,
    ) -> Result<Exchanged, Error> {
        Box::pin(
            self.engine()
                .complete_login(self.io(), login, callback, user),
        )
        .await
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("engine", self.engine())
            .finish_non_exhaustive()
    }
}

/// Compile-time proof that the engine's futures, driven by this face, can be spawned on a
/// multi-threaded runtime: auto traits leak through the generic engine, so this fails to build
/// the day an effect's future (or the engine) holds something that is not `Send`.
#[allow(dead_code)]
fn futures_are_send(c: &Client, login: &LoginRequest, key: CredentialKey, token: TokenSet) {
    fn send<T: Send>(_: T) {}
    send(c.access_token(""));
    send(c.access_token_with_refresh_error(""));
    send(c.refresh("", true));
    send(c.users());
    send(c.status());
    send(c.exchange_grant("", ""));
    send(c.exchange_grant_as_owner("", None, ""));
    send(c.add_refresh_token("", ""));
    send(c.add_client_credentials("", "", None));
    send(c.install(key, token));
    send(c.revoke(""));
    send(c.delete(""));
    send(c.user_info(""));
    send(c.request("", Method::Get, "", None));
    send(c.complete_login(login, "", None));
}
