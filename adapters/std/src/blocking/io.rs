//! The blocking face's effects: the store, the transport and the clock called inline.

use std::future::{ready, Future};
use std::time::Duration;

use zoho_oauth_core::TokenSet;

use crate::clock::Clock;
use crate::engine::{Io, Locked};
use crate::key::CredentialKey;
use crate::store::{LockWait, LockedCredential, StoreError, TokenStore};
use crate::transport::{HttpRequest, HttpResponse, Transport, TransportError};

/// Effects done on the calling thread; every future is ready at once.
pub(crate) struct BlockingIo<'c> {
    pub(crate) store: &'c dyn TokenStore,
    pub(crate) transport: &'c dyn Transport,
    pub(crate) clock: &'c dyn Clock,
}

/// A held store lock, used inline.
pub(crate) struct BlockingLock<'a>(Box<dyn LockedCredential + 'a>);

impl Io for BlockingIo<'_> {
    type Lock<'a>
        = BlockingLock<'a>
    where
        Self: 'a;

    fn lock<'a>(
        &'a self,
        key: &CredentialKey,
        wait: LockWait,
    ) -> impl Future<Output = Result<BlockingLock<'a>, StoreError>> {
        ready(self.store.lock(key, wait).map(BlockingLock))
    }

    fn load(
        &self,
        key: &CredentialKey,
    ) -> impl Future<Output = Result<Option<TokenSet>, StoreError>> {
        ready(self.store.load(key))
    }

    fn list(&self) -> impl Future<Output = Result<Vec<CredentialKey>, StoreError>> {
        ready(self.store.list())
    }

    fn send(
        &self,
        request: &HttpRequest<'_>,
    ) -> impl Future<Output = Result<HttpResponse, TransportError>> {
        ready(self.transport.send(request))
    }

    fn sleep(&self, d: Duration) -> impl Future<Output = ()> {
        self.clock.sleep(d);
        ready(())
    }
}

impl Locked for BlockingLock<'_> {
    fn load(&mut self) -> impl Future<Output = Result<Option<TokenSet>, StoreError>> {
        ready(self.0.load())
    }

    fn check_writable(&mut self) -> impl Future<Output = Result<(), StoreError>> {
        ready(self.0.check_writable())
    }

    fn save(&mut self, token: &TokenSet) -> impl Future<Output = Result<(), StoreError>> {
        ready(self.0.save(token))
    }

    fn delete(&mut self) -> impl Future<Output = Result<bool, StoreError>> {
        ready(self.0.delete())
    }

    fn release(self) -> impl Future<Output = Result<(), StoreError>> {
        ready(self.0.release())
    }
}
