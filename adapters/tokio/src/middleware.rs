//! `ZohoAuthMiddleware`: the tower layer's behaviour for `reqwest_middleware` users.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::Extensions;
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};
use zoho_oauth::AccessToken;

use crate::authorize::{
    check_origin, put_token, read_bounded, send_authorized, AuthorizeError, Exchange,
};
use crate::client::Client;

/// A [`reqwest_middleware::Middleware`] that sends every request with `user`'s access token
/// (`Authorization: Zoho-oauthtoken …`, marked sensitive) and, when the API rejects the token
/// (401 `INVALID_TOKEN` / `INVALID_OAUTHTOKEN`), replaces it once and sends the request once more
/// — when its body can be replayed (not a stream). Requests to any origin other than the
/// token's `api_domain` are refused before the token leaves.
///
/// ```
/// use zoho_oauth_tokio::{Client, ZohoAuthMiddleware};
///
/// # fn demo(client: Client) {
/// let crm = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(ZohoAuthMiddleware::new(client, "alice@example.com"))
///     .build();
/// # let _ = crm;
/// # }
/// ```
#[derive(Clone)]
pub struct ZohoAuthMiddleware {
    client: Client,
    user: Arc<str>,
}

impl ZohoAuthMiddleware {
    /// Authorize requests as `user` with `client`'s credential.
    pub fn new(client: Client, user: &str) -> Self {
        Self {
            client,
            user: Arc::from(user),
        }
    }
}

impl fmt::Debug for ZohoAuthMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZohoAuthMiddleware")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Middleware for ZohoAuthMiddleware {
    fn handle<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        req: Request,
        extensions: &'life1 mut Extensions,
        next: Next<'life2>,
    ) -> Pin<Box<dyn Future<Output = reqwest_middleware::Result<Response>> + Send + 'async_trait>>
    where
        Self: 'async_trait,
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
    {
        Box::pin(async move {
            let mut chain = Chain { next, extensions };
            send_authorized(&self.client, &self.user, &mut chain, req)
                .await
                .map_err(|e| match e {
                    AuthorizeError::Send(e) => e,
                    other => reqwest_middleware::Error::middleware(Refused(other)),
                })
        })
    }
}

/// Why the middleware sent nothing (no token, or a foreign origin), as a middleware error.
#[derive(Debug)]
struct Refused(AuthorizeError<reqwest_middleware::Error>);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Refused {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0)
    }
}

/// The body of a 401 could not be read (the connection broke, or it was absurdly large).
#[derive(Debug)]
struct Unreadable(crate::authorize::BoxError);

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the body of a 401 answer could not be read ({}); retry the request",
            self.0
        )
    }
}

impl std::error::Error for Unreadable {}

/// The rest of the middleware chain as the shared retry logic drives it.
struct Chain<'a> {
    next: Next<'a>,
    extensions: &'a mut Extensions,
}

impl Exchange for Chain<'_> {
    type Request = Request;
    type Response = Response;
    type Error = reqwest_middleware::Error;

    fn authorize(
        request: &mut Request,
        token: &AccessToken,
    ) -> Result<(), AuthorizeError<Self::Error>> {
        check_origin(request.url().as_str(), token.api_domain())?;
        put_token(request.headers_mut(), token);
        Ok(())
    }

    fn replay(request: &Request) -> Option<Request> {
        request.try_clone()
    }

    fn send(
        &mut self,
        request: Request,
    ) -> impl Future<Output = Result<Response, Self::Error>> + Send {
        self.next.clone().run(request, self.extensions)
    }

    fn status(response: &Response) -> u16 {
        response.status().as_u16()
    }

    async fn read(response: Response) -> Result<(Bytes, Response), Self::Error> {
        // Through `http::Response`, which keeps the response's URL for the rebuilt one.
        let (parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
        let bytes = read_bounded(body)
            .await
            .map_err(|e| reqwest_middleware::Error::middleware(Unreadable(e)))?;
        let again = Response::from(http::Response::from_parts(parts, bytes.clone()));
        Ok((bytes, again))
    }
}
