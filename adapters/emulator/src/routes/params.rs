//! Request parameters from the query string and an urlencoded or multipart body, as Zoho accepts them.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Every `name=value` pair of a request: body first, then query string.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// The first value of `name`, body before query.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The pairs of a query string (malformed ones are ignored, as a lenient server does).
    pub(crate) fn from_query(query: Option<&str>) -> Self {
        Params(
            query
                .and_then(|q| serde_urlencoded::from_str(q).ok())
                .unwrap_or_default(),
        )
    }
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let query = Params::from_query(request.uri().query());
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut pairs = Vec::new();
        if content_type.starts_with("multipart/form-data") {
            let mut multipart = Multipart::from_request(request, state)
                .await
                .map_err(IntoResponse::into_response)?;
            while let Some(field) = multipart
                .next_field()
                .await
                .map_err(IntoResponse::into_response)?
            {
                let name = field.name().unwrap_or_default().to_owned();
                let value = field.text().await.map_err(IntoResponse::into_response)?;
                pairs.push((name, value));
            }
        } else if !content_type.starts_with("application/json") {
            // Urlencoded, or no content type at all: SDKs differ, Zoho reads the form either way.
            let body = Bytes::from_request(request, state)
                .await
                .map_err(IntoResponse::into_response)?;
            if let Ok(form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) {
                pairs = form;
            }
        }
        pairs.extend(query.0);
        Ok(Params(pairs))
    }
}
