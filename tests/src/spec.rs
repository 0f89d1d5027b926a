//! Naming a token store on a command line ([`StoreSpec`]), and a scratch store of each kind for one
//! test ([`Scratch`]): a temporary directory, a PostgreSQL schema, a MariaDB/MySQL database or a
//! Redis key prefix of its own, removed when the test ends.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use zoho_oauth::store::conformance::{connected_or_skip, scratch_name};
use zoho_oauth::{FileStore, StoreError, TokenStore};
use zoho_oauth_mysql::MysqlStore;
use zoho_oauth_postgres::PostgresStore;
use zoho_oauth_redis::RedisStore;
use zoho_oauth_sqlite::SqliteStore;

/// The query parameter of a Redis spec that sets the lease of its lock (not a parameter of the
/// store's URL: the spec strips it and passes it to [`RedisStore::builder`]).
const LEASE_PARAM: &str = "lease_ms";

/// A token store as a worker's command line names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// `file:PATH`: a [`FileStore`].
    File(PathBuf),
    /// `sqlite:PATH`: a [`SqliteStore`].
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`: a [`PostgresStore`] on that URL.
    Postgres(String),
    /// `mysql://…`: a [`MysqlStore`] on that URL.
    Mysql(String),
    /// `redis://…[?prefix=P][&lease_ms=N]`: a [`RedisStore`] on that URL (the prefix is the
    /// store's own URL parameter), with a lock lease of `N` ms (default
    /// [`RedisStore::DEFAULT_LEASE`]).
    Redis {
        /// The store's URL, without `lease_ms`.
        url: String,
        /// The lock lease, when not the default.
        lease: Option<Duration>,
    },
}

impl StoreSpec {
    /// Parses one of the forms of [`StoreSpec`].
    ///
    /// # Errors
    ///
    /// A message naming the accepted forms, for anything else.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let accepted = "file:PATH, sqlite:PATH, postgres://…, mysql://… or redis://…[?lease_ms=N]";
        if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            return Ok(Self::Postgres(spec.to_owned()));
        }
        if spec.starts_with("mysql://") {
            return Ok(Self::Mysql(spec.to_owned()));
        }
        if spec.starts_with("redis://") {
            return redis_spec(spec);
        }
        match spec.split_once(':') {
            Some(("file", path)) if !path.is_empty() => Ok(Self::File(path.into())),
            Some(("sqlite", path)) if !path.is_empty() => Ok(Self::Sqlite(path.into())),
            _ => Err(format!("store {spec:?} is not {accepted}")),
        }
    }

    /// Opens (connects to) the store.
    ///
    /// # Errors
    ///
    /// The store's own error (unreadable, foreign or corrupt file, unreachable server, …).
    pub fn open(&self) -> Result<Box<dyn TokenStore>, StoreError> {
        Ok(match self {
            Self::File(path) => Box::new(FileStore::open(path)?),
            Self::Sqlite(path) => Box::new(SqliteStore::open(path)?),
            Self::Postgres(url) => Box::new(PostgresStore::connect(url)?),
            Self::Mysql(url) => Box::new(MysqlStore::connect(url)?),
            Self::Redis { url, lease } => {
                let builder = RedisStore::builder(url.as_str());
                let builder = match lease {
                    Some(lease) => builder.lease(*lease),
                    None => builder,
                };
                Box::new(builder.connect()?)
            }
        })
    }

    /// How long a lock whose holder was SIGKILLed can stay held, as the store documents it: zero
    /// for the stores whose lock dies with its holder (a file lock, a database session), the
    /// lease for Redis (a lease outlives a holder that stopped renewing it by at most that).
    pub fn orphan_lock_bound(&self) -> Duration {
        match self {
            Self::Redis { lease, .. } => lease.unwrap_or(RedisStore::DEFAULT_LEASE),
            _ => Duration::ZERO,
        }
    }

    /// When a write under the store's lock becomes durable, as the store documents it.
    pub fn durability(&self) -> Durability {
        match self {
            Self::File(_) | Self::Redis { .. } => Durability::AtWrite,
            Self::Sqlite(_) | Self::Postgres(_) | Self::Mysql(_) => Durability::AtCommit,
        }
    }

    /// The kind of store: `file`, `sqlite`, `postgres`, `mysql` or `redis`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::File(_) => "file",
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
            Self::Mysql(_) => "mysql",
            Self::Redis { .. } => "redis",
        }
    }
}

fn redis_spec(spec: &str) -> Result<StoreSpec, String> {
    let Some((base, query)) = spec.split_once('?') else {
        return Ok(StoreSpec::Redis {
            url: spec.to_owned(),
            lease: None,
        });
    };
    let mut lease = None;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair
            .strip_prefix(LEASE_PARAM)
            .and_then(|p| p.strip_prefix('='))
        {
            Some(ms) => {
                let ms: u64 = ms
                    .parse()
                    .map_err(|_| format!("{LEASE_PARAM}={ms:?} is not a number of milliseconds"))?;
                lease = Some(Duration::from_millis(ms));
            }
            None => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok(StoreSpec::Redis { url, lease })
}

impl fmt::Display for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "file:{}", p.display()),
            Self::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            Self::Postgres(url) | Self::Mysql(url) => f.write_str(url),
            Self::Redis { url, lease: None } => f.write_str(url),
            Self::Redis {
                url,
                lease: Some(lease),
            } => {
                let sep = if url.contains('?') { '&' } else { '?' };
                write!(f, "{url}{sep}{LEASE_PARAM}={}", lease.as_millis())
            }
        }
    }
}

/// When a save or delete under a store's lock becomes durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// When the save or delete returns: the file store renames its new file into place, Redis
    /// runs its fenced write; the release only frees the lock.
    AtWrite,
    /// When the release commits: SQLite, PostgreSQL and MySQL write in the lock's transaction,
    /// which rolls back if the holder dies first.
    AtCommit,
}

/// The kinds of store a [`Scratch`] can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A [`FileStore`] in a temporary directory.
    File,
    /// A [`SqliteStore`] in a temporary directory.
    Sqlite,
    /// A [`PostgresStore`] in a schema of its own on `ZOHO_OAUTH_TEST_POSTGRES_URL`.
    Postgres,
    /// A [`MysqlStore`] in a database of its own on `ZOHO_OAUTH_TEST_MYSQL_URL`.
    Mysql,
    /// A [`RedisStore`] under a key prefix of its own on `ZOHO_OAUTH_TEST_REDIS_URL`.
    Redis,
}

const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";
const REDIS_URL: &str = "redis://127.0.0.1:6379/0";

/// A store of one kind that only this test uses, removed on drop: a temporary directory, a
/// PostgreSQL schema, a MariaDB/MySQL database or a Redis key prefix. The servers are those the
/// stores' own tests use (`ZOHO_OAUTH_TEST_{POSTGRES,MYSQL,REDIS}_URL`, defaults on 127.0.0.1).
pub struct Scratch {
    spec: StoreSpec,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin: postgres::Client,
        schema: String,
    },
    Mysql {
        admin: mysql::Conn,
        database: String,
    },
    Redis {
        admin: redis::Connection,
        prefix: String,
    },
}

impl Scratch {
    /// A scratch store of `kind`, with a Redis lock lease of `lease` (ignored for other kinds).
    ///
    /// `None` (after printing why) when the kind's server cannot be reached and `CI` is not
    /// `true`.
    ///
    /// # Panics
    ///
    /// When the server cannot be reached under `CI=true`, or refuses to make the scratch space.
    pub fn new(kind: Kind, lease: Option<Duration>) -> Option<Self> {
        let name = scratch_name();
        let (spec, cleanup) = match kind {
            Kind::File | Kind::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let spec = if kind == Kind::File {
                    StoreSpec::File(dir.path().join("tokens.store"))
                } else {
                    StoreSpec::Sqlite(dir.path().join("tokens.db"))
                };
                (spec, Cleanup::Dir(dir))
            }
            Kind::Postgres => {
                let base = env_url("ZOHO_OAUTH_TEST_POSTGRES_URL", POSTGRES_URL);
                let mut admin = connected_or_skip(
                    &format!("PostgreSQL at ZOHO_OAUTH_TEST_POSTGRES_URL (default {POSTGRES_URL})"),
                    postgres::Client::connect(&base, postgres::NoTls),
                )?;
                admin
                    .batch_execute(&format!(
                        "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
                    ))
                    .expect("create the scratch schema");
                let sep = if base.contains('?') { '&' } else { '?' };
                let url =
                    format!("{base}{sep}application_name=zo_e2e&options=-csearch_path%3D{name}");
                (
                    StoreSpec::Postgres(url),
                    Cleanup::Postgres {
                        admin,
                        schema: name,
                    },
                )
            }
            Kind::Mysql => {
                use mysql::prelude::Queryable;
                let base = env_url("ZOHO_OAUTH_TEST_MYSQL_URL", MYSQL_URL);
                let connected = mysql::Opts::from_url(&base)
                    .map_err(mysql::Error::from)
                    .and_then(mysql::Conn::new);
                let mut admin = connected_or_skip(
                    &format!("MySQL/MariaDB at ZOHO_OAUTH_TEST_MYSQL_URL (default {MYSQL_URL})"),
                    connected,
                )?;
                admin
                    .query_drop(format!("DROP DATABASE IF EXISTS {name}"))
                    .and_then(|()| admin.query_drop(format!("CREATE DATABASE {name}")))
                    .expect("create the scratch database");
                let server = base.rsplit_once('/').map_or(base.as_str(), |(s, _)| s);
                (
                    StoreSpec::Mysql(format!("{server}/{name}")),
                    Cleanup::Mysql {
                        admin,
                        database: name,
                    },
                )
            }
            Kind::Redis => {
                let base = env_url("ZOHO_OAUTH_TEST_REDIS_URL", REDIS_URL);
                let admin = connected_or_skip(
                    &format!("Redis at ZOHO_OAUTH_TEST_REDIS_URL (default {REDIS_URL})"),
                    redis::Client::open(base.as_str())
                        .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(5))),
                )?;
                let prefix = format!("zo-e2e:{name}");
                let sep = if base.contains('?') { '&' } else { '?' };
                (
                    StoreSpec::Redis {
                        url: format!("{base}{sep}prefix={prefix}"),
                        lease,
                    },
                    Cleanup::Redis { admin, prefix },
                )
            }
        };
        Some(Self { spec, cleanup })
    }

    /// The scratch store's spec, for workers and for [`StoreSpec::open`].
    pub fn spec(&self) -> &StoreSpec {
        &self.spec
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        match &mut self.cleanup {
            Cleanup::Dir(_) => {}
            Cleanup::Postgres { admin, schema } => {
                let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
            Cleanup::Mysql { admin, database } => {
                use mysql::prelude::Queryable;
                let _ = admin.query_drop(format!("DROP DATABASE IF EXISTS {database}"));
            }
            Cleanup::Redis { admin, prefix } => {
                // Every key of the store (credentials, leases) starts with its prefix.
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("{prefix}*"))
                    .query(admin)
                    .unwrap_or_default();
                if !keys.is_empty() {
                    let _ = redis::cmd("DEL").arg(keys).query::<()>(admin);
                }
            }
        }
    }
}

fn env_url(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_specs_name_a_kind_and_where_it_lives() {
        assert_eq!(
            StoreSpec::parse("file:/tmp/t.store"),
            Ok(StoreSpec::File("/tmp/t.store".into()))
        );
        assert_eq!(
            StoreSpec::parse("sqlite:t.db"),
            Ok(StoreSpec::Sqlite("t.db".into()))
        );
        assert_eq!(
            StoreSpec::parse("postgres://u@h/db?options=x"),
            Ok(StoreSpec::Postgres("postgres://u@h/db?options=x".into()))
        );
        assert_eq!(
            StoreSpec::parse("mysql://root@h:3306/db"),
            Ok(StoreSpec::Mysql("mysql://root@h:3306/db".into()))
        );
        for bad in ["t.db", "file:", "postgres:x", "", "redis://h?lease_ms=soon"] {
            assert!(StoreSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_redis_spec_carries_its_lease_beside_the_url_and_prints_back_the_same() {
        let spec = StoreSpec::parse("redis://h:6379/0?prefix=p&lease_ms=1500").unwrap();
        assert_eq!(
            spec,
            StoreSpec::Redis {
                url: "redis://h:6379/0?prefix=p".into(),
                lease: Some(Duration::from_millis(1500)),
            }
        );
        assert_eq!(spec.orphan_lock_bound(), Duration::from_millis(1500));
        for text in [
            "sqlite:/x/y.db",
            "redis://h/0",
            "redis://h/0?lease_ms=40",
            "redis://h/0?prefix=a%3Ab&lease_ms=40",
        ] {
            let spec = StoreSpec::parse(text).unwrap();
            assert_eq!(StoreSpec::parse(&spec.to_string()), Ok(spec), "{text}");
        }
        assert_eq!(
            StoreSpec::parse("redis://h/0").unwrap().orphan_lock_bound(),
            RedisStore::DEFAULT_LEASE
        );
    }
}
