//! Store URLs: `sqlite:PATH` (the default), `file:PATH`, `postgres://…`, `mysql://…` and
//! `redis://…`. [`StoreUrl::parse`] is the parser the fuzz target [`crate::fuzz::store_url`]
//! drives: it must answer every input with `Ok` or `Err`, and never show a password.

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
    /// A Redis fleet store (`redis://`, `rediss://`, `redis+unix://`; same caveat), passed whole:
    /// the store reads host, port, database, password and `?prefix=NAME` itself.
    Redis(String),
}

/// The stores this build can open, for error messages.
pub const AVAILABLE: &str = "sqlite:PATH (default), file:PATH, postgres://USER@HOST[:PORT]/DB, \
mysql://USER@HOST[:PORT]/DB and redis://[:PASSWORD@]HOST[:PORT][/DB][?prefix=NAME]";

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
        if ["redis://", "rediss://", "redis+unix://"]
            .iter()
            .any(|scheme| lower.starts_with(scheme))
        {
            return Ok(Self::Redis(url.to_owned()));
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
            Self::Postgres(u) | Self::Mysql(u) | Self::Redis(u) => redact_url(u),
        }
    }
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreUrl({})", self.display())
    }
}

/// A URL with any `user:password@` part hidden, and the value of any query parameter whose name
/// holds `pass` (`?password=`, the Redis socket URLs' `?pass=`), for messages. Written for
/// hostile input too (a password holding `?`, `/` or `@` unencoded): it hides too much rather
/// than any part of a password.
fn redact_url(url: &str) -> String {
    // Only a real scheme (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`) is shown as
    // one: text before a `://` further on may be a query holding a password. Without a scheme,
    // a `user:password@` part is hidden all the same (a URL whose scheme was forgotten).
    let (scheme, body) = match url.find("://") {
        Some(s) if is_scheme(&url[..s]) => (&url[..s], &url[s + 3..]),
        _ => ("", url),
    };
    let mut out = if scheme.is_empty() {
        String::new()
    } else {
        format!("{scheme}://")
    };
    // The last `@` ends the user part even when a password holds `?` or `/`.
    let tail = match body.rfind('@') {
        None => body,
        Some(at) => {
            out.push_str("…@");
            let (hidden, tail) = (&body[..at], &body[at + 1..]);
            if hidden.contains('?') {
                // The `@` may stand inside a query value (`?pass=a@b`): hide the rest of it.
                out.push('…');
                tail.find('&').map_or("", |amp| &tail[amp..])
            } else {
                tail
            }
        }
    };
    out.push_str(&redact_query(tail));
    out
}

/// Whether `text` is a URL scheme: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// `text` with the value of every parameter whose name holds `pass` hidden. A parameter starts
/// at the beginning of `text`, after a `&` or after a `?`, and is `name=value`: what reaches a
/// `?` before any `=` is no parameter (a host or a path). A value runs to the next `?` (which may
/// start another parameter), a hidden one to the next `&`: a password may hold `?` and `=`, and
/// what follows its first `?` is hidden with it rather than shown.
fn redact_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, part) in text.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        let mut rest = part;
        loop {
            let (eq, q) = (rest.find('='), rest.find('?'));
            match (eq, q) {
                (Some(e), q) if q.is_none_or(|q| e < q) => {
                    let name = &rest[..e];
                    if name.to_ascii_lowercase().contains("pass") {
                        out.push_str(name);
                        out.push_str("=…");
                        break;
                    }
                    let Some(q) = q else {
                        out.push_str(rest);
                        break;
                    };
                    out.push_str(&rest[..=q]);
                    rest = &rest[q + 1..];
                }
                (_, Some(q)) => {
                    out.push_str(&rest[..=q]);
                    rest = &rest[q + 1..];
                }
                // No `=` and no `?` left.
                _ => {
                    out.push_str(rest);
                    break;
                }
            }
        }
    }
    out
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
        let e = StoreUrl::parse(Some("memcached://user:hunter2@host")).unwrap_err();
        assert!(!e.what.contains("hunter2"), "{}", e.what);
    }

    #[test]
    fn redis_urls_choose_the_redis_store_whole_and_never_display_their_password() {
        for url in [
            "redis://:pw@h/0",
            "REDIS://:pw@h:6380/2?prefix=billing",
            "rediss://user:pw@cache.internal",
            "redis+unix://:pw@/run/redis.sock",
        ] {
            let parsed = StoreUrl::parse(Some(url)).unwrap();
            assert_eq!(parsed, StoreUrl::Redis(url.to_owned()));
            assert!(!parsed.display().contains("pw"), "{}", parsed.display());
            assert!(!format!("{parsed:?}").contains("pw"));
        }
        let socket = StoreUrl::parse(Some("redis+unix:///run/r.sock?db=1&pass=pw")).unwrap();
        assert_eq!(socket.display(), "redis+unix:///run/r.sock?db=1&pass=…");
        let pg = StoreUrl::parse(Some("postgres://u@h/db?password=pw&sslmode=disable")).unwrap();
        assert_eq!(pg.display(), "postgres://…@h/db?password=…&sslmode=disable");
        assert!(StoreUrl::parse(Some("redis://h/0?prefix=app"))
            .unwrap()
            .display()
            .ends_with("?prefix=app"));
    }

    /// Found by the `store_url` fuzz target: text before a later `://` was shown as a scheme,
    /// query and all (`host?password=…\0memcached://h`); and a URL whose scheme was forgotten
    /// showed its `user:password@` part.
    #[test]
    fn a_password_before_a_false_scheme_or_without_a_scheme_is_not_displayed() {
        for url in [
            "host?password=Hunter2Secret\0memcached://zoh",
            "host?password=Hunter2Secret&x=a://b",
            "zoho:Hunter2Secret@db.internal/tokens",
            "zoho:Hunter2Secret@db/tokens?sslmode=disable://x",
        ] {
            let e = StoreUrl::parse(Some(url)).unwrap_err();
            assert!(
                !format!("{e} {e:?}").contains("Hunter2Secret"),
                "{url}: {e}"
            );
        }
        // A real scheme is still shown.
        let e = StoreUrl::parse(Some("memcached://u:Hunter2Secret@cache")).unwrap_err();
        assert!(e.to_string().contains("memcached://…@cache"), "{e}");
    }

    /// Found by the `store_url` and `config_file` fuzz targets: after a user part holding `?`,
    /// the parameters that follow were shown up to the next `?`, `pass` values included.
    #[test]
    fn pass_parameters_after_a_user_part_holding_a_question_mark_are_hidden() {
        for url in [
            "postgres://u:pw?x@h?a=1&pass=Hunter2Secret=?dl=2&pass=other",
            "p=st?gres://zoho://u:pw@db&\t\tpassword=st?Hunter2Secret&x=1",
            "&&s====9host?pass====9===Hunter2Secret/&hh",
        ] {
            let shown = match StoreUrl::parse(Some(url)) {
                Ok(u) => format!("{} {u:?}", u.display()),
                Err(e) => format!("{e} {e:?}"),
            };
            assert!(!shown.contains("Hunter2Secret"), "{url}: {shown}");
        }
    }

    proptest::proptest! {
        /// Whatever the text, parsing answers (never panics), and an error never quotes a
        /// password of it.
        #[test]
        fn any_text_parses_or_is_refused(text in "\\PC{0,80}") {
            let _ = StoreUrl::parse(Some(&text));
        }

        /// A password in the user part of a URL (even holding `?`, `/`, `#` or `@`) or in a
        /// `pass`/`password` query parameter is never displayed, whatever the store.
        #[test]
        fn a_password_is_never_displayed(
            scheme in proptest::sample::select(vec![
                "postgres", "postgresql", "mysql", "mariadb", "redis", "rediss", "redis+unix", "memcached",
            ]),
            user_password in "ZQ[A-Z?/#&=%:!@]{4,24}",
            query_password in "ZQ[A-Z?/#=%:!@]{4,24}",
            host in "[a-z0-9.]{0,20}",
            rest in proptest::sample::select(vec!["", "/0", "/db?sslmode=disable", "?prefix=app", "/0?db=1"]),
            in_query in proptest::bool::ANY,
        ) {
            let password = if in_query { &query_password } else { &user_password };
            let url = if in_query {
                format!("{scheme}://{host}{rest}{}pass={password}", if rest.contains('?') { "&" } else { "?" })
            } else {
                format!("{scheme}://user:{password}@{host}{rest}")
            };
            // Nor any part of it: its last four characters (only upper case and punctuation,
            // which nothing else in these URLs holds four of in a row).
            let tail = &password[password.len() - 4..];
            match StoreUrl::parse(Some(&url)) {
                Ok(parsed) => {
                    let shown = parsed.display();
                    proptest::prop_assert!(!shown.contains(tail), "{} shows {}", shown, tail);
                    let debug = format!("{parsed:?}");
                    proptest::prop_assert!(!debug.contains(tail), "{}", debug);
                }
                Err(e) => proptest::prop_assert!(!e.to_string().contains(tail), "{}", e),
            }
        }
    }
}
