//! An axum app that calls Zoho CRM as a user, through `zoho-oauth-tokio`'s tower layer.
//!
//! The app's handler sends a plain `http::Request` for `/crm/v8/users?type=CurrentUser` to an
//! HTTP client wrapped in [`ZohoAuthLayer`]: the layer adds the user's
//! `Authorization: Zoho-oauthtoken …` (marked sensitive), aims the path at the user's API
//! domain, and when the CRM answers 401 `INVALID_TOKEN` it refreshes once and retries once. A
//! background task keeps the token fresh meanwhile, and stops with the client.
//!
//! It runs offline against the bundled emulator (its accounts server and CRM), asks the app
//! twice — the second time after the emulator killed every access token early, which the layer
//! repairs without the handler noticing — and prints what happened:
//!
//! ```sh
//! cargo run -p zoho-oauth-examples --example axum_layer
//! ```

use std::error::Error;
use std::net::SocketAddr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;
use tower::{Layer, ServiceExt};
use zoho_oauth::MemoryStore;
use zoho_oauth_emulator::{self as emulator, Emulator, SelfClientCode};
use zoho_oauth_tokio::{Client, ReqwestTransport, ZohoAuth, ZohoAuthLayer};

/// The user the app acts for.
const USER: &str = emulator::DEFAULT_USER_EMAIL;

/// What the handlers share: an HTTP client that sends as `USER` to Zoho's APIs.
type Crm = ZohoAuth<HttpClient<HttpConnector, Full<Bytes>>>;

/// `GET /me`: who the CRM says the user is.
async fn me(State(crm): State<Crm>) -> Result<String, (StatusCode, String)> {
    let request = http::Request::get("/crm/v8/users?type=CurrentUser")
        .body(Full::default())
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    // `oneshot` on a clone: the layered service is cheap to clone and each request gets its own.
    let response = crm
        .oneshot(request)
        .await
        .map_err(|e| (StatusCode::BAD_GATEWAY, e.to_string()))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| (StatusCode::BAD_GATEWAY, e.to_string()))?
        .to_bytes();
    if !status.is_success() {
        return Err((
            StatusCode::BAD_GATEWAY,
            format!("the CRM answered {status}"),
        ));
    }
    let json: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        (
            StatusCode::BAD_GATEWAY,
            format!("the CRM's answer is not JSON: {e}"),
        )
    })?;
    let user = &json["users"][0];
    Ok(format!(
        "{} <{}>",
        user["full_name"].as_str().unwrap_or("?"),
        user["email"].as_str().unwrap_or("?")
    ))
}

/// Ask the app at `addr` for `/me`, as a browser would.
async fn ask(addr: SocketAddr) -> Result<String, Box<dyn Error>> {
    let browser = HttpClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let response = browser.get(format!("http://{addr}/me").parse()?).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok(format!("{status} {}", String::from_utf8_lossy(&body)))
}

/// Run the whole example against `emu`; a one-paragraph summary of what happened.
pub async fn run_on(emu: &Emulator) -> Result<String, Box<dyn Error>> {
    // The async client: the same builder as the blocking one, plus an async transport. With
    // real Zoho, leave out `accounts_origin` and use a persistent store.
    let builder = Client::builder(emulator::DEFAULT_CLIENT_ID, emulator::DEFAULT_CLIENT_SECRET)
        .accounts_origin(emu.base_url(emulator::DataCenter::Us))
        .store(MemoryStore::new());
    let client = Client::build(builder, ReqwestTransport::new())?;
    client
        .exchange_grant(
            USER,
            &emu.mint_self_client_code(&SelfClientCode::default())?,
        )
        .await?;
    let refresher = client.spawn_background_refresh();

    // The CRM as a tower service: a hyper client, wrapped in the layer.
    let http = HttpClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let crm: Crm = ZohoAuthLayer::new(client.clone(), USER).layer(http);
    let app = Router::new().route("/me", get(me)).with_state(crm);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let first = ask(addr).await?;
    // Zoho kills the access token before its time (evicted, revoked elsewhere): the CRM now
    // answers 401 INVALID_TOKEN, and the layer refreshes and retries.
    emu.expire_access_tokens();
    let second = ask(addr).await?;

    server.abort();
    refresher.stop().await;
    let seen = emu.counters();
    Ok(format!(
        "first: {first}; after Zoho dropped the token: {second}; CRM calls: {}, rejected: {}, refreshes: {}",
        seen.api_calls, seen.api_unauthorized, seen.refresh_token_requests
    ))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let result = match Emulator::start(emulator::Config::default()) {
        Ok(emu) => run_on(&emu).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(summary) => {
            println!("{summary}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
