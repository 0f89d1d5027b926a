//! Background refresh as a task: refreshes every stored credential before it expires, so that
//! callers never wait for a refresh; stops when the client is dropped.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};
use zoho_oauth::engine::Wake;

use crate::client::Client;
use crate::io::TokioIo;

/// The longest the task sleeps without looking: credentials stored by other processes are
/// picked up, and a wall clock that jumped is noticed, within this time.
const MAX_IDLE: Duration = Duration::from_secs(60);

/// A running background refresh task, from [`Client::spawn_background_refresh`].
///
/// It stops by itself when the last clone of its client is dropped; [`stop`](Self::stop) stops
/// it and waits for it, and dropping the handle asks it to stop after its current refresh. A
/// refresh it is in the middle of is cancellation-safe like any other call.
#[must_use = "dropping the handle stops the background refresh"]
pub struct BackgroundRefresh {
    signal: Arc<Signal>,
    task: Option<JoinHandle<()>>,
}

/// What the task and its handle share; the engine holds it weakly to wake the task when the
/// schedule changes (a new credential, a new token).
#[derive(Default)]
struct Signal {
    changed: Notify,
    stop: AtomicBool,
}

impl Wake for Signal {
    fn wake(&self) {
        self.changed.notify_one();
    }
}

impl Client {
    /// Spawn a task on the current tokio runtime that keeps every stored credential of this
    /// client fresh (including those stored by other processes sharing the store), refreshing
    /// each before it expires — up to the builder's `background_parallelism` side by side, on
    /// the engine's schedule (`Engine::due_now` / `Engine::refresh_due`, the blocking
    /// refresher's too). Failures are logged and retried after the core's backoff.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn spawn_background_refresh(&self) -> BackgroundRefresh {
        let signal = Arc::new(Signal::default());
        let weak: Weak<dyn Wake> = Arc::downgrade(&signal) as _;
        self.engine().add_waker(weak);
        let io = Arc::new(TokioIo {
            engine: Arc::clone(self.engine()),
            transport: Arc::clone(self.transport()),
        });
        let task = tokio::spawn(run(io, self.watch_alive(), Arc::clone(&signal)));
        BackgroundRefresh {
            signal,
            task: Some(task),
        }
    }
}

impl BackgroundRefresh {
    /// Look at the schedule now instead of at the next planned wake-up (e.g. after moving a
    /// [`ManualClock`](zoho_oauth::ManualClock) in a test).
    pub fn wake(&self) {
        self.signal.wake();
    }

    /// Whether the task is still running.
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stop the task and wait for it to finish its current refresh, if any.
    pub async fn stop(mut self) {
        self.signal.stop.store(true, Ordering::Release);
        self.signal.wake();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Wait until the task ends by itself: when the last clone of its client is dropped.
    pub async fn finished(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for BackgroundRefresh {
    fn drop(&mut self) {
        if self.task.is_some() {
            self.signal.stop.store(true, Ordering::Release);
            self.signal.wake();
        }
    }
}

impl fmt::Debug for BackgroundRefresh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackgroundRefresh")
            .field("running", &self.is_running())
            .finish()
    }
}

/// The task: load what the store holds (now and then), refresh what is due, sleep until the
/// next due time, a wake-up, a stop, or the end of the client.
async fn run(io: Arc<TokioIo>, mut alive: watch::Receiver<()>, signal: Arc<Signal>) {
    tracing::debug!("background refresh task started");
    let mut scanned: Option<Instant> = None;
    while !signal.stop.load(Ordering::Acquire) {
        if scanned.is_none_or(|at| at.elapsed() >= MAX_IDLE) {
            io.engine.load_all(&*io).await;
            scanned = Some(Instant::now());
        }
        refresh_due(&io).await;
        tokio::select! {
            () = tokio::time::sleep(io.engine.next_look(MAX_IDLE)) => {}
            () = signal.changed.notified() => {}
            // Only ever `Err`: nothing is sent, and the sender goes with the last client.
            _ = alive.changed() => break,
        }
    }
    tracing::debug!("background refresh task stopped");
}

/// Refresh the credentials due now, up to the engine's background parallelism side by side:
/// each worker task takes the next due credential until none is left.
async fn refresh_due(io: &Arc<TokioIo>) {
    let (due, _) = io.engine.due_now();
    if due.is_empty() {
        return;
    }
    tracing::debug!(due = due.len(), "background refresh due");
    let workers = io.engine.background_parallelism().min(due.len());
    let (due, taken) = (Arc::new(due), Arc::new(AtomicUsize::new(0)));
    let mut running = JoinSet::new();
    for _ in 0..workers {
        let (io, due, taken) = (Arc::clone(io), Arc::clone(&due), Arc::clone(&taken));
        running.spawn(async move {
            while let Some(one) = due.get(taken.fetch_add(1, Ordering::Relaxed)) {
                io.engine.refresh_due(&*io, one).await;
            }
        });
    }
    while running.join_next().await.is_some() {}
}
