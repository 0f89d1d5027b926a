//! What the tower layer and the reqwest middleware share: put one user's token on a request, and
//! when the API refuses it — 401 `INVALID_TOKEN` / `INVALID_OAUTHTOKEN`, as the core classifies
//! ([`classify_api`]) — replace the token once and send the request once more, if it can be
//! replayed. Tokens only ever go to the user's `api_domain`.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;

use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION};
use http::HeaderMap;
use http_body_util::{BodyExt, Limited};
use zoho_oauth::core::response::{classify_api, ApiVerdict};
use zoho_oauth::core::url;
use zoho_oauth::AccessToken;

use crate::client::Client;

/// A boxed error, as tower services and bodies report them.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

/// The most of a 401 body read to classify it; a larger one is not an API's answer.
const MAX_401_BODY: usize = 1024 * 1024;

/// Why an authorized request failed. `E` is the error of what sends it (the inner service, the
/// rest of the middleware chain).
#[derive(Debug)]
#[non_exhaustive]
pub enum AuthorizeError<E> {
    /// No access token could be had for the user; the error says why and what to do.
    Token(zoho_oauth::Error),
    /// The request goes somewhere else than the user's API domain: the token was not sent.
    Origin {
        /// Where the request went (scheme, host and port only).
        target: String,
        /// The only origin the user's token may go to.
        api_domain: String,
    },
    /// Sending the request (or reading the body of its 401) failed.
    Send(E),
}

impl<E: fmt::Display> fmt::Display for AuthorizeError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(e) => write!(f, "no access token for the request: {e}"),
            Self::Origin { target, api_domain } => write!(
                f,
                "refused to send a Zoho token to {target}: the user's token belongs to \
                 {api_domain}; send the request there (or give only its path)"
            ),
            Self::Send(e) => write!(f, "the authorized request failed: {e}"),
        }
    }
}

impl<E: StdError + 'static> StdError for AuthorizeError<E> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Token(e) => Some(e),
            Self::Origin { .. } => None,
            Self::Send(e) => Some(e),
        }
    }
}

/// Refuse `target` unless it is the origin of `api_domain` (same scheme, host and port, as the
/// core's URL parser reads them).
pub(crate) fn check_origin<E>(target: &str, api_domain: &str) -> Result<(), AuthorizeError<E>> {
    let same = match (url::parse(target), url::parse(api_domain)) {
        (Ok(t), Ok(a)) => {
            let host = |u: &url::Url<'_>| u.host.to_string().to_ascii_lowercase();
            t.scheme == a.scheme
                && host(&t) == host(&a)
                && t.port_or_default() == a.port_or_default()
        }
        _ => false,
    };
    if same {
        return Ok(());
    }
    Err(AuthorizeError::Origin {
        target: url::parse(target).map_or_else(
            |_| "an unparsable URL".to_owned(),
            |u| u.origin().to_owned(),
        ),
        api_domain: api_domain.to_owned(),
    })
}

/// Put `token` in `headers` as `Authorization: Zoho-oauthtoken …`, marked sensitive (never
/// logged, never HPACK-indexed).
pub(crate) fn put_token(headers: &mut HeaderMap, token: &AccessToken) {
    // An `AccessToken` only ever holds visible ASCII (the cache refuses anything else).
    if let Ok(mut value) = HeaderValue::from_str(&token.header_value()) {
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
}

/// Read `body` whole, up to [`MAX_401_BODY`] bytes.
pub(crate) async fn read_bounded<B>(body: B) -> Result<Bytes, BoxError>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    Ok(Limited::new(body, MAX_401_BODY).collect().await?.to_bytes())
}

/// How one kind of request is authorized, sent, and its 401 read.
pub(crate) trait Exchange {
    type Request: Send;
    type Response: Send;
    type Error: Send;

    /// Aim `request` at `token`'s API domain (or refuse), then put the token on it.
    fn authorize(
        request: &mut Self::Request,
        token: &AccessToken,
    ) -> Result<(), AuthorizeError<Self::Error>>;

    /// A copy to send again, if the body can be read twice.
    fn replay(request: &Self::Request) -> Option<Self::Request>;

    /// Send `request` on.
    fn send(
        &mut self,
        request: Self::Request,
    ) -> impl Future<Output = Result<Self::Response, Self::Error>> + Send;

    /// The HTTP status.
    fn status(response: &Self::Response) -> u16;

    /// The body of a 401, and the response with that body in place.
    fn read(
        response: Self::Response,
    ) -> impl Future<Output = Result<(Bytes, Self::Response), Self::Error>> + Send;
}

/// Send `request` with `user`'s token. On a rejected token, replace it (once for every request
/// rejected with the same token) and send a replay of the request once; a request whose body
/// cannot be replayed gets its 401 back, and the next request the new token. Any other answer,
/// and the retry's answer whatever it is, is returned as it came.
pub(crate) async fn send_authorized<X: Exchange + Send>(
    client: &Client,
    user: &str,
    exchange: &mut X,
    mut request: X::Request,
) -> Result<X::Response, AuthorizeError<X::Error>> {
    let token = client
        .access_token(user)
        .await
        .map_err(AuthorizeError::Token)?;
    let replay = X::replay(&request);
    X::authorize(&mut request, &token)?;
    let response = exchange.send(request).await.map_err(AuthorizeError::Send)?;
    if X::status(&response) != 401 {
        return Ok(response);
    }
    let (body, response) = X::read(response).await.map_err(AuthorizeError::Send)?;
    if classify_api(401, &body) != ApiVerdict::InvalidToken {
        return Ok(response);
    }
    let fresh = client
        .replace_rejected(user, token)
        .await
        .map_err(AuthorizeError::Token)?;
    let Some(mut again) = replay else {
        tracing::info!(user, "the API rejected the access token; replaced it for the next request (this one's body cannot be sent again)");
        return Ok(response);
    };
    tracing::info!(
        user,
        "the API rejected the access token; replaced it, sending once more"
    );
    X::authorize(&mut again, &fresh)?;
    exchange.send(again).await.map_err(AuthorizeError::Send)
}
