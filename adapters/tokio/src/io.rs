//! The async face's effects for the engine: blocking stores on tokio's blocking pool (a held lock
//! on a thread of its own, see [`held_lock`](crate::held_lock)), requests through the async
//! [`Transport`], and sleeps that do not hold a runtime thread.
//!
//! Every future returned here owns what it uses (no borrow of the `Io`, the key or the request
//! lives in it): the compiler can then see that the engine's futures built on them are `Send`
//! for any lifetime of their arguments, which it cannot yet prove through borrowed effect futures
//! (rust-lang/rust#110338).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;
use zoho_oauth::core::{Method, TokenSet};
use zoho_oauth::engine::{Engine, Io, Locked};
use zoho_oauth::{
    CredentialKey, HttpRequest, HttpResponse, LockWait, StoreError, TokenStore, TransportError,
};

use crate::held_lock::HeldLock;
use crate::transport::Transport;

/// Effects on the tokio runtime; built once per client and shared by its clones.
pub(crate) struct TokioIo {
    pub(crate) engine: Arc<Engine>,
    pub(crate) transport: Arc<dyn Transport>,
}

impl TokioIo {
    fn store(&self) -> Arc<dyn TokenStore> {
        Arc::clone(self.engine.store())
    }
}

/// Run a blocking store call on the blocking pool.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(call).await.unwrap_or_else(|_| {
        Err(StoreError::Other(
            "the token store panicked; nothing was changed: report the store's panic".to_owned(),
        ))
    })
}

/// A request copied out of the engine's buffers, so that sending it borrows nothing of the
/// caller's. Wiped when dropped: bodies carry the client secret, headers a token.
struct OwnedRequest {
    method: Method,
    url: String,
    headers: Vec<(String, Zeroizing<String>)>,
    body: Zeroizing<Vec<u8>>,
    timeout: Option<Duration>,
}

impl OwnedRequest {
    fn copy(request: &HttpRequest<'_>) -> Self {
        Self {
            method: request.method,
            url: request.url.to_owned(),
            headers: request
                .headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), Zeroizing::new((*value).to_owned())))
                .collect(),
            body: Zeroizing::new(request.body.to_vec()),
            timeout: request.timeout,
        }
    }

    async fn send(self, transport: Arc<dyn Transport>) -> Result<HttpResponse, TransportError> {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let request = HttpRequest {
            method: self.method,
            url: &self.url,
            headers: &headers,
            body: &self.body,
            timeout: self.timeout,
        };
        transport.send(&request).await
    }
}

impl Io for TokioIo {
    type Lock<'a> = HeldLock;

    fn lock(
        &self,
        key: &CredentialKey,
        wait: LockWait,
    ) -> impl Future<Output = Result<HeldLock, StoreError>> {
        HeldLock::take(self.store(), key.clone(), wait)
    }

    fn load(
        &self,
        key: &CredentialKey,
    ) -> impl Future<Output = Result<Option<TokenSet>, StoreError>> {
        let (store, key) = (self.store(), key.clone());
        blocking(move || store.load(&key))
    }

    fn list(&self) -> impl Future<Output = Result<Vec<CredentialKey>, StoreError>> {
        let store = self.store();
        blocking(move || store.list())
    }

    fn send(
        &self,
        request: &HttpRequest<'_>,
    ) -> impl Future<Output = Result<HttpResponse, TransportError>> {
        OwnedRequest::copy(request).send(Arc::clone(&self.transport))
    }

    fn sleep(&self, d: Duration) -> impl Future<Output = ()> {
        // A test clock moves instead of waiting: call it inline. A real clock waits on the
        // runtime's timer, holding no thread (and a cancelled wait ends at once).
        let engine = Arc::clone(&self.engine);
        async move {
            if engine.clock().sleep_is_virtual() {
                engine.clock().sleep(d);
            } else {
                tokio::time::sleep(d).await;
            }
        }
    }
}

impl Locked for HeldLock {
    fn load(&mut self) -> impl Future<Output = Result<Option<TokenSet>, StoreError>> {
        self.asker().load()
    }

    fn check_writable(&mut self) -> impl Future<Output = Result<(), StoreError>> {
        self.asker().check_writable()
    }

    fn save(&mut self, token: &TokenSet) -> impl Future<Output = Result<(), StoreError>> {
        self.asker().save(Box::new(token.clone()))
    }

    fn delete(&mut self) -> impl Future<Output = Result<bool, StoreError>> {
        self.asker().delete()
    }

    fn release(self) -> impl Future<Output = Result<(), StoreError>> {
        self.asker().release()
    }
}
