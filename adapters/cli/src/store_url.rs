//! Store URLs: `sqlite:PATH` (the default), `file:PATH`, `postgres://…` and `mysql://…`.

use std::path::PathBuf;

use crate::exit::CliError;

/// Which store, and where. `Debug` shows what [`StoreUrl::display`] shows: no password.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// The embedded SQLite store at this path.
    Sqlite(PathBuf),
    /// The crash-safe single-file store at this path.
    File(PathBuf),
    /// A PostgreSQL fleet store (the URL may hold a password: never print it whole).
    Postgres(String),
    /// A MySQL/MariaDB fleet store on the official SDKs' `oauthtoken` table (same caveat).
    Mysql(String),
}

/// The stores this build can open, for error messages.
pub const AVAILABLE: &str =
    "sqlite:PATH (default), file:PATH, postgres://USER@HOST[:PORT]/DB and mysql://USER@HOST[:PORT]/DB";

/// The default SQLite file: `<platform data dir>/zoho-oauth/tokens.sqlite3`.
pub fn default_sqlite_path() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("zoho-oauth")
        .join("tokens.sqlite3")
}

impl StoreUrl {
    /// Parse a store URL; `None` or an empty `sqlite:` is the default SQLite file.
    pub fn parse(url: Option<&str>) -> Result<Self, CliError> {
        let Some(url) = url else {
            return Ok(Self::Sqlite(default_sqlite_path()));
        };
        let lower = url.to_ascii_lowercase();
        if let Some(path) = url
            .strip_prefix("sqlite:")
            .or_else(|| url.strip_prefix("sqlite3:"))
        {
            let path = path.strip_prefix("//").unwrap_or(path);
            return Ok(Self::Sqlite(if path.is_empty() {
                default_sqlite_path()
            } else {
                PathBuf::from(path)
            }));
        }
        if let Some(path) = url.strip_prefix("file:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(CliError::usage(
                    "the store URL `file:` has no path",
                    "write file:PATH, e.g. file:./tokens.zot",
                ));
            }
            return Ok(Self::File(PathBuf::from(path)));
        }
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
            // The mysql crate speaks one scheme for both servers.
            let rest = &url[url.find("://").unwrap_or(0)..];
            return Ok(Self::Mysql(format!("mysql{rest}")));
        }
        Err(CliError::usage(
            format!("`{}` is not a store URL", redact_url(url)),
            format!("use one of: {AVAILABLE}"),
        ))
    }

    /// The URL as text, with any `user:password@` part of a database URL hidden.
    pub fn display(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("sqlite:{}", p.display()),
            Self::File(p) => format!("file:{}", p.display()),
            Self::Postgres(u) | Self::Mysql(u) => redact_url(u),
        }
    }
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreUrl({})", self.display())
    }
}

/// A URL with any `user:password@` part hidden, for messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_and_file_urls_name_their_paths() {
        assert_eq!(
            StoreUrl::parse(Some("sqlite:/tmp/t.db")).unwrap(),
            StoreUrl::Sqlite("/tmp/t.db".into())
        );
        assert_eq!(
            StoreUrl::parse(Some("file:rel/t.zot")).unwrap(),
            StoreUrl::File("rel/t.zot".into())
        );
        assert_eq!(
            StoreUrl::parse(None).unwrap(),
            StoreUrl::Sqlite(default_sqlite_path())
        );
    }

    #[test]
    fn database_urls_choose_the_fleet_stores_and_never_display_their_password() {
        let pg = StoreUrl::parse(Some("postgres://u:pw@db/zoho")).unwrap();
        assert_eq!(pg, StoreUrl::Postgres("postgres://u:pw@db/zoho".into()));
        assert!(!pg.display().contains("pw"), "{}", pg.display());
        let my = StoreUrl::parse(Some("mariadb://root:pw@localhost/zohooauth")).unwrap();
        assert_eq!(
            my,
            StoreUrl::Mysql("mysql://root:pw@localhost/zohooauth".into())
        );
        assert!(!my.display().contains("pw"), "{}", my.display());
    }

    #[test]
    fn unknown_schemes_do_not_echo_passwords() {
        let e = StoreUrl::parse(Some("redis://user:hunter2@host")).unwrap_err();
        assert!(!e.what.contains("hunter2"), "{}", e.what);
    }
}
