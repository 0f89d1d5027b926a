//! `BackgroundRefresher`: a thread that refreshes every stored credential before it expires, so
//! that callers never wait for a refresh.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant as Monotonic};

use zoho_oauth_core::Instant;

use crate::client::{Client, Inner};

/// The longest the thread sleeps without looking: credentials stored by other processes are
/// picked up, and a wall clock that jumped (suspend, NTP) is noticed, within this time.
const MAX_IDLE: Duration = Duration::from_secs(60);
/// When a credential stays due after its turn (another thread holds its refresh), look again after this.
const BUSY_RETRY: Duration = Duration::from_secs(1);

/// A running background refresher, from [`Client::start_background_refresh`]. It sleeps until
/// the earliest refresh time of the client's credentials (refresh margin before expiry, or the
/// end of a backoff), refreshes what is due, and sleeps again — no polling loop.
///
/// [`stop`](Self::stop) it, or drop it: either stops the thread and waits for it.
pub struct BackgroundRefresher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// What the refresher thread and its handle share.
pub(crate) struct Shared {
    state: Mutex<Flags>,
    changed: Condvar,
}

#[derive(Default)]
struct Flags {
    stop: bool,
    woken: bool,
}

impl Shared {
    /// Look at the schedule again now.
    pub(crate) fn wake(&self) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .woken = true;
        self.changed.notify_all();
    }
}

impl Client {
    /// Start a thread that keeps every stored credential of this client fresh (including those
    /// stored by other processes sharing the store), refreshing each `refresh_margin` before
    /// expiry. Failures are logged and retried after the core's backoff.
    pub fn start_background_refresh(&self) -> BackgroundRefresher {
        let shared = Arc::new(Shared {
            state: Mutex::new(Flags::default()),
            changed: Condvar::new(),
        });
        self.inner
            .wakers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::downgrade(&shared));
        let inner = Arc::clone(&self.inner);
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("zoho-oauth-refresh".into())
            .spawn(move || run(&inner, &thread_shared))
            .ok();
        if thread.is_none() {
            tracing::error!("could not start the background refresh thread");
        }
        BackgroundRefresher { shared, thread }
    }
}

impl BackgroundRefresher {
    /// Look at the schedule now instead of at the next planned wake-up (e.g. after moving a
    /// [`ManualClock`](crate::ManualClock) in a test).
    pub fn wake(&self) {
        self.shared.wake();
    }

    /// Stop the thread and wait for it to finish its current refresh, if any.
    pub fn stop(mut self) {
        self.stop_and_join();
    }

    /// Whether the thread is running.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    fn stop_and_join(&mut self) {
        {
            let mut flags = self
                .shared
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            flags.stop = true;
        }
        self.shared.changed.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for BackgroundRefresher {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

impl fmt::Debug for BackgroundRefresher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackgroundRefresher")
            .field("running", &self.is_running())
            .finish()
    }
}

/// The thread: refresh what is due, sleep until the next due time or a wake-up, until stopped.
fn run(inner: &Inner, shared: &Shared) {
    tracing::debug!("background refresher started");
    let mut last_scan: Option<Monotonic> = None;
    loop {
        if last_scan.is_none_or(|t| t.elapsed() >= MAX_IDLE) {
            scan_store(inner);
            last_scan = Some(Monotonic::now());
        }
        let wait = refresh_due(inner);
        let mut flags = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        if !flags.stop && !flags.woken {
            flags = shared
                .changed
                .wait_timeout(flags, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        flags.woken = false;
        if flags.stop {
            break;
        }
    }
    tracing::debug!("background refresher stopped");
}

/// Load every stored credential of this client into the cache, so it gets refreshed too.
fn scan_store(inner: &Inner) {
    match inner.own_keys() {
        Ok(keys) => {
            for key in keys {
                if let Err(e) = inner.entry(&key.user) {
                    tracing::warn!(
                        user = key.user.as_str(),
                        error = e.label(),
                        "could not load credential"
                    );
                }
            }
        }
        Err(e) => tracing::warn!(error = e.label(), "could not list the store"),
    }
}

/// Refresh every due credential; how long until the next one is due.
fn refresh_due(inner: &Inner) -> Duration {
    let now = inner.s.clock.now();
    let entries = inner.entries.load_full();
    let mut next: Option<Instant> = None;
    for entry in entries.values() {
        let Some(mut at) = entry.next_wake() else {
            continue;
        };
        if at <= now {
            tracing::debug!(user = entry.key.user.as_str(), "background refresh due");
            entry.refresh_in_background(inner);
            at = match entry.next_wake() {
                Some(after) if after > now => after,
                Some(_) => now.saturating_add(BUSY_RETRY),
                None => continue,
            };
        }
        next = Some(next.map_or(at, |n| n.min(at)));
    }
    next.map_or(MAX_IDLE, |at| {
        at.saturating_duration_since(now).min(MAX_IDLE)
    })
}
