//! A local, scriptable stand-in for Zoho's OAuth 2.0 accounts server and a few CRM endpoints.
//!
//! Every end-to-end test of this project runs against it, and you can run your own Zoho
//! integration's tests against it offline. It behaves like Zoho, warts included: errors come as
//! HTTP-200 bodies, refresh answers omit `refresh_token`, a refresh token mints at most 10 access
//! tokens per 10 minutes before "Access Denied", the 16th live access token silently kills the
//! oldest, and a token from one data centre or environment is refused at another. It is **not** a
//! general OAuth server, and it listens on loopback only.
//!
//! What it serves, on one `http://127.0.0.1:PORT` per emulated [`DataCenter`] (accounts origin and
//! production API domain at once; sandbox and developer APIs under `/sandbox` and `/developer`):
//!
//! | endpoint | |
//! |---|---|
//! | `POST /oauth/v2/token` | `authorization_code` (with PKCE), `refresh_token` and `client_credentials` grants; parameters in the query, an urlencoded or a multipart body |
//! | `POST /oauth/v2/token/revoke` | revokes a refresh token and every access token minted from it |
//! | `GET /oauth/v2/auth` | the browser flow as the configured user: a 302 to `redirect_uri` at once, or Zoho's consent page ([`Consent::auto`]) |
//! | `POST /oauth/v3/device/code`, `POST /oauth/v3/device/token`, `GET /oauth/v3/device` | the device flow and its verification page ([`Emulator::approve_device`]) |
//! | `GET /oauth/user/info` | the token's user; needs `aaaserver.profile.READ` |
//! | `GET {api_domain}/crm/v8/users?type=CurrentUser`, `GET {api_domain}/crm/v8/org` | CRM-shaped answers, or 401 `INVALID_TOKEN` |
//! | `/_emulator/…` | the control API (JSON), mirroring the [`Emulator`] methods |
//!
//! Tests steer it without sleeping: an emulated clock ([`Emulator::advance_clock`]) ages codes,
//! tokens and throttle windows; [`Fault`]s make the next token requests fail the way proxies and
//! outages do (HTML pages, 500s, truncated bodies, resets, hangs) or an attacker would (50 MB or
//! endless bodies, endless headers, redirects, tokens that split headers, a foreign `api_domain`);
//! [`Counters`] tell how many refreshes a client sent and how many ran at once
//! ([`Emulator::set_latency`] makes them overlap), how a device polled, what consent pages saw.
//!
//! # Example: a user's test, start to finish
//!
//! ```
//! use zoho_oauth_emulator::{Config, DataCenter, Emulator, SelfClientCode};
//! use zoho_oauth_emulator::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // One data centre (US), one client, one user: the defaults.
//! let emu = Emulator::start(Config::default())?;
//! // What a developer would copy from the API console's Self Client page.
//! let code = emu.mint_self_client_code(&SelfClientCode::default())?;
//!
//! // Your code under test would do this part, pointed at the emulator's accounts server.
//! let http: ureq::Agent = ureq::Agent::config_builder()
//!     .http_status_as_error(false)
//!     .build()
//!     .into();
//! let accounts = emu.base_url(DataCenter::Us);
//! let body = http
//!     .post(format!("{accounts}/oauth/v2/token"))
//!     .send_form([
//!         ("grant_type", "authorization_code"),
//!         ("client_id", DEFAULT_CLIENT_ID),
//!         ("client_secret", DEFAULT_CLIENT_SECRET),
//!         ("code", code.as_str()),
//!     ])?
//!     .body_mut()
//!     .read_to_string()?;
//! let tokens: serde_json::Value = serde_json::from_str(&body)?;
//! assert_eq!(tokens["expires_in"], 3600);
//! let access = tokens["access_token"].as_str().unwrap_or_default();
//! let api_domain = tokens["api_domain"].as_str().unwrap_or_default();
//!
//! let org = http
//!     .get(format!("{api_domain}/crm/v8/org"))
//!     .header("Authorization", format!("Zoho-oauthtoken {access}"))
//!     .call()?
//!     .body_mut()
//!     .read_to_string()?;
//! assert!(org.contains("company_name"));
//!
//! // An hour later the token is dead, and the CRM says so as Zoho does.
//! emu.advance_clock(std::time::Duration::from_secs(3600));
//! let refused = http
//!     .get(format!("{api_domain}/crm/v8/org"))
//!     .header("Authorization", format!("Zoho-oauthtoken {access}"))
//!     .call()?;
//! assert_eq!(refused.status(), 401);
//! emu.stop();
//! # Ok(())
//! # }
//! ```
//!
//! From outside Rust, run the binary (`zoho-oauth-emulator --dc us,eu`) and use the control API;
//! see the crate's README.

mod bodies;
mod clock;
mod config;
mod conn;
mod control;
mod counters;
mod emulator;
mod error;
mod faults;
mod foreground;
mod ids;
mod region;
mod routes;
mod state;

pub use config::{
    ClientSpec, Config, Consent, Limits, SelfClientCode, UserSpec, DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_NAME, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI, DEFAULT_SCOPE, DEFAULT_SOID,
    DEFAULT_USER_EMAIL, DEFAULT_USER_ZUID,
};
pub use counters::Counters;
pub use emulator::{Emulator, Stopper};
pub use error::{ControlError, StartError};
pub use faults::{Fault, DRIP_INTERVAL, FOREIGN_API_DOMAIN, HUGE_BODY_BYTES, REDIRECT_TARGET_PATH};
pub use foreground::{serve_forever, ServeOptions};
pub use region::{DataCenter, Environment, UnknownDataCenter};
