//! `demo`: the whole token lifecycle against an in-process emulator, on the embedded default store
//! in a temporary directory: Self Client exchange → token → API call → forced refresh → revoke.
//!
//! Nothing here talks to Zoho. Tokens are shown as their last four characters only, as everywhere.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::json;
use zoho_oauth::core::Method;
use zoho_oauth::{Client, TokenStore, UserSource};
use zoho_oauth_emulator::{
    DataCenter, Emulator, SelfClientCode, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
};
use zoho_oauth_sqlite::SqliteStore;
use zoho_oauth_ureq::UreqTransport;

use crate::cmd::exchange::DEFAULT_USER;
use crate::exit::CliError;
use crate::{human, out};

/// The API call of step 4.
const API_PATH: &str = "/crm/v8/users?type=CurrentUser";

/// Prints steps as they happen (human) or collects them (JSON).
struct Steps {
    json: bool,
    done: Vec<serde_json::Value>,
}

impl Steps {
    fn say(&mut self, n: usize, title: &str, text: String, data: serde_json::Value) {
        if self.json {
            self.done
                .push(json!({ "step": n, "title": title, "detail": text, "data": data }));
        } else {
            println!("\n{n}. {title}\n   {}", text.replace('\n', "\n   "));
        }
    }
}

/// Walk the lifecycle; exit 0 when every step behaved as Zoho would.
pub fn run(json: bool) -> Result<(), CliError> {
    let failed = |step: &str| {
        let step = step.to_owned();
        move |e: &dyn std::fmt::Display| {
            CliError::other(
                format!("demo step `{step}` failed: {e}"),
                "rerun with -vv and report the log",
            )
        }
    };
    let mut steps = Steps {
        json,
        done: Vec::new(),
    };
    let dir = tempfile::Builder::new()
        .prefix("zoho-oauth-demo-")
        .tempdir()
        .map_err(|e| failed("temporary directory")(&e))?;
    let emulator = Emulator::start(crate::cmd::emulator::config(None))
        .map_err(|e| failed("start the emulator")(&e))?;
    let base = emulator.base_url(DataCenter::Us).to_owned();
    steps.say(
        1,
        "Started a local Zoho accounts emulator",
        format!(
            "{base} plays accounts.zoho.com and www.zohoapis.com; nothing leaves this machine."
        ),
        json!({ "base_url": base }),
    );

    let db = dir.path().join("tokens.sqlite3");
    let store: Arc<dyn TokenStore> =
        Arc::new(SqliteStore::open(&db).map_err(|e| failed("open the store")(&e))?);
    let client = Client::builder(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
        .accounts_origin(&base)
        .store_arc(store)
        .transport(UreqTransport::new())
        .build()?;

    // 2. Self Client: a grant token as the API console would show it, exchanged and stored.
    let code = emulator
        .mint_self_client_code(&SelfClientCode::default())
        .map_err(|e| failed("mint a grant token")(&e))?;
    let exchanged = client.exchange_grant_as_owner(&code, None, DEFAULT_USER)?;
    if let Some(UserSource::Fallback(e)) = exchanged.source {
        return Err(failed("learn the user")(&e));
    }
    let user = exchanged.key.user;
    let status = client
        .status()?
        .into_iter()
        .find(|s| s.user == user)
        .ok_or_else(|| failed("exchange")(&"the credential was not stored"))?;
    steps.say(
        2,
        "Self Client exchange: grant token → refresh + access token",
        format!(
            "zoho-oauth exchange --grant-token - (the code {} on standard input)\nstored {user} ({} {}) in {}\nrefresh token …{}, learned the user from /oauth/user/info",
            out::hint(&code),
            status.data_center,
            status.environment,
            db.display(),
            status.hint
        ),
        json!({ "user": user, "store": db.display().to_string(), "refresh_token_last4": status.hint }),
    );

    // 3. token: served from the cache, no request to the accounts server.
    let before = emulator.counters().token_requests;
    let token = client.access_token(&user)?;
    let sent = emulator.counters().token_requests - before;
    steps.say(
        3,
        "Access token for an API call",
        format!(
            "zoho-oauth token → {} (shown: last 4 characters), {}\ntoken requests sent for it: {sent} (it was fresh)",
            out::hint(token.secret()),
            human::expiry(token.expires_at(), SystemTime::now())
        ),
        json!({ "expires_at": human::unix_secs(token.expires_at()), "token_requests": sent }),
    );

    // 4. An authenticated API call at the token's api_domain.
    let response = client.request(&user, Method::Get, API_PATH, None)?;
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
    let name = body["users"][0]["full_name"]
        .as_str()
        .unwrap_or("?")
        .to_owned();
    if response.status != 200 {
        return Err(failed("API call")(&format!("HTTP {}", response.status)));
    }
    steps.say(
        4,
        "API call",
        format!(
            "zoho-oauth api GET '{API_PATH}' → HTTP {} at {}\ncurrent user: {name}",
            response.status,
            token.api_domain()
        ),
        json!({ "status": response.status, "full_name": name }),
    );

    // 5. Forced refresh: a new access token from the refresh token (one mint of the budget).
    let refreshed = client.refresh(&user, true)?;
    let (mints_left, budget) = client
        .status()?
        .into_iter()
        .find(|s| s.user == user)
        .map_or((0, 0), |s| (s.mints_left, s.mint_budget));
    if !refreshed.minted || refreshed.token == token {
        return Err(failed("forced refresh")(&"the access token did not change"));
    }
    steps.say(
        5,
        "Forced refresh",
        format!(
            "zoho-oauth refresh --force → new access token {} (was {}), {}\nmint budget left: {mints_left} of {budget} in the rolling 10 minutes",
            out::hint(refreshed.token.secret()),
            out::hint(token.secret()),
            human::expiry(refreshed.token.expires_at(), SystemTime::now())
        ),
        json!({ "mints_left": mints_left }),
    );

    // 6. Revoke at the accounts server, then delete locally.
    client.revoke(&user)?;
    let gone = match client.access_token(&user) {
        Err(e) => e.to_string(),
        Ok(_) => return Err(failed("revoke")(&"a token was still served after revoking")),
    };
    steps.say(
        6,
        "Revoke",
        format!(
            "zoho-oauth revoke → the refresh token …{} and its access tokens are dead at the accounts server, and deleted from the store\nasking for a token now: {gone}",
            status.hint
        ),
        json!({ "revoked": true }),
    );

    emulator.stop();
    if json {
        out::json(&json!({ "ok": true, "steps": steps.done }));
    } else {
        println!(
            "\nDone: the temporary store is deleted now. With your own client from https://api-console.zoho.com:\n\
             \n  export ZOHO_CLIENT_ID=1000.…  ZOHO_DC=us\
             \n  read -rs ZOHO_CLIENT_SECRET && export ZOHO_CLIENT_SECRET   # typed, not shown\
             \n  zoho-oauth exchange        # asks for the Self Client code without echo; or: zoho-oauth login\
             \n  curl -H \"$(zoho-oauth header)\" https://www.zohoapis.com/crm/v8/users?type=CurrentUser"
        );
    }
    drop(dir);
    Ok(())
}
