//! `ClientBuilder`: configures a [`Client`] (client registration, region, store, transport, clock, timing).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;
use zoho_oauth_core::{Config, Credentials, DataCenter, Environment, Origin};

use crate::client::Client;
use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::memory_store::MemoryStore;
use crate::store::TokenStore;
use crate::transport::Transport;

/// Builds a [`Client`]; start with [`Client::builder`]. Only the transport is required.
pub struct ClientBuilder {
    pub(crate) client_id: String,
    pub(crate) client_secret: Zeroizing<String>,
    pub(crate) data_center: DataCenter,
    pub(crate) environment: Environment,
    pub(crate) accounts_origin: Option<String>,
    pub(crate) redirect_uri: Option<String>,
    pub(crate) store: Option<Arc<dyn TokenStore>>,
    pub(crate) transport: Option<Arc<dyn Transport>>,
    pub(crate) clock: Option<Arc<dyn Clock>>,
    pub(crate) refresh_margin: Option<Duration>,
    pub(crate) machine_config: Config,
    pub(crate) max_wait_in_call: Duration,
    pub(crate) max_attempts: u32,
}

/// The settings a built client runs with (the builder, validated).
pub(crate) struct Settings {
    pub(crate) client_id: String,
    pub(crate) data_center: DataCenter,
    pub(crate) environment: Environment,
    pub(crate) accounts: Origin,
    pub(crate) credentials: Credentials,
    pub(crate) redirect_uri: Option<String>,
    pub(crate) store: Arc<dyn TokenStore>,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: Config,
    pub(crate) max_wait_in_call: Duration,
    pub(crate) max_attempts: u32,
}

impl ClientBuilder {
    pub(crate) fn new(client_id: String, client_secret: String) -> Self {
        Self {
            client_id,
            client_secret: Zeroizing::new(client_secret),
            data_center: DataCenter::Us,
            environment: Environment::Production,
            accounts_origin: None,
            redirect_uri: None,
            store: None,
            transport: None,
            clock: None,
            refresh_margin: None,
            machine_config: Config::default(),
            max_wait_in_call: Duration::from_secs(10),
            max_attempts: 3,
        }
    }

    /// The data centre the client is registered in (default [`DataCenter::Us`]). Credentials are
    /// keyed by it, and token answers from another centre are refused.
    pub fn data_center(mut self, dc: DataCenter) -> Self {
        self.data_center = dc;
        self
    }

    /// The environment (default [`Environment::Production`]). Credentials are keyed by it.
    pub fn environment(mut self, env: Environment) -> Self {
        self.environment = env;
        self
    }

    /// Send accounts calls to this origin instead of the data centre's (`http(s)://host[:port]`,
    /// e.g. the emulator). Keys still use [`data_center`](Self::data_center); only this origin is
    /// accepted in authorization redirects, and only loopback or Zoho `api_domain`s are trusted.
    pub fn accounts_origin(mut self, url: &str) -> Self {
        self.accounts_origin = Some(url.to_owned());
        self
    }

    /// The redirect URI registered in the API console, sent with [`Client::exchange_grant`]
    /// (Self Client grants need none).
    pub fn redirect_uri(mut self, uri: &str) -> Self {
        self.redirect_uri = Some(uri.to_owned());
        self
    }

    /// Where credentials persist (default: a [`MemoryStore`], which forgets them at exit).
    pub fn store(self, store: impl TokenStore + 'static) -> Self {
        self.store_arc(Arc::new(store))
    }

    /// Like [`store`](Self::store), for a store shared with other code.
    pub fn store_arc(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// How requests reach Zoho. Required: `zoho-oauth-ureq` provides one, or bring your own HTTP
    /// client as a closure (see [`Transport`]).
    pub fn transport(mut self, t: impl Transport + 'static) -> Self {
        self.transport = Some(Arc::new(t));
        self
    }

    /// Like [`transport`](Self::transport), for a transport shared with other code.
    pub fn transport_arc(mut self, t: Arc<dyn Transport>) -> Self {
        self.transport = Some(t);
        self
    }

    /// Where the time comes from (default [`SystemClock`]).
    pub fn clock(mut self, c: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(c));
        self
    }

    /// Refresh this long before an access token expires (default 60 s; never more than half the
    /// token's lifetime). Overrides the margin of [`machine_config`](Self::machine_config).
    pub fn refresh_margin(mut self, d: Duration) -> Self {
        self.refresh_margin = Some(d);
        self
    }

    /// The state machine's tunables: margin, mint budget, backoff, throttle wait.
    pub fn machine_config(mut self, c: Config) -> Self {
        self.machine_config = c;
        self
    }

    /// The longest a call waits for a backoff before retrying inside the call (default 10 s);
    /// a longer backoff returns the error instead.
    pub fn max_wait_in_call(mut self, d: Duration) -> Self {
        self.max_wait_in_call = d;
        self
    }

    /// How many token requests one call may send when no valid token is cached (default 3, at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Check the configuration and build the client.
    pub fn build(self) -> Result<Client, Error> {
        let transport = self.transport.ok_or_else(|| {
            Error::Config(
                "no transport: call .transport(zoho_oauth_ureq::UreqTransport::new()) or pass your own HTTP client".into(),
            )
        })?;
        if self.client_id.trim().is_empty() {
            return Err(Error::Config(
                "the client id is empty: copy it from the API console".into(),
            ));
        }
        if self.client_secret.trim().is_empty() {
            return Err(Error::Config(
                "the client secret is empty: copy it from the API console".into(),
            ));
        }
        let accounts = match &self.accounts_origin {
            None => Origin::Zoho(self.data_center),
            Some(url) => Origin::custom(url)
                .map_err(|e| Error::Config(format!("accounts origin {url:?}: {e}")))?,
        };
        let credentials = Credentials::new(&self.client_id, &self.client_secret, accounts.clone())
            .map_err(|e| Error::Config(e.to_string()))?;
        let mut config = self.machine_config;
        if let Some(m) = self.refresh_margin {
            config.refresh_margin = m;
        }
        let settings = Settings {
            client_id: self.client_id,
            data_center: self.data_center,
            environment: self.environment,
            accounts,
            credentials,
            redirect_uri: self.redirect_uri,
            store: self.store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
            transport,
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            config,
            max_wait_in_call: self.max_wait_in_call,
            max_attempts: self.max_attempts,
        };
        Ok(Client::from_settings(settings))
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("data_center", &self.data_center)
            .field("environment", &self.environment)
            .field("accounts_origin", &self.accounts_origin)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}
