//! The `self_client` example: exchange a Self Client grant token, keep the tokens in SQLite,
//! call the CRM.

use zoho_oauth::Method;
use zoho_oauth_sqlite::SqliteStore;
use zoho_oauth_ureq::UreqTransport;

use crate::{Backend, Outcome};

/// Runs the example against [`Backend::from_env`].
pub fn run() -> Outcome {
    run_on(&Backend::from_env()?)
}

/// Runs the example against `backend`.
pub fn run_on(backend: &Backend) -> Outcome {
    // In an application this is a fixed path, e.g. under the data directory.
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(dir.path().join("zoho-tokens.sqlite3"))?;
    let client = backend.builder(UreqTransport::new()).store(store).build()?;

    // The grant token is single use: the refresh token it yields is stored for good.
    let user = backend.user();
    let token = client.exchange_grant(&user, &backend.grant_token()?)?;
    println!("{user}: {token}"); // redacted: only the last four characters show

    // Authorization header, api_domain, and one refresh-and-retry on INVALID_TOKEN: all done.
    let response = client.request(&user, Method::Get, "/crm/v8/users?type=CurrentUser", None)?;
    let body: serde_json::Value = serde_json::from_slice(&response.body)?;
    if response.status != 200 {
        return Err(format!("the CRM answered {}: {body}", response.status).into());
    }
    let me = &body["users"][0];
    Ok(format!(
        "stored {:?} in SQLite; the CRM's current user is {} <{}>",
        client.users()?,
        me["full_name"].as_str().unwrap_or("?"),
        me["email"].as_str().unwrap_or("?"),
    ))
}
