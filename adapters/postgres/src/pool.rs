//! A few idle connections kept for reuse: opened on demand, returned after success, closed after
//! a failure (a connection that failed may be broken or inside an aborted transaction).

use std::sync::{Mutex, PoisonError};

use postgres::{Client, Config, NoTls};
use zoho_oauth::StoreError;

use crate::store::describe;

/// Idle connections kept beyond this are closed.
const MAX_IDLE: usize = 4;

/// Connections to one database.
pub(crate) struct Pool {
    config: Config,
    idle: Mutex<Vec<Client>>,
}

impl Pool {
    /// `postgres://user@host[:port]/database`, without the password: how the store names itself.
    pub(crate) fn describe(&self) -> String {
        let c = &self.config;
        let host = c
            .get_hosts()
            .first()
            .map(|h| match h {
                postgres::config::Host::Tcp(h) => h.clone(),
                #[cfg(unix)]
                postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .unwrap_or_default();
        let port = c
            .get_ports()
            .first()
            .map_or(String::new(), |p| format!(":{p}"));
        format!(
            "postgres://{}@{host}{port}/{}",
            c.get_user().unwrap_or(""),
            c.get_dbname().unwrap_or("")
        )
    }

    /// A pool that connects with `config`; nothing is opened yet.
    pub(crate) fn new(config: Config) -> Self {
        Self {
            config,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle connection (`true`: reused, it may have been closed by the server since), or a new
    /// one.
    pub(crate) fn get(&self) -> Result<(Client, bool), StoreError> {
        let reused = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match reused {
            Some(client) if !client.is_closed() => Ok((client, true)),
            _ => Ok((self.connect()?, false)),
        }
    }

    /// A new connection.
    pub(crate) fn connect(&self) -> Result<Client, StoreError> {
        self.config.connect(NoTls).map_err(|e| {
            StoreError::Database(format!(
                "cannot connect to PostgreSQL ({}): check the URL, that the server runs and that it accepts this user",
                describe(&e)
            ))
        })
    }

    /// Give back a connection that is healthy and outside any transaction.
    pub(crate) fn put(&self, client: Client) {
        if client.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(client);
        }
    }
}
