//! What an emulator starts with: data centres, port, clients, users, consent, limits and clock.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::region::{DataCenter, Environment};

/// The client id of the client that [`Config::default`] registers.
pub const DEFAULT_CLIENT_ID: &str = "1000.EMULATORCLIENT0000000000000000";
/// The client secret of the client that [`Config::default`] registers.
pub const DEFAULT_CLIENT_SECRET: &str = "emulator0secret000000000000000000000000000";
/// The redirect URI registered for the default client.
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1/callback";
/// The e-mail address of the user that [`Config::default`] registers and consents as.
pub const DEFAULT_USER_EMAIL: &str = "user@example.com";
/// The ZUID (Zoho user id) of the default user.
pub const DEFAULT_USER_ZUID: u64 = 10_000_000_001;
/// The scope of a Self Client code when none is given, comma separated as in Zoho's API console.
pub const DEFAULT_SCOPE: &str = "ZohoCRM.modules.ALL,aaaserver.profile.READ";
/// The name the consent page shows for the default client.
pub const DEFAULT_CLIENT_NAME: &str = "Emulated Client";
/// The one organisation the default client reaches with the client-credentials grant
/// (`soid=<service>.<org id>`); its org id is the CRM org every emulated data centre holds.
pub const DEFAULT_SOID: &str = "ZohoCRM.10000000001";

/// Everything an [`Emulator`](crate::Emulator) starts with.
///
/// `Config::default()` emulates the US data centre on a port the OS picks, with one client
/// ([`DEFAULT_CLIENT_ID`] / [`DEFAULT_CLIENT_SECRET`]) and one user ([`DEFAULT_USER_EMAIL`]), Zoho's
/// limits and the real clock. Change fields with struct update syntax:
///
/// ```
/// use zoho_oauth_emulator::{Config, Limits};
/// let config = Config {
///     limits: Limits { legacy_expires: true, ..Limits::default() },
///     ..Config::default()
/// };
/// # let _ = config;
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The data centres to emulate, one loopback port each, in this order. Must not be empty nor repeat one.
    pub data_centers: Vec<DataCenter>,
    /// The port of the first data centre; the next ones take `port + 1`, `port + 2`, …
    /// `None` lets the OS pick a free port for each (the right choice for tests).
    pub port: Option<u16>,
    /// Clients registered at start. Each belongs to one data centre, which must be emulated.
    pub clients: Vec<ClientSpec>,
    /// Users registered at start.
    pub users: Vec<UserSpec>,
    /// How `GET /oauth/v2/auth` answers: as which user, consent or denial, and for which environment.
    pub consent: Consent,
    /// Zoho's limits and response dialect.
    pub limits: Limits,
    /// `None` runs the emulated clock on real time; `Some(epoch_ms)` freezes it at that instant, so that
    /// only [`Emulator::advance_clock`](crate::Emulator::advance_clock) moves it. Either way advancing works.
    pub frozen_clock_ms: Option<u64>,
    /// The seed of the token generator; `None` picks a fresh one per emulator.
    pub seed: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_centers: vec![DataCenter::Us],
            port: None,
            clients: vec![ClientSpec::default()],
            users: vec![UserSpec::default()],
            consent: Consent::default(),
            limits: Limits::default(),
            frozen_clock_ms: None,
            seed: None,
        }
    }
}

impl Config {
    /// The default configuration over several data centres, with the default client registered at
    /// each of them (as a Zoho client with multi-DC enabled).
    ///
    /// ```
    /// use zoho_oauth_emulator::{Config, DataCenter};
    /// let config = Config::with_data_centers([DataCenter::Us, DataCenter::Eu]);
    /// assert_eq!(config.clients.len(), 2);
    /// ```
    #[must_use]
    pub fn with_data_centers(data_centers: impl IntoIterator<Item = DataCenter>) -> Self {
        let data_centers: Vec<DataCenter> = data_centers.into_iter().collect();
        let clients = data_centers
            .iter()
            .map(|&data_center| ClientSpec {
                data_center,
                ..ClientSpec::default()
            })
            .collect();
        Config {
            data_centers,
            clients,
            ..Config::default()
        }
    }
}

/// An OAuth client as registered in Zoho's API console.
///
/// A client lives at one data centre, unless multi-DC is enabled for it: then the same id is also
/// known at each data centre of [`multi_dc`](Self::multi_dc), with [`secret`](Self::secret) or a
/// secret of its own there ([`secrets`](Self::secrets)), as Zoho's console allows both.
///
/// ```
/// use std::collections::BTreeMap;
/// use zoho_oauth_emulator::{ClientSpec, DataCenter};
/// let multi_dc = ClientSpec {
///     multi_dc: vec![DataCenter::Eu],
///     secrets: BTreeMap::from([(DataCenter::Eu, "eu-only-secret".to_owned())]),
///     ..ClientSpec::default()
/// };
/// # let _ = multi_dc;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientSpec {
    /// The client id, e.g. `1000.ABC…`. The same id may be registered at several data centres.
    pub id: String,
    /// The client secret.
    pub secret: String,
    /// The redirect URIs the web flow accepts, compared exactly.
    pub redirect_uris: Vec<String>,
    /// The data centre the client is registered at; it is unknown (`invalid_client`) everywhere
    /// else, unless listed in [`multi_dc`](Self::multi_dc).
    pub data_center: DataCenter,
    /// The application's name, shown on the consent page (the id when empty).
    pub name: String,
    /// Further data centres where the same client id is enabled (Zoho's multi-DC). Each must be emulated.
    pub multi_dc: Vec<DataCenter>,
    /// A secret per data centre where it differs from [`secret`](Self::secret).
    pub secrets: BTreeMap<DataCenter, String>,
    /// The organisations the client-credentials grant reaches, as `soid` values
    /// (`<service>.<org id>`, e.g. `ZohoCRM.600001234`). With several, a request must name one;
    /// with one, `soid` is optional; with none, the grant is refused (`unauthorized_client`).
    pub orgs: Vec<String>,
}

impl Default for ClientSpec {
    /// The default client: [`DEFAULT_CLIENT_ID`], [`DEFAULT_CLIENT_SECRET`], [`DEFAULT_REDIRECT_URI`],
    /// named [`DEFAULT_CLIENT_NAME`], at US only, reaching the one org [`DEFAULT_SOID`].
    fn default() -> Self {
        ClientSpec {
            id: DEFAULT_CLIENT_ID.to_owned(),
            secret: DEFAULT_CLIENT_SECRET.to_owned(),
            redirect_uris: vec![DEFAULT_REDIRECT_URI.to_owned()],
            data_center: DataCenter::Us,
            name: DEFAULT_CLIENT_NAME.to_owned(),
            multi_dc: Vec::new(),
            secrets: BTreeMap::new(),
            orgs: vec![DEFAULT_SOID.to_owned()],
        }
    }
}

/// A Zoho user, as `GET /oauth/user/info` and the CRM endpoints describe them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserSpec {
    /// The login e-mail; users are looked up by it, case-insensitively.
    pub email: String,
    /// `First_Name`.
    pub first_name: String,
    /// `Last_Name`.
    pub last_name: String,
    /// `Display_Name`.
    pub display_name: String,
    /// `ZUID`, Zoho's numeric user id.
    pub zuid: u64,
    /// The data centre the account lives in. `None` (the default): at home wherever the user signs
    /// in. With `Some`, a sign-in at another data centre ends at this one: the browser flow redirects
    /// with its `location` and `accounts-server`, and a device flow the user approves answers
    /// `other_dc` until the device polls this one. It must be emulated.
    pub home: Option<DataCenter>,
}

impl Default for UserSpec {
    /// The default user, [`DEFAULT_USER_EMAIL`] with ZUID [`DEFAULT_USER_ZUID`].
    fn default() -> Self {
        UserSpec {
            email: DEFAULT_USER_EMAIL.to_owned(),
            first_name: "Emulated".to_owned(),
            last_name: "User".to_owned(),
            display_name: "Emulated User".to_owned(),
            zuid: DEFAULT_USER_ZUID,
            home: None,
        }
    }
}

/// How the browser authorization endpoint answers: who is signed in, and whether a person clicks.
///
/// With `auto` (the default, what scripts and most tests want) `GET /oauth/v2/auth` decides at once:
/// a 302 with a code, or with `error=access_denied` when `deny` is set. With `auto: false` it shows
/// Zoho's consent page (the application's name, the scopes, Accept and Deny buttons with the ids
/// `accept` and `deny`), which a person or a headless browser answers; as at Zoho the page is
/// skipped, and the code issued at once, when the user already consented to these scopes for this
/// client and the request has no `prompt=consent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Consent {
    /// The e-mail of the registered user who is signed in and consents.
    pub user: String,
    /// With `auto`, `true` redirects with `error=access_denied` instead of a code, as when a user
    /// clicks Deny. Ignored when the page is shown: the person's click decides.
    pub deny: bool,
    /// The environment the issued codes (and so their tokens) belong to; also that of device-flow tokens.
    pub environment: Environment,
    /// `true` (default): decide at once, no page. `false`: show the consent page.
    pub auto: bool,
}

impl Default for Consent {
    fn default() -> Self {
        Consent {
            user: DEFAULT_USER_EMAIL.to_owned(),
            deny: false,
            environment: Environment::Production,
            auto: true,
        }
    }
}

/// Zoho's limits and the response dialect; the defaults are Zoho's strictest documented figures.
///
/// In JSON (control API) every duration is a number of milliseconds and its key ends in `_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Lifetime of an access token (default 3600 s), reported in `expires_in`.
    #[serde(rename = "access_token_lifetime_ms", with = "duration_ms")]
    pub access_token_lifetime: Duration,
    /// Token responses allowed per refresh token per [`mint_window`](Self::mint_window) (default 10).
    /// The code exchange that creates a refresh token counts as its first.
    pub mints_per_window: u32,
    /// The rolling window of that budget (default 10 minutes).
    #[serde(rename = "mint_window_ms", with = "duration_ms")]
    pub mint_window: Duration,
    /// Live access tokens per refresh token (default 15); minting one more silently kills the oldest.
    pub max_live_access_tokens: u32,
    /// Refresh tokens per user per client (default 20); issuing one more deletes the oldest.
    pub max_refresh_tokens_per_user: u32,
    /// The HTTP status of the throttle body: Zoho has been seen to use 200 and 400 (default 200).
    pub throttle_status: u16,
    /// When `true`, a refresh during a block restarts the block for a full window, as some reports say
    /// Zoho does; when `false` (default) the block ends when the oldest mint leaves the window.
    pub throttle_retry_extends_block: bool,
    /// The old dialect: `"expires_in_sec": 3600` plus `"expires_in": 3600000` (milliseconds).
    pub legacy_expires: bool,
    /// Default lifetime of a Self Client code (default 3 minutes, Zoho's default).
    #[serde(rename = "self_client_code_lifetime_ms", with = "duration_ms")]
    pub self_client_code_lifetime: Duration,
    /// Lifetime of a code from the browser flow (default 2 minutes).
    #[serde(rename = "web_code_lifetime_ms", with = "duration_ms")]
    pub web_code_lifetime: Duration,
    /// Grant codes issued per client per data centre per [`grant_code_window`](Self::grant_code_window)
    /// (default 10), Self Client codes and browser-flow codes alike. Past it, issuing is refused and
    /// so is every exchange of the client's codes, until the oldest code leaves the window.
    pub grant_codes_per_window: u32,
    /// The rolling window of that limit (default 10 minutes).
    #[serde(rename = "grant_code_window_ms", with = "duration_ms")]
    pub grant_code_window: Duration,
    /// How long a device flow's `user_code` and `device_code` live (default 5 minutes, Zoho's),
    /// reported in `expires_in`; past it a poll answers `expired`.
    #[serde(rename = "device_code_lifetime_ms", with = "duration_ms")]
    pub device_code_lifetime: Duration,
    /// The `interval` a device-flow initiation reports (default 30 s).
    #[serde(rename = "device_poll_interval_ms", with = "duration_ms")]
    pub device_poll_interval: Duration,
    /// Two polls of the same device code closer than this on the emulated clock: the second answers
    /// `slow_down` (default 30 s, Zoho's rule; tests shorten it or advance the clock).
    #[serde(rename = "device_poll_floor_ms", with = "duration_ms")]
    pub device_poll_floor: Duration,
    /// `false` (default): the initiation's `interval` and `expires_in` are seconds; `true`:
    /// milliseconds, as one version of Zoho's page says. Clients must cope with both.
    pub device_times_in_ms: bool,
    /// The HTTP status of the device endpoints' error bodies (`authorization_pending`, `slow_down`,
    /// `other_dc`, …): 200 by default, like Zoho's token endpoint; 400 as RFC 8628 says. Zoho does
    /// not document it, so clients decide by the body.
    pub device_error_status: u16,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            access_token_lifetime: Duration::from_secs(3600),
            mints_per_window: 10,
            mint_window: Duration::from_secs(600),
            max_live_access_tokens: 15,
            max_refresh_tokens_per_user: 20,
            throttle_status: 200,
            throttle_retry_extends_block: false,
            legacy_expires: false,
            self_client_code_lifetime: Duration::from_secs(180),
            web_code_lifetime: Duration::from_secs(120),
            grant_codes_per_window: 10,
            grant_code_window: Duration::from_secs(600),
            device_code_lifetime: Duration::from_secs(300),
            device_poll_interval: Duration::from_secs(30),
            device_poll_floor: Duration::from_secs(30),
            device_times_in_ms: false,
            device_error_status: 200,
        }
    }
}

/// A Self Client code to mint, as a developer would in Zoho's API console.
///
/// `SelfClientCode::default()` is a code for the default client at US, for the default user, with
/// [`DEFAULT_SCOPE`], in production, living [`Limits::self_client_code_lifetime`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SelfClientCode {
    /// The client the code is for; it must be registered at `data_center`.
    pub client_id: String,
    /// The data centre whose accounts server issues (and alone accepts) the code.
    pub data_center: DataCenter,
    /// Scopes, separated by commas or spaces (`ZohoCRM.modules.ALL,aaaserver.profile.READ`).
    pub scope: String,
    /// The e-mail of the registered user the tokens act for.
    pub user: String,
    /// How long the code stays valid; `None` uses [`Limits::self_client_code_lifetime`].
    #[serde(rename = "lifetime_ms", with = "opt_duration_ms")]
    pub lifetime: Option<Duration>,
    /// The environment the tokens belong to.
    pub environment: Environment,
}

impl Default for SelfClientCode {
    fn default() -> Self {
        SelfClientCode {
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            data_center: DataCenter::Us,
            scope: DEFAULT_SCOPE.to_owned(),
            user: DEFAULT_USER_EMAIL.to_owned(),
            lifetime: None,
            environment: Environment::Production,
        }
    }
}

/// Serde of a `Duration` as whole milliseconds.
pub(crate) mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        value: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_millis)
    }
}

/// Serde of an `Option<Duration>` as whole milliseconds or `null`.
pub(crate) mod opt_duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => super::duration_ms::serialize(d, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(deserializer)?.map(Duration::from_millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_travel_as_json_in_milliseconds() {
        let json = serde_json::to_value(Limits::default()).unwrap();
        assert_eq!(json["access_token_lifetime_ms"], 3_600_000);
        let back: Limits = serde_json::from_str(r#"{"legacy_expires":true}"#).unwrap();
        assert!(back.legacy_expires);
        assert_eq!(back.mint_window, Duration::from_secs(600));
    }

    #[test]
    fn per_data_centre_secrets_travel_as_a_json_object_keyed_by_location() {
        let spec: ClientSpec =
            serde_json::from_str(r#"{"multi_dc":["eu"],"secrets":{"eu":"s-eu"}}"#).unwrap();
        assert_eq!(spec.multi_dc, vec![DataCenter::Eu]);
        assert_eq!(
            spec.secrets.get(&DataCenter::Eu).map(String::as_str),
            Some("s-eu")
        );
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["secrets"]["eu"], "s-eu");
    }
}
