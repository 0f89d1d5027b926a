//! Settings from three layers: flags win over the environment (both through clap), which wins over
//! the optional TOML config file.
//!
//! A client may also hold the credentials of users homed in other data centres (Zoho's multi-DC),
//! opted into by a list of allowed centres (`--allowed-dcs`, `ZOHO_ALLOWED_DCS`, `allowed_dcs`),
//! each with its own client secret where the API console issued one (`ZOHO_CLIENT_SECRET_EU`,
//! `[client_secrets] eu = …`) and, for an emulator, its own accounts URL
//! (`ZOHO_ACCOUNTS_URL_EU`, `[accounts_urls] eu = …`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use zoho_oauth_core::{DataCenter, Environment, Origin};

use crate::args::GlobalArgs;
use crate::exit::CliError;
use crate::store_url::StoreUrl;
use crate::{human, input};

/// The config file's contents: every key optional, unknown keys refused (they are typos).
///
/// ```toml
/// client_id = "1000.ABC…"
/// client_secret = "…"
/// dc = "eu"
/// environment = "production"
/// user = "me@example.com"
/// store = "sqlite:/var/lib/zoho/tokens.sqlite3"
/// # accounts_url = "http://127.0.0.1:8080"
/// # lock_wait = "30s"
/// # request_timeout = "60s"
/// # allowed_dcs = ["us", "in"]          # multi-DC: users homed there too
/// # [client_secrets]                    # where the API console issued a secret per centre
/// # in = "…"
/// # [accounts_urls]                     # an emulator's centres
/// # in = "http://127.0.0.1:8081"
/// # [watch]                             # `zoho-oauth watch` (its flags win)
/// # parallel = 8
/// # metrics_addr = "127.0.0.1:9464"
/// # metrics_user_label = false
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// OAuth client id.
    pub client_id: Option<String>,
    /// OAuth client secret.
    pub client_secret: Option<String>,
    /// Data centre location code.
    pub dc: Option<String>,
    /// Environment name.
    pub environment: Option<String>,
    /// Custom accounts origin.
    pub accounts_url: Option<String>,
    /// Default user.
    pub user: Option<String>,
    /// Store URL.
    pub store: Option<String>,
    /// The longest wait for another holder of a credential's lock (`30s`).
    pub lock_wait: Option<String>,
    /// The longest one command may take talking to Zoho (`60s`).
    pub request_timeout: Option<String>,
    /// Other data centres whose users this client may hold (`["eu", "in"]` or `["all"]`).
    pub allowed_dcs: Option<Vec<String>>,
    /// A client secret per data centre (location code → secret).
    pub client_secrets: Option<BTreeMap<String, String>>,
    /// An accounts origin per data centre (location code → URL), for emulated centres.
    pub accounts_urls: Option<BTreeMap<String, String>>,
    /// The shortest time between two polls of a device login (`30s`, Zoho's rule; shorter only
    /// against a loopback emulator).
    pub device_poll_floor: Option<String>,
    /// `[watch]`: how `zoho-oauth watch` refreshes and reports.
    #[serde(default)]
    pub watch: WatchSettings,
}

/// The `[watch]` table: `zoho-oauth watch`'s defaults (its flags and environment win).
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchSettings {
    /// How many due credentials to refresh side by side (the library's default when absent).
    pub parallel: Option<usize>,
    /// Where to serve Prometheus metrics (`127.0.0.1:9464`); none when absent.
    pub metrics_addr: Option<String>,
    /// Whether metrics carry the `user` label (default true).
    pub metrics_user_label: Option<bool>,
}

/// The keys the config file allows, for its error message.
pub const FILE_KEYS: &str = "client_id, client_secret, dc, environment, accounts_url, user, store, \
lock_wait, request_timeout, allowed_dcs, device_poll_floor, and the tables [client_secrets], [accounts_urls] and \
[watch] (parallel, metrics_addr, metrics_user_label)";

/// Parse the config file's text (TOML). This is the parser the fuzz target
/// [`crate::fuzz::config_file`] drives: it must answer every input with `Ok` or `Err`.
pub fn parse_file(text: &str) -> Result<FileConfig, String> {
    toml::from_str(text).map_err(|e| without_strings(e.message()))
}

/// A parser message with the text of every quoted string value hidden: a value of the wrong
/// type is quoted by the parser (`invalid type: string "…", expected a map`), and it may be a
/// client secret in the wrong place.
fn without_strings(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find("string \"") {
        let open = start + "string \"".len();
        out.push_str(&rest[..open]);
        out.push('…');
        // The value ends at the last quote before the parser's own words resume.
        rest = match rest[open..].rfind('"') {
            Some(close) => &rest[open + close..],
            None => "\"",
        };
    }
    out.push_str(rest);
    out
}

/// Another data centre the client may hold credentials of.
#[derive(Clone, PartialEq, Eq)]
pub struct OtherDc {
    /// The data centre.
    pub data_center: DataCenter,
    /// Its own client secret, when the API console issued one (else the home secret is sent).
    pub client_secret: Option<String>,
    /// Its own accounts origin (an emulator's centre); `None`: Zoho's.
    pub accounts_url: Option<String>,
}

impl fmt::Debug for OtherDc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtherDc")
            .field("data_center", &self.data_center)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("accounts_url", &self.accounts_url)
            .finish()
    }
}

/// The resolved settings of one run. `Debug` hides the client secrets.
#[derive(Clone)]
pub struct Settings {
    /// OAuth client id, if configured anywhere.
    pub client_id: Option<String>,
    /// OAuth client secret, if configured anywhere. Never printed.
    pub client_secret: Option<String>,
    /// Data centre (default US).
    pub data_center: DataCenter,
    /// Environment (default production).
    pub environment: Environment,
    /// Custom accounts origin (emulator, test double).
    pub accounts_url: Option<String>,
    /// The user asked for, if any.
    pub user: Option<String>,
    /// Where tokens are stored.
    pub store: StoreUrl,
    /// The longest wait for another holder of a credential's lock.
    pub lock_wait: Duration,
    /// The longest one command may take talking to Zoho (lock waits, requests, retries).
    pub request_timeout: Duration,
    /// The other data centres this client may hold credentials of (empty: the home one only).
    pub other_dcs: Vec<OtherDc>,
    /// The shortest time between two polls of a device login (30 s unless an emulator's test
    /// shortens it).
    pub device_poll_floor: Duration,
    /// `watch`'s settings (the config file's `[watch]`, then its flags over them).
    pub watch: WatchSettings,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("data_center", &self.data_center)
            .field("environment", &self.environment)
            .field("accounts_url", &self.accounts_url)
            .field("user", &self.user)
            .field("store", &self.store)
            .field("lock_wait", &self.lock_wait)
            .field("request_timeout", &self.request_timeout)
            .field("other_dcs", &self.other_dcs)
            .field("device_poll_floor", &self.device_poll_floor)
            .field("watch", &self.watch)
            .finish()
    }
}

/// Default of [`Settings::lock_wait`].
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(30);
/// Default of [`Settings::request_timeout`].
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Default (and, against Zoho, minimum) of [`Settings::device_poll_floor`]: Zoho's rule.
pub const DEFAULT_DEVICE_POLL_FLOOR: Duration = Duration::from_secs(30);
/// The shortest [`Settings::device_poll_floor`] even against an emulator.
pub const MIN_DEVICE_POLL_FLOOR: Duration = Duration::from_millis(100);

impl Settings {
    /// The client id and secret, or a usage error naming the three places to set them (or
    /// saying what is wrong with the value given).
    pub fn client(&self) -> Result<(&str, &str), CliError> {
        let id = self.client_id.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| {
            CliError::usage(
                "no OAuth client id is configured",
                "set --client-id, ZOHO_CLIENT_ID or `client_id` in the config file (see `zoho-oauth --help`)",
            )
        })?;
        let secret = self
            .client_secret
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                CliError::usage(
                    "no OAuth client secret is configured",
                    "set ZOHO_CLIENT_SECRET or `client_secret` in the config file",
                )
            })?;
        input::token_text(input::CLIENT_ID, id)?;
        input::token_text(input::CLIENT_SECRET, secret)?;
        Ok((id.trim(), secret.trim()))
    }

    /// The home data centre's accounts origin: the configured URL, else Zoho's.
    pub fn accounts_origin(&self) -> Result<Origin, CliError> {
        match &self.accounts_url {
            None => Ok(Origin::Zoho(self.data_center)),
            Some(url) => Origin::custom(url).map_err(|e| {
                CliError::usage(
                    format!("the accounts URL `{}` is not usable: {e}", crate::out::clean(url)),
                    "write http(s)://HOST[:PORT] without a path (plain http only to a loopback host)",
                )
            }),
        }
    }

    /// The data centres credentials are kept for, for messages: `us`, or `us (and eu, in)`.
    pub fn data_centers_text(&self) -> String {
        if self.other_dcs.is_empty() {
            return self.data_center.to_string();
        }
        let others: Vec<&str> = self
            .other_dcs
            .iter()
            .map(|o| o.data_center.location_code())
            .collect();
        format!("{} (and {})", self.data_center, others.join(", "))
    }
}

/// The default config file: `<platform config dir>/zoho-oauth/config.toml`.
pub fn default_config_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("zoho-oauth").join("config.toml"))
}

/// Read the config file: the one named explicitly (must exist), else the default one if present.
pub fn load_file(explicit: Option<&Path>) -> Result<FileConfig, CliError> {
    let (path, must_exist) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => match default_config_path() {
            Some(p) => (p, false),
            None => return Ok(FileConfig::default()),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
            return Ok(FileConfig::default())
        }
        Err(e) => {
            return Err(CliError::usage(
                format!("cannot read the config file {}: {e}", path.display()),
                "fix the path given to --config / ZOHO_OAUTH_CONFIG, or create the file",
            ))
        }
    };
    tracing::debug!(path = %path.display(), "read config file");
    let parsed = parse_file(&text).map_err(|msg| {
        CliError::usage(
            format!("the config file {} is not valid: {msg}", path.display()),
            format!("allowed keys: {FILE_KEYS}"),
        )
    })?;
    let holds_secret = parsed.client_secret.is_some()
        || parsed
            .client_secrets
            .as_ref()
            .is_some_and(|m| !m.is_empty());
    if holds_secret && readable_by_others(&path) {
        crate::out::warn(
            format!(
                "the config file {} holds the client secret and is readable by other users",
                path.display()
            ),
            Some(&format!("chmod 600 {}", path.display())),
        );
    }
    Ok(parsed)
}

/// Whether group or others may read `path` (Unix permissions; never on other systems).
fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o044 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Merge flags/environment (`global`) over the config file.
pub fn resolve(global: &GlobalArgs) -> Result<Settings, CliError> {
    let file = load_file(global.config.as_deref())?;
    let mut settings = resolve_with(global, file, &|name| std::env::var(name).ok())?;
    if settings.client_secret.as_deref() == Some("-") {
        settings.client_secret = Some(input::read_stdin("client secret")?.trim().to_owned());
    }
    Ok(settings)
}

/// The environment variable of `prefix` for `dc`: `ZOHO_CLIENT_SECRET_EU`.
pub fn dc_variable(prefix: &str, dc: DataCenter) -> String {
    format!("{prefix}_{}", dc.location_code().to_ascii_uppercase())
}

/// Merge flags/environment (`global`) over `file`; `env` reads the per-data-centre variables
/// (`ZOHO_CLIENT_SECRET_EU`, `ZOHO_ACCOUNTS_URL_EU`), which clap does not know. Pure: it reads
/// no file and no standard input (a client secret given as `-` is read by [`resolve`]).
pub fn resolve_with(
    global: &GlobalArgs,
    file: FileConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, CliError> {
    let pick = |flag: &Option<String>, file: Option<String>| -> Option<String> {
        flag.clone()
            .filter(|s| !s.is_empty())
            .or(file.filter(|s| !s.is_empty()))
    };
    let dc_text = pick(&global.dc, file.dc);
    let data_center = match dc_text.as_deref() {
        None => DataCenter::Us,
        Some(t) => data_center("--dc", t)?,
    };
    let env_text = pick(&global.environment, file.environment);
    let environment = match env_text.as_deref() {
        None => Environment::Production,
        Some(t) => Environment::from_name(t).map_err(|e| {
            CliError::usage(
                format!("bad environment `{}`", crate::out::clean(t)),
                e.to_string(),
            )
        })?,
    };
    let store_text = pick(&global.store, file.store);
    let duration = |text: Option<String>, flag: &str, default: Duration| match text {
        None => Ok(default),
        Some(t) => human::parse_duration(&t)
            .map_err(|e| CliError::usage(format!("bad {flag}: {e}"), format!("e.g. {flag} 30s"))),
    };
    let user = pick(&global.user, file.user);
    if let Some(u) = &user {
        input::user_name(u, "--user, ZOHO_USER or `user` in the config file")?;
    }
    let per_dc_secrets = per_dc_table(file.client_secrets, "[client_secrets]")?;
    let per_dc_urls = per_dc_table(file.accounts_urls, "[accounts_urls]")?;
    // A centre's own value: its environment variable, else the file's table.
    let own = |prefix: &str, table: &BTreeMap<DataCenter, String>, dc: DataCenter| {
        env(&dc_variable(prefix, dc))
            .filter(|s| !s.is_empty())
            .or_else(|| table.get(&dc).cloned().filter(|s| !s.is_empty()))
    };
    // The home centre's secret and URL are the plain settings; its per-centre values stand in
    // only when those are missing.
    let client_secret = pick(&global.client_secret, file.client_secret)
        .or_else(|| own(SECRET_VARIABLE, &per_dc_secrets, data_center));
    let accounts_url = pick(&global.accounts_url, file.accounts_url)
        .or_else(|| own(URL_VARIABLE, &per_dc_urls, data_center));
    let allowed_text = match (&global.allowed_dcs, file.allowed_dcs) {
        (Some(flag), _) if !flag.is_empty() => Some(flag.clone()),
        (_, Some(list)) => Some(list.join(",")),
        _ => None,
    };
    let mut other_dcs = Vec::new();
    for dc in allowed_dcs(allowed_text.as_deref())? {
        if dc == data_center || other_dcs.iter().any(|o: &OtherDc| o.data_center == dc) {
            continue;
        }
        let client_secret = own(SECRET_VARIABLE, &per_dc_secrets, dc);
        if let Some(secret) = &client_secret {
            input::token_text(input::CLIENT_SECRET, secret).map_err(|mut e| {
                e.what = format!(
                    "{} ({} or [client_secrets] {dc})",
                    e.what,
                    dc_variable(SECRET_VARIABLE, dc)
                );
                e
            })?;
        }
        let url = own(URL_VARIABLE, &per_dc_urls, dc);
        if url.is_none() && accounts_url.is_some() {
            // Half emulated, half Zoho: the secrets of the real centres would leave for Zoho
            // while the home centre talks to a test server. Almost surely a mistake.
            return Err(CliError::usage(
                format!("data centre {dc} is allowed, but has no accounts URL while the home centre's is {}", crate::out::clean(accounts_url.as_deref().unwrap_or_default())),
                format!("set {} (or `{dc} = \"http://…\"` under [accounts_urls] in the config file), or do not allow {dc}", dc_variable(URL_VARIABLE, dc)),
            ));
        }
        if let Some(u) = &url {
            Origin::custom(u).map_err(|e| {
                CliError::usage(
                    format!("the accounts URL of data centre {dc} `{}` is not usable: {e}", crate::out::clean(u)),
                    "write http(s)://HOST[:PORT] without a path (plain http only to a loopback host)",
                )
            })?;
        }
        other_dcs.push(OtherDc {
            data_center: dc,
            client_secret: client_secret.map(|s| s.trim().to_owned()),
            accounts_url: url,
        });
    }
    let device_poll_floor = duration(
        pick(&global.device_poll_floor, file.device_poll_floor),
        "--device-poll-floor",
        DEFAULT_DEVICE_POLL_FLOOR,
    )?;
    if device_poll_floor < MIN_DEVICE_POLL_FLOOR {
        return Err(CliError::usage(
            format!(
                "a device poll floor of {} ms would poll without pause",
                device_poll_floor.as_millis()
            ),
            "give at least 100ms (and 30s, the default, against Zoho)",
        ));
    }
    if device_poll_floor < DEFAULT_DEVICE_POLL_FLOOR && !is_loopback(accounts_url.as_deref()) {
        return Err(CliError::usage(
            format!(
                "a device poll floor of {} is shorter than Zoho's 30 s rule",
                human::duration(device_poll_floor)
            ),
            "shorten it only against a local emulator (--accounts-url http://127.0.0.1:PORT); Zoho answers faster polls with slow_down",
        ));
    }
    Ok(Settings {
        client_id: pick(&global.client_id, file.client_id),
        client_secret,
        data_center,
        environment,
        accounts_url,
        user,
        store: StoreUrl::parse(store_text.as_deref())?,
        lock_wait: duration(
            pick(&global.lock_wait, file.lock_wait),
            "--lock-wait",
            DEFAULT_LOCK_WAIT,
        )?,
        request_timeout: duration(
            pick(&global.request_timeout, file.request_timeout),
            "--request-timeout",
            DEFAULT_REQUEST_TIMEOUT,
        )?,
        other_dcs,
        device_poll_floor,
        watch: file.watch,
    })
}

/// The prefix of the per-centre client secret variables (`ZOHO_CLIENT_SECRET_EU`).
pub const SECRET_VARIABLE: &str = "ZOHO_CLIENT_SECRET";
/// The prefix of the per-centre accounts URL variables (`ZOHO_ACCOUNTS_URL_EU`).
pub const URL_VARIABLE: &str = "ZOHO_ACCOUNTS_URL";

/// A data centre named in a setting: a location code (`eu`) or an accounts server URL.
fn data_center(setting: &str, text: &str) -> Result<DataCenter, CliError> {
    DataCenter::from_location(text.trim())
        .or_else(|_| DataCenter::from_accounts_server(text.trim()))
        .map_err(|e| {
            CliError::usage(
                format!("bad data centre `{}` in {setting}", crate::out::clean(text)),
                format!("{e}; the location codes are us, eu, in, au, jp, ca, sa, uk, cn"),
            )
        })
}

/// The allowed other centres: a list separated by commas or blanks, or `all`.
fn allowed_dcs(text: Option<&str>) -> Result<Vec<DataCenter>, CliError> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for part in text.split([',', ' ']).filter(|p| !p.is_empty()) {
        if part.eq_ignore_ascii_case("all") {
            out.extend(DataCenter::ALL);
        } else {
            out.push(data_center("--allowed-dcs", part)?);
        }
    }
    Ok(out)
}

/// A `[client_secrets]`/`[accounts_urls]` table keyed by data centre.
fn per_dc_table(
    table: Option<BTreeMap<String, String>>,
    name: &str,
) -> Result<BTreeMap<DataCenter, String>, CliError> {
    table
        .unwrap_or_default()
        .into_iter()
        .map(|(dc, value)| {
            Ok((
                data_center(&format!("{name} of the config file"), &dc)?,
                value,
            ))
        })
        .collect()
}

/// Whether `url` is an accounts origin on a loopback host (an emulator).
fn is_loopback(url: Option<&str>) -> bool {
    url.is_some_and(|u| zoho_oauth_core::url::parse(u).is_ok_and(|p| p.host.is_loopback()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn parsed(text: &str) -> FileConfig {
        parse_file(text).unwrap()
    }

    fn file(dc: &str, user: &str) -> FileConfig {
        FileConfig {
            dc: Some(dc.into()),
            user: Some(user.into()),
            client_id: Some("1000.FILE".into()),
            ..FileConfig::default()
        }
    }

    #[test]
    fn flags_and_environment_win_over_the_file() {
        let global = GlobalArgs {
            dc: Some("eu".into()),
            ..GlobalArgs::default()
        };
        let s = resolve_with(&global, file("in", "file@example.com"), &no_env).unwrap();
        assert_eq!(s.data_center, DataCenter::Eu);
        assert_eq!(s.user.as_deref(), Some("file@example.com"));
        assert_eq!(s.client_id.as_deref(), Some("1000.FILE"));
    }

    #[test]
    fn defaults_are_us_production() {
        let s = resolve_with(&GlobalArgs::default(), FileConfig::default(), &no_env).unwrap();
        assert_eq!(s.data_center, DataCenter::Us);
        assert_eq!(s.environment, Environment::Production);
        assert!(s.client().is_err());
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        assert!(toml::from_str::<FileConfig>("client_idd = \"x\"").is_err());
        let ok: FileConfig = toml::from_str("dc = \"jp\"\nstore = \"file:/tmp/t\"").unwrap();
        assert_eq!(ok.dc.as_deref(), Some("jp"));
    }

    #[test]
    fn a_bad_data_centre_is_a_usage_error() {
        let global = GlobalArgs {
            dc: Some("mars".into()),
            ..GlobalArgs::default()
        };
        let e = resolve_with(&global, FileConfig::default(), &no_env).unwrap_err();
        assert_eq!(e.class, crate::exit::Class::Usage);
    }

    #[test]
    fn allowed_data_centres_take_their_secret_and_url_from_the_environment_before_the_file() {
        let file = parsed(
            "accounts_url = \"http://127.0.0.1:9000\"\nallowed_dcs = [\"eu\", \"in\"]\n\
             [client_secrets]\neu = \"file-eu-secret\"\nin = \"file-in-secret\"\n\
             [accounts_urls]\neu = \"http://127.0.0.1:9001\"\nin = \"http://127.0.0.1:9002\"\n",
        );
        let env =
            |name: &str| (name == "ZOHO_CLIENT_SECRET_EU").then(|| "env-eu-secret".to_owned());
        let s = resolve_with(&GlobalArgs::default(), file, &env).unwrap();
        assert_eq!(
            s.other_dcs,
            vec![
                OtherDc {
                    data_center: DataCenter::Eu,
                    client_secret: Some("env-eu-secret".into()),
                    accounts_url: Some("http://127.0.0.1:9001".into()),
                },
                OtherDc {
                    data_center: DataCenter::In,
                    client_secret: Some("file-in-secret".into()),
                    accounts_url: Some("http://127.0.0.1:9002".into()),
                },
            ]
        );
        assert_eq!(s.data_centers_text(), "us (and eu, in)");
    }

    #[test]
    fn the_flag_list_wins_over_the_file_and_all_allows_every_other_centre_once() {
        let global = GlobalArgs {
            allowed_dcs: Some("all,eu".into()),
            dc: Some("eu".into()),
            ..GlobalArgs::default()
        };
        let s = resolve_with(&global, parsed("allowed_dcs = [\"in\"]"), &no_env).unwrap();
        let dcs: Vec<DataCenter> = s.other_dcs.iter().map(|o| o.data_center).collect();
        let expected: Vec<DataCenter> = DataCenter::ALL
            .into_iter()
            .filter(|dc| *dc != DataCenter::Eu)
            .collect();
        assert_eq!(dcs, expected);
        assert!(s.other_dcs.iter().all(|o| o.client_secret.is_none()));
    }

    #[test]
    fn without_an_allowed_list_per_centre_values_allow_nothing() {
        let env = |_: &str| Some("some-secret".to_owned());
        let s = resolve_with(
            &GlobalArgs::default(),
            parsed("[client_secrets]\neu = \"x\""),
            &env,
        )
        .unwrap();
        assert!(s.other_dcs.is_empty());
    }

    #[test]
    fn the_home_centres_own_secret_stands_in_only_when_the_plain_one_is_missing() {
        let env = |name: &str| (name == "ZOHO_CLIENT_SECRET_EU").then(|| "eu-own".to_owned());
        let eu = GlobalArgs {
            dc: Some("eu".into()),
            ..GlobalArgs::default()
        };
        let s = resolve_with(&eu, FileConfig::default(), &env).unwrap();
        assert_eq!(s.client_secret.as_deref(), Some("eu-own"));
        let with_plain = GlobalArgs {
            client_secret: Some("plain".into()),
            ..eu
        };
        let s = resolve_with(&with_plain, FileConfig::default(), &env).unwrap();
        assert_eq!(s.client_secret.as_deref(), Some("plain"));
    }

    #[test]
    fn an_emulated_home_with_a_real_other_centre_is_a_usage_error_naming_the_variable() {
        let global = GlobalArgs {
            accounts_url: Some("http://127.0.0.1:9000".into()),
            allowed_dcs: Some("eu".into()),
            ..GlobalArgs::default()
        };
        let e = resolve_with(&global, FileConfig::default(), &no_env).unwrap_err();
        assert_eq!(e.class, crate::exit::Class::Usage);
        assert!(e.todo.contains("ZOHO_ACCOUNTS_URL_EU"), "{}", e.todo);
    }

    #[test]
    fn bad_allowed_centres_and_per_centre_values_are_usage_errors_that_do_not_show_secrets() {
        for (global, file, env_secret) in [
            (Some("eu,mars"), "", None),
            (
                None,
                "allowed_dcs = [\"eu\"]\n[client_secrets]\nmars = \"x\"",
                None,
            ),
            (Some("eu"), "", Some("has a blank hunter2")),
            (Some("eu"), "[accounts_urls]\neu = \"ftp://h\"", None),
        ] {
            let global = GlobalArgs {
                allowed_dcs: global.map(str::to_owned),
                ..GlobalArgs::default()
            };
            let env = |name: &str| {
                (name == "ZOHO_CLIENT_SECRET_EU")
                    .then_some(env_secret)
                    .flatten()
                    .map(str::to_owned)
            };
            let e = resolve_with(&global, parsed(file), &env).unwrap_err();
            assert_eq!(e.class, crate::exit::Class::Usage, "{e}");
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn a_device_poll_floor_under_zohos_30_s_is_refused_unless_the_accounts_origin_is_loopback() {
        let global = GlobalArgs {
            device_poll_floor: Some("1s".into()),
            ..GlobalArgs::default()
        };
        let e = resolve_with(&global, FileConfig::default(), &no_env).unwrap_err();
        assert!(e.what.contains("shorter than Zoho's 30 s"), "{}", e.what);
        let emulated = GlobalArgs {
            accounts_url: Some("http://127.0.0.1:8080".into()),
            ..global.clone()
        };
        let s = resolve_with(&emulated, FileConfig::default(), &no_env).unwrap();
        assert_eq!(s.device_poll_floor, Duration::from_secs(1));
        let busy = GlobalArgs {
            device_poll_floor: Some("0s".into()),
            ..emulated.clone()
        };
        let e = resolve_with(&busy, FileConfig::default(), &no_env).unwrap_err();
        assert!(e.todo.contains("at least 100ms"), "{}", e.todo);
        let s = resolve_with(
            &GlobalArgs::default(),
            parsed("device_poll_floor = \"45s\""),
            &no_env,
        )
        .unwrap();
        assert_eq!(s.device_poll_floor, Duration::from_secs(45));
        assert_eq!(
            resolve_with(&GlobalArgs::default(), FileConfig::default(), &no_env)
                .unwrap()
                .device_poll_floor,
            DEFAULT_DEVICE_POLL_FLOOR
        );
    }

    #[test]
    fn debug_output_hides_every_client_secret() {
        let global = GlobalArgs {
            client_secret: Some("home-hunter2".into()),
            allowed_dcs: Some("eu".into()),
            ..GlobalArgs::default()
        };
        let env = |name: &str| (name == "ZOHO_CLIENT_SECRET_EU").then(|| "eu-hunter2".to_owned());
        let s = resolve_with(&global, FileConfig::default(), &env).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn a_secret_in_a_value_of_the_wrong_type_is_not_quoted_by_the_parse_error() {
        let e = parse_file("client_secrets = \"hunter2\"").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.contains("invalid type"), "{e}");
    }

    proptest::proptest! {
        /// Whatever the text, the config file parses or is refused (never a panic), and its
        /// error never quotes a client secret put in a key of the wrong type.
        #[test]
        fn any_text_is_parsed_or_refused(text in "\\PC{0,200}") {
            let _ = crate::fuzz::config_file(&text);
        }

        /// The client secrets of a config file never reach `Debug` or an error.
        #[test]
        fn client_secrets_are_never_shown(
            secret in "Zq[A-Za-z0-9._-]{4,40}",
            eu in "Zq[A-Za-z0-9._-]{4,40}",
            wrong_type in proptest::bool::ANY,
        ) {
            let text = if wrong_type {
                format!("client_secrets = \"{eu}\"")
            } else {
                format!("client_secret = \"{secret}\"\nallowed_dcs = [\"eu\"]\n[client_secrets]\neu = \"{eu}\"")
            };
            match crate::fuzz::config_file(&text) {
                Ok(settings) => {
                    let shown = format!("{settings:?}");
                    proptest::prop_assert!(!shown.contains(&secret) && !shown.contains(&eu), "{shown}");
                }
                Err(e) => {
                    let shown = e.to_string();
                    proptest::prop_assert!(!shown.contains(&eu), "{shown}");
                }
            }
        }
    }
}
