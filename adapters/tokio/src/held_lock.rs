//! A credential's store lock held on a blocking thread of its own, for as long as the async side
//! keeps the handle.
//!
//! A [`TokenStore`]'s lock is a blocking object borrowed from the store (a file lock, a database
//! transaction, a connection), not `Send` and not to be used on the runtime's threads. So one
//! thread of tokio's blocking pool takes it, then serves the handle's requests (load, check,
//! save, delete, release) one at a time over a channel:
//!
//! ```text
//!  async side (HeldLock)                 blocking thread
//!  ─────────────────────                 ───────────────
//!  take(key, wait) ───────────────────▶  store.lock(key, wait)
//!           ◀──────────── locked / Busy
//!  load / save / delete ──────────────▶  locked.load() / save() / delete()
//!           ◀──────────────────── answer
//!  release ───────────────────────────▶  locked.release(); the thread is free again
//!  (or the handle is dropped) ────────▶  the channel closes: the lock is dropped, which releases
//!                                        it and rolls back what was not committed
//! ```
//!
//! So a future dropped at any await point (a `tokio::time::timeout`, an aborted task) drops the
//! handle, and the thread lets the lock go as soon as the operation it may be in finishes — never
//! a credential locked forever, and never one written half-way.

use std::sync::mpsc;
use std::sync::Arc;

use tokio::sync::oneshot;
use zoho_oauth::core::TokenSet;
use zoho_oauth::{CredentialKey, LockWait, LockedCredential, StoreError, TokenStore};

/// One request to the thread holding the lock, with where to send its answer.
enum Ask {
    Load(oneshot::Sender<Result<Option<TokenSet>, StoreError>>),
    CheckWritable(oneshot::Sender<Result<(), StoreError>>),
    Save(Box<TokenSet>, oneshot::Sender<Result<(), StoreError>>),
    Delete(oneshot::Sender<Result<bool, StoreError>>),
    Release(oneshot::Sender<Result<(), StoreError>>),
}

/// The async side of a held store lock. Dropping it releases the lock (rolling back what was
/// not committed).
pub(crate) struct HeldLock {
    asks: mpsc::Sender<Ask>,
}

impl HeldLock {
    /// Take `key`'s lock in `store` on a blocking thread, waiting at most as `wait` says.
    pub(crate) async fn take(
        store: Arc<dyn TokenStore>,
        key: CredentialKey,
        wait: LockWait,
    ) -> Result<Self, StoreError> {
        let (asks, inbox) = mpsc::channel();
        let (locked_tx, locked_rx) = oneshot::channel();
        // Not awaited: the thread lives as long as the lock is held, and ends by itself.
        drop(tokio::task::spawn_blocking(move || {
            hold(&*store, &key, wait, locked_tx, &inbox);
        }));
        match locked_rx.await {
            Ok(Ok(())) => Ok(Self { asks }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(thread_gone()),
        }
    }

    /// A handle for one ask: owns its end of the channel, so that the ask's future borrows
    /// nothing (see [`io`](crate::io) for why that matters).
    pub(crate) fn asker(&self) -> Asker {
        Asker(self.asks.clone())
    }
}

/// One ask to the thread holding the lock. Dropping it (a cancelled call) drops its end of the
/// channel; the lock goes once the handle's end is gone too.
pub(crate) struct Asker(mpsc::Sender<Ask>);

impl Asker {
    async fn ask<T>(
        self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Ask,
    ) -> Result<T, StoreError> {
        let (answer, answered) = oneshot::channel();
        self.0.send(make(answer)).map_err(|_| thread_gone())?;
        answered.await.unwrap_or_else(|_| Err(thread_gone()))
    }

    pub(crate) async fn load(self) -> Result<Option<TokenSet>, StoreError> {
        self.ask(Ask::Load).await
    }

    pub(crate) async fn check_writable(self) -> Result<(), StoreError> {
        self.ask(Ask::CheckWritable).await
    }

    pub(crate) async fn save(self, token: Box<TokenSet>) -> Result<(), StoreError> {
        self.ask(|answer| Ask::Save(token, answer)).await
    }

    pub(crate) async fn delete(self) -> Result<bool, StoreError> {
        self.ask(Ask::Delete).await
    }

    pub(crate) async fn release(self) -> Result<(), StoreError> {
        self.ask(Ask::Release).await
    }
}

/// The blocking thread: take the lock, say so, serve asks until released or abandoned.
fn hold(
    store: &dyn TokenStore,
    key: &CredentialKey,
    wait: LockWait,
    locked: oneshot::Sender<Result<(), StoreError>>,
    inbox: &mpsc::Receiver<Ask>,
) {
    let mut held = match store.lock(key, wait) {
        Ok(held) => held,
        Err(e) => {
            let _ = locked.send(Err(e));
            return;
        }
    };
    if locked.send(Ok(())).is_err() {
        // The caller gave up while this thread waited for the lock: let it go at once.
        tracing::debug!(
            user = key.user.as_str(),
            "lock taken after its caller left; released"
        );
        return;
    }
    // Answers to a caller that left are dropped: the work is done either way, and the next ask
    // (or the closed channel) decides what happens to the lock.
    while let Ok(ask) = inbox.recv() {
        match ask {
            Ask::Load(answer) => drop(answer.send(held.load())),
            Ask::CheckWritable(answer) => drop(answer.send(held.check_writable())),
            Ask::Save(token, answer) => drop(answer.send(held.save(&token))),
            Ask::Delete(answer) => drop(answer.send(held.delete())),
            Ask::Release(answer) => {
                drop(answer.send(held.release()));
                return;
            }
        }
    }
    tracing::debug!(
        user = key.user.as_str(),
        "the holder of a credential's lock was dropped; releasing it without committing"
    );
    drop::<Box<dyn LockedCredential + '_>>(held);
}

fn thread_gone() -> StoreError {
    StoreError::Other(
        "the thread holding the credential's lock stopped (the store panicked); nothing more was \
         saved: retry, and report the store's panic"
            .to_owned(),
    )
}
