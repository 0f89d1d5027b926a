//! The authenticated request helper: `Authorization: Zoho-oauthtoken …` to the token's
//! `api_domain`, refreshing and retrying once when the API rejects the token.

use zoho_oauth_core::response::{self, ApiVerdict};
use zoho_oauth_core::Method;

use crate::engine::cycle::Deadline;
use crate::engine::outbound;
use crate::engine::{AccessToken, Engine, Io};
use crate::error::{Error, InputError};
use crate::transport::{HttpRequest, HttpResponse};

impl Engine {
    /// Call a Zoho API as `user`: `path_or_url` is a path (`/crm/v8/users?type=CurrentUser`) on
    /// the token's `api_domain`, or an absolute URL on that same origin (tokens are never sent
    /// elsewhere). A body is sent as `application/json`. On 401 `INVALID_TOKEN` /
    /// `INVALID_OAUTHTOKEN` the token is refreshed once and the request retried once; any other
    /// answer is returned as it is, whatever its status.
    pub async fn request<I: Io>(
        &self,
        io: &I,
        user: &str,
        method: Method,
        path_or_url: &str,
        body: Option<&[u8]>,
    ) -> Result<HttpResponse, Error> {
        let deadline = Deadline::after(self.s.call_timeout);
        let token = self.access_token(io, user).await?;
        let resp = send_api(io, &token, user, method, path_or_url, body, deadline).await?;
        if response::classify_api(resp.status, &resp.body) != ApiVerdict::InvalidToken {
            return Ok(resp);
        }
        tracing::info!(
            user,
            status = resp.status,
            "API rejected the access token; refreshing once and retrying"
        );
        let fresh = self.replace_rejected(io, user, token).await?;
        send_api(io, &fresh, user, method, path_or_url, body, deadline).await
    }
}

async fn send_api<I: Io>(
    io: &I,
    token: &AccessToken,
    user: &str,
    method: Method,
    path_or_url: &str,
    body: Option<&[u8]>,
    deadline: Deadline,
) -> Result<HttpResponse, Error> {
    let url = api_url(token.api_domain(), path_or_url)?;
    let authorization = token.header_value();
    let mut headers: Vec<(&str, &str)> = vec![("Authorization", authorization.as_str())];
    if body.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    let http = HttpRequest {
        method,
        url: &url,
        headers: &headers,
        body: body.unwrap_or_default(),
        timeout: Some(deadline.remaining()),
    };
    Ok(outbound::send_http(io, &http, "api", user).await?)
}

/// The absolute URL for `path_or_url` on `api_domain`, refusing any other origin and any line
/// break (it would split the request line).
pub(crate) fn api_url(api_domain: &str, path_or_url: &str) -> Result<String, Error> {
    let refuse = || {
        Error::Input(InputError::ApiPath {
            given: path_or_url.escape_debug().to_string(),
            api_domain: api_domain.to_owned(),
        })
    };
    if path_or_url
        .bytes()
        .any(|b| b.is_ascii_control() || b == b' ')
    {
        return Err(refuse());
    }
    if path_or_url.starts_with('/') && !path_or_url.starts_with("//") {
        return Ok(format!("{api_domain}{path_or_url}"));
    }
    let same_origin = path_or_url
        .get(..api_domain.len())
        .is_some_and(|origin| origin.eq_ignore_ascii_case(api_domain))
        && matches!(
            path_or_url.as_bytes().get(api_domain.len()),
            None | Some(b'/' | b'?')
        );
    if same_origin {
        Ok(path_or_url.to_owned())
    } else {
        Err(refuse())
    }
}

#[cfg(test)]
mod tests {
    use super::api_url;

    #[test]
    fn paths_go_to_the_api_domain_and_other_origins_are_refused() {
        let d = "https://www.zohoapis.com";
        assert_eq!(
            api_url(d, "/crm/v8/users").unwrap(),
            "https://www.zohoapis.com/crm/v8/users"
        );
        assert_eq!(
            api_url(d, "https://WWW.zohoapis.com/crm?x=1").unwrap(),
            "https://WWW.zohoapis.com/crm?x=1"
        );
        assert_eq!(
            api_url(d, "https://www.zohoapis.com").unwrap(),
            "https://www.zohoapis.com"
        );
        for bad in [
            "https://www.zohoapis.com.evil.example/crm",
            "https://www.zohoapis.com@evil.example/",
            "https://evil.example/crm",
            "//evil.example/crm",
            "crm/v8/users",
            "http://www.zohoapis.com/crm",
            "/crm/v8/users\r\nX-Injected: 1",
            "/crm/v8/users HTTP/1.1",
        ] {
            assert!(api_url(d, bad).is_err(), "{bad:?}");
        }
    }
}
