//! What every command works with: the resolved settings, the opened store, a built `Client`, and
//! which user a command is about.

use std::sync::Arc;

use zoho_oauth::FileStore;
use zoho_oauth::{Client, TokenStore};
use zoho_oauth_sqlite::SqliteStore;
use zoho_oauth_ureq::UreqTransport;

use crate::config::Settings;
use crate::exit::{Class, CliError};
use crate::store_url::StoreUrl;

/// The settings of this run plus `--json`.
pub struct Ctx {
    /// Resolved flags, environment and config file.
    pub settings: Settings,
    /// Print data as JSON.
    pub json: bool,
}

impl Ctx {
    /// Open the configured store (creating the default SQLite file's directory if needed).
    pub fn store(&self) -> Result<Arc<dyn TokenStore>, CliError> {
        Ok(self.open_store()?.store)
    }

    /// Open the configured store, keeping what only its own type can tell (the MySQL store's
    /// rows that are not credentials).
    pub fn open_store(&self) -> Result<Opened, CliError> {
        open_store(&self.settings.store, &self.settings)
    }

    /// A client over the configured store, data centre, environment and accounts origin.
    pub fn client(&self) -> Result<Client, CliError> {
        let store = self.store()?;
        self.client_with(store)
    }

    /// A client over `store`.
    pub fn client_with(&self, store: Arc<dyn TokenStore>) -> Result<Client, CliError> {
        self.client_reading(store, None)
    }

    /// A client over `store` whose transport reads response bodies up to `max_body` bytes
    /// (`None`: the transport's default, ample for Zoho's token answers).
    pub fn client_reading(
        &self,
        store: Arc<dyn TokenStore>,
        max_body: Option<usize>,
    ) -> Result<Client, CliError> {
        let (id, secret) = self.settings.client()?;
        let mut transport = UreqTransport::builder().timeout(self.settings.request_timeout);
        if let Some(bytes) = max_body {
            transport = transport.max_body(bytes);
        }
        let transport = transport.build().map_err(|e| {
            CliError::other(
                format!("cannot set up the HTTPS client: {e}"),
                "please report this bug, with the output of -vv",
            )
        })?;
        let mut builder = Client::builder(id, secret)
            .data_center(self.settings.data_center)
            .environment(self.settings.environment)
            .store_arc(store)
            .lock_wait(self.settings.lock_wait)
            .call_timeout(self.settings.request_timeout)
            .transport(transport)
            .metrics_user_label(self.settings.watch.metrics_user_label != Some(false));
        if let Some(n) = self.settings.watch.parallel {
            builder = builder.background_parallelism(n);
        }
        if let Some(url) = &self.settings.accounts_url {
            // With a custom origin the client trusts only loopback or data-centre-table api_domains.
            builder = builder.accounts_origin(url);
        }
        for other in &self.settings.other_dcs {
            let secret = other.client_secret.as_deref();
            builder = match &other.accounts_url {
                Some(url) => builder.allow_data_center_at(other.data_center, secret, url),
                None => builder.allow_data_center(other.data_center, secret),
            };
        }
        if self.settings.device_poll_floor != crate::config::DEFAULT_DEVICE_POLL_FLOOR {
            builder = builder.device_poll_floor(self.settings.device_poll_floor);
        }
        Ok(builder.build()?)
    }

    /// The user a command is about: `--user`/`ZOHO_USER`/config, else the only stored one.
    pub fn user(&self, client: &Client) -> Result<String, CliError> {
        if let Some(u) = &self.settings.user {
            return Ok(u.clone());
        }
        let users = client.users()?;
        match users.as_slice() {
            [only] => Ok(only.clone()),
            [] => Err(CliError::new(
                Class::ReAuthorize,
                format!(
                    "no credential is stored for client {} in {} {} ({})",
                    client_id(&self.settings),
                    self.settings.data_centers_text(),
                    self.settings.environment,
                    self.settings.store.display()
                ),
                "run `zoho-oauth exchange --grant-token CODE` or `zoho-oauth login` first",
            )),
            several => Err(CliError::usage(
                format!(
                    "{} credentials are stored: {}",
                    several.len(),
                    several.join(", ")
                ),
                "choose one with --user EMAIL (or ZOHO_USER)",
            )),
        }
    }
}

impl Ctx {
    /// How store failures name the store: its URL, and for a file store its lock file too (a
    /// permission error on either must say which files to look at).
    pub fn store_label(&self) -> String {
        match &self.settings.store {
            StoreUrl::File(path) => {
                let mut lock = path.as_os_str().to_owned();
                lock.push(".lock");
                format!(
                    "{} (lock file {})",
                    self.settings.store.display(),
                    std::path::Path::new(&lock).display()
                )
            }
            other => other.display(),
        }
    }
}

fn client_id(settings: &Settings) -> &str {
    settings.client_id.as_deref().unwrap_or("?")
}

/// An opened store, and the MySQL store itself when it is one (for its unusable rows).
pub struct Opened {
    /// The store every command works through.
    pub store: Arc<dyn TokenStore>,
    /// The same store when it is the MySQL one.
    pub mysql: Option<Arc<zoho_oauth_mysql::MysqlStore>>,
}

impl Opened {
    fn plain(store: Arc<dyn TokenStore>) -> Self {
        Self { store, mysql: None }
    }
}

/// Open a store by URL; `settings` say how the MySQL store keys the official SDKs' rows that do
/// not name their data centre (the client's own accounts origin, data centre and environment).
pub fn open_store(url: &StoreUrl, settings: &Settings) -> Result<Opened, CliError> {
    let fail = |e: &dyn std::fmt::Display| {
        CliError::other(
            format!("cannot open the token store {}: {e}", url.display()),
            "check the path and its permissions, or choose another with --store",
        )
    };
    match url {
        StoreUrl::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                create_private_dir(dir).map_err(|e| fail(&e))?;
            }
            let store = SqliteStore::open(path).map_err(|e| fail(&e))?;
            Ok(Opened::plain(Arc::new(store)))
        }
        StoreUrl::File(path) => {
            let store = FileStore::open(path).map_err(|e| fail(&e))?;
            Ok(Opened::plain(Arc::new(store)))
        }
        StoreUrl::Postgres(url) => {
            let store = zoho_oauth_postgres::PostgresStore::connect(url).map_err(|e| fail(&e))?;
            Ok(Opened::plain(Arc::new(store)))
        }
        StoreUrl::Mysql(url) => {
            let origin = settings.accounts_origin()?;
            let store = zoho_oauth_mysql::MysqlStore::connect(url)
                .map_err(|e| fail(&e))?
                .with_configured_region(origin, settings.data_center, settings.environment);
            let store = Arc::new(store);
            Ok(Opened {
                store: Arc::clone(&store) as Arc<dyn TokenStore>,
                mysql: Some(store),
            })
        }
        StoreUrl::Redis(url) => {
            // The store reads host, port, database, password and `?prefix=` itself, and says
            // what is wrong with a malformed URL without echoing it.
            let store = zoho_oauth_redis::RedisStore::connect(url).map_err(|e| fail(&e))?;
            Ok(Opened::plain(Arc::new(store)))
        }
    }
}

/// `mkdir -p` with mode 0700 on Unix: the directory will hold refresh tokens.
fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}
