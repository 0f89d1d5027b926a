//! `BackgroundRefresher`: a thread that refreshes every stored credential before it expires, so
//! that callers never wait for a refresh.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant as Monotonic};

use super::{block_on, Client};
use crate::engine::{Engine, Wake};

/// The longest the thread sleeps without looking: credentials stored by other processes are
/// picked up, and a wall clock that jumped (suspend, NTP) is noticed, within this time.
const MAX_IDLE: Duration = Duration::from_secs(60);

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
struct Shared {
    state: Mutex<Flags>,
    changed: Condvar,
}

#[derive(Default)]
struct Flags {
    stop: bool,
    woken: bool,
}

impl Wake for Shared {
    /// Look at the schedule again now.
    fn wake(&self) {
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
        let weak: std::sync::Weak<dyn Wake> = Arc::downgrade(&shared) as _;
        self.engine().add_waker(weak);
        let client = self.clone();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("zoho-oauth-refresh".into())
            .spawn(move || run(&client, &thread_shared))
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
fn run(client: &Client, shared: &Shared) {
    tracing::debug!("background refresher started");
    let mut last_scan: Option<Monotonic> = None;
    loop {
        if last_scan.is_none_or(|t| t.elapsed() >= MAX_IDLE) {
            scan_store(client);
            last_scan = Some(Monotonic::now());
        }
        let wait = refresh_due(client);
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
fn scan_store(client: &Client) {
    block_on(client.engine().load_all(&client.io()));
}

/// Refresh every due credential, up to the configured number side by side (scoped threads that
/// take the next due credential until none is left); how long until the next one is due.
fn refresh_due(client: &Client) -> Duration {
    let engine: &Engine = client.engine();
    let (due, _) = engine.due_now();
    if !due.is_empty() {
        tracing::debug!(due = due.len(), "background refresh due");
        let next = AtomicUsize::new(0);
        let workers = engine.background_parallelism().min(due.len());
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    let io = client.io();
                    while let Some(d) = due.get(next.fetch_add(1, Ordering::Relaxed)) {
                        block_on(engine.refresh_due(&io, d));
                    }
                });
            }
        });
    }
    engine.next_look(MAX_IDLE)
}
