//! Asking the emulator directly, not through the library under test: is this refresh token one
//! it issued for this user and still honours, is this access token alive and whose.
//!
//! The requests are written here by hand (a form body, a header) and sent with the default
//! transport, so a verdict about what a store holds never depends on the client code that filled
//! it (only the core's percent-encoding is shared).

use zoho_oauth::core::form;
use zoho_oauth::{HttpRequest, Method, Transport};
use zoho_oauth_ureq::UreqTransport;

/// A client of the emulator's accounts server and user-info endpoint.
pub struct Probe {
    transport: UreqTransport,
    accounts: String,
    client_id: String,
    client_secret: String,
}

impl Probe {
    /// Probes the accounts server at `accounts` as the client `client_id`.
    pub fn new(accounts: &str, client_id: &str, client_secret: &str) -> Self {
        Self {
            transport: UreqTransport::new(),
            accounts: accounts.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
        }
    }

    /// Refreshes with `refresh_token`: `Ok(Some(access token))` when the emulator honours it,
    /// `Ok(None)` when it refuses it (`invalid_code`: revoked, evicted or never issued).
    ///
    /// # Errors
    ///
    /// Any other answer, described.
    pub fn refresh(&self, refresh_token: &str) -> Result<Option<String>, String> {
        let body = form(&[
            ("grant_type", "refresh_token"),
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
            ("refresh_token", refresh_token),
        ]);
        let url = format!("{}/oauth/v2/token", self.accounts);
        let headers = [("Content-Type", "application/x-www-form-urlencoded")];
        let response = self
            .transport
            .send(&HttpRequest {
                method: Method::Post,
                url: &url,
                headers: &headers,
                body: body.as_bytes(),
                timeout: None,
            })
            .map_err(|e| format!("probe refresh: {e}"))?;
        let json: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|e| format!("probe refresh: not JSON ({e})"))?;
        if let Some(access) = json.get("access_token").and_then(|v| v.as_str()) {
            return Ok(Some(access.to_owned()));
        }
        match json.get("error").and_then(|v| v.as_str()) {
            Some("invalid_code") => Ok(None),
            _ => Err(format!(
                "probe refresh: unexpected answer {} {json}",
                response.status
            )),
        }
    }

    /// The e-mail of the user `access_token` acts for (`GET /oauth/user/info`), `None` when the
    /// emulator refuses it (expired, revoked, evicted or never minted).
    ///
    /// # Errors
    ///
    /// Any other answer, described.
    pub fn owner(&self, access_token: &str) -> Result<Option<String>, String> {
        let url = format!("{}/oauth/user/info", self.accounts);
        let auth = format!("Zoho-oauthtoken {access_token}");
        let headers = [("Authorization", auth.as_str())];
        let response = self
            .transport
            .send(&HttpRequest {
                method: Method::Get,
                url: &url,
                headers: &headers,
                body: b"",
                timeout: None,
            })
            .map_err(|e| format!("probe user info: {e}"))?;
        if response.status == 401 {
            return Ok(None);
        }
        let json: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|e| format!("probe user info: not JSON ({e})"))?;
        json.get("Email")
            .and_then(|v| v.as_str())
            .map(|e| Some(e.to_owned()))
            .ok_or_else(|| {
                format!(
                    "probe user info: unexpected answer {} {json}",
                    response.status
                )
            })
    }
}

/// An `application/x-www-form-urlencoded` body, encoded by the core's form encoding.
fn form(pairs: &[(&str, &str)]) -> String {
    let escape = |text: &str| {
        let mut buf = vec![0; form::encoded_len(text)];
        let n = form::encode_into(text, &mut buf).unwrap_or_default();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_escape_everything_but_unreserved_bytes() {
        assert_eq!(
            form(&[("a", "1000.x-y"), ("b c", "d&e=f")]),
            "a=1000.x-y&b%20c=d%26e%3Df"
        );
    }
}
