//! Two emulated data centres for the multi-DC and device-flow tests: US (home) and EU, the
//! default client enabled at both with a secret of its own at EU (as Zoho's API console allows),
//! and a user whose account lives at EU.

use std::collections::BTreeMap;
use std::process::Command;

use zoho_oauth_emulator::{ClientSpec, Config, DataCenter, Limits, UserSpec};

use super::{http, World};

/// The user whose account lives in the EU data centre.
pub const EU_USER: &str = "eu.user@example.com";
/// The default client's secret at the EU data centre (not the home one).
pub const EU_SECRET: &str = "emulator0eu0only0secret00000000000000000000";

/// The default client as registered for the multi-DC tests, with `redirect_uris`.
pub fn multi_dc_client(redirect_uris: Vec<String>) -> ClientSpec {
    let mut spec = ClientSpec {
        multi_dc: vec![DataCenter::Eu],
        secrets: BTreeMap::from([(DataCenter::Eu, EU_SECRET.to_owned())]),
        ..ClientSpec::default()
    };
    spec.redirect_uris.extend(redirect_uris);
    spec
}

impl World {
    /// US and EU emulated with `limits`; the default client enabled at EU with [`EU_SECRET`];
    /// the default user and [`EU_USER`], whose account lives at EU.
    pub fn multi_dc(limits: Limits) -> Self {
        Self::with_config(Config {
            data_centers: vec![DataCenter::Us, DataCenter::Eu],
            clients: vec![multi_dc_client(Vec::new())],
            users: vec![
                UserSpec::default(),
                UserSpec {
                    email: EU_USER.into(),
                    zuid: 20_000_000_001,
                    home: Some(DataCenter::Eu),
                    ..UserSpec::default()
                },
            ],
            limits,
            ..Config::default()
        })
    }

    /// The EU data centre's accounts origin.
    pub fn eu_base(&self) -> String {
        self.emu.base_url(DataCenter::Eu).to_owned()
    }

    /// [`World::cmd`] with the EU data centre allowed, its secret and its accounts URL.
    pub fn cmd_allowing_eu(&self) -> Command {
        let mut c = self.cmd();
        c.env("ZOHO_ALLOWED_DCS", "eu")
            .env("ZOHO_CLIENT_SECRET_EU", EU_SECRET)
            .env("ZOHO_ACCOUNTS_URL_EU", self.eu_base());
        c
    }

    /// The person's side of a device login, through the emulator's HTTP control API: `decision`
    /// is `approve` (as `user`) or `deny`.
    pub fn person(&self, decision: &str, user_code: &str, user: &str) {
        let resp = http()
            .post(format!("{}/_emulator/device/{decision}", self.base()))
            .header("Content-Type", "application/json")
            .send(
                serde_json::json!({ "user_code": user_code, "user": user })
                    .to_string()
                    .as_bytes(),
            )
            .expect("the emulator answers");
        assert!(
            resp.status().is_success(),
            "the person's {decision} was taken: {}",
            resp.status()
        );
    }

    /// How many device polls the emulator answered with `answer`.
    pub fn device_polls(&self, answer: &str) -> u64 {
        self.emu
            .counters()
            .device_polls
            .get(answer)
            .copied()
            .unwrap_or(0)
    }
}
