//! What every command works with: the resolved settings, the opened store, a built `Client`, and
//! which user a command is about.

use std::sync::Arc;

use zoho_oauth::file_store::FileStore;
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
        open_store(&self.settings.store)
    }

    /// A client over the configured store, data centre, environment and accounts origin.
    pub fn client(&self) -> Result<Client, CliError> {
        let store = self.store()?;
        self.client_with(store)
    }

    /// A client over `store`.
    pub fn client_with(&self, store: Arc<dyn TokenStore>) -> Result<Client, CliError> {
        let (id, secret) = self.settings.client()?;
        let mut builder = Client::builder(id, secret)
            .data_center(self.settings.data_center)
            .environment(self.settings.environment)
            .store_arc(store)
            .transport(UreqTransport::new());
        if let Some(url) = &self.settings.accounts_url {
            // With a custom origin the client trusts only loopback or data-centre-table api_domains.
            builder = builder.accounts_origin(url);
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
                    self.settings.data_center,
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

fn client_id(settings: &Settings) -> &str {
    settings.client_id.as_deref().unwrap_or("?")
}

/// Open a store by URL.
pub fn open_store(url: &StoreUrl) -> Result<Arc<dyn TokenStore>, CliError> {
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
            Ok(Arc::new(store))
        }
        StoreUrl::File(path) => {
            let store = FileStore::open(path).map_err(|e| fail(&e))?;
            Ok(Arc::new(store))
        }
        StoreUrl::Postgres(url) => {
            let store = zoho_oauth_postgres::PostgresStore::connect(url).map_err(|e| fail(&e))?;
            Ok(Arc::new(store))
        }
        StoreUrl::Mysql(url) => {
            let store = zoho_oauth_mysql::MysqlStore::connect(url).map_err(|e| fail(&e))?;
            Ok(Arc::new(store))
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
