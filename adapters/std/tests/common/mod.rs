//! Test harness: the emulator, a manual clock shared with it, and a tiny ureq transport.
#![allow(dead_code)] // each test binary uses a different part

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use zoho_oauth::core::{DataCenter as CoreDc, Environment as CoreEnv, Instant};
use zoho_oauth::Clock;
use zoho_oauth::{
    Client, ClientBuilder, HttpRequest, HttpResponse, ManualClock, MemoryStore, Transport,
    TransportError,
};
use zoho_oauth_emulator::{
    Config, Counters, DataCenter, Emulator, Environment, SelfClientCode, DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET, DEFAULT_USER_EMAIL,
};

/// The emulator's default user.
pub const USER: &str = DEFAULT_USER_EMAIL;
/// Where both clocks start: 2023-11-14T22:13:20Z.
pub const START_MS: u64 = 1_700_000_000_000;
/// The per-request timeout of the test transport (a hung request fails after this).
pub const TIMEOUT: Duration = Duration::from_secs(1);

/// Maps Zoho's real hosts to the emulator's loopback ports and back, as DNS plus TLS
/// termination would: the client under test is configured exactly as for production.
pub struct ZohoDns {
    /// (Zoho URL prefix, emulator URL prefix), longest emulator prefix first.
    pairs: Vec<(String, String)>,
}

impl ZohoDns {
    pub fn new(emu: &Emulator) -> Self {
        let mut pairs = Vec::new();
        for dc in emu.data_centers() {
            let core_dc = CoreDc::from_location(dc.location()).unwrap();
            pairs.push((
                core_dc.accounts_origin().to_owned(),
                emu.base_url(dc).to_owned(),
            ));
            for (env, core_env) in [
                (Environment::Sandbox, CoreEnv::Sandbox),
                (Environment::Developer, CoreEnv::Developer),
            ] {
                pairs.push((
                    core_dc.api_domain(core_env).to_owned(),
                    emu.api_domain(dc, env),
                ));
            }
        }
        // The production API domain and the accounts origin are the same emulator port; the
        // accounts origin wins for URLs, and in bodies only `api_domain` appears.
        pairs.sort_by_key(|(_, e)| std::cmp::Reverse(e.len()));
        let mut with_prod = pairs.clone();
        for dc in emu.data_centers() {
            let core_dc = CoreDc::from_location(dc.location()).unwrap();
            with_prod.push((
                core_dc.api_domain(CoreEnv::Production).to_owned(),
                emu.base_url(dc).to_owned(),
            ));
        }
        Self { pairs: with_prod }
    }

    fn to_emulator(&self, url: &str) -> String {
        for (zoho, emu) in &self.pairs {
            if let Some(rest) = url.strip_prefix(zoho.as_str()) {
                return format!("{emu}{rest}");
            }
        }
        url.to_owned()
    }

    /// Rewrite emulator origins in a response body to Zoho's: the `api_domain` of a token
    /// answer (sandbox/developer prefixes first, then the production one).
    fn to_zoho(&self, body: &[u8]) -> Vec<u8> {
        let Ok(text) = std::str::from_utf8(body) else {
            return body.to_vec();
        };
        let mut text = text.to_owned();
        let mut seen_bases = Vec::new();
        for (zoho, emu) in &self.pairs {
            if zoho.contains("://accounts.") {
                continue;
            }
            if seen_bases.contains(emu) {
                continue;
            }
            let quoted = format!("\"{emu}\"");
            text = text.replace(&quoted, &format!("\"{zoho}\""));
            seen_bases.push(emu.clone());
        }
        text.into_bytes()
    }
}

/// A blocking test transport on ureq 3: no redirects, statuses are not errors, one timeout.
#[derive(Clone)]
pub struct HttpTransport {
    agent: ureq::Agent,
    timeout: Duration,
    dns: Option<Arc<ZohoDns>>,
}

impl HttpTransport {
    pub fn new(timeout: Duration) -> Self {
        Self {
            agent: agent(timeout),
            timeout,
            dns: None,
        }
    }

    /// Route Zoho's real hosts to `emu`.
    pub fn via_zoho_dns(mut self, emu: &Emulator) -> Self {
        self.dns = Some(Arc::new(ZohoDns::new(emu)));
        self
    }
}

/// A plain agent for the tests' own HTTP calls (following the authorization redirect by hand).
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

impl Transport for HttpTransport {
    fn send(&self, req: &HttpRequest<'_>) -> Result<HttpResponse, TransportError> {
        let url = match &self.dns {
            Some(dns) => dns.to_emulator(req.url),
            None => req.url.to_owned(),
        };
        let mut builder = ureq::http::Request::builder()
            .method(req.method.as_str())
            .uri(url.as_str());
        for (name, value) in req.headers {
            builder = builder.header(*name, *value);
        }
        let request = builder
            .body(req.body.to_vec())
            .map_err(|e| TransportError::Refused(e.to_string()))?;
        // The caller's remaining deadline bounds the request too, as a real transport's must:
        // the shorter of the two applies.
        let request = match req.timeout.filter(|t| *t < self.timeout) {
            Some(t) => self
                .agent
                .configure_request(request)
                .timeout_global(Some(t))
                .build(),
            None => request,
        };
        let mut resp = self.agent.run(request).map_err(|e| match e {
            ureq::Error::Timeout(_) => TransportError::Timeout(TIMEOUT),
            ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
                TransportError::Connect(e.to_string())
            }
            other => TransportError::Io(other.to_string()),
        })?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let mut body = Vec::new();
        resp.body_mut()
            .as_reader()
            .read_to_end(&mut body)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::TimedOut => TransportError::Timeout(TIMEOUT),
                _ => TransportError::Io(e.to_string()),
            })?;
        if let Some(dns) = &self.dns {
            body = dns.to_zoho(&body);
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// One emulator, with a frozen clock that moves together with the client's manual clock.
pub struct Harness {
    pub emu: Emulator,
    pub clock: ManualClock,
    pub store: Arc<MemoryStore>,
}

impl Harness {
    pub fn start() -> Self {
        Self::with_config(Config::default())
    }

    pub fn with_config(config: Config) -> Self {
        let emu = Emulator::start(Config {
            frozen_clock_ms: Some(START_MS),
            ..config
        })
        .expect("emulator starts");
        Self {
            emu,
            clock: ManualClock::new(Instant::from_millis(START_MS)),
            store: Arc::new(MemoryStore::new()),
        }
    }

    /// Another client setup (own store, own clock at the same time) on the same emulator.
    pub fn start_sharing(other: &Harness) -> SharedEmulator<'_> {
        SharedEmulator {
            emu: &other.emu,
            clock: ManualClock::new(other.clock.now()),
            store: Arc::new(MemoryStore::new()),
        }
    }

    /// A builder aimed at the US emulator, sharing this harness's store and clock.
    pub fn builder(&self) -> ClientBuilder {
        Client::builder(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
            .accounts_origin(self.emu.base_url(DataCenter::Us))
            .transport(HttpTransport::new(TIMEOUT))
            .clock(self.clock.clone())
            .store_arc(self.store.clone())
    }

    pub fn client(&self) -> Client {
        self.builder().build().expect("client builds")
    }

    /// A fresh Self Client code for the default user.
    pub fn code(&self) -> String {
        self.emu
            .mint_self_client_code(&SelfClientCode::default())
            .expect("code minted")
    }

    /// A Self Client code for `user` (registered if needed).
    pub fn code_for(&self, user: &str) -> String {
        self.emu
            .register_user(zoho_oauth_emulator::UserSpec {
                email: user.to_owned(),
                zuid: 20_000_000_000 + user.len() as u64,
                ..Default::default()
            })
            .expect("user registered");
        self.emu
            .mint_self_client_code(&SelfClientCode {
                user: user.to_owned(),
                ..SelfClientCode::default()
            })
            .expect("code minted")
    }

    /// Move both clocks.
    pub fn advance(&self, d: Duration) {
        self.clock.advance(d);
        self.emu.advance_clock(d);
    }

    /// The client clock, in milliseconds since the epoch.
    pub fn clock_now(&self) -> u64 {
        self.clock.now().as_millis()
    }

    pub fn counters(&self) -> Counters {
        self.emu.counters()
    }

    /// The refresh token stored for `user` (to check it survives error paths).
    pub fn stored_refresh_token(&self, client: &Client, user: &str) -> Option<String> {
        use zoho_oauth::TokenStore;
        self.store
            .load(&client.key(user))
            .expect("store readable")
            .map(|t| t.refresh_token.as_ref().unwrap().expose().to_owned())
    }
}

impl Harness {
    /// The secrets stored for `user` (refresh and access token), to check they leak nowhere.
    pub fn store_token(&self, client: &Client, user: &str) -> Vec<String> {
        use zoho_oauth::TokenStore;
        let t = self.store.load(&client.key(user)).unwrap().unwrap();
        [
            t.refresh_token.map(|s| s.expose().to_owned()),
            t.access_token.map(|s| s.expose().to_owned()),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// A second client setup on a [`Harness`]'s emulator, with its own store.
pub struct SharedEmulator<'a> {
    pub emu: &'a Emulator,
    pub clock: ManualClock,
    pub store: Arc<MemoryStore>,
}

impl SharedEmulator<'_> {
    pub fn client(&self) -> Client {
        Client::builder(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
            .accounts_origin(self.emu.base_url(DataCenter::Us))
            .transport(HttpTransport::new(TIMEOUT))
            .clock(self.clock.clone())
            .store_arc(self.store.clone())
            .build()
            .expect("client builds")
    }

    pub fn stored_refresh_token(&self, client: &Client, user: &str) -> Option<String> {
        use zoho_oauth::TokenStore;
        self.store
            .load(&client.key(user))
            .expect("store readable")
            .map(|t| t.refresh_token.as_ref().unwrap().expose().to_owned())
    }
}

/// Follow the authorization URL with a plain HTTP GET (as a browser would) and return the
/// redirect's `Location`.
pub fn follow_authorization(url: &str) -> String {
    let resp = agent(TIMEOUT).get(url).call().expect("authorize answered");
    assert_eq!(resp.status().as_u16(), 302, "authorization redirects");
    resp.headers()
        .get("location")
        .expect("Location header")
        .to_str()
        .expect("ASCII Location")
        .to_owned()
}
