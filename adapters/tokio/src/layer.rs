//! `ZohoAuthLayer`: a tower layer that authorizes `http::Request`s as one user — the token's
//! `Authorization` header, and one refresh-and-retry when the API rejects it.

use std::fmt;
use std::future::poll_fn;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, Uri};
use http_body_util::{Either, Empty, Full};
use tower_layer::Layer;
use tower_service::Service;
use zoho_oauth::AccessToken;

use crate::authorize::{
    check_origin, put_token, read_bounded, send_authorized, AuthorizeError, BoxError, Exchange,
};
use crate::client::Client;
use crate::transport::BoxFuture;

/// Wraps a service that sends `http::Request`s to Zoho's APIs (an HTTP client as a tower
/// service) so that every request carries `user`'s access token, and a request the API refuses
/// with 401 `INVALID_TOKEN` / `INVALID_OAUTHTOKEN` is sent once more with a new token — when its
/// body can be replayed ([`ReplayBody`]).
///
/// A request's URI is either a path (`/crm/v8/org`), sent to the token's `api_domain`, or an
/// absolute URL on that same origin; anything else is refused before the token leaves
/// ([`AuthorizeError::Origin`]).
///
/// ```
/// use tower_layer::Layer;
/// use zoho_oauth_tokio::{Client, ZohoAuthLayer};
///
/// # fn demo<S>(client: Client, http_client: S) {
/// let crm = ZohoAuthLayer::new(client, "alice@example.com").layer(http_client);
/// # let _ = crm;
/// # }
/// ```
#[derive(Clone)]
pub struct ZohoAuthLayer {
    client: Client,
    user: Arc<str>,
}

impl ZohoAuthLayer {
    /// Authorize requests as `user` with `client`'s credential.
    pub fn new(client: Client, user: &str) -> Self {
        Self {
            client,
            user: Arc::from(user),
        }
    }
}

impl<S> Layer<S> for ZohoAuthLayer {
    type Service = ZohoAuth<S>;

    fn layer(&self, inner: S) -> ZohoAuth<S> {
        ZohoAuth {
            inner,
            client: self.client.clone(),
            user: Arc::clone(&self.user),
        }
    }
}

impl fmt::Debug for ZohoAuthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZohoAuthLayer")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// The service [`ZohoAuthLayer`] makes.
#[derive(Clone)]
pub struct ZohoAuth<S> {
    inner: S,
    client: Client,
    user: Arc<str>,
}

impl<S> fmt::Debug for ZohoAuth<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZohoAuth")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// The body of a response through [`ZohoAuth`]: the inner service's, or — for a 401 that was
/// read to see whether the token was rejected — those bytes.
pub type ResponseBody<B> = Either<B, Full<Bytes>>;

/// A request body that can be sent again: what the layer needs to retry a request after
/// replacing a rejected token. A body that can be read once only (a stream) answers `None`,
/// and its request is not retried.
pub trait ReplayBody: Sized {
    /// A copy of this body to send again, or `None`.
    fn try_replay(&self) -> Option<Self>;
}

impl<D: Clone> ReplayBody for Full<D> {
    fn try_replay(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl<D> ReplayBody for Empty<D> {
    fn try_replay(&self) -> Option<Self> {
        Some(*self)
    }
}

impl ReplayBody for String {
    fn try_replay(&self) -> Option<Self> {
        Some(self.clone())
    }
}

#[cfg(feature = "reqwest")]
impl ReplayBody for reqwest::Body {
    /// A body held in memory is replayed; a stream is not.
    fn try_replay(&self) -> Option<Self> {
        self.as_bytes()
            .map(|b| reqwest::Body::from(Bytes::copy_from_slice(b)))
    }
}

impl<L: ReplayBody, R: ReplayBody> ReplayBody for Either<L, R> {
    fn try_replay(&self) -> Option<Self> {
        match self {
            Either::Left(l) => l.try_replay().map(Either::Left),
            Either::Right(r) => r.try_replay().map(Either::Right),
        }
    }
}

impl<S, B, RB> Service<Request<B>> for ZohoAuth<S>
where
    S: Service<Request<B>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: ReplayBody + Send + 'static,
    RB: http_body::Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<RB>>;
    type Error = AuthorizeError<BoxError>;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner
            .poll_ready(cx)
            .map_err(|e| AuthorizeError::Send(e.into()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The ready service goes into the future; this one keeps a fresh clone (tower's rule).
        let clone = self.inner.clone();
        let mut inner = Inner(std::mem::replace(&mut self.inner, clone), PhantomData);
        let (client, user) = (self.client.clone(), Arc::clone(&self.user));
        Box::pin(async move { send_authorized(&client, &user, &mut inner, request).await })
    }
}

/// The inner service as the shared retry logic drives it (for requests with bodies `B`,
/// responses with bodies `RB`).
struct Inner<S, B, RB>(S, PhantomData<fn(B) -> RB>);

impl<S, B, RB> Exchange for Inner<S, B, RB>
where
    S: Service<Request<B>, Response = Response<RB>> + Send,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: ReplayBody + Send,
    RB: http_body::Body<Data = Bytes> + Send,
    RB::Error: Into<BoxError>,
{
    type Request = Request<B>;
    type Response = Response<ResponseBody<RB>>;
    type Error = BoxError;

    fn authorize(
        request: &mut Request<B>,
        token: &AccessToken,
    ) -> Result<(), AuthorizeError<BoxError>> {
        let uri = request.uri();
        if uri.scheme().is_none() && uri.authority().is_none() {
            // A path alone: the user's API domain.
            let path = uri.path_and_query().map_or("/", |p| p.as_str());
            let full = format!("{}{path}", token.api_domain());
            *request.uri_mut() = full.parse::<Uri>().map_err(|_| AuthorizeError::Origin {
                target: "a path that does not form a URL".to_owned(),
                api_domain: token.api_domain().to_owned(),
            })?;
        } else {
            check_origin(&uri.to_string(), token.api_domain())?;
        }
        put_token(request.headers_mut(), token);
        Ok(())
    }

    fn replay(request: &Request<B>) -> Option<Request<B>> {
        let mut copy = Request::new(request.body().try_replay()?);
        *copy.method_mut() = request.method().clone();
        *copy.uri_mut() = request.uri().clone();
        *copy.version_mut() = request.version();
        *copy.headers_mut() = request.headers().clone();
        *copy.extensions_mut() = request.extensions().clone();
        Some(copy)
    }

    async fn send(&mut self, request: Request<B>) -> Result<Self::Response, BoxError> {
        poll_fn(|cx| self.0.poll_ready(cx))
            .await
            .map_err(Into::into)?;
        let response = self.0.call(request).await.map_err(Into::into)?;
        Ok(response.map(Either::Left))
    }

    fn status(response: &Self::Response) -> u16 {
        response.status().as_u16()
    }

    async fn read(response: Self::Response) -> Result<(Bytes, Self::Response), BoxError> {
        let (parts, body) = response.into_parts();
        let bytes = read_bounded(body).await?;
        let again = Response::from_parts(parts, Either::Right(Full::new(bytes.clone())));
        Ok((bytes, again))
    }
}
