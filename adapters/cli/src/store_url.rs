//! Store URLs: `sqlite:PATH` (the default), `file:PATH`; `postgres://…` and `mysql://…` are named but
//! not built in this release.

use std::path::PathBuf;

use crate::exit::CliError;

/// Which store, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// The embedded SQLite store at this path.
    Sqlite(PathBuf),
    /// The crash-safe single-file store at this path.
    File(PathBuf),
}

/// The stores this build can open, for error messages.
pub const AVAILABLE: &str = "sqlite:PATH (default) and file:PATH";

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
        let unavailable = [
            ("postgres://", "PostgreSQL"),
            ("postgresql://", "PostgreSQL"),
            ("mysql://", "MySQL"),
            ("mariadb://", "MySQL/MariaDB"),
        ];
        for (prefix, name) in unavailable {
            if lower.starts_with(prefix) {
                return Err(CliError::usage(
                    format!("the {name} store is not available in this build"),
                    format!("use one of the stores this build has: {AVAILABLE}"),
                ));
            }
        }
        Err(CliError::usage(
            format!("`{}` is not a store URL", redact_url(url)),
            format!("use one of: {AVAILABLE}"),
        ))
    }

    /// The URL as text (no secrets: these URLs are paths).
    pub fn display(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("sqlite:{}", p.display()),
            Self::File(p) => format!("file:{}", p.display()),
        }
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
    use crate::exit::Class;

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
    fn database_servers_are_a_usage_error_naming_the_available_stores() {
        for url in [
            "postgres://u:pw@db/zoho",
            "mysql://root@localhost/zohooauth",
        ] {
            let e = StoreUrl::parse(Some(url)).unwrap_err();
            assert_eq!(e.class, Class::Usage);
            assert!(e.what.contains("not available in this build"), "{}", e.what);
            assert!(e.todo.contains("sqlite:PATH"), "{}", e.todo);
        }
    }

    #[test]
    fn unknown_schemes_do_not_echo_passwords() {
        let e = StoreUrl::parse(Some("redis://user:hunter2@host")).unwrap_err();
        assert!(!e.what.contains("hunter2"), "{}", e.what);
    }
}
