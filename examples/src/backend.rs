//! `Backend`: where the examples send their requests — real Zoho when `ZOHO_CLIENT_ID` is set,
//! else the bundled emulator, started in-process.

use std::env;
use std::error::Error;
use std::io::{self, BufRead, Write};

use zoho_oauth::core::DataCenter;
use zoho_oauth::{Client, ClientBuilder, HttpRequest, Method, Transport};
use zoho_oauth_emulator::{self as emulator, Emulator, SelfClientCode};
use zoho_oauth_ureq::UreqTransport;

/// The Zoho the examples talk to, and how they get a first credential from it.
///
/// | variable | meaning |
/// |---|---|
/// | `ZOHO_CLIENT_ID`, `ZOHO_CLIENT_SECRET` | your client, from <https://api-console.zoho.com>; without them the emulator is used |
/// | `ZOHO_DC` | its data centre: `us` (default), `eu`, `in`, `au`, `jp`, `ca`, `sa`, `uk`, `cn` |
/// | `ZOHO_GRANT_TOKEN` | a Self Client grant token (single use, lives minutes) |
/// | `ZOHO_REFRESH_TOKEN` | instead of a grant token (the examples that call [`sign_in`](Backend::sign_in)): a refresh token you already have |
/// | `ZOHO_USER` | the e-mail to store the credential under (default `default`) |
/// | `ZOHO_REDIRECT_URI` | `web_login` and `multi_dc_login`: a redirect URI registered for the client |
/// | `ZOHO_SOID` | `client_credentials` only: the organisation, `<service>.<org id>` (e.g. `ZohoCRM.600001234`) |
/// | `ZOHO_ALLOWED_DCS` | `multi_dc_login`, `device_login`: the other data centres the client is enabled in (`eu,in`, or `all`) |
/// | `ZOHO_CLIENT_SECRET_EU` (`_IN`, …) | with `ZOHO_ALLOWED_DCS`: the secret the console issued for that centre, if it has its own |
pub struct Backend {
    client_id: String,
    client_secret: String,
    data_center: DataCenter,
    emulator: Option<Emulator>,
}

impl Backend {
    /// Real Zoho if `ZOHO_CLIENT_ID` is set, else a fresh emulator.
    pub fn from_env() -> Result<Self, Box<dyn Error>> {
        Self::from_env_or(emulator::Config::default())
    }

    /// Real Zoho if `ZOHO_CLIENT_ID` is set, else a fresh emulator started with `config` (for
    /// an example that needs more of Zoho than one data centre, one client and one user).
    pub fn from_env_or(config: emulator::Config) -> Result<Self, Box<dyn Error>> {
        let Ok(client_id) = env::var("ZOHO_CLIENT_ID") else {
            return Self::start_emulator_with(config);
        };
        let client_secret = env::var("ZOHO_CLIENT_SECRET").map_err(|_| {
            "ZOHO_CLIENT_ID is set but ZOHO_CLIENT_SECRET is not: copy both from the API console"
        })?;
        let data_center = match env::var("ZOHO_DC") {
            Ok(code) => DataCenter::from_location(&code)
                .map_err(|_| format!("ZOHO_DC={code:?} is not a data centre: use us, eu, in, au, jp, ca, sa, uk or cn"))?,
            Err(_) => DataCenter::Us,
        };
        Ok(Self {
            client_id,
            client_secret,
            data_center,
            emulator: None,
        })
    }

    /// The bundled emulator (US, one client, one user), whatever the environment says.
    pub fn start_emulator() -> Result<Self, Box<dyn Error>> {
        Self::start_emulator_with(emulator::Config::default())
    }

    /// The bundled emulator started with `config`, whatever the environment says. Its home is
    /// US, where the default client is registered.
    pub fn start_emulator_with(config: emulator::Config) -> Result<Self, Box<dyn Error>> {
        Ok(Self {
            client_id: emulator::DEFAULT_CLIENT_ID.to_owned(),
            client_secret: emulator::DEFAULT_CLIENT_SECRET.to_owned(),
            data_center: DataCenter::Us,
            emulator: Some(Emulator::start(config)?),
        })
    }

    /// The emulator, when that is what the examples talk to: for its counters and knobs.
    pub fn emulator(&self) -> Option<&Emulator> {
        self.emulator.as_ref()
    }

    /// A client builder for this backend's client and data centre, sending through `transport`.
    pub fn builder(&self, transport: impl Transport + 'static) -> ClientBuilder {
        let builder = Client::builder(&self.client_id, &self.client_secret)
            .data_center(self.data_center)
            .transport(transport);
        match &self.emulator {
            // The only line that differs from production: accounts calls go to the emulator.
            Some(emu) => builder.accounts_origin(emu.base_url(emulator::DataCenter::Us)),
            None => builder,
        }
    }

    /// The user the examples store their credential under.
    pub fn user(&self) -> String {
        match (&self.emulator, env::var("ZOHO_USER")) {
            (Some(_), _) => emulator::DEFAULT_USER_EMAIL.to_owned(),
            (None, Ok(user)) => user,
            (None, Err(_)) => "default".to_owned(),
        }
    }

    /// A Self Client grant token: `ZOHO_GRANT_TOKEN`, or one the emulator mints.
    pub fn grant_token(&self) -> Result<String, Box<dyn Error>> {
        match &self.emulator {
            Some(emu) => Ok(emu.mint_self_client_code(&SelfClientCode::default())?),
            None => env::var("ZOHO_GRANT_TOKEN").map_err(|_| {
                "set ZOHO_GRANT_TOKEN to a fresh Self Client grant token (API console → Self Client → \
                 Generate Code, scope ZohoCRM.users.READ,aaaserver.profile.READ)"
                    .into()
            }),
        }
    }

    /// Give `client` a credential for `user`: `ZOHO_REFRESH_TOKEN` if set, else a grant token.
    pub fn sign_in(&self, client: &Client, user: &str) -> Result<(), Box<dyn Error>> {
        match env::var("ZOHO_REFRESH_TOKEN") {
            Ok(refresh_token) if self.emulator.is_none() => {
                client.add_refresh_token(user, &refresh_token)?;
            }
            _ => {
                client.exchange_grant(user, &self.grant_token()?)?;
            }
        }
        Ok(())
    }

    /// The organisation a client-credentials token is for: `ZOHO_SOID` (`None` when unset: a
    /// client that reaches one organisation needs none), or the emulated client's org.
    pub fn soid(&self) -> Option<String> {
        match &self.emulator {
            Some(_) => Some(emulator::DEFAULT_SOID.to_owned()),
            None => env::var("ZOHO_SOID").ok(),
        }
    }

    /// The data centres besides the home one that the client is enabled in (Zoho's multi-DC):
    /// `ZOHO_ALLOWED_DCS` (`eu,in`, or `all`; none when unset), or `emulated` with the emulator.
    pub fn allowed_data_centers(
        &self,
        emulated: &[DataCenter],
    ) -> Result<Vec<DataCenter>, Box<dyn Error>> {
        if self.emulator.is_some() {
            return Ok(emulated.to_vec());
        }
        let list = env::var("ZOHO_ALLOWED_DCS").unwrap_or_default();
        let named = if list.trim().eq_ignore_ascii_case("all") {
            DataCenter::ALL.to_vec()
        } else {
            list.split(',')
                .map(str::trim)
                .filter(|code| !code.is_empty())
                .map(|code| {
                    DataCenter::from_location(code).map_err(|_| {
                        format!("ZOHO_ALLOWED_DCS names {code:?}, not a data centre: use us, eu, in, au, jp, ca, sa, uk, cn or all")
                    })
                })
                .collect::<Result<_, _>>()?
        };
        // The home centre is always allowed, with the client's own secret.
        Ok(named
            .into_iter()
            .filter(|dc| *dc != self.data_center)
            .collect())
    }

    /// `builder`, also holding credentials of users homed in `dc`. With real Zoho this is
    /// [`allow_data_center`](ClientBuilder::allow_data_center) with `ZOHO_CLIENT_SECRET_<DC>`
    /// (e.g. `ZOHO_CLIENT_SECRET_EU`) when the API console issued that centre a secret of its
    /// own; with the emulator, the centre's accounts calls go to its emulated port.
    pub fn allow_data_center(&self, builder: ClientBuilder, dc: DataCenter) -> ClientBuilder {
        match &self.emulator {
            Some(emu) => match emulated(dc).and_then(|dc| emu.try_base_url(dc).ok()) {
                Some(url) => builder.allow_data_center_at(dc, None, url),
                // Not emulated: allowed, but no login can end there.
                None => builder.allow_data_center(dc, None),
            },
            None => {
                let name = format!(
                    "ZOHO_CLIENT_SECRET_{}",
                    dc.location_code().to_ascii_uppercase()
                );
                builder.allow_data_center(dc, env::var(name).ok().as_deref())
            }
        }
    }

    /// The redirect URI registered for the client: `ZOHO_REDIRECT_URI`, or the emulator's.
    pub fn redirect_uri(&self) -> Result<String, Box<dyn Error>> {
        match &self.emulator {
            Some(_) => Ok(emulator::DEFAULT_REDIRECT_URI.to_owned()),
            None => env::var("ZOHO_REDIRECT_URI").map_err(|_| {
                "set ZOHO_REDIRECT_URI to a redirect URI registered for the client in the API console".into()
            }),
        }
    }

    /// Play the browser: open the authorization `url` and return where Zoho redirects to. The
    /// emulator consents at once, so a plain GET gets the redirect; with real Zoho, a person
    /// logs in and pastes the address their browser ends up at.
    pub fn browse(&self, url: &str) -> Result<String, Box<dyn Error>> {
        if self.emulator.is_some() {
            let request = HttpRequest {
                method: Method::Get,
                url,
                headers: &[],
                body: &[],
                timeout: None,
            };
            // The transport never follows redirects: the 302 comes back as it is.
            let response = UreqTransport::new().send(&request)?;
            let status = response.status;
            let location = response
                .headers
                .into_iter()
                .find(|(name, _)| name == "location");
            return Ok(location
                .ok_or_else(|| format!("the authorization URL answered {status}, not a redirect"))?
                .1);
        }
        println!("Open this URL in a browser and log in:\n  {url}");
        print!("Then paste the address you were redirected to: ");
        io::stdout().flush()?;
        let mut line = String::new();
        io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim().to_owned())
    }
}

/// The emulator's name for a data centre.
fn emulated(dc: DataCenter) -> Option<emulator::DataCenter> {
    dc.location_code().parse().ok()
}
