//! The command line: global flags and subcommands, as clap parses them.
//!
//! Every global flag is `global = true`, so it is accepted before or after the subcommand. Values
//! not given on the command line fall back to the `ZOHO_*` environment variables (clap's `env`), and
//! what is still missing falls back to the config file (see `config.rs`).

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

/// `zoho-oauth`: get, keep and use Zoho OAuth tokens from the command line.
#[derive(Debug, Parser)]
#[command(
    name = "zoho-oauth",
    version,
    about = "Get, keep fresh and use Zoho OAuth 2.0 tokens",
    long_about = "Get, keep fresh and use Zoho OAuth 2.0 tokens.\n\n\
Configuration: flags win over the environment (ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_DC, \
ZOHO_ENVIRONMENT, ZOHO_ACCOUNTS_URL, ZOHO_USER, ZOHO_OAUTH_STORE, ZOHO_OAUTH_LOCK_WAIT, ZOHO_OAUTH_TIMEOUT, \
ZOHO_ALLOWED_DCS), which wins over the config file (<config dir>/zoho-oauth/config.toml, or --config PATH). \
Multi-DC: with ZOHO_ALLOWED_DCS=eu,in the client also holds users homed there, each centre with its own \
secret in ZOHO_CLIENT_SECRET_EU (where the API console issued one) and, for an emulator, its own \
ZOHO_ACCOUNTS_URL_EU. \
NO_COLOR=1 turns colours off; progress lines appear only on a terminal.\n\n\
First time? Run `zoho-oauth demo`: it walks the whole token lifecycle against a local emulator.",
    after_help = "Exit codes: 0 ok, 2 usage or bad input, 3 needs re-authorization, 4 throttled, \
5 network or server failure (or a lock held too long), 1 anything else.\n\n\
Secrets (grant and refresh tokens, the client secret) are best given as `-` on standard input, \
in their environment variable, or typed at the prompt: flags show up in `ps` and shell history."
)]
pub struct Cli {
    /// Flags every subcommand accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted before or after any subcommand.
#[derive(Debug, Args, Default, Clone)]
pub struct GlobalArgs {
    /// Token store URL: sqlite:PATH (default: the platform data dir), file:PATH,
    /// postgres://USER@HOST[:PORT]/DB, mysql://USER@HOST[:PORT]/DB or
    /// redis://[:PASSWORD@]HOST[:PORT][/DB][?prefix=NAME].
    #[arg(long, global = true, env = "ZOHO_OAUTH_STORE", value_name = "URL")]
    pub store: Option<String>,
    /// The user (e-mail) whose credential to use; default: the only stored one.
    #[arg(long, global = true, env = "ZOHO_USER", value_name = "EMAIL")]
    pub user: Option<String>,
    /// Data centre: us, eu, in, au, jp, ca, sa, uk, cn (default us).
    #[arg(long, global = true, env = "ZOHO_DC", value_name = "DC")]
    pub dc: Option<String>,
    /// Environment: production, sandbox or developer (default production).
    #[arg(long, global = true, env = "ZOHO_ENVIRONMENT", value_name = "ENV")]
    pub environment: Option<String>,
    /// Send every accounts call to this origin instead of Zoho's (e.g. the emulator).
    #[arg(long, global = true, env = "ZOHO_ACCOUNTS_URL", value_name = "URL")]
    pub accounts_url: Option<String>,
    /// OAuth client id from the API console.
    #[arg(long, global = true, env = "ZOHO_CLIENT_ID", value_name = "ID")]
    pub client_id: Option<String>,
    /// OAuth client secret; `-` reads it from stdin (prefer ZOHO_CLIENT_SECRET, the config file or
    /// `-`: flags show up in `ps` and shell history).
    #[arg(
        long,
        global = true,
        env = "ZOHO_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub client_secret: Option<String>,
    /// Config file (default: <config dir>/zoho-oauth/config.toml).
    #[arg(long, global = true, env = "ZOHO_OAUTH_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Print data as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// More log output on stderr (-v info, -vv debug, -vvv trace). Never shows secrets.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Append log output to this file (created with mode 0600) instead of stderr.
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// The longest to wait for another process holding a credential's lock (default 30s); a
    /// command that only needs a token and has a valid one never waits.
    #[arg(
        long,
        global = true,
        env = "ZOHO_OAUTH_LOCK_WAIT",
        value_name = "DURATION"
    )]
    pub lock_wait: Option<String>,
    /// The longest one command may take talking to Zoho, waits and retries included (default 60s).
    #[arg(
        long,
        global = true,
        env = "ZOHO_OAUTH_TIMEOUT",
        value_name = "DURATION"
    )]
    pub request_timeout: Option<String>,
    /// Other data centres whose users this client may hold (Zoho's multi-DC), comma separated, or
    /// `all`; each with its own secret in ZOHO_CLIENT_SECRET_<DC> where the API console issued
    /// one. A login whose user lives in a centre not allowed is refused before any secret is sent.
    #[arg(long, global = true, env = "ZOHO_ALLOWED_DCS", value_name = "DC,DC")]
    pub allowed_dcs: Option<String>,
    /// The shortest time between two polls of `login --device` (default and minimum against Zoho
    /// 30s; shorter only against a loopback emulator, for tests).
    #[arg(
        long,
        global = true,
        hide = true,
        env = "ZOHO_OAUTH_DEVICE_POLL_FLOOR",
        value_name = "DURATION"
    )]
    pub device_poll_floor: Option<String>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Exchange a Self Client grant token for tokens and store them.
    #[command(
        after_help = "Examples:\n  zoho-oauth exchange                              # asks for the grant token (typing is not shown)\n  \
pbpaste | zoho-oauth exchange --grant-token -    # or from standard input\n  \
ZOHO_GRANT_TOKEN=\"$CODE\" zoho-oauth exchange     # or from the environment\n\n\
Without --user the e-mail is learned from /oauth/user/info (scope aaaserver.profile.READ); \
otherwise the credential is stored under `default`."
    )]
    Exchange(ExchangeArgs),
    /// Store a refresh token obtained elsewhere.
    #[command(
        name = "add-refresh-token",
        after_help = "Example:\n  zoho-oauth add-refresh-token --user me@example.com   # asks for the refresh token\n  \
zoho-oauth add-refresh-token --user me@example.com --refresh-token - < rt.txt"
    )]
    AddRefreshToken(AddRefreshTokenArgs),
    /// "Login with Zoho" in a browser, through a loopback redirect listener (PKCE on), or with
    /// `--device` on any other device by entering a code.
    #[command(
        after_help = "Examples:\n  zoho-oauth login --scope ZohoCRM.modules.ALL\n  \
zoho-oauth login --device                         # prints a URL, a code (and a QR code); approve on any device\n\n\
The redirect URI (default http://127.0.0.1:8765/callback) must be registered for the client \
in Zoho's API console. The browser login sends a PKCE (S256) challenge unless --no-pkce. \
The device login polls at most once per 30 s (Zoho's rule) until you approve, deny, or the code \
expires (about 5 minutes); a denial or an expiry exits 3."
    )]
    Login(LoginArgs),
    /// Store a client-credentials credential (a back-end job's: no person, no refresh token).
    #[command(
        name = "add-client-credentials",
        after_help = "Example:\n  zoho-oauth add-client-credentials --soid ZohoCRM.600001234 --scope ZohoCRM.modules.ALL\n\n\
The credential is stored under --user NAME (default: the soid) and its first access token is \
asked for at once with the client id and secret; later ones whenever it is due (there is no \
refresh token). `token`, `header`, `api`, `status` and `watch` work on it like on any other."
    )]
    AddClientCredentials(AddClientCredentialsArgs),
    /// Print a valid access token (refreshing it if needed).
    #[command(
        after_help = "Example:\n  curl -H \"Authorization: Zoho-oauthtoken $(zoho-oauth token)\" https://www.zohoapis.com/crm/v8/users"
    )]
    Token,
    /// Print the whole `Authorization: Zoho-oauthtoken …` header line.
    #[command(
        after_help = "Example:\n  curl -H \"$(zoho-oauth header)\" https://www.zohoapis.com/crm/v8/users"
    )]
    Header,
    /// Show every stored credential: user, data centre, expiry, mint budget.
    #[command(after_help = "Example:\n  zoho-oauth status --json")]
    Status,
    /// Refresh the access token now if it is due (or always with --force).
    #[command(after_help = "Example:\n  zoho-oauth refresh --force")]
    Refresh(RefreshArgs),
    /// Revoke the refresh token at Zoho and delete it locally.
    #[command(after_help = "Example:\n  zoho-oauth revoke --user me@example.com")]
    Revoke,
    /// Delete a credential from the store only (Zoho is not asked): for a damaged entry, or a
    /// credential revoked elsewhere.
    #[command(after_help = "Example:\n  zoho-oauth delete --user me@example.com\n\n\
The refresh token stays valid at Zoho: use `revoke` to kill it there too.")]
    Delete,
    /// Make an authenticated API call at the token's api_domain.
    #[command(
        after_help = "Examples:\n  zoho-oauth api GET '/crm/v8/users?type=CurrentUser'\n  \
zoho-oauth api POST /crm/v8/Leads --data '{\"data\":[{\"Last_Name\":\"Doe\"}]}'"
    )]
    Api(ApiArgs),
    /// Import credentials from the official SDKs' CSV token file.
    #[command(after_help = "Example:\n  zoho-oauth import csv:./sdk_tokens.txt")]
    Import(TransferArgs),
    /// Export stored credentials to the official SDKs' CSV token file.
    #[command(after_help = "Example:\n  zoho-oauth export csv:./sdk_tokens.txt")]
    Export(TransferArgs),
    /// Run the bundled Zoho accounts emulator in the foreground.
    #[command(after_help = "Example:\n  zoho-oauth emulator --port 8080\n  \
ZOHO_ACCOUNTS_URL=http://127.0.0.1:8080 zoho-oauth status")]
    Emulator(EmulatorArgs),
    /// Keep every stored credential fresh until Ctrl-C, with a live status line.
    #[command(after_help = "Examples:\n  zoho-oauth watch\n  \
zoho-oauth watch --parallel 16 --metrics-addr 127.0.0.1:9464   # Prometheus scrapes /metrics\n\n\
Several watchers may share one fleet store (postgres://, mysql://): the store's lock keeps them \
from refreshing a credential twice, so they split the work.")]
    Watch(WatchArgs),
    /// Walk the whole token lifecycle against an in-process emulator (start here).
    #[command(after_help = "Example:\n  zoho-oauth demo")]
    Demo,
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  zoho-oauth completions bash > ~/.local/share/bash-completion/completions/zoho-oauth\n  \
zoho-oauth completions zsh > \"${fpath[1]}/_zoho-oauth\"\n  \
zoho-oauth completions fish > ~/.config/fish/completions/zoho-oauth.fish"
    )]
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write one per subcommand into a directory.
    #[command(
        after_help = "Examples:\n  zoho-oauth man | man -l -\n  zoho-oauth man --dir /usr/local/share/man/man1"
    )]
    Man(ManArgs),
}

/// `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `zoho-oauth.1` and `zoho-oauth-<subcommand>.1` into this directory instead.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `exchange`.
#[derive(Debug, Args)]
pub struct ExchangeArgs {
    /// The grant token (code) from the API console's Self Client; `-` reads it from stdin;
    /// without it, it is asked for (prefer `-`, ZOHO_GRANT_TOKEN or the prompt: flags show up in
    /// `ps` and shell history).
    #[arg(
        long,
        value_name = "CODE",
        env = "ZOHO_GRANT_TOKEN",
        hide_env_values = true
    )]
    pub grant_token: Option<String>,
    /// The redirect URI the code was issued for (web-flow codes only).
    #[arg(long, value_name = "URI")]
    pub redirect_uri: Option<String>,
}

/// `add-refresh-token`.
#[derive(Debug, Args)]
pub struct AddRefreshTokenArgs {
    /// The refresh token; `-` reads it from stdin; without it, it is asked for (prefer `-`,
    /// ZOHO_REFRESH_TOKEN or the prompt: flags show up in `ps` and shell history).
    #[arg(
        long,
        value_name = "RT",
        env = "ZOHO_REFRESH_TOKEN",
        hide_env_values = true
    )]
    pub refresh_token: Option<String>,
}

/// `login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Scopes, comma separated (aaaserver.profile.READ is added to learn the user).
    #[arg(
        long,
        value_name = "A,B",
        default_value = "ZohoCRM.modules.ALL,ZohoCRM.users.READ"
    )]
    pub scope: String,
    /// Port of the loopback listener (0 picks a free one).
    #[arg(long, value_name = "P", default_value_t = 8765)]
    pub port: u16,
    /// Redirect URI registered in the API console (a loopback http URL; its port wins over --port).
    #[arg(long, value_name = "URI")]
    pub redirect_uri: Option<String>,
    /// Do not try to open a browser; just print the URL.
    #[arg(long)]
    pub no_browser: bool,
    /// How long to wait for the redirect: 300, 300s, 5m, 1h.
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub timeout: String,
    /// Use the device flow: print a URL and a code (and a QR code on a terminal), approve on any
    /// device, and the credential is stored here. No browser, listener or redirect URI needed.
    #[arg(
        long,
        conflicts_with_all = ["redirect_uri", "no_browser", "pkce", "no_pkce", "port", "timeout"]
    )]
    pub device: bool,
    /// Send a PKCE (S256) challenge with the browser login: the default, accepted to say so.
    #[arg(long, overrides_with = "no_pkce")]
    pub pkce: bool,
    /// Do not send a PKCE challenge (only for a client that refuses one).
    #[arg(long, overrides_with = "pkce")]
    pub no_pkce: bool,
}

/// `add-client-credentials`.
#[derive(Debug, Args)]
pub struct AddClientCredentialsArgs {
    /// The organisation, as Zoho's `soid`: `<service>.<org id>`, e.g. ZohoCRM.600001234 (needed
    /// when the client reaches several orgs).
    #[arg(long, value_name = "SERVICE.ORG")]
    pub soid: Option<String>,
    /// Scopes, comma separated, e.g. ZohoCRM.modules.ALL.
    #[arg(long, value_name = "A,B")]
    pub scope: String,
}

/// `refresh`.
#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Refresh even if the access token is still fresh (the mint budget still applies).
    #[arg(long)]
    pub force: bool,
}

/// `api`.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// GET, POST, PUT, PATCH or DELETE.
    #[arg(value_name = "METHOD")]
    pub method: String,
    /// A path at the api_domain (`/crm/v8/users`) or an absolute URL on it.
    #[arg(value_name = "PATH")]
    pub path: String,
    /// JSON request body; `@FILE` reads a file, `-` reads stdin.
    #[arg(long, value_name = "JSON")]
    pub data: Option<String>,
    /// The largest response body to read, in bytes (suffixes K and M: 512K, 16M).
    #[arg(long, value_name = "BYTES", default_value = "16M")]
    pub max_body: String,
}

/// `import` / `export`.
#[derive(Debug, Args)]
pub struct TransferArgs {
    /// `csv:PATH`: the official SDKs' token file.
    #[arg(value_name = "csv:PATH")]
    pub target: String,
}

/// `watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// How many due credentials to refresh side by side (1-256; default 8, or `parallel` in the
    /// config file's `[watch]`).
    #[arg(long, value_name = "N", env = "ZOHO_OAUTH_PARALLEL")]
    pub parallel: Option<usize>,
    /// Serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9464; port 0 picks a
    /// free one, printed at start).
    #[arg(long, value_name = "ADDR", env = "ZOHO_OAUTH_METRICS_ADDR")]
    pub metrics_addr: Option<String>,
    /// Leave the user's e-mail out of metric labels (one series per data centre and environment,
    /// showing the credential closest to expiry).
    #[arg(long)]
    pub no_user_label: bool,
}

/// `emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Port of the (first) emulated data centre; 0 picks a free one.
    #[arg(long, value_name = "P", default_value_t = 8080)]
    pub port: u16,
    /// Data centres to emulate, comma separated (the next ones listen on the following ports);
    /// the default client is enabled in each (multi-DC).
    #[arg(long = "emulate-dcs", value_name = "DC,DC", default_value = "us")]
    pub data_centers: String,
    /// Show Zoho's consent page (Accept/Deny) at /oauth/v2/auth instead of consenting at once.
    #[arg(long)]
    pub consent_page: bool,
    /// The device-flow poll interval the emulator asks for and enforces (`slow_down` to faster
    /// polls): default 30s, Zoho's.
    #[arg(long, value_name = "DURATION")]
    pub device_interval: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_are_accepted_after_the_subcommand() {
        let cli = Cli::try_parse_from(["zoho-oauth", "token", "--user", "a@b.c", "--json", "-vv"])
            .unwrap();
        assert_eq!(cli.global.user.as_deref(), Some("a@b.c"));
        assert!(cli.global.json);
        assert_eq!(cli.global.verbose, 2);
    }
}
