//! Settings from three layers: flags win over the environment (both through clap), which wins over
//! the optional TOML config file.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use zoho_oauth_core::{DataCenter, Environment};

use crate::args::GlobalArgs;
use crate::exit::CliError;
use crate::store_url::StoreUrl;

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
}

/// The resolved settings of one run.
#[derive(Debug, Clone)]
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
}

impl Settings {
    /// The client id and secret, or a usage error naming the three places to set them.
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
        Ok((id, secret))
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
    let parsed: FileConfig = toml::from_str(&text).map_err(|e| {
        let msg = e.message().to_owned();
        CliError::usage(
            format!("the config file {} is not valid: {msg}", path.display()),
            "allowed keys: client_id, client_secret, dc, environment, accounts_url, user, store",
        )
    })?;
    if parsed.client_secret.is_some() && readable_by_others(&path) {
        crate::out::warn(format!(
            "the config file {} holds the client secret and is readable by other users: chmod 600 it",
            path.display()
        ));
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
    resolve_with(global, file)
}

/// Merge flags/environment (`global`) over `file`.
pub fn resolve_with(global: &GlobalArgs, file: FileConfig) -> Result<Settings, CliError> {
    let pick = |flag: &Option<String>, file: Option<String>| -> Option<String> {
        flag.clone()
            .filter(|s| !s.is_empty())
            .or(file.filter(|s| !s.is_empty()))
    };
    let dc_text = pick(&global.dc, file.dc);
    let data_center = match dc_text.as_deref() {
        None => DataCenter::Us,
        Some(t) => DataCenter::from_location(t)
            .or_else(|_| DataCenter::from_accounts_server(t))
            .map_err(|e| CliError::usage(format!("bad data centre `{t}`"), e.to_string()))?,
    };
    let env_text = pick(&global.environment, file.environment);
    let environment = match env_text.as_deref() {
        None => Environment::Production,
        Some(t) => Environment::from_name(t)
            .map_err(|e| CliError::usage(format!("bad environment `{t}`"), e.to_string()))?,
    };
    let store_text = pick(&global.store, file.store);
    Ok(Settings {
        client_id: pick(&global.client_id, file.client_id),
        client_secret: pick(&global.client_secret, file.client_secret),
        data_center,
        environment,
        accounts_url: pick(&global.accounts_url, file.accounts_url),
        user: pick(&global.user, file.user),
        store: StoreUrl::parse(store_text.as_deref())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let s = resolve_with(&global, file("in", "file@example.com")).unwrap();
        assert_eq!(s.data_center, DataCenter::Eu);
        assert_eq!(s.user.as_deref(), Some("file@example.com"));
        assert_eq!(s.client_id.as_deref(), Some("1000.FILE"));
    }

    #[test]
    fn defaults_are_us_production() {
        let s = resolve_with(&GlobalArgs::default(), FileConfig::default()).unwrap();
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
        let e = resolve_with(&global, FileConfig::default()).unwrap_err();
        assert_eq!(e.class, crate::exit::Class::Usage);
    }
}
