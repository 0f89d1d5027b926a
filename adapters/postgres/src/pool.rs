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
    /// A pool that connects with `config`; nothing is opened yet.
    pub(crate) fn new(config: Config) -> Self {
        Self {
            config,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle connection, or a new one.
    pub(crate) fn get(&self) -> Result<Client, StoreError> {
        let reused = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match reused {
            Some(client) if !client.is_closed() => Ok(client),
            _ => self.config.connect(NoTls).map_err(|e| {
                StoreError::Database(format!(
                    "cannot connect to PostgreSQL ({}): check the URL, that the server runs and that it accepts this user",
                    describe(&e)
                ))
            }),
        }
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
