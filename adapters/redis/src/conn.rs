//! Connections: the parsed URL, a few idle connections kept for reuse, and Redis errors as
//! [`StoreError`]s.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use redis::{
    Client, Connection, ConnectionAddr, ConnectionInfo, ConnectionLike as _, ProtocolVersion,
    RedisError,
};
use zoho_oauth::StoreError;

/// Idle connections kept beyond this are closed.
const MAX_IDLE: usize = 4;

/// Connections to one Redis database.
pub(crate) struct Pool {
    client: Client,
    io_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
}

impl Pool {
    /// A pool for `url` (`redis://`, `rediss://` with the `tls` feature, `redis+unix://`); nothing
    /// is opened yet. Every connection speaks RESP2, whatever the URL asks: the lock's waiters
    /// rely on RESP2's subscribe mode.
    pub(crate) fn new(url: &str, io_timeout: Duration) -> Result<Self, StoreError> {
        let tls = url
            .get(..9)
            .is_some_and(|s| s.eq_ignore_ascii_case("rediss://"));
        if tls && cfg!(not(feature = "tls")) {
            return Err(StoreError::Other(
                "this build cannot open rediss:// (TLS) URLs: enable the `tls` feature of zoho-oauth-redis, or reach Redis over a private network or a TLS tunnel with redis://".into(),
            ));
        }
        let info: ConnectionInfo =
            redis::IntoConnectionInfo::into_connection_info(url).map_err(|e| {
                StoreError::Other(format!(
                    "the Redis URL is not valid ({}): write redis://[:PASSWORD@]HOST[:PORT][/DB]",
                    e.detail().unwrap_or(e.category())
                ))
            })?;
        if !info.addr().is_supported() {
            return Err(StoreError::Other(
                "this platform cannot open this kind of Redis address: use redis://HOST[:PORT][/DB]".into(),
            ));
        }
        #[cfg(feature = "tls")]
        if matches!(info.addr(), ConnectionAddr::TcpTls { .. }) {
            // rustls needs a process-wide provider; ring is the workspace's. Already installed
            // (by us or the application) is fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP2);
        let info = info.set_redis_settings(settings);
        let client = Client::open(info).map_err(|e| StoreError::Other(e.to_string()))?;
        Ok(Self {
            client,
            io_timeout,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// `redis://[user@]host:port/db` (`rediss://` for TLS, `redis+unix://path?db=N` for a
    /// socket): how the store names itself, without the password.
    pub(crate) fn describe(&self) -> String {
        let info = self.client.get_connection_info();
        let settings = info.redis_settings();
        let user = settings
            .username()
            .map_or(String::new(), |u| format!("{u}@"));
        let db = settings.db();
        match info.addr() {
            ConnectionAddr::Tcp(host, port) => {
                format!("redis://{user}{}:{port}/{db}", bracket(host))
            }
            ConnectionAddr::TcpTls { host, port, .. } => {
                format!("rediss://{user}{}:{port}/{db}", bracket(host))
            }
            ConnectionAddr::Unix(path) => format!("redis+unix://{}?db={db}", path.display()),
            _ => format!("redis://(unknown address)/{db}"),
        }
    }

    /// An idle connection, or a new one; reads and writes on it give up after the I/O timeout.
    pub(crate) fn get(&self) -> Result<Connection, StoreError> {
        let reused = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        if let Some(con) = reused {
            if con.is_open() {
                return Ok(con);
            }
        }
        self.open()
    }

    /// A new connection (never a pooled one): for a subscriber, which cannot go back.
    pub(crate) fn open(&self) -> Result<Connection, StoreError> {
        let con = self
            .client
            .get_connection_with_timeout(self.io_timeout)
            .map_err(|e| {
                StoreError::Database(format!(
                    "cannot connect to Redis at {} ({}): check the URL, that the server runs and the password",
                    self.describe(),
                    e
                ))
            })?;
        con.set_read_timeout(Some(self.io_timeout)).map_err(db)?;
        con.set_write_timeout(Some(self.io_timeout)).map_err(db)?;
        Ok(con)
    }

    /// Give back a connection after a success (one that failed may hold half a reply).
    pub(crate) fn put(&self, con: Connection) {
        if !con.is_open() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(con);
        }
    }

    /// Run `op` on a pooled connection; the connection goes back only if `op` succeeded.
    pub(crate) fn with<T>(
        &self,
        op: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut con = self.get()?;
        let out = op(&mut con)?;
        self.put(con);
        Ok(out)
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// A Redis error as [`StoreError::Database`], or [`StoreError::ReadOnly`] from a read-only
/// replica. Its text already holds its cause's (Redis errors quote no values, so no token
/// reaches a message).
pub(crate) fn db(e: RedisError) -> StoreError {
    if e.code() == Some("READONLY") {
        return StoreError::ReadOnly(format!(
            "Redis refused a write ({e}): the URL names a read-only replica; point it at the primary"
        ));
    }
    StoreError::Database(format!("Redis: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_names_host_port_and_database_but_never_the_password() {
        let pool = Pool::new(
            "redis://:hunter2@cache.internal:6380/3",
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(pool.describe(), "redis://cache.internal:6380/3");
        let pool = Pool::new("redis://app:hunter2@[::1]/", Duration::from_secs(1)).unwrap();
        assert_eq!(pool.describe(), "redis://app@[::1]:6379/0");
    }

    #[test]
    fn a_malformed_url_says_how_to_write_one_without_echoing_it() {
        let Err(StoreError::Other(why)) =
            Pool::new("postgres://u:hunter2@db/x", Duration::from_secs(1))
        else {
            panic!("a postgres URL is not a Redis URL");
        };
        assert!(why.contains("redis://"), "{why}");
        assert!(!why.contains("hunter2"), "{why}");
    }

    #[test]
    fn a_read_only_replica_is_reported_as_a_store_that_cannot_be_written() {
        use redis::{ErrorKind, ServerErrorKind};
        let replica = RedisError::from((
            ErrorKind::Server(ServerErrorKind::ReadOnly),
            "You can't write against a read only replica.",
        ));
        assert!(matches!(db(replica), StoreError::ReadOnly(why) if why.contains("primary")));
        let other = RedisError::from((ErrorKind::Io, "connection reset"));
        assert!(matches!(db(other), StoreError::Database(_)));
    }

    #[cfg(not(feature = "tls"))]
    #[test]
    fn a_tls_url_without_the_tls_feature_says_which_feature_to_enable() {
        let Err(StoreError::Other(why)) =
            Pool::new("rediss://cache.internal/0", Duration::from_secs(1))
        else {
            panic!("rediss:// needs the tls feature");
        };
        assert!(why.contains("`tls` feature"), "{why}");
    }
}
