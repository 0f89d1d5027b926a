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
ZOHO_ENVIRONMENT, ZOHO_ACCOUNTS_URL, ZOHO_USER, ZOHO_OAUTH_STORE), which wins over the config file \
(<config dir>/zoho-oauth/config.toml, or --config PATH).\n\n\
First time? Run `zoho-oauth demo`: it walks the whole token lifecycle against a local emulator.",
    after_help = "Exit codes: 0 ok, 2 usage or bad input, 3 needs re-authorization, 4 throttled, \
5 network or server failure, 1 anything else."
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
    /// postgres://USER@HOST[:PORT]/DB or mysql://USER@HOST[:PORT]/DB.
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
    /// OAuth client secret (prefer ZOHO_CLIENT_SECRET or the config file: flags show up in `ps`).
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
    /// Append log output to this file instead of stderr.
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Exchange a Self Client grant token for tokens and store them.
    #[command(
        after_help = "Example:\n  zoho-oauth exchange --grant-token 1000.abc…\n\n\
Without --user the e-mail is learned from /oauth/user/info (scope aaaserver.profile.READ); \
otherwise the credential is stored under `default`."
    )]
    Exchange(ExchangeArgs),
    /// Store a refresh token obtained elsewhere.
    #[command(
        name = "add-refresh-token",
        after_help = "Example:\n  zoho-oauth add-refresh-token --refresh-token 1000.xyz… --user me@example.com"
    )]
    AddRefreshToken(AddRefreshTokenArgs),
    /// "Login with Zoho" in a browser, through a loopback redirect listener.
    #[command(
        after_help = "Example:\n  zoho-oauth login --scope ZohoCRM.modules.ALL\n\n\
The redirect URI (default http://127.0.0.1:8765/callback) must be registered for the client \
in Zoho's API console."
    )]
    Login(LoginArgs),
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
    #[command(after_help = "Example:\n  zoho-oauth watch")]
    Watch,
    /// Walk the whole token lifecycle against an in-process emulator (start here).
    #[command(after_help = "Example:\n  zoho-oauth demo")]
    Demo,
}

/// `exchange`.
#[derive(Debug, Args)]
pub struct ExchangeArgs {
    /// The grant token (code) from the API console's Self Client; `-` reads it from stdin.
    #[arg(long, value_name = "CODE")]
    pub grant_token: String,
    /// The redirect URI the code was issued for (web-flow codes only).
    #[arg(long, value_name = "URI")]
    pub redirect_uri: Option<String>,
}

/// `add-refresh-token`.
#[derive(Debug, Args)]
pub struct AddRefreshTokenArgs {
    /// The refresh token; `-` reads it from stdin.
    #[arg(long, value_name = "RT")]
    pub refresh_token: String,
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
}

/// `import` / `export`.
#[derive(Debug, Args)]
pub struct TransferArgs {
    /// `csv:PATH`: the official SDKs' token file.
    #[arg(value_name = "csv:PATH")]
    pub target: String,
}

/// `emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Port of the (first) emulated data centre; 0 picks a free one.
    #[arg(long, value_name = "P", default_value_t = 8080)]
    pub port: u16,
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
