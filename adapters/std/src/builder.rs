//! `ClientBuilder`: configures a client (registration, data centres, store, clock, timing) for
//! either face: `build` makes the blocking [`Client`](crate::Client); other faces take
//! the [`Engine`] from [`build_engine`](ClientBuilder::build_engine).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;
use zoho_oauth_core::device::DeviceConfig;
use zoho_oauth_core::{Config, DataCenter, Environment, Origin};

use crate::clock::{Clock, SystemClock};
use crate::engine::telemetry::Telemetry;
use crate::engine::{Engine, Settings};
use crate::error::{ConfigError, Error};
use crate::store::{MemoryStore, TokenStore};
use crate::transport::Transport;

/// The spread of due times a client uses unless told otherwise.
const DEFAULT_REFRESH_SPREAD: Duration = Duration::from_secs(60);

/// Builds a client; start with [`Client::builder`](crate::Client::builder).
pub struct ClientBuilder {
    client_id: String,
    client_secret: Zeroizing<String>,
    data_center: DataCenter,
    environment: Environment,
    accounts_origin: Option<String>,
    /// Other data centres the client may hold credentials of (Zoho's multi-DC), with their own
    /// secret where the API console issued one, and their own origin (tests, emulators).
    others: Vec<(DataCenter, Option<Zeroizing<String>>, Option<String>)>,
    redirect_uri: Option<String>,
    store: Option<Arc<dyn TokenStore>>,
    pub(crate) transport: Option<Arc<dyn Transport>>,
    clock: Option<Arc<dyn Clock>>,
    refresh_margin: Option<Duration>,
    refresh_spread: Option<Duration>,
    machine_config: Config,
    max_wait_in_call: Duration,
    max_attempts: u32,
    lock_wait: Duration,
    call_timeout: Duration,
    metrics_user_label: bool,
    background_parallelism: usize,
    device: DeviceConfig,
}

impl ClientBuilder {
    pub(crate) fn new(client_id: String, client_secret: String) -> Self {
        Self {
            client_id,
            client_secret: Zeroizing::new(client_secret),
            data_center: DataCenter::Us,
            environment: Environment::Production,
            accounts_origin: None,
            others: Vec::new(),
            redirect_uri: None,
            store: None,
            transport: None,
            clock: None,
            refresh_margin: None,
            refresh_spread: None,
            machine_config: Config::default(),
            max_wait_in_call: Duration::from_secs(10),
            max_attempts: 3,
            lock_wait: Duration::from_secs(30),
            call_timeout: Duration::from_secs(60),
            metrics_user_label: true,
            background_parallelism: 8,
            device: DeviceConfig::default(),
        }
    }

    /// The data centre the client is registered in (default [`DataCenter::Us`]): its home.
    /// Credentials are keyed by data centre, and token answers from another centre are refused.
    pub fn data_center(mut self, dc: DataCenter) -> Self {
        self.data_center = dc;
        self
    }

    /// The environment (default [`Environment::Production`]). Credentials are keyed by it.
    pub fn environment(mut self, env: Environment) -> Self {
        self.environment = env;
        self
    }

    /// Send the home data centre's accounts calls to this origin instead of Zoho's
    /// (`http(s)://host[:port]`, e.g. the emulator). Only this origin is then accepted in
    /// authorization redirects, and only loopback or Zoho `api_domain`s are trusted.
    pub fn accounts_origin(mut self, url: &str) -> Self {
        self.accounts_origin = Some(url.to_owned());
        self
    }

    /// Also hold credentials of users homed in `dc` (Zoho's multi-DC: one client id serves every
    /// data centre it is enabled in). `secret`: the client secret the API console issued for that
    /// centre, if it differs from the home one. A login or device flow whose user lives in a
    /// centre not allowed here is refused before any secret is sent.
    pub fn allow_data_center(mut self, dc: DataCenter, secret: Option<&str>) -> Self {
        self.others.retain(|(other, _, _)| *other != dc);
        self.others
            .push((dc, secret.map(|s| Zeroizing::new(s.to_owned())), None));
        self
    }

    /// Like [`allow_data_center`](Self::allow_data_center), with the accounts calls of `dc` sent
    /// to `url` (an emulator's data centre).
    pub fn allow_data_center_at(mut self, dc: DataCenter, secret: Option<&str>, url: &str) -> Self {
        self.others.retain(|(other, _, _)| *other != dc);
        self.others.push((
            dc,
            secret.map(|s| Zeroizing::new(s.to_owned())),
            Some(url.to_owned()),
        ));
        self
    }

    /// The redirect URI registered in the API console, sent with exchanges that give none
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

    /// How the blocking client's requests reach Zoho. Required by [`build`](Self::build):
    /// `zoho-oauth-ureq` provides one, or bring your own HTTP client as a closure (see
    /// [`Transport`]).
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

    /// Refresh each credential up to this much earlier than the margin, by an amount fixed per
    /// credential, so that credentials minted together do not all come due together (default
    /// 60 s; zero turns it off). Overrides the spread of [`machine_config`](Self::machine_config).
    pub fn refresh_spread(mut self, d: Duration) -> Self {
        self.refresh_spread = Some(d);
        self
    }

    /// The state machine's tunables: margin, spread, mint budget, backoff, throttle wait.
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

    /// How many token requests one call may send when no valid token is cached (default 3, at
    /// least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// The longest a call waits for another holder of a credential's store lock (default 30 s):
    /// then it fails with a `Busy` store error naming the store (a caller that only needs a
    /// token and has a valid one does not wait at all).
    pub fn lock_wait(mut self, d: Duration) -> Self {
        self.lock_wait = d;
        self
    }

    /// The longest one call takes in all — lock waits, requests, retries and backoff (default
    /// 60 s).
    pub fn call_timeout(mut self, d: Duration) -> Self {
        self.call_timeout = d;
        self
    }

    /// Whether metrics carry the credential's `user` label (default `true`). Turn it off when
    /// user e-mails must not reach the metrics system, or to bound the number of series.
    pub fn metrics_user_label(mut self, on: bool) -> Self {
        self.metrics_user_label = on;
        self
    }

    /// How many due credentials the background refresher refreshes side by side (default 8, at
    /// least 1). One refresh takes about one round trip to Zoho; a refresher keeps roughly
    /// `parallelism × (margin + spread) ÷ round trip` credentials fresh per expiry window.
    pub fn background_parallelism(mut self, n: usize) -> Self {
        self.background_parallelism = n.max(1);
        self
    }

    /// The shortest time between two polls of a device login (default Zoho's 30 s, which a
    /// device must never undercut against Zoho: shorten it only against a test server).
    pub fn device_poll_floor(mut self, d: std::time::Duration) -> Self {
        self.device.poll_floor = d;
        self
    }

    /// How much each `slow_down` answer lengthens a device login's poll interval (default RFC
    /// 8628's 5 s). Against Zoho keep the default; a test server may want a shorter step.
    pub fn device_slow_down_step(mut self, d: std::time::Duration) -> Self {
        self.device.slow_down_step = d;
        self
    }

    /// Check the configuration and build the engine a face drives (the blocking transport, if
    /// any, is not part of it).
    pub fn build_engine(self) -> Result<Engine, Error> {
        if self.client_id.trim().is_empty() {
            return Err(ConfigError::EmptyClientId.into());
        }
        if self.client_secret.trim().is_empty() {
            return Err(ConfigError::EmptyClientSecret.into());
        }
        let origin = |dc: DataCenter, url: Option<&String>| match url {
            None => Ok(Origin::Zoho(dc)),
            Some(url) => Origin::custom(url).map_err(|error| ConfigError::AccountsOrigin {
                given: url.clone(),
                error,
            }),
        };
        let mut accounts = HashMap::new();
        let mut secrets = HashMap::new();
        accounts.insert(
            self.data_center,
            origin(self.data_center, self.accounts_origin.as_ref())?,
        );
        secrets.insert(self.data_center, self.client_secret);
        for (dc, secret, url) in self.others {
            if dc == self.data_center {
                continue;
            }
            accounts.insert(dc, origin(dc, url.as_ref())?);
            if let Some(secret) = secret {
                secrets.insert(dc, secret);
            }
        }
        let mut config = self.machine_config;
        if let Some(m) = self.refresh_margin {
            config.refresh_margin = m;
        }
        config.refresh_spread = self
            .refresh_spread
            .unwrap_or(DEFAULT_REFRESH_SPREAD.max(config.refresh_spread));
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let settings = Settings {
            store_name: store.describe(),
            background_parallelism: self.background_parallelism,
            device: self.device,
            telemetry: Telemetry::new(self.metrics_user_label),
            client_id: self.client_id,
            secrets,
            data_center: self.data_center,
            environment: self.environment,
            accounts,
            redirect_uri: self.redirect_uri,
            store,
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            config,
            max_wait_in_call: self.max_wait_in_call,
            max_attempts: self.max_attempts,
            lock_wait: self.lock_wait,
            call_timeout: self.call_timeout,
        };
        // Every credential of every allowed centre must be renderable: check them now.
        for dc in settings.accounts.keys() {
            settings.credentials_for(*dc)?;
        }
        Ok(Engine::new(settings))
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
