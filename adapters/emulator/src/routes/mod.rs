//! Zoho's HTTP surface on one data centre's port: accounts endpoints, resource APIs, and the control API.

pub(crate) mod api;
pub(crate) mod authorize;
pub(crate) mod device;
pub(crate) mod gate;
pub(crate) mod html;
pub(crate) mod params;
pub(crate) mod revoke;
pub(crate) mod token;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::region::{DataCenter, Environment};
use crate::state::Model;

/// Where each emulated data centre listens; fixed once the ports are bound.
#[derive(Debug)]
pub(crate) struct Topology {
    base_urls: BTreeMap<DataCenter, String>,
}

impl Topology {
    /// The topology of bound data centres, each with its `http://127.0.0.1:PORT` origin.
    pub(crate) fn new(base_urls: BTreeMap<DataCenter, String>) -> Self {
        Topology { base_urls }
    }

    /// A data centre's accounts origin, `http://127.0.0.1:PORT`.
    pub(crate) fn base_url(&self, data_center: DataCenter) -> Option<&str> {
        self.base_urls.get(&data_center).map(String::as_str)
    }

    /// The API domain of an environment of a data centre (its origin plus the environment's prefix).
    pub(crate) fn api_domain(
        &self,
        data_center: DataCenter,
        environment: Environment,
    ) -> Option<String> {
        self.base_url(data_center)
            .map(|base| format!("{base}{}", environment.path_prefix()))
    }

    /// Every data centre with its origin.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (DataCenter, &str)> {
        self.base_urls.iter().map(|(dc, url)| (*dc, url.as_str()))
    }
}

/// What every handler of one port shares.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) model: Arc<Mutex<Model>>,
    pub(crate) topology: Arc<Topology>,
    /// The data centre this port emulates.
    pub(crate) data_center: DataCenter,
}

impl AppState {
    /// The model, locked. A panic while holding it cannot leave it half-updated in a way worth
    /// refusing service for, so poisoning is ignored.
    pub(crate) fn model(&self) -> MutexGuard<'_, Model> {
        self.model.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The router of one data centre's port.
pub(crate) fn router(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/oauth/v2/token", post(token::handle))
        .route("/oauth/v2/token/revoke", post(revoke::handle))
        .route("/oauth/v2/auth", get(authorize::handle))
        .route(authorize::CONSENT_PATH, post(authorize::decide))
        .route("/oauth/v3/device/code", post(device::code))
        .route("/oauth/v3/device/token", post(device::token))
        .route(
            device::VERIFICATION_PATH,
            get(device::verification_page).post(device::verification_submit),
        )
        .route("/oauth/user/info", get(api::user_info));
    for environment in Environment::ALL {
        let prefix = environment.path_prefix();
        router = router
            .route(
                &format!("{prefix}/crm/v8/users"),
                get(
                    move |state: State<AppState>, headers: HeaderMap, query: RawQuery| {
                        api::crm_users(state, environment, headers, query)
                    },
                ),
            )
            .route(
                &format!("{prefix}/crm/v8/org"),
                get(move |state: State<AppState>, headers: HeaderMap| {
                    api::crm_org(state, environment, headers)
                }),
            );
    }
    router
        .nest("/_emulator", crate::control::routes())
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        serde_json::json!({"status": "failure", "error": "not_found", "message": "the emulator has no such endpoint"}),
    )
}

/// A JSON response with Zoho's content type.
pub(crate) fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    json_text(status, body.to_string())
}

/// An already serialized JSON response with Zoho's content type.
pub(crate) fn json_text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body,
    )
        .into_response()
}
