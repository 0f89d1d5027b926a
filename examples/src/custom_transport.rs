//! The `custom_transport` example: bring your own HTTP client as a closure implementing
//! `Transport` — here ureq, logging each request's method and URL (never headers or bodies).

use std::time::Duration;

use zoho_oauth::{HttpRequest, HttpResponse, Method, TransportError};

use crate::{Backend, Outcome};

/// Runs the example against [`Backend::from_env`].
pub fn run() -> Outcome {
    run_on(&Backend::from_env()?)
}

/// Runs the example against `backend`.
pub fn run_on(backend: &Backend) -> Outcome {
    let client = backend.builder(logging_http()).build()?;
    let user = backend.user();
    backend.sign_in(&client, &user)?;
    let response = client.request(&user, Method::Get, "/crm/v8/users?type=CurrentUser", None)?;
    Ok(format!(
        "the CRM answered {}; every request went through the closure",
        response.status
    ))
}

/// A transport: any `Fn(&HttpRequest) -> Result<HttpResponse, TransportError> + Send + Sync`.
/// It must not follow redirects, must return error statuses as responses (Zoho puts its errors
/// in bodies), and must never log headers or bodies: they carry the client secret and tokens.
fn logging_http() -> impl Fn(&HttpRequest<'_>) -> Result<HttpResponse, TransportError> + Send + Sync
{
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    move |req| {
        println!("→ {} {}", req.method.as_str(), req.url);

        let mut builder = ureq::http::Request::builder()
            .method(req.method.as_str())
            .uri(req.url);
        for (name, value) in req.headers {
            builder = builder.header(*name, *value);
        }
        let request = builder
            .body(req.body.to_vec())
            .map_err(|e| TransportError::Refused(e.to_string()))?;
        let mut response = agent.run(request).map_err(|e| match e {
            ureq::Error::Timeout(_) => TransportError::Timeout(Duration::from_secs(30)),
            ureq::Error::Io(e) => TransportError::Io(e.to_string()),
            other => TransportError::Connect(other.to_string()),
        })?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let body = response
            .body_mut()
            .read_to_vec()
            .map_err(|e| TransportError::Io(e.to_string()))?;
        println!("← {status}");
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}
