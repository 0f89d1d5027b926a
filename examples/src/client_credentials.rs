//! The `client_credentials` example: a back-end job that acts as the organisation, with no
//! person and no refresh token. Each access token is asked for with the client's own id and
//! secret.

use std::time::Duration;

use zoho_oauth::core::response::Verdict;
use zoho_oauth::{Client, Clock, Error, ManualClock, Method, SystemClock};
use zoho_oauth_ureq::UreqTransport;

use crate::{Backend, Outcome};

/// The name the job's credential is stored under (any name: no person owns it).
pub const JOB: &str = "nightly-export";

/// What the job may do (comma-separated, as Zoho takes it).
pub const SCOPE: &str = "ZohoCRM.org.READ";

/// Runs the example against [`Backend::from_env`], for the organisation [`Backend::soid`] names.
pub fn run() -> Outcome {
    run_on(&Backend::from_env()?)
}

/// Runs the example against `backend`, for the organisation [`Backend::soid`] names.
pub fn run_on(backend: &Backend) -> Outcome {
    run_with(backend, backend.soid().as_deref())
}

/// Runs the example against `backend` for the organisation `soid` (`ZohoCRM.<org id>`); `None`
/// when the client reaches a single organisation, else Zoho answers `missing_org_info`, which
/// is returned as the typed [`Error::Zoho`]`(`[`Verdict::MissingOrgInfo`]`)`.
pub fn run_with(backend: &Backend, soid: Option<&str>) -> Outcome {
    // A clock we can move, so that "an hour later" does not take an hour. Applications keep the
    // default system clock.
    let clock = ManualClock::new(SystemClock.now());
    let client = backend
        .builder(UreqTransport::new())
        .clock(clock.clone())
        .build()?;

    // Stored under the job's name; nothing is asked of Zoho yet.
    client.add_client_credentials(JOB, SCOPE, soid)?;
    // The first access token is asked for now: `grant_type=client_credentials` with the client id
    // and secret, the scope and the soid. The answer has no refresh token: there is none to keep.
    let first = match client.access_token(JOB) {
        Err(e @ Error::Zoho(Verdict::MissingOrgInfo)) => {
            eprintln!("this client reaches several organisations: set ZOHO_SOID to the one the job is for");
            return Err(e.into());
        }
        other => other?,
    };
    let company = company_name(&client)?;
    println!("{JOB} acts as {company}: {first}"); // redacted

    // An hour later the token has expired. The next call asks Zoho again, with the same client
    // credentials. It is not a refresh: no refresh token exists.
    clock.advance(Duration::from_secs(3600));
    let second = client.access_token(JOB)?;
    company_name(&client)?;

    let grant = crate::grant_of(&client, JOB)?;
    Ok(format!(
        "{JOB} acts as the organisation {company} (grant {grant}); at expiry a new token was \
         asked for with the client's credentials: {}",
        second != first
    ))
}

/// The organisation's name, from `GET /crm/v8/org` as the job.
fn company_name(client: &Client) -> Result<String, Box<dyn std::error::Error>> {
    let response = client.request(JOB, Method::Get, "/crm/v8/org", None)?;
    let body: serde_json::Value = serde_json::from_slice(&response.body)?;
    if response.status != 200 {
        return Err(format!("the CRM answered {}: {body}", response.status).into());
    }
    Ok(body["org"][0]["company_name"]
        .as_str()
        .unwrap_or("?")
        .to_owned())
}
