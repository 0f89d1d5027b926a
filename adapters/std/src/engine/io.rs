//! `Io`: the effects a face (blocking or async) performs for the [`Engine`](super::Engine) — take
//! a credential's store lock, send an HTTP request, sleep — so that the orchestration above them
//! is written once.
//!
//! The blocking [`Client`](crate::Client) implements these with futures that are ready at once
//! (the work is done inline on the calling thread) and drives the engine with a tiny executor;
//! `zoho-oauth-tokio` implements them on the tokio runtime (blocking stores on a thread of their
//! own, an async HTTP client). Either way the engine's decisions, its locked cycle and its
//! retries are the same code.

use std::future::Future;
use std::time::Duration;

use zoho_oauth_core::TokenSet;

use crate::key::CredentialKey;
use crate::store::{LockWait, StoreError};
use crate::transport::{HttpRequest, HttpResponse, TransportError};

/// The effects of one face. Implement it to drive the [`Engine`](super::Engine) from another
/// runtime.
pub trait Io {
    /// A held lock of one credential (see [`Locked`]).
    type Lock<'a>: Locked
    where
        Self: 'a;

    /// Take the store lock of `key`, waiting at most as `wait` says
    /// ([`StoreError::Busy`] after that). Dropping the returned lock releases it (rolling back
    /// unsaved work), also when the future holding it is dropped half-way.
    fn lock<'a>(
        &'a self,
        key: &CredentialKey,
        wait: LockWait,
    ) -> impl Future<Output = Result<Self::Lock<'a>, StoreError>>;

    /// Read `key` without its lock.
    fn load(
        &self,
        key: &CredentialKey,
    ) -> impl Future<Output = Result<Option<TokenSet>, StoreError>>;

    /// Every stored key.
    fn list(&self) -> impl Future<Output = Result<Vec<CredentialKey>, StoreError>>;

    /// Send one request (without following redirects) and return the whole answer, whatever its
    /// status; within `request.timeout` when it is set.
    fn send(
        &self,
        request: &HttpRequest<'_>,
    ) -> impl Future<Output = Result<HttpResponse, TransportError>>;

    /// Wait `d` of the client's clock (between retries).
    fn sleep(&self, d: Duration) -> impl Future<Output = ()>;
}

/// The held lock of one credential: the only way to change it.
pub trait Locked {
    /// Read under the lock.
    fn load(&mut self) -> impl Future<Output = Result<Option<TokenSet>, StoreError>>;
    /// Whether a save can succeed (checked before anything is asked of Zoho).
    fn check_writable(&mut self) -> impl Future<Output = Result<(), StoreError>>;
    /// Save under the lock.
    fn save(&mut self, token: &TokenSet) -> impl Future<Output = Result<(), StoreError>>;
    /// Delete under the lock.
    fn delete(&mut self) -> impl Future<Output = Result<bool, StoreError>>;
    /// Commit and release.
    fn release(self) -> impl Future<Output = Result<(), StoreError>>;
}
